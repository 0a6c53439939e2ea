//! Vectors and matrices: the matrix-calculus operations of `API.md` become scalar IR, each
//! component a `Get` of its operands' components, either written out (small literal
//! sizes) or as loops (`for k in 0..n`, carrying the result being built), so that every
//! later stage sees only scalars and arrays once `flatten` has run. A `Vector<n>` is the
//! column `Matrix<n, 1>`; components of a matrix are numbered row-major.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, ToTokens};
use syn::spanned::Spanned;
use syn::Expr;

use super::messages::describe;
use super::{refused, unsupported, Front, Operand, Result};
use crate::ir::{Block, Code, Op, Path, Position, Type, Value};
use crate::shape::Dim;

/// Sizes up to this many components are written out; larger or symbolic ones are loops.
const UNROLL: usize = 16;

/// A position along one axis: known now, or an opaque run-time index.
#[derive(Clone, Copy)]
enum At {
    Const(usize),
    Dynamic(Value),
}

/// The rows and columns of a vector (`n × 1`), matrix, or array of scalars (`n × 1`, for
/// its `map`).
pub(super) fn shape(ty: &Type) -> Option<(Dim, Dim)> {
    match ty {
        Type::Vector(n) => Some((n.clone(), Dim::Lit(1))),
        Type::Matrix(r, c) => Some((r.clone(), c.clone())),
        Type::Array(elem, n) if **elem == Type::Scalar => Some((n.clone(), Dim::Lit(1))),
        _ => None,
    }
}

/// The type of an `r × c` result: a vector when it has one column.
pub(super) fn of_shape(r: Dim, c: Dim) -> Type {
    if c == Dim::Lit(1) {
        Type::Vector(r)
    } else {
        Type::Matrix(r, c)
    }
}

pub(super) fn is_matrix(ty: &Type) -> bool {
    matches!(ty, Type::Vector(_) | Type::Matrix(..))
}

impl Front<'_> {
    /// Component `(i, j)` of a vector (`j` ignored) or matrix.
    fn component(&mut self, v: Value, i: At, j: At, span: Span) -> Value {
        let mut path = Vec::new();
        let mut args = vec![v];
        let axes: &[At] = if matches!(self.f.ty(v), Type::Matrix(..)) { &[i, j] } else { &[i] };
        for at in axes {
            match at {
                At::Const(k) => path.push(Position::Const(*k)),
                At::Dynamic(index) => {
                    path.push(Position::Dynamic);
                    args.push(*index);
                }
            }
        }
        self.push1(Op::Get(Path(path)), args, Type::Scalar, span)
    }

    /// `for k in 0..n`, carrying `carried` through `body` (which gets the index and the
    /// carried values and returns their next values); the values after the loop.
    fn count(
        &mut self,
        n: &Dim,
        carried: Vec<Value>,
        span: Span,
        mut body: impl FnMut(&mut Self, Value, &[Value]) -> Result<Vec<Value>>,
    ) -> Result<Vec<Value>> {
        let index = Ident::new(&format!("k{}", self.loops), Span::mixed_site());
        self.loops += 1;
        let types: Vec<Type> = carried.iter().map(|v| self.f.ty(*v).clone()).collect();
        let params: Vec<Value> = types.iter().map(|t| self.f.value(t.clone(), None)).collect();
        self.open.push(Vec::new());
        let k = self.push1(Op::Code(Code { tokens: index.to_token_stream() }), vec![], Type::Opaque, span);
        let yields = body(self, k, &params)?;
        let insts = self.open.pop().unwrap_or_default();
        let len = n.value();
        let op = Op::For {
            pattern: index.to_token_stream(),
            range: Code { tokens: quote!(0..#len) },
            holes: 0,
            body: Block { params, insts, yields },
        };
        Ok(self.push(op, carried, &types, span))
    }

    /// A vector or matrix of type `ty` whose component `(i, j)` is `f(i, j)`.
    fn tabulate(
        &mut self,
        ty: Type,
        span: Span,
        f: &mut dyn FnMut(&mut Self, At, At) -> Result<Value>,
    ) -> Result<Value> {
        let Some((r, c)) = shape(&ty) else { return unsupported(&span_of(span), "this aggregate") };
        if let (Some(rows), Some(cols)) = (r.lit(), c.lit()) {
            if rows * cols <= UNROLL {
                let mut items = Vec::new();
                for i in 0..rows {
                    for j in 0..cols {
                        items.push(f(self, At::Const(i), At::Const(j))?);
                    }
                }
                return Ok(self.push1(Op::Build, items, ty, span));
            }
        }
        let zero = self.push1(Op::Literal(0.0), vec![], Type::Scalar, span);
        let init = self.push1(Op::Splat, vec![zero], ty.clone(), span);
        let vector = !matches!(ty, Type::Matrix(..));
        let out = self.count(&r, vec![init], span, |front: &mut Self, i: Value, acc: &[Value]| {
            if vector {
                let value = f(front, At::Dynamic(i), At::Const(0))?;
                let ty = front.f.ty(acc[0]).clone();
                let set =
                    front.push1(Op::Set(Path(vec![Position::Dynamic])), vec![acc[0], value, i], ty, span);
                return Ok(vec![set]);
            }
            front.count(&c, vec![acc[0]], span, |front: &mut Self, j: Value, acc: &[Value]| {
                let value = f(front, At::Dynamic(i), At::Dynamic(j))?;
                let ty = front.f.ty(acc[0]).clone();
                let path = Path(vec![Position::Dynamic, Position::Dynamic]);
                Ok(vec![front.push1(Op::Set(path), vec![acc[0], value, i, j], ty, span)])
            })
        })?;
        Ok(out[0])
    }

    /// `Σ_k f(k)` over `0..n`, in order.
    fn reduce(
        &mut self,
        n: &Dim,
        span: Span,
        f: &mut dyn FnMut(&mut Self, At) -> Result<Value>,
    ) -> Result<Value> {
        if let Some(n) = n.lit().filter(|n| *n <= UNROLL) {
            let mut sum = None;
            for k in 0..n {
                let term = f(self, At::Const(k))?;
                sum = Some(match sum {
                    None => term,
                    Some(s) => self.push1(Op::Add, vec![s, term], Type::Scalar, span),
                });
            }
            return Ok(match sum {
                Some(s) => s,
                None => self.push1(Op::Literal(0.0), vec![], Type::Scalar, span),
            });
        }
        let zero = self.push1(Op::Literal(0.0), vec![], Type::Scalar, span);
        let out = self.count(n, vec![zero], span, |front: &mut Self, k: Value, acc: &[Value]| {
            let term = f(front, At::Dynamic(k))?;
            Ok(vec![front.push1(Op::Add, vec![acc[0], term], Type::Scalar, span)])
        })?;
        Ok(out[0])
    }

    /// `a op b` where `a` or `b` is a vector or matrix (`+ - * /`, and negation when `b`
    /// is `None`).
    pub(super) fn matrix_arithmetic(
        &mut self,
        op: &Op,
        a: Value,
        b: Option<Value>,
        e: &Expr,
    ) -> Result<Operand> {
        let span = e.span();
        let (ta, tb) = (self.f.ty(a).clone(), b.map(|b| self.f.ty(b).clone()));
        let value = match (op, b, tb.clone()) {
            (Op::Neg, None, None) => self.tabulate(ta, span, &mut |front, i, j| {
                let x = front.component(a, i, j, span);
                Ok(front.push1(Op::Neg, vec![x], Type::Scalar, span))
            })?,
            (Op::Add | Op::Sub, Some(b), Some(tb)) if shape(&ta) == shape(&tb) && is_matrix(&ta) => self
                .tabulate(ta, span, &mut |front, i, j| {
                    let (x, y) = (front.component(a, i, j, span), front.component(b, i, j, span));
                    Ok(front.push1(op.clone(), vec![x, y], Type::Scalar, span))
                })?,
            // A scalar times a vector or matrix, either side; a vector or matrix divided by
            // a scalar.
            (Op::Mul | Op::Div, Some(s), Some(Type::Scalar)) if is_matrix(&ta) => {
                self.tabulate(ta, span, &mut |front, i, j| {
                    let x = front.component(a, i, j, span);
                    Ok(front.push1(op.clone(), vec![x, s], Type::Scalar, span))
                })?
            }
            (Op::Mul, Some(m), Some(tm)) if ta == Type::Scalar && is_matrix(&tm) => {
                self.tabulate(tm, span, &mut |front, i, j| {
                    let x = front.component(m, i, j, span);
                    Ok(front.push1(Op::Mul, vec![a, x], Type::Scalar, span))
                })?
            }
            // A product of matrices (a vector is a one-column matrix).
            (Op::Mul, Some(b), Some(tb)) if is_matrix(&ta) && is_matrix(&tb) => {
                let ((r, k), (k2, c)) = (shape(&ta).expect("a matrix"), shape(&tb).expect("a matrix"));
                if k != k2 {
                    return refused(
                        e,
                        format!(
                            "cannot multiply {} by {}: the left operand has {k} columns, the right {k2} rows",
                            describe(&ta),
                            describe(&tb)
                        ),
                    );
                }
                self.tabulate(of_shape(r, c), span, &mut |front, i, j| {
                    front.reduce(&k, span, &mut |front, l| {
                        let x = front.component(a, i, l, span);
                        let y = front.component(b, l, j, span);
                        Ok(front.push1(Op::Mul, vec![x, y], Type::Scalar, span))
                    })
                })?
            }
            _ => return refused(e, super::messages::matrix_arithmetic(op, &ta, tb.as_ref())),
        };
        Ok(Operand::Value(value))
    }

    /// A method on a vector or matrix receiver: `transpose`, `dot`, `norm_squared`,
    /// `norm`, `sum`, `map`, `component_mul`, `component_div`.
    pub(super) fn matrix_method(&mut self, call: &syn::ExprMethodCall, receiver: Value) -> Result<Operand> {
        let span = call.span();
        let e = &Expr::MethodCall(call.clone());
        let ty = self.f.ty(receiver).clone();
        let (r, c) = shape(&ty).expect("a vector or matrix");
        let name = call.method.to_string();
        let other = |front: &mut Self| -> Result<Value> {
            let [arg] = call.args.iter().collect::<Vec<_>>()[..] else {
                return refused(e, format!("`{name}` takes 1 argument(s)"));
            };
            let arg = match arg {
                Expr::Reference(reference) => &*reference.expr,
                arg => arg,
            };
            let operand = front.expr(arg)?;
            let value = front.operand_as(operand, &ty, arg)?;
            Ok(value)
        };
        let value = match name.as_str() {
            "transpose" if call.args.is_empty() => {
                self.tabulate(of_shape(c.clone(), r.clone()), span, &mut |front, i, j| {
                    Ok(front.component(receiver, j, i, span))
                })?
            }
            "dot" => {
                let b = other(self)?;
                self.dot(receiver, b, span)?
            }
            "norm_squared" if call.args.is_empty() => self.dot(receiver, receiver, span)?,
            // ‖a‖, with the derivative 0 at the zero vector (as `abs` at 0 has sign 0 …), not
            // the 0/0 of √ at 0.
            "norm" if call.args.is_empty() => {
                let squared = self.dot(receiver, receiver, span)?;
                let root = self.push1(Op::Call("sqrt"), vec![squared], Type::Scalar, span);
                let zero = self.push1(Op::Literal(0.0), vec![], Type::Scalar, span);
                let h0 = Code::hole(0);
                let is_zero = self.push1(
                    Op::Code(Code { tokens: quote!(#h0 == 0.0) }),
                    vec![squared],
                    Type::Opaque,
                    span,
                );
                self.push1(Op::Select, vec![is_zero, zero, root], Type::Scalar, span)
            }
            "sum" if call.args.is_empty() => {
                if c == Dim::Lit(1) {
                    self.reduce(&r, span, &mut |front, k| {
                        Ok(front.component(receiver, k, At::Const(0), span))
                    })?
                } else {
                    self.reduce(&r, span, &mut |front, i| {
                        front.reduce(&c, span, &mut |front, j| Ok(front.component(receiver, i, j, span)))
                    })?
                }
            }
            "component_mul" | "component_div" => {
                let b = other(self)?;
                let op = if name == "component_mul" { Op::Mul } else { Op::Div };
                self.tabulate(ty.clone(), span, &mut |front, i, j| {
                    let (x, y) = (front.component(receiver, i, j, span), front.component(b, i, j, span));
                    Ok(front.push1(op.clone(), vec![x, y], Type::Scalar, span))
                })?
            }
            // a × b of 3-vectors, as nalgebra's `cross`.
            "cross" if r == Dim::Lit(3) && c == Dim::Lit(1) => {
                let b = other(self)?;
                let mut items = Vec::new();
                for (i, j) in [(1, 2), (2, 0), (0, 1)] {
                    let (ai, aj) = (
                        self.component(receiver, At::Const(i), At::Const(0), span),
                        self.component(receiver, At::Const(j), At::Const(0), span),
                    );
                    let (bi, bj) = (
                        self.component(b, At::Const(i), At::Const(0), span),
                        self.component(b, At::Const(j), At::Const(0), span),
                    );
                    let (p, q) = (
                        self.push1(Op::Mul, vec![ai, bj], Type::Scalar, span),
                        self.push1(Op::Mul, vec![aj, bi], Type::Scalar, span),
                    );
                    items.push(self.push1(Op::Sub, vec![p, q], Type::Scalar, span));
                }
                self.push1(Op::Build, items, ty.clone(), span)
            }
            // a / ‖a‖, as nalgebra's `normalize` (no guard at zero, as there).
            "normalize" if call.args.is_empty() => {
                let squared = self.dot(receiver, receiver, span)?;
                let norm = self.push1(Op::Call("sqrt"), vec![squared], Type::Scalar, span);
                self.tabulate(ty.clone(), span, &mut |front, i, j| {
                    let x = front.component(receiver, i, j, span);
                    Ok(front.push1(Op::Div, vec![x, norm], Type::Scalar, span))
                })?
            }
            "map" => {
                let [f] = call.args.iter().collect::<Vec<_>>()[..] else {
                    return unsupported(e, "`map` with this many arguments");
                };
                self.tabulate(ty.clone(), span, &mut |front, i, j| {
                    let x = front.component(receiver, i, j, span);
                    match front.apply(f, vec![super::iter::Item::Value(x)])? {
                        super::iter::Item::Value(y) if matches!(front.f.ty(y), Type::Scalar | Type::Opaque) => {
                            front.coerce(y, &Type::Scalar, f)
                        }
                        _ => refused(f, format!("the closure given to `map` must return a scalar: `map` of {} makes one of the same size", describe(&ty))),
                    }
                })?
            }
            _ => return refused(call, super::messages::unknown_matrix_method(&name)),
        };
        Ok(Operand::Value(value))
    }

    fn dot(&mut self, a: Value, b: Value, span: Span) -> Result<Value> {
        let (r, c) = shape(self.f.ty(a)).expect("a vector or matrix");
        if shape(self.f.ty(b)) != Some((r.clone(), c.clone())) || c != Dim::Lit(1) {
            return unsupported(&span_of(span), "`dot` of values that are not vectors of one size");
        }
        self.reduce(&r, span, &mut |front, k| {
            let (x, y) =
                (front.component(a, k, At::Const(0), span), front.component(b, k, At::Const(0), span));
            Ok(front.push1(Op::Mul, vec![x, y], Type::Scalar, span))
        })
    }

    /// `Vector::from(…)`, `Matrix::from_rows(…)`, `Vector::from_diagonal`… on differentiated
    /// values, or `None` when `call` is not one of these constructors.
    pub(super) fn matrix_constructor(&mut self, call: &syn::ExprCall) -> Option<Result<Operand>> {
        let Expr::Path(path) = &*call.func else { return None };
        let segments: Vec<String> = path.path.segments.iter().map(|s| s.ident.to_string()).collect();
        let [.., ty, function] = segments.as_slice() else { return None };
        if ty != "Vector" && ty != "Matrix" {
            return None;
        }
        let span = call.span();
        let [arg] = call.args.iter().collect::<Vec<_>>()[..] else { return None };
        Some((|| {
            match (ty.as_str(), function.as_str()) {
            ("Vector" | "Matrix", "from") => match arg {
                Expr::Array(array) => {
                    let mut items = Vec::new();
                    for item in &array.elems {
                        let operand = self.expr(item)?;
                        items.push(self.operand_as(operand, &Type::Scalar, item)?);
                    }
                    let ty = Type::Vector(Dim::Lit(items.len()));
                    Ok(Operand::Value(self.push1(Op::Build, items, ty, span)))
                }
                arg => {
                    let operand = self.expr(arg)?;
                    let value = self.materialize(operand, arg.span());
                    match self.f.ty(value).clone() {
                        Type::Array(elem, n) if *elem == Type::Scalar => {
                            Ok(Operand::Value(self.push1(Op::Convert, vec![value], Type::Vector(n), span)))
                        }
                        _ => refused(arg, format!("`Vector::from` takes an array, found {}", describe(self.f.ty(value)))),
                    }
                }
            },
            ("Matrix", "from_rows") => match arg {
                Expr::Array(rows) => {
                    let mut items = Vec::new();
                    let mut columns = None;
                    for row in &rows.elems {
                        let Expr::Array(row) = row else {
                            return refused(row, "write each row as an array literal `[a, b]`");
                        };
                        if columns.is_some_and(|c| c != row.elems.len()) {
                            return unsupported(row, "rows of different lengths");
                        }
                        columns = Some(row.elems.len());
                        for item in &row.elems {
                            let operand = self.expr(item)?;
                            items.push(self.operand_as(operand, &Type::Scalar, item)?);
                        }
                    }
                    let ty = Type::Matrix(Dim::Lit(rows.elems.len()), Dim::Lit(columns.unwrap_or(0)));
                    Ok(Operand::Value(self.push1(Op::Build, items, ty, span)))
                }
                arg => refused(arg, "`Matrix::from_rows` with differentiated entries needs an array literal of rows, `[[a, b], [c, d]]`"),
            },
            ("Matrix", "from_diagonal") => {
                let arg = match arg {
                    Expr::Reference(reference) => &*reference.expr,
                    arg => arg,
                };
                let operand = self.expr(arg)?;
                let diagonal = self.materialize(operand, arg.span());
                let Type::Vector(n) = self.f.ty(diagonal).clone() else {
                    return unsupported(arg, "`from_diagonal` of something that is not a vector");
                };
                self.tabulate(Type::Matrix(n.clone(), n), span, &mut |front, i, j| {
                    let (At::Const(i), At::Const(j)) = (i, j) else {
                        return unsupported(arg, "`from_diagonal` of a large vector");
                    };
                    if i == j {
                        Ok(front.component(diagonal, At::Const(i), At::Const(0), span))
                    } else {
                        Ok(front.push1(Op::Literal(0.0), vec![], Type::Scalar, span))
                    }
                })
                .map(Operand::Value)
            }
            _ => unsupported(call, "this constructor on differentiated values"),
        }
        })())
    }
}

/// The length of an array literal or repeat expression, when it shows one.
fn length(e: &Expr) -> Option<Dim> {
    match e {
        Expr::Array(items) => Some(Dim::Lit(items.elems.len())),
        Expr::Repeat(repeat) => Some(super::dim_of(&repeat.len)),
        _ => None,
    }
}

/// The vector or matrix type a constructor call shows: `Vector::from([…])`,
/// `Matrix::from_rows([[…], …])` (or with repeat expressions), `Matrix::<R, C>::zeros()`.
pub(super) fn constructor_type(e: &Expr) -> Option<Type> {
    let Expr::Call(call) = e else { return None };
    let Expr::Path(path) = &*call.func else { return None };
    let segments: Vec<&syn::PathSegment> = path.path.segments.iter().collect();
    let [.., ty, function] = segments.as_slice() else { return None };
    let generic = |k: usize| -> Option<Dim> {
        let syn::PathArguments::AngleBracketed(args) = &ty.arguments else { return None };
        match args.args.iter().nth(k)? {
            syn::GenericArgument::Const(e) => Some(super::dim_of(e)),
            syn::GenericArgument::Type(syn::Type::Path(p)) => {
                Some(Dim::Sym { tokens: p.to_token_stream(), generic: true })
            }
            _ => None,
        }
    };
    let arg = call.args.first();
    match (ty.ident.to_string().as_str(), function.ident.to_string().as_str(), arg) {
        ("Vector", "from", Some(arg)) => Some(Type::Vector(length(arg)?)),
        ("Matrix", "from_rows", Some(rows)) => {
            let first = match rows {
                Expr::Array(items) => items.elems.first()?.clone(),
                Expr::Repeat(repeat) => (*repeat.expr).clone(),
                _ => return None,
            };
            Some(Type::Matrix(length(rows)?, length(&first)?))
        }
        ("Vector", "zeros", None) => Some(Type::Vector(generic(0)?)),
        ("Matrix", "zeros" | "identity", None) => Some(Type::Matrix(generic(0)?, generic(1)?)),
        _ => None,
    }
}

/// A vector or matrix constructor whose size the call does not show (`Matrix::identity()`,
/// `Vector::zeros()`, `Vector::from(a)` of an array of unknown length): its problem, for
/// code that would otherwise be taken for a scalar.
pub(super) fn unsized_constructor(e: &Expr) -> Option<String> {
    let Expr::Call(call) = e else { return None };
    let Expr::Path(path) = &*call.func else { return None };
    let segments: Vec<&syn::PathSegment> = path.path.segments.iter().collect();
    let [.., ty, function] = segments.as_slice() else { return None };
    let kind = ty.ident.to_string();
    let constructor = matches!(
        function.ident.to_string().as_str(),
        "identity" | "zeros" | "from" | "from_rows" | "from_fn" | "from_element" | "repeat" | "new"
    );
    if !matches!(kind.as_str(), "Matrix" | "Vector") || !constructor || constructor_type(e).is_some() {
        return None;
    }
    let sized = if kind == "Matrix" { "Matrix::<R, C>" } else { "Vector::<N>" };
    let call = e.to_token_stream().to_string().replace(' ', "");
    let with_size = call.replacen(&format!("{kind}::"), &format!("{sized}::"), 1);
    let (name, annotation) = if kind == "Matrix" { ("m", "Matrix<R, C>") } else { ("v", "Vector<N>") };
    Some(format!(
        "cannot tell the size of `{call}` here: write it with its size, `{with_size}`, or bind it to a variable with a type annotation, `let {name}: {annotation} = {call};`"
    ))
}

/// Something with a span, for a diagnostic about generated code.
fn span_of(span: Span) -> TokenStream {
    quote::quote_spanned!(span=> _)
}
