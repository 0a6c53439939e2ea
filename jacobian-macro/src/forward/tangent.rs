//! Tangents as forward mode holds them while it writes: the derivative of a scalar with
//! respect to each parameter block is a linear combination known at compile time of unit
//! columns (`e_k`, `k` a literal or a run-time index) and run-time rows. A term that is not
//! there is a structural zero and costs nothing; a coefficient of one is never multiplied.
//! An aggregate's tangent is one such combination per element while its length is literal
//! and it is only indexed by literals, and otherwise one run-time Jacobian block per
//! parameter block (`[[T; n]; len]`), or the identity for a parameter itself.

use crate::ir::build::Builder;
use crate::ir::{Op, Path, Position, Type, Value};

/// A coefficient: ±1, a scalar value, or a value negated. A sign is kept rather than
/// computed: negating a term, or scaling a negated one, writes no negation, and a sum that
/// meets opposite signs is a subtraction (`a − b`, not `a + (−b)`). A negation is written
/// only where a coefficient's value is stored on its own (`Coef::value`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Coef {
    One,
    MinusOne,
    Of(Value),
    /// `−v`.
    Neg(Value),
}

impl Coef {
    /// The coefficient as a value.
    pub fn value(self, b: &mut Builder) -> Value {
        match self {
            Coef::One => b.lit(1.0),
            Coef::MinusOne => b.lit(-1.0),
            Coef::Of(v) => v,
            Coef::Neg(v) => b.neg(v),
        }
    }

    /// `value`, or its negation (`positive` false), as a coefficient (`None`: zero).
    fn signed(positive: bool, value: Value, b: &mut Builder) -> Option<Coef> {
        match b.literal_of(value) {
            Some(0.0) => None,
            Some(x) => {
                let x = if positive { x } else { -x };
                Coef::of(b.lit(x), b)
            }
            None if positive => Some(Coef::Of(value)),
            None => Some(Coef::Neg(value)),
        }
    }

    fn of(value: Value, b: &Builder) -> Option<Coef> {
        match b.literal_of(value) {
            Some(0.0) => None,
            Some(1.0) => Some(Coef::One),
            Some(-1.0) => Some(Coef::MinusOne),
            _ => Some(Coef::Of(value)),
        }
    }

    /// The sign and magnitude: `(true, v)` for `v`, `(false, v)` for `−v`.
    fn parts(self, b: &mut Builder) -> (bool, Value) {
        match self {
            Coef::One => (true, b.lit(1.0)),
            Coef::MinusOne => (false, b.lit(1.0)),
            Coef::Of(v) => (true, v),
            Coef::Neg(v) => (false, v),
        }
    }

    fn times(self, factor: Value, b: &mut Builder) -> Option<Coef> {
        let (positive, product) = match self {
            Coef::One => (true, factor),
            Coef::MinusOne => (false, factor),
            Coef::Of(v) => (true, b.mul(factor, v)),
            Coef::Neg(v) => (false, b.mul(factor, v)),
        };
        Coef::signed(positive, product, b)
    }

    fn negated(self) -> Coef {
        match self {
            Coef::One => Coef::MinusOne,
            Coef::MinusOne => Coef::One,
            Coef::Of(v) => Coef::Neg(v),
            Coef::Neg(v) => Coef::Of(v),
        }
    }

    fn plus(self, other: Coef, b: &mut Builder) -> Option<Coef> {
        let unit = |c: Coef| match c {
            Coef::One => Some(1.0),
            Coef::MinusOne => Some(-1.0),
            _ => None,
        };
        if let (Some(x), Some(y)) = (unit(self), unit(other)) {
            return (x + y != 0.0).then(|| Coef::Of(b.lit(x + y)));
        }
        let ((p, x), (q, y)) = (self.parts(b), other.parts(b));
        match (p, q) {
            _ if p == q => {
                let sum = b.add(x, y);
                Coef::signed(p, sum, b)
            }
            (true, _) => {
                let difference = b.sub(x, y);
                Coef::signed(true, difference, b)
            }
            (false, _) => {
                let difference = b.sub(x, y);
                Coef::signed(false, difference, b)
            }
        }
    }
}

/// What a term's coefficient multiplies: a unit column of one parameter block, or a
/// run-time row (`[T; n]`) over that block.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Basis {
    /// `e_k`: `index` is `None` for a literal `k` (in `at`), or the run-time index value.
    Unit {
        block: usize,
        at: usize,
        index: Option<Value>,
    },
    Row {
        block: usize,
        row: Value,
    },
}

impl Basis {
    pub fn block(&self) -> usize {
        match self {
            Basis::Unit { block, .. } | Basis::Row { block, .. } => *block,
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Term {
    pub coef: Coef,
    pub basis: Basis,
}

/// `Σ coef · basis`; empty is zero.
#[derive(Clone, Debug, Default)]
pub struct Lin {
    pub terms: Vec<Term>,
}

impl Lin {
    pub fn of(basis: Basis) -> Lin {
        Lin { terms: vec![Term { coef: Coef::One, basis }] }
    }

    pub fn is_zero(&self) -> bool {
        self.terms.is_empty()
    }

    pub fn scale(&self, factor: Value, b: &mut Builder) -> Lin {
        if b.literal_of(factor) == Some(0.0) {
            return Lin::default();
        }
        let terms = self
            .terms
            .iter()
            .filter_map(|t| Some(Term { coef: t.coef.times(factor, b)?, basis: t.basis }))
            .collect();
        Lin { terms }
    }

    pub fn neg(&self) -> Lin {
        Lin { terms: self.terms.iter().map(|t| Term { coef: t.coef.negated(), basis: t.basis }).collect() }
    }

    /// The sum, with terms on the same basis merged.
    pub fn add(&self, other: &Lin, b: &mut Builder) -> Lin {
        let mut terms = self.terms.clone();
        for term in &other.terms {
            match terms.iter().position(|t| t.basis == term.basis) {
                Some(k) => match terms[k].coef.plus(term.coef, b) {
                    Some(coef) => terms[k].coef = coef,
                    None => {
                        terms.remove(k);
                    }
                },
                None => terms.push(*term),
            }
        }
        Lin { terms }
    }

    pub fn on(&self, block: usize) -> impl Iterator<Item = &Term> {
        self.terms.iter().filter(move |t| t.basis.block() == block)
    }

    /// The row over `block` (`[T; n]`, type `row_type`) this combination computes. A lone
    /// row with coefficient one is that row itself; otherwise zeros, or that row, with
    /// every other term added.
    pub fn row(&self, block: usize, row_type: &Type, b: &mut Builder) -> Value {
        let mut terms: Vec<&Term> = self.on(block).collect();
        // Start from a row (itself if its coefficient is one, else scaled), or zeros.
        let one = terms.iter().position(|t| t.coef == Coef::One && matches!(t.basis, Basis::Row { .. }));
        let start = one.or_else(|| terms.iter().position(|t| matches!(t.basis, Basis::Row { .. })));
        let mut acc = match start.map(|k| terms.remove(k)) {
            Some(&Term { coef: Coef::One, basis: Basis::Row { row, .. } }) => row,
            Some(&Term { coef, basis: Basis::Row { row, .. } }) => {
                let coef = coef.value(b);
                b.push1(Op::Scale, vec![coef, row], row_type.clone())
            }
            _ => b.zeros(row_type),
        };
        // From zeros (then every term is a unit column): entries not yet written are set.
        let zero = start.is_none();
        let (mut written, mut written_anywhere) = (Vec::new(), false);
        for term in terms {
            let coef = term.coef.value(b);
            acc = match term.basis {
                Basis::Unit { at, index, .. } => {
                    let fresh = zero
                        && (written.is_empty() && !written_anywhere
                            || index.is_none() && !written_anywhere && !written.contains(&at));
                    match index {
                        Some(_) => written_anywhere = true,
                        None => written.push(at),
                    }
                    if fresh {
                        let (path, args) = match index {
                            Some(i) => (Path(vec![Position::Dynamic]), vec![i]),
                            None => (Path(vec![Position::Const(at)]), Vec::new()),
                        };
                        b.update(Op::Set(path), acc, coef, args)
                    } else {
                        accumulate(acc, Vec::new(), at, index, coef, b)
                    }
                }
                Basis::Row { row, .. } => {
                    b.push1(Op::Axpy(Path(Vec::new())), vec![acc, coef, row], row_type.clone())
                }
            };
        }
        acc
    }

    /// Adds this combination into row `i` (a path prefix) of a Jacobian block `jac`
    /// (`[[T; n]; len]`), returning the new block.
    /// When the row is known to be zero (`zero`), an entry no earlier term of this call can
    /// have written is set rather than added to (a store, not a load, add and store).
    pub fn add_into(
        &self,
        jac: Value,
        prefix: (Position, Option<Value>),
        block: usize,
        zero: bool,
        b: &mut Builder,
    ) -> Value {
        let indices: Vec<Value> = prefix.1.into_iter().collect();
        let mut jac = jac;
        let (mut written, mut written_anywhere) = (Vec::new(), false);
        for term in self.on(block) {
            let coef = term.coef.value(b);
            jac = match term.basis {
                Basis::Unit { at, index, .. } => {
                    let mut path = vec![prefix.0.clone()];
                    let mut args = indices.clone();
                    match index {
                        Some(i) => {
                            path.push(Position::Dynamic);
                            args.push(i);
                        }
                        None => path.push(Position::Const(at)),
                    }
                    let fresh = zero
                        && (written.is_empty() && !written_anywhere
                            || index.is_none() && !written_anywhere && !written.contains(&at));
                    match index {
                        Some(_) => written_anywhere = true,
                        None => written.push(at),
                    }
                    let op = if fresh { Op::Set(Path(path)) } else { Op::Accumulate(Path(path)) };
                    b.update(op, jac, coef, args)
                }
                Basis::Row { row, .. } => {
                    written_anywhere = true;
                    let ty = b.f.ty(jac).clone();
                    let mut args = vec![jac, coef, row];
                    args.extend(&indices);
                    b.push1(Op::Axpy(Path(vec![prefix.0.clone()])), args, ty)
                }
            };
        }
        jac
    }
}

/// `acc[prefix..][k] += coef`.
fn accumulate(
    acc: Value,
    prefix: Vec<Position>,
    at: usize,
    index: Option<Value>,
    coef: Value,
    b: &mut Builder,
) -> Value {
    let mut path = prefix;
    let args = match index {
        Some(i) => {
            path.push(Position::Dynamic);
            vec![i]
        }
        None => {
            path.push(Position::Const(at));
            Vec::new()
        }
    };
    b.update(Op::Accumulate(Path(path)), acc, coef, args)
}

/// The Jacobian block of an aggregate with respect to one parameter block.
#[derive(Clone, Copy, Debug)]
pub enum Block {
    /// The aggregate is that parameter itself.
    Identity,
    /// A run-time `[[T; n]; len]`.
    Held(Value),
    /// A few run-time diagonals (`Forward::band`): element `r` depends on inputs `r + s` for
    /// the band's offsets `s` only (see `analysis::band`).
    Band(usize),
}

/// The tangent of a value.
#[derive(Clone, Debug)]
pub enum Tangent {
    Zero,
    Scalar(Lin),
    /// An aggregate of literal length, element by element.
    Elems(Vec<Lin>),
    /// An aggregate, one block per parameter block (`None`: zero).
    Blocks(Vec<Option<Block>>),
}

impl Tangent {
    pub fn lin(&self) -> Lin {
        match self {
            Tangent::Scalar(lin) => lin.clone(),
            _ => Lin::default(),
        }
    }
}
