//! Iterator chains and closures: `x.iter().zip(&y).map(|(a, b)| a * b).sum()`, `for (i, v)
//! in x.iter().enumerate()`, `.fold(f64::NEG_INFINITY, f64::max)`, array `.map(…)`, and
//! closures bound in the body (`let sq = |t: f64| t * t;`), applied where they are called.
//!
//! A chain becomes one loop, never unrolled: the positions it visits are the user's own
//! iterator adapters applied to a range of indices (`(0..n).rev().enumerate()`, Rust code
//! that never touches a differentiated value), and the items are read from the arrays
//! inside the loop body, with the closures applied there.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, ToTokens};
use syn::spanned::Spanned;
use syn::Expr;

use super::{refused, unsupported, Front, Operand, Result, Var};
use crate::ir::{Block, Code, Op, Path, Position, Type, Value};

/// The loop variables an index iterator yields: one name, or a pair (`zip`, `enumerate`).
#[derive(Clone)]
enum Shape {
    Var(Ident),
    Pair(Box<Shape>, Box<Shape>),
}

impl ToTokens for Shape {
    fn to_tokens(&self, out: &mut TokenStream) {
        match self {
            Shape::Var(v) => v.to_tokens(out),
            Shape::Pair(a, b) => out.extend(quote!((#a, #b))),
        }
    }
}

/// How an item is computed from the loop variables, in the loop body.
#[derive(Clone)]
enum Builder {
    /// `array[k]`.
    Element(Value, Ident),
    /// The loop variable itself (a range, `enumerate`'s count).
    Index(Ident),
    /// `&array[k]` (or `array[k]`, `by_value`) of an array that is never differentiated
    /// (data: a `const`, a constant parameter): user code with holes for the SSA values
    /// it reads.
    Constant {
        array: TokenStream,
        holes: Vec<Value>,
        index: Ident,
        by_value: bool,
    },
    /// `f(item)`.
    Map(Box<Builder>, Box<Expr>),
    Pair(Box<Builder>, Box<Builder>),
}

/// An item, once computed: a value, or a pair of items.
#[derive(Clone, Debug)]
pub(super) enum Item {
    Value(Value),
    Pair(Box<Item>, Box<Item>),
}

/// A chain of iterator adapters, not yet consumed.
#[derive(Clone)]
struct Stream {
    /// Rust code iterating over the loop variables, with holes for the SSA values it reads.
    indices: TokenStream,
    holes: Vec<Value>,
    shape: Shape,
    item: Builder,
    /// `indices` ends in an adapter call (no parentheses needed to call another).
    chained: bool,
}

/// A closure bound in the body, with the SSA values of the names it reads at its `let`.
#[derive(Clone, Debug)]
pub(super) struct Closure {
    pub expr: syn::ExprClosure,
    pub captured: Vec<(String, Option<Value>)>,
}

impl Front<'_> {
    fn fresh_index(&mut self) -> Ident {
        let ident = Ident::new(&format!("k{}", self.loops), Span::mixed_site());
        self.loops += 1;
        ident
    }

    /// The stream `e` denotes, if it is an iterator chain this module knows (`None` for
    /// anything else).
    fn stream(&mut self, e: &Expr) -> Result<Option<Stream>> {
        match e {
            Expr::Paren(p) => self.stream(&p.expr),
            Expr::Reference(r) if r.mutability.is_none() => self.source(&r.expr),
            Expr::Range(range) => {
                if self.reads_scalar_expr(e) {
                    return unsupported(e, "a range whose bounds depend on a differentiated value");
                }
                let Operand::Code { tokens, holes } = self.code(&Expr::Range(range.clone()))? else {
                    return Ok(None);
                };
                let k = self.fresh_index();
                Ok(Some(Stream {
                    indices: tokens,
                    chained: false,
                    holes,
                    shape: Shape::Var(k.clone()),
                    item: Builder::Index(k),
                }))
            }
            Expr::MethodCall(call) => {
                let name = call.method.to_string();
                let args: Vec<&Expr> = call.args.iter().collect();
                match (name.as_str(), args.as_slice()) {
                    ("iter" | "into_iter", []) => self.source(&call.receiver),
                    ("copied" | "cloned", []) => self.stream(&call.receiver),
                    ("rev", []) | ("skip" | "take" | "step_by", [_]) => {
                        let Some(mut s) = self.stream(&call.receiver)? else { return Ok(None) };
                        let method = &call.method;
                        let mut extra = Vec::new();
                        for arg in &args {
                            if self.reads_scalar_expr(arg) {
                                return unsupported(
                                    arg,
                                    "an iterator argument that depends on a differentiated value",
                                );
                            }
                            let Operand::Code { tokens, holes } = self.code(arg)? else {
                                return unsupported(arg, "this iterator argument");
                            };
                            let tokens = shift_holes(tokens, s.holes.len());
                            s.holes.extend(holes);
                            extra.push(tokens);
                        }
                        let indices = receiver(&s);
                        s.indices = quote!(#indices.#method(#(#extra),*));
                        s.chained = true;
                        Ok(Some(s))
                    }
                    ("enumerate", []) => {
                        let Some(s) = self.stream(&call.receiver)? else { return Ok(None) };
                        let count = self.fresh_index();
                        let indices = receiver(&s);
                        Ok(Some(Stream {
                            indices: quote!(#indices.enumerate()),
                            chained: true,
                            holes: s.holes,
                            shape: Shape::Pair(Box::new(Shape::Var(count.clone())), Box::new(s.shape)),
                            item: Builder::Pair(Box::new(Builder::Index(count)), Box::new(s.item)),
                        }))
                    }
                    ("zip", [other]) => {
                        let Some(a) = self.stream(&call.receiver)? else { return Ok(None) };
                        let Some(b) = self.stream(other)?.or(self.source(other)?) else {
                            return unsupported(other, "zipping with this value");
                        };
                        let (ia, ib) = (receiver(&a), shift_holes(b.indices.clone(), a.holes.len()));
                        let mut holes = a.holes;
                        holes.extend(b.holes);
                        Ok(Some(Stream {
                            indices: quote!(#ia.zip(#ib)),
                            chained: true,
                            holes,
                            shape: Shape::Pair(Box::new(a.shape), Box::new(b.shape)),
                            item: Builder::Pair(Box::new(a.item), Box::new(b.item)),
                        }))
                    }
                    ("map", [f]) => {
                        let Some(mut s) = self.stream(&call.receiver)? else { return Ok(None) };
                        if let Expr::Closure(c) = f {
                            if assigns_outside(c) {
                                return refused(f, super::messages::ASSIGNS_OUTSIDE);
                            }
                        }
                        s.item = Builder::Map(Box::new(s.item), Box::new((*f).clone()));
                        Ok(Some(s))
                    }
                    _ => Ok(None),
                }
            }
            _ => Ok(None),
        }
    }

    /// The items of an array or vector value: `x`, `&x`, `x.iter()`.
    fn source(&mut self, e: &Expr) -> Result<Option<Stream>> {
        let e = match e {
            Expr::Paren(p) => &*p.expr,
            Expr::Reference(r) => &*r.expr,
            e => e,
        };
        if let Expr::MethodCall(call) = e {
            if (call.method == "iter" || call.method == "into_iter") && call.args.is_empty() {
                return self.source(&call.receiver);
            }
            return self.stream(e);
        }
        if !self.reads_ssa(e) {
            // Data that is never differentiated: its elements are user code, read by
            // reference as `iter()` yields them.
            if !matches!(e, Expr::Path(_) | Expr::Field(_) | Expr::Index(_)) {
                return Ok(None);
            }
            let (Operand::Code { tokens: indices, holes }, Operand::Code { tokens: array, holes: more }) =
                (self.code(e)?, self.code(e)?)
            else {
                return Ok(None);
            };
            let index = self.fresh_index();
            return Ok(Some(Stream {
                indices: quote!(0..(#indices).len()),
                chained: false,
                holes,
                shape: Shape::Var(index.clone()),
                item: Builder::Constant { array, holes: more, index, by_value: false },
            }));
        }
        let Operand::Value(array) = self.expr(e)? else { return Ok(None) };
        let len = match self.f.ty(array) {
            Type::Array(elem, n) if **elem == Type::Scalar => n.clone(),
            Type::Vector(n) => n.clone(),
            _ => return unsupported(e, "iterating over this value"),
        };
        let k = self.fresh_index();
        let len = len.value();
        Ok(Some(Stream {
            indices: quote!(0..#len),
            chained: false,
            holes: Vec::new(),
            shape: Shape::Var(k.clone()),
            item: Builder::Element(array, k),
        }))
    }

    pub(super) fn reads_scalar_expr(&self, e: &Expr) -> bool {
        struct Finder<'f, 'a>(&'f Front<'a>, bool);
        impl<'ast> syn::visit::Visit<'ast> for Finder<'_, '_> {
            fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
                if self.0.length_of(call).is_none() {
                    syn::visit::visit_expr_method_call(self, call);
                }
            }
            fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
                if let Some(v) = p.path.get_ident().and_then(|i| self.0.ssa(&i.to_string())) {
                    self.1 |= *self.0.f.ty(v) != Type::Opaque;
                }
            }
        }
        let mut finder = Finder(self, false);
        syn::visit::Visit::visit_expr(&mut finder, e);
        finder.1
    }

    /// A consumer of an iterator chain (`sum`, `product`, `fold`), lowered to a loop; `None`
    /// when `call` is not one.
    pub(super) fn consume(&mut self, call: &syn::ExprMethodCall) -> Result<Option<Operand>> {
        let name = call.method.to_string();
        if !matches!(name.as_str(), "sum" | "product" | "fold") {
            return Ok(None);
        }
        if !matches!(&*call.receiver, Expr::MethodCall(_)) {
            return Ok(None);
        }
        let Some(stream) = self.stream(&call.receiver)? else { return Ok(None) };
        let span = call.span();
        let e = Expr::MethodCall(call.clone());
        let (init, f) = match (name.as_str(), call.args.iter().collect::<Vec<_>>().as_slice()) {
            ("sum", []) => (self.push1(Op::Literal(0.0), vec![], Type::Scalar, span), None),
            ("product", []) => (self.push1(Op::Literal(1.0), vec![], Type::Scalar, span), None),
            ("fold", [init, f]) => {
                let init_operand = self.expr(init)?;
                (self.operand_as(init_operand, &Type::Scalar, init)?, Some(*f))
            }
            _ => return unsupported(&e, "this consumer of an iterator"),
        };
        let out = self.each(&stream, vec![init], span, |front: &mut Self, item: Item, acc: &[Value]| {
            let next = match (name.as_str(), f) {
                ("sum", _) => {
                    let x = front.scalar_item(item, &e)?;
                    front.push1(Op::Add, vec![acc[0], x], Type::Scalar, span)
                }
                ("product", _) => {
                    let x = front.scalar_item(item, &e)?;
                    front.push1(Op::Mul, vec![acc[0], x], Type::Scalar, span)
                }
                (_, Some(f)) => {
                    let result = front.apply(f, vec![Item::Value(acc[0]), item])?;
                    front.scalar_item(result, f)?
                }
                _ => return unsupported(&e, "this consumer of an iterator"),
            };
            Ok(vec![next])
        })?;
        Ok(Some(Operand::Value(out[0])))
    }

    fn scalar_item(&mut self, item: Item, at: &dyn ToTokens) -> Result<Value> {
        match item {
            Item::Value(v) if *self.f.ty(v) == Type::Scalar => Ok(v),
            Item::Value(v) => self.coerce(v, &Type::Scalar, at),
            Item::Pair(..) => unsupported(at, "a pair where a number is needed"),
        }
    }

    /// A loop over `stream`, carrying `carried` through `body` (given each item).
    fn each(
        &mut self,
        stream: &Stream,
        carried: Vec<Value>,
        span: Span,
        mut body: impl FnMut(&mut Self, Item, &[Value]) -> Result<Vec<Value>>,
    ) -> Result<Vec<Value>> {
        let types: Vec<Type> = carried.iter().map(|v| self.f.ty(*v).clone()).collect();
        let params: Vec<Value> = types.iter().map(|t| self.f.value(t.clone(), None)).collect();
        self.open.push(Vec::new());
        let item = self.item(&stream.item, span)?;
        let yields = body(self, item, &params)?;
        let insts = self.open.pop().unwrap_or_default();
        let shape = &stream.shape;
        let op = Op::For {
            pattern: quote!(#shape),
            range: Code { tokens: stream.indices.clone() },
            holes: stream.holes.len(),
            body: Block { params, insts, yields },
        };
        let mut args = stream.holes.clone();
        args.extend(carried);
        Ok(self.push(op, args, &types, span))
    }

    fn item(&mut self, builder: &Builder, span: Span) -> Result<Item> {
        Ok(match builder {
            Builder::Element(array, k) => {
                let index =
                    self.push1(Op::Code(Code { tokens: k.to_token_stream() }), vec![], Type::Opaque, span);
                let ty = self.f.ty(*array).element().unwrap_or(Type::Scalar);
                Item::Value(self.push1(Op::Get(Path(vec![Position::Dynamic])), vec![*array, index], ty, span))
            }
            Builder::Constant { array, holes, index, by_value } => {
                // Read by value; where the user's code holds it by reference (`iter()`),
                // `*t` is the value itself.
                let value = self.push1(
                    Op::Code(Code { tokens: quote!((#array)[#index]) }),
                    holes.clone(),
                    Type::Opaque,
                    span,
                );
                if !*by_value {
                    self.references.insert(value);
                }
                Item::Value(value)
            }
            Builder::Index(k) => Item::Value(self.push1(
                Op::Code(Code { tokens: k.to_token_stream() }),
                vec![],
                Type::Opaque,
                span,
            )),
            Builder::Pair(a, b) => Item::Pair(Box::new(self.item(a, span)?), Box::new(self.item(b, span)?)),
            Builder::Map(inner, f) => {
                let x = self.item(inner, span)?;
                self.apply(f, vec![x])?
            }
        })
    }

    /// `f(args…)` for a closure or a path to a float method of that many operands.
    pub(super) fn apply(&mut self, f: &Expr, args: Vec<Item>) -> Result<Item> {
        // A closure bound by a `let` (`let sq = |v: &f64| v * v; x.iter().map(sq)`).
        if let Expr::Path(path) = f {
            if let Some(Var::Closure(closure)) =
                path.path.get_ident().and_then(|i| self.lookup(&i.to_string()))
            {
                let closure = (**closure).clone();
                self.captures_unchanged(&closure, f)?;
                return self.apply(&Expr::Closure(closure.expr), args);
            }
        }
        match f {
            Expr::Path(path)
                if path.path.segments.len() == 2 && self.is_scalar_type(&path.path.segments[0].ident) =>
            {
                let method = &path.path.segments[1].ident;
                let Some(&(name, arity)) = crate::rules::METHODS.iter().find(|(m, _)| method == m) else {
                    return unsupported(f, "this function as an iterator's argument");
                };
                if arity != args.len() {
                    return unsupported(f, "a function of another number of arguments here");
                }
                let mut values = Vec::new();
                for arg in args {
                    values.push(self.scalar_item(arg, f)?);
                }
                Ok(Item::Value(self.push1(Op::Call(name), values, Type::Scalar, f.span())))
            }
            Expr::Closure(closure) => {
                if closure.inputs.len() != args.len() {
                    return unsupported(f, "a closure of another number of parameters here");
                }
                if assigns_outside(closure) {
                    return refused(f, super::messages::ASSIGNS_OUTSIDE);
                }
                self.push_scope();
                let result = (|| {
                    for (pat, arg) in closure.inputs.iter().zip(args) {
                        self.bind_item(pat, arg)?;
                    }
                    let body = self.expr(&closure.body)?;
                    Ok(match body {
                        Operand::Value(v) => Item::Value(v),
                        code => Item::Value(self.operand_as(code, &Type::Scalar, &closure.body)?),
                    })
                })();
                self.pop_scope();
                result
            }
            _ => {
                refused(f, "an adapter takes a closure, `|t| …`, or a path such as `f64::tanh` or `f64::max`")
            }
        }
    }

    /// Binds a closure parameter's (or a `for` loop's) pattern to an item.
    pub(super) fn bind_item(&mut self, pat: &syn::Pat, item: Item) -> Result<()> {
        match (pat, item) {
            (syn::Pat::Ident(p), Item::Value(v)) if p.subpat.is_none() && p.by_ref.is_none() => {
                let reference = self.references.contains(&v);
                self.bind(
                    p.ident.to_string(),
                    Var::Ssa { value: v, mutable: p.mutability.is_some(), reference },
                );
                Ok(())
            }
            (syn::Pat::Ident(p), pair @ Item::Pair(..)) if p.subpat.is_none() && p.by_ref.is_none() => {
                self.bind(p.ident.to_string(), Var::Pair(Box::new(pair)));
                Ok(())
            }
            (syn::Pat::Wild(_), _) => Ok(()),
            (syn::Pat::Type(t), item) => {
                // A parameter typed as a reference (`|v: &f64|`, an inlined function's
                // `x: &[f64; 3]`) names a reference to the value.
                if let (syn::Type::Reference(r), syn::Pat::Ident(p), Item::Value(v)) =
                    (&*t.ty, &*t.pat, &item)
                {
                    if r.mutability.is_none() && p.subpat.is_none() && p.by_ref.is_none() {
                        self.bind(
                            p.ident.to_string(),
                            Var::Ssa { value: *v, mutable: false, reference: true },
                        );
                        return Ok(());
                    }
                }
                // One typed as a value names the value, even where the same value is also
                // lent to another parameter (`f(&x, x)`).
                if let (false, syn::Pat::Ident(p), Item::Value(v)) =
                    (matches!(&*t.ty, syn::Type::Reference(_)), &*t.pat, &item)
                {
                    if p.subpat.is_none() && p.by_ref.is_none() {
                        let binding =
                            Var::Ssa { value: *v, mutable: p.mutability.is_some(), reference: false };
                        self.bind(p.ident.to_string(), binding);
                        return Ok(());
                    }
                }
                self.bind_item(&t.pat, item)
            }
            (syn::Pat::Reference(r), item) => self.bind_item(&r.pat, item),
            (syn::Pat::Paren(p), item) => self.bind_item(&p.pat, item),
            (syn::Pat::Tuple(t), Item::Pair(a, b)) if t.elems.len() == 2 => {
                self.bind_item(&t.elems[0], *a)?;
                self.bind_item(&t.elems[1], *b)
            }
            (pat, _) => unsupported(pat, "this pattern for an iterator's item"),
        }
    }

    /// `for pattern in chain { … }` over an iterator chain: the loop's range and pattern,
    /// and how to bind the user's pattern in the body; `None` when `e` is no such chain.
    pub(super) fn loop_chain(&mut self, e: &Expr) -> Result<Option<LoopChain>> {
        let is_chain = matches!(e, Expr::MethodCall(c) if !(c.method == "iter" && c.args.is_empty()));
        if !is_chain {
            return Ok(None);
        }
        let Some(stream) = self.stream(e)? else { return Ok(None) };
        let shape = &stream.shape;
        Ok(Some((stream.indices.clone(), stream.holes.clone(), quote!(#shape), Chain(stream.item))))
    }

    /// The items of a chain in the loop body, bound to the user's pattern.
    pub(super) fn bind_chain(&mut self, chain: &Chain, pat: &syn::Pat, span: Span) -> Result<()> {
        let item = self.item(&chain.0, span)?;
        self.bind_item(pat, item)
    }

    /// `f(args…)` for a closure bound in the body.
    /// Refuses a closure applied after a name it reads has changed since its `let`.
    fn captures_unchanged(&self, closure: &Closure, at: &dyn ToTokens) -> Result<()> {
        for (name, value) in &closure.captured {
            if self.ssa(name) != *value {
                return unsupported(
                    at,
                    format!("a call of a closure that reads `{name}`, which has changed since the closure was made"),
                );
            }
        }
        Ok(())
    }

    pub(super) fn call_closure(&mut self, closure: &Closure, call: &syn::ExprCall) -> Result<Operand> {
        self.captures_unchanged(closure, call)?;
        let mut items = Vec::new();
        // Values lent (`&x`, `&Vector::from(…)`): the parameter names a reference to them.
        let mut lent = Vec::new();
        for (k, arg) in call.args.iter().enumerate() {
            let operand = match arg {
                Expr::Reference(r) if r.mutability.is_none() && self.reads_ssa(&r.expr) => {
                    match self.expr(&r.expr)? {
                        Operand::Value(v) if self.f.ty(v).is_differentiable() => {
                            if self.references.insert(v) {
                                lent.push(v);
                            }
                            Operand::Value(v)
                        }
                        Operand::Value(v) => {
                            let hole = Code::hole(0);
                            Operand::Code { tokens: quote!(&#hole), holes: vec![v] }
                        }
                        Operand::Code { tokens, holes } => {
                            Operand::Code { tokens: quote!(&(#tokens)), holes }
                        }
                    }
                }
                arg => self.expr(arg)?,
            };
            // Code for a parameter of a type never differentiated has that type written (an
            // integer literal for `n: usize`, whose methods would be ambiguous on
            // `{integer}`).
            let operand = match (operand, closure.expr.inputs.iter().nth(k)) {
                (Operand::Code { tokens, holes }, Some(syn::Pat::Type(typed)))
                    if crate::signature::shape_of(&typed.ty, &syn::Generics::default()).is_none() =>
                {
                    let ty = &typed.ty;
                    let typed = Ident::new("__jacobian_typed", Span::mixed_site());
                    Operand::Code { tokens: quote!({ let #typed: #ty = #tokens; #typed }), holes }
                }
                (operand, _) => operand,
            };
            items.push(Item::Value(self.materialize(operand, arg.span())));
        }
        let applied = self.apply(&Expr::Closure(closure.expr.clone()), items);
        for v in lent {
            self.references.remove(&v);
        }
        match applied? {
            Item::Value(v) => Ok(Operand::Value(v)),
            Item::Pair(..) => unsupported(call, "a closure returning a pair"),
        }
    }

    /// The names a closure's body reads and their SSA values now.
    pub(super) fn captures(&self, closure: &syn::ExprClosure) -> Vec<(String, Option<Value>)> {
        struct Names(Vec<String>);
        impl<'ast> syn::visit::Visit<'ast> for Names {
            fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
                if let Some(i) = p.path.get_ident() {
                    self.0.push(i.to_string());
                }
            }
        }
        let mut names = Names(Vec::new());
        syn::visit::Visit::visit_expr(&mut names, &closure.body);
        // (Its own parameters are not captured.)
        struct Bound(Vec<String>);
        impl<'ast> syn::visit::Visit<'ast> for Bound {
            fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
                self.0.push(p.ident.to_string());
            }
        }
        let mut bound = Bound(Vec::new());
        for input in &closure.inputs {
            syn::visit::Visit::visit_pat(&mut bound, input);
        }
        names.0.into_iter().filter(|n| !bound.0.contains(n)).map(|n| (n.clone(), self.ssa(&n))).collect()
    }
}

/// An iterator chain's items, for a `for` loop's body.
pub(super) struct Chain(Builder);

/// A `for` loop over a chain: its range (code, with holes), its pattern, and its items.
pub(super) type LoopChain = (TokenStream, Vec<Value>, TokenStream, Chain);

/// A stream's index iterator as the receiver of one more adapter: a range in parentheses
/// (`(0..n).rev()`), a chain of adapters as it is (`(0..n).rev().enumerate()`).
fn receiver(s: &Stream) -> TokenStream {
    let indices = &s.indices;
    if s.chained {
        indices.clone()
    } else {
        quote!((#indices))
    }
}

/// Renumbers the holes of code that will follow `offset` other holes.
pub(super) fn shift_holes(tokens: TokenStream, offset: usize) -> TokenStream {
    if offset == 0 {
        return tokens;
    }
    tokens
        .into_iter()
        .map(|tree| match tree {
            proc_macro2::TokenTree::Ident(ident) => match Code::hole_number(&ident) {
                Some(k) => proc_macro2::TokenTree::Ident(Code::hole(k + offset)),
                None => proc_macro2::TokenTree::Ident(ident),
            },
            proc_macro2::TokenTree::Group(g) => {
                let mut group = proc_macro2::Group::new(g.delimiter(), shift_holes(g.stream(), offset));
                group.set_span(g.span());
                proc_macro2::TokenTree::Group(group)
            }
            other => other,
        })
        .collect()
}

/// A function (defined in the body, or an annotated callee written out in place) as the
/// closure it is applied as: its typed parameters and its block; `None` for a method.
pub(super) fn closure_of(sig: &syn::Signature, block: &syn::Block) -> Option<syn::ExprClosure> {
    let mut inputs: syn::punctuated::Punctuated<syn::Pat, syn::Token![,]> =
        syn::punctuated::Punctuated::new();
    for arg in &sig.inputs {
        let syn::FnArg::Typed(typed) = arg else { return None };
        inputs.push(syn::Pat::Type(typed.clone()));
    }
    syn::parse2(quote!(|#inputs| #block)).ok()
}

/// Whether a closure (or a function applied like one) assigns to a variable it does not
/// bind itself: its own parameters and `let`s are SSA variables of their own, a captured
/// variable would change outside it.
pub(super) fn assigns_outside(closure: &syn::ExprClosure) -> bool {
    struct Finder {
        assigned: Vec<Option<String>>,
        bound: Vec<String>,
    }
    fn root(e: &Expr) -> Option<String> {
        match e {
            Expr::Path(p) => p.path.get_ident().map(|i| i.to_string()),
            Expr::Index(i) => root(&i.expr),
            Expr::Field(f) => root(&f.base),
            Expr::Paren(p) => root(&p.expr),
            _ => None,
        }
    }
    impl<'ast> syn::visit::Visit<'ast> for Finder {
        fn visit_expr_assign(&mut self, a: &'ast syn::ExprAssign) {
            self.assigned.push(root(&a.left));
            syn::visit::visit_expr_assign(self, a);
        }
        fn visit_expr_binary(&mut self, b: &'ast syn::ExprBinary) {
            if super::expr::is_compound_assign(&b.op) {
                self.assigned.push(root(&b.left));
            }
            syn::visit::visit_expr_binary(self, b);
        }
        fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
            self.bound.push(p.ident.to_string());
            syn::visit::visit_pat_ident(self, p);
        }
    }
    let mut finder = Finder { assigned: Vec::new(), bound: Vec::new() };
    syn::visit::Visit::visit_expr_closure(&mut finder, closure);
    finder.assigned.iter().any(|name| !matches!(name, Some(name) if finder.bound.contains(name)))
}
