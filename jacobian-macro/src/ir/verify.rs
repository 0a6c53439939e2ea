//! The IR verifier, run after every stage in debug builds and tests: every value is
//! defined once and used only where its definition is in scope (earlier in its block or in
//! an enclosing one), and every instruction has the operands and result types its
//! operation requires. A pass that breaks an invariant is caught where it does, not as a
//! rustc error in the user's crate.

use std::collections::BTreeSet;

use super::{Block, Function, Inst, Op, Position, Type, Value};

/// Checks `function`; the error names the first broken invariant, with the function
/// printed.
pub fn verify(function: &Function) -> Result<(), String> {
    let mut checker = Checker { function, defined: BTreeSet::new(), scopes: vec![Vec::new()] };
    for param in &function.params {
        checker.define(param.value)?;
    }
    checker.block(&function.body, &[])?;
    if function.body.yields.len() != 1 {
        return Err(format!(
            "the body yields {} values; a function has one result",
            function.body.yields.len()
        ));
    }
    Ok(())
}

/// `verify`, panicking with the printed function on failure, for tests.
#[cfg(test)]
pub fn assert_valid(function: &Function, after: &str) {
    if let Err(problem) = verify(function) {
        panic!("invalid IR after {after}: {problem}\n{function}");
    }
}

struct Checker<'a> {
    function: &'a Function,
    /// Every value defined so far anywhere (a value is defined once in the whole function).
    defined: BTreeSet<Value>,
    /// Values in scope, one list per open block.
    scopes: Vec<Vec<Value>>,
}

impl Checker<'_> {
    fn define(&mut self, value: Value) -> Result<(), String> {
        if value.0 as usize >= self.function.values.len() {
            return Err(format!("%{} is not a value of this function", value.0));
        }
        if !self.defined.insert(value) {
            return Err(format!("{} is defined twice", self.function.show(value)));
        }
        self.scopes.last_mut().expect("a scope is open").push(value);
        Ok(())
    }

    fn in_scope(&self, value: Value) -> bool {
        self.scopes.iter().any(|scope| scope.contains(&value))
    }

    fn ty(&self, value: Value) -> &Type {
        self.function.ty(value)
    }

    /// Checks a block whose parameters must have the types `params`.
    fn block(&mut self, block: &Block, params: &[Type]) -> Result<(), String> {
        self.scopes.push(Vec::new());
        if block.params.len() != params.len() {
            return Err(format!("a block has {} parameters, {} expected", block.params.len(), params.len()));
        }
        for (param, ty) in block.params.iter().zip(params) {
            self.define(*param)?;
            self.same(*param, ty, "block parameter")?;
        }
        for inst in &block.insts {
            self.inst(inst)?;
        }
        for value in &block.yields {
            self.used(*value)?;
        }
        self.scopes.pop();
        Ok(())
    }

    fn used(&self, value: Value) -> Result<(), String> {
        if !self.in_scope(value) {
            return Err(format!("{} is used where it is not defined", self.function.show(value)));
        }
        Ok(())
    }

    fn same(&self, value: Value, ty: &Type, what: &str) -> Result<(), String> {
        if same_type(self.ty(value), ty) {
            Ok(())
        } else {
            Err(format!("{what} {} has type {}, expected {ty}", self.function.show(value), self.ty(value)))
        }
    }

    fn yields_match(&self, block: &Block, results: &[Value], what: &str) -> Result<(), String> {
        if block.yields.len() != results.len() {
            return Err(format!("{what} yields {} values for {} results", block.yields.len(), results.len()));
        }
        for (y, r) in block.yields.iter().zip(results) {
            self.same(*y, self.ty(*r), what)?;
        }
        Ok(())
    }

    fn inst(&mut self, inst: &Inst) -> Result<(), String> {
        for arg in &inst.args {
            self.used(*arg)?;
        }
        let function = self.function;
        let show = |what: &str| format!("{what} in `{}`", describe(function, inst));
        let args: Vec<&Type> = inst.args.iter().map(|a| function.ty(*a)).collect();
        let results: Vec<&Type> = inst.results.iter().map(|r| function.ty(*r)).collect();
        let scalar_result = results.as_slice() == [&Type::Scalar];
        let all_scalar = args.iter().all(|t| **t == Type::Scalar);
        let ok = match &inst.op {
            Op::Literal(_) => args.is_empty() && scalar_result,
            Op::Neg => args.len() == 1 && all_scalar && scalar_result,
            Op::Add | Op::Sub | Op::Mul | Op::Div => args.len() == 2 && all_scalar && scalar_result,
            Op::Call(method) => {
                let arity = crate::rules::arity(method);
                let operands_ok = args.iter().enumerate().all(|(k, t)| {
                    let integer = crate::rules::is_integer_operand(method, k);
                    (**t == Type::Opaque) == integer && (integer || **t == Type::Scalar)
                });
                arity == Some(args.len()) && operands_ok && scalar_result
            }
            Op::SinCos => args.len() == 1 && all_scalar && results == [&Type::Scalar, &Type::Scalar],
            Op::Select => {
                matches!(args.as_slice(), [Type::Opaque, Type::Scalar, Type::Scalar]) && scalar_result
            }
            Op::FromInt => args.as_slice() == [&Type::Opaque] && scalar_result,
            Op::Constant(_) => results.len() == 1 && results[0].is_differentiable(),
            Op::Code(_) => results.is_empty() || results.as_slice() == [&Type::Opaque],
            Op::Build => match results.as_slice() {
                [ty] => match (ty.element(), fixed_len(ty)) {
                    (Some(elem), Some(n)) => n == args.len() && args.iter().all(|a| **a == elem),
                    (Some(elem), None) => args.iter().all(|a| **a == elem),
                    _ => false,
                },
                _ => false,
            },
            Op::Splat => {
                args.len() == 1
                    && match results.as_slice() {
                        [Type::Array(elem, _)] => **elem == *args[0],
                        [Type::Matrix(..) | Type::Vector(_)] => *args[0] == Type::Scalar,
                        _ => false,
                    }
            }
            Op::Get(path) => {
                args.len() == 1 + path.dynamic_count()
                    && indices_ok(&args[1..])
                    && path.walk(args[0]).as_ref() == results.first().copied()
                    && results.len() == 1
            }
            Op::Set(path) | Op::Accumulate(path) => {
                args.len() == 2 + path.dynamic_count()
                    && indices_ok(&args[2..])
                    && path.walk(args[0]).as_ref() == Some(args[1])
                    && (!matches!(inst.op, Op::Accumulate(_)) || *args[1] == Type::Scalar)
                    && results.as_slice() == [args[0]]
            }
            Op::Axpy(path) => {
                args.len() == 3 + path.dynamic_count()
                    && indices_ok(&args[3..])
                    && *args[1] == Type::Scalar
                    && path.walk(args[0]).as_ref() == Some(args[2])
                    && matches!(args[2], Type::Array(e, _) if **e == Type::Scalar)
                    && results.as_slice() == [args[0]]
            }
            Op::AddBand { .. } => {
                let target = |t: &Type| match t {
                    Type::Matrix(..) => true,
                    Type::Array(row, _) => matches!(&**row, Type::Array(e, _) if **e == Type::Scalar),
                    _ => false,
                };
                matches!(args.as_slice(), [t, Type::Array(e, _)] if target(t) && **e == Type::Scalar)
                    && results.as_slice() == [args[0]]
            }
            Op::AddBlock { .. } => {
                matches!(args.as_slice(), [Type::Matrix(..), Type::Array(row, _)] if matches!(&**row, Type::Array(e, _) if **e == Type::Scalar))
                    && results.as_slice() == [args[0]]
            }
            Op::AddRow { row, .. } => {
                let index = usize::from(*row == Position::Dynamic);
                args.len() == 3 + index
                    && matches!(args[..3], [Type::Matrix(..), Type::Scalar, Type::Array(..)])
                    && indices_ok(&args[3..])
                    && results.as_slice() == [args[0]]
            }
            Op::Scale => {
                matches!(args.as_slice(), [Type::Scalar, Type::Array(e, _)] if **e == Type::Scalar)
                    && results.as_slice() == [args[1]]
            }
            Op::Convert => match (args.as_slice(), results.as_slice()) {
                // Rows as a matrix: sizes compared factor by factor (symbolic sizes are
                // compared as written, so `M * N` and `N * M` would not be).
                ([Type::Array(row, r1)], [Type::Matrix(r2, c2)])
                | ([Type::Matrix(r2, c2)], [Type::Array(row, r1)])
                    if matches!(&**row, Type::Array(..)) =>
                {
                    matches!(&**row, Type::Array(e, c1) if **e == Type::Scalar && same_size(c1, c2))
                        && same_size(r1, r2)
                }
                ([Type::Array(e, n)], [Type::Matrix(r, c)]) if **e == Type::Scalar => {
                    *r == crate::shape::Dim::Lit(1) && same_size(c, n)
                        || *c == crate::shape::Dim::Lit(1) && same_size(r, n)
                        || same_size(&r.mul(c), n)
                }
                ([from], [to]) => match (from.components(), to.components()) {
                    (Some(a), Some(b)) => same_size(&a, &b),
                    _ => false,
                },
                _ => false,
            },
            Op::Tuple => results.as_slice() == [&Type::Tuple(args.iter().map(|t| (*t).clone()).collect())],
            Op::Chain { blocks } => {
                args.len() == blocks.len() + 1
                    && *args[0] == Type::Opaque
                    && args[1..].iter().all(|t| t.is_differentiable())
                    && results.len() == 1
                    && results[0].is_differentiable()
            }
            Op::If { then, otherwise } => {
                if args.as_slice() != [&Type::Opaque] {
                    return Err(show("a condition that is not opaque"));
                }
                self.block(then, &[])?;
                self.block(otherwise, &[])?;
                self.yields_match(then, &inst.results, "the `then` arm")?;
                self.yields_match(otherwise, &inst.results, "the `else` arm")?;
                true
            }
            Op::While { cond, body } => {
                let carried: Vec<Type> = args.iter().map(|t| (*t).clone()).collect();
                self.block(cond, &carried)?;
                if cond.yields.len() != carried.len() + 1 || *function.ty(cond.yields[0]) != Type::Opaque {
                    return Err(show(
                        "a loop condition that does not yield whether to go on and the carried values",
                    ));
                }
                for (y, ty) in cond.yields[1..].iter().zip(&carried) {
                    self.same(*y, ty, "a value the condition passes on")?;
                }
                self.block(body, &carried)?;
                self.yields_match(body, &inst.results, "the loop body")?;
                results.len() == carried.len() && carried.iter().zip(&results).all(|(c, r)| same_type(c, r))
            }
            Op::For { holes, body, .. } => {
                if args.len() < *holes || args[..*holes].iter().any(|t| **t != Type::Opaque) {
                    return Err(show("range operands"));
                }
                let carried: Vec<Type> = args[*holes..].iter().map(|t| (*t).clone()).collect();
                self.block(body, &carried)?;
                self.yields_match(body, &inst.results, "the loop body")?;
                carried.len() == inst.results.len()
                    && carried.iter().zip(&results).all(|(c, r)| same_type(c, r))
            }
        };
        if !ok {
            return Err(show("operand or result types that do not fit"));
        }
        for result in &inst.results {
            self.define(*result)?;
        }
        Ok(())
    }
}

/// The instruction's line in the text form, without its nested blocks.
fn describe(function: &Function, inst: &Inst) -> String {
    let mut copy = inst.clone();
    for block in copy.blocks_mut() {
        *block = Block::default();
    }
    let mut scratch = function.clone();
    scratch.params.clear();
    scratch.body = Block { params: Vec::new(), insts: vec![copy], yields: Vec::new() };
    scratch.to_string().lines().nth(1).unwrap_or("").trim().to_owned()
}

fn indices_ok(indices: &[&Type]) -> bool {
    indices.iter().all(|t| **t == Type::Opaque)
}

/// The number of elements (row-major positions for a matrix), when literal.
fn fixed_len(ty: &Type) -> Option<usize> {
    match ty {
        Type::Array(_, n) | Type::Vector(n) => n.lit(),
        Type::Matrix(r, c) => Some(r.lit()? * c.lit()?),
        _ => None,
    }
}

/// Whether two sizes may be the same: equal, or one a literal and the other one that names
/// `const` items (`L3`; a size of the signature's, where the body has literals): rustc
/// checks that those agree.
fn same_size(a: &crate::shape::Dim, b: &crate::shape::Dim) -> bool {
    let named = |d: &crate::shape::Dim| d.lit().is_none() && !d.is_generic();
    a == b || a.lit().is_some() && named(b) || b.lit().is_some() && named(a)
}

/// Whether two types may be the same, sizes compared by [`same_size`].
fn same_type(a: &Type, b: &Type) -> bool {
    match (a, b) {
        (Type::Array(x, n), Type::Array(y, m)) => same_size(n, m) && same_type(x, y),
        (Type::Vector(n), Type::Vector(m)) => same_size(n, m),
        (Type::Matrix(r, c), Type::Matrix(s, d)) => same_size(r, s) && same_size(c, d),
        (Type::Tuple(xs), Type::Tuple(ys)) => {
            xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| same_type(x, y))
        }
        (a, b) => a == b,
    }
}
