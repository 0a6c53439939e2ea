//! Owns nalgebra-typed functions. A function whose signature uses nalgebra's statically
//! sized types (`SVector<T, N>`, `SMatrix<T, R, C>`, `Vector3<T>`, `Matrix2x3<T>`, …) is
//! translated, before any other stage sees it, into the same function over `Vector`/`Matrix`:
//! the types in its signature and body, and nalgebra's constructors (`Vector3::new(a, b, c)`,
//! `SVector::from([…])`, `Matrix2::new(…)`, `zeros`, `identity`) and coordinate fields
//! (`v.x`) in its body. Every later stage works on that translation. Each sibling keeps the
//! user's signature: it converts nalgebra arguments on entry (by indexing `(i, j)`, so no
//! nalgebra version is assumed), runs the translated body, and returns nalgebra's `SMatrix`
//! built with `from_fn`, from the nalgebra the user's own paths name.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use std::collections::BTreeMap;
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{Expr, FnArg, GenericArgument, ItemFn, Pat, PathArguments, ReturnType, Type};

/// A nalgebra-typed function, translated.
pub struct Nalgebra {
    /// The user's function, as written: what is emitted, and whose signature the siblings keep.
    pub original: ItemFn,
    /// How generated code names nalgebra: the user's own prefix (`na`, `nalgebra`), or
    /// `::nalgebra`.
    prefix: TokenStream,
    /// Parameters converted on entry: name, whether by reference, the translated type.
    conversions: Vec<(syn::Ident, bool, Type)>,
}

/// A nalgebra statically sized matrix type, as a path names it: its sizes (vectors have one
/// column) and scalar type, where the path shows them.
struct Static {
    rows: Option<TokenStream>,
    columns: Option<TokenStream>,
    scalar: Option<Type>,
    vector: bool,
}

/// `SVector<T, N>`, `Vector3<T>`, `SMatrix<T, R, C>`, `Matrix2x3<T>`, `RowVector2<T>`… (with or
/// without the generic arguments, as in `Vector3::new`), or `None`.
fn recognise(segment: &syn::PathSegment) -> Option<Static> {
    let name = segment.ident.to_string();
    let args: Vec<&GenericArgument> = match &segment.arguments {
        PathArguments::AngleBracketed(args) => args.args.iter().collect(),
        PathArguments::None => Vec::new(),
        PathArguments::Parenthesized(_) => return None,
    };
    let scalar = || match args.first() {
        Some(GenericArgument::Type(t)) => Some(t.clone()),
        _ => None,
    };
    let size = |k: usize| match args.get(k) {
        Some(GenericArgument::Const(e)) => Some(e.to_token_stream()),
        Some(GenericArgument::Type(t)) => Some(t.to_token_stream()),
        _ => None,
    };
    let literal = |n: usize| Some(proc_macro2::Literal::usize_unsuffixed(n).into_token_stream());
    let small = |digit: &str| digit.parse::<usize>().ok().filter(|n| (1..=6).contains(n));
    let (rows, columns, vector) = match name.as_str() {
        "SVector" => (size(1), literal(1), true),
        "SMatrix" => (size(1), size(2), false),
        "RowSVector" => (literal(1), size(1), false),
        _ => {
            if let Some(n) = name.strip_prefix("RowVector").and_then(small) {
                (literal(1), literal(n), false)
            } else if let Some(n) = name.strip_prefix("Vector").and_then(small) {
                (literal(n), literal(1), true)
            } else if let Some(rest) = name.strip_prefix("Matrix") {
                match rest.split_once('x') {
                    Some((r, c)) => (literal(small(r)?), literal(small(c)?), false),
                    None => {
                        let n = small(rest)?;
                        (literal(n), literal(n), false)
                    }
                }
            } else {
                return None;
            }
        }
    };
    Some(Static { rows, columns, scalar: scalar(), vector })
}

/// The nalgebra type a `Type` names (behind `&`), with its sizes and scalar type known.
fn static_type(ty: &Type) -> Option<(&syn::TypePath, Static)> {
    match ty {
        Type::Reference(r) if r.mutability.is_none() => static_type(&r.elem),
        Type::Paren(p) => static_type(&p.elem),
        Type::Path(path) if path.qself.is_none() => {
            let found = recognise(path.path.segments.last()?)?;
            (found.rows.is_some() && found.columns.is_some() && found.scalar.is_some())
                .then_some((path, found))
        }
        _ => None,
    }
}

/// The `jacobian` type standing for a nalgebra one.
fn translated_type(found: &Static, krate: &TokenStream, span: Span) -> Type {
    let (rows, columns, scalar) = (&found.rows, &found.columns, &found.scalar);
    let tokens = if found.vector {
        quote_spanned!(span=> #krate::Vector<#rows, #scalar>)
    } else {
        quote_spanned!(span=> #krate::Matrix<#rows, #columns, #scalar>)
    };
    syn::parse2(tokens).expect("a type")
}

/// Whether the signature names nalgebra types; if so, the translated function and how to
/// convert at its siblings' boundary.
pub fn translate(function: &ItemFn, krate: &TokenStream) -> Option<(ItemFn, Nalgebra)> {
    let types = function
        .sig
        .inputs
        .iter()
        .filter_map(|arg| match arg {
            FnArg::Typed(typed) => Some(&*typed.ty),
            FnArg::Receiver(_) => None,
        })
        .chain(match &function.sig.output {
            ReturnType::Type(_, ty) => match &**ty {
                Type::Tuple(tuple) => tuple.elems.iter().collect(),
                ty => vec![ty],
            },
            ReturnType::Default => vec![],
        });
    let mut prefix = None;
    let mut scalar = None;
    let mut any = false;
    for ty in types {
        if let Some((path, found)) = static_type(ty) {
            any = true;
            scalar = scalar.or(found.scalar);
            if prefix.is_none() && path.path.segments.len() > 1 {
                let mut path = path.path.clone();
                path.segments.pop();
                path.segments.pop_punct();
                prefix = Some(path.to_token_stream());
            }
        }
    }
    if !any {
        return None;
    }
    let mut conversions = Vec::new();
    let mut vectors = BTreeMap::new();
    for arg in &function.sig.inputs {
        let FnArg::Typed(typed) = arg else { continue };
        let (Pat::Ident(pat), Some((_, found))) = (&*typed.pat, static_type(&typed.ty)) else { continue };
        if found.vector {
            vectors.insert(pat.ident.to_string(), found.rows.clone());
        }
        let by_ref = matches!(&*typed.ty, Type::Reference(_));
        conversions.push((pat.ident.clone(), by_ref, translated_type(&found, krate, typed.ty.span())));
    }
    let mut rewritten = function.clone();
    let scalar = scalar.map_or_else(|| quote!(_), |t| t.to_token_stream());
    let mut rewrite = Rewrite { krate, vectors, scalar };
    rewrite.visit_signature_mut(&mut rewritten.sig);
    rewrite.visit_block_mut(&mut rewritten.block);
    let prefix = prefix.unwrap_or_else(|| quote!(::nalgebra));
    Some((rewritten, Nalgebra { original: function.clone(), prefix, conversions }))
}

impl Nalgebra {
    /// nalgebra's `SMatrix<T, R, C>` (or `SVector<T, N>` for one column).
    pub fn matrix_type(
        &self,
        scalar: &TokenStream,
        rows: &TokenStream,
        columns: &TokenStream,
    ) -> TokenStream {
        let prefix = &self.prefix;
        if columns.to_string() == "1" {
            quote!(#prefix::SVector<#scalar, #rows>)
        } else {
            quote!(#prefix::SMatrix<#scalar, #rows, #columns>)
        }
    }

    /// The same matrix as nalgebra's `SMatrix`, entry by entry.
    pub fn matrix(
        &self,
        value: TokenStream,
        scalar: &TokenStream,
        rows: &TokenStream,
        columns: &TokenStream,
    ) -> TokenStream {
        let prefix = &self.prefix;
        let (i, j) = indices();
        quote!(#prefix::SMatrix::<#scalar, #rows, #columns>::from_fn(|#i, #j| #value[(#i, #j)]))
    }

    /// The function's value as the user's own return type (a nalgebra result converted,
    /// a tuple component by component, anything else as it is).
    pub fn value(&self, value: TokenStream) -> TokenStream {
        let ReturnType::Type(_, ty) = &self.original.sig.output else { return value };
        convert_back(value, ty)
    }

    /// Statements converting the nalgebra arguments (and the direction `extra`, if any)
    /// into the translated function's types, shadowing them.
    pub fn entry(&self, krate: &TokenStream, extra: Option<(&syn::Ident, TokenStream)>) -> TokenStream {
        let (i, j) = indices();
        let mut out = TokenStream::new();
        for (name, by_ref, ty) in &self.conversions {
            let converted = quote!(#krate::Matrix::from_fn(|#i, #j| #name[(#i, #j)]));
            out.extend(if *by_ref {
                quote!(let #name: &#ty = &#converted;)
            } else {
                quote!(let #name: #ty = #converted;)
            });
        }
        if let Some((name, ty)) = extra {
            out.extend(quote!(let #name: #ty = #krate::Matrix::from_fn(|#i, #j| #name[(#i, #j)]);));
        }
        out
    }
}

fn indices() -> (syn::Ident, syn::Ident) {
    (syn::Ident::new("__jacobian_i", Span::mixed_site()), syn::Ident::new("__jacobian_j", Span::mixed_site()))
}

/// `value` (of the translated type) as the user's type `ty`.
fn convert_back(value: TokenStream, ty: &Type) -> TokenStream {
    match ty {
        Type::Paren(inner) => convert_back(value, &inner.elem),
        Type::Tuple(tuple) if !tuple.elems.is_empty() => {
            let parts: Vec<syn::Ident> = (0..tuple.elems.len())
                .map(|k| syn::Ident::new(&format!("__jacobian_part{k}"), Span::mixed_site()))
                .collect();
            let converted =
                parts.iter().zip(&tuple.elems).map(|(part, ty)| convert_back(part.to_token_stream(), ty));
            quote!({ let (#(#parts,)*) = #value; (#(#converted,)*) })
        }
        ty if static_type(ty).is_some() => {
            let (i, j) = indices();
            quote!(<#ty>::from_fn(|#i, #j| #value[(#i, #j)]))
        }
        _ => value,
    }
}

/// Rewrites nalgebra types, constructors and coordinate fields into `jacobian`'s.
struct Rewrite<'a> {
    krate: &'a TokenStream,
    /// Names bound to nalgebra vectors (parameters, and `let`s of vector values), whose
    /// `.x`, `.y`, … are components; with their lengths where the type shows them.
    vectors: BTreeMap<String, Option<TokenStream>>,
    /// The function's scalar type, for constructors that do not name one (`Vector3::zeros()`).
    scalar: TokenStream,
}

impl Rewrite<'_> {
    /// Whether `e` is a vector, as far as its syntax shows.
    fn is_vector(&self, e: &Expr) -> bool {
        match e {
            Expr::Path(p) => p.path.get_ident().is_some_and(|i| self.vectors.contains_key(&i.to_string())),
            Expr::Paren(p) => self.is_vector(&p.expr),
            Expr::Group(g) => self.is_vector(&g.expr),
            Expr::Reference(r) => self.is_vector(&r.expr),
            Expr::Unary(u) => matches!(u.op, syn::UnOp::Neg(_)) && self.is_vector(&u.expr),
            Expr::Binary(b) => {
                matches!(
                    b.op,
                    syn::BinOp::Add(_) | syn::BinOp::Sub(_) | syn::BinOp::Mul(_) | syn::BinOp::Div(_)
                ) && (self.is_vector(&b.left) || self.is_vector(&b.right))
            }
            Expr::MethodCall(m) => {
                let vector_methods =
                    ["component_mul", "component_div", "map", "normalize", "cross", "scale", "clone", "abs"];
                vector_methods.contains(&m.method.to_string().as_str()) && self.is_vector(&m.receiver)
            }
            Expr::Call(call) => match &*call.func {
                Expr::Path(p) => {
                    let segments: Vec<&syn::PathSegment> = p.path.segments.iter().collect();
                    matches!(segments.as_slice(), [.., ty, _] if recognise(ty).is_some_and(|s| s.vector))
                }
                _ => false,
            },
            _ => false,
        }
    }

    /// nalgebra's constructor `call`, written with `jacobian`'s, or `None`.
    fn constructor(&self, call: &syn::ExprCall) -> Option<Expr> {
        let Expr::Path(path) = &*call.func else { return None };
        if path.qself.is_some() {
            return None;
        }
        let segments: Vec<&syn::PathSegment> = path.path.segments.iter().collect();
        let [.., ty, function] = segments.as_slice() else { return None };
        let found = recognise(ty)?;
        let krate = self.krate;
        let span = call.span();
        let args: Vec<&Expr> = call.args.iter().collect();
        let scalar = found.scalar.as_ref().map_or_else(|| self.scalar.clone(), ToTokens::to_token_stream);
        let literal =
            |size: &Option<TokenStream>| -> Option<usize> { size.as_ref()?.to_string().parse().ok() };
        let (rows, columns) = (literal(&found.rows), literal(&found.columns));
        // Row-major rows of `items`, as `from_rows` takes them.
        let grouped = |items: &[&Expr], columns: usize| -> TokenStream {
            let rows = items.chunks(columns.max(1)).map(|row| quote!([#(#row),*]));
            quote!([#(#rows),*])
        };
        // The elements of an array literal, behind `&`.
        let elements = |e: &Expr| -> Option<Vec<Expr>> {
            match e {
                Expr::Reference(r) => match &*r.expr {
                    Expr::Array(a) => Some(a.elems.iter().cloned().collect()),
                    _ => None,
                },
                Expr::Array(a) => Some(a.elems.iter().cloned().collect()),
                _ => None,
            }
        };
        let tokens = match (function.ident.to_string().as_str(), args.as_slice()) {
            ("new", items) if found.vector && rows.is_none_or(|n| n == items.len()) => {
                quote_spanned!(span=> #krate::Vector::from([#(#items),*]))
            }
            ("new", items) if !found.vector => {
                let (rows, columns) = (rows?, columns?);
                if rows * columns != items.len() {
                    return None;
                }
                let rows = grouped(items, columns);
                quote_spanned!(span=> #krate::Matrix::from_rows(#rows))
            }
            ("from", [array]) if found.vector => quote_spanned!(span=> #krate::Vector::from(#array)),
            // nalgebra's `From<[[T; R]; C]>` takes columns.
            ("from", [columns]) => quote_spanned!(span=> #krate::Matrix::from_rows(#columns).transpose()),
            ("from_row_slice" | "from_column_slice" | "from_slice", [slice]) if found.vector => {
                let items = elements(slice)?;
                quote_spanned!(span=> #krate::Vector::from([#(#items),*]))
            }
            ("from_row_slice", [slice]) => {
                let items = elements(slice)?;
                let (r, c) = (rows?, columns?);
                if r * c != items.len() {
                    return None;
                }
                let items: Vec<&Expr> = items.iter().collect();
                let rows = grouped(&items, c);
                quote_spanned!(span=> #krate::Matrix::from_rows(#rows))
            }
            ("zeros" | "identity", []) => {
                let (r, c) = (found.rows.as_ref()?, found.columns.as_ref()?);
                let function = &function.ident;
                if found.vector {
                    quote_spanned!(span=> #krate::Vector::<#r, #scalar>::#function())
                } else {
                    quote_spanned!(span=> #krate::Matrix::<#r, #c, #scalar>::#function())
                }
            }
            ("from_diagonal", [diagonal]) if !found.vector => {
                quote_spanned!(span=> #krate::Matrix::from_diagonal(#diagonal))
            }
            // (Written out where the sizes are literals: the value may be differentiated.)
            ("repeat" | "from_element", [value]) if found.vector => match rows {
                Some(n) => {
                    let items = std::iter::repeat_n(value, n);
                    quote_spanned!(span=> #krate::Vector::from([#(#items),*]))
                }
                None => {
                    let r = found.rows.as_ref()?;
                    quote_spanned!(span=> #krate::Vector::from([#value; #r]))
                }
            },
            ("repeat" | "from_element", [value]) => match (rows, columns) {
                (Some(r), Some(c)) => {
                    let row = std::iter::repeat_n(value, c).collect::<Vec<_>>();
                    let rows = (0..r).map(|_| quote!([#(#row),*]));
                    quote_spanned!(span=> #krate::Matrix::from_rows([#(#rows),*]))
                }
                _ => {
                    let (r, c) = (found.rows.as_ref()?, found.columns.as_ref()?);
                    quote_spanned!(span=> #krate::Matrix::<#r, #c, #scalar>::from_rows([[#value; #c]; #r]))
                }
            },
            _ => return None,
        };
        syn::parse2(tokens).ok()
    }
}

impl VisitMut for Rewrite<'_> {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        if let Type::Path(path) = ty {
            if let Some((_, found)) = static_type(&Type::Path(path.clone())) {
                *ty = translated_type(&found, self.krate, path.span());
                return;
            }
        }
        syn::visit_mut::visit_type_mut(self, ty);
    }

    fn visit_expr_mut(&mut self, e: &mut Expr) {
        if let Expr::Field(field) = e {
            let coordinate = match &field.member {
                syn::Member::Named(name) => ["x", "y", "z", "w", "a", "b"].iter().position(|c| name == c),
                syn::Member::Unnamed(_) => None,
            };
            if let (Some(k), true) = (coordinate, self.is_vector(&field.base)) {
                let span = field.member.span();
                let mut base = (*field.base).clone();
                self.visit_expr_mut(&mut base);
                let k = proc_macro2::Literal::usize_unsuffixed(k);
                *e = syn::parse2(quote_spanned!(span=> #base[#k])).expect("an index expression");
                return;
            }
        }
        // `v.len()` of a vector whose type shows its length: that length, an integer the
        // macro need not differentiate.
        if let Expr::MethodCall(call) = e {
            if let (Expr::Path(path), true) = (&*call.receiver, call.method == "len" && call.args.is_empty())
            {
                let known =
                    path.path.get_ident().and_then(|i| self.vectors.get(&i.to_string()).cloned().flatten());
                if let Some(len) = known {
                    *e = syn::parse2(quote_spanned!(call.span()=> (#len))).expect("a length");
                    return;
                }
            }
        }
        syn::visit_mut::visit_expr_mut(self, e);
        if let Expr::Call(call) = e {
            if let Some(translated) = self.constructor(call) {
                *e = translated;
            }
        }
    }

    fn visit_local_mut(&mut self, local: &mut syn::Local) {
        // The name, and its annotation's vector length if it is a vector type.
        let (name, annotated) = match &local.pat {
            Pat::Ident(p) => (Some(p.ident.to_string()), None),
            Pat::Type(t) => match &*t.pat {
                Pat::Ident(p) => (
                    Some(p.ident.to_string()),
                    Some(static_type(&t.ty).filter(|(_, s)| s.vector).map(|(_, s)| s.rows)),
                ),
                _ => (None, None),
            },
            _ => (None, None),
        };
        // `let r: SVector<f64, 3> = SVector::zeros();`: the constructor's sizes from the
        // annotation.
        if let (Pat::Type(typed), Some(init)) = (&local.pat, local.init.as_mut()) {
            if let (Some((_, ty)), Expr::Call(call)) = (static_type(&typed.ty), &mut *init.expr) {
                if let Expr::Path(path) = &mut *call.func {
                    let segments = &mut path.path.segments;
                    let n = segments.len();
                    if n >= 2 && recognise(&segments[n - 2]).is_some_and(|s| s.rows.is_none()) {
                        let (scalar, rows, columns) = (&ty.scalar, &ty.rows, &ty.columns);
                        let args = if ty.vector {
                            quote!(<#scalar, #rows>)
                        } else {
                            quote!(<#scalar, #rows, #columns>)
                        };
                        let name = if ty.vector { quote!(SVector) } else { quote!(SMatrix) };
                        if let Ok(segment) = syn::parse2::<syn::PathSegment>(quote!(#name::#args)) {
                            segments[n - 2] = segment;
                        }
                    }
                }
            }
        }
        let vector = annotated.unwrap_or_else(|| {
            local.init.as_ref().is_some_and(|init| self.is_vector(&init.expr)).then_some(None)
        });
        syn::visit_mut::visit_local_mut(self, local);
        if let Some(name) = name {
            match vector {
                Some(len) => self.vectors.insert(name, len),
                None => self.vectors.remove(&name),
            };
        }
    }
}
