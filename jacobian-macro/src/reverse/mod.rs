//! Owns reverse mode: a primal IR function becomes one that runs it (the forward sweep,
//! every primal instruction kept with its value ids) and then propagates adjoints from the
//! output back to the differentiated parameters (the reverse sweep), with the same rule
//! table as forward mode (`rules::partials`): where forward mode scales a tangent by a
//! partial, reverse mode scales an adjoint by it.
//!
//! Adjoints are SSA values like any other; an array's adjoint is an array updated with
//! `Accumulate`, which the emitter writes in place (`g[i] += t`). The result is ordinary
//! primal-style IR (arithmetic, `Get`/`Set`/`Accumulate`, `if`, `for`), so forward mode can
//! differentiate it again: that is how Hessians are made (forward over reverse).
//!
//! Control flow, without a tape:
//! - an `if` is reversed by an `if` on the same condition (a value the forward sweep
//!   computed), whose arms recompute their own primal values and then reverse them;
//! - a `for` loop is reversed by a loop over the same range that recomputes each
//!   iteration's primal values and reverses them. That needs no stored state when the
//!   values the loop carries from one iteration to the next are either not differentiated
//!   (recomputed along) or only combined linearly (`s += t`, `a[i] = t`, `s *= c` with
//!   `c` constant), so that no derivative rule needs their primal value. When every such
//!   combination passes the adjoint through unchanged (sums, accumulation), the reversed
//!   loop runs forwards; otherwise it runs the range backwards (`(a..b).rev()`).
//!
//! Anything else (a loop that needs the carried values themselves, such as a product
//! `p *= x[i]` or a recurrence; `while`; user code that mutates variables a recomputed
//! region reads) is `Unsupported`, and the caller uses forward mode instead.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::{Span, TokenStream};
use quote::{quote, ToTokens};

use crate::analysis::activity::Activity;
use crate::front::Unsupported;
use crate::ir::build::Builder;
use crate::ir::{Block, Code, Function, Inst, Op, Path, Position, Type, Value};
use crate::shape::Dim;
use crate::signature::Signature;

type Result<T> = std::result::Result<T, Unsupported>;

/// Methods whose partials are infinite or NaN at some finite operands (√ and ∛ at 0, the
/// logarithms at 0, `recip` at 0, `asin`/`acos`/`atanh` at ±1, `acosh` at 1, `powf` and
/// `powi` at a zero base, `hypot` and `atan2` at the origin, `tan` at π/2).
const SINGULAR: &[&str] = &[
    "sqrt", "cbrt", "ln", "log", "log2", "log10", "ln_1p", "recip", "asin", "acos", "atanh", "acosh", "powf",
    "powi", "hypot", "atan2", "tan",
];

fn unsupported<T>(what: &str) -> Result<T> {
    Err(Unsupported::here(format!("reverse mode: {what}")))
}

/// The adjoint of the output that the reverse sweep starts from.
pub enum Seed {
    /// 1: the output is a scalar and the sweep computes its gradient.
    One,
    /// The sibling's parameter of this name, a `Vector<M, T>` (`vjp`).
    Vector(syn::Ident),
}

/// A function after both sweeps, with its top-level block still open for the caller to
/// assemble the result from.
pub struct Swept {
    pub b: Builder,
    /// The primal output.
    pub value: Value,
    /// The adjoint of each differentiated parameter, in the signature's order (the
    /// parameter's type: a scalar or an array).
    pub adjoints: Vec<Value>,
}

/// Runs `primal` forwards and its adjoint backwards from `seed`.
pub fn sweep(primal: &Function, signature: &Signature, seed: Seed, scalar_tapes: bool) -> Result<Swept> {
    let (mut r, inputs) = forward_sweep(primal, signature)?;
    r.scalar_tapes = scalar_tapes;
    let value = primal.body.yields[0];
    let seed = match (seed, primal.ty(value).clone()) {
        (Seed::One, Type::Scalar) => r.b.lit(1.0),
        (Seed::One, _) => return unsupported("a gradient of a non-scalar output"),
        (Seed::Vector(u), Type::Scalar) => {
            let u = r.b.constant(quote!(#u.as_array()), Vec::new(), Type::array(Dim::Lit(1)));
            r.b.get(u, Path(vec![Position::Const(0)]), Vec::new())
        }
        (Seed::Vector(u), ty @ Type::Array(..)) if ty.element() == Some(Type::Scalar) => {
            r.b.constant(quote!(#u.as_array()), Vec::new(), ty)
        }
        (Seed::Vector(u), ty @ (Type::Vector(_) | Type::Matrix(..) | Type::Tuple(_) | Type::Array(..))) => {
            let flat = adjoint_type(&ty);
            r.b.constant(quote!(#u.as_array()), Vec::new(), flat)
        }
        (Seed::Vector(_), _) => return unsupported("a product with this output type"),
    };
    let adjoints = r.reverse_sweep(&inputs, value, seed)?;
    Ok(Swept { b: r.b, value, adjoints })
}

/// The checks, and the forward sweep: the primal as it is, its values keeping their ids.
fn forward_sweep<'a>(primal: &'a Function, signature: &'a Signature) -> Result<(Reverse<'a>, Vec<Value>)> {
    let mut inputs = Vec::new();
    for input in &signature.inputs {
        match primal.params.iter().find(|p| p.ident == input.ident) {
            Some(param) => inputs.push(param.value),
            None => return unsupported("a differentiated parameter the IR does not have"),
        }
    }
    for input in &inputs {
        match primal.ty(*input) {
            Type::Scalar => {}
            Type::Array(elem, _) if **elem == Type::Scalar => {}
            Type::Vector(_) | Type::Matrix(..) | Type::Array(..) if primal.flattened => {}
            _ => return unsupported("a differentiated parameter of this type"),
        }
    }
    let activity = Activity::analyse(primal, &inputs);
    if !Effects::ok(&activity, &primal.body) {
        return unsupported("user code that changes a variable a recomputed loop or branch reads");
    }
    let mut r = Reverse {
        primal,
        const_generics: &signature.const_generics,
        activity,
        b: Builder::new(Function::like(primal)),
        adj: BTreeMap::new(),
        rename: BTreeMap::new(),
        unknown: BTreeSet::new(),
        scalar_tapes: false,
    };
    for inst in &primal.body.insts {
        r.b.span = inst.span;
        r.b.push_with(inst.op.clone(), inst.args.clone(), inst.results.clone());
    }
    r.b.span = Span::call_site();
    Ok((r, inputs))
}

/// The Jacobian of a vector output by one reverse sweep per output component, in a loop
/// over the rows after one forward sweep: `(value, Matrix<M, N>)` or the matrix alone.
pub fn rows(primal: &Function, signature: &Signature, with_value: bool) -> Result<Function> {
    let (mut r, inputs) = forward_sweep(primal, signature)?;
    let value = primal.body.yields[0];
    let output = adjoint_type(primal.ty(value));
    if !matches!(output, Type::Array(..)) {
        return unsupported("rows of this output type");
    }
    let matrix = Type::Matrix(signature.rows.clone(), signature.columns.clone());
    let zero = r.b.zeros(&matrix);
    let row = proc_macro2::Ident::new("row", Span::mixed_site());
    let jacobian_type = matrix.clone();
    r.b.open();
    let carried = r.b.f.value(jacobian_type.clone(), None);
    let index = r.b.code(row.to_token_stream(), Vec::new());
    let one = r.b.lit(1.0);
    let zeros = r.b.zeros(&output);
    let seed = r.b.update(Op::Set(Path(vec![Position::Dynamic])), zeros, one, vec![index]);
    let adjoints = r.reverse_sweep(&inputs, value, seed)?;
    let mut j = carried;
    for (adjoint, input) in adjoints.iter().zip(&signature.inputs) {
        let adjoint_row = match r.b.f.ty(*adjoint).clone() {
            Type::Scalar => r.b.push1(Op::Build, vec![*adjoint], Type::array(Dim::Lit(1))),
            _ => *adjoint,
        };
        let offset = input.offset.clone();
        j = r.b.push1(
            Op::AddRow { offset, row: Position::Dynamic },
            vec![j, one, adjoint_row, index],
            jacobian_type.clone(),
        );
    }
    let body = r.b.close(vec![carried], vec![j]);
    let m = signature.rows.value();
    let filled = r.b.push(
        Op::For { pattern: row.to_token_stream(), range: Code { tokens: quote!(0..#m) }, holes: 0, body },
        vec![zero],
        &[jacobian_type],
    )[0];
    let result = if with_value {
        let ty = Type::Tuple(vec![r.b.f.ty(value).clone(), matrix]);
        r.b.push1(Op::Tuple, vec![value, filled], ty)
    } else {
        filled
    };
    let body = r.b.close(Vec::new(), vec![result]);
    let mut function = r.b.f;
    function.body = body;
    Ok(function)
}

/// What a reverse-mode function returns.
pub enum Returns {
    /// The gradient as the Jacobian's one row, `Matrix<1, N>`.
    Jacobian,
    /// `(value, Matrix<1, N>)`.
    ValueAndJacobian,
    /// `(value, Vector<N>)`: Jᵀ·u for the sibling's parameter `u`.
    Vjp(syn::Ident),
    /// The gradient as `[T; N]`, then the value (a second yield), for forward mode to
    /// differentiate again (Hessians).
    Gradient,
}

/// The function computing what `returns` asks for by reverse mode.
pub fn function(primal: &Function, signature: &Signature, returns: Returns) -> Result<Function> {
    let seed = match &returns {
        Returns::Vjp(u) => Seed::Vector(u.clone()),
        _ => Seed::One,
    };
    // (Forward mode, differentiating the result again, follows a tape of scalars only.)
    let scalar_tapes = matches!(returns, Returns::Gradient);
    let Swept { mut b, value, adjoints } = sweep(primal, signature, seed, scalar_tapes)?;
    let types: Vec<Type> = adjoints.iter().map(|a| b.f.ty(*a).clone()).collect();
    let yields = match returns {
        Returns::Jacobian | Returns::ValueAndJacobian => {
            let row = match flat(&mut b, &adjoints, &types) {
                Some(flat) => {
                    let n = b.f.ty(flat).components().expect("an array");
                    b.push1(Op::Convert, vec![flat], Type::Matrix(Dim::Lit(1), n))
                }
                None => row_of_blocks(&mut b, &adjoints, &types, signature),
            };
            if matches!(returns, Returns::Jacobian) {
                vec![row]
            } else {
                let ty = Type::Tuple(vec![b.f.ty(value).clone(), b.f.ty(row).clone()]);
                vec![b.push1(Op::Tuple, vec![value, row], ty)]
            }
        }
        Returns::Vjp(_) => {
            let vector = match flat(&mut b, &adjoints, &types) {
                Some(flat) => {
                    let n = b.f.ty(flat).components().expect("an array");
                    b.push1(Op::Convert, vec![flat], Type::Vector(n))
                }
                // Several parameters of symbolic or large size: their blocks added into the
                // row `Matrix<1, N>`, then transposed.
                None => {
                    let row = row_of_blocks(&mut b, &adjoints, &types, signature);
                    b.push1(Op::Convert, vec![row], Type::Vector(signature.columns.clone()))
                }
            };
            let ty = Type::Tuple(vec![b.f.ty(value).clone(), b.f.ty(vector).clone()]);
            vec![b.push1(Op::Tuple, vec![value, vector], ty)]
        }
        Returns::Gradient => {
            let Some(flat) = flat(&mut b, &adjoints, &types) else {
                return unsupported("several differentiated parameters of symbolic or large size");
            };
            vec![flat, value]
        }
    };
    let body = b.close(Vec::new(), yields);
    let mut function = b.f;
    function.body = body;
    Ok(function)
}

/// The adjoints as the row `Matrix<1, N>`, each parameter's block added at its offset.
fn row_of_blocks(b: &mut Builder, adjoints: &[Value], types: &[Type], signature: &Signature) -> Value {
    let matrix = Type::Matrix(Dim::Lit(1), signature.columns.clone());
    let mut j = b.zeros(&matrix);
    for ((adjoint, ty), input) in adjoints.iter().zip(types).zip(&signature.inputs) {
        let row = match ty {
            Type::Scalar => b.push1(Op::Build, vec![*adjoint], Type::array(Dim::Lit(1))),
            _ => *adjoint,
        };
        let row_type = b.f.ty(row).clone();
        let rows = b.push1(Op::Build, vec![row], Type::Array(Box::new(row_type), Dim::Lit(1)));
        j = b.push1(Op::AddBlock { offset: input.offset.clone() }, vec![j, rows], matrix.clone());
    }
    j
}

/// The adjoints as one flat array `[T; N]`, when that is one parameter's adjoint or a short
/// list of literal length.
fn flat(b: &mut Builder, adjoints: &[Value], types: &[Type]) -> Option<Value> {
    match (adjoints, types) {
        ([a], [Type::Scalar]) => return Some(b.push1(Op::Build, vec![*a], Type::array(Dim::Lit(1)))),
        ([a], [Type::Array(..)]) => return Some(*a),
        _ => {}
    }
    let mut total = 0;
    for ty in types {
        total += ty.components()?.lit()?;
    }
    if total > 64 {
        return None;
    }
    let mut components = Vec::new();
    for (a, ty) in adjoints.iter().zip(types) {
        match ty {
            Type::Scalar => components.push(*a),
            _ => {
                for k in 0..ty.components()?.lit()? {
                    components.push(b.get(*a, Path(vec![Position::Const(k)]), Vec::new()));
                }
            }
        }
    }
    Some(b.push1(Op::Build, components, Type::array(Dim::Lit(total))))
}

struct Reverse<'a> {
    primal: &'a Function,
    /// The function's const-generic parameters.
    const_generics: &'a BTreeSet<String>,
    activity: Activity,
    b: Builder,
    /// The adjoint accumulated so far for each primal value (by its primal id).
    adj: BTreeMap<Value, Value>,
    /// Primal values recomputed inside a reversed region, by primal id: their copies.
    rename: BTreeMap<Value, Value>,
    /// Values of the loops being reversed whose primal value is not known there (they
    /// depend on what the loop carries); no rule may read them.
    unknown: BTreeSet<Value>,
    /// Whether a loop's tape keeps an array it carries as one tape per component (for
    /// forward mode over this function, whose tangents follow elements, not rows of an
    /// array of arrays), rather than one tape of arrays.
    scalar_tapes: bool,
}

impl Reverse<'_> {
    /// The reverse sweep from `seed`, the adjoint of the output `value`: the adjoint of each
    /// input.
    fn reverse_sweep(&mut self, inputs: &[Value], value: Value, seed: Value) -> Result<Vec<Value>> {
        self.adj.clear();
        if self.activity.is_active(value) {
            self.adj.insert(value, seed);
        }
        self.block(&self.primal.body)?;
        Ok(inputs
            .iter()
            .map(|input| match self.adj.get(input) {
                Some(adjoint) => *adjoint,
                None => self.b.zeros(&adjoint_type(self.primal.ty(*input))),
            })
            .collect())
    }

    /// The output function's value for a primal value.
    fn val(&self, v: Value) -> Value {
        *self.rename.get(&v).unwrap_or(&v)
    }

    fn ty(&self, v: Value) -> Type {
        self.primal.ty(v).clone()
    }

    fn active(&self, v: Value) -> bool {
        self.activity.is_active(v) && self.primal.ty(v).is_differentiable()
    }

    /// `adj[v] += c`.
    fn add(&mut self, v: Value, c: Value) -> Result<()> {
        if !self.active(v) {
            return Ok(());
        }
        let sum = match self.adj.get(&v).copied() {
            None => c,
            Some(old) => match self.b.f.ty(old).clone() {
                Type::Scalar => self.b.add(old, c),
                ty @ Type::Array(..) if ty.element() == Some(Type::Scalar) => {
                    let one = self.b.lit(1.0);
                    self.b.push1(Op::Axpy(Path(Vec::new())), vec![old, one, c], ty)
                }
                _ => return unsupported("adding adjoints of nested arrays"),
            },
        };
        self.adj.insert(v, sum);
        Ok(())
    }

    /// `adj[v] -= c` (scalars).
    fn sub(&mut self, v: Value, c: Value) -> Result<()> {
        if !self.active(v) {
            return Ok(());
        }
        let difference = match self.adj.get(&v).copied() {
            None => self.b.neg(c),
            Some(old) => self.b.sub(old, c),
        };
        self.adj.insert(v, difference);
        Ok(())
    }

    /// `adj[v]`, made zero first if there is none yet.
    fn adjoint_or_zero(&mut self, v: Value) -> Value {
        match self.adj.get(&v) {
            Some(a) => *a,
            None => {
                let zero = self.b.zeros(&adjoint_type(&self.ty(v)));
                self.adj.insert(v, zero);
                zero
            }
        }
    }

    fn block(&mut self, block: &Block) -> Result<()> {
        for inst in block.insts.iter().rev() {
            self.b.span = inst.span;
            match &inst.op {
                Op::If { then, otherwise } => self.branch(inst, then, otherwise)?,
                Op::For { .. } => self.for_loop(inst)?,
                Op::While { .. } => {
                    if inst.results.iter().any(|r| self.adj.contains_key(r)) {
                        return unsupported(
                            "a `while` or `loop` that carries differentiated values (its tape would have a length known only when it runs)",
                        );
                    }
                }
                _ => {
                    // A literal zero adjoint is a structural zero (an output the sweep is not
                    // for): nothing flows back from it, as forward mode adds no term for it,
                    // so an infinite partial elsewhere cannot make it NaN.
                    let adjoints: Vec<Option<Value>> = inst
                        .results
                        .iter()
                        .map(|r| self.adj.remove(r).filter(|a| self.b.literal_of(*a) != Some(0.0)))
                        .collect();
                    if adjoints.iter().any(Option::is_some) {
                        self.rule(inst, &adjoints)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// `product` (`ȳ` times a partial), or zero where `ȳ` is zero at run time: a value no
    /// output depends on (an untaken branch's, `if r < ε { 0 } else { x / r }`) gives its
    /// operands nothing, even where its partial is infinite (√ at 0, ln at 0, x/0), as in
    /// forward mode.
    fn unless_zero(&mut self, ybar: Value, product: Value) -> Value {
        if self.b.literal_of(ybar).is_some() {
            return product;
        }
        let h0 = crate::ir::Code::hole(0);
        let zero_adjoint = self.b.code(quote!(#h0 == 0.0), vec![ybar]);
        let zero = self.b.lit(0.0);
        self.b.select(zero_adjoint, zero, product)
    }

    /// The adjoints of a straight-line instruction's operands from those of its results.
    fn rule(&mut self, inst: &Inst, adjoints: &[Option<Value>]) -> Result<()> {
        let args = &inst.args;
        let Some(ybar) = adjoints[0].or(adjoints.get(1).copied().flatten()) else { return Ok(()) };
        match &inst.op {
            Op::Literal(_) | Op::Constant(_) | Op::Code(_) | Op::FromInt => {}
            Op::Neg => self.sub(args[0], ybar)?,
            Op::Add => {
                self.add(args[0], ybar)?;
                self.add(args[1], ybar)?;
            }
            Op::Sub => {
                self.add(args[0], ybar)?;
                self.sub(args[1], ybar)?;
            }
            Op::Mul => {
                if self.active(args[0]) {
                    let c = self.b.mul(ybar, self.val(args[1]));
                    self.add(args[0], c)?;
                }
                if self.active(args[1]) {
                    let c = self.b.mul(self.val(args[0]), ybar);
                    self.add(args[1], c)?;
                }
            }
            // a/b: ā += ȳ/b, b̄ −= (ȳ/b)·(a/b).
            Op::Div => {
                let quotient = self.b.div(ybar, self.val(args[1]));
                let r = self.unless_zero(ybar, quotient);
                self.add(args[0], r)?;
                if self.active(args[1]) {
                    let q = self.b.mul(r, self.val(inst.results[0]));
                    self.sub(args[1], q)?;
                }
            }
            Op::Call(method) => {
                let operands: Vec<Value> = args.iter().map(|a| self.val(*a)).collect();
                let ans = self.val(inst.results[0]);
                let partials = crate::rules::partials(method, &operands, ans, &mut self.b);
                for (arg, partial) in args.iter().zip(partials) {
                    if let (Some(partial), true) = (partial, self.active(*arg)) {
                        let product = self.b.mul(ybar, partial);
                        // (`powi` with a literal exponent of at least 1 has a finite partial.)
                        let positive_power = *method == "powi"
                            && self
                                .b
                                .code_of(operands[1])
                                .is_some_and(|n| n.to_string().parse::<i32>().is_ok_and(|n| n >= 1));
                        let c = if SINGULAR.contains(method) && !positive_power {
                            self.unless_zero(ybar, product)
                        } else {
                            product
                        };
                        self.add(*arg, c)?;
                    }
                }
            }
            // (s, c) = sin_cos(a): ā += s̄·c − c̄·s.
            Op::SinCos => {
                let (s, c) = (self.val(inst.results[0]), self.val(inst.results[1]));
                let mut sum = None;
                if let Some(sbar) = adjoints[0] {
                    sum = Some(self.b.mul(sbar, c));
                }
                if let Some(cbar) = adjoints[1] {
                    let t = self.b.mul(cbar, s);
                    sum = Some(match sum {
                        Some(a) => self.b.sub(a, t),
                        None => self.b.neg(t),
                    });
                }
                if let Some(sum) = sum {
                    self.add(args[0], sum)?;
                }
            }
            Op::Select => {
                let condition = self.val(args[0]);
                let zero = self.b.lit(0.0);
                if self.active(args[1]) {
                    let c = self.b.select(condition, ybar, zero);
                    self.add(args[1], c)?;
                }
                if self.active(args[2]) {
                    let c = self.b.select(condition, zero, ybar);
                    self.add(args[2], c)?;
                }
            }
            Op::Build => {
                if !matches!(self.ty(inst.results[0]), Type::Array(..)) {
                    return unsupported("building a vector or matrix");
                }
                for (k, arg) in args.iter().enumerate() {
                    if self.active(*arg) {
                        let part = self.b.get(ybar, Path(vec![Position::Const(k)]), Vec::new());
                        self.add(*arg, part)?;
                    }
                }
            }
            Op::Splat => {
                if self.active(args[0]) {
                    let Some(n) = self.ty(inst.results[0]).components().and_then(|n| n.lit()) else {
                        return unsupported("a repeated differentiated value of symbolic length");
                    };
                    if self.ty(args[0]) != Type::Scalar {
                        return unsupported("repeating an array");
                    }
                    for k in 0..n {
                        let part = self.b.get(ybar, Path(vec![Position::Const(k)]), Vec::new());
                        self.add(args[0], part)?;
                    }
                }
            }
            Op::Get(path) => {
                let aggregate = args[0];
                if self.active(aggregate) {
                    let indices: Vec<Value> = args[1..].iter().map(|a| self.val(*a)).collect();
                    let acc = self.adjoint_or_zero(aggregate);
                    let updated = match self.ty(inst.results[0]) {
                        Type::Scalar => self.b.update(Op::Accumulate(path.clone()), acc, ybar, indices),
                        ty @ Type::Array(..) if ty.element() == Some(Type::Scalar) => {
                            let one = self.b.lit(1.0);
                            let mut operands = vec![acc, one, ybar];
                            operands.extend(indices);
                            self.b.push1(Op::Axpy(path.clone()), operands, self.ty(aggregate))
                        }
                        _ => return unsupported("reading a nested array"),
                    };
                    self.adj.insert(aggregate, updated);
                }
            }
            Op::Set(path) => {
                let (aggregate, value) = (args[0], args[1]);
                let indices: Vec<Value> = args[2..].iter().map(|a| self.val(*a)).collect();
                if self.active(value) {
                    let part = self.b.get(ybar, path.clone(), indices.clone());
                    self.add(value, part)?;
                }
                if self.active(aggregate) {
                    let zero = self.b.zeros(&self.ty(value));
                    let cleared = self.b.update(Op::Set(path.clone()), ybar, zero, indices);
                    self.add(aggregate, cleared)?;
                }
            }
            // A flattened vector or matrix: its adjoint is already flat.
            Op::Convert => self.add(args[0], ybar)?,
            Op::Accumulate(path) => {
                let (aggregate, value) = (args[0], args[1]);
                if self.active(value) {
                    let indices: Vec<Value> = args[2..].iter().map(|a| self.val(*a)).collect();
                    let part = self.b.get(ybar, path.clone(), indices);
                    self.add(value, part)?;
                }
                self.add(aggregate, ybar)?;
            }
            // A call of another `#[jacobian]` function: argument `k`'s adjoint gains the
            // callee's block transposed times the value's adjoint.
            Op::Chain { blocks } => {
                let parts = self.val(args[0]);
                let result = inst.results[0];
                let Some(m) = self.ty(result).components().and_then(|n| n.lit()) else {
                    return unsupported("a call whose result has a symbolic size");
                };
                let ybars: Vec<Value> = match self.ty(result) {
                    Type::Scalar => vec![ybar],
                    _ => {
                        (0..m).map(|i| self.b.get(ybar, Path(vec![Position::Const(i)]), Vec::new())).collect()
                    }
                };
                for (k, field) in blocks.iter().enumerate() {
                    let arg = args[1 + k];
                    if !self.active(arg) {
                        continue;
                    }
                    let ty = self.ty(arg);
                    let Some(n) = ty.components().and_then(|n| n.lit()) else {
                        return unsupported("a call with an argument of symbolic size");
                    };
                    let mut elems = Vec::with_capacity(n);
                    for l in 0..n {
                        let mut sum: Option<Value> = None;
                        for (i, ybar) in ybars.iter().enumerate() {
                            let coef = crate::rules::chain_partial(parts, *field, i, l, &mut self.b);
                            let term = self.b.mul(*ybar, coef);
                            sum = Some(match sum {
                                Some(s) => self.b.add(s, term),
                                None => term,
                            });
                        }
                        elems.push(sum.unwrap_or_else(|| self.b.lit(0.0)));
                    }
                    let adjoint = match &ty {
                        Type::Scalar => elems[0],
                        Type::Array(elem, _) if **elem == Type::Scalar => {
                            self.b.push1(Op::Build, elems, ty.clone())
                        }
                        _ => return unsupported("a call with an argument of this type"),
                    };
                    self.add(arg, adjoint)?;
                }
            }
            _ => return unsupported("this operation"),
        }
        Ok(())
    }

    /// Copies of `block`'s instructions whose values are known here, under fresh ids.
    fn recompute(&mut self, block: &Block) {
        for inst in &block.insts {
            self.copy(inst);
        }
    }

    /// A copy of `inst` with fresh results (those not `unknown`; none at all if every
    /// result is).
    fn copy(&mut self, inst: &Inst) {
        let keep: Vec<usize> =
            (0..inst.results.len()).filter(|k| !self.unknown.contains(&inst.results[*k])).collect();
        if keep.is_empty() && !inst.results.is_empty() {
            return;
        }
        let results: Vec<Value> = keep
            .iter()
            .map(|k| {
                let old = inst.results[*k];
                let data = self.primal.values[old.0 as usize].clone();
                let new = self.b.f.value(data.ty, data.name);
                self.rename.insert(old, new);
                new
            })
            .collect();
        let mut args: Vec<Value> = inst.args.iter().map(|a| self.val(*a)).collect();
        let op = match &inst.op {
            Op::If { then, otherwise } => {
                let then = self.copy_block(then, &keep, None);
                let otherwise = self.copy_block(otherwise, &keep, None);
                Op::If { then, otherwise }
            }
            Op::For { pattern, range, holes, body } => {
                args = args[..*holes].iter().copied().chain(keep.iter().map(|k| args[holes + k])).collect();
                let body = self.copy_block(body, &keep, Some(&keep));
                Op::For { pattern: pattern.clone(), range: range.clone(), holes: *holes, body }
            }
            Op::While { cond, body } => {
                // (`unknown` never reaches a `while`: the loop check refuses it.)
                let all: Vec<usize> = (0..inst.args.len()).collect();
                let mut cond_keep = vec![0];
                cond_keep.extend(all.iter().map(|k| k + 1));
                let cond = self.copy_block(cond, &cond_keep, Some(&all));
                let body = self.copy_block(body, &all, Some(&all));
                Op::While { cond, body }
            }
            op => op.clone(),
        };
        let span = self.b.span;
        self.b.span = inst.span;
        self.b.push_with(op, args, results);
        self.b.span = span;
    }

    /// A copy of a nested block: the yields at `keep`, the parameters at `params`.
    fn copy_block(&mut self, block: &Block, keep: &[usize], params: Option<&[usize]>) -> Block {
        self.b.open();
        let params: Vec<Value> = match params {
            Some(which) => which
                .iter()
                .map(|k| {
                    let old = block.params[*k];
                    let data = self.primal.values[old.0 as usize].clone();
                    let new = self.b.f.value(data.ty, data.name);
                    self.rename.insert(old, new);
                    new
                })
                .collect(),
            None => Vec::new(),
        };
        self.recompute(block);
        let yields = keep.iter().map(|k| self.val(block.yields[*k])).collect();
        self.b.close(params, yields)
    }

    /// The active values a block reads that are defined outside it, in order.
    fn touched(&self, blocks: &[&Block]) -> Vec<Value> {
        let mut used = BTreeSet::new();
        let mut defined = BTreeSet::new();
        for block in blocks {
            uses(block, &mut used, &mut defined);
        }
        used.difference(&defined).copied().filter(|v| self.active(*v)).collect()
    }

    fn branch(&mut self, inst: &Inst, then: &Block, otherwise: &Block) -> Result<()> {
        let incoming: Vec<Option<Value>> = inst.results.iter().map(|r| self.adj.remove(r)).collect();
        if incoming.iter().all(Option::is_none) {
            return Ok(());
        }
        let touched = self.touched(&[then, otherwise]);
        for v in &touched {
            self.adjoint_or_zero(*v);
        }
        let condition = self.val(inst.args[0]);
        let then = self.arm(then, &incoming, &touched)?;
        let otherwise = self.arm(otherwise, &incoming, &touched)?;
        let results: Vec<Value> = touched
            .iter()
            .map(|v| {
                let ty = self.b.f.ty(self.adj[v]).clone();
                self.b.f.value(ty, None)
            })
            .collect();
        self.b.push_with(Op::If { then, otherwise }, vec![condition], results.clone());
        for (v, result) in touched.iter().zip(results) {
            self.adj.insert(*v, result);
        }
        Ok(())
    }

    /// One arm of a reversed `if`: recompute, reverse, yield the adjoints of `touched`.
    fn arm(&mut self, block: &Block, incoming: &[Option<Value>], touched: &[Value]) -> Result<Block> {
        let (adj, rename) = (self.adj.clone(), self.rename.clone());
        self.b.open();
        self.recompute(block);
        for (y, ybar) in block.yields.iter().zip(incoming) {
            if let Some(ybar) = ybar {
                self.add(*y, *ybar)?;
            }
        }
        self.block(block)?;
        let yields = touched.iter().map(|v| self.adj[v]).collect();
        let arm = self.b.close(Vec::new(), yields);
        (self.adj, self.rename) = (adj, rename);
        Ok(arm)
    }

    fn for_loop(&mut self, inst: &Inst) -> Result<()> {
        let Op::For { pattern, range, holes, body } = &inst.op else { return Ok(()) };
        let holes = *holes;
        let inits = &inst.args[holes..];
        let incoming: Vec<Option<Value>> = inst.results.iter().map(|r| self.adj.remove(r)).collect();
        if incoming.iter().all(Option::is_none) {
            return Ok(());
        }
        let slots = inits.len();
        let (unknown, transparent, range) = match self.recomputable(body, range) {
            Ok(plan) => plan,
            Err(why) => {
                return self.taped_loop(inst, &incoming).map_err(|tape| {
                    Unsupported::here(format!(
                        "{}, {}",
                        why.what,
                        tape.what.trim_start_matches("reverse mode: ")
                    ))
                })
            }
        };
        let is_unknown = |k: usize| unknown.contains(&body.params[k]);
        let touched = self.touched(&[body]);
        for v in &touched {
            self.adjoint_or_zero(*v);
        }
        let (saved_adj, saved_rename) = (self.adj.clone(), self.rename.clone());
        let saved_unknown = std::mem::replace(&mut self.unknown, unknown.clone());

        // The reversed loop carries: the known carried values (recomputed), the adjoints of
        // the unknown ones (when the loop runs backwards), the adjoints of active carried
        // values that do not change (summed over the iterations), and the adjoints of the
        // outer values the body reads.
        let state: Vec<usize> = (0..slots).filter(|k| !is_unknown(*k)).collect();
        let backward: Vec<usize> =
            if transparent { Vec::new() } else { (0..slots).filter(|k| is_unknown(*k)).collect() };
        let invariant: Vec<usize> =
            (0..slots).filter(|k| !is_unknown(*k) && self.active(body.params[*k])).collect();
        let mut carried_init = Vec::new();
        for k in &state {
            carried_init.push(self.val(inits[*k]));
        }
        for k in &backward {
            let init = match incoming[*k] {
                Some(a) => a,
                None => self.b.zeros(&self.ty(body.params[*k])),
            };
            carried_init.push(init);
        }
        for k in &invariant {
            carried_init.push(self.b.zeros(&self.ty(body.params[*k])));
        }
        for v in &touched {
            carried_init.push(saved_adj[v]);
        }

        self.b.open();
        let fresh = |r: &mut Self, v: Value| {
            let data = r.primal.values[v.0 as usize].clone();
            r.b.f.value(data.ty, None)
        };
        let mut params = Vec::new();
        for k in &state {
            let p = fresh(self, body.params[*k]);
            self.rename.insert(body.params[*k], p);
            params.push(p);
        }
        let mut backward_params = Vec::new();
        for k in &backward {
            let p = fresh(self, body.params[*k]);
            backward_params.push(p);
            params.push(p);
        }
        let mut invariant_params = Vec::new();
        for k in &invariant {
            let p = fresh(self, body.params[*k]);
            invariant_params.push(p);
            params.push(p);
        }
        for v in &touched {
            let ty = self.b.f.ty(saved_adj[v]).clone();
            let p = self.b.f.value(ty, None);
            self.adj.insert(*v, p);
            params.push(p);
        }
        for (k, p) in invariant.iter().zip(&invariant_params) {
            self.adj.insert(body.params[*k], *p);
        }
        self.recompute(body);
        for (k, incoming) in incoming.iter().enumerate() {
            if !is_unknown(k) {
                continue;
            }
            let ybar = if transparent {
                *incoming
            } else {
                backward.iter().position(|b| *b == k).map(|i| backward_params[i])
            };
            if let Some(ybar) = ybar {
                self.add(body.yields[k], ybar)?;
            }
        }
        self.block(body)?;
        let mut yields = Vec::new();
        for k in &state {
            yields.push(self.val(body.yields[*k]));
        }
        for k in backward.iter().chain(&invariant) {
            let p = body.params[*k];
            yields.push(self.adjoint_or_zero(p));
        }
        for v in &touched {
            yields.push(self.adj[v]);
        }
        let reversed = self.b.close(params, yields);

        self.unknown = saved_unknown;
        (self.adj, self.rename) = (saved_adj, saved_rename);
        let mut args: Vec<Value> = inst.args[..holes].iter().map(|a| self.val(*a)).collect();
        args.extend(carried_init);
        let types: Vec<Type> = args[holes..].iter().map(|a| self.b.f.ty(*a).clone()).collect();
        let results =
            self.b.push(Op::For { pattern: pattern.clone(), range, holes, body: reversed }, args, &types);
        let mut results = results[state.len()..].iter().copied();
        let backward_out: Vec<Value> = results.by_ref().take(backward.len()).collect();
        let invariant_out: Vec<Value> = results.by_ref().take(invariant.len()).collect();
        for v in &touched {
            let updated = results.next().expect("one result per touched value");
            self.adj.insert(*v, updated);
        }
        for (k, out) in backward.iter().zip(backward_out) {
            self.add(inits[*k], out)?;
        }
        for (k, out) in invariant.iter().zip(invariant_out) {
            self.add(inits[*k], out)?;
            if let Some(ybar) = incoming[*k] {
                self.add(inits[*k], ybar)?;
            }
        }
        if transparent {
            for k in 0..slots {
                if let (true, Some(ybar)) = (is_unknown(k), incoming[k]) {
                    self.add(inits[k], ybar)?;
                }
            }
        }
        Ok(())
    }
}

impl Reverse<'_> {
    /// Whether a loop can be reversed by recomputing each iteration with no stored state:
    /// the values its carried state makes unknown, whether the reversed loop may run
    /// forwards, and its range.
    fn recomputable(&self, body: &Block, range: &Code) -> Result<(BTreeSet<Value>, bool, Code)> {
        let slots = body.params.len();
        // Carried values whose primal value the reversed loop cannot know: active ones that
        // change from one iteration to the next.
        let mut unknown = self.unknown.clone();
        for k in 0..slots {
            if self.active(body.params[k]) && body.yields[k] != body.params[k] {
                unknown.insert(body.params[k]);
            }
        }
        // Each carried value must reach its own next value, once: otherwise an iteration
        // does not pass its adjoint through unchanged (`m = x[i]` overwrites, and only the
        // last iteration's read gets the adjoint).
        let reaches = |k: usize| {
            let mut from = self.unknown.clone();
            from.insert(body.params[k]);
            Check { activity: &self.activity }.block(body, &mut from).is_ok()
                && from.contains(&body.yields[k])
        };
        let transparent = Check { activity: &self.activity }.block(body, &mut unknown)?
            && (0..slots).all(|k| {
                !unknown.contains(&body.params[k]) || (single_use(body, body.params[k]) && reaches(k))
            });
        if transparent {
            return Ok((unknown, true, range.clone()));
        }
        if (0..slots).any(|k| !unknown.contains(&body.params[k]) && body.yields[k] != body.params[k]) {
            return unsupported("a loop whose adjoint runs backwards while it carries other changing state");
        }
        let tokens = &range.tokens;
        match syn::parse2::<syn::Expr>(tokens.clone()) {
            Ok(syn::Expr::Range(r)) if r.start.is_some() && r.end.is_some() => {
                Ok((unknown, false, Code { tokens: quote!((#tokens).rev()) }))
            }
            _ => unsupported("a loop whose adjoint runs backwards over a range that is not `a..b`"),
        }
    }

    /// A loop whose rules need the values it carries, reversed with a tape: when its range
    /// is `a..b` (or `a..=b`) with literal bounds, a first loop stores the carried values
    /// of every iteration in an array on the stack (`[T; b − a]`), and the reversed loop
    /// runs the range backwards, reading each iteration's values back.
    fn taped_loop(&mut self, inst: &Inst, incoming: &[Option<Value>]) -> Result<()> {
        let Op::For { pattern, range, holes, body } = &inst.op else { return Ok(()) };
        let holes = *holes;
        let inits = &inst.args[holes..];
        let slots = inits.len();
        // A range, or one filtered by adapters that keep each index once (`(0..n).skip(1)`,
        // `.step_by(2)`, `.take(k)`, `.rev()`): the tape has a place per index of the range.
        let Ok(mut expr) = syn::parse2::<syn::Expr>(range.tokens.clone()) else {
            return unsupported("which cannot be taped, as it does not run over a range");
        };
        let bounds = loop {
            match expr {
                syn::Expr::Range(bounds) => break bounds,
                syn::Expr::Paren(inner) => expr = *inner.expr,
                syn::Expr::MethodCall(call)
                    if ["skip", "take", "step_by", "rev"].contains(&call.method.to_string().as_str()) =>
                {
                    expr = *call.receiver
                }
                _ => return unsupported("which cannot be taped, as it does not run over a range"),
            }
        };
        // A bound the tape's length can be written with: a literal, or a `const` item
        // (upper-case by convention; not a const-generic parameter, which stable Rust
        // does not allow in `[T; N - 1]`).
        let bound = |e: &Option<Box<syn::Expr>>| -> Option<Dim> {
            match e.as_deref()? {
                syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(i), .. }) => {
                    i.base10_parse::<usize>().ok().map(Dim::Lit)
                }
                syn::Expr::Path(p) if p.qself.is_none() => {
                    let name = p.path.segments.last()?.ident.to_string();
                    let generic = self.const_generics.contains(&name);
                    let constant =
                        name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
                    (constant || generic).then(|| Dim::Sym { tokens: p.to_token_stream(), generic })
                }
                _ => None,
            }
        };
        let (Some(start), Some(end)) = (bound(&bounds.start), bound(&bounds.end)) else {
            return unsupported("which needs a tape, and a tape needs a range whose bounds are literals or `const` items (`0..8`, `1..N`)");
        };
        let inclusive = usize::from(matches!(bounds.limits, syn::RangeLimits::Closed(_)));
        let trips = match (&start, &end) {
            (Dim::Lit(a), Dim::Lit(b)) => Dim::Lit((b + inclusive).saturating_sub(*a)),
            // A const-generic bound cannot appear in `[T; N - 1]` on stable Rust: the tape
            // has `N` places, enough for `a..N` (indexed from `a`), one spare per skipped
            // start.
            (Dim::Lit(_), end) if end.is_generic() && inclusive == 0 => end.clone(),
            _ if start.is_generic() || end.is_generic() => {
                return unsupported("which needs a tape, and a tape over a const-generic range must run `a..N` with a literal start (stable Rust cannot write `[T; N - a]` or `[T; N + 1]`)");
            }
            _ => {
                let (a, b) = (start.value(), end.value());
                let inclusive = crate::shape::unsuffixed(inclusive);
                Dim::Sym { tokens: quote!(#b + #inclusive - #a), generic: false }
            }
        };
        let pattern = match syn::parse::Parser::parse2(syn::Pat::parse_single, pattern.clone()) {
            Ok(syn::Pat::Ident(p)) if p.subpat.is_none() => p.ident.to_token_stream(),
            Ok(syn::Pat::Wild(_)) => quote!(__jacobian_step),
            _ => return unsupported("which needs a tape, and a tape needs a loop variable that is a name"),
        };
        let changing: Vec<usize> = (0..slots).filter(|k| body.yields[*k] != body.params[*k]).collect();
        let mut components = 0;
        for k in &changing {
            components +=
                // (A symbolic size, `[T; LEN]`, is the user's to keep small.)
                self.ty(body.params[*k]).components().and_then(|n| n.lit()).unwrap_or(1);
        }
        if components.saturating_mul(trips.lit().unwrap_or(0)) > TAPE_LIMIT {
            return unsupported("whose tape would not fit on the stack");
        }
        let mut reads = BTreeSet::new();
        uses(body, &mut reads, &mut BTreeSet::new());
        if reads.iter().chain(inits).any(|v| self.unknown.contains(v)) {
            return unsupported("which needs a tape, inside a loop whose carried values are not kept");
        }
        let start_tokens = start.value();
        let step = quote!((#pattern - #start_tokens) as usize);
        // Per carried value, its tapes' types: one tape of its values, or one per component.
        let split = |ty: &Type| match ty {
            Type::Array(elem, n) if **elem == Type::Scalar => n.lit(),
            _ => None,
        };
        let tape_groups: Vec<(bool, Vec<Type>)> = changing
            .iter()
            .map(|k| {
                let ty = self.ty(body.params[*k]);
                match split(&ty).filter(|_| self.scalar_tapes) {
                    Some(n) => (true, vec![Type::array(trips.clone()); n]),
                    None => (false, vec![Type::Array(Box::new(ty), trips.clone())]),
                }
            })
            .collect();
        let tape_types: Vec<Type> = tape_groups.iter().flat_map(|(_, group)| group.clone()).collect();

        // The taping loop: the primal loop again, storing each iteration's carried values.
        let saved_rename = self.rename.clone();
        let mut init_args: Vec<Value> = inst.args[..holes].iter().map(|a| self.val(*a)).collect();
        init_args.extend(inits.iter().map(|a| self.val(*a)));
        for ty in &tape_types {
            let init = match ty {
                // Values never differentiated (the flags of `break` and `return`): a tape of
                // whatever type they have, filled with its default.
                Type::Array(elem, _) if **elem == Type::Opaque => {
                    let default = self.b.code(quote!(::core::default::Default::default()), Vec::new());
                    self.b.push1(Op::Splat, vec![default], ty.clone())
                }
                _ => self.b.zeros(ty),
            };
            init_args.push(init);
        }
        self.b.open();
        let mut params = Vec::new();
        for k in 0..slots {
            let p = self.b.f.value(self.ty(body.params[k]), None);
            self.rename.insert(body.params[k], p);
            params.push(p);
        }
        let tape_params: Vec<Value> = tape_types.iter().map(|ty| self.b.f.value(ty.clone(), None)).collect();
        params.extend(&tape_params);
        let index = self.b.code(step.clone(), Vec::new());
        let mut yields_tapes = Vec::new();
        let mut tape_params = tape_params.iter();
        for (k, (split, group)) in changing.iter().zip(&tape_groups) {
            let value = self.val(body.params[*k]);
            for c in 0..group.len() {
                let tape = *tape_params.next().expect("a tape per group member");
                let element = match split {
                    true => self.b.get(value, Path(vec![Position::Const(c)]), Vec::new()),
                    false => value,
                };
                yields_tapes.push(self.b.update(
                    Op::Set(Path(vec![Position::Dynamic])),
                    tape,
                    element,
                    vec![index],
                ));
            }
        }
        self.recompute(body);
        let mut yields: Vec<Value> = body.yields.iter().map(|y| self.val(*y)).collect();
        yields.extend(yields_tapes);
        let taping = self.b.close(params, yields);
        let types: Vec<Type> = init_args[holes..].iter().map(|a| self.b.f.ty(*a).clone()).collect();
        let results = self.b.push(
            Op::For { pattern: pattern.clone(), range: range.clone(), holes, body: taping },
            init_args,
            &types,
        );
        let tapes: Vec<Value> = results[slots..].to_vec();
        self.rename = saved_rename;

        // The reversed loop.
        let active_changing: Vec<usize> =
            changing.iter().copied().filter(|k| self.active(body.params[*k])).collect();
        let invariant: Vec<usize> =
            (0..slots).filter(|k| !changing.contains(k) && self.active(body.params[*k])).collect();
        let touched = self.touched(&[body]);
        for v in &touched {
            self.adjoint_or_zero(*v);
        }
        let (saved_adj, saved_rename) = (self.adj.clone(), self.rename.clone());
        let mut carried_init = Vec::new();
        for k in &active_changing {
            carried_init.push(match incoming[*k] {
                Some(a) => a,
                None => self.b.zeros(&self.ty(body.params[*k])),
            });
        }
        for k in &invariant {
            carried_init.push(self.b.zeros(&self.ty(body.params[*k])));
        }
        for v in &touched {
            carried_init.push(saved_adj[v]);
        }
        self.b.open();
        let mut params = Vec::new();
        for value in &carried_init {
            let ty = self.b.f.ty(*value).clone();
            params.push(self.b.f.value(ty, None));
        }
        let index = self.b.code(step, Vec::new());
        let mut tapes = tapes.iter();
        for (k, (split, group)) in changing.iter().zip(&tape_groups) {
            let ty = self.ty(body.params[*k]);
            let mut elements = Vec::new();
            for _ in group {
                let tape = *tapes.next().expect("a tape per group member");
                elements.push(self.b.get(tape, Path(vec![Position::Dynamic]), vec![index]));
            }
            let value = match (split, elements.as_slice()) {
                (false, [one]) => *one,
                _ => self.b.push1(Op::Build, elements, ty),
            };
            self.rename.insert(body.params[*k], value);
        }
        for (k, init) in inits.iter().enumerate() {
            if !changing.contains(&k) {
                let init = self.val(*init);
                self.rename.insert(body.params[k], init);
            }
        }
        let (backward_params, rest) = params.split_at(active_changing.len());
        let (invariant_params, touched_params) = rest.split_at(invariant.len());
        for (v, p) in touched.iter().zip(touched_params) {
            self.adj.insert(*v, *p);
        }
        for (k, p) in invariant.iter().zip(invariant_params) {
            self.adj.insert(body.params[*k], *p);
        }
        self.recompute(body);
        for (k, p) in active_changing.iter().zip(backward_params) {
            self.add(body.yields[*k], *p)?;
        }
        self.block(body)?;
        let mut yields = Vec::new();
        for k in active_changing.iter().chain(&invariant) {
            yields.push(self.adjoint_or_zero(body.params[*k]));
        }
        for v in &touched {
            yields.push(self.adj[v]);
        }
        let reversed = self.b.close(params, yields);
        (self.adj, self.rename) = (saved_adj, saved_rename);
        let range_tokens = &range.tokens;
        let mut args: Vec<Value> = inst.args[..holes].iter().map(|a| self.val(*a)).collect();
        args.extend(carried_init);
        let types: Vec<Type> = args[holes..].iter().map(|a| self.b.f.ty(*a).clone()).collect();
        let results = self.b.push(
            Op::For { pattern, range: Code { tokens: quote!((#range_tokens).rev()) }, holes, body: reversed },
            args,
            &types,
        );
        let mut results = results.into_iter();
        let backward_out: Vec<Value> = results.by_ref().take(active_changing.len()).collect();
        let invariant_out: Vec<Value> = results.by_ref().take(invariant.len()).collect();
        for v in &touched {
            let updated = results.next().expect("one result per touched value");
            self.adj.insert(*v, updated);
        }
        for (k, out) in active_changing.iter().zip(backward_out) {
            self.add(inits[*k], out)?;
        }
        for (k, out) in invariant.iter().zip(invariant_out) {
            self.add(inits[*k], out)?;
            if let Some(ybar) = incoming[*k] {
                self.add(inits[*k], ybar)?;
            }
        }
        Ok(())
    }
}

/// The most scalar components a loop's tape may hold (128 KiB of `f64` on the stack).
const TAPE_LIMIT: usize = 16 * 1024;

/// The type of a value's adjoint: a vector or matrix (a parameter or result of a flattened
/// function) has a flat array of components.
fn adjoint_type(ty: &Type) -> Type {
    match ty {
        Type::Vector(n) => Type::array(n.clone()),
        Type::Matrix(r, c) => Type::array(r.mul(c)),
        Type::Tuple(_) => Type::array(ty.components().unwrap_or(Dim::Lit(0))),
        Type::Array(elem, _) if matches!(&**elem, Type::Array(..)) => {
            Type::array(ty.components().unwrap_or(Dim::Lit(0)))
        }
        ty => ty.clone(),
    }
}

/// Collects the values a block (and the blocks inside it) uses and defines.
fn uses(block: &Block, used: &mut BTreeSet<Value>, defined: &mut BTreeSet<Value>) {
    defined.extend(&block.params);
    for inst in &block.insts {
        used.extend(&inst.args);
        defined.extend(&inst.results);
        for nested in inst.blocks() {
            uses(nested, used, defined);
        }
    }
    used.extend(&block.yields);
}

/// Whether `v` is used exactly once in `block`: by one instruction or yield, counting an `if`
/// whose arms each use it once as one use, and a use inside a loop as many.
fn single_use(block: &Block, v: Value) -> bool {
    fn count(block: &Block, v: Value) -> usize {
        let mut n = block.yields.iter().filter(|y| **y == v).count();
        for inst in &block.insts {
            n += inst.args.iter().filter(|a| **a == v).count();
            match &inst.op {
                Op::If { then, otherwise } => n += count(then, v).max(count(otherwise, v)),
                _ => {
                    for nested in inst.blocks() {
                        n += 2 * count(nested, v);
                    }
                }
            }
        }
        n
    }
    count(block, v) == 1
}

/// Which values of a loop body depend on what the loop carries (`unknown`), and whether
/// every rule that meets them can do without their primal value.
struct Check<'a> {
    activity: &'a Activity,
}

impl Check<'_> {
    /// Extends `unknown` through `block`; `Ok(true)` when every operation on an unknown
    /// value passes its adjoint through unchanged (the reversed loop may run forwards).
    fn block(&self, block: &Block, unknown: &mut BTreeSet<Value>) -> Result<bool> {
        let mut transparent = true;
        for inst in &block.insts {
            let u: Vec<bool> = inst.args.iter().map(|a| unknown.contains(a)).collect();
            let nested_reads = inst.blocks().iter().any(|b| {
                let (mut used, mut defined) = (BTreeSet::new(), BTreeSet::new());
                uses(b, &mut used, &mut defined);
                used.iter().any(|v| unknown.contains(v) && !defined.contains(v))
            });
            if !u.contains(&true) && !nested_reads {
                continue;
            }
            let active = |k: usize| self.activity.is_active(inst.args[k]);
            let index_unknown = |from: usize| u[from..].contains(&true);
            match &inst.op {
                Op::Add => transparent &= !(u[0] && u[1]),
                Op::Sub => transparent &= !u[1],
                Op::Neg => transparent = false,
                Op::Mul => {
                    let other = if u[0] { 1 } else { 0 };
                    if u[other] || active(other) {
                        return unsupported(
                            "a loop that multiplies what it carries by a differentiated value",
                        );
                    }
                    transparent = false;
                }
                Op::Div => {
                    if u[1] || active(1) {
                        return unsupported("a loop that divides what it carries by a differentiated value");
                    }
                    transparent = false;
                }
                Op::Get(_) if !index_unknown(1) => transparent = false,
                Op::Set(_) if !index_unknown(2) => transparent = false,
                Op::Accumulate(_) if !index_unknown(2) => transparent &= !u[1],
                Op::Build => transparent = false,
                Op::Select if !u[0] => transparent = false,
                Op::If { then, otherwise } if !u[0] => {
                    transparent &= self.block(then, unknown)?;
                    transparent &= self.block(otherwise, unknown)?;
                    for (k, result) in inst.results.iter().enumerate() {
                        let (a, b) =
                            (unknown.contains(&then.yields[k]), unknown.contains(&otherwise.yields[k]));
                        if a || b {
                            unknown.insert(*result);
                        }
                        // (One arm overwrites what the other passes on: the adjoint passes
                        // through only when the other is taken.)
                        if a != b {
                            transparent = false;
                        }
                    }
                    continue;
                }
                Op::For { holes, body, .. } if !u[..*holes].contains(&true) => {
                    // A carried value the body overwrites (`m = …` whatever `m` was) reaches
                    // the loop's result only if the loop runs no iteration: its adjoint
                    // does not pass through unchanged.
                    for (k, init) in inst.args[*holes..].iter().enumerate() {
                        if !unknown.contains(init) || body.yields[k] == body.params[k] {
                            continue;
                        }
                        let mut own = unknown.clone();
                        own.insert(body.params[k]);
                        self.block(body, &mut own)?;
                        if !own.contains(&body.yields[k]) {
                            transparent = false;
                        }
                    }
                    for (k, init) in inst.args[*holes..].iter().enumerate() {
                        if unknown.contains(init) {
                            unknown.insert(body.params[k]);
                        }
                    }
                    loop {
                        transparent &= self.block(body, unknown)?;
                        let mut grew = false;
                        for (k, next) in body.yields.iter().enumerate() {
                            if unknown.contains(next) && unknown.insert(body.params[k]) {
                                grew = true;
                            }
                        }
                        if !grew {
                            break;
                        }
                    }
                    for (k, result) in inst.results.iter().enumerate() {
                        if unknown.contains(&body.params[k]) {
                            unknown.insert(*result);
                        }
                    }
                    continue;
                }
                _ => return unsupported("a loop whose derivative needs the values it carries"),
            }
            unknown.extend(&inst.results);
        }
        Ok(transparent)
    }
}

/// The check that recomputing a region gives the values it had: user code that changes a
/// variable (`k += 1`) must declare it in the innermost reversed region around it, and no
/// such change may come after a reversed region (which would then read its later value).
struct Effects<'a> {
    activity: &'a Activity,
    failed: bool,
}

#[derive(Clone, Default)]
struct Context {
    /// Variables declared by user code in the innermost active region (or at the top).
    declared: BTreeSet<String>,
    in_region: bool,
    /// An active region has come before, in program order.
    after: bool,
}

impl Effects<'_> {
    fn ok(activity: &Activity, body: &Block) -> bool {
        let mut effects = Effects { activity, failed: false };
        effects.check(body, &mut Context::default());
        !effects.failed
    }

    fn check(&mut self, block: &Block, context: &mut Context) {
        for inst in &block.insts {
            match &inst.op {
                Op::Code(code) if inst.results.is_empty() => self.statement(&code.tokens, context),
                Op::If { .. } | Op::For { .. } | Op::While { .. } => {
                    let active = inst.results.iter().any(|r| self.activity.is_active(*r));
                    for nested in inst.blocks() {
                        let mut inner = if active {
                            Context { declared: BTreeSet::new(), in_region: true, after: false }
                        } else {
                            context.clone()
                        };
                        self.check(nested, &mut inner);
                        if !active {
                            context.after |= inner.after;
                        }
                    }
                    context.after |= active;
                }
                _ => {}
            }
        }
    }

    fn statement(&mut self, tokens: &TokenStream, context: &mut Context) {
        match syn::parse2::<syn::Stmt>(tokens.clone()) {
            Ok(syn::Stmt::Local(local)) => {
                let mut names = BTreeSet::new();
                pattern_names(&local.pat, &mut names);
                context.declared.extend(names);
            }
            Ok(syn::Stmt::Item(_)) => {}
            Ok(syn::Stmt::Expr(expr, _)) => match (assigned(&expr), outer_writes(&expr)) {
                (Some(name), _) => {
                    if context.after || (context.in_region && !context.declared.contains(&name)) {
                        self.failed = true;
                    }
                }
                // A loop or branch of the user's code alone (`loop { k += 1; if k > 2 {
                // break; } }`): its assignments to variables it does not declare.
                (None, Some(outer)) => {
                    if (context.after && !outer.is_empty())
                        || (context.in_region && !outer.iter().all(|name| context.declared.contains(name)))
                    {
                        self.failed = true;
                    }
                }
                (None, None) => {
                    if context.after || context.in_region {
                        self.failed = true;
                    }
                }
            },
            _ => {
                if context.after || context.in_region {
                    self.failed = true;
                }
            }
        }
    }
}

/// The variables a loop or branch of the user's code assigns without declaring them
/// inside (`None` for other code).
fn outer_writes(expr: &syn::Expr) -> Option<BTreeSet<String>> {
    use syn::visit::Visit;
    #[derive(Default)]
    struct Writes {
        assigned: BTreeSet<String>,
        declared: BTreeSet<String>,
    }
    impl<'ast> Visit<'ast> for Writes {
        fn visit_expr(&mut self, e: &'ast syn::Expr) {
            if let Some(name) = assigned(e) {
                self.assigned.insert(name);
            }
            syn::visit::visit_expr(self, e);
        }
        fn visit_local(&mut self, local: &'ast syn::Local) {
            pattern_names(&local.pat, &mut self.declared);
            syn::visit::visit_local(self, local);
        }
        fn visit_expr_for_loop(&mut self, f: &'ast syn::ExprForLoop) {
            pattern_names(&f.pat, &mut self.declared);
            syn::visit::visit_expr_for_loop(self, f);
        }
    }
    if !matches!(
        expr,
        syn::Expr::While(_)
            | syn::Expr::Loop(_)
            | syn::Expr::ForLoop(_)
            | syn::Expr::If(_)
            | syn::Expr::Block(_)
    ) {
        return None;
    }
    let mut writes = Writes::default();
    writes.visit_expr(expr);
    Some(writes.assigned.difference(&writes.declared).cloned().collect())
}

fn pattern_names(pat: &syn::Pat, out: &mut BTreeSet<String>) {
    match pat {
        syn::Pat::Ident(p) => {
            out.insert(p.ident.to_string());
        }
        syn::Pat::Type(p) => pattern_names(&p.pat, out),
        syn::Pat::Tuple(p) => p.elems.iter().for_each(|p| pattern_names(p, out)),
        syn::Pat::Slice(p) => p.elems.iter().for_each(|p| pattern_names(p, out)),
        _ => {}
    }
}

/// The variable an assignment statement (`k = …`, `k += …`, `a[i] -= …`) changes.
fn assigned(expr: &syn::Expr) -> Option<String> {
    let target = match expr {
        syn::Expr::Assign(a) => &*a.left,
        syn::Expr::Binary(b) if crate::front::is_compound_assign(&b.op) => &*b.left,
        _ => return None,
    };
    let mut target = target;
    loop {
        target = match target {
            syn::Expr::Index(i) => &i.expr,
            syn::Expr::Field(f) => &f.base,
            syn::Expr::Paren(p) => &p.expr,
            syn::Expr::Path(p) => return p.path.get_ident().map(ToString::to_string),
            _ => return None,
        };
    }
}
