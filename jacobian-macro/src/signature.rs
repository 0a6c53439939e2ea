//! Owns the function's signature: which parameters are differentiated (and their shapes and
//! column offsets), which are constants, the scalar type, and the output's shape. All
//! signature checks live here.

use crate::diagnostics::Diagnostics;
use crate::options::Options;
use crate::shape::{Dim, Shape};
use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use std::collections::BTreeSet;
use syn::{FnArg, GenericArgument, GenericParam, ItemFn, Pat, PathArguments, ReturnType, Type};

const DIFFERENTIABLE_TYPES: &str =
    "`f64`, `f32`, `[T; N]`, `Vector<N, T>`, `Matrix<R, C, T>` or nalgebra's `SVector<T, N>`/`SMatrix<T, R, C>` (by value or `&`)";

/// The scalar type of the function: `f64`, `f32`, or a generic parameter bounded by
/// `Real`/`Scalar`/`Float`.
#[derive(Clone)]
pub struct ScalarType {
    pub tokens: TokenStream,
    pub generic: bool,
}

/// A differentiated parameter: one block of Jacobian columns.
pub struct Input {
    pub ident: syn::Ident,
    pub shape: Shape,
    /// First column of this block.
    pub offset: Dim,
}

pub struct Signature {
    pub scalar: ScalarType,
    pub inputs: Vec<Input>,
    /// For each typed parameter in order (not `self`), its block if differentiated.
    pub positions: Vec<Option<usize>>,
    pub rows: Dim,
    pub columns: Dim,
    /// The function's const-generic parameters (sizes that cannot appear in a type-level
    /// expression on stable Rust).
    pub const_generics: BTreeSet<String>,
    /// For a tuple result, the shape of each component (the rows follow them in order).
    pub tuple_output: Option<Vec<Shape>>,
}

struct Context {
    const_generics: BTreeSet<String>,
    scalar_generics: BTreeSet<String>,
}

impl Context {
    fn new(generics: &syn::Generics) -> Context {
        Context {
            const_generics: generics
                .params
                .iter()
                .filter_map(|param| match param {
                    GenericParam::Const(c) => Some(c.ident.to_string()),
                    _ => None,
                })
                .collect(),
            scalar_generics: scalar_generics(generics),
        }
    }
}

pub fn analyse(item: &ItemFn, options: &Options, diagnostics: &Diagnostics) -> Option<Signature> {
    let sig = &item.sig;
    if let Some(token) = &sig.asyncness {
        diagnostics.error_at(token, "`#[jacobian]` does not support `async fn`; differentiate a plain `fn` and call it from async code");
    }
    if let Some(token) = &sig.unsafety {
        diagnostics.error_at(token, "`#[jacobian]` does not support `unsafe fn`; move the unsafe part out of the differentiated function");
    }
    if let Some(token) = &sig.variadic {
        diagnostics.error_at(token, "`#[jacobian]` does not support variadic functions");
    }

    let context = Context::new(&sig.generics);

    let mut scalar: Option<(ScalarType, TokenStream)> = None;
    let mut check_scalar = |found: ScalarType, at: &dyn ToTokens| {
        match &scalar {
        None => scalar = Some((found, at.to_token_stream())),
        Some((known, _)) if known.tokens.to_string() == found.tokens.to_string() => {}
        Some((known, _)) => diagnostics.error_at(
            at.to_token_stream(),
            format!(
                "this function mixes scalar types `{}` and `{}`; a differentiated function has one scalar type",
                known.tokens, found.tokens
            ),
        ),
    }
    };

    let wrt_names: Option<BTreeSet<String>> =
        options.wrt.as_ref().map(|names| names.iter().map(ToString::to_string).collect());
    let mut param_names = Vec::new();
    let mut inputs = Vec::new();
    let mut positions = Vec::new();
    let mut offset = Dim::Lit(0);

    for arg in &sig.inputs {
        match arg {
            FnArg::Receiver(receiver) => {
                param_names.push("self".to_string());
                if receiver.mutability.is_some() && receiver.reference.is_some() {
                    diagnostics.error_at(receiver, "`#[jacobian]` does not support `&mut self`: the Jacobian sibling would repeat the mutation; take `&self` (it is a constant)");
                }
                if wrt_names.as_ref().is_some_and(|w| w.contains("self")) {
                    diagnostics.error_at(receiver, "`self` cannot be differentiated: it is always a constant; list only ordinary parameters in `wrt(…)`");
                }
            }
            FnArg::Typed(typed) => {
                if let Type::Reference(reference) = &*typed.ty {
                    if reference.mutability.is_some() {
                        diagnostics.error_at(reference, "`#[jacobian]` does not support `&mut` parameters: the Jacobian sibling would repeat the mutation; take the value or `&` and return the result");
                    }
                }
                let ident = match &*typed.pat {
                    Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => {
                        Some(pat.ident.clone())
                    }
                    _ => None,
                };
                let name = ident.as_ref().map(ToString::to_string);
                if let Some(name) = &name {
                    param_names.push(name.clone());
                }
                positions.push(None);
                let classified = classify(&typed.ty, &context);
                let wanted = match (&wrt_names, &name) {
                    (Some(names), Some(name)) => names.contains(name),
                    (Some(_), None) => false,
                    (None, _) => classified.is_some(),
                };
                if !wanted {
                    continue;
                }
                let Some(ident) = ident else {
                    diagnostics.error_at(&typed.pat, "a differentiated parameter must be a plain name such as `x`; destructure it inside the body");
                    continue;
                };
                let Some((shape, found)) = classified else {
                    diagnostics.error_at(
                        &typed.ty,
                        format!(
                            "`wrt({ident})`: `{ident}` has type `{}`, which cannot be differentiated; differentiable types are {DIFFERENTIABLE_TYPES}",
                            typed.ty.to_token_stream()
                        ),
                    );
                    continue;
                };
                check_scalar(found, &typed.ty);
                let len = shape.len();
                if len.lit() == Some(0) {
                    diagnostics.error_at(
                        &typed.ty,
                        format!("`{ident}` has no components to differentiate (its type `{}` is empty); leave it out of `wrt(…)` or give it at least one component", typed.ty.to_token_stream()),
                    );
                    continue;
                }
                if let Some(last) = positions.last_mut() {
                    *last = Some(inputs.len());
                }
                inputs.push(Input { ident, shape, offset: offset.clone() });
                offset = offset.add(&len);
            }
        }
    }

    if let Some(names) = &options.wrt {
        let mut seen = BTreeSet::new();
        for name in names {
            let text = name.to_string();
            if !seen.insert(text.clone()) {
                diagnostics.error_at(name, format!("`{text}` is listed twice in `wrt(…)`"));
            } else if !param_names.contains(&text) {
                diagnostics.error_at(
                    name,
                    format!(
                        "`wrt({text})`: this function has no parameter named `{text}`; its parameters are: {}",
                        param_names.join(", ")
                    ),
                );
            }
        }
    }

    let mut tuple_output = None;
    let output = match &sig.output {
        ReturnType::Default => {
            diagnostics.error_at(
                &sig.ident,
                format!(
                    "`{}` returns nothing; `#[jacobian]` needs a result of type {DIFFERENTIABLE_TYPES}",
                    sig.ident
                ),
            );
            None
        }
        // A tuple of differentiable values: its components are the Jacobian's rows, in order.
        ReturnType::Type(_, ty)
            if matches!(&**ty, Type::Tuple(t) if t.elems.len() >= 2)
                && classify_tuple(ty, &context).is_some() =>
        {
            let parts = classify_tuple(ty, &context).unwrap_or_default();
            let mut total = Dim::Lit(0);
            for (shape, found) in &parts {
                check_scalar(found.clone(), ty);
                total = total.add(&shape.len());
            }
            tuple_output = Some(parts.into_iter().map(|(shape, _)| shape).collect());
            Some(Shape::Array(total))
        }
        ReturnType::Type(_, ty) => match classify(ty, &context) {
            Some((shape, found)) => {
                check_scalar(found, ty);
                Some(shape)
            }
            None => {
                diagnostics.error_at(
                    ty,
                    format!(
                        "`#[jacobian]` cannot differentiate a result of type `{}`; the result must be {DIFFERENTIABLE_TYPES}",
                        ty.to_token_stream()
                    ),
                );
                None
            }
        },
    };

    if inputs.is_empty() && options.wrt.is_none() && !diagnostics.has_errors() {
        // A slice or `Vec` of the scalar is what was meant, most likely: say why it is not.
        let unsized_parameter = sig.inputs.iter().find_map(|arg| match arg {
            FnArg::Typed(typed) if is_slice_or_vec(&typed.ty) => Some(typed),
            _ => None,
        });
        match unsized_parameter {
            Some(typed) => diagnostics.error_at(
                &typed.ty,
                format!(
                    "`{}` cannot be differentiated: its length is not known at compile time, and the Jacobian's size must be; take an array `[f64; N]` (with `const N: usize` for any length) or a `Vector<N>` instead",
                    typed.pat.to_token_stream()
                ),
            ),
            None => diagnostics.error_at(
                &sig.ident,
                format!(
                    "`{}` has no parameter to differentiate; differentiable types are {DIFFERENTIABLE_TYPES}",
                    sig.ident
                ),
            ),
        }
    }

    let output = output?;
    let (scalar, _) = scalar?;
    if inputs.is_empty() {
        return None;
    }
    let rows = output.len();
    let columns = offset;
    for (dim, what) in [(&rows, "rows"), (&columns, "columns")] {
        if dim.is_generic() && syn::parse2::<syn::Ident>(dim.to_token_stream()).is_err() {
            diagnostics.error_at(
                &sig.ident,
                format!(
                    "the Jacobian would have `{dim}` {what}, which stable Rust cannot write as a type when it combines const-generic parameters; differentiate with respect to a single generic-size parameter (`wrt(x)`), or give the sizes as literals or `const` items"
                ),
            );
            return None;
        }
    }
    Some(Signature {
        scalar,
        inputs,
        positions,
        rows,
        columns,
        const_generics: context.const_generics,
        tuple_output,
    })
}

/// Generic type parameters that stand for the scalar: bounded by a trait named `Real`,
/// `Scalar` or `Float` (in the parameter list or the `where` clause).
fn scalar_generics(generics: &syn::Generics) -> BTreeSet<String> {
    let is_scalar_bound = |bound: &syn::TypeParamBound| match bound {
        syn::TypeParamBound::Trait(t) => t
            .path
            .segments
            .last()
            .is_some_and(|s| matches!(s.ident.to_string().as_str(), "Real" | "Scalar" | "Float")),
        _ => false,
    };
    let mut found = BTreeSet::new();
    for param in &generics.params {
        if let GenericParam::Type(t) = param {
            if t.bounds.iter().any(is_scalar_bound) {
                found.insert(t.ident.to_string());
            }
        }
    }
    if let Some(clause) = &generics.where_clause {
        for predicate in &clause.predicates {
            if let syn::WherePredicate::Type(p) = predicate {
                if let Type::Path(path) = &p.bounded_ty {
                    if let Some(ident) = path.path.get_ident() {
                        if p.bounds.iter().any(is_scalar_bound) {
                            found.insert(ident.to_string());
                        }
                    }
                }
            }
        }
    }
    found
}

fn scalar_type(ty: &Type, context: &Context) -> Option<ScalarType> {
    let Type::Path(path) = ty else { return None };
    if path.qself.is_some() {
        return None;
    }
    let ident = path.path.get_ident()?;
    let name = ident.to_string();
    if name == "f64" || name == "f32" {
        Some(ScalarType { tokens: quote!(#ident), generic: false })
    } else if context.scalar_generics.contains(&name) {
        Some(ScalarType { tokens: quote!(#ident), generic: true })
    } else {
        None
    }
}

fn dim(expr: &syn::Expr, context: &Context) -> Dim {
    match expr {
        syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(int), .. }) => match int.base10_parse::<usize>() {
            Ok(n) => Dim::Lit(n),
            Err(_) => Dim::Sym { tokens: expr.to_token_stream(), generic: false },
        },
        syn::Expr::Block(block) if block.block.stmts.len() == 1 => match &block.block.stmts[0] {
            syn::Stmt::Expr(inner, None) => dim(inner, context),
            _ => Dim::Sym { tokens: expr.to_token_stream(), generic: true },
        },
        syn::Expr::Paren(inner) => dim(&inner.expr, context),
        _ => {
            let tokens = expr.to_token_stream();
            let generic = mentions(&tokens, &context.const_generics);
            Dim::Sym { tokens, generic }
        }
    }
}

fn dim_arg(arg: &GenericArgument, context: &Context) -> Option<Dim> {
    match arg {
        GenericArgument::Const(expr) => Some(dim(expr, context)),
        // `Vector<N>` parses `N` as a type.
        GenericArgument::Type(Type::Path(path)) if path.qself.is_none() => {
            let tokens = path.to_token_stream();
            let generic = mentions(&tokens, &context.const_generics);
            Some(Dim::Sym { tokens, generic })
        }
        _ => None,
    }
}

fn mentions(tokens: &TokenStream, names: &BTreeSet<String>) -> bool {
    tokens.clone().into_iter().any(|tree| match tree {
        proc_macro2::TokenTree::Ident(ident) => names.contains(&ident.to_string()),
        proc_macro2::TokenTree::Group(group) => mentions(&group.stream(), names),
        _ => false,
    })
}

/// The shape and scalar type of a differentiable type, `None` for anything else.
/// The shape and scalar type of a parameter or result type of a function with these
/// generics, if it is differentiable.
pub fn shape_of(ty: &Type, generics: &syn::Generics) -> Option<(Shape, ScalarType)> {
    classify(ty, &Context::new(generics))
}

/// Each component of a tuple type, when all are differentiable.
fn classify_tuple(ty: &Type, context: &Context) -> Option<Vec<(Shape, ScalarType)>> {
    let Type::Tuple(tuple) = ty else { return None };
    tuple.elems.iter().map(|t| classify(t, context)).collect()
}

fn classify(ty: &Type, context: &Context) -> Option<(Shape, ScalarType)> {
    match ty {
        Type::Reference(reference) if reference.mutability.is_none() => classify(&reference.elem, context),
        Type::Paren(inner) => classify(&inner.elem, context),
        Type::Group(inner) => classify(&inner.elem, context),
        Type::Array(array) => {
            if let Type::Array(inner) = &*array.elem {
                let scalar = scalar_type(&inner.elem, context)?;
                return Some((Shape::Nested(dim(&array.len, context), dim(&inner.len, context)), scalar));
            }
            let scalar = scalar_type(&array.elem, context)?;
            Some((Shape::Array(dim(&array.len, context)), scalar))
        }
        Type::Path(path) if path.qself.is_none() => {
            if let Some(scalar) = scalar_type(ty, context) {
                return Some((Shape::Scalar, scalar));
            }
            let last = path.path.segments.last()?;
            let PathArguments::AngleBracketed(args) = &last.arguments else { return None };
            let args: Vec<&GenericArgument> = args.args.iter().collect();
            let default_scalar = || ScalarType { tokens: quote!(f64), generic: false };
            let scalar_arg = |arg: &GenericArgument| match arg {
                GenericArgument::Type(t) => scalar_type(t, context),
                _ => None,
            };
            match (last.ident.to_string().as_str(), args.as_slice()) {
                ("Vector", [n]) => Some((Shape::Vector(dim_arg(n, context)?), default_scalar())),
                ("Vector", [n, t]) => Some((Shape::Vector(dim_arg(n, context)?), scalar_arg(t)?)),
                ("Matrix", [r, c]) => {
                    Some((Shape::Matrix(dim_arg(r, context)?, dim_arg(c, context)?), default_scalar()))
                }
                ("Matrix", [r, c, t]) => {
                    Some((Shape::Matrix(dim_arg(r, context)?, dim_arg(c, context)?), scalar_arg(t)?))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// `&[T]`, `&mut [T]`, `Vec<T>`, `&Vec<T>`: sizes known only at run time.
fn is_slice_or_vec(ty: &Type) -> bool {
    match ty {
        Type::Reference(r) => is_slice_or_vec(&r.elem),
        Type::Slice(_) => true,
        Type::Path(p) => p.path.segments.last().is_some_and(|s| s.ident == "Vec"),
        _ => false,
    }
}
