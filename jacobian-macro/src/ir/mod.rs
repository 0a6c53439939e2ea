//! Owns the typed intermediate representation every stage after the front end works on:
//! SSA values with types, instructions with spans, and structured control flow (regions for
//! `if` and loops, with loop-carried values as block parameters, as MLIR's `scf.for`).
//!
//! A [`Function`] is a tree of [`Block`]s. A block has parameters (the values a loop carries
//! into an iteration), instructions, and the values it yields (an `if` arm's result, a loop
//! body's carried values for the next iteration). A value is defined exactly once, by a
//! block parameter or an instruction result, and may be used by any instruction after its
//! definition in the same block or in blocks nested inside it (`verify` checks this).
//!
//! Code that is never differentiated (integer arithmetic, conditions, loop bounds, calls of
//! plain functions) is carried as [`Code`]: the user's tokens, with every SSA value it reads
//! replaced by a numbered hole. Nothing after the front end looks inside it, except to print
//! it with the holes filled.

pub mod build;
pub mod print;
pub mod verify;

use proc_macro2::{Span, TokenStream};

use crate::shape::Dim;

/// An SSA value: an index into [`Function::values`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Value(pub u32);

/// What a value is.
#[derive(Clone, Debug, PartialEq)]
pub enum Type {
    /// The function's scalar type (`f64`, `f32` or a generic `T: Real`).
    Scalar,
    /// `[E; n]`.
    Array(Box<Type>, Dim),
    /// `Vector<n, T>`, the column `Matrix<n, 1, T>`.
    Vector(Dim),
    /// `Matrix<r, c, T>`, components numbered row-major.
    Matrix(Dim, Dim),
    /// `(A, B, …)`.
    Tuple(Vec<Type>),
    /// Anything never differentiated: integers, booleans, references to constants, user
    /// types. Its Rust type is whatever the user's code says.
    Opaque,
}

impl Type {
    /// `[T; n]`.
    pub fn array(len: Dim) -> Type {
        Type::Array(Box::new(Type::Scalar), len)
    }

    /// The number of scalar components, for the types that hold scalars.
    pub fn components(&self) -> Option<Dim> {
        match self {
            Type::Scalar => Some(Dim::Lit(1)),
            Type::Array(elem, len) => Some(elem.components()?.mul(len)),
            Type::Vector(n) => Some(n.clone()),
            Type::Matrix(r, c) => Some(r.mul(c)),
            Type::Tuple(items) => {
                items.iter().try_fold(Dim::Lit(0), |sum, t| Some(sum.add(&t.components()?)))
            }
            Type::Opaque => None,
        }
    }

    /// The type of one element when indexed (`a[i]`, `v[i]`, `m[(i, j)]`).
    pub fn element(&self) -> Option<Type> {
        match self {
            Type::Array(elem, _) => Some((**elem).clone()),
            Type::Vector(_) | Type::Matrix(..) => Some(Type::Scalar),
            _ => None,
        }
    }

    /// Can carry a derivative.
    pub fn is_differentiable(&self) -> bool {
        self.components().is_some()
    }
}

/// The user's code for something never differentiated, with the SSA values it reads as
/// holes: the identifier `__jacobian_hole_{k}` stands for `args[k]` of its instruction.
#[derive(Clone, Debug)]
pub struct Code {
    pub tokens: TokenStream,
}

impl Code {
    pub const HOLE: &'static str = "__jacobian_hole_";

    pub fn hole(k: usize) -> proc_macro2::Ident {
        proc_macro2::Ident::new(&format!("{}{k}", Code::HOLE), Span::call_site())
    }

    /// The hole number of an identifier, if it is one.
    pub fn hole_number(ident: &proc_macro2::Ident) -> Option<usize> {
        ident.to_string().strip_prefix(Code::HOLE)?.parse().ok()
    }
}

/// A float method with a derivative rule (see `rules`), by name: `sin`, `powi`, `atan2`…
pub type Method = &'static str;

/// One step into an aggregate: a position known now, or a run-time one taken from the
/// instruction's next index argument (an `Opaque` `usize`).
#[derive(Clone, Debug, PartialEq)]
pub enum Position {
    Const(usize),
    Dynamic,
}

/// Where an element is: one position per level (`a[i]`, `rows[i][k]`), two for a matrix
/// entry (`m[(i, j)]`). Run-time positions read the instruction's arguments after its
/// operands, in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Path(pub Vec<Position>);

impl Path {
    /// The positions, where all are known now (`[0, 2]`); `None` for a run-time one.
    pub fn constant(&self) -> Option<Vec<usize>> {
        self.0
            .iter()
            .map(|p| match p {
                Position::Const(k) => Some(*k),
                Position::Dynamic => None,
            })
            .collect()
    }

    /// The number of run-time index arguments.
    pub fn dynamic_count(&self) -> usize {
        self.0.iter().filter(|p| **p == Position::Dynamic).count()
    }

    /// The type reached from `ty` along the path, if the path fits it.
    pub fn walk(&self, ty: &Type) -> Option<Type> {
        let mut ty = ty.clone();
        let mut steps = self.0.iter();
        while let Some(step) = steps.next() {
            let in_range = |n: &Dim| match (step, n.lit()) {
                (Position::Const(k), Some(n)) => *k < n,
                _ => true,
            };
            ty = match &ty {
                Type::Array(elem, n) if in_range(n) => (**elem).clone(),
                Type::Vector(n) if in_range(n) => Type::Scalar,
                Type::Matrix(r, c) if in_range(r) => {
                    let column = steps.next()?;
                    match (column, c.lit()) {
                        (Position::Const(k), Some(c)) if *k >= c => return None,
                        _ => Type::Scalar,
                    }
                }
                _ => return None,
            };
        }
        Some(ty)
    }
}

#[derive(Clone, Debug)]
pub enum Op {
    /// A literal of the scalar type.
    Literal(f64),
    Neg,
    Add,
    Sub,
    Mul,
    Div,
    /// `args[0].method(args[1..])`; a `powi` exponent is an `Opaque` argument.
    Call(Method),
    /// `args[0].sin_cos()`: two results, the sine and the cosine.
    SinCos,
    /// `if args[0] { args[1] } else { args[2] }` on scalars, the condition `Opaque`: a
    /// choice inside an expression (a derivative rule's case), not control flow.
    Select,
    /// A non-differentiated value converted to the scalar type (`i as f64`, a `const`
    /// item, `PI`): its result is a scalar with no derivative.
    Constant(Code),
    /// An integer (`Opaque`, `i32`) as the scalar type, without derivative.
    FromInt,
    /// Non-differentiated code reading `args` (conditions, indices, bounds): one `Opaque`
    /// result, or none when it is a statement run for its effects (`k += 1;`, macros).
    Code(Code),
    /// `[args…]` as an array, or a vector or matrix (`Vector::from([…])`,
    /// `Matrix::from_rows([[…], …])`) with the components row-major.
    Build,
    /// `[args[0]; n]`, the length from the result type; the zero matrix when the result
    /// is a matrix and `args[0]` a literal zero.
    Splat,
    /// `args[0]` at the path (run-time indices are `args[1..]`).
    Get(Path),
    /// `args[0]` with the element at the path (run-time indices are `args[2..]`) replaced
    /// by `args[1]`: element assignment as a new value (the emitter writes it in place when
    /// the old one is dead).
    Set(Path),
    /// `args[0]` with `args[1]` added to the scalar at the path (indices `args[2..]`).
    Accumulate(Path),
    /// `args[0]` with `args[1] · args[2]` added, elementwise, to the array of scalars at
    /// the path (a row of derivatives; the whole of `args[0]` for the empty path; run-time
    /// indices are `args[3..]`).
    Axpy(Path),
    /// `args[0] · args[1]`: a scalar times an array of scalars (a row of derivatives).
    Scale,
    /// Adds `args[1]` (`[[T; n]; m]`) into the columns `offset..offset + n` of the matrix
    /// `args[0]` (`Matrix<m, _>`).
    AddBlock {
        offset: Dim,
    },
    /// Adds the diagonal `args[1]` (`[T; m]`) into the matrix `args[0]` (`Matrix<m, _>`, or
    /// a held block `[[T; n]; m]`):
    /// entry `(r, offset + r + shift)` gets `args[1][r]` wherever `0 ≤ r + shift < width`
    /// (one diagonal of a banded block, `forward::Band`).
    AddBand {
        offset: Dim,
        width: Dim,
        shift: i64,
        /// Added transposed: entry `(offset + r + shift, r)` (the mirror image of the band
        /// above the diagonal of a Hessian, `symmetric`).
        transposed: bool,
    },
    /// Adds `args[1] · args[2]` (a scalar times a row `[T; n]`) into row `args[3]` (an
    /// `Opaque` index), or row `row` when it is known, columns `offset..offset + n`, of the
    /// matrix `args[0]`.
    AddRow {
        offset: Dim,
        row: Position,
    },
    /// The same components as another aggregate type: `[[T; c]; r]` as `Matrix<r, c>`,
    /// `[T; n]` as `Vector<n>` or `Matrix<1, n>`, and back.
    Convert,
    /// `(args…)`.
    Tuple,
    /// The value of a call of another `#[jacobian]` function: `args[0].0`, where `args[0]`
    /// is the tuple its hidden parts sibling returned (an `Opaque` `Code` result): the value,
    /// then one Jacobian block per parameter (`Matrix<m, n>`, `m` the value's components,
    /// `n` the parameter's). `args[1 + k]` is a differentiated argument, whose block is the
    /// tuple's field `blocks[k]`: the call is a primitive whose partial derivatives the
    /// callee computed (and forward and reverse mode read them), not user code.
    Chain {
        blocks: Vec<usize>,
    },
    /// `if args[0] { then } else { otherwise }`: the condition is `Opaque`; each arm yields
    /// the instruction's results.
    If {
        then: Block,
        otherwise: Block,
    },
    /// `for pattern in range { body }`, `range` non-differentiated code over `args[..holes]`;
    /// the remaining arguments are the initial values of the carried values, which are the
    /// body's parameters; the body yields their next values, and the results are their
    /// values after the loop. The pattern binds non-differentiated loop variables (`i`).
    For {
        pattern: TokenStream,
        range: Code,
        holes: usize,
        body: Block,
    },
    /// A loop that tests before each iteration (MLIR's `scf.while`): the arguments are the
    /// initial carried values; `cond` takes the carried values and yields whether to go on
    /// (`Opaque`) followed by the values to go on with (or to leave with: the results);
    /// `body` takes those and yields the next carried values. `while c { … }` and
    /// `loop { …; if c { break; } … }` are both this; a loop that jumps anywhere else is
    /// one whose `cond` runs the whole body and goes on while no flag of a jump is set.
    While {
        cond: Block,
        body: Block,
    },
}

/// One operation: `results = op(args)`.
#[derive(Clone, Debug)]
pub struct Inst {
    pub op: Op,
    pub args: Vec<Value>,
    pub results: Vec<Value>,
    /// Where in the user's code it comes from, for diagnostics after the front end.
    pub span: Span,
}

/// A region: parameters, instructions in order, and the values it yields.
#[derive(Clone, Debug, Default)]
pub struct Block {
    pub params: Vec<Value>,
    pub insts: Vec<Inst>,
    pub yields: Vec<Value>,
}

/// A parameter of the function.
#[derive(Clone, Debug)]
pub struct Param {
    /// The user's name, used as it is in the emitted code.
    pub ident: syn::Ident,
    pub value: Value,
    /// Taken by shared reference (`x: &f64`): the value is `*x`.
    pub by_reference: bool,
}

#[derive(Clone, Debug)]
pub struct ValueData {
    pub ty: Type,
    /// The user's name for it, if it has one (a `let`, a parameter): printed and emitted
    /// where it reads better than a made-up one.
    pub name: Option<String>,
}

/// A function in IR form.
#[derive(Clone, Debug)]
pub struct Function {
    pub params: Vec<Param>,
    /// The body; it yields the function's result.
    pub body: Block,
    pub values: Vec<ValueData>,
    /// The front end wrote vectors and matrices out as flat arrays of components.
    pub flattened: bool,
}

impl Function {
    pub fn new() -> Function {
        Function { params: Vec::new(), body: Block::default(), values: Vec::new(), flattened: false }
    }

    /// An empty function with the parameters and values of `other`, to transform it into.
    pub fn like(other: &Function) -> Function {
        Function {
            params: other.params.clone(),
            body: Block::default(),
            values: other.values.clone(),
            flattened: other.flattened,
        }
    }

    /// A fresh value of type `ty`.
    pub fn value(&mut self, ty: Type, name: Option<String>) -> Value {
        self.values.push(ValueData { ty, name });
        Value(self.values.len() as u32 - 1)
    }

    pub fn ty(&self, value: Value) -> &Type {
        &self.values[value.0 as usize].ty
    }

    pub fn name(&self, value: Value) -> Option<&str> {
        self.values[value.0 as usize].name.as_deref()
    }
}

impl Inst {
    /// The blocks nested in this instruction, in order.
    pub fn blocks(&self) -> Vec<&Block> {
        match &self.op {
            Op::If { then, otherwise } => vec![then, otherwise],
            Op::For { body, .. } => vec![body],
            Op::While { cond, body } => vec![cond, body],
            _ => Vec::new(),
        }
    }

    pub fn blocks_mut(&mut self) -> Vec<&mut Block> {
        match &mut self.op {
            Op::If { then, otherwise } => vec![then, otherwise],
            Op::For { body, .. } => vec![body],
            Op::While { cond, body } => vec![cond, body],
            _ => Vec::new(),
        }
    }
}

/// Whether an instruction of `block`, or of a block nested in it, has an operation `test`
/// accepts.
pub fn contains(block: &Block, test: &dyn Fn(&Op) -> bool) -> bool {
    block.insts.iter().any(|inst| test(&inst.op) || inst.blocks().into_iter().any(|b| contains(b, test)))
}
