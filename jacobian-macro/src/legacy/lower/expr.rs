//! Lowering of expressions: arithmetic, method and path calls (through `rules`), indexing,
//! array literals, tuples. Anything that does not read a differentiated value is copied
//! verbatim, so its meaning is exactly the user's.

use super::value::{Array, Container, Hint, Rows, Scalar, Value};
use super::Lowerer;
use crate::legacy::ir::Atom;
use crate::legacy::rules;
use crate::legacy::tangent::{Index, Tangent};
use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use std::collections::BTreeMap;
use syn::{BinOp, Expr, UnOp};

/// Methods on floats whose result is not a float (never differentiated).
const NON_FLOAT_METHODS: &[&str] = &[
    "is_nan",
    "is_finite",
    "is_infinite",
    "is_normal",
    "is_subnormal",
    "is_sign_positive",
    "is_sign_negative",
    "to_bits",
    "total_cmp",
    "partial_cmp",
    "classify",
    "len",
    "is_empty",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
];

impl Lowerer<'_> {
    pub fn expr(&mut self, expr: &Expr) -> Value {
        if !self.needs_lowering(expr) {
            return self.verbatim(expr);
        }
        match expr {
            Expr::Paren(inner) => self.expr(&inner.expr),
            Expr::Group(inner) => self.expr(&inner.expr),
            Expr::Reference(r) => self.expr(&r.expr),
            Expr::Unary(u) if matches!(u.op, UnOp::Deref(_)) => self.expr(&u.expr),
            Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) => {
                let value = self.expr(&u.expr);
                if let Value::Array(a) = &value {
                    if !matches!(a.container, Container::Array | Container::Result) {
                        let minus = Value::Opaque { atom: self.b.lit(-1.0), hint: super::value::Hint::Float };
                        return self.array_arithmetic(&BinOp::Mul(Default::default()), minus, value, u);
                    }
                }
                match self.scalar(value, &u.expr) {
                    Some(s) => {
                        let primal = self.b.neg(&s.primal);
                        Value::Scalar(Scalar { primal, tangent: s.tangent.neg() })
                    }
                    None => self.poison(),
                }
            }
            Expr::Path(path) => match path.path.get_ident().and_then(|i| self.lookup(&i.to_string())) {
                Some(binding) => binding.value.clone(),
                None => self.verbatim(expr),
            },
            Expr::Binary(binary) => self.binary(binary),
            Expr::MethodCall(call) => self.method_call(call),
            Expr::Call(call) => self.call(call),
            Expr::Cast(cast) => {
                let float_target = matches!(&*cast.ty, syn::Type::Path(p)
                    if p.path.get_ident().is_some_and(|i| *i == self.b.scalar.tokens.to_string()));
                let other_float = matches!(&*cast.ty, syn::Type::Path(p)
                    if p.path.get_ident().is_some_and(|i| *i == "f32" || *i == "f64"));
                if float_target {
                    self.expr(&cast.expr)
                } else if other_float && self.expr(&cast.expr).is_active() {
                    let (ty, scalar) = (cast.ty.to_token_stream(), self.b.scalar.tokens.to_string());
                    self.unsupported(cast, &format!("a cast of a differentiated value to `{ty}` is not supported: a differentiated function computes in one scalar type (`{scalar}` here); compute in `{scalar}`, or make the function generic over its scalar type"))
                } else {
                    self.verbatim(expr)
                }
            }
            Expr::Index(index) => self.index(index),
            Expr::Array(array) => {
                let values: Vec<Value> = array.elems.iter().map(|e| self.expr(e)).collect();
                self.array_of(values, Container::Array, &array.elems)
            }
            Expr::Repeat(repeat) => self.repeat(repeat),
            Expr::Tuple(tuple) => Value::Tuple(tuple.elems.iter().map(|e| self.expr(e)).collect()),
            Expr::Field(field) => match (&field.member, self.expr(&field.base)) {
                (syn::Member::Unnamed(i), Value::Tuple(items)) if (i.index as usize) < items.len() => {
                    items[i.index as usize].clone()
                }
                // `v.x`, `v.y`, … of a differentiated vector (nalgebra's coordinates): `v[k]`.
                (syn::Member::Named(name), value) if value.is_active() => {
                    match ["x", "y", "z", "w", "a", "b"].iter().position(|c| name == c) {
                        Some(k) => {
                            let base = &field.base;
                            let k = proc_macro2::Literal::usize_unsuffixed(k);
                            let indexed: syn::ExprIndex = syn::parse_quote_spanned!(name.span()=> (#base)[#k]);
                            self.index(&indexed)
                        }
                        None => self.verbatim(expr),
                    }
                }
                _ => self.verbatim(expr),
            },
            Expr::Block(_) | Expr::If(_) | Expr::Match(_) | Expr::Loop(_) | Expr::While(_) | Expr::ForLoop(_)
            | Expr::Return(_) | Expr::Assign(_) | Expr::Break(_) | Expr::Continue(_) => self.control_value(expr),
            Expr::Macro(mac) => {
                let name = mac.mac.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
                self.unsupported(expr, &format!("the macro `{name}!` produces a value that depends on a differentiated value, and `#[jacobian]` cannot see inside macros; write the expression out"))
            }
            Expr::Closure(_) => self.unsupported(expr, "a closure over differentiated values is only supported as the argument of `.map(…)`; write the computation inline"),
            Expr::Try(_) => self.unsupported(expr, "the `?` operator is not supported in a differentiated function; handle the error before calling it"),
            Expr::Unsafe(_) => self.unsupported(expr, "`unsafe` blocks are not supported in a differentiated function"),
            Expr::Async(_) | Expr::Await(_) => self.unsupported(expr, "`async` code is not supported in a differentiated function"),
            _ => self.unsupported(expr, "this expression is not supported on differentiated values; see “What a body may contain” in the README"),
        }
    }

    pub fn unsupported(&mut self, at: &dyn ToTokens, message: &str) -> Value {
        self.diagnostics.error_at(at.to_token_stream(), message);
        self.poison()
    }

    /// A placeholder after an error, so lowering continues and reports everything.
    pub fn poison(&self) -> Value {
        Value::Opaque { atom: Atom::place(quote!(unreachable!()), false), hint: Hint::Poison }
    }

    pub fn verbatim(&self, expr: &Expr) -> Value {
        let tokens = expr.to_token_stream();
        let names = crate::legacy::activity::Names::of_expr(expr);
        let mutable = names.found.iter().any(|n| self.lookup(n).is_some_and(|b| b.mutable));
        let literal = literal_value(expr);
        let hint = self.hint_of_expr(expr);
        let tokens = if literal.is_none() && !self.b.scalar.generic && super::stmt::untyped_float(expr) {
            // `1.25 + -0.375` is a `{float}`, on which the methods the generated code calls
            // do not resolve (E0689): typed, computed as the user's function computes it
            let ty = &self.b.scalar.tokens;
            let value = proc_macro2::Ident::new("value", proc_macro2::Span::mixed_site());
            quote!({ let #value: #ty = #tokens; #value })
        } else if matches!(expr, Expr::Path(_) | Expr::Lit(_) | Expr::Paren(_)) {
            tokens
        } else {
            quote!((#tokens))
        };
        Value::Opaque { atom: Atom { tokens, mutable, literal }, hint }
    }

    /// What the syntax of a constant expression tells about its shape.
    pub fn hint_of_expr(&self, expr: &Expr) -> Hint {
        self.hint_in(expr, &BTreeMap::new())
    }

    /// [`Self::hint_of_expr`] where the names in `masked` are bound inside an enclosing
    /// block of the expression (with what is known of them), not outside.
    fn hint_in(&self, expr: &Expr, masked: &BTreeMap<String, Hint>) -> Hint {
        use crate::shape::Dim;
        let hint = |e: &Expr| self.hint_in(e, masked);
        match expr {
            Expr::Reference(r) => hint(&r.expr),
            Expr::Paren(p) => hint(&p.expr),
            Expr::Group(g) => hint(&g.expr),
            Expr::Unary(u) if matches!(u.op, UnOp::Deref(_)) => hint(&u.expr),
            Expr::Lit(syn::ExprLit { lit: syn::Lit::Float(_), .. }) => Hint::Float,
            Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) => hint(&u.expr),
            // `f64::NEG_INFINITY`, `f64::consts::PI`, `f64::MAX`.
            Expr::Path(p)
                if p.path.segments.len() > 1
                    && matches!(
                        p.path.segments[0].ident.to_string().as_str(),
                        "f64" | "f32" | "std" | "core"
                    ) =>
            {
                Hint::Float
            }
            Expr::Binary(b)
                if matches!(b.op, BinOp::Add(_) | BinOp::Sub(_) | BinOp::Mul(_) | BinOp::Div(_)) =>
            {
                let is_mul = matches!(b.op, BinOp::Mul(_));
                match (hint(&b.left), hint(&b.right)) {
                    // a scalar times a vector or matrix keeps its shape
                    (Hint::Float, Hint::Array(c, n)) | (Hint::Array(c, n), Hint::Float) => Hint::Array(c, n),
                    // products of shapes known on both sides
                    (Hint::Array(Container::Matrix(r, _), _), Hint::Array(Container::Vector, _))
                        if is_mul =>
                    {
                        Hint::Array(Container::Vector, r)
                    }
                    (Hint::Array(Container::Matrix(r, _), _), Hint::Array(Container::Matrix(_, c), _))
                    | (Hint::Array(Container::Vector, r), Hint::Array(Container::Matrix(_, c), _))
                        if is_mul =>
                    {
                        Hint::Array(Container::Matrix(r.clone(), c.clone()), r.mul(&c))
                    }
                    (Hint::Array(..), Hint::Array(..)) if is_mul => Hint::Unknown,
                    (Hint::Array(c, n), Hint::Array(..) | Hint::Unknown) => Hint::Array(c, n),
                    // `w * x` of a constant `w` that may be a matrix
                    (Hint::Unknown, Hint::Array(Container::Matrix(..), _)) if is_mul => Hint::Unknown,
                    (Hint::Unknown, Hint::Array(c, n)) => Hint::Array(c, n),
                    (Hint::Float, Hint::Float | Hint::Unknown) | (Hint::Unknown, Hint::Float) => Hint::Float,
                    _ => Hint::Unknown,
                }
            }
            Expr::MethodCall(call) => {
                let name = call.method.to_string();
                let receiver = hint(&call.receiver);
                let float_args = || call.args.iter().any(|a| matches!(hint(a), Hint::Float));
                match (name.as_str(), receiver) {
                    ("clone", receiver) => receiver,
                    ("map" | "component_mul" | "component_div", receiver @ Hint::Array(..)) => receiver,
                    ("transpose", Hint::Array(Container::Vector, n)) => {
                        Hint::Array(Container::Matrix(Dim::Lit(1), n.clone()), n)
                    }
                    ("transpose", Hint::Array(Container::Matrix(r, c), n)) => {
                        if c.lit() == Some(1) {
                            Hint::Array(Container::Matrix(c, r), n)
                        } else if r.lit() == Some(1) {
                            Hint::Array(Container::Vector, n)
                        } else {
                            Hint::Array(Container::Matrix(c, r), n)
                        }
                    }
                    ("sum" | "dot" | "norm" | "norm_squared" | "determinant" | "trace", Hint::Array(..)) => {
                        Hint::Float
                    }
                    // only vectors and matrices have these
                    ("dot" | "norm" | "norm_squared" | "determinant", _) => Hint::Float,
                    // methods integers have too: a float only on a float
                    ("min" | "max" | "abs" | "signum" | "clamp", Hint::Float) => Hint::Float,
                    ("min" | "max" | "clamp", _) if float_args() => Hint::Float,
                    ("min" | "max" | "abs" | "signum" | "clamp", _) => Hint::Unknown,
                    (method, Hint::Float | Hint::Unknown) if rules::arity(method).is_some() => Hint::Float,
                    _ => Hint::Unknown,
                }
            }
            // `Vector::from([a, b])`, `Matrix::from_rows([[a, b], [c, d]])`.
            Expr::Call(call) => {
                let Expr::Path(path) = &*call.func else { return Hint::Unknown };
                let names: Vec<String> = path.path.segments.iter().map(|s| s.ident.to_string()).collect();
                match (names.iter().map(String::as_str).collect::<Vec<_>>().as_slice(), call.args.first()) {
                    // `f64::sin(x)`, `f64::from(i)`
                    (["f64" | "f32", method], _) if !NON_FLOAT_METHODS.contains(method) => Hint::Float,
                    ([.., "Vector", "from"], Some(Expr::Array(a))) => {
                        Hint::Array(Container::Vector, Dim::Lit(a.elems.len()))
                    }
                    // `Vector::from(a)` of an array whose length is known
                    ([.., "Vector", "from"], Some(arg)) => match hint(arg) {
                        Hint::Array(Container::Array, n) => Hint::Array(Container::Vector, n),
                        _ => Hint::Unknown,
                    },
                    // `Vector::<3>::zeros()`, `Matrix::<2, 3>::zeros()`: the sizes are in the turbofish.
                    ([.., "Vector" | "Matrix", "zeros" | "identity"], None) => {
                        let container = &path.path.segments[path.path.segments.len() - 2];
                        let ty = syn::Type::Path(syn::TypePath {
                            qself: None,
                            path: syn::Path::from(syn::PathSegment {
                                ident: container.ident.clone(),
                                arguments: container.arguments.clone(),
                            }),
                        });
                        super::hint_of_type(&ty)
                    }
                    ([.., "Matrix", "from_rows"], Some(Expr::Array(rows))) => match rows.elems.first() {
                        Some(Expr::Array(first)) => {
                            let (r, c) = (Dim::Lit(rows.elems.len()), Dim::Lit(first.elems.len()));
                            Hint::Array(Container::Matrix(r.clone(), c.clone()), r.mul(&c))
                        }
                        _ => Hint::Unknown,
                    },
                    _ => Hint::Unknown,
                }
            }
            // the components have one type: one float among them tells
            Expr::Array(a) => {
                let hints: Vec<Hint> = a.elems.iter().map(hint).collect();
                let float = hints.iter().any(|h| matches!(h, Hint::Float));
                if float && hints.iter().all(|h| matches!(h, Hint::Float | Hint::Unknown)) {
                    Hint::Array(Container::Array, Dim::Lit(a.elems.len()))
                } else {
                    Hint::Unknown
                }
            }
            Expr::Cast(cast) => super::hint_of_type(&cast.ty),
            Expr::Repeat(r)
                if matches!(&*r.expr, Expr::Lit(syn::ExprLit { lit: syn::Lit::Float(_), .. })) =>
            {
                Hint::Array(Container::Array, super::syn_dim(&r.len))
            }
            // a component of a constant array, vector or matrix
            Expr::Index(index) => match hint(&index.expr) {
                Hint::Array(..) => Hint::Float,
                _ => Hint::Unknown,
            },
            // the value of a block, a branch or an arm: the first whose shape is known
            Expr::Block(block) if block.label.is_none() => self.block_hint(&block.block, masked),
            Expr::Unsafe(block) => self.block_hint(&block.block, masked),
            Expr::If(expr_if) => {
                let then = self.block_hint(&expr_if.then_branch, masked);
                match (then, &expr_if.else_branch) {
                    (Hint::Unknown, Some((_, otherwise))) => hint(otherwise),
                    (then, _) => then,
                }
            }
            Expr::Match(m) => m
                .arms
                .iter()
                .map(|arm| {
                    let mut masked = masked.clone();
                    let mut names = crate::legacy::activity::Names::default();
                    syn::visit::Visit::visit_pat(&mut names, &arm.pat);
                    masked.extend(names.bound.into_iter().map(|n| (n, Hint::Unknown)));
                    self.hint_in(&arm.body, &masked)
                })
                .find(|h| !matches!(h, Hint::Unknown))
                .unwrap_or(Hint::Unknown),
            Expr::Path(p) => match p.path.get_ident() {
                Some(i) if masked.contains_key(&i.to_string()) => masked[&i.to_string()].clone(),
                Some(i) => match self.lookup(&i.to_string()) {
                    Some(b) => match &b.value {
                        Value::Opaque { hint, .. } => hint.clone(),
                        Value::Scalar(_) => Hint::Float,
                        Value::Array(a) if !matches!(a.container, Container::Result) => {
                            Hint::Array(a.container.clone(), a.len.clone())
                        }
                        _ => Hint::Unknown,
                    },
                    // the constants of `std::f64::consts` brought in with `use`
                    None if is_float_constant(&i.to_string()) => Hint::Float,
                    None => Hint::Unknown,
                },
                None => Hint::Unknown,
            },
            _ => Hint::Unknown,
        }
    }

    /// The hint of a block's value: its final expression, with the names its statements
    /// bind masked.
    fn block_hint(&self, block: &syn::Block, masked: &BTreeMap<String, Hint>) -> Hint {
        let mut masked = masked.clone();
        for stmt in &block.stmts {
            match stmt {
                syn::Stmt::Local(local) => {
                    // `let t = 2.0;` or `let t: f64 = …;` tells what `t` is; other patterns
                    // bind names of unknown shape
                    let known = match (&local.pat, &local.init) {
                        (syn::Pat::Type(typed), _) if matches!(&*typed.pat, syn::Pat::Ident(_)) => {
                            super::hint_of_type(&typed.ty)
                        }
                        (syn::Pat::Ident(_), Some(init)) => self.hint_in(&init.expr, &masked),
                        _ => Hint::Unknown,
                    };
                    let mut names = crate::legacy::activity::Names::default();
                    syn::visit::Visit::visit_pat(&mut names, &local.pat);
                    for name in names.bound {
                        masked.insert(name, known.clone());
                    }
                }
                syn::Stmt::Expr(tail, None) => return self.hint_in(tail, &masked),
                _ => {}
            }
        }
        Hint::Unknown
    }

    fn binary(&mut self, binary: &syn::ExprBinary) -> Value {
        match binary.op {
            BinOp::Add(_) | BinOp::Sub(_) | BinOp::Mul(_) | BinOp::Div(_) => {
                let left = self.expr(&binary.left);
                let right = self.expr(&binary.right);
                self.arithmetic(&binary.op, left, right, binary)
            }
            BinOp::Rem(_) => self.unsupported(binary, "`%` of a differentiated value is not supported; compute the remainder with `floor` or `trunc`, e.g. `a - b * (a / b).trunc()`"),
            op if crate::legacy::activity::is_compound_assign(&op) => {
                self.assign(&binary.left, Some(&binary.op), &binary.right, binary);
                self.unit()
            }
            _ => self.verbatim(&Expr::Binary(binary.clone())),
        }
    }

    pub fn unit(&self) -> Value {
        Value::Opaque { atom: Atom::place(quote!(()), false), hint: Hint::Unknown }
    }

    pub fn arithmetic(&mut self, op: &BinOp, left: Value, right: Value, at: &dyn ToTokens) -> Value {
        if left.is_poison() || right.is_poison() {
            return self.poison();
        }
        let is_array = |v: &Value| match v {
            Value::Array(a) => !matches!(a.container, Container::Result),
            Value::Opaque { hint: super::value::Hint::Array(..), .. } => true,
            _ => false,
        };
        let plain_array = |v: &Value| {
            matches!(v, Value::Array(Array { container: Container::Array, .. }))
                || matches!(v, Value::Opaque { hint: super::value::Hint::Array(Container::Array, _), .. })
        };
        if plain_array(&left) || plain_array(&right) {
            return self.unsupported(at, "arithmetic on whole arrays is not supported; index the components (`a[i] + b[i]`) in a loop, or use `Vector`");
        }
        if is_array(&left) || is_array(&right) {
            return self.array_arithmetic(op, left, right, at);
        }
        let (Some(a), Some(c)) = (self.scalar(left, at), self.scalar(right, at)) else {
            return self.poison();
        };
        let b = &mut self.b;
        let (primal, tangent) = match op {
            BinOp::Add(_) | BinOp::AddAssign(_) => {
                (b.add(&a.primal, &c.primal), a.tangent.add(&c.tangent, b))
            }
            BinOp::Sub(_) | BinOp::SubAssign(_) => {
                (b.sub(&a.primal, &c.primal), a.tangent.sub(&c.tangent, b))
            }
            BinOp::Mul(_) | BinOp::MulAssign(_) => {
                let primal = b.mul(&a.primal, &c.primal);
                (primal, a.tangent.combine(&c.primal, &c.tangent, &a.primal, b))
            }
            BinOp::Div(_) | BinOp::DivAssign(_) => {
                let primal = b.div(&a.primal, &c.primal);
                // d(a/c) = da/c − (a/c)·dc/c
                let tangent = if c.tangent.is_zero() {
                    if a.tangent.is_zero() {
                        a.tangent
                    } else {
                        let one = b.lit(1.0);
                        let inv = b.div(&one, &c.primal);
                        a.tangent.scale(&inv, b)
                    }
                } else {
                    let one = b.lit(1.0);
                    let inv = b.div(&one, &c.primal);
                    let q = b.mul(&primal, &inv);
                    let minus_q = b.neg(&q);
                    a.tangent.combine(&inv, &c.tangent, &minus_q, b)
                };
                (primal, tangent)
            }
            BinOp::RemAssign(_) => return self.unsupported(at, "`%=` on a differentiated value is not supported; compute the remainder with `floor` or `trunc`, e.g. `a - b * (a / b).trunc()`"),
            _ => return self.unsupported(at, "this operator is not supported on differentiated values"),
        };
        Value::Scalar(Scalar { primal, tangent })
    }

    fn method_call(&mut self, call: &syn::ExprMethodCall) -> Value {
        let name = call.method.to_string();
        if NON_FLOAT_METHODS.contains(&name.as_str()) {
            return self.verbatim(&Expr::MethodCall(call.clone()));
        }
        if name == "clone" && call.args.is_empty() {
            return self.expr(&call.receiver);
        }
        let receiver = self.expr(&call.receiver);
        if receiver.is_poison() {
            return self.poison();
        }
        let array_method = matches!(
            name.as_str(),
            "map" | "dot" | "transpose" | "norm" | "norm_squared" | "sum" | "component_mul" | "component_div"
        );
        if array_method && matches!(receiver, Value::Opaque { .. }) {
            // A vector method on a constant receiver, with differentiated arguments.
            let args: Vec<&Expr> = call.args.iter().collect();
            return self.array_method(&name, receiver, &args, call);
        }
        if rules::arity(&name).is_none() && matches!(receiver, Value::Opaque { .. }) {
            // A method of a constant receiver (`self.residual(p)`): another `#[jacobian]` function.
            let mut callee = call.clone();
            callee.method = crate::expand::parts_name(&call.method);
            let (recv, method, turbofish) = (&callee.receiver, &callee.method, &callee.turbofish);
            let args: Vec<&Expr> = call.args.iter().collect();
            return self.chain(quote!(#recv.#method #turbofish), &args, &name);
        }
        if let Value::Array(a) = &receiver {
            if matches!(a.container, Container::Array) && name != "map" {
                let message = if name == "iter" || name == "into_iter" {
                    "this iterator chain over a differentiated array is not supported: chains may use `map`, `zip`, `enumerate`, `rev`, `skip`, `take`, `step_by`, `copied`, and end in `sum`, `product`, `fold` or a `for` loop; other adapters (`filter`, `collect`, `max_by`, …) are not, so write a loop over the indices".to_owned()
                } else {
                    format!("the method `{name}` is not supported on a differentiated array; index the components in a loop, or use `Vector`")
                };
                return self.unsupported(&call.method, &message);
            }
            if !(matches!(a.container, Container::Result) && rules::arity(&name).is_some()) {
                let args: Vec<&Expr> = call.args.iter().collect();
                return self.array_method(&name, receiver, &args, call);
            }
        }
        if let Value::Opaque { hint: super::value::Hint::Array(..), .. } = &receiver {
            let args: Vec<&Expr> = call.args.iter().collect();
            return self.array_method(&name, receiver, &args, call);
        }
        let args: Vec<&Expr> = call.args.iter().collect();
        self.float_method(&name, receiver, &args, &call.method, call)
    }

    /// `receiver.name(args…)` on scalars, through the rule table.
    fn float_method(
        &mut self,
        name: &str,
        receiver: Value,
        args: &[&Expr],
        at_name: &dyn ToTokens,
        at: &dyn ToTokens,
    ) -> Value {
        let Some(arity) = rules::arity(name) else {
            let message = format!(
                "`{name}` is not a differentiable method; supported methods are {}{}",
                rules::METHODS.iter().map(|(n, _)| format!("`{n}`")).collect::<Vec<_>>().join(", "),
                suggestion(name)
            );
            return self.unsupported(at_name, &message);
        };
        if args.len() + 1 != arity {
            return self
                .unsupported(at, &format!("`{name}` takes {} argument(s) besides the receiver", arity - 1));
        }
        let Some(first) = self.scalar(receiver, at) else { return self.poison() };
        let mut operands = vec![first];
        for (position, arg) in args.iter().enumerate() {
            if rules::is_integer_operand(name, position + 1) {
                let atom = match self.verbatim(arg) {
                    Value::Opaque { atom, .. } => self.operand(atom),
                    _ => return self.poison(),
                };
                if self.needs_lowering(arg) {
                    return self.unsupported(arg, "the exponent of `powi` is an integer and cannot depend on a differentiated value; use `powf`");
                }
                operands.push(Scalar { primal: atom, tangent: self.zero() });
                continue;
            }
            let value = self.expr(arg);
            match self.scalar(value, arg) {
                Some(s) => operands.push(s),
                None => return self.poison(),
            }
        }
        let atoms: Vec<Atom> = operands.iter().map(|s| s.primal.clone()).collect();
        let rest: Vec<&Atom> = atoms[1..].iter().collect();
        let primal = self.b.method(name, &atoms[0], name, &rest);
        if operands.iter().all(|s| s.tangent.is_zero()) {
            return Value::Scalar(Scalar { primal, tangent: self.zero() });
        }
        let partials = rules::partials(name, &atoms, &primal, &mut self.b);
        let mut tangent = self.zero();
        for (operand, partial) in operands.iter().zip(partials) {
            if let (false, Some(d)) = (operand.tangent.is_zero(), partial) {
                let term = operand.tangent.scale(&d, &mut self.b);
                tangent = tangent.add(&term, &mut self.b);
            }
        }
        Value::Scalar(Scalar { primal, tangent })
    }

    fn call(&mut self, call: &syn::ExprCall) -> Value {
        let Expr::Path(path) = &*call.func else {
            return self.unsupported(&call.func, "only calls of named functions are supported here");
        };
        let segments: Vec<String> = path.path.segments.iter().map(|s| s.ident.to_string()).collect();
        let scalar = self.b.scalar.tokens.to_string();
        if let [ty, method] = segments.as_slice() {
            if (ty == "f64" || ty == "f32" || *ty == scalar) && path.qself.is_none() {
                let Some(first) = call.args.first() else {
                    return self.unsupported(call, &format!("`{ty}::{method}` needs a receiver argument"));
                };
                let receiver = self.expr(first);
                let rest: Vec<&Expr> = call.args.iter().skip(1).collect();
                return self.float_method(method, receiver, &rest, &path.path.segments[1].ident, call);
            }
        }
        // `Vector::from`, also spelled with its crate (`::jacobian::Vector::from`).
        if let [.., ty, method] = segments.as_slice() {
            if (ty == "Vector" || ty == "Matrix") && (method == "from" || method == "from_rows") {
                return self.construct(ty == "Vector", call);
            }
            if ty == "Vector" || ty == "Matrix" {
                return self.unsupported(call, &format!("`{ty}::{method}` of differentiated values is not supported; build it with `Vector::from([…])` or `Matrix::from_rows([[…], …])`"));
            }
        }
        // A call of another `#[jacobian]` function: chain through its hidden parts sibling.
        let mut callee = path.clone();
        let Some(last) = callee.path.segments.last_mut() else { return self.poison() };
        let name = last.ident.to_string();
        if name.starts_with(|c: char| c.is_uppercase()) {
            return self.unsupported(call, &format!("`{name}(…)` of a differentiated value is not supported: enum variants and tuple structs cannot carry derivatives; keep the value in a variable"));
        }
        if path.path.get_ident().is_some() && self.lookup(&name).is_some() {
            return self.unsupported(call, &format!("calling the local closure `{name}` with differentiated values is not supported; write its body inline, or make it a function annotated with `#[jacobian]`"));
        }
        last.ident = crate::expand::parts_name(&last.ident);
        let args: Vec<&Expr> = call.args.iter().collect();
        self.chain(callee.to_token_stream(), &args, &name)
    }

    /// `y = g(args…)` for a `#[jacobian]` function `g`: its parts sibling gives `y` and one
    /// Jacobian block per parameter, and the chain rule sums `∂g/∂arg · d(arg)`.
    fn chain(&mut self, callee: TokenStream, args: &[&Expr], name: &str) -> Value {
        let values: Vec<Value> = args.iter().map(|a| self.expr(a)).collect();
        let arg_tokens: Vec<TokenStream> = args
            .iter()
            .zip(&values)
            .map(|(arg, value)| match (arg, value.is_active()) {
                (_, false) => arg.to_token_stream(),
                (Expr::Reference(_), true) => {
                    let p = value.primal();
                    quote!(&#p)
                }
                // A reference passed on as it is (`g(x)` for `x: &Vector<2>`, or `v` of
                // `for v in &a`): the operand is the value behind it, `(*x)`, so borrow it
                // again.
                (Expr::Path(path), true)
                    if path
                        .path
                        .get_ident()
                        .and_then(|ident| self.lookup(&ident.to_string()))
                        .is_some_and(|binding| binding.reference) =>
                {
                    let p = value.primal();
                    quote!(&#p)
                }
                (_, true) => value.primal(),
            })
            .collect();
        let name = name.trim_start_matches("r#");
        let parts = self.b.fresh(&format!("{name}_parts"));
        self.b.code(quote!(let #parts = #callee(#(#arg_tokens),*);));
        let primal = self.b.temp(name, quote!(#parts.0), &[]);
        let lens: Vec<_> = (0..self.blocks()).map(|b| self.block_len(b)).collect();
        let mut rows = vec![Rows::Zero; self.blocks()];
        for (block, len) in lens.iter().enumerate() {
            let mut acc: Option<proc_macro2::Ident> = None;
            for (i, value) in values.iter().enumerate() {
                // Resolved as the macro's own names, located at the user's argument, so a
                // type error in the chain rule points there.
                let at = proc_macro2::Span::mixed_site().located_at(syn::spanned::Spanned::span(args[i]));
                let index = syn::Index { index: u32::try_from(i + 1).unwrap_or(u32::MAX), span: at };
                let parts_at = proc_macro2::Ident::new(&parts.to_string(), at);
                let part = quote::quote_spanned!(at=> #parts_at.#index);
                let term = match value {
                    Value::Scalar(s) if !s.tangent.blocks[block].is_zero() => {
                        let row = s.tangent.blocks[block].materialize(len, &mut self.b, "row");
                        let helper = self.b.helper("chain_scalar");
                        Some(quote::quote_spanned!(at=> #helper(&#part, &#row)))
                    }
                    Value::Array(a) => {
                        let mut a = a.clone();
                        a.materialize(&lens, "rows", &mut self.b);
                        match &a.rows[block] {
                            Rows::Zero => None,
                            Rows::Identity { .. } => {
                                let helper = self.b.helper("chain_identity");
                                Some(quote::quote_spanned!(at=> #helper(&#part)))
                            }
                            other => {
                                let rows = other.expr(&mut self.b);
                                let helper = self.b.helper("chain_rows");
                                Some(quote::quote_spanned!(at=> #helper(&#part, &#rows)))
                            }
                        }
                    }
                    Value::Tuple(_) if value.is_active() => {
                        self.diagnostics.error_at(args[i], "a tuple of differentiated values cannot be passed to a differentiated function; pass its components");
                        None
                    }
                    _ => None,
                };
                let Some(term) = term else { continue };
                match &acc {
                    None => {
                        let d = self.b.fresh(&format!("d{name}"));
                        self.b.code(quote!(let mut #d = #term;));
                        acc = Some(d);
                    }
                    Some(d) => {
                        let add = self.b.helper("add_rows");
                        self.b.code(quote!(#add(&mut #d, &#term);));
                    }
                }
            }
            if let Some(d) = acc {
                rows[block] = Rows::Held { tokens: quote!(#d), mutable: false };
            }
        }
        let len = crate::shape::Dim::Sym { tokens: quote!(_), generic: false };
        Value::Array(Array { primal, container: Container::Result, len, elems: None, rows })
    }

    /// `Vector::from([..])` and `Matrix::from_rows([[..], ..])`.
    fn construct(&mut self, vector: bool, call: &syn::ExprCall) -> Value {
        let Some(arg) = call.args.first() else {
            return self.unsupported(call, "expected one array argument");
        };
        let func = &call.func;
        if vector {
            let value = self.expr(arg);
            return match value {
                Value::Array(mut a) => {
                    let p = a.primal.clone();
                    a.primal = self.b.temp("v", quote!(#func(#p)), &[&p]);
                    a.container = Container::Vector;
                    Value::Array(a)
                }
                other => self
                    .unsupported(arg, &format!("`Vector::from` takes an array, found {}", other.describe())),
            };
        }
        let Expr::Array(rows) = arg else {
            return self.unsupported(arg, "`Matrix::from_rows` with differentiated entries needs an array literal of rows, `[[a, b], [c, d]]`");
        };
        let mut elems = Vec::new();
        let mut cols = None;
        for row in &rows.elems {
            let Expr::Array(row) = row else {
                return self.unsupported(row, "write each row as an array literal `[a, b]`");
            };
            cols = Some(row.elems.len());
            for e in &row.elems {
                let v = self.expr(e);
                match self.scalar(v, e) {
                    Some(s) => elems.push(s),
                    None => return self.poison(),
                }
            }
        }
        let (r, c) = (rows.elems.len(), cols.unwrap_or(0));
        let primal_rows: Vec<TokenStream> = elems
            .chunks(c.max(1))
            .map(|row| {
                let items = row.iter().map(|s| &s.primal);
                quote!([#(#items),*])
            })
            .collect();
        let primal = self.b.temp("m", quote!(#func([#(#primal_rows),*])), &[]);
        use crate::shape::Dim;
        Value::Array(Array {
            primal,
            container: Container::Matrix(Dim::Lit(r), Dim::Lit(c)),
            len: Dim::Lit(r * c),
            elems: Some(elems),
            rows: vec![Rows::Zero; self.blocks()],
        })
    }

    pub fn array_of(&mut self, values: Vec<Value>, container: Container, at: &dyn ToTokens) -> Value {
        let mut elems = Vec::new();
        for value in values {
            match self.scalar(value, at) {
                Some(s) => elems.push(s),
                None => return self.poison(),
            }
        }
        let items: Vec<&Atom> = elems.iter().map(|s| &s.primal).collect();
        let primal = self.b.temp("a", quote!([#(#items),*]), &items);
        let len = crate::shape::Dim::Lit(elems.len());
        Value::Array(Array {
            primal,
            container,
            len,
            elems: Some(elems),
            rows: vec![Rows::Zero; self.blocks()],
        })
    }

    fn repeat(&mut self, repeat: &syn::ExprRepeat) -> Value {
        let value = self.expr(&repeat.expr);
        let Some(s) = self.scalar(value, &repeat.expr) else { return self.poison() };
        let len = super::syn_dim(&repeat.len);
        if let Some(n) = len.lit() {
            return self.array_of(vec![Value::Scalar(s); n], Container::Array, repeat);
        }
        let p = &s.primal;
        let primal = self.b.temp("a", quote!([#p; #len]), &[p]);
        let mut rows = Vec::new();
        for block in 0..self.blocks() {
            let lin = &s.tangent.blocks[block];
            if lin.is_zero() {
                rows.push(Rows::Zero);
                continue;
            }
            let n = self.block_len(block);
            let row = lin.materialize(&n, &mut self.b, "row");
            let held = self.b.temp("rows", quote!([#row; #len]), &[&row]);
            rows.push(Rows::Held { tokens: held.tokens, mutable: false });
        }
        Value::Array(Array { primal, container: Container::Array, len, elems: None, rows })
    }

    /// An index expression as a column index: a literal, or a run-time value evaluated once.
    pub fn index_of(&mut self, expr: &Expr) -> Index {
        if let Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(i), .. }) = expr {
            if let Ok(k) = i.base10_parse::<usize>() {
                return Index::Lit(k);
            }
        }
        if self.needs_lowering(expr) {
            self.diagnostics.error_at(expr, "an index cannot depend on a differentiated value");
        }
        match self.verbatim(expr) {
            Value::Opaque { atom, .. } => {
                let simple = syn::parse2::<syn::Ident>(atom.tokens.clone())
                    .is_ok_and(|ident| !self.is_rebound(&ident.to_string()));
                if simple && !atom.mutable {
                    Index::Run(atom.tokens)
                } else {
                    let tokens = atom.tokens.clone();
                    let name = self.b.fresh("k");
                    self.b.code(quote!(let #name: usize = #tokens;));
                    Index::Run(quote!(#name))
                }
            }
            _ => Index::Lit(0),
        }
    }

    fn index(&mut self, index: &syn::ExprIndex) -> Value {
        let indices: Vec<&Expr> = match &*index.index {
            Expr::Tuple(t) => t.elems.iter().collect(),
            other => vec![other],
        };
        let base_name = match &*index.expr {
            Expr::Path(p) => p.path.get_ident().map(ToString::to_string),
            _ => None,
        };
        let indices: Vec<Index> = indices.into_iter().map(|e| self.index_of(e)).collect();
        let value = self.expr(&index.expr);
        let Value::Array(mut array) = value else {
            return match value {
                Value::Opaque { .. } => self.verbatim(&Expr::Index(index.clone())),
                other => self.unsupported(index, &format!("cannot index {}", other.describe())),
            };
        };
        let krate = self.b.krate.clone();
        let Some(flat) = array.flat_index(&indices, &krate) else {
            return self
                .unsupported(index, "index a vector or an array with `v[i]` and a matrix with `m[(i, j)]`");
        };
        if let (Some(elems), Index::Lit(k)) = (&array.elems, &flat) {
            return match elems.get(*k) {
                Some(e) => Value::Scalar(e.clone()),
                None => self.unsupported(index, "index out of bounds"),
            };
        }
        if array.elems.is_some() {
            // A run-time index into elements known at compile time: move them to run-time rows.
            let lens: Vec<_> = (0..self.blocks()).map(|b| self.block_len(b)).collect();
            array.materialize(&lens, "rows", &mut self.b);
            if let Some(name) = base_name {
                if let Some(binding) = self.lookup_mut(&name) {
                    if let Value::Array(a) = &mut binding.value {
                        a.elems = None;
                        a.rows = array.rows.clone();
                    }
                }
            }
        }
        let place = array.primal_place(&indices);
        let tangent: Tangent = array.component_tangent(&flat);
        Value::Scalar(Scalar { primal: Atom::place(place, array.primal.mutable), tangent })
    }
}

/// The value of a literal, `-` a literal, or either in parentheses (`(-0.625)`): a constant
/// the lowering folds, and writes typed where it is a method's receiver.
fn literal_value(expr: &Expr) -> Option<f64> {
    match expr {
        Expr::Lit(syn::ExprLit { lit: syn::Lit::Float(f), .. }) => f.base10_parse::<f64>().ok(),
        Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(i), .. }) => i.base10_parse::<f64>().ok(),
        Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) => literal_value(&u.expr).map(|v| -v),
        Expr::Paren(p) => literal_value(&p.expr),
        _ => None,
    }
}

/// The constants of `std::f64::consts` (but `E`, a common name for other things), as
/// names brought in with `use`.
fn is_float_constant(name: &str) -> bool {
    matches!(
        name,
        "PI" | "TAU"
            | "FRAC_PI_2"
            | "FRAC_PI_3"
            | "FRAC_PI_4"
            | "FRAC_PI_6"
            | "FRAC_PI_8"
            | "FRAC_1_PI"
            | "FRAC_2_PI"
            | "FRAC_2_SQRT_PI"
            | "SQRT_2"
            | "FRAC_1_SQRT_2"
            | "LN_2"
            | "LN_10"
            | "LOG2_E"
            | "LOG2_10"
            | "LOG10_E"
            | "LOG10_2"
    )
}

/// ` (did you mean `x`?)` for a near miss of a supported method.
fn suggestion(name: &str) -> String {
    let mut best: Option<(usize, &str)> = None;
    for (candidate, _) in rules::METHODS {
        let distance = edit_distance(name, candidate);
        if distance <= 2 && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    let extra = match name {
        "log1p" => Some("ln_1p"),
        "expm1" => Some("exp_m1"),
        "pow" => Some("powf"),
        "clamp" => Some("min` and `max"),
        "sin_cos" => Some("sin` and `cos"),
        "square" => Some("powi"),
        _ => None,
    };
    match extra.or(best.map(|(_, c)| c)) {
        Some(c) => format!(" (did you mean `{c}`?)"),
        None => String::new(),
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            let next = (row[j + 1] + 1).min(row[j] + 1).min(previous + cost);
            previous = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}
