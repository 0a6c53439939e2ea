//! Owns differentiable structs in a function's signature. A parameter or result whose type
//! is a struct deriving `Differentiable` (found in the source by `callees`) is taken apart,
//! before any other stage sees the function, into one parameter per field (`s: State`
//! becomes `s__p: [f64; 3], s__m: f64`) and a tuple result (`-> ([f64; 3], f64)`); the
//! body reads the fields' parameters (`s.p[0]` becomes `s__p[0]`), a local of the struct
//! becomes one local per field, and a struct built as the result (a literal, a variable, a
//! branch of them) becomes the tuple of its fields. Every later stage works on that
//! translation: the Jacobian's columns and rows follow the fields. Each sibling keeps the
//! user's signature: it takes the struct's fields on entry and returns the struct built
//! from the tuple (`State { p: r.0, m: r.1 }`).

use std::collections::BTreeMap;

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, ToTokens};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{Expr, FnArg, Ident, ItemFn, Pat, ReturnType, Stmt, Type};

use crate::derive::Field;
use crate::shape::Shape;

/// A struct as the function's signature names it, with its fields.
#[derive(Clone)]
struct Layout {
    /// The type as written (`State`, `model::State`).
    ty: Type,
    fields: std::rc::Rc<Vec<Field>>,
    scalar: TokenStream,
}

impl Layout {
    /// The number of components, where every field's size is a literal.
    fn count(&self) -> Option<usize> {
        self.fields.iter().map(|f| f.shape.len().lit()).sum()
    }
}

/// Expressions for the components of a field's value `value`, row-major; `None` where a
/// size is not a literal.
fn components(field: &Field, value: &TokenStream) -> Option<Vec<TokenStream>> {
    let lit = |d: &crate::shape::Dim| d.lit();
    Some(match &field.shape {
        Shape::Scalar => vec![value.clone()],
        Shape::Array(n) | Shape::Vector(n) => (0..lit(n)?).map(|i| quote!(#value[#i])).collect(),
        Shape::Matrix(r, c) => {
            let c = lit(c)?;
            (0..lit(r)? * c).map(|k| (k / c, k % c)).map(|(i, j)| quote!(#value[(#i, #j)])).collect()
        }
        Shape::Nested(r, c) => {
            let c = lit(c)?;
            (0..lit(r)? * c).map(|k| (k / c, k % c)).map(|(i, j)| quote!(#value[#i][#j])).collect()
        }
    })
}

/// A field's value from its components (row-major).
fn assemble(field: &Field, parts: &[TokenStream], krate: &TokenStream) -> TokenStream {
    let rows = |c: usize| parts.chunks(c.max(1)).map(|row| quote!([#(#row),*])).collect::<Vec<_>>();
    match &field.shape {
        Shape::Scalar => parts[0].clone(),
        Shape::Array(_) => quote!([#(#parts),*]),
        Shape::Vector(_) => quote!(#krate::Vector::from([#(#parts),*])),
        Shape::Matrix(_, c) => {
            let rows = rows(c.lit().unwrap_or(1));
            quote!(#krate::Matrix::from_rows([#(#rows),*]))
        }
        Shape::Nested(_, c) => {
            let rows = rows(c.lit().unwrap_or(1));
            quote!([#(#rows),*])
        }
    }
}

/// A function with differentiable structs in its signature, translated.
pub struct Structs {
    /// The user's function as written: its signature is the siblings'.
    pub original: ItemFn,
    /// The struct parameters: name, and the struct.
    params: Vec<(Ident, Layout)>,
    /// The struct result.
    result: Option<Layout>,
    krate: TokenStream,
}

/// The name of field `field` of the struct parameter or local `name` in the translation.
fn part(name: &Ident, field: &Ident) -> Ident {
    format_ident!("{}__{}", name, field, span = name.span())
}

/// The struct a type names, if it derives `Differentiable` (by reference too); `Err` when
/// its definition is refused or ambiguous.
fn layout_of(ty: &Type, at: Span) -> syn::Result<Option<Layout>> {
    let inner = match ty {
        Type::Reference(r) if r.mutability.is_none() => &*r.elem,
        Type::Paren(p) => &*p.elem,
        ty => ty,
    };
    let Type::Path(path) = inner else { return Ok(None) };
    let Some(last) = path.path.segments.last() else { return Ok(None) };
    if path.qself.is_some()
        || !matches!(last.arguments, syn::PathArguments::None)
        || crate::signature::shape_of(inner, &syn::Generics::default()).is_some()
        || !last.ident.to_string().starts_with(|c: char| c.is_uppercase())
        || matches!(last.ident.to_string().as_str(), "String" | "Self")
    {
        return Ok(None);
    }
    match crate::callees::differentiable_struct(at, &last.ident.to_string()) {
        crate::callees::Found::None => Ok(None),
        crate::callees::Found::Several => Err(syn::Error::new(
            ty.span(),
            format!(
                "several structs named `{}` derive `Differentiable` in this crate's files, and none in this one; define the one this function differentiates in the function's own file",
                last.ident
            ),
        )),
        crate::callees::Found::One(item) => {
            let (fields, scalar) = crate::derive::fields(&item).map_err(|e| {
                syn::Error::new(ty.span(), format!("`{}` cannot be differentiated: {e}", last.ident))
            })?;
            Ok(Some(Layout { ty: inner.clone(), fields: std::rc::Rc::new(fields), scalar: scalar.tokens }))
        }
    }
}

/// The function with its struct parameters and result taken apart, and how its siblings
/// convert at the boundary; `None` when neither its signature nor its body has a
/// differentiable struct.
pub fn translate(function: &ItemFn, krate: &TokenStream) -> Option<syn::Result<(ItemFn, Structs)>> {
    let at = function.sig.ident.span();
    let mut params = Vec::new();
    let mut inputs = syn::punctuated::Punctuated::<FnArg, syn::Token![,]>::new();
    let mut any = false;
    for arg in &function.sig.inputs {
        let FnArg::Typed(typed) = arg else {
            inputs.push(arg.clone());
            continue;
        };
        let Pat::Ident(pat) = &*typed.pat else {
            inputs.push(arg.clone());
            continue;
        };
        // (A struct parameter `wrt` leaves out is taken apart too: its fields are constants.)
        let layout = match layout_of(&typed.ty, at) {
            Ok(Some(layout)) => layout,
            Ok(None) => {
                inputs.push(arg.clone());
                continue;
            }
            Err(e) => return Some(Err(e)),
        };
        any = true;
        let mutability = &pat.mutability;
        for field in layout.fields.iter() {
            let (name, ty) = (part(&pat.ident, &field.ident), &field.ty);
            inputs.push(syn::parse_quote!(#mutability #name: #ty));
        }
        params.push((pat.ident.clone(), layout));
    }
    let result = match &function.sig.output {
        ReturnType::Type(_, ty) => match layout_of(ty, at) {
            Ok(layout) => layout,
            Err(e) => return Some(Err(e)),
        },
        ReturnType::Default => None,
    };
    // Structs built in the body (`let p = State { … };`, its fields read) are taken apart
    // too.
    let mut literals = BTreeMap::new();
    for path in struct_literals(&function.block) {
        let ty = Type::Path(syn::TypePath { qself: None, path });
        if let Ok(Some(layout)) = layout_of(&ty, at) {
            literals.insert(type_name(&ty), layout);
        }
    }
    if !any && result.is_none() && literals.is_empty() {
        return None;
    }
    let mut translated = function.clone();
    translated.sig.inputs = inputs;
    if let Some(layout) = &result {
        if matches!(&function.sig.output, ReturnType::Type(_, ty) if matches!(**ty, Type::Reference(_))) {
            return Some(Err(syn::Error::new(
                function.sig.output.span(),
                "a differentiable struct is returned by value; write `-> State`, not a reference",
            )));
        }
        let Some(count) = layout.count() else {
            let ReturnType::Type(_, written) = &function.sig.output else { return None };
            return Some(Err(syn::Error::new(
                written.span(),
                format!(
                    "a `{}` result needs fields whose sizes are literals (its components are the Jacobian's rows, counted when the macro runs); a size that is a `const` item or generic is supported for parameters only",
                    type_name(&layout.ty)
                ),
            )));
        };
        let scalar = &layout.scalar;
        let count = crate::shape::unsuffixed(count);
        translated.sig.output = syn::parse_quote!(-> [#scalar; #count]);
    }
    let mut rewrite = Rewrite {
        vars: params.iter().map(|(name, layout)| (name.to_string(), layout.clone())).collect(),
        structs: params
            .iter()
            .map(|(_, l)| l)
            .chain(&result)
            .map(|l| (type_name(&l.ty), l.clone()))
            .chain(literals)
            .collect(),
        result: result.clone(),
        krate: krate.clone(),
        at,
        caller: function.sig.clone(),
        callees: None,
        error: None,
    };
    rewrite.block(&mut translated.block, true);
    if let Some(error) = rewrite.error {
        return Some(Err(error));
    }
    Some(Ok((translated, Structs { original: function.clone(), params, result, krate: krate.clone() })))
}

/// The paths of the struct literals in a body.
fn struct_literals(block: &syn::Block) -> Vec<syn::Path> {
    struct Literals(Vec<syn::Path>);
    impl<'ast> syn::visit::Visit<'ast> for Literals {
        fn visit_expr_struct(&mut self, e: &'ast syn::ExprStruct) {
            if !self.0.contains(&e.path) && e.path.segments.last().is_some_and(|s| s.ident != "Self") {
                self.0.push(e.path.clone());
            }
            syn::visit::visit_expr_struct(self, e);
        }
        fn visit_item(&mut self, _: &'ast syn::Item) {}
    }
    let mut literals = Literals(Vec::new());
    syn::visit::Visit::visit_block(&mut literals, block);
    literals.0
}

/// The macro's temporary for a field's value. Its span is the call site's, as a user's
/// name: the emitter's names for SSA values are mixed-site, so a later `let` of a
/// temporary in user code (a constant field) never shadows one of those.
fn temporary(field: &Ident) -> Ident {
    format_ident!("__jacobian_field_{}", field, span = Span::call_site())
}

/// The last identifier of a struct type's path (`model::State` → `State`).
fn type_name(ty: &Type) -> String {
    match ty {
        Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default(),
        _ => String::new(),
    }
}

/// Rewrites a body over struct variables into one over their fields.
struct Rewrite {
    /// The struct variables in scope (parameters, locals), by name.
    vars: BTreeMap<String, Layout>,
    /// The differentiable structs of the signature, by name, for literals.
    structs: BTreeMap<String, Layout>,
    /// The struct the function returns.
    result: Option<Layout>,
    krate: TokenStream,
    /// Where the function is and its name, for its callees' signatures.
    at: Span,
    caller: syn::Signature,
    callees: Option<crate::callees::Callees>,
    error: Option<syn::Error>,
}

impl Rewrite {
    /// The struct parameters of the annotated function a call names, by position (a
    /// struct argument is passed as its fields, as the callee's hidden parts sibling takes
    /// them); `None` for any other function.
    fn struct_parameters(&mut self, func: &Expr) -> Option<Vec<Option<Layout>>> {
        let Expr::Path(path) = func else { return None };
        let name = path.path.segments.last()?.ident.to_string();
        let (at, caller) = (self.at, &self.caller);
        let callee =
            self.callees.get_or_insert_with(|| crate::callees::Callees::of(at, caller)).get(&name)?;
        let layouts: Vec<Option<Layout>> = callee
            .sig
            .inputs
            .iter()
            .filter_map(|arg| match arg {
                FnArg::Typed(typed) => Some(layout_of(&typed.ty, at).ok().flatten()),
                FnArg::Receiver(_) => None,
            })
            .collect();
        layouts.iter().any(Option::is_some).then_some(layouts)
    }

    fn fail(&mut self, at: impl ToTokens, message: impl std::fmt::Display) {
        if self.error.is_none() {
            self.error = Some(syn::Error::new_spanned(at, message.to_string()));
        }
    }

    /// The struct variable `e` names, if any.
    fn var(&self, e: &Expr) -> Option<(Ident, Layout)> {
        // (`*s` of a struct parameter taken by reference is the struct too.)
        let e = match e {
            Expr::Unary(syn::ExprUnary { op: syn::UnOp::Deref(_), expr, .. }) => &**expr,
            Expr::Paren(p) => &*p.expr,
            e => e,
        };
        let Expr::Path(p) = e else { return None };
        let ident = p.path.get_ident()?;
        self.vars.get(&ident.to_string()).map(|l| (ident.clone(), l.clone()))
    }

    /// The struct a literal builds, if it is one of the signature's.
    fn literal(&self, e: &syn::ExprStruct) -> Option<Layout> {
        let last = e.path.segments.last()?;
        let name = last.ident.to_string();
        let name = if name == "Self" { type_name(&self.result.as_ref()?.ty) } else { name };
        self.structs.get(&name).cloned()
    }

    /// The struct `e` evaluates to, where that is visible (a variable, a literal, a
    /// branch or block of them).
    fn struct_of(&self, e: &Expr) -> Option<Layout> {
        match e {
            Expr::Path(_) | Expr::Unary(_) => self.var(e).map(|(_, l)| l),
            Expr::Struct(s) => self.literal(s),
            Expr::Paren(p) => self.struct_of(&p.expr),
            Expr::Block(b) => b.block.stmts.last().and_then(|s| match s {
                Stmt::Expr(e, None) => self.struct_of(e),
                _ => None,
            }),
            Expr::If(i) => match i.then_branch.stmts.last() {
                Some(Stmt::Expr(e, None)) => self.struct_of(e),
                _ => None,
            },
            Expr::Match(m) => m.arms.first().and_then(|a| self.struct_of(&a.body)),
            _ => None,
        }
    }

    /// A block's statements: a `let` of a struct becomes one `let` per field; the tail is
    /// the function's result where `result`.
    fn block(&mut self, block: &mut syn::Block, result: bool) {
        let mut out = Vec::with_capacity(block.stmts.len());
        let count = block.stmts.len();
        for (k, mut stmt) in std::mem::take(&mut block.stmts).into_iter().enumerate() {
            match &mut stmt {
                Stmt::Local(local) => {
                    if let Some(expanded) = self.local(local) {
                        out.extend(expanded);
                        continue;
                    }
                }
                Stmt::Expr(e, None) if result && k + 1 == count && self.result.is_some() => {
                    let layout = self.result.clone().expect("a struct result");
                    self.array(e, &layout);
                    out.push(stmt);
                    continue;
                }
                _ => {}
            }
            self.visit_stmt_mut(&mut stmt);
            out.push(stmt);
        }
        block.stmts = out;
    }

    /// `let [mut] s = <a struct>;` as one `let` per field; `None` for any other `let`
    /// (whose name, if it was a struct variable's, is no longer one).
    fn local(&mut self, local: &mut syn::Local) -> Option<Vec<Stmt>> {
        let (pat, annotated) = match &local.pat {
            Pat::Type(t) => (&*t.pat, Some(&*t.ty)),
            pat => (pat, None),
        };
        let Pat::Ident(ident) = pat else { return None };
        let name = ident.ident.clone();
        let layout = match (annotated, local.init.as_ref()) {
            (_, Some(init)) if init.diverge.is_none() => self.struct_of(&init.expr),
            _ => None,
        };
        let Some(layout) = layout else {
            if annotated.is_some_and(|t| self.structs.contains_key(&type_name(t))) {
                self.fail(&local.pat, "a differentiable struct's `let` needs a value here: a literal (`State { p: …, m: … }`), another variable of the struct, or a branch of them");
            }
            self.vars.remove(&name.to_string());
            return None;
        };
        let init = local.init.as_mut().expect("a value");
        let mutability = ident.mutability;
        let stmts = self.fields_from(
            &mut init.expr,
            &layout,
            // (Each field's variable has the field's type written: a field of constants
            // updated with differentiated values later, `b.a[0] += x`, is one from the start.)
            |part, ty, value| syn::parse_quote!(let #mutability #part: #ty = #value;),
            &name,
        );
        self.vars.insert(name.to_string(), layout);
        Some(stmts)
    }

    /// Statements giving each field of the struct variable `name` its value from `e` (a
    /// struct), each made by `bind(field's variable, value)`: a variable's fields directly,
    /// a literal's through temporaries (evaluated in the order written), anything else
    /// through the array of its components.
    fn fields_from(
        &mut self,
        e: &mut Expr,
        layout: &Layout,
        bind: impl Fn(&Ident, &TokenStream, &TokenStream) -> Stmt,
        name: &Ident,
    ) -> Vec<Stmt> {
        let mut out = Vec::new();
        match e {
            Expr::Path(_) | Expr::Unary(_) if self.var(e).is_some() => {
                let (source, _) = self.var(e).expect("a struct variable");
                let temporaries: Vec<Ident> = layout.fields.iter().map(|f| temporary(&f.ident)).collect();
                for (field, t) in layout.fields.iter().zip(&temporaries) {
                    let from = part(&source, &field.ident);
                    out.push(syn::parse_quote!(let #t = #from;));
                }
                for (field, t) in layout.fields.iter().zip(&temporaries) {
                    out.push(bind(
                        &part(name, &field.ident),
                        &self.type_of(field, &layout.scalar),
                        &t.to_token_stream(),
                    ));
                }
            }
            Expr::Struct(literal) if self.literal(literal).is_some() => {
                let Some(values) = self.literal_fields(literal, layout) else { return out };
                for (t, value) in &values {
                    out.push(syn::parse_quote!(let #t = #value;));
                }
                for field in layout.fields.iter() {
                    let t = temporary(&field.ident);
                    let value = match values.iter().any(|(v, _)| *v == t) {
                        true => t.to_token_stream(),
                        false => self.base_field(literal, field),
                    };
                    out.push(bind(&part(name, &field.ident), &self.type_of(field, &layout.scalar), &value));
                }
            }
            _ => {
                let whole = format_ident!("__jacobian_struct", span = Span::call_site());
                self.array(e, layout);
                out.push(syn::parse_quote!(let #whole = #e;));
                let mut k = 0;
                for field in layout.fields.iter() {
                    let n = field.shape.len().lit().unwrap_or(0);
                    let parts: Vec<TokenStream> = (k..k + n).map(|i| quote!(#whole[#i])).collect();
                    k += n;
                    let value = assemble(field, &parts, &self.krate);
                    out.push(bind(&part(name, &field.ident), &self.type_of(field, &layout.scalar), &value));
                }
            }
        }
        out
    }

    /// A field's type, written with the runtime's paths (`::jacobian::Vector<3, f64>`).
    fn type_of(&self, field: &Field, scalar: &TokenStream) -> TokenStream {
        let krate = &self.krate;
        match &field.shape {
            Shape::Scalar => scalar.clone(),
            Shape::Array(n) => {
                let n = n.value();
                quote!([#scalar; #n])
            }
            Shape::Nested(r, c) => {
                let (r, c) = (r.value(), c.value());
                quote!([[#scalar; #c]; #r])
            }
            Shape::Vector(n) => {
                let n = n.type_arg();
                quote!(#krate::Vector<#n, #scalar>)
            }
            Shape::Matrix(r, c) => {
                let (r, c) = (r.type_arg(), c.type_arg());
                quote!(#krate::Matrix<#r, #c, #scalar>)
            }
        }
    }

    /// A literal's fields as written, each rewritten, paired with its temporary; `None`
    /// (with an error) for a literal of another struct or a base that is not a variable.
    fn literal_fields(
        &mut self,
        literal: &mut syn::ExprStruct,
        layout: &Layout,
    ) -> Option<Vec<(Ident, Expr)>> {
        if self.literal(literal).is_none_or(|l| type_name(&l.ty) != type_name(&layout.ty)) {
            self.fail(&literal.path, format!("this value as a `{}`", type_name(&layout.ty)));
            return None;
        }
        if let Some(rest) = &literal.rest {
            if self.var(rest).is_none() {
                self.fail(
                    rest,
                    "a struct update from this value: write `..s` for a variable `s` of the struct",
                );
                return None;
            }
        }
        let mut out = Vec::new();
        for field in literal.fields.iter_mut() {
            self.visit_expr_mut(&mut field.expr);
            let syn::Member::Named(member) = &field.member else {
                self.fail(&field.member, "a field by position");
                return None;
            };
            if !layout.fields.iter().any(|f| f.ident == *member) {
                self.fail(member, format!("`{}` has no field `{member}`", type_name(&layout.ty)));
                return None;
            }
            out.push((temporary(member), field.expr.clone()));
        }
        for field in layout.fields.iter() {
            if literal.rest.is_none() && !out.iter().any(|(t, _)| *t == temporary(&field.ident)) {
                self.fail(&literal.path, format!("missing field `{}`", field.ident));
                return None;
            }
        }
        Some(out)
    }

    /// A field not written in a literal, from its `..base`.
    fn base_field(&self, literal: &syn::ExprStruct, field: &Field) -> TokenStream {
        let base = literal.rest.as_ref().and_then(|rest| self.var(rest)).map(|(name, _)| name);
        match base {
            Some(base) => part(&base, &field.ident).into_token_stream(),
            None => quote!(()),
        }
    }

    /// Rewrites `e`, which evaluates to the struct `layout`, into the array of its
    /// components in field order.
    fn array(&mut self, e: &mut Expr, layout: &Layout) {
        let element = |fail: &mut Self, field: &Field, value: TokenStream| -> Vec<TokenStream> {
            components(field, &value).unwrap_or_else(|| {
                fail.fail(
                    &field.ty,
                    "a field of a size that is not a literal, in a struct built by the function",
                );
                Vec::new()
            })
        };
        match e {
            Expr::Paren(p) => self.array(&mut p.expr, layout),
            Expr::Path(_) | Expr::Unary(_) => match self.var(e) {
                Some((name, l)) if type_name(&l.ty) == type_name(&layout.ty) => {
                    let mut parts = Vec::new();
                    for field in l.fields.iter() {
                        parts.extend(element(self, field, part(&name, &field.ident).into_token_stream()));
                    }
                    *e = syn::parse_quote!([#(#parts),*]);
                }
                _ => self.fail(&*e, format!("this value as a `{}`: write a struct literal, or a variable of the struct", type_name(&layout.ty))),
            },
            Expr::Struct(literal) => {
                let Some(values) = self.literal_fields(literal, layout) else { return };
                let lets = values.iter().map(|(t, value)| quote!(let #t = #value;)).collect::<Vec<_>>();
                let mut parts = Vec::new();
                for field in layout.fields.iter() {
                    let t = temporary(&field.ident);
                    let value = match values.iter().any(|(v, _)| *v == t) {
                        true => t.to_token_stream(),
                        false => self.base_field(literal, field),
                    };
                    parts.extend(element(self, field, value));
                }
                *e = syn::parse_quote!({ #(#lets)* [#(#parts),*] });
            }
            Expr::Block(b) => self.tail(&mut b.block, layout),
            Expr::If(i) => {
                self.visit_expr_mut(&mut i.cond);
                self.tail(&mut i.then_branch, layout);
                match &mut i.else_branch {
                    Some((_, otherwise)) => self.array(otherwise, layout),
                    None => self.fail(&*i, "an `if` without `else` as a struct"),
                }
            }
            Expr::Match(m) => {
                self.visit_expr_mut(&mut m.expr);
                for arm in &mut m.arms {
                    if let Some((_, guard)) = &mut arm.guard {
                        self.visit_expr_mut(guard);
                    }
                    self.array(&mut arm.body, layout);
                }
            }
            e => self.fail(
                &*e,
                format!(
                    "a `{}` computed by this expression is not supported yet; build it with a struct literal (`{} {{ … }}`), from a variable of the struct, or a branch of them",
                    type_name(&layout.ty),
                    type_name(&layout.ty)
                ),
            ),
        }
    }

    /// A block whose tail is the struct `layout`.
    fn tail(&mut self, block: &mut syn::Block, layout: &Layout) {
        let saved = self.vars.clone();
        let last = block.stmts.pop();
        self.block(block, false);
        match last {
            Some(Stmt::Expr(mut e, None)) => {
                self.array(&mut e, layout);
                block.stmts.push(Stmt::Expr(e, None));
            }
            Some(mut other) => {
                // (A block ending in a jump: `return`, `break`, a panic.)
                self.visit_stmt_mut(&mut other);
                block.stmts.push(other);
            }
            None => self.fail(&*block, format!("an empty block as a `{}`", type_name(&layout.ty))),
        }
        self.vars = saved;
    }
}

impl VisitMut for Rewrite {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        match e {
            // `s.p` → `s__p`.
            Expr::Field(field) => {
                if let (Some((name, layout)), syn::Member::Named(member)) =
                    (self.var(&field.base), &field.member)
                {
                    if layout.fields.iter().any(|f| f.ident == *member) {
                        *e = Expr::Path(syn::ExprPath {
                            attrs: Vec::new(),
                            qself: None,
                            path: part(&name, member).into(),
                        });
                    } else {
                        self.fail(
                            &field.member,
                            format!("`{}` has no field `{member}`", type_name(&layout.ty)),
                        );
                    }
                    return;
                }
            }
            Expr::Path(_) => {
                if let Some((name, layout)) = self.var(e) {
                    self.fail(
                        &*e,
                        format!(
                            "`{name}` as a whole here (a `{}` borrowed, used by a method or passed to a function without `#[jacobian]`) is not supported yet; the differentiated code reads its fields (`{name}.{}`), builds a new `{}` as a literal, or passes it to a function annotated with `#[jacobian]`",
                            type_name(&layout.ty),
                            layout.fields[0].ident,
                            type_name(&layout.ty)
                        ),
                    );
                    return;
                }
            }
            // `s = <a struct>;` → each field from a temporary.
            Expr::Assign(assign) => {
                if let Some((name, layout)) = self.var(&assign.left) {
                    let mut value = (*assign.right).clone();
                    let stmts = self.fields_from(
                        &mut value,
                        &layout,
                        |part, _, value| syn::parse_quote!(#part = #value;),
                        &name,
                    );
                    *e = syn::parse_quote!({ #(#stmts)* });
                    return;
                }
            }
            // A struct passed to an annotated function: its fields, in its place.
            Expr::Call(call) => {
                if let Some(layouts) = self.struct_parameters(&call.func) {
                    let mut args = syn::punctuated::Punctuated::<Expr, syn::Token![,]>::new();
                    for (k, mut arg) in std::mem::take(&mut call.args).into_iter().enumerate() {
                        let inner = match &arg {
                            Expr::Reference(r) if r.mutability.is_none() => &*r.expr,
                            arg => arg,
                        };
                        match (layouts.get(k).cloned().flatten(), self.var(inner)) {
                            (Some(layout), Some((name, l))) if type_name(&l.ty) == type_name(&layout.ty) => {
                                for field in l.fields.iter() {
                                    args.push(Expr::Path(syn::ExprPath {
                                        attrs: Vec::new(),
                                        qself: None,
                                        path: part(&name, &field.ident).into(),
                                    }));
                                }
                            }
                            (Some(layout), _) => {
                                self.fail(
                                    &arg,
                                    format!(
                                        "this argument as a `{}`: pass a variable of the struct (a parameter or a `let`)",
                                        type_name(&layout.ty)
                                    ),
                                );
                                args.push(arg);
                            }
                            (None, _) => {
                                self.visit_expr_mut(&mut arg);
                                args.push(arg);
                            }
                        }
                    }
                    call.args = args;
                    self.visit_expr_mut(&mut call.func);
                    return;
                }
            }
            Expr::Struct(s) if self.literal(s).is_some() => {
                let name = s.path.to_token_stream();
                self.fail(&*e, format!("a `{name}` literal here is not supported yet: build a differentiable struct as the function's result, or as a `let` whose fields are read"));
                return;
            }
            Expr::Return(r) => {
                if let (Some(value), Some(layout)) = (&mut r.expr, self.result.clone()) {
                    self.array(value, &layout);
                    return;
                }
            }
            Expr::Block(b) => {
                let saved = self.vars.clone();
                self.block(&mut b.block, false);
                self.vars = saved;
                return;
            }
            _ => {}
        }
        syn::visit_mut::visit_expr_mut(self, e);
    }

    fn visit_block_mut(&mut self, block: &mut syn::Block) {
        let saved = self.vars.clone();
        self.block(block, false);
        self.vars = saved;
    }

    // (Items inside the body are their own.)
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

impl Structs {
    /// The names of the translation's parameters as the user reads them (`s__p` → `s.p`),
    /// for the siblings' documentation.
    pub fn readable(&self, doc: &str) -> String {
        let mut doc = doc.to_owned();
        for (name, layout) in &self.params {
            for field in layout.fields.iter() {
                doc = doc.replace(&part(name, &field.ident).to_string(), &format!("{name}.{}", field.ident));
            }
        }
        doc
    }

    /// `wrt(…)` over the translation's parameters: a struct parameter's fields in its place.
    pub fn wrt(&self, names: &[Ident]) -> Vec<Ident> {
        let mut out = Vec::new();
        for name in names {
            match self.params.iter().find(|(p, _)| p == name) {
                Some((p, layout)) => {
                    out.extend(layout.fields.iter().map(|f| part(p, &f.ident)));
                }
                None => out.push(name.clone()),
            }
        }
        out
    }

    /// Statements binding each struct parameter's fields under the translation's names.
    pub fn entry(&self) -> TokenStream {
        let mut out = TokenStream::new();
        for (name, layout) in &self.params {
            for field in layout.fields.iter() {
                let (part, f) = (part(name, &field.ident), &field.ident);
                out.extend(quote!(let #part = #name.#f;));
            }
        }
        out
    }

    /// A sibling's parameters, result type and body at the boundary: the user's
    /// parameters, the struct taken apart on entry, and the value (the first of `ret`'s
    /// parts where the sibling returns the value) built as the struct.
    pub fn boundary(
        &self,
        returns_value: Option<usize>,
        ret: TokenStream,
        body: TokenStream,
    ) -> (syn::punctuated::Punctuated<FnArg, syn::Token![,]>, TokenStream, TokenStream) {
        let entry = self.entry();
        let inputs = self.original.sig.inputs.clone();
        let (Some(arity), Some(layout)) = (returns_value, &self.result) else {
            return (inputs, ret, quote!(#entry #body));
        };
        let result = format_ident!("result", span = Span::mixed_site());
        let ty = &layout.ty;
        let mut k = 0;
        let fields = layout.fields.iter().map(|field| {
            let n = field.shape.len().lit().unwrap_or(0);
            let parts: Vec<TokenStream> = (k..k + n).map(|i| quote!(#result.0[#i])).collect();
            k += n;
            let (name, value) = (&field.ident, assemble(field, &parts, &self.krate));
            quote!(#name: #value)
        });
        let value = quote!(#ty { #(#fields),* });
        let Ok(Type::Tuple(mut parts)) = syn::parse2::<Type>(ret.clone()) else {
            return (inputs, ret, quote!(#entry #body));
        };
        parts.elems[0] = ty.clone();
        let rest = (1..arity).map(|k| {
            let k = syn::Index::from(k);
            quote!(#result.#k)
        });
        (inputs, parts.to_token_stream(), quote!(#entry let #result = (|| { #body })(); (#value, #(#rest),*)))
    }
}

/// Compile-time checks, for a function without `wrt`, that no parameter left constant has
/// a type implementing `Differentiable`: one whose struct the macro did not find (defined
/// in another crate, or made by a macro) would silently get no Jacobian columns.
pub fn unseen(
    function: &ItemFn,
    signature: &crate::signature::Signature,
    krate: &TokenStream,
) -> TokenStream {
    if !function.sig.generics.params.is_empty() {
        return TokenStream::new();
    }
    let mut out = TokenStream::new();
    for arg in &function.sig.inputs {
        let FnArg::Typed(typed) = arg else { continue };
        let Pat::Ident(pat) = &*typed.pat else { continue };
        if signature.inputs.iter().any(|i| i.ident == pat.ident) {
            continue;
        }
        let mut ty = &*typed.ty;
        while let Type::Reference(r) = ty {
            ty = &r.elem;
        }
        let Type::Path(path) = ty else { continue };
        let plain = path.qself.is_none()
            && path
                .path
                .segments
                .iter()
                .all(|s| matches!(s.arguments, syn::PathArguments::None) && s.ident != "Self")
            && path
                .path
                .segments
                .last()
                .is_some_and(|s| s.ident.to_string().starts_with(|c: char| c.is_uppercase()));
        if !plain {
            continue;
        }
        let message = format!(
            "`{}` implements `Differentiable`, but `#[jacobian]` did not find the struct's definition (it reads it from the function's file, or else from the crate's `src` files), so `{}` would not be differentiated; define the struct in this crate, or name the parameters to differentiate with `wrt(…)`",
            path.path.to_token_stream(),
            pat.ident
        );
        out.extend(quote::quote_spanned! {typed.ty.span()=>
            const _: () = {
                use #krate::__private::NotDifferentiable as _;
                assert!(!#krate::__private::Probe::<#path>::DIFFERENTIABLE, #message);
            };
        });
    }
    out
}
