//! Expressions: arithmetic and float methods on SSA values become instructions; anything
//! that reads no SSA value stays the user's code, whole.

use proc_macro2::{Ident, TokenStream};
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::visit_mut::VisitMut;
use syn::{BinOp, Expr, UnOp};

use super::matrix::is_matrix;
use super::{dim_of, messages, refused, unsupported, Front, Operand, Result, Var};
use crate::ir::{Code, Op, Path, Position, Type, Value};
use crate::rules;
use crate::shape::Dim;
use std::collections::BTreeMap;

impl Front<'_> {
    /// Lowers an expression for its value.
    pub(super) fn expr(&mut self, e: &Expr) -> Result<Operand> {
        if let Some(value) = float_literal(e) {
            return Ok(Operand::Value(self.push1(Op::Literal(value), vec![], Type::Scalar, e.span())));
        }
        // (The type the context gives a call's result, for this expression only.)
        let mut expected = self.expected.take();
        if let Some((result, ty)) = &self.result {
            if std::ptr::eq(*result, e) {
                expected = Some(ty.clone());
            }
        }
        if !self.reads_ssa(e) && !is_float_data(e) {
            return self.code(e);
        }
        // Code over values never differentiated alone (an inlined function's integer
        // parameter: `n % 3`, `n.min(1)`) is the user's code, with holes.
        if self.reads_only_opaque(e) && !is_float_data(e) {
            return self.code(e);
        }
        match e {
            Expr::Paren(p) => {
                self.expected = expected;
                self.expr(&p.expr)
            }
            Expr::Group(g) => {
                self.expected = expected;
                self.expr(&g.expr)
            }
            Expr::Path(path) => match path.path.get_ident().and_then(|i| self.ssa(&i.to_string())) {
                Some(value) => Ok(Operand::Value(value)),
                None => unsupported(e, "this path"),
            },
            Expr::Unary(unary) => match unary.op {
                UnOp::Neg(_) => {
                    self.expected = expected;
                    let operand = self.expr(&unary.expr)?;
                    if let Operand::Value(v) = operand {
                        if is_matrix(self.f.ty(v)) {
                            return self.matrix_arithmetic(&Op::Neg, v, None, e);
                        }
                    }
                    self.arithmetic(Op::Neg, vec![operand], e)
                }
                // `*x` of a parameter taken by reference is its value.
                UnOp::Deref(_) => match self.expr(&unary.expr)? {
                    Operand::Value(v) if self.f.ty(v).is_differentiable() => Ok(Operand::Value(v)),
                    _ => self.code(e),
                },
                _ => self.code(e),
            },
            Expr::Binary(binary) => {
                let op = match binary.op {
                    BinOp::Add(_) => Op::Add,
                    BinOp::Sub(_) => Op::Sub,
                    BinOp::Mul(_) => Op::Mul,
                    BinOp::Div(_) => Op::Div,
                    _ if is_compound_assign(&binary.op) => {
                        return unsupported(e, "a compound assignment as a value");
                    }
                    // A remainder of a differentiated value has a derivative; as code it
                    // would silently have none.
                    BinOp::Rem(_) => {
                        return refused(
                            e,
                            format!(
                                "`%` of a differentiated value is not supported; {}",
                                messages::REMAINDER
                            ),
                        )
                    }
                    // Comparisons, `%`, `&&`…: never differentiated.
                    _ => return self.code(e),
                };
                let (a, b) = self.operands(&op, &binary.left, &binary.right, expected.as_ref())?;
                if let Some((a, b)) = self.matrix_operands(&op, &a, &b, e)? {
                    return self.matrix_arithmetic(&op, a, Some(b), e);
                }
                self.arithmetic(op, vec![a, b], e)
            }
            Expr::MethodCall(call) => {
                if let Some(consumed) = self.consume(call)? {
                    return Ok(consumed);
                }
                // (`g(x).sin()`: a float method's receiver is a scalar.)
                if rules::arity(&call.method.to_string()).is_some() {
                    self.expected = Some(Type::Scalar);
                }
                let receiver = self.expr(&call.receiver)?;
                if let Operand::Value(v) = receiver {
                    let ty = self.f.ty(v).clone();
                    // `x.len()`: the length, an integer known to the type.
                    if call.method == "len" && call.args.is_empty() {
                        // (A nested array's length is its number of rows.)
                        let len = match &ty {
                            Type::Array(_, n) => Some(n.clone()),
                            ty => ty.components(),
                        };
                        if let Some(len) = len {
                            let len = len.value();
                            return Ok(Operand::Code { tokens: quote::quote!(#len), holes: Vec::new() });
                        }
                    }
                    let array = matches!(&ty, Type::Array(elem, _) if **elem == Type::Scalar);
                    if is_matrix(&ty) || (array && call.method == "map") {
                        return self.matrix_method(call, v);
                    }
                }
                // `c.dot(&x)`, `c.map(|t| t * x)` of a constant vector or matrix `c` with
                // differentiated arguments: a constant of the type the code shows.
                if let Operand::Code { tokens, holes } = &receiver {
                    if VECTOR_METHODS.contains(&call.method.to_string().as_str())
                        && call.args.iter().any(|arg| self.reads_ssa(arg))
                    {
                        let code = syn::parse2::<Expr>(tokens.clone()).ok();
                        let ty = code.and_then(|code| self.code_type(&code, holes));
                        let array = matches!(&ty, Some(Type::Array(elem, _)) if **elem == Type::Scalar);
                        if let Some(ty) = ty.filter(|ty| is_matrix(ty) || (array && call.method == "map")) {
                            let v = self.operand_as(receiver.clone(), &ty, &call.receiver)?;
                            return self.matrix_method(call, v);
                        }
                    }
                }
                // `self.residual(p)`, `model.f(x)`: a method of a constant receiver that is
                // not a float method, with differentiated arguments, is another
                // `#[jacobian]` function.
                if let Operand::Code { tokens, holes } = &receiver {
                    let name = call.method.to_string();
                    if holes.is_empty()
                        && crate::rules::arity(&name).is_none()
                        && !VECTOR_METHODS.contains(&name.as_str())
                    {
                        let parts = crate::expand::parts_name(&call.method);
                        let turbofish = &call.turbofish;
                        let callee = quote::quote!(#tokens.#parts #turbofish);
                        return self.annotated_call(callee, &call.method, &call.args, expected, e);
                    }
                }
                self.integer_operands(&call.method, call.args.iter(), 1)?;
                let mut operands = vec![receiver];
                for arg in &call.args {
                    operands.push(self.expr(arg)?);
                }
                self.method(&call.method, operands, e)
            }
            // `f64::sin(x)`, `T::max(a, b)`.
            Expr::Call(call) => {
                if let Some(constructed) = self.matrix_constructor(call) {
                    return constructed;
                }
                if let Expr::Path(path) = &*call.func {
                    if let Some(Var::Closure(closure)) =
                        path.path.get_ident().and_then(|i| self.lookup(&i.to_string()))
                    {
                        let closure = closure.clone();
                        return self.call_closure(&closure, call);
                    }
                }
                let method = match &*call.func {
                    Expr::Path(path)
                        if path.path.segments.len() == 2
                            && self.is_scalar_type(&path.path.segments[0].ident) =>
                    {
                        path.path.segments[1].ident.clone()
                    }
                    Expr::Path(path) if path.qself.is_none() => {
                        if let Some(inlined) = self.inline_call(call)? {
                            return Ok(inlined);
                        }
                        // Another `#[jacobian]` function: chained through its parts sibling.
                        let mut callee = path.path.clone();
                        let Some(last) = callee.segments.last_mut() else {
                            return unsupported(e, "this call");
                        };
                        let name = last.ident.to_string();
                        if name.starts_with(|c: char| c.is_uppercase()) {
                            return refused(e, format!("`{name}(…)` of a differentiated value is not supported: enum variants and tuple structs cannot carry derivatives; keep the value in a variable"));
                        }
                        let name = last.ident.clone();
                        last.ident = crate::expand::parts_name(&last.ident);
                        return self.annotated_call(callee.to_token_stream(), &name, &call.args, expected, e);
                    }
                    _ => return refused(&call.func, "only calls of named functions are supported here; bind the closure to a name with `let`, or write its body out"),
                };
                self.integer_operands(&method, call.args.iter(), 0)?;
                let mut operands = Vec::new();
                for arg in &call.args {
                    // (`f64::max(g(x), y)`: a float method's operands are scalars.)
                    self.expected = Some(Type::Scalar);
                    operands.push(self.expr(arg)?);
                }
                self.method(&method, operands, e)
            }
            Expr::Cast(cast) => {
                let operand = self.expr(&cast.expr)?;
                match operand {
                    Operand::Value(v)
                        if *self.f.ty(v) == Type::Scalar && self.is_scalar_type_tokens(&cast.ty) =>
                    {
                        Ok(Operand::Value(v))
                    }
                    Operand::Value(v) if *self.f.ty(v) == Type::Scalar => {
                        refused(e, messages::cast(&cast.ty, &self.signature.scalar.tokens))
                    }
                    _ => self.code(e),
                }
            }
            Expr::Array(array) => {
                let mut items = Vec::new();
                for item in &array.elems {
                    // (An element's type, for a call of another `#[jacobian]` function there.)
                    self.expected = match &expected {
                        Some(Type::Array(elem, _)) => Some((**elem).clone()),
                        Some(Type::Vector(_) | Type::Matrix(..)) => Some(Type::Scalar),
                        _ => None,
                    };
                    items.push(self.expr(item)?);
                }
                // Rows of a nested array `[[a, b], [c, d]]`: arrays of one length.
                let row = match items.first() {
                    Some(Operand::Value(v)) => match self.f.ty(*v) {
                        Type::Array(elem, n) if **elem == Type::Scalar => Some(Type::array(n.clone())),
                        _ => None,
                    },
                    _ => None,
                };
                let element = row.clone().unwrap_or(Type::Scalar);
                let ty = Type::Array(Box::new(element.clone()), crate::shape::Dim::Lit(items.len()));
                let mut values = Vec::new();
                for (item, at) in items.into_iter().zip(&array.elems) {
                    values.push(self.operand_as(item, &element, at)?);
                }
                Ok(Operand::Value(self.push1(Op::Build, values, ty, e.span())))
            }
            Expr::Repeat(repeat) => {
                let item = self.expr(&repeat.expr)?;
                // `[[0.0; C]; R]`: a nested array.
                let item = match item {
                    Operand::Value(v) if is_array_of_scalars(self.f.ty(v)) => v,
                    item => self.operand_as(item, &Type::Scalar, &repeat.expr)?,
                };
                let ty = Type::Array(Box::new(self.f.ty(item).clone()), dim_of(&repeat.len));
                let ty = self.resolved(ty);
                Ok(Operand::Value(self.push1(Op::Splat, vec![item], ty, e.span())))
            }
            Expr::Index(index) => {
                // `x[i][j]` of a nested array: one element, at two positions.
                if let Expr::Index(inner) = &*index.expr {
                    let base = self.expr(&inner.expr)?;
                    if let Operand::Value(v) = &base {
                        if is_nested(self.f.ty(*v)) {
                            let (mut path, mut args) = self.index(&inner.index)?;
                            let (second, more) = self.index(&index.index)?;
                            path.0.extend(second.0);
                            args.extend(more);
                            args.insert(0, *v);
                            return Ok(Operand::Value(self.push1(
                                Op::Get(path),
                                args,
                                Type::Scalar,
                                e.span(),
                            )));
                        }
                    }
                    let middle = self.index_operand(base, &inner.index, &index.expr)?;
                    return self.index_operand(middle, &index.index, e);
                }
                let base = self.expr(&index.expr)?;
                self.index_operand(base, &index.index, e)
            }
            // A tuple of values: the result of a function that returns one.
            Expr::Tuple(tuple) if !tuple.elems.is_empty() => {
                let mut values = Vec::new();
                for item in &tuple.elems {
                    let operand = self.expr(item)?;
                    let value = self.materialize(operand, item.span());
                    let value = match self.f.ty(value).clone() {
                        Type::Opaque => self.coerce(value, &Type::Scalar, item)?,
                        _ => value,
                    };
                    values.push(value);
                }
                let ty = Type::Tuple(values.iter().map(|v| self.f.ty(*v).clone()).collect());
                Ok(Operand::Value(self.push1(Op::Tuple, values, ty, e.span())))
            }
            // `x.sin_cos().0`, `f64::sin_cos(x).1`.
            Expr::Field(field) if matches!(&field.member, syn::Member::Unnamed(i) if i.index < 2) => {
                if let Some(both) = self.sin_cos(&field.base)? {
                    let syn::Member::Unnamed(index) = &field.member else { unreachable!("an index") };
                    return Ok(Operand::Value(both[index.index as usize]));
                }
                self.field(field, e)
            }
            Expr::Field(field) => self.field(field, e),
            Expr::Block(block) if block.label.is_none() => match self.scoped_block(&block.block, true)? {
                Some(tail) => Ok(tail),
                None => unsupported(e, "a block without a value where a value is needed"),
            },
            Expr::Match(m) => match self.match_as_if(m)? {
                chain @ Expr::If(_) => match self.if_expr(&chain, true)? {
                    Some(value) => Ok(value),
                    None => unsupported(e, "a `match` without a value where a value is needed"),
                },
                only => self.expr(&only),
            },
            Expr::If(_) => match self.if_expr(e, true)? {
                Some(value) => Ok(value),
                None => unsupported(e, "an `if` without a value where a value is needed"),
            },
            Expr::Reference(reference) if reference.mutability.is_none() => {
                match self.expr(&reference.expr)? {
                    Operand::Code { .. } => self.code(e),
                    // `&x[3..6]`, `&v`: read, a reference is its value.
                    Operand::Value(v)
                        if matches!(&*reference.expr, Expr::Index(_) | Expr::Path(_) | Expr::Paren(_)) =>
                    {
                        Ok(Operand::Value(v))
                    }
                    Operand::Value(_) => refused(e, "a reference to a computed differentiated value is not supported; bind the value to a variable and pass `&name`"),
                }
            }
            // (A labelled block at its label: the block may be long.)
            Expr::Block(block) if block.label.is_some() => refused(&block.label, messages::expression(e)),
            _ => refused(e, messages::expression(e)),
        }
    }

    /// An index: a literal position, or a run-time one as an opaque value.
    pub(super) fn index(&mut self, index: &Expr) -> Result<(Path, Vec<Value>)> {
        if let Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(n), .. }) = index {
            if let Ok(k) = n.base10_parse::<usize>() {
                return Ok((Path(vec![Position::Const(k)]), Vec::new()));
            }
        }
        if self.reads_scalar_expr(index) {
            return refused(index, "an index cannot depend on a differentiated value");
        }
        let operand = self.expr(index)?;
        if self.reads_scalar(&operand) {
            return refused(index, "an index cannot depend on a differentiated value");
        }
        Ok((Path(vec![Position::Dynamic]), vec![self.materialize(operand, index.span())]))
    }

    /// `base[index]` for a lowered base.
    fn index_operand(&mut self, base: Operand, index: &Expr, e: &Expr) -> Result<Operand> {
        if let Operand::Value(v) = &base {
            if is_nested(self.f.ty(*v)) {
                let (path, args) = self.index(index)?;
                return Ok(Operand::Value(self.row(*v, path, args, e.span())?));
            }
        }
        // `x[3..6]`: the sub-array of a constant range, as its own array.
        if let (Operand::Value(array), Expr::Range(range)) = (&base, index) {
            return self.sub_array(*array, range, e);
        }
        match base {
            Operand::Value(array)
                if matches!(self.f.ty(array), Type::Array(..)) || is_matrix(self.f.ty(array)) =>
            {
                let element = self.f.ty(array).element().unwrap_or(Type::Opaque);
                let ty = self.f.ty(array).clone();
                let (path, mut args) = self.index_path(&ty, index)?;
                args.insert(0, array);
                Ok(Operand::Value(self.push1(Op::Get(path), args, element, e.span())))
            }
            Operand::Value(v) => refused(e, format!("cannot index {}", messages::describe(self.f.ty(v)))),
            Operand::Code { .. } => {
                let position = self.expr(index)?;
                if self.reads_scalar(&position) {
                    return unsupported(index, "an index that depends on a differentiated value");
                }
                self.code(e)
            }
        }
    }

    /// Row `path` of a nested array `[[T; C]; R]`, as an array `[T; C]` of its elements (a
    /// literal `C`).
    pub(super) fn row(
        &mut self,
        nested: Value,
        path: Path,
        args: Vec<Value>,
        span: proc_macro2::Span,
    ) -> Result<Value> {
        let Some(row_type) = self.f.ty(nested).element() else {
            return unsupported(&quote::quote_spanned!(span=> _), "indexing this value");
        };
        let Some(c) = row_type.components().and_then(|c| c.lit()) else {
            return unsupported(
                &quote::quote_spanned!(span=> _),
                "a whole row of a nested array whose rows have a symbolic length; read its elements `x[i][j]`",
            );
        };
        let items: Vec<Value> = (0..c)
            .map(|j| {
                let mut at = path.clone();
                at.0.push(Position::Const(j));
                let mut operands = vec![nested];
                operands.extend(&args);
                self.push1(Op::Get(at), operands, Type::Scalar, span)
            })
            .collect();
        Ok(self.push1(Op::Build, items, row_type, span))
    }

    fn sub_array(&mut self, array: Value, range: &syn::ExprRange, e: &Expr) -> Result<Operand> {
        let literal = |e: &Option<Box<Expr>>| match e.as_deref() {
            Some(Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(i), .. })) => i.base10_parse::<usize>().ok(),
            _ => None,
        };
        let ty = self.f.ty(array).clone();
        let Type::Array(elem, n) = &ty else {
            return unsupported(e, "a sub-array of something that is not an array");
        };
        let start = if range.start.is_none() { Some(0) } else { literal(&range.start) };
        let closed = usize::from(matches!(range.limits, syn::RangeLimits::Closed(_)));
        let end = if range.end.is_none() { n.lit() } else { literal(&range.end).map(|b| b + closed) };
        match (start, end) {
            (Some(a), Some(b)) if **elem == Type::Scalar && a <= b && n.lit().is_none_or(|n| b <= n) => {
                let items: Vec<Value> = (a..b)
                    .map(|k| {
                        self.push1(
                            Op::Get(Path(vec![Position::Const(k)])),
                            vec![array],
                            Type::Scalar,
                            e.span(),
                        )
                    })
                    .collect();
                let ty = Type::array(crate::shape::Dim::Lit(b - a));
                Ok(Operand::Value(self.push1(Op::Build, items, ty, e.span())))
            }
            _ => unsupported(e, "a sub-array other than of a constant range of an array (`x[3..6]`)"),
        }
    }

    /// The position of an element: `(i, j)` of a matrix, one index otherwise.
    pub(super) fn index_path(&mut self, ty: &Type, index: &Expr) -> Result<(Path, Vec<Value>)> {
        let (path, args) = self.index_path_unchecked(ty, index)?;
        let bounds = match ty {
            Type::Array(_, n) | Type::Vector(n) => vec![n],
            Type::Matrix(r, c) => vec![r, c],
            _ => Vec::new(),
        };
        for (position, bound) in path.0.iter().zip(bounds) {
            if let (Position::Const(k), Some(n)) = (position, bound.lit()) {
                if *k >= n {
                    return refused(
                        index,
                        format!("index out of bounds: the index is {k} but the length is {n}"),
                    );
                }
            }
        }
        Ok((path, args))
    }

    fn index_path_unchecked(&mut self, ty: &Type, index: &Expr) -> Result<(Path, Vec<Value>)> {
        match (ty, index) {
            (Type::Matrix(..), Expr::Tuple(pair)) if pair.elems.len() == 2 => {
                let (mut first, mut args) = self.index(&pair.elems[0])?;
                let (second, more) = self.index(&pair.elems[1])?;
                first.0.extend(second.0);
                args.extend(more);
                Ok((first, args))
            }
            // A vector is a one-column matrix: `v[(i, 0)]` is `v[i]`, and `m[i]` is `m[(i, 0)]`
            // for a matrix of one column.
            (Type::Vector(_), Expr::Tuple(pair)) if pair.elems.len() == 2 => self.index(&pair.elems[0]),
            (Type::Matrix(_, c), _) if *c == crate::shape::Dim::Lit(1) => {
                let (mut path, args) = self.index(index)?;
                path.0.push(Position::Const(0));
                Ok((path, args))
            }
            (Type::Matrix(..), _) => unsupported(index, "indexing a matrix other than by `(i, j)`"),
            _ => self.index(index),
        }
    }

    /// The operands of `a op b` as values when one of them is a vector or matrix (user code
    /// of a literal vector or matrix as a constant, other code as a scalar when that is
    /// what it must be); `None` for scalar arithmetic.
    pub(super) fn matrix_operands(
        &mut self,
        op: &Op,
        a: &Operand,
        b: &Operand,
        e: &Expr,
    ) -> Result<Option<(Value, Value)>> {
        let mut types = Vec::new();
        for operand in [a, b] {
            types.push(match operand {
                Operand::Value(v) => Some(self.f.ty(*v).clone()),
                Operand::Code { tokens, holes } => {
                    syn::parse2::<Expr>(tokens.clone()).ok().and_then(|code| self.code_type(&code, holes))
                }
            });
        }
        if !types.iter().flatten().any(is_matrix) {
            return Ok(None);
        }
        let mut values = Vec::new();
        for (operand, ty) in [a, b].into_iter().zip(types) {
            let value = match (operand, ty) {
                (Operand::Value(v), _) => *v,
                (operand, Some(ty)) => self.operand_as(operand.clone(), &ty, e)?,
                // A divisor of a vector or matrix is a scalar.
                (operand, None) if matches!(op, Op::Div) && std::ptr::eq(operand, b) => {
                    self.operand_as(operand.clone(), &Type::Scalar, e)?
                }
                (Operand::Code { tokens, .. }, None) => {
                    let code = syn::parse2::<Expr>(tokens.clone()).ok();
                    if let Some(problem) = code.as_ref().and_then(super::matrix::unsized_constructor) {
                        return refused(tokens, problem);
                    }
                    return unsupported(e, "this operand of a vector or matrix operation; bind it to a variable with a type annotation");
                }
            };
            values.push(value);
        }
        Ok(Some((values[0], values[1])))
    }

    /// `pair.0` of a pair an iterator yielded.
    fn field(&mut self, field: &syn::ExprField, e: &Expr) -> Result<Operand> {
        // `v.x`, `v.y`, … of a vector (nalgebra's coordinates).
        if let syn::Member::Named(name) = &field.member {
            if let Some(k) = ["x", "y", "z", "w", "a", "b"].iter().position(|c| name == c) {
                if let Operand::Value(v) = self.expr(&field.base)? {
                    if let Type::Vector(n) = self.f.ty(v).clone() {
                        if n.lit().is_none_or(|n| k < n) {
                            let path = Path(vec![Position::Const(k)]);
                            return Ok(Operand::Value(self.push1(
                                Op::Get(path),
                                vec![v],
                                Type::Scalar,
                                e.span(),
                            )));
                        }
                    }
                }
                return refused(e, messages::FIELD);
            }
        }
        let item = match &*field.base {
            Expr::Path(p) => match p.path.get_ident().and_then(|i| self.lookup(&i.to_string())) {
                Some(Var::Pair(item)) => Some((**item).clone()),
                // `t.0` of a tuple the function built (`let t = (a, b);`).
                Some(Var::Ssa { value, .. }) if matches!(self.f.ty(*value), Type::Tuple(_)) => {
                    let (value, name) = (*value, p.to_token_stream());
                    let syn::Member::Unnamed(index) = &field.member else {
                        return refused(e, messages::FIELD);
                    };
                    let Some(components) = self.tuple_components(value) else {
                        return refused(e, format!("the tuple `{name}` is updated inside a loop or branch with differentiated values; use one variable per component"));
                    };
                    return match components.get(index.index as usize) {
                        Some(component) => Ok(Operand::Value(*component)),
                        None => refused(e, format!("the tuple `{name}` has {} components", components.len())),
                    };
                }
                _ => None,
            },
            _ => None,
        };
        match (item, &field.member) {
            (Some(super::iter::Item::Pair(a, b)), syn::Member::Unnamed(index)) if index.index < 2 => {
                match if index.index == 0 { *a } else { *b } {
                    super::iter::Item::Value(v) => Ok(Operand::Value(v)),
                    super::iter::Item::Pair(..) => unsupported(e, "a pair where a value is needed"),
                }
            }
            _ => refused(e, messages::FIELD),
        }
    }

    /// `x.sin_cos()` or `f64::sin_cos(x)`: the sine and cosine, from one instruction.
    pub(super) fn sin_cos(&mut self, e: &Expr) -> Result<Option<[Value; 2]>> {
        let x = match e {
            Expr::MethodCall(call) if call.method == "sin_cos" && call.args.is_empty() => &*call.receiver,
            Expr::Call(call) => match (&*call.func, call.args.iter().collect::<Vec<_>>().as_slice()) {
                (Expr::Path(path), [x])
                    if path.path.segments.len() == 2
                        && self.is_scalar_type(&path.path.segments[0].ident)
                        && path.path.segments[1].ident == "sin_cos" =>
                {
                    *x
                }
                _ => return Ok(None),
            },
            Expr::Paren(p) => return self.sin_cos(&p.expr),
            _ => return Ok(None),
        };
        let operand = self.expr(x)?;
        if matches!(operand, Operand::Code { .. }) {
            return Ok(None);
        }
        let x = self.operand_as(operand, &Type::Scalar, x)?;
        let both = self.push(Op::SinCos, vec![x], &[Type::Scalar, Type::Scalar], e.span());
        Ok(Some([both[0], both[1]]))
    }

    /// The operands of `left op right`. A call of another `#[jacobian]` function added to,
    /// subtracted from or dividing a scalar is a scalar (no vector or matrix is added to a
    /// scalar, nor divides one), which is the context its result type needs; such a call on
    /// the left is lowered after the right operand that tells.
    fn operands(
        &mut self,
        op: &Op,
        left: &Expr,
        right: &Expr,
        expected: Option<&Type>,
    ) -> Result<(Operand, Operand)> {
        // A scalar is made by `+ - * /` of scalars only.
        if expected == Some(&Type::Scalar) {
            self.expected = Some(Type::Scalar);
            let a = self.expr(left)?;
            self.expected = Some(Type::Scalar);
            let b = self.expr(right)?;
            return Ok((a, b));
        }
        let additive = matches!(op, Op::Add | Op::Sub);
        let call = |e: &Expr| matches!(e, Expr::Call(_) | Expr::MethodCall(_));
        if additive && call(left) && !call(right) {
            let b = self.expr(right)?;
            if self.is_scalar_operand(&b, right) {
                self.expected = Some(Type::Scalar);
            }
            let a = self.expr(left)?;
            return Ok((a, b));
        }
        let a = self.expr(left)?;
        if (additive || matches!(op, Op::Div)) && self.is_scalar_operand(&a, left) {
            self.expected = Some(Type::Scalar);
        }
        let b = self.expr(right)?;
        Ok((a, b))
    }

    /// `let y = g(…);` without annotation, for a call `g` of another `#[jacobian]` function:
    /// a scalar if a later statement uses `y` as only a scalar can be used (a float method's
    /// receiver or operand, added to or compared with a float literal) before binding the
    /// name again. Nothing else is guessed: a wrong type would be an error in the expansion.
    pub(super) fn call_result_type(local: &syn::Local, rest: &[syn::Stmt]) -> Option<Type> {
        let (syn::Pat::Ident(ident), Some(init)) = (&local.pat, &local.init) else { return None };
        if !matches!(&*init.expr, Expr::Call(_) | Expr::MethodCall(_)) {
            return None;
        }
        let mut uses = ScalarUse { name: &ident.ident, found: false, rebound: false };
        for stmt in rest {
            uses.visit_stmt(stmt);
            if uses.found || uses.rebound {
                break;
            }
        }
        uses.found.then_some(Type::Scalar)
    }

    /// Known to be a scalar: a scalar value, or a float literal.
    fn is_scalar_operand(&self, operand: &Operand, e: &Expr) -> bool {
        match operand {
            Operand::Value(v) => *self.f.ty(*v) == Type::Scalar,
            Operand::Code { .. } => {
                matches!(e, Expr::Lit(syn::ExprLit { lit: syn::Lit::Float(_), .. }))
            }
        }
    }

    /// `+ - * /` and negation: on scalars, an instruction; on code alone, code.
    fn arithmetic(&mut self, op: Op, operands: Vec<Operand>, e: &Expr) -> Result<Operand> {
        if operands.iter().all(|o| matches!(o, Operand::Code { .. })) {
            return self.code(e);
        }
        let mut args = Vec::new();
        for operand in operands {
            if let Operand::Value(v) = &operand {
                if !matches!(self.f.ty(*v), Type::Scalar | Type::Opaque) {
                    return refused(e, "arithmetic on whole arrays is not supported; index the components (`a[i] + b[i]`) in a loop, or use `Vector`");
                }
            }
            args.push(self.operand_as(operand, &Type::Scalar, e)?);
        }
        Ok(Operand::Value(self.push1(op, args, Type::Scalar, e.span())))
    }

    /// Refuses an integer operand of a float method (`powi`'s exponent), from the `first`th
    /// operand on, that depends on a differentiated value.
    fn integer_operands<'e>(
        &self,
        method: &Ident,
        args: impl Iterator<Item = &'e Expr>,
        first: usize,
    ) -> Result<()> {
        let Some(&(name, _)) = rules::METHODS.iter().find(|(m, _)| method == m) else { return Ok(()) };
        for (k, arg) in args.enumerate() {
            if rules::is_integer_operand(name, first + k) && self.reads_scalar_expr(arg) {
                return refused(
                    arg,
                    format!("the exponent of `{name}` is an integer and cannot depend on a differentiated value; use `powf`"),
                );
            }
        }
        Ok(())
    }

    /// A float method from the rule table, receiver first.
    fn method(&mut self, name: &Ident, operands: Vec<Operand>, e: &Expr) -> Result<Operand> {
        let Some(&(method, arity)) = rules::METHODS.iter().find(|(m, _)| name == m) else {
            if ["iter", "into_iter", "iter_mut"].iter().any(|m| name == m) {
                return refused(name, messages::ITERATOR_CHAIN);
            }
            return refused(name, messages::unknown_method(&name.to_string()));
        };
        if operands.len() != arity {
            return refused(e, format!("`{name}` takes {} argument(s) besides the receiver", arity - 1));
        }
        if operands.iter().all(|o| matches!(o, Operand::Code { .. })) {
            return self.code(e);
        }
        let mut args = Vec::new();
        for (k, operand) in operands.into_iter().enumerate() {
            if rules::is_integer_operand(method, k) {
                if self.reads_scalar(&operand) {
                    return unsupported(e, "an integer exponent that depends on a differentiated value");
                }
                args.push(self.materialize(operand, e.span()));
            } else {
                args.push(self.operand_as(operand, &Type::Scalar, e)?);
            }
        }
        Ok(Operand::Value(self.push1(Op::Call(method), args, Type::Scalar, e.span())))
    }

    /// The user's code for `e`, with the SSA values it reads as holes.
    /// `callee(args…)`, a call of another `#[jacobian]` function (`callee` already names
    /// its hidden parts sibling, which returns the value and one Jacobian block per
    /// parameter): the parts call is user code (`Code`), and its value an `Op::Chain` whose
    /// derivatives forward and reverse mode read from the blocks. The value's type is not
    /// written anywhere the macro can see but where the context gives it (`expected`: a
    /// `let` annotation, the function's result).
    fn annotated_call(
        &mut self,
        callee: TokenStream,
        name: &Ident,
        args: &syn::punctuated::Punctuated<Expr, syn::Token![,]>,
        expected: Option<Type>,
        e: &Expr,
    ) -> Result<Operand> {
        let mut holes = Vec::new();
        let mut written = Vec::new();
        let mut chained = Vec::new();
        let mut blocks = Vec::new();
        // The type of each argument that is a differentiable value, for the callee's
        // const-generic sizes.
        let mut arguments: Vec<Option<Type>> = Vec::new();
        for (k, arg) in args.iter().enumerate() {
            arguments.push(None);
            if !self.reads_ssa(arg) {
                written.push(arg.to_token_stream());
                continue;
            }
            let (inner, reference) = match arg {
                Expr::Reference(r) if r.mutability.is_none() => (&*r.expr, true),
                // A reference passed on as it is (`g(x)` for `x: &Vector<2>`, `v` of
                // `for v in &a`): the value is what it refers to, so it is lent again.
                Expr::Path(path) => {
                    let held = path.path.get_ident().is_some_and(|i| self.is_reference(&i.to_string()));
                    (arg, held)
                }
                arg => (arg, false),
            };
            match self.expr(inner)? {
                Operand::Value(v) if self.f.ty(v).is_differentiable() => {
                    if matches!(self.f.ty(v), Type::Tuple(_)) {
                        return refused(arg, "a tuple of differentiated values cannot be passed to a differentiated function; pass its components");
                    }
                    let hole = Code::hole(holes.len());
                    holes.push(v);
                    written.push(if reference { quote::quote!(&#hole) } else { hole.to_token_stream() });
                    chained.push(v);
                    blocks.push(k + 1);
                    arguments[k] = Some(self.f.ty(v).clone());
                }
                operand => {
                    // Not differentiated (an integer computed from data): its code, with its
                    // holes renumbered after ours.
                    let (tokens, inner_holes) = match operand {
                        Operand::Code { tokens, holes } => (tokens, holes),
                        Operand::Value(v) => (Code::hole(0).to_token_stream(), vec![v]),
                    };
                    let tokens = super::iter::shift_holes(tokens, holes.len());
                    holes.extend(inner_holes);
                    written.push(if reference { quote::quote!(&#tokens) } else { tokens });
                }
            }
        }
        let callees = self.callees();
        if callees.is_plain(&name.to_string()) {
            return super::refused(
                name,
                format_args!(
                    "`{name}` receives a differentiated value, but it is not annotated with `#[jacobian]`, so its derivative is unknown here; annotate it with `#[jacobian]` (its siblings are then used to differentiate through the call), or pass it only values that are not differentiated"
                ),
            );
        }
        let ty = match expected {
            Some(ty) => ty,
            None => match self.callee_result(name, &arguments) {
                Some(ty) => ty,
                None => return refused(e, format!("`#[jacobian]` cannot tell the type of the result of `{name}`, another `#[jacobian]` function; give it a type, e.g. `let m: Matrix<2, 2> = {name}(…);`")),
            },
        };
        if !ty.is_differentiable() || matches!(ty, Type::Tuple(_)) {
            return unsupported(e, "a call of another function with this result type");
        }
        let parts = self.push1(
            Op::Code(Code { tokens: quote::quote!(#callee(#(#written),*)) }),
            holes,
            Type::Opaque,
            e.span(),
        );
        let mut operands = vec![parts];
        operands.extend(chained);
        Ok(Operand::Value(self.push1(Op::Chain { blocks }, operands, ty, e.span())))
    }

    /// `callee(args…)` written out in place, when inlining (`lower_with`) and the callee
    /// can be (`Callees::inlinable`): applied as a function defined in the body is. Not
    /// where its body assigns to variables (which applying does not take), reads a name the
    /// caller binds (which would mean the caller's variable), or calls back a function
    /// being inlined.
    fn inline_call(&mut self, call: &syn::ExprCall) -> Result<Option<Operand>> {
        let Expr::Path(path) = &*call.func else { return Ok(None) };
        let (Some(stack), Some(name)) = (&self.inline, path.path.get_ident()) else { return Ok(None) };
        let name = name.to_string();
        let caller = stack.last().cloned().unwrap_or_else(|| self.name.clone());
        if name == self.name || stack.contains(&name) {
            return Ok(None);
        }
        let callees = self.callees();
        let Some(callee) = callees.inlinable(&caller, &name) else { return Ok(None) };
        // (A callee taking differentiable structs is written out as its translation over
        // their fields, which the caller passes: `structs`.)
        let callee = match crate::structs::translate(&callee, &quote::quote!(::jacobian)) {
            Some(Ok((translated, _))) => translated,
            Some(Err(_)) => return Ok(None),
            None => callee,
        };
        let Some(closure) = super::iter::closure_of(&callee.sig, &callee.block) else { return Ok(None) };
        if super::iter::assigns_outside(&closure) {
            return Ok(None);
        }
        // (Names the body binds itself, its parameters, `let`s and patterns, are its own.)
        struct Bound(Vec<String>);
        impl<'ast> Visit<'ast> for Bound {
            fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
                self.0.push(p.ident.to_string());
            }
        }
        let mut bound = Bound(Vec::new());
        bound.visit_expr_closure(&closure);
        if self
            .captures(&closure)
            .iter()
            .any(|(read, _)| !bound.0.contains(read) && self.lookup(read).is_some())
        {
            return Ok(None);
        }
        let closure = super::iter::Closure { expr: closure, captured: Vec::new() };
        if let Some(stack) = &mut self.inline {
            stack.push(name);
        }
        let inlined = self.call_closure(&closure, call);
        if let Some(stack) = &mut self.inline {
            stack.pop();
        }
        inlined.map(Some)
    }

    /// What the function's file (and the crate's others) tell of the functions it calls,
    /// read once.
    pub(super) fn callees(&mut self) -> &crate::callees::Callees {
        let at = self.at;
        let caller = &self.signature_of_item;
        self.callees.get_or_insert_with(|| crate::callees::Callees::of(at, caller))
    }

    /// The result type of the annotated function `name`, from its signature in the source
    /// file (`callees`), its const-generic sizes taken from the arguments' types.
    pub(super) fn callee_result(&mut self, name: &Ident, arguments: &[Option<Type>]) -> Option<Type> {
        let caller =
            self.inline.as_ref().and_then(|stack| stack.last().cloned()).unwrap_or_else(|| self.name.clone());
        let callees = self.callees();
        let callee = callees.get_from(&caller, &name.to_string())?;
        let callee = match crate::nalgebra::translate(&callee, &quote::quote!(::jacobian)) {
            Some((translated, _)) => translated,
            None => callee,
        };
        let syn::ReturnType::Type(_, output) = &callee.sig.output else { return None };
        let generics = &callee.sig.generics;
        let (shape, _) = crate::signature::shape_of(output, generics)?;
        let ty = super::type_of_shape(&shape);
        let mut sizes = BTreeMap::new();
        let params = callee.sig.inputs.iter().filter_map(|input| match input {
            syn::FnArg::Typed(typed) => Some(&*typed.ty),
            syn::FnArg::Receiver(_) => None,
        });
        for (param, argument) in params.zip(arguments) {
            let (Some((shape, _)), Some(argument)) = (crate::signature::shape_of(param, generics), argument)
            else {
                continue;
            };
            unify(&super::type_of_shape(&shape), argument, &mut sizes);
        }
        let ty = substitute(&ty, &sizes);
        let ty = self.resolved(ty);
        let generic = |d: &Dim| d.is_generic();
        let sized = match &ty {
            Type::Array(elem, n) => !generic(n) && !matches!(&**elem, Type::Array(_, m) if generic(m)),
            Type::Vector(n) => !generic(n),
            Type::Matrix(r, c) => !generic(r) && !generic(c),
            _ => true,
        };
        sized.then_some(ty)
    }

    pub(super) fn code(&mut self, e: &Expr) -> Result<Operand> {
        if leaves(e) {
            return unsupported(e, "code that returns or breaks");
        }
        if !self.reads_ssa(e) {
            return Ok(Operand::Code { tokens: e.to_token_stream(), holes: Vec::new() });
        }
        let mut e = e.clone();
        let mut filler = Filler { front: self, holes: Vec::new(), problem: None };
        filler.visit_expr_mut(&mut e);
        if let Some(problem) = filler.problem {
            return unsupported(&e, problem);
        }
        Ok(Operand::Code { tokens: e.to_token_stream(), holes: filler.holes })
    }

    /// Replaces every read of an SSA variable in `tokens` (an expression or statement) by a
    /// hole. Refuses code that binds a name of an SSA variable itself (a closure parameter,
    /// a `let` in a block), where a read could mean either.
    pub(super) fn holes(
        &mut self,
        tokens: TokenStream,
        at: &dyn ToTokens,
    ) -> Result<(TokenStream, Vec<Value>)> {
        let mut parsed: syn::Stmt = match syn::parse2(tokens.clone()) {
            Ok(stmt) => stmt,
            Err(_) => match syn::parse2::<Expr>(tokens.clone()) {
                Ok(expr) => syn::Stmt::Expr(expr, None),
                Err(_) => return unsupported(at, "code the macro cannot parse"),
            },
        };
        let mut filler = Filler { front: self, holes: Vec::new(), problem: None };
        filler.visit_stmt_mut(&mut parsed);
        if let Some(problem) = filler.problem {
            return unsupported(at, problem);
        }
        let holes = filler.holes;
        Ok((parsed.to_token_stream(), holes))
    }

    /// Is the operand, or any value its code reads, a scalar or array (something that may
    /// carry a derivative)?
    pub(super) fn reads_scalar(&self, operand: &Operand) -> bool {
        let values = match operand {
            Operand::Value(v) => vec![*v],
            Operand::Code { holes, .. } => holes.clone(),
        };
        values.iter().any(|v| *self.f.ty(*v) != Type::Opaque)
    }

    /// `x.len()` of a differentiated array, vector or matrix: its number of components,
    /// as code (`3`, `(N)`).
    pub(super) fn length_of(&self, call: &syn::ExprMethodCall) -> Option<TokenStream> {
        if call.method != "len" || !call.args.is_empty() {
            return None;
        }
        let receiver = match &*call.receiver {
            Expr::Paren(p) => &*p.expr,
            Expr::Reference(r) => &*r.expr,
            e => e,
        };
        let Expr::Path(path) = receiver else { return None };
        let value = self.ssa(&path.path.get_ident()?.to_string())?;
        let ty = self.f.ty(value);
        // (A nested array's length is its number of rows.)
        let len = match ty {
            Type::Array(_, n) => n.clone(),
            ty => ty.components()?,
        };
        ty.is_differentiable().then(|| len.value())
    }

    /// Does `e` read (or write) a variable that holds an SSA value?
    pub(super) fn reads_ssa(&self, e: &Expr) -> bool {
        let mut finder = Finder { front: self, found: false };
        finder.visit_expr(e);
        finder.found
    }

    /// Whether `e` reads SSA variables that are all never differentiated (`Opaque`), and
    /// no closure or pair of an iterator.
    fn reads_only_opaque(&self, e: &Expr) -> bool {
        struct Finder<'f, 'a> {
            front: &'f Front<'a>,
            opaque: bool,
            other: bool,
        }
        impl<'ast> Visit<'ast> for Finder<'_, '_> {
            fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
                let Some(ident) = p.path.get_ident() else { return };
                match self.front.lookup(&ident.to_string()) {
                    Some(Var::Ssa { value, .. }) if *self.front.f.ty(*value) == Type::Opaque => {
                        self.opaque = true
                    }
                    Some(Var::Ssa { .. } | Var::Closure(_) | Var::Pair(_)) => self.other = true,
                    Some(Var::Rust { .. }) | None => {}
                }
            }
            fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {
                self.other = true;
            }
            fn visit_macro(&mut self, _: &'ast syn::Macro) {
                self.other = true;
            }
        }
        let mut finder = Finder { front: self, opaque: false, other: false };
        finder.visit_expr(e);
        finder.opaque && !finder.other
    }

    pub(super) fn is_scalar_type(&self, ident: &Ident) -> bool {
        *ident == self.signature.scalar.tokens.to_string()
    }

    pub(super) fn is_scalar_type_tokens(&self, ty: &syn::Type) -> bool {
        self.signature.scalar.tokens.to_string() == ty.to_token_stream().to_string()
    }

    fn is_ssa_name(&self, ident: &Ident) -> bool {
        matches!(self.lookup(&ident.to_string()), Some(Var::Ssa { .. }))
    }
}

/// Does `e` leave the function or a loop around it (`return`, `?`, a `break` or `continue`
/// not inside a loop of its own)? Such code, copied, would leave the generated function.
fn leaves(e: &Expr) -> bool {
    struct Finder {
        found: bool,
        loops: usize,
    }
    impl<'ast> Visit<'ast> for Finder {
        fn visit_expr_return(&mut self, _: &'ast syn::ExprReturn) {
            self.found = true;
        }
        fn visit_expr_try(&mut self, _: &'ast syn::ExprTry) {
            self.found = true;
        }
        fn visit_expr_break(&mut self, b: &'ast syn::ExprBreak) {
            self.found |= self.loops == 0 || b.label.is_some();
        }
        fn visit_expr_continue(&mut self, c: &'ast syn::ExprContinue) {
            self.found |= self.loops == 0 || c.label.is_some();
        }
        fn visit_expr_loop(&mut self, l: &'ast syn::ExprLoop) {
            self.loops += 1;
            syn::visit::visit_expr_loop(self, l);
            self.loops -= 1;
        }
        fn visit_expr_while(&mut self, w: &'ast syn::ExprWhile) {
            self.loops += 1;
            syn::visit::visit_expr_while(self, w);
            self.loops -= 1;
        }
        fn visit_expr_for_loop(&mut self, f: &'ast syn::ExprForLoop) {
            self.loops += 1;
            syn::visit::visit_expr_for_loop(self, f);
            self.loops -= 1;
        }
        fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
        fn visit_item(&mut self, _: &'ast syn::Item) {}
    }
    let mut finder = Finder { found: false, loops: 0 };
    finder.visit_expr(e);
    finder.found
}

/// `2.5`, `-1.0`, `3.0_f64`: a literal of the scalar type.
pub(super) fn float_literal(e: &Expr) -> Option<f64> {
    match e {
        Expr::Lit(syn::ExprLit { lit: syn::Lit::Float(f), .. }) => f.base10_parse().ok(),
        Expr::Unary(syn::ExprUnary { op: UnOp::Neg(_), expr, .. }) => float_literal(expr).map(|v| -v),
        Expr::Paren(p) => float_literal(&p.expr),
        _ => None,
    }
}

/// Literal float data: `[0.0; 8]`, `[1.0, 2.5]`, nested.
fn is_float_data(e: &Expr) -> bool {
    match e {
        Expr::Array(array) => {
            !array.elems.is_empty()
                && array.elems.iter().all(|e| float_literal(e).is_some() || is_float_data(e))
        }
        Expr::Repeat(repeat) => float_literal(&repeat.expr).is_some() || is_float_data(&repeat.expr),
        Expr::Paren(p) => is_float_data(&p.expr),
        _ => false,
    }
}

/// `+=`, `-=`, … `>>=`: an assignment written as a binary expression.
pub(crate) fn is_compound_assign(op: &BinOp) -> bool {
    matches!(op, BinOp::AddAssign(_) | BinOp::SubAssign(_) | BinOp::MulAssign(_) | BinOp::DivAssign(_))
        || matches!(
            op,
            BinOp::RemAssign(_)
                | BinOp::BitXorAssign(_)
                | BinOp::BitAndAssign(_)
                | BinOp::BitOrAssign(_)
                | BinOp::ShlAssign(_)
                | BinOp::ShrAssign(_)
        )
}

/// Finds reads of SSA variables: single-identifier paths naming one, and identifiers of one
/// inside macro calls.
struct Finder<'f, 'a> {
    front: &'f Front<'a>,
    found: bool,
}

impl<'ast> Visit<'ast> for Finder<'_, '_> {
    // (`x.len()` of a differentiated array is its length, known to its type: it reads
    // nothing.)
    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        if self.front.length_of(call).is_none() {
            syn::visit::visit_expr_method_call(self, call);
        }
    }

    fn visit_expr_path(&mut self, path: &'ast syn::ExprPath) {
        if let Some(ident) = path.path.get_ident() {
            // (A closure that reads differentiated values counts as one.)
            let closure = match self.front.lookup(&ident.to_string()) {
                Some(Var::Closure(c)) => c.captured.iter().any(|(_, v)| v.is_some()),
                Some(Var::Pair(_)) => true,
                _ => false,
            };
            self.found |= self.front.is_ssa_name(ident) || closure;
        }
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.found |= mentions(&mac.tokens, &|i| self.front.is_ssa_name(i));
    }
}

fn mentions(tokens: &TokenStream, wanted: &dyn Fn(&Ident) -> bool) -> bool {
    tokens.clone().into_iter().any(|tree| match tree {
        proc_macro2::TokenTree::Ident(ident) => wanted(&ident),
        proc_macro2::TokenTree::Group(group) => mentions(&group.stream(), wanted),
        proc_macro2::TokenTree::Literal(lit) => {
            // `println!("{x}")` reads `x` from inside the string.
            let text = lit.to_string();
            text.starts_with('"') && text.contains('{')
        }
        _ => false,
    })
}

/// Fills holes: replaces reads of SSA variables by `__jacobian_hole_k`.
struct Filler<'f, 'a> {
    front: &'f mut Front<'a>,
    holes: Vec<Value>,
    problem: Option<String>,
}

impl Filler<'_, '_> {
    /// The value of a parameter taken by shared reference, if `e` names one.
    fn reference_parameter(&self, e: &Expr) -> Option<Value> {
        let Expr::Path(path) = e else { return None };
        let ident = path.path.get_ident()?;
        let value = self.referenced(e)?;
        self.front
            .f
            .params
            .iter()
            .any(|p| p.value == value && p.by_reference && p.ident == *ident)
            .then_some(value)
    }

    /// The value of something the user's code holds by reference: a parameter taken by
    /// reference, the element of `for v in &x`, an inlined function's reference parameter.
    fn referenced(&self, e: &Expr) -> Option<Value> {
        let Expr::Path(path) = e else { return None };
        let name = path.path.get_ident()?.to_string();
        self.front.is_reference(&name).then(|| self.front.ssa(&name)).flatten()
    }

    fn hole_for(&mut self, value: Value) -> Ident {
        let k = match self.holes.iter().position(|v| *v == value) {
            Some(k) => k,
            None => {
                self.holes.push(value);
                self.holes.len() - 1
            }
        };
        Code::hole(k)
    }
}

impl VisitMut for Filler<'_, '_> {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        // `x.len()` of a differentiated array: its length.
        if let Expr::MethodCall(call) = e {
            if let Some(len) = self.front.length_of(call) {
                *e = syn::parse_quote!(#len);
                return;
            }
        }
        // Code that leaves the function or a loop of the user's would leave the generated
        // one instead.
        if matches!(e, Expr::Return(_) | Expr::Break(_) | Expr::Continue(_) | Expr::Try(_)) {
            self.problem = Some("code that returns or breaks".into());
        }
        // `*x` of a parameter taken by reference is its value; `x` alone is the reference,
        // which the generated function has under the same name.
        if let Expr::Unary(syn::ExprUnary { op: UnOp::Deref(_), expr, .. }) = e {
            if let Some(value) = self.referenced(expr) {
                let hole = self.hole_for(value);
                *e = syn::parse_quote!(#hole);
                return;
            }
        }
        if self.reference_parameter(e).is_some() {
            return;
        }
        // Another name for a reference (an inlined function's parameter, `v` of
        // `for v in &x`): a reference to the value, as the user's code expects.
        if let Some(value) = self.referenced(e) {
            let hole = self.hole_for(value);
            *e = syn::parse_quote!((&#hole));
            return;
        }
        if let Expr::Path(path) = e {
            if let Some(value) = path.path.get_ident().and_then(|i| self.front.ssa(&i.to_string())) {
                let hole = self.hole_for(value);
                *e = syn::parse_quote!(#hole);
                return;
            }
        }
        syn::visit_mut::visit_expr_mut(self, e);
    }

    fn visit_pat_ident_mut(&mut self, pat: &mut syn::PatIdent) {
        if self.front.is_ssa_name(&pat.ident) {
            self.problem = Some(format!("code that binds `{}` again", pat.ident));
        }
        syn::visit_mut::visit_pat_ident_mut(self, pat);
    }

    fn visit_macro_mut(&mut self, mac: &mut syn::Macro) {
        let front = &*self.front;
        if mentions(&mac.tokens, &|i| front.is_ssa_name(i)) {
            self.problem = Some("a macro that reads a differentiated value".into());
        }
    }
}

/// `[[T; C]; R]`.
pub(super) fn is_nested(ty: &Type) -> bool {
    matches!(ty, Type::Array(elem, _) if matches!(&**elem, Type::Array(inner, _) if **inner == Type::Scalar))
}

fn is_array_of_scalars(ty: &Type) -> bool {
    matches!(ty, Type::Array(elem, _) if **elem == Type::Scalar)
}

/// Methods of vectors, matrices, arrays and iterators: on a constant receiver, never a
/// call of an annotated function.
const VECTOR_METHODS: &[&str] = &[
    "dot",
    "transpose",
    "norm",
    "norm_squared",
    "sum",
    "product",
    "component_mul",
    "component_div",
    "map",
    "cross",
    "normalize",
    "len",
    "iter",
    "into_iter",
    "zip",
    "fold",
    "clone",
    "copied",
    "cloned",
    "enumerate",
    "determinant",
    "try_inverse",
    "solve",
    "from_fn",
];

/// Finds a use of `name` that only a scalar has (`Front::call_result_type`).
struct ScalarUse<'a> {
    name: &'a Ident,
    found: bool,
    rebound: bool,
}

impl ScalarUse<'_> {
    fn is_name(&self, e: &Expr) -> bool {
        match e {
            Expr::Path(p) => p.path.is_ident(self.name),
            Expr::Paren(p) => self.is_name(&p.expr),
            _ => false,
        }
    }
}

impl<'ast> Visit<'ast> for ScalarUse<'_> {
    fn visit_local(&mut self, local: &'ast syn::Local) {
        if let Some(init) = &local.init {
            self.visit_expr(&init.expr);
        }
        let mut binds = false;
        let mut finder = BindsName { name: self.name, found: &mut binds };
        finder.visit_pat(&local.pat);
        self.rebound |= binds;
    }

    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        let float = rules::arity(&call.method.to_string()).is_some();
        if float && (self.is_name(&call.receiver) || call.args.iter().any(|a| self.is_name(a))) {
            self.found = true;
        }
        syn::visit::visit_expr_method_call(self, call);
    }

    fn visit_expr_call(&mut self, call: &'ast syn::ExprCall) {
        if let Expr::Path(path) = &*call.func {
            let segments: Vec<String> = path.path.segments.iter().map(|s| s.ident.to_string()).collect();
            let float_path = matches!(segments.as_slice(), [ty, m] if (ty == "f64" || ty == "f32") && rules::arity(m).is_some());
            if float_path && call.args.iter().any(|a| self.is_name(a)) {
                self.found = true;
            }
        }
        syn::visit::visit_expr_call(self, call);
    }

    fn visit_expr_binary(&mut self, binary: &'ast syn::ExprBinary) {
        let literal = |e: &Expr| matches!(e, Expr::Lit(syn::ExprLit { lit: syn::Lit::Float(_), .. }));
        let scalar_op =
            !matches!(binary.op, BinOp::Mul(_) | BinOp::Div(_) | BinOp::MulAssign(_) | BinOp::DivAssign(_));
        if scalar_op
            && ((self.is_name(&binary.left) && literal(&binary.right))
                || (self.is_name(&binary.right) && literal(&binary.left)))
        {
            self.found = true;
        }
        syn::visit::visit_expr_binary(self, binary);
    }

    // (A closure or item may bind the name for itself: not looked into.)
    fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    fn visit_item(&mut self, _: &'ast syn::Item) {}
}

/// Whether a pattern binds `name`.
struct BindsName<'a, 'b> {
    name: &'a Ident,
    found: &'b mut bool,
}

impl<'ast> Visit<'ast> for BindsName<'_, '_> {
    fn visit_pat_ident(&mut self, pat: &'ast syn::PatIdent) {
        if pat.ident == *self.name {
            *self.found = true;
        }
        syn::visit::visit_pat_ident(self, pat);
    }
}

/// Binds the const-generic sizes of a callee's parameter type `param` (`[T; N]`) to those
/// of the argument's type.
fn unify(param: &Type, argument: &Type, sizes: &mut BTreeMap<String, Dim>) {
    let mut bind = |p: &Dim, a: &Dim| {
        if p.is_generic() {
            sizes.entry(p.value().to_string()).or_insert_with(|| a.clone());
        }
    };
    match (param, argument) {
        (Type::Array(p, n), Type::Array(a, m)) => {
            bind(n, m);
            unify(p, a, sizes);
        }
        (Type::Vector(n), Type::Vector(m)) => bind(n, m),
        (Type::Matrix(r, c), Type::Matrix(s, d)) => {
            bind(r, s);
            bind(c, d);
        }
        _ => {}
    }
}

/// `ty` with its const-generic sizes replaced by those bound.
fn substitute(ty: &Type, sizes: &BTreeMap<String, Dim>) -> Type {
    let size = |d: &Dim| match d.is_generic().then(|| sizes.get(&d.value().to_string())).flatten() {
        Some(bound) => bound.clone(),
        None => d.clone(),
    };
    match ty {
        Type::Array(elem, n) => Type::Array(Box::new(substitute(elem, sizes)), size(n)),
        Type::Vector(n) => Type::Vector(size(n)),
        Type::Matrix(r, c) => Type::Matrix(size(r), size(c)),
        other => other.clone(),
    }
}
