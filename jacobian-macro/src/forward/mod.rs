//! Owns forward mode: a primal IR function becomes one that computes the primal and its
//! Jacobian. Every primal instruction is kept (its values keep their ids); after each,
//! the tangents of its results are written with the rules table (`rules`) and the
//! compile-time sparse algebra of `tangent`. Control flow stays as it is: a branch yields,
//! and a loop carries, the run-time rows of each active value it changes, over exactly the
//! parameter blocks activity says it depends on.

pub mod tangent;

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use quote::quote;

use crate::analysis::activity::Activity;
use crate::analysis::band::{Bands, Index};
use crate::front::Unsupported;
use crate::ir::build::Builder;
use crate::ir::{self, Function, Inst, Op, Path, Position, Type, Value};
use crate::shape::Dim;
use crate::signature::Signature;
use tangent::{Basis, Block, Lin, Tangent};

type Result<T> = std::result::Result<T, Unsupported>;

/// Why a loop is written again with dense blocks (see `Forward::for_loop`).
const BANDED: &str = "a loop whose body does not keep a banded derivative banded";

fn unsupported<T>(what: &str) -> Result<T> {
    Err(Unsupported::here(what.into()))
}

/// What the transformed function returns.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Returns {
    Jacobian,
    ValueAndJacobian,
    /// The value and one Jacobian block per parameter (`NotDifferentiated` for the others),
    /// for callers that chain through this function (`__{name}_jacobian_parts`).
    Parts,
    /// For a gradient function (`reverse::Returns::Gradient`, which yields the gradient
    /// `[T; N]` and then the value): `(value, gradient as Matrix<1, N>, Hessian)`.
    ValueGradientHessian,
}

/// How the transformation seeds and shapes what it computes, beyond the plain Jacobian.
#[derive(Default)]
pub struct Seeding {
    /// The sibling's parameter `v: Vector<N, T>`: every input is seeded with its part of
    /// `v`, and the result's one column is J·v (`jvp`, `hvp`).
    pub direction: Option<syn::Ident>,
    /// The number of outputs, when `primal` is not the user's function (a gradient, whose
    /// Jacobian is a Hessian).
    pub rows: Option<Dim>,
}

/// Forward mode over the whole body: the derivative code written, the result's tangent
/// known, nothing returned yet.
fn run<'a>(
    primal: &Function,
    signature: &'a Signature,
    krate: &TokenStream,
    seeding: &Seeding,
    sparse: bool,
) -> Result<Forward<'a>> {
    let mut inputs = Vec::new();
    for input in &signature.inputs {
        match primal.params.iter().find(|p| p.ident == input.ident) {
            Some(param) => inputs.push(param.value),
            None => return unsupported("a differentiated parameter the IR does not have"),
        }
    }
    let direction = seeding.direction.is_some();
    let activity = if direction {
        Activity::analyse_blocks(primal, &inputs.iter().map(|i| (*i, 0)).collect::<Vec<_>>())
    } else {
        Activity::analyse(primal, &inputs)
    };
    let out = Function::like(primal);
    let mut forward = Forward {
        signature,
        rows: seeding.rows.clone().unwrap_or_else(|| signature.rows.clone()),
        has_loops: has_loops(&primal.body),
        columns: if direction { Dim::Lit(1) } else { signature.columns.clone() },
        krate: krate.clone(),
        activity,
        b: Builder::new(out),
        tangents: BTreeMap::new(),
        lens: if direction {
            vec![Dim::Lit(1)]
        } else {
            signature.inputs.iter().map(|i| i.shape.len()).collect()
        },
        origins: BTreeMap::new(),
        eager: std::collections::BTreeSet::new(),
        fresh_rows: std::collections::BTreeSet::new(),
        // (A direction's blocks are one column wide: nothing to gain from bands. Nor for a
        // dense Jacobian whose banded arrays nothing reads: their rows are written into the
        // result as they are computed, where diagonals would be stored and then copied.)
        bands: Bands::analyse(
            primal,
            if direction || !(sparse || reads_a_computed_array(primal, &primal.body)) {
                &[]
            } else {
                &inputs
            },
        ),
        band: Vec::new(),
        reads: BTreeMap::new(),
    };
    if let Some(v) = &seeding.direction {
        forward.seed_direction(v, &inputs, signature)?;
    }
    for (block, input) in inputs.iter().enumerate().filter(|_| !direction) {
        let tangent = match primal.ty(*input) {
            Type::Scalar => Tangent::Scalar(Lin::of(Basis::Unit { block, at: 0, index: None })),
            // (Vectors and matrices only where the front end flattened them: their
            // components are read through a conversion to a flat array.)
            Type::Vector(_) | Type::Matrix(..) | Type::Array(..) if primal.flattened => {
                let mut blocks = vec![None; inputs.len()];
                blocks[block] = Some(Block::Identity);
                Tangent::Blocks(blocks)
            }
            Type::Array(elem, _) if **elem == Type::Scalar => {
                let mut blocks = vec![None; inputs.len()];
                blocks[block] = Some(Block::Identity);
                Tangent::Blocks(blocks)
            }
            _ => return unsupported("a differentiated parameter of this type"),
        };
        forward.tangents.insert(*input, tangent);
    }
    forward.block(&primal.body)?;
    Ok(forward)
}

/// Whether `block` reads an element of an array it computes (not of a parameter): where
/// a banded array is read, its diagonals save derivative work.
fn reads_a_computed_array(primal: &Function, block: &ir::Block) -> bool {
    block.insts.iter().any(|inst| {
        let computed = |v: &Value| {
            matches!(primal.ty(*v), Type::Array(..)) && !primal.params.iter().any(|p| p.value == *v)
        };
        (matches!(inst.op, Op::Get(_)) && inst.args.first().is_some_and(computed))
            || inst.blocks().into_iter().any(|b| reads_a_computed_array(primal, b))
    })
}

/// The function computing the Jacobian of `primal` (and its value, if asked), seeded and
/// shaped as `seeding` says.
pub fn with(
    primal: &Function,
    signature: &Signature,
    krate: &TokenStream,
    returns: Returns,
    seeding: &Seeding,
) -> Result<Function> {
    let mut forward = run(primal, signature, krate, seeding, false)?;
    let result = primal.body.yields[0];
    let yielded = match returns {
        Returns::Jacobian => forward.assemble(result, primal.ty(result), None)?,
        Returns::ValueAndJacobian => {
            let jacobian = forward.assemble(result, primal.ty(result), None)?;
            let ty = Type::Tuple(vec![primal.ty(result).clone(), forward.b.f.ty(jacobian).clone()]);
            forward.b.push1(Op::Tuple, vec![result, jacobian], ty)
        }
        Returns::ValueGradientHessian => {
            let Some(value) = primal.body.yields.get(1).copied() else {
                return unsupported("a Hessian of something that is not a gradient");
            };
            let hessian = forward.assemble(result, primal.ty(result), None)?;
            let n = primal.ty(result).components().unwrap_or(Dim::Lit(0));
            let gradient = forward.b.push1(Op::Convert, vec![result], Type::Matrix(Dim::Lit(1), n));
            let ty = Type::Tuple(vec![
                primal.ty(value).clone(),
                forward.b.f.ty(gradient).clone(),
                forward.b.f.ty(hessian).clone(),
            ]);
            forward.b.push1(Op::Tuple, vec![value, gradient, hessian], ty)
        }
        // The value, then for each parameter its block of the Jacobian, or a marker.
        Returns::Parts => {
            let mut parts = vec![result];
            for position in &signature.positions {
                parts.push(match position {
                    Some(block) => forward.assemble(result, primal.ty(result), Some(*block))?,
                    None => forward.b.code(quote!(#krate::__private::NotDifferentiated), Vec::new()),
                });
            }
            let ty = Type::Tuple(parts.iter().map(|p| forward.b.f.ty(*p).clone()).collect());
            forward.b.push1(Op::Tuple, parts, ty)
        }
    };
    let body = forward.b.close(Vec::new(), vec![yielded]);
    let mut function = forward.b.f;
    function.body = body;
    Ok(function)
}

/// One run of a sparse Jacobian's values as forward mode holds it, for `crate::sparse`:
/// its place in the Jacobian and the value that holds it. Rows are output components,
/// columns start at a parameter block's offset.
#[derive(Clone, Debug)]
pub enum Piece {
    /// Entry `(row, col)`: a scalar.
    Entry { row: usize, col: Dim, value: Value },
    /// Columns `col..col + len` of row `row`: a run-time row `[T; len]`.
    Row { row: usize, col: Dim, len: Dim, value: Value },
    /// Every row, columns `col..col + cols`: a held block `[[T; cols]; rows]`.
    Block { col: Dim, cols: Dim, value: Value },
    /// One diagonal of a banded block over every row and the columns `col..col + width`
    /// (entry `(r, col + r + shift)` where `0 ≤ r + shift < width`): its `[T; rows]`, or
    /// ones (`None`, an identity block).
    Diagonal { col: Dim, width: Dim, shift: i64, value: Option<Value> },
}

/// The sparse Jacobian of `primal`: forward mode writes the derivative code, `write`
/// turns the result's pieces (every structurally non-zero part of the Jacobian, in order,
/// none overlapping another) into the value the function returns.
/// `rows` is the number of outputs when `primal` is not the user's function (a gradient,
/// whose sparse Jacobian is a sparse Hessian).
pub fn sparse(
    primal: &Function,
    signature: &Signature,
    krate: &TokenStream,
    rows: Option<Dim>,
    write: &mut dyn FnMut(&mut Builder, &[Piece]) -> Value,
) -> Result<(Function, Vec<Piece>)> {
    let seeding = Seeding { direction: None, rows };
    let mut forward = run(primal, signature, krate, &seeding, true)?;
    let result = primal.body.yields[0];
    let pieces = forward.pieces(result, primal.ty(result))?;
    let yielded = write(&mut forward.b, &pieces);
    let body = forward.b.close(Vec::new(), vec![yielded]);
    let mut function = forward.b.f;
    function.body = body;
    Ok((function, pieces))
}

fn has_loops(block: &ir::Block) -> bool {
    block.insts.iter().any(|inst| {
        matches!(inst.op, Op::For { .. } | Op::While { .. }) || inst.blocks().into_iter().any(has_loops)
    })
}

struct Forward<'a> {
    signature: &'a Signature,
    /// The Jacobian's shape.
    rows: Dim,
    /// The primal has a loop.
    has_loops: bool,
    columns: Dim,
    krate: TokenStream,
    activity: Activity,
    b: Builder,
    tangents: BTreeMap<Value, Tangent>,
    /// Components of each parameter block.
    lens: Vec<Dim>,
    /// Rows read out of held Jacobian blocks: the block, path and indices they came from,
    /// so that `a[i] = a[i] + …` adds into the row in place instead of rebuilding it.
    origins: BTreeMap<Value, (Value, Path, Vec<Value>)>,
    /// Values whose tangent is held as run-time rows as soon as it is computed (see `hold`).
    eager: std::collections::BTreeSet<Value>,
    /// Element assignments whose row of derivatives is zero before them (see
    /// `find_fresh_rows`).
    fresh_rows: std::collections::BTreeSet<Value>,
    /// Which arrays' Jacobian blocks are banded, and the indices `Code` values stand for.
    bands: Bands,
    /// Elements read at literal positions of arrays that are not differentiated: the
    /// array and the positions (see `rows_in_place`).
    reads: BTreeMap<Value, (Value, Vec<usize>)>,
    /// The diagonals of each `Block::Band`.
    band: Vec<Band>,
}

/// A banded Jacobian block: `diagonals[k][r]` is the derivative of element `r` with respect
/// to input `r + offsets[k]` (each `[T; len]`).
#[derive(Clone, Debug)]
struct Band {
    offsets: Vec<i64>,
    diagonals: Vec<Value>,
}

/// How a loop carries (or a branch yields) one block of an active value's derivative.
#[derive(Clone, Debug, PartialEq)]
enum Layout {
    /// A run-time row (a scalar) or a dense block (an aggregate).
    Dense,
    /// The diagonals at these offsets.
    Band(Vec<i64>),
}

impl Forward<'_> {
    fn tangent(&self, value: Value) -> Tangent {
        self.tangents.get(&value).cloned().unwrap_or(Tangent::Zero)
    }

    /// Whether a `Get`, `Set` or `Accumulate` moves a whole array-valued element of an
    /// aggregate whose derivative is not zero.
    fn row_of_arrays(&self, op: &Op, args: &[Value], ans: Value) -> bool {
        let element = match op {
            Op::Get(_) => ans,
            _ => args[1],
        };
        let scalar = matches!(self.b.f.ty(element), Type::Scalar | Type::Opaque);
        !scalar
            && (!matches!(self.tangent(args[0]), Tangent::Zero)
                || !matches!(self.tangent(element), Tangent::Zero))
    }

    fn lin(&self, value: Value) -> Lin {
        self.tangent(value).lin()
    }

    fn row_type(&self, block: usize) -> Type {
        Type::array(self.lens[block].clone())
    }

    fn jac_type(&self, block: usize, len: &Dim) -> Type {
        Type::Array(Box::new(self.row_type(block)), len.clone())
    }

    fn block(&mut self, block: &ir::Block) -> Result<()> {
        for inst in &block.insts {
            self.b.span = inst.span;
            match &inst.op {
                Op::If { .. } => self.branch(inst)?,
                Op::For { .. } => self.for_loop(inst)?,
                Op::While { .. } => self.while_loop(inst)?,
                op => {
                    if let (Op::Get(path), [array], [result]) = (op, &inst.args[..], &inst.results[..]) {
                        if let Some(at) = path.constant().filter(|_| !self.activity.is_active(*array)) {
                            self.reads.insert(*result, (*array, at));
                        }
                    }
                    self.b.push_with(op.clone(), inst.args.clone(), inst.results.clone());
                    if inst.results.iter().any(|r| self.activity.is_active(*r)) {
                        self.differentiate(inst)?;
                        for result in &inst.results {
                            if self.eager.contains(result) {
                                self.hold(*result)?;
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// The tangents of a straight-line instruction's results.
    fn differentiate(&mut self, inst: &Inst) -> Result<()> {
        let args = &inst.args;
        let ans = inst.results[0];
        let tangent = match &inst.op {
            Op::Literal(_) | Op::Constant(_) | Op::Code(_) | Op::FromInt => Tangent::Zero,
            Op::Neg => Tangent::Scalar(self.lin(args[0]).neg()),
            Op::Add => Tangent::Scalar(self.lin(args[0]).add(&self.lin(args[1]), &mut self.b)),
            Op::Sub => {
                let negated = self.lin(args[1]).neg();
                Tangent::Scalar(self.lin(args[0]).add(&negated, &mut self.b))
            }
            Op::Mul => {
                let da = self.lin(args[0]).scale(args[1], &mut self.b);
                let db = self.lin(args[1]).scale(args[0], &mut self.b);
                Tangent::Scalar(da.add(&db, &mut self.b))
            }
            // d(a/b) = (da − (a/b)·db) / b.
            Op::Div => {
                let (da, db) = (self.lin(args[0]), self.lin(args[1]));
                let one = self.b.lit(1.0);
                let r = if da.is_zero() && db.is_zero() { one } else { self.b.div(one, args[1]) };
                let da = da.scale(r, &mut self.b);
                let db = if db.is_zero() {
                    db
                } else {
                    let q = self.b.mul(ans, r);
                    let nq = self.b.neg(q);
                    db.scale(nq, &mut self.b)
                };
                Tangent::Scalar(da.add(&db, &mut self.b))
            }
            // The derivative of the operand returned: when both are whole run-time rows,
            // the row of the one returned (a copy, no arithmetic).
            Op::Call("min" | "max") if self.whole_row(args[0]) && self.whole_row(args[1]) => {
                let (h0, h1) = (ir::Code::hole(0), ir::Code::hole(1));
                let first = self.b.code(quote!(#h0 == #h1), vec![ans, args[0]]);
                let (a, b) = (self.lin(args[0]), self.lin(args[1]));
                self.select(first, &a, &b)?
            }
            Op::Call(method) => {
                let partials = crate::rules::partials(method, args, ans, &mut self.b);
                let mut sum = Lin::default();
                for (arg, partial) in args.iter().zip(partials) {
                    let (Some(partial), lin) = (partial, self.lin(*arg)) else { continue };
                    if !lin.is_zero() {
                        let scaled = lin.scale(partial, &mut self.b);
                        sum = sum.add(&scaled, &mut self.b);
                    }
                }
                Tangent::Scalar(sum)
            }
            Op::SinCos => {
                let (s, c) = (inst.results[0], inst.results[1]);
                let da = self.lin(args[0]);
                let ds = da.scale(c, &mut self.b);
                let minus_s = self.b.neg(s);
                let dc = da.scale(minus_s, &mut self.b);
                self.tangents.insert(c, Tangent::Scalar(dc));
                Tangent::Scalar(ds)
            }
            Op::Select => {
                let (a, b) = (self.lin(args[1]), self.lin(args[2]));
                self.select(args[0], &a, &b)?
            }
            Op::Build => match self.b.f.ty(ans) {
                Type::Array(elem, _) if **elem == Type::Scalar => {
                    Tangent::Elems(args.iter().map(|a| self.lin(*a)).collect())
                }
                _ => return unsupported("building this aggregate"),
            },
            Op::Splat => match self.b.f.ty(ans).clone() {
                Type::Array(elem, n) if *elem == Type::Scalar => match n.lit() {
                    Some(n) => Tangent::Elems(vec![self.lin(args[0]); n]),
                    None if self.lin(args[0]).is_zero() => Tangent::Zero,
                    None => return unsupported("a differentiated splat of symbolic length"),
                },
                _ => return unsupported("splatting this aggregate"),
            },
            // The same components under another type (a flattened vector or matrix).
            Op::Convert => self.tangent(args[0]),
            // (An element that is itself an array has no scalar tangent: refused, never a
            // tangent silently dropped.)
            Op::Get(_) | Op::Set(_) | Op::Accumulate(_) if self.row_of_arrays(&inst.op, args, ans) => {
                return unsupported("a row of an array of arrays that carries derivatives");
            }
            Op::Get(path) => self.get(args[0], path, &args[1..])?,
            Op::Set(path) => {
                let lin = self.lin(args[1]);
                self.set(ans, args[0], lin, path, &args[2..])?
            }
            // `a[i] += v`: the element's tangent plus `v`'s.
            Op::Accumulate(path) => {
                let current = self.get(args[0], path, &args[2..])?.lin();
                let lin = current.add(&self.lin(args[1]), &mut self.b);
                self.set(ans, args[0], lin, path, &args[2..])?
            }
            // `acc + c · row`, elementwise (reverse mode's sum of array adjoints): element by
            // element, for arrays of literal length.
            Op::Axpy(path) if path.0.is_empty() => {
                let Some(n) = self.b.f.ty(ans).components().and_then(|n| n.lit()) else {
                    return unsupported("a sum of arrays of symbolic length in forward mode");
                };
                let (acc, c, row) = (args[0], args[1], args[2]);
                let dc = self.lin(c);
                let mut elems = Vec::with_capacity(n);
                for k in 0..n {
                    let at = Path(vec![Position::Const(k)]);
                    let da = self.get(acc, &at, &[])?.lin();
                    let drow = self.get(row, &at, &[])?.lin().scale(c, &mut self.b);
                    let mut lin = da.add(&drow, &mut self.b);
                    if !dc.is_zero() {
                        let element = self.b.get(row, at.clone(), Vec::new());
                        let term = dc.scale(element, &mut self.b);
                        lin = lin.add(&term, &mut self.b);
                    }
                    elems.push(lin);
                }
                Tangent::Elems(elems)
            }
            // A call of another `#[jacobian]` function: component `i` of its value moves
            // with component `l` of argument `k` by entry `(i, l)` of the callee's block.
            Op::Chain { blocks } => {
                let Some(m) = self.b.f.ty(ans).components().and_then(|n| n.lit()) else {
                    return unsupported("a call whose result has a symbolic size");
                };
                let mut elems = vec![Lin::default(); m];
                for (k, field) in blocks.iter().enumerate() {
                    let arg = args[1 + k];
                    let ty = self.b.f.ty(arg).clone();
                    let Some(n) = ty.components().and_then(|n| n.lit()) else {
                        return unsupported("a call with an argument of symbolic size");
                    };
                    for l in 0..n {
                        let lin = match ty {
                            Type::Scalar => self.lin(arg),
                            _ => self.get(arg, &Path(vec![Position::Const(l)]), &[])?.lin(),
                        };
                        if lin.is_zero() {
                            continue;
                        }
                        for (i, elem) in elems.iter_mut().enumerate() {
                            let coef = crate::rules::chain_partial(args[0], *field, i, l, &mut self.b);
                            let term = lin.scale(coef, &mut self.b);
                            *elem = elem.add(&term, &mut self.b);
                        }
                    }
                }
                match self.b.f.ty(ans) {
                    Type::Scalar => Tangent::Scalar(elems.pop().unwrap_or_default()),
                    _ => Tangent::Elems(elems),
                }
            }
            _ => return unsupported("this operation in forward mode"),
        };
        let tangent = match tangent {
            Tangent::Scalar(lin) => Tangent::Scalar(self.rows_in_place(lin)),
            tangent => tangent,
        };
        self.tangents.insert(ans, tangent);
        Ok(())
    }

    /// `lin` with every block it covers entirely by unit columns whose coefficients are
    /// the elements of one row of a non-differentiated array, in order (`Σₖ w[i][k] eₖ`, a
    /// row of a matrix–vector product `W x`), as that row read in place: one run-time row
    /// instead of a coefficient per column (the same numbers: exact).
    fn rows_in_place(&mut self, mut lin: Lin) -> Lin {
        for block in 0..self.lens.len() {
            let Some(n) = self.lens[block].lit().filter(|n| *n >= 2) else { continue };
            let units = lin.on(block).filter(|t| matches!(t.basis, Basis::Unit { index: None, .. })).count();
            if units != n {
                continue;
            }
            let mut source: Option<(Value, &[usize])> = None;
            let whole = lin.on(block).all(|t| {
                let (tangent::Coef::Of(v), Basis::Unit { at, index: None, .. }) = (t.coef, t.basis) else {
                    return false;
                };
                let Some((array, path)) = self.reads.get(&v) else { return false };
                let Some((last, prefix)) = path.split_last() else { return false };
                if *last != at || source.is_some_and(|(a, p)| a != *array || p != prefix) {
                    return false;
                }
                source = Some((*array, prefix));
                true
            });
            let Some((array, prefix)) = source.filter(|_| whole) else { continue };
            let path = Path(prefix.iter().map(|k| Position::Const(*k)).collect());
            if path.walk(self.b.f.ty(array)) != Some(self.row_type(block)) {
                continue;
            }
            let row = self.b.get(array, path, Vec::new());
            lin.terms.retain(|t| t.basis.block() != block);
            lin.terms.push(tangent::Term { coef: tangent::Coef::One, basis: Basis::Row { block, row } });
        }
        lin
    }

    /// Is `value`'s tangent exactly run-time rows, one per block, with coefficient one?
    fn whole_row(&self, value: Value) -> bool {
        let lin = self.lin(value);
        !lin.is_zero()
            && lin.terms.iter().all(|t| t.coef == tangent::Coef::One && matches!(t.basis, Basis::Row { .. }))
    }

    /// `select(c, a, b)` of two tangents: its rows per block.
    fn select(&mut self, condition: Value, a: &Lin, b: &Lin) -> Result<Tangent> {
        let mut sum = Lin::default();
        for block in 0..self.lens.len() {
            if a.on(block).next().is_none() && b.on(block).next().is_none() {
                continue;
            }
            let row_type = self.row_type(block);
            let (ra, rb) = (a.row(block, &row_type, &mut self.b), b.row(block, &row_type, &mut self.b));
            let h0 = ir::Code::hole(0);
            let tokens = quote!(if #h0 { __jacobian_hole_1 } else { __jacobian_hole_2 });
            let row = self.b.constant(tokens, vec![condition, ra, rb], row_type);
            sum = sum.add(&Lin::of(Basis::Row { block, row }), &mut self.b);
        }
        Ok(Tangent::Scalar(sum))
    }

    /// The tangent of `aggregate[path]`.
    fn get(&mut self, aggregate: Value, path: &Path, indices: &[Value]) -> Result<Tangent> {
        let [position] = path.0.as_slice() else { return unsupported("nested indexing") };
        let mut tangent = self.tangent(aggregate);
        if let (Tangent::Elems(elems), Position::Const(k)) = (&tangent, position) {
            return Ok(Tangent::Scalar(elems.get(*k).cloned().unwrap_or_default()));
        }
        if let Tangent::Elems(_) = tangent {
            tangent = self.held_blocks(aggregate)?;
        }
        let Tangent::Blocks(blocks) = tangent else { return Ok(Tangent::Zero) };
        let mut lin = Lin::default();
        for (block, jac) in blocks.iter().enumerate() {
            let term = match jac {
                None => continue,
                Some(Block::Identity) => {
                    let (at, index) = match position {
                        Position::Const(k) => (*k, None),
                        Position::Dynamic => (0, Some(indices[0])),
                    };
                    Basis::Unit { block, at, index }
                }
                Some(Block::Held(jac)) => {
                    let row = self.b.get(*jac, path.clone(), indices.to_vec());
                    self.origins.insert(row, (*jac, path.clone(), indices.to_vec()));
                    Basis::Row { block, row }
                }
                Some(Block::Band(id)) => {
                    let read = self.band_element(*id, block, position, indices)?;
                    lin = lin.add(&read, &mut self.b);
                    continue;
                }
            };
            lin = lin.add(&Lin::of(term), &mut self.b);
        }
        Ok(Tangent::Scalar(lin))
    }

    /// Element `position` of a banded block: `Σ_k diagonal_k[r] · e_{r + offset_k}`, each
    /// column clamped into range (where it is out of range the diagonal holds zero).
    fn band_element(
        &mut self,
        id: usize,
        block: usize,
        position: &Position,
        indices: &[Value],
    ) -> Result<Lin> {
        let band = self.band[id].clone();
        let n = self.lens[block].clone();
        let mut lin = Lin::default();
        for (offset, diagonal) in band.offsets.iter().zip(&band.diagonals) {
            let shift = *offset;
            let (at, index) = match position {
                Position::Const(r) => {
                    let column = *r as i64 + offset;
                    if column < 0 || n.lit().is_some_and(|n| column >= n as i64) {
                        continue;
                    }
                    if n.lit().is_none() && *offset > 0 {
                        // Past the end for a short symbolic length: there the diagonal
                        // holds zero, added to the last column instead.
                        let last = n.value();
                        let column = proc_macro2::Literal::i64_unsuffixed(column);
                        let index = self.b.code(quote!((#column as usize).min(#last - 1)), Vec::new());
                        (0, Some(index))
                    } else {
                        (column as usize, None)
                    }
                }
                Position::Dynamic if *offset == 0 => (0, Some(indices[0])),
                Position::Dynamic => {
                    let h0 = ir::Code::hole(0);
                    let last = n.value();
                    let offset = proc_macro2::Literal::i64_unsuffixed(*offset);
                    let column = self.b.code(
                        quote!((#h0 as isize + #offset).clamp(0, #last as isize - 1) as usize),
                        vec![indices[0]],
                    );
                    if let Some(index) = self.bands.indices.get(&indices[0]).cloned() {
                        self.bands.indices.insert(column, index.shifted(shift));
                    }
                    (0, Some(column))
                }
            };
            let coefficient = self.b.get(*diagonal, Path(vec![position.clone()]), indices.to_vec());
            let term = Lin::of(Basis::Unit { block, at, index }).scale(coefficient, &mut self.b);
            lin = lin.add(&term, &mut self.b);
        }
        Ok(lin)
    }

    /// The diagonals to hold `value`'s block as, where the band analysis finds it banded
    /// and the band is much smaller than the dense block (at most a quarter of its columns,
    /// and at least 16 rows): short arrays stay dense, whose rows cost less to carry.
    fn banded(&self, value: Value, block: usize) -> Option<Vec<i64>> {
        let offsets = self.bands.diagonals(value, block)?;
        let narrow = self.lens[block].lit().is_none_or(|n| offsets.len() * 4 <= n);
        let long = self.b.f.ty(value).components().is_some_and(|len| len.lit().is_none_or(|len| len >= 16));
        (narrow && long).then_some(offsets)
    }

    /// The index a position stands for, where the band analysis knows it.
    fn position_index(&self, position: &Position, indices: &[Value]) -> Option<Index> {
        match position {
            Position::Const(k) => Some(Index::Const(*k as i64)),
            Position::Dynamic => self.bands.indices.get(indices.first()?).cloned(),
        }
    }

    /// The diagonals of a block at `offsets`: a band's own (zeros where it has none), the
    /// identity's, or zeros; `None` for a dense block.
    fn band_diagonals(&mut self, block: Option<Block>, len: &Dim, offsets: &[i64]) -> Option<Vec<Value>> {
        let ty = Type::array(len.clone());
        match block {
            None => Some(offsets.iter().map(|_| self.b.zeros(&ty)).collect()),
            Some(Block::Identity) => Some(
                offsets
                    .iter()
                    .map(|o| {
                        if *o == 0 {
                            let one = self.b.lit(1.0);
                            self.b.push1(Op::Splat, vec![one], ty.clone())
                        } else {
                            self.b.zeros(&ty)
                        }
                    })
                    .collect(),
            ),
            Some(Block::Band(id)) => {
                let band = self.band[id].clone();
                if !band.offsets.iter().all(|o| offsets.contains(o)) {
                    return None;
                }
                Some(
                    offsets
                        .iter()
                        .map(|o| match band.offsets.iter().position(|b| b == o) {
                            Some(k) => band.diagonals[k],
                            None => self.b.zeros(&ty),
                        })
                        .collect(),
                )
            }
            Some(Block::Held(_)) => None,
        }
    }

    /// A banded block as a dense `[[T; n]; len]`: zeros, and each diagonal added in place.
    fn band_to_dense(&mut self, id: usize, block: usize, len: &Dim) -> Value {
        let band = self.band[id].clone();
        let ty = self.jac_type(block, len);
        let mut jac = self.b.zeros(&ty);
        for (shift, diagonal) in band.offsets.iter().zip(&band.diagonals) {
            let op = Op::AddBand {
                offset: Dim::Lit(0),
                width: self.lens[block].clone(),
                shift: *shift,
                transposed: false,
            };
            jac = self.b.push1(op, vec![jac, *diagonal], ty.clone());
        }
        jac
    }

    /// Element `position` of a banded block set to `lin` (every diagonal written: the
    /// element's old derivative is replaced); `None` where `lin` does not fit the band.
    #[allow(clippy::too_many_arguments)]
    fn band_set(
        &mut self,
        result: Value,
        current: Option<Block>,
        block: usize,
        lin: &Lin,
        path: &Path,
        indices: &[Value],
        len: &Dim,
    ) -> Option<Block> {
        let offsets = self.banded(result, block)?;
        let [position] = path.0.as_slice() else { return None };
        let row = self.position_index(position, indices)?;
        let mut coefficients: Vec<Lin> = vec![Lin::default(); offsets.len()];
        for term in lin.on(block) {
            let Basis::Unit { at, index, .. } = term.basis else { return None };
            let column = match index {
                None => Index::Const(at as i64),
                Some(v) => self.bands.indices.get(&v)?.clone(),
            };
            let k = offsets.iter().position(|o| Some(*o) == column.minus(&row))?;
            // (Coefficients as a sum of one-term combinations on one basis.)
            let one = Lin {
                terms: vec![tangent::Term {
                    coef: term.coef,
                    basis: Basis::Unit { block, at: 0, index: None },
                }],
            };
            coefficients[k] = coefficients[k].add(&one, &mut self.b);
        }
        let mut diagonals = self.band_diagonals(current, len, &offsets)?;
        // Nothing to clear where the element's derivative is known to be zero already.
        let fresh = current.is_none() || self.fresh_rows.contains(&result);
        for (diagonal, coefficient) in diagonals.iter_mut().zip(&coefficients) {
            let value = match coefficient.terms.first() {
                Some(term) => term.coef.value(&mut self.b),
                None if fresh => continue,
                None => self.b.lit(0.0),
            };
            *diagonal = self.b.update(Op::Set(path.clone()), *diagonal, value, indices.to_vec());
        }
        self.band.push(Band { offsets, diagonals });
        Some(Block::Band(self.band.len() - 1))
    }

    /// The tangent of `aggregate` with `value` at `path`.
    fn set(
        &mut self,
        result: Value,
        aggregate: Value,
        lin: Lin,
        path: &Path,
        indices: &[Value],
    ) -> Result<Tangent> {
        let [position] = path.0.as_slice() else { return unsupported("nested element assignment") };
        let tangent = self.tangent(aggregate);
        if let (Tangent::Elems(elems), Position::Const(k)) = (&tangent, position) {
            let mut elems = elems.clone();
            if *k >= elems.len() {
                return unsupported("an index past the end");
            }
            elems[*k] = lin;
            return Ok(Tangent::Elems(elems));
        }
        let Some(len) = self.b.f.ty(aggregate).components() else { return unsupported("this aggregate") };
        let mut blocks = match tangent {
            Tangent::Elems(_) => match self.held_blocks(aggregate)? {
                Tangent::Blocks(blocks) => blocks,
                _ => vec![None; self.lens.len()],
            },
            Tangent::Blocks(blocks) => blocks,
            _ => vec![None; self.lens.len()],
        };
        let active: Vec<usize> = self.activity.of(result).iter().copied().collect();
        for block in active {
            if let Some(band) = self.band_set(result, blocks[block], block, &lin, path, indices, &len) {
                blocks[block] = Some(band);
                continue;
            }
            let jac = match blocks[block] {
                Some(Block::Held(jac)) => jac,
                Some(Block::Identity) => self.identity(block),
                Some(Block::Band(id)) => self.band_to_dense(id, block, &len),
                None => {
                    let ty = self.jac_type(block, &len);
                    self.b.zeros(&ty)
                }
            };
            let index: Vec<Value> = indices.to_vec();
            let lone_row = match lin.on(block).collect::<Vec<_>>().as_slice() {
                [tangent::Term { coef: tangent::Coef::One, basis: Basis::Row { row, .. } }] => Some(*row),
                _ => None,
            };
            // The row's old value plus more (`a[i] += …`): add the rest in place.
            let own_row = lin.on(block).position(|t| {
                let Basis::Row { row, .. } = t.basis else { return false };
                t.coef == tangent::Coef::One
                    && self.origins.get(&row) == Some(&(jac, path.clone(), index.clone()))
            });
            let jac = match (own_row, lone_row) {
                (Some(k), _) => {
                    let mut rest = Lin { terms: lin.on(block).copied().collect() };
                    rest.terms.remove(k);
                    rest.add_into(jac, (position.clone(), index.first().copied()), block, false, &mut self.b)
                }
                (None, Some(row)) => self.b.update(Op::Set(path.clone()), jac, row, index),
                // Only unit columns: clear the row (unless it is known to be zero) and write
                // them in place.
                (None, None) if lin.on(block).all(|t| matches!(t.basis, Basis::Unit { .. })) => {
                    let cleared = if self.fresh_rows.contains(&result) {
                        jac
                    } else {
                        let row_type = self.row_type(block);
                        let zeros = self.b.zeros(&row_type);
                        self.b.update(Op::Set(path.clone()), jac, zeros, index.clone())
                    };
                    lin.add_into(
                        cleared,
                        (position.clone(), index.first().copied()),
                        block,
                        true,
                        &mut self.b,
                    )
                }
                (None, None) => {
                    let row_type = self.row_type(block);
                    let row = lin.row(block, &row_type, &mut self.b);
                    self.b.update(Op::Set(path.clone()), jac, row, index)
                }
            };
            blocks[block] = Some(Block::Held(jac));
        }
        Ok(Tangent::Blocks(blocks))
    }

    /// Seeds every input with its components of the direction `v` (one column).
    fn seed_direction(&mut self, v: &syn::Ident, inputs: &[Value], signature: &Signature) -> Result<()> {
        let columns = signature.columns.clone();
        let direction = self.b.constant(quote!(#v.as_array()), Vec::new(), Type::array(columns.clone()));
        let unit = Basis::Unit { block: 0, at: 0, index: None };
        // Arrays read in loops are read at run-time indices: their tangent is a run-time
        // column from the start, not one built inside the loop.
        let has_loops = self.has_loops;
        for (input, info) in inputs.iter().zip(&signature.inputs) {
            let Some(offset) = info.offset.lit() else {
                return unsupported("a direction at a symbolic offset");
            };
            let component = |f: &mut Self, k: usize| -> Lin {
                let c = f.b.get(direction, Path(vec![Position::Const(offset + k)]), Vec::new());
                Lin::of(unit).scale(c, &mut f.b)
            };
            let ty = match self.b.f.ty(*input).clone() {
                Type::Vector(n) if self.b.f.flattened => Type::array(n),
                Type::Matrix(r, c) if self.b.f.flattened => Type::array(r.mul(&c)),
                Type::Array(row, r) if self.b.f.flattened && matches!(&*row, Type::Array(..)) => {
                    Type::array(self.b.f.ty(*input).components().unwrap_or(r))
                }
                ty => ty,
            };
            let tangent = match ty {
                Type::Scalar => Tangent::Scalar(component(self, 0)),
                Type::Array(elem, n) if *elem == Type::Scalar => match n.lit() {
                    Some(n) if n <= 64 && !has_loops => {
                        Tangent::Elems((0..n).map(|k| component(self, k)).collect())
                    }
                    _ => {
                        let krate = &self.krate;
                        let (total, len) = (columns.type_arg(), n.type_arg());
                        let offset = crate::shape::unsuffixed(offset);
                        let ty = Type::Array(Box::new(Type::array(Dim::Lit(1))), n.clone());
                        let held = self.b.constant(
                            quote!(#krate::__private::direction_rows::<__jacobian_scalar, #total, #len>(&__jacobian_hole_0, #offset)),
                            vec![direction],
                            ty,
                        );
                        Tangent::Blocks(vec![Some(Block::Held(held))])
                    }
                },
                _ => return unsupported("a differentiated parameter of this type"),
            };
            self.tangents.insert(*input, tangent);
        }
        Ok(())
    }

    /// `I`, held: the Jacobian block of a parameter with respect to itself.
    fn identity(&mut self, block: usize) -> Value {
        let krate = &self.krate;
        let n = self.lens[block].type_arg();
        let ty = self.jac_type(block, &self.lens[block].clone());
        self.b.constant(quote!(#krate::__private::identity_rows::<__jacobian_scalar, #n>()), vec![], ty)
    }

    /// An aggregate's tangent as held blocks, one per parameter block it depends on.
    fn held_blocks(&mut self, aggregate: Value) -> Result<Tangent> {
        let tangent = self.tangent(aggregate);
        let Tangent::Elems(elems) = &tangent else { return Ok(tangent) };
        let len = Dim::Lit(elems.len());
        let mut blocks = vec![None; self.lens.len()];
        for block in self.activity.of(aggregate).clone() {
            let ty = self.jac_type(block, &len);
            let mut jac = self.b.zeros(&ty);
            for (k, lin) in elems.iter().enumerate() {
                jac = lin.add_into(jac, (Position::Const(k), None), block, true, &mut self.b);
            }
            blocks[block] = Some(Block::Held(jac));
        }
        // Kept for later reads only where every later read can see it.
        if self.b.depth() == 1 {
            self.tangents.insert(aggregate, Tangent::Blocks(blocks.clone()));
        }
        Ok(Tangent::Blocks(blocks))
    }

    /// The run-time representation of `value`'s derivative with respect to `block`: a row
    /// for a scalar, a held block for an aggregate.
    fn materialize(&mut self, value: Value, block: usize) -> Result<Value> {
        match self.b.f.ty(value).clone() {
            Type::Scalar => {
                let row_type = self.row_type(block);
                Ok(self.lin(value).row(block, &row_type, &mut self.b))
            }
            ty => {
                let Some(len) = ty.components() else { return unsupported("carrying this value") };
                match self.held_blocks(value)? {
                    Tangent::Blocks(blocks) => match blocks[block] {
                        Some(Block::Held(jac)) => Ok(jac),
                        Some(Block::Identity) => Ok(self.identity(block)),
                        Some(Block::Band(id)) => Ok(self.band_to_dense(id, block, &len)),
                        None => {
                            let ty = self.jac_type(block, &len);
                            Ok(self.b.zeros(&ty))
                        }
                    },
                    _ => {
                        let ty = self.jac_type(block, &len);
                        Ok(self.b.zeros(&ty))
                    }
                }
            }
        }
    }

    /// The type of `value`'s run-time derivative with respect to `block`.
    fn held_type(&self, value: Value, block: usize) -> Result<Type> {
        match self.b.f.ty(value) {
            Type::Scalar => Ok(self.row_type(block)),
            ty => match ty.components() {
                Some(len) => Ok(self.jac_type(block, &len)),
                None => unsupported("carrying this value"),
            },
        }
    }

    /// The tangent of a value whose derivative is held at run time in `held[k]` for the
    /// blocks `blocks[k]`.
    fn held_tangent(&mut self, value: Value, blocks: &[usize], held: &[Value]) -> Tangent {
        match self.b.f.ty(value) {
            Type::Scalar => {
                let mut lin = Lin::default();
                for (block, row) in blocks.iter().zip(held) {
                    lin = lin.add(&Lin::of(Basis::Row { block: *block, row: *row }), &mut self.b);
                }
                Tangent::Scalar(lin)
            }
            _ => {
                let mut all = vec![None; self.lens.len()];
                for (block, jac) in blocks.iter().zip(held) {
                    all[*block] = Some(Block::Held(*jac));
                }
                Tangent::Blocks(all)
            }
        }
    }

    /// `if`: each arm also yields the run-time derivatives of the active results.
    fn branch(&mut self, inst: &Inst) -> Result<()> {
        let Op::If { then, otherwise } = &inst.op else { return unsupported("not a branch") };
        let plan: Vec<(usize, Vec<usize>)> = inst
            .results
            .iter()
            .enumerate()
            .filter(|(_, r)| self.activity.is_active(**r))
            .map(|(k, r)| (k, self.activity.of(*r).iter().copied().collect()))
            .collect();
        let mut arms = Vec::new();
        for arm in [then, otherwise] {
            self.b.open();
            self.block(arm)?;
            let mut yields = arm.yields.clone();
            for (k, blocks) in &plan {
                for block in blocks {
                    yields.push(self.materialize(arm.yields[*k], *block)?);
                }
            }
            arms.push(self.b.close(Vec::new(), yields));
        }
        let mut results = inst.results.clone();
        let mut held = Vec::new();
        for (k, blocks) in &plan {
            let mut values = Vec::new();
            for block in blocks {
                let ty = self.held_type(inst.results[*k], *block)?;
                let name = self.derivative_name(inst.results[*k]);
                values.push(self.b.f.value(ty, name));
            }
            results.extend(&values);
            held.push(values);
        }
        let otherwise = arms.pop().unwrap_or_default();
        let then = arms.pop().unwrap_or_default();
        self.b.push_with(Op::If { then, otherwise }, inst.args.clone(), results);
        for ((k, blocks), values) in plan.iter().zip(held) {
            let tangent = self.held_tangent(inst.results[*k], blocks, &values);
            self.tangents.insert(inst.results[*k], tangent);
        }
        Ok(())
    }

    /// How a loop carries one block of an active carried value: by its diagonals where the
    /// band analysis says the block is banded and its initial value's derivative fits.
    fn layout(&self, param: Value, init: Value, block: usize) -> Layout {
        let Some(offsets) = self.banded(param, block) else { return Layout::Dense };
        let fits = match self.tangent(init) {
            Tangent::Zero => true,
            Tangent::Blocks(blocks) => match blocks.get(block).copied().flatten() {
                None => true,
                Some(Block::Identity) => offsets.contains(&0),
                Some(Block::Band(id)) => self.band[id].offsets.iter().all(|o| offsets.contains(o)),
                Some(Block::Held(_)) => false,
            },
            _ => false,
        };
        if fits && *self.b.f.ty(init) != Type::Scalar {
            Layout::Band(offsets)
        } else {
            Layout::Dense
        }
    }

    /// The run-time values that carry one block of `value`'s derivative in `layout`.
    fn export(&mut self, value: Value, block: usize, layout: &Layout) -> Result<Vec<Value>> {
        let Layout::Band(offsets) = layout else { return Ok(vec![self.materialize(value, block)?]) };
        let Some(len) = self.b.f.ty(value).components() else { return unsupported("carrying this value") };
        let current = match self.tangent(value) {
            Tangent::Zero => None,
            Tangent::Blocks(blocks) => blocks.get(block).copied().flatten(),
            _ => return unsupported("a banded derivative that is not banded"),
        };
        match self.band_diagonals(current, &len, offsets) {
            Some(diagonals) => Ok(diagonals),
            None => unsupported("a banded derivative that is not banded"),
        }
    }

    /// The types of `export`'s values.
    fn export_types(&self, value: Value, block: usize, layout: &Layout) -> Result<Vec<Type>> {
        match layout {
            Layout::Dense => Ok(vec![self.held_type(value, block)?]),
            Layout::Band(offsets) => {
                let Some(len) = self.b.f.ty(value).components() else {
                    return unsupported("carrying this value");
                };
                Ok(offsets.iter().map(|_| Type::array(len.clone())).collect())
            }
        }
    }

    /// The tangent of `value` carried in `held[k]` (in `layouts[k]`) for `blocks[k]`.
    fn import(&mut self, value: Value, blocks: &[usize], layouts: &[Layout], held: &[Vec<Value>]) -> Tangent {
        if layouts.iter().all(|l| *l == Layout::Dense) {
            let dense: Vec<Value> = held.iter().map(|h| h[0]).collect();
            return self.held_tangent(value, blocks, &dense);
        }
        let mut all = vec![None; self.lens.len()];
        for ((block, layout), values) in blocks.iter().zip(layouts).zip(held) {
            all[*block] = Some(match layout {
                Layout::Dense => Block::Held(values[0]),
                Layout::Band(offsets) => {
                    self.band.push(Band { offsets: offsets.clone(), diagonals: values.clone() });
                    Block::Band(self.band.len() - 1)
                }
            });
        }
        Tangent::Blocks(all)
    }

    /// `for`: the loop also carries the run-time derivatives of the active carried values,
    /// banded blocks as their diagonals. Where a body turns out not to keep a block banded,
    /// the loop is written again with that block dense.
    fn for_loop(&mut self, inst: &Inst) -> Result<()> {
        if let Some((block, row)) = self.dot_row(inst) {
            self.b.push_with(inst.op.clone(), inst.args.clone(), inst.results.clone());
            let lin = Lin::of(Basis::Row { block, row });
            self.tangents.insert(inst.results[0], Tangent::Scalar(lin));
            return Ok(());
        }
        let saved =
            (self.tangents.clone(), self.origins.clone(), self.eager.clone(), self.fresh_rows.clone());
        let depth = self.b.depth();
        match self.for_loop_with(inst, true) {
            Err(problem) if problem.what == BANDED => {
                while self.b.depth() > depth {
                    self.b.close(Vec::new(), Vec::new());
                }
                (self.tangents, self.origins, self.eager, self.fresh_rows) = saved;
                self.for_loop_with(inst, false)
            }
            other => other,
        }
    }

    /// A dot product of a row of a non-differentiated array and a whole parameter block,
    /// `Σₖ w[…][k] · x[k]` (`for k in 0..n`, carrying the sum from zero: a row of a
    /// matrix–vector product), whose derivative is that row: the block and the row, read in
    /// place (`w[…]`, before the loop), instead of a row of derivatives built entry by entry.
    fn dot_row(&mut self, inst: &Inst) -> Option<(usize, Value)> {
        let Op::For { pattern, range, holes: 0, body } = &inst.op else { return None };
        let ([init], [acc], [sum]) = (&inst.args[..], &body.params[..], &body.yields[..]) else {
            return None;
        };
        if !self.lin(*init).is_zero() || !self.activity.is_active(inst.results[0]) {
            return None;
        }
        let [index, a, b, product, next] = &body.insts[..] else { return None };
        let index_is_k = matches!(&index.op, Op::Code(code) if index.args.is_empty()
            && code.tokens.to_string() == pattern.to_string());
        let k = *index.results.first()?;
        let product_ok = matches!(product.op, Op::Mul)
            && (product.args[..] == [a.results[0], b.results[0]]
                || product.args[..] == [b.results[0], a.results[0]]);
        let next_ok = matches!(next.op, Op::Add)
            && next.args[..] == [*acc, product.results[0]]
            && next.results[..] == [*sum];
        if !index_is_k || !product_ok || !next_ok {
            return None;
        }
        // One operand reads the parameter block at `k`, the other a row of a constant at `k`.
        let read_at_k = |get: &Inst| match &get.op {
            Op::Get(path) if path.0.last() == Some(&Position::Dynamic) && get.args.last() == Some(&k) => {
                Some((get.args[0], path.clone(), get.args[1..get.args.len() - 1].to_vec()))
            }
            _ => None,
        };
        let ((x, x_path, _), (w, w_path, w_indices)) = match (read_at_k(a)?, read_at_k(b)?) {
            (p, q) if self.activity.is_active(p.0) => (p, q),
            (p, q) => (q, p),
        };
        if x_path.0.len() != 1 || self.activity.is_active(w) {
            return None;
        }
        let Tangent::Blocks(blocks) = self.tangent(x) else { return None };
        let mut identity = blocks.iter().enumerate().filter(|(_, b)| b.is_some());
        let (Some((block, Some(Block::Identity))), None) = (identity.next(), identity.next()) else {
            return None;
        };
        let len = self.lens[block].value();
        if range.tokens.to_string() != quote!(0..#len).to_string() {
            return None;
        }
        // The row's indices are defined before the loop (not by its body).
        let defined_inside = |v: &Value| body.insts.iter().any(|i| i.results.contains(v));
        if w_indices.iter().any(defined_inside) || defined_inside(&w) {
            return None;
        }
        let prefix = Path(w_path.0[..w_path.0.len() - 1].to_vec());
        if prefix.walk(self.b.f.ty(w)) != Some(self.row_type(block)) {
            return None;
        }
        Some((block, self.b.get(w, prefix, w_indices)))
    }

    fn for_loop_with(&mut self, inst: &Inst, banded: bool) -> Result<()> {
        let Op::For { pattern, range, holes, body } = &inst.op else { return unsupported("not a loop") };
        let inits = &inst.args[*holes..];
        let plan: Vec<(usize, Vec<usize>)> = body
            .params
            .iter()
            .enumerate()
            .filter(|(_, p)| self.activity.is_active(**p))
            .map(|(k, p)| (k, self.activity.of(*p).iter().copied().collect()))
            .collect();
        let mut args = inst.args.clone();
        let mut params = body.params.clone();
        let mut carried = Vec::new();
        let mut layouts = Vec::new();
        for (k, blocks) in &plan {
            let mut values = Vec::new();
            let mut slot_layouts = Vec::new();
            for block in blocks {
                let layout =
                    if banded { self.layout(body.params[*k], inits[*k], *block) } else { Layout::Dense };
                args.extend(self.export(inits[*k], *block, &layout)?);
                let name = self.derivative_name(body.params[*k]);
                let types = self.export_types(inits[*k], *block, &layout)?;
                values.push(types.into_iter().map(|ty| self.b.f.value(ty, name.clone())).collect::<Vec<_>>());
                slot_layouts.push(layout);
            }
            params.extend(values.iter().flatten());
            let tangent = self.import(body.params[*k], blocks, &slot_layouts, &values);
            self.tangents.insert(body.params[*k], tangent);
            carried.push(values.concat());
            layouts.push((slot_layouts, values));
        }
        self.find_fresh_rows(inst, &plan);
        // Next values of carried scalars that the body also reads: held as rows at once.
        let mut reads = Vec::new();
        for inst in &body.insts {
            reads.extend(&inst.args);
            for nested in inst.blocks() {
                nested.insts.iter().for_each(|i| reads.extend(&i.args));
            }
        }
        for (k, _) in &plan {
            if reads.contains(&body.yields[*k]) {
                self.eager.insert(body.yields[*k]);
            }
        }
        self.b.open();
        self.block(body)?;
        let mut yields = body.yields.clone();
        let mut next = vec![Vec::new(); plan.len()];
        for slot in self.update_order(&plan, body, &carried) {
            let (k, blocks) = &plan[slot];
            for (block, layout) in blocks.iter().zip(&layouts[slot].0) {
                match self.export(body.yields[*k], *block, layout) {
                    Ok(values) => next[slot].extend(values),
                    Err(_) if *layout != Layout::Dense => return unsupported(BANDED),
                    Err(problem) => return Err(problem),
                }
            }
        }
        yields.extend(next.into_iter().flatten());
        let new_body = self.b.close(params, yields);
        let mut results = inst.results.clone();
        let mut held = Vec::new();
        for (slot_layouts, values) in &layouts {
            let outs: Vec<Vec<Value>> = values
                .iter()
                .map(|group| {
                    group
                        .iter()
                        .map(|v| {
                            self.b.f.value(self.b.f.ty(*v).clone(), self.b.f.name(*v).map(str::to_owned))
                        })
                        .collect()
                })
                .collect();
            results.extend(outs.iter().flatten());
            held.push((slot_layouts.clone(), outs));
        }
        let op = Op::For { pattern: pattern.clone(), range: range.clone(), holes: *holes, body: new_body };
        self.b.push_with(op, args, results);
        for ((k, blocks), (slot_layouts, values)) in plan.iter().zip(held) {
            let tangent = self.import(inst.results[*k], blocks, &slot_layouts, &values);
            self.tangents.insert(inst.results[*k], tangent);
        }
        Ok(())
    }

    /// Replaces a scalar's tangent by run-time rows computed now: for the next value of a
    /// loop-carried scalar that the body reads again (`θ += q[i]` then `cos θ`, `sin θ`),
    /// so that the row is updated once, in place, rather than its terms applied at every
    /// read and again at the end of the iteration.
    fn hold(&mut self, value: Value) -> Result<()> {
        if *self.b.f.ty(value) != Type::Scalar {
            return Ok(());
        }
        let blocks: Vec<usize> = self.activity.of(value).iter().copied().collect();
        let mut rows = Vec::new();
        for block in &blocks {
            rows.push(self.materialize(value, *block)?);
        }
        let tangent = self.held_tangent(value, &blocks, &rows);
        self.tangents.insert(value, tangent);
        Ok(())
    }

    /// Finds the element assignments of a loop whose row of derivatives is known to be zero
    /// before them: arrays that enter the loop with a zero derivative and that the body
    /// writes only at the loop's own variable (`out[i] = …` in `for i in a..b`), each
    /// element at most once per iteration. Every iteration writes a row no earlier one
    /// wrote, so the first write of each iteration need not clear it.
    fn find_fresh_rows(&mut self, inst: &Inst, plan: &[(usize, Vec<usize>)]) {
        let Op::For { pattern, holes, body, .. } = &inst.op else { return };
        let pattern = pattern.to_string();
        let index = body.insts.iter().find_map(|i| match (&i.op, i.args.as_slice(), i.results.as_slice()) {
            (Op::Code(code), [], [r]) if code.tokens.to_string() == pattern => Some(*r),
            _ => None,
        });
        let Some(index) = index else { return };
        for (k, _) in plan {
            let zero = match self.tangent(inst.args[holes + k]) {
                Tangent::Zero => true,
                Tangent::Elems(elems) => elems.iter().all(Lin::is_zero),
                Tangent::Blocks(blocks) => blocks.iter().all(Option::is_none),
                Tangent::Scalar(_) => false,
            };
            if !zero {
                continue;
            }
            let mut version = body.params[*k];
            let mut first = None;
            let mut writes_elsewhere = false;
            for step in &body.insts {
                let mut nested = Vec::new();
                for block in step.blocks() {
                    nested.extend(block.insts.iter().flat_map(|i| i.args.iter().copied()));
                    nested.extend(&block.yields);
                }
                if nested.contains(&version) {
                    writes_elsewhere = true;
                }
                if !step.args.contains(&version) {
                    continue;
                }
                match &step.op {
                    Op::Get(_) => {}
                    Op::Set(path)
                        if path.0 == [Position::Dynamic]
                            && step.args[0] == version
                            && step.args[2] == index =>
                    {
                        first.get_or_insert(step.results[0]);
                        version = step.results[0];
                    }
                    _ => writes_elsewhere = true,
                }
            }
            let yielded_once = body.yields.iter().filter(|y| **y == version).count() == 1;
            if let (Some(first), false, true) =
                (first, writes_elsewhere, body.yields[*k] == version && yielded_once)
            {
                self.fresh_rows.insert(first);
            }
        }
    }

    /// `dx` for the derivative of the user's `x`.
    fn derivative_name(&self, value: Value) -> Option<String> {
        self.b.f.name(value).map(|name| format!("d{}", name.trim_start_matches("r#")))
    }

    /// The order in which to write the carried derivatives' next values: one that updates a
    /// carried row in place only after every other next value that reads it is written
    /// (`dθ` after the rows that use the old `dθ`), where there is one.
    fn update_order(
        &self,
        plan: &[(usize, Vec<usize>)],
        body: &ir::Block,
        carried: &[Vec<Value>],
    ) -> Vec<usize> {
        let reads = |slot: usize| -> Vec<Value> {
            let lin = self.lin(body.yields[plan[slot].0]);
            lin.terms
                .iter()
                .filter_map(|t| if let Basis::Row { row, .. } = t.basis { Some(row) } else { None })
                .collect()
        };
        let mut remaining: Vec<usize> = (0..plan.len()).collect();
        let mut order = Vec::new();
        while !remaining.is_empty() {
            let free = remaining.iter().position(|&slot| {
                remaining
                    .iter()
                    .all(|&other| other == slot || !reads(other).iter().any(|r| carried[slot].contains(r)))
            });
            order.push(remaining.remove(free.unwrap_or(0)));
        }
        order
    }

    /// `while`: the loop also carries the run-time derivatives of its active carried
    /// values: the test passes them on with the values, the body updates them.
    fn while_loop(&mut self, inst: &Inst) -> Result<()> {
        let Op::While { cond, body } = &inst.op else { return unsupported("not a loop") };
        let plan: Vec<(usize, Vec<usize>)> = (0..inst.results.len())
            .filter(|k| self.activity.is_active(cond.params[*k]))
            .map(|k| (k, self.activity.of(cond.params[k]).iter().copied().collect()))
            .collect();
        let mut args = inst.args.clone();
        let (mut cond_params, mut body_params) = (cond.params.clone(), body.params.clone());
        let (mut cond_held, mut body_held, mut result_held) = (Vec::new(), Vec::new(), Vec::new());
        for (k, blocks) in &plan {
            let (mut c, mut b, mut r) = (Vec::new(), Vec::new(), Vec::new());
            for block in blocks {
                args.push(self.materialize(inst.args[*k], *block)?);
                let ty = self.held_type(inst.args[*k], *block)?;
                let name = self.derivative_name(cond.params[*k]);
                c.push(self.b.f.value(ty.clone(), name.clone()));
                b.push(self.b.f.value(ty.clone(), name.clone()));
                r.push(self.b.f.value(ty, name));
            }
            cond_params.extend(&c);
            body_params.extend(&b);
            let tangent = self.held_tangent(cond.params[*k], blocks, &c);
            self.tangents.insert(cond.params[*k], tangent);
            let tangent = self.held_tangent(body.params[*k], blocks, &b);
            self.tangents.insert(body.params[*k], tangent);
            cond_held.push(c);
            body_held.push(b);
            result_held.push(r);
        }
        self.b.open();
        self.block(cond)?;
        let mut cond_yields = cond.yields.clone();
        for (k, blocks) in &plan {
            for block in blocks {
                cond_yields.push(self.materialize(cond.yields[1 + *k], *block)?);
            }
        }
        let new_cond = self.b.close(cond_params, cond_yields);
        self.b.open();
        self.block(body)?;
        let mut body_yields = body.yields.clone();
        for (k, blocks) in &plan {
            for block in blocks {
                body_yields.push(self.materialize(body.yields[*k], *block)?);
            }
        }
        let new_body = self.b.close(body_params, body_yields);
        let mut results = inst.results.clone();
        results.extend(result_held.iter().flatten());
        self.b.push_with(Op::While { cond: new_cond, body: new_body }, args, results);
        for ((k, blocks), values) in plan.iter().zip(&result_held) {
            let tangent = self.held_tangent(inst.results[*k], blocks, values);
            self.tangents.insert(inst.results[*k], tangent);
        }
        Ok(())
    }

    /// The result's Jacobian as the pieces that can be non-zero (`sparse`): a banded
    /// block's diagonals, an identity's ones, a held block whole; for results held element
    /// by element, each row's unit columns as entries (in column order), or its dense row
    /// over a block where it has run-time rows or run-time column indices.
    fn pieces(&mut self, result: Value, ty: &Type) -> Result<Vec<Piece>> {
        let offsets: Vec<Dim> = self.signature.inputs.iter().map(|i| i.offset.clone()).collect();
        let tangent = match (ty, self.tangent(result)) {
            (Type::Array(..), Tangent::Elems(_)) if ty.components().and_then(|d| d.lit()).is_none() => {
                self.held_blocks(result)?
            }
            (_, tangent) => tangent,
        };
        let components = match tangent {
            Tangent::Zero => return Ok(Vec::new()),
            Tangent::Scalar(lin) => vec![lin],
            Tangent::Elems(elems) => elems,
            Tangent::Blocks(blocks) => {
                let mut pieces = Vec::new();
                for (block, jac) in blocks.iter().enumerate() {
                    let (col, width) = (offsets[block].clone(), self.lens[block].clone());
                    match jac {
                        None => {}
                        Some(Block::Held(jac)) => pieces.push(Piece::Block { col, cols: width, value: *jac }),
                        Some(Block::Identity) => {
                            pieces.push(Piece::Diagonal { col, width, shift: 0, value: None })
                        }
                        Some(Block::Band(id)) => {
                            let band = self.band[*id].clone();
                            for (shift, diagonal) in band.offsets.iter().zip(&band.diagonals) {
                                pieces.push(Piece::Diagonal {
                                    col: col.clone(),
                                    width: width.clone(),
                                    shift: *shift,
                                    value: Some(*diagonal),
                                });
                            }
                        }
                    }
                }
                return Ok(pieces);
            }
        };
        let mut pieces = Vec::new();
        for (row, lin) in components.iter().enumerate() {
            for (block, offset) in offsets.iter().enumerate() {
                let terms: Vec<tangent::Term> = lin.on(block).copied().collect();
                if terms.is_empty() {
                    continue;
                }
                let mut entries: Vec<(usize, tangent::Coef)> = Vec::new();
                for term in &terms {
                    if let Basis::Unit { at, index: None, .. } = term.basis {
                        entries.push((at, term.coef));
                    }
                }
                if entries.len() == terms.len() {
                    entries.sort_by_key(|(at, _)| *at);
                    for (at, coef) in entries {
                        let value = coef.value(&mut self.b);
                        pieces.push(Piece::Entry { row, col: offset.add(&Dim::Lit(at)), value });
                    }
                } else {
                    let row_type = self.row_type(block);
                    let value = lin.row(block, &row_type, &mut self.b);
                    let len = self.lens[block].clone();
                    pieces.push(Piece::Row { row, col: offset.clone(), len, value });
                }
            }
        }
        Ok(pieces)
    }

    /// The Jacobian of the result, `Matrix<rows, columns>`, from its tangent.
    ///
    /// With `only`, the block of one parameter alone (`Matrix<rows, n>`, that parameter's
    /// columns from 0), for the parts sibling that callers chain through.
    fn assemble(&mut self, result: Value, ty: &Type, only: Option<usize>) -> Result<Value> {
        let rows = self.rows.clone();
        let (columns, offsets) = match only {
            Some(block) => (self.lens[block].clone(), vec![Dim::Lit(0); self.lens.len()]),
            None => (
                self.columns.clone(),
                self.signature.inputs.iter().map(|i| i.offset.clone()).collect::<Vec<Dim>>(),
            ),
        };
        let matrix = Type::Matrix(rows.clone(), columns.clone());
        let selected = |block: usize| only.is_none_or(|b| b == block);
        // The one block that fills the whole matrix, if there is one.
        let whole_block = match only {
            Some(block) => Some(block),
            None if self.lens.len() == 1 => Some(0),
            None => None,
        };
        let single = whole_block.is_some();
        let tangent = match (ty, self.tangent(result)) {
            (Type::Array(..), Tangent::Zero) | (Type::Array(..), Tangent::Elems(_))
                if ty.components().and_then(|d| d.lit()).is_none() =>
            {
                self.held_blocks(result)?
            }
            (_, tangent) => tangent,
        };
        let keep = |lin: &Lin| Lin {
            terms: lin.terms.iter().filter(|t| selected(t.basis.block())).copied().collect(),
        };
        let tangent = match tangent {
            Tangent::Scalar(lin) => Tangent::Scalar(keep(&lin)),
            Tangent::Elems(elems) => Tangent::Elems(elems.iter().map(keep).collect()),
            Tangent::Blocks(blocks) => Tangent::Blocks(
                blocks.into_iter().enumerate().map(|(b, jac)| jac.filter(|_| selected(b))).collect(),
            ),
            Tangent::Zero => Tangent::Zero,
        };
        let components: Vec<Lin> = match &tangent {
            Tangent::Zero => match ty.components().and_then(|d| d.lit()) {
                Some(n) => vec![Lin::default(); n],
                None => return Ok(self.b.zeros(&matrix)),
            },
            Tangent::Scalar(lin) => vec![lin.clone()],
            Tangent::Elems(elems) => elems.clone(),
            Tangent::Blocks(blocks) => {
                if let Some(Some(Block::Held(jac))) = whole_block.map(|b| blocks[b]) {
                    return Ok(self.b.push1(Op::Convert, vec![jac], matrix));
                }
                let mut j = self.b.zeros(&matrix);
                for (block, jac) in blocks.iter().enumerate() {
                    let jac = match jac {
                        None => continue,
                        Some(Block::Held(jac)) => *jac,
                        Some(Block::Identity) => self.identity(block),
                        // Each diagonal straight into the Jacobian.
                        Some(Block::Band(id)) => {
                            let band = self.band[*id].clone();
                            for (shift, diagonal) in band.offsets.iter().zip(&band.diagonals) {
                                let op = Op::AddBand {
                                    offset: offsets[block].clone(),
                                    width: self.lens[block].clone(),
                                    shift: *shift,
                                    transposed: false,
                                };
                                j = self.b.push1(op, vec![j, *diagonal], matrix.clone());
                            }
                            continue;
                        }
                    };
                    let offset = offsets[block].clone();
                    j = self.b.push1(Op::AddBlock { offset }, vec![j, jac], matrix.clone());
                }
                return Ok(j);
            }
        };
        // Every row one run-time row, scaled or not (or zero): the rows are the matrix.
        let whole_rows: Option<Vec<Option<(tangent::Coef, Value)>>> = components
            .iter()
            .map(|lin| match lin.terms.as_slice() {
                [] => Some(None),
                [tangent::Term { coef, basis: Basis::Row { row, .. } }] => Some(Some((*coef, *row))),
                _ => None,
            })
            .collect();
        if let (true, Some(rows)) = (single, whole_rows) {
            // Some scaled: each written into its row of the matrix (no row copied).
            if rows.iter().flatten().any(|(coef, _)| *coef != tangent::Coef::One) {
                let row_type = self.row_type(whole_block.unwrap_or(0));
                let held_type = Type::Array(Box::new(row_type.clone()), Dim::Lit(rows.len()));
                let mut held = self.b.zeros(&held_type);
                for (i, (coef, row)) in rows.into_iter().enumerate().filter_map(|(i, r)| Some((i, r?))) {
                    let row = match coef {
                        tangent::Coef::One => row,
                        coef => {
                            let coef = coef.value(&mut self.b);
                            self.b.push1(Op::Scale, vec![coef, row], row_type.clone())
                        }
                    };
                    held = self.b.update(Op::Set(Path(vec![Position::Const(i)])), held, row, Vec::new());
                }
                return Ok(self.b.push1(Op::Convert, vec![held], matrix));
            }
            if rows.iter().any(Option::is_some) {
                let row_type = self.row_type(whole_block.unwrap_or(0));
                let rows: Vec<Value> = rows
                    .into_iter()
                    .map(|r| match r {
                        None => self.b.zeros(&row_type),
                        Some((tangent::Coef::One, row)) => row,
                        Some((coef, row)) => {
                            let coef = coef.value(&mut self.b);
                            self.b.push1(Op::Scale, vec![coef, row], row_type.clone())
                        }
                    })
                    .collect();
                let held = match rows.as_slice() {
                    [row] => *row,
                    _ => {
                        let ty = Type::Array(Box::new(row_type), Dim::Lit(rows.len()));
                        self.b.push1(Op::Build, rows, ty)
                    }
                };
                return Ok(self.b.push1(Op::Convert, vec![held], matrix));
            }
        }
        // Every entry known by position: the matrix literal.
        let all_units = components
            .iter()
            .all(|lin| lin.terms.iter().all(|t| matches!(t.basis, Basis::Unit { index: None, .. })));
        if let (true, Some(n), true) = (all_units, columns.lit(), offsets.iter().all(|o| o.lit().is_some())) {
            let zero = self.b.lit(0.0);
            let mut entries = vec![zero; components.len() * n];
            for (i, lin) in components.iter().enumerate() {
                for term in &lin.terms {
                    if let Basis::Unit { block, at, .. } = term.basis {
                        let column = offsets[block].lit().unwrap_or(0) + at;
                        entries[i * n + column] = term.coef.value(&mut self.b);
                    }
                }
            }
            return Ok(self.b.push1(Op::Build, entries, matrix));
        }
        let mut j = self.b.zeros(&matrix);
        for (i, lin) in components.iter().enumerate() {
            for term in &lin.terms {
                let coef = term.coef.value(&mut self.b);
                j = match term.basis {
                    Basis::Unit { block, at, index } => {
                        let offset = &offsets[block];
                        match (offset.lit(), index) {
                            (Some(offset), None) => {
                                let path = Path(vec![Position::Const(i), Position::Const(offset + at)]);
                                self.b.update(Op::Accumulate(path), j, coef, Vec::new())
                            }
                            (_, index) => {
                                let h0 = ir::Code::hole(0);
                                let offset = offset.value();
                                let column = match index {
                                    Some(k) if offsets[block] == Dim::Lit(0) => k,
                                    Some(k) => self.b.code(quote!(#offset + #h0), vec![k]),
                                    None => {
                                        let at = proc_macro2::Literal::usize_unsuffixed(at);
                                        self.b.code(quote!(#offset + #at), Vec::new())
                                    }
                                };
                                let path = Path(vec![Position::Const(i), Position::Dynamic]);
                                self.b.update(Op::Accumulate(path), j, coef, vec![column])
                            }
                        }
                    }
                    Basis::Row { block, row } => {
                        let offset = offsets[block].clone();
                        let op = Op::AddRow { offset, row: Position::Const(i) };
                        self.b.push1(op, vec![j, coef, row], matrix.clone())
                    }
                };
            }
        }
        Ok(j)
    }
}
