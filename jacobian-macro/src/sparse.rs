//! Owns the `sparse` option: `{name}_jacobian_sparse(<params>)`, the values of the
//! Jacobian's structurally non-zero entries in a fixed order, and
//! `{name}_jacobian_pattern()`, where each of them is (the runtime's `Sparse` and
//! `Pattern`).
//!
//! The structure is what forward mode holds at compile time (`forward::Piece`): a banded
//! block's diagonals (`[T; len]` each, already the storage a sparse matrix needs: they are
//! copied into the values whole), an identity's ones, a row's unit columns as single
//! entries; where it holds something dense (a run-time row, a held block), that part is
//! stored dense. Each piece is one `Segment` of the pattern, so the pattern is a constant
//! of a few segments, never a list that grows with the sizes. The values are an array
//! `[T; NNZ]` where every size is a literal or a `const` item (`NNZ` computed at compile
//! time), and a `Vec<T>` where a size is a const-generic parameter (stable Rust cannot
//! write `[T; 2 * N - 1]`). Where forward mode does not take the function, the dense
//! Jacobian is computed as the `{name}_jacobian` sibling does and stored as one block:
//! never wrong, only not sparse.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, ToTokens};
use syn::ItemFn;

use crate::diagnostics::Diagnostics;
use crate::forward::{self, Piece};
use crate::ir::build::Builder;
use crate::ir::{Code, Function, Op, Type, Value};
use crate::shape::Dim;
use crate::signature::Signature;

/// What the sparse siblings are made from (`expand` fills it in).
pub struct Request<'a> {
    /// The function as differentiated (a nalgebra function's translation).
    pub function: &'a ItemFn,
    pub signature: &'a Signature,
    pub krate: &'a TokenStream,
    pub primal: &'a Result<Function, String>,
    pub nalgebra: Option<&'a crate::nalgebra::Nalgebra>,
    pub diagnostics: &'a Diagnostics,
    /// `{name}_jacobian_sparse` and `{name}_jacobian_pattern`.
    pub values_name: syn::Ident,
    pub pattern_name: syn::Ident,
    /// The body of `{name}_jacobian` (a dense `Matrix`), for the fallback.
    pub dense: &'a dyn Fn() -> TokenStream,
}

/// A sparse Jacobian's layout: its segments (as runtime `Segment` expressions) and how its
/// values are stored.
struct Layout {
    segments: Vec<TokenStream>,
    /// The number of values, where every size is a literal.
    literal_len: Option<usize>,
    /// A size is a const-generic parameter: the values are a `Vec`.
    generic: bool,
    /// The number of values as a constant expression (sizes of `const` items).
    len_expr: TokenStream,
}

/// The two siblings.
pub fn siblings(request: &Request) -> Vec<TokenStream> {
    let (rows, columns) = (&request.signature.rows, &request.signature.columns);
    let written = request.primal.as_ref().ok().and_then(|primal| sparse_body(request, primal, None));
    let (layout, body) = written.unwrap_or_else(|| dense_fallback(request));
    vec![
        values_sibling(request, &layout, body, rows, columns, Second::No),
        pattern_sibling(request, &layout, rows, columns, Second::No),
    ]
}

/// With `hessian` too: `{name}_hessian_sparse` and `{name}_hessian_pattern`, the sparse
/// Jacobian of the reverse-mode gradient (forward over reverse, as `{name}_hessian`). Where
/// second order does not take the function, `hessian`'s own refusal says why.
pub fn hessian_siblings(request: &Request) -> Vec<TokenStream> {
    let Ok(primal) = request.primal else { return Vec::new() };
    let Ok(gradient) = crate::reverse::function(primal, request.signature, crate::reverse::Returns::Gradient)
    else {
        return Vec::new();
    };
    let columns = &request.signature.columns;
    let Some((layout, body)) = sparse_body(request, &gradient, Some(columns.clone())) else {
        request.diagnostics.error_at(
            &request.function.sig.ident,
            "`sparse` with `hessian`: the sparse Hessian is not supported for this function yet; use `{name}_hessian`, or `sparse` without `hessian`",
        );
        return Vec::new();
    };
    vec![
        values_sibling(request, &layout, body, columns, columns, Second::Yes),
        pattern_sibling(request, &layout, columns, columns, Second::Yes),
    ]
}

/// Whether the siblings are the Hessian's.
#[derive(Clone, Copy, PartialEq)]
enum Second {
    No,
    Yes,
}

/// The sparse Jacobian of `primal` (the user's function, or its gradient with `rows` the
/// Hessian's), by forward mode: its layout and body.
fn sparse_body(request: &Request, primal: &Function, rows: Option<Dim>) -> Option<(Layout, TokenStream)> {
    let krate = request.krate;
    let columns = request.signature.columns.clone();
    let out_rows = rows.clone().unwrap_or_else(|| request.signature.rows.clone());
    let mut layout = None;
    let mut write = |b: &mut Builder, pieces: &[Piece]| -> Value {
        let found = Layout::of(pieces, &out_rows, &columns, krate);
        let value = fill(b, pieces, &found, &out_rows, &columns, krate);
        layout = Some(found);
        value
    };
    let (mut function, _) = forward::sparse(primal, request.signature, krate, rows, &mut write).ok()?;
    crate::opt::optimise(&mut function);
    crate::ir::verify::verify(&function).ok()?;
    let reserved = crate::expand::reserved(request.function);
    let body = crate::emit::body(&function, &request.signature.scalar, krate, &reserved);
    Some((layout?, body))
}

impl Layout {
    fn of(pieces: &[Piece], rows: &Dim, columns: &Dim, krate: &TokenStream) -> Layout {
        let mut segments = Vec::new();
        let mut literal_len = Some(0);
        let mut generic = rows.is_generic() || columns.is_generic();
        let mut lens = Vec::new();
        let shift_tokens = |shift: i64| proc_macro2::Literal::i64_unsuffixed(shift).into_token_stream();
        for piece in pieces {
            let (segment, len) = match piece {
                Piece::Entry { row, col, .. } => {
                    generic |= col.is_generic();
                    let (row, col) = (crate::shape::unsuffixed(*row), col.value());
                    (quote!(#krate::Segment::Entry { row: #row, col: #col }), Some(1))
                }
                Piece::Row { row, col, len, .. } => {
                    generic |= col.is_generic() || len.is_generic();
                    let n = len.lit();
                    let (row, col, len) = (crate::shape::unsuffixed(*row), col.value(), len.value());
                    (quote!(#krate::Segment::Row { row: #row, col: #col, len: #len }), n)
                }
                Piece::Block { col, cols, .. } => {
                    generic |= col.is_generic() || cols.is_generic();
                    let n = rows.lit().zip(cols.lit()).map(|(r, c)| r * c);
                    let (r, col, cols) = (rows.value(), col.value(), cols.value());
                    (quote!(#krate::Segment::Block { row: 0, col: #col, rows: #r, cols: #cols }), n)
                }
                Piece::Diagonal { col, width, shift, .. } => {
                    generic |= col.is_generic() || width.is_generic();
                    let n = rows.lit().zip(width.lit()).map(|(r, w)| diagonal_len(r, w, *shift));
                    let (r, col, w, s) = (rows.value(), col.value(), width.value(), shift_tokens(*shift));
                    (
                        quote!(#krate::Segment::Diagonal { row: 0, col: #col, rows: #r, width: #w, shift: #s }),
                        n,
                    )
                }
            };
            literal_len = literal_len.zip(len).map(|(a, b)| a + b);
            lens.push(quote!(#segment.len()));
            segments.push(segment);
        }
        let len_expr = match literal_len {
            Some(n) => crate::shape::unsuffixed(n).into_token_stream(),
            None => quote!({ 0 #(+ #lens)* }),
        };
        Layout { segments, literal_len, generic, len_expr }
    }

    /// The pattern as an expression of type `Pattern` (a constant).
    fn pattern(&self, rows: &Dim, columns: &Dim, krate: &TokenStream) -> TokenStream {
        let (rows, columns, segments) = (rows.value(), columns.value(), &self.segments);
        quote!(#krate::Pattern::__new(#rows, #columns, const { &[#(#segments),*] }))
    }

    /// The values' storage type.
    fn storage(&self, scalar: &TokenStream, krate: &TokenStream) -> TokenStream {
        if self.generic {
            quote!(#krate::__private::Vec<#scalar>)
        } else {
            let len = &self.len_expr;
            quote!([#scalar; #len])
        }
    }

    /// Zeros in that storage, `pattern` the pattern's variable.
    fn zeros(&self, pattern: &syn::Ident, krate: &TokenStream) -> TokenStream {
        if self.generic {
            quote!(#krate::__private::sparse_zeros_vec::<__jacobian_scalar>(#pattern.len()))
        } else {
            let len = &self.len_expr;
            quote!(#krate::__private::sparse_zeros::<__jacobian_scalar, #len>())
        }
    }
}

/// The rows `r < rows` with `0 ≤ r + shift < width` (as the runtime's `Segment` counts).
fn diagonal_len(rows: usize, width: usize, shift: i64) -> usize {
    let lo = (-shift).max(0);
    let hi = (width as i64 - shift).clamp(0, rows as i64);
    (hi - lo).max(0) as usize
}

fn local(name: &str) -> syn::Ident {
    syn::Ident::new(name, Span::mixed_site())
}

/// The instruction that writes the values, piece by piece, and returns the `Sparse`.
fn fill(
    b: &mut Builder,
    pieces: &[Piece],
    layout: &Layout,
    rows: &Dim,
    columns: &Dim,
    krate: &TokenStream,
) -> Value {
    let (pattern, values, filler) =
        (local("__jacobian_pattern"), local("__jacobian_values"), local("__jacobian_fill"));
    let mut args = Vec::new();
    let mut steps = Vec::new();
    let rows_value = rows.value();
    for piece in pieces {
        let hole = Code::hole(args.len());
        steps.push(match piece {
            Piece::Entry { value, .. } => {
                args.push(*value);
                quote!(#filler.entry(#hole);)
            }
            Piece::Row { value, .. } => {
                args.push(*value);
                quote!(#filler.row(&#hole);)
            }
            Piece::Block { value, .. } => {
                args.push(*value);
                quote!(#filler.block(&#hole);)
            }
            Piece::Diagonal { width, shift, value, .. } => {
                let (w, s) = (width.value(), proc_macro2::Literal::i64_unsuffixed(*shift));
                match value {
                    Some(value) => {
                        args.push(*value);
                        quote!(#filler.diagonal(&#hole, #rows_value, #w, #s);)
                    }
                    None => quote!(#filler.ones(#rows_value, #w, #s);),
                }
            }
        });
    }
    let pattern_expr = layout.pattern(rows, columns, krate);
    let zeros = layout.zeros(&pattern, krate);
    let tokens = quote!({
        let #pattern = #pattern_expr;
        let mut #values = #zeros;
        let mut #filler = #krate::__private::Fill::new(&mut #values[..]);
        #(#steps)*
        #filler.finish();
        #krate::Sparse::__new(#pattern, #values)
    });
    b.push1(Op::Code(Code { tokens }), args, Type::Opaque)
}

/// Where forward mode does not take the function: the dense Jacobian, as one block.
fn dense_fallback(request: &Request) -> (Layout, TokenStream) {
    let (krate, signature) = (request.krate, request.signature);
    let (rows, columns) = (&signature.rows, &signature.columns);
    let layout = Layout::of(
        &[Piece::Block { col: Dim::Lit(0), cols: columns.clone(), value: Value(0) }],
        rows,
        columns,
        krate,
    );
    // The dense sibling's body reports its own errors; they are not repeated here.
    let mark = request.diagnostics.mute();
    let dense = (request.dense)();
    request.diagnostics.unmute(mark);
    let scalar = &signature.scalar.tokens;
    let (pattern, values, filler, jacobian) = (
        local("__jacobian_pattern"),
        local("__jacobian_values"),
        local("__jacobian_fill"),
        local("__jacobian_dense"),
    );
    let pattern_expr = layout.pattern(rows, columns, krate);
    let zeros = substitute_scalar(layout.zeros(&pattern, krate), scalar);
    let (rows, columns) = (rows.type_arg(), columns.type_arg());
    let matrix = quote!(#krate::Matrix<#rows, #columns, #scalar>);
    let body = quote! {
        let #jacobian: #matrix = (|| { #dense })();
        let #pattern = #pattern_expr;
        let mut #values = #zeros;
        let mut #filler = #krate::__private::Fill::new(&mut #values[..]);
        #filler.block(#jacobian.as_rows());
        #filler.finish();
        #krate::Sparse::__new(#pattern, #values)
    };
    (layout, body)
}

/// `__jacobian_scalar` replaced by the scalar type (what `emit` does for IR code).
fn substitute_scalar(tokens: TokenStream, scalar: &TokenStream) -> TokenStream {
    tokens
        .into_iter()
        .flat_map(|tree| -> Vec<proc_macro2::TokenTree> {
            match tree {
                proc_macro2::TokenTree::Ident(ident) if ident == "__jacobian_scalar" => {
                    scalar.clone().into_iter().collect()
                }
                proc_macro2::TokenTree::Group(group) => {
                    let mut g =
                        proc_macro2::Group::new(group.delimiter(), substitute_scalar(group.stream(), scalar));
                    g.set_span(group.span());
                    vec![proc_macro2::TokenTree::Group(g)]
                }
                other => vec![other],
            }
        })
        .collect()
}

const ALLOWS: &str = "dead_code, unused_variables, unused_mut, unused_assignments, unused_parens, unused_braces, unused_must_use, unreachable_code, clippy::all, clippy::pedantic, clippy::nursery";

fn allows() -> TokenStream {
    let lints: TokenStream = ALLOWS.parse().unwrap_or_default();
    quote!(#[allow(#lints)])
}

fn wrt(signature: &Signature) -> String {
    signature.inputs.iter().map(|i| format!("`{}`", i.ident)).collect::<Vec<_>>().join(", ")
}

/// `{name}_jacobian_sparse(<params>) -> Sparse<[T; NNZ]>` (or `Sparse<Vec<T>>`).
fn values_sibling(
    request: &Request,
    layout: &Layout,
    body: TokenStream,
    rows: &Dim,
    columns: &Dim,
    second: Second,
) -> TokenStream {
    let (function, krate) = (request.function, request.krate);
    let original = request.nalgebra.map_or(function, |n| &n.original);
    let scalar = &request.signature.scalar.tokens;
    let storage = layout.storage(scalar, krate);
    let (name, pattern_name) = names_of(request, second);
    let stem = &original.sig.ident;
    let what = if second == Second::Yes { "Hessian" } else { "Jacobian" };
    let size = match (layout.generic, layout.literal_len) {
        (true, _) => "a `Vec` (its sizes are const-generic)".to_owned(),
        (false, Some(n)) => format!("an array of {n}"),
        (false, None) => "an array".to_owned(),
    };
    let doc = format!(
        " The {what} of [`{stem}`] with respect to {}, sparse: the values of the entries that can be non-zero, in the order of [`{pattern_name}`]'s pattern ({} segment(s), {rows} × {columns}), held in {size}. Rows and columns as in the dense {what}. Generated by `#[jacobian(sparse)]`.",
        wrt(request.signature),
        layout.segments.len(),
    );
    let body = match request.nalgebra {
        Some(nalgebra) => {
            let entry = nalgebra.entry(krate, None);
            quote! { #entry #body }
        }
        None => body,
    };
    let attrs = original.attrs.iter().filter(|a| !a.path().is_ident("doc") && !a.path().is_ident("test"));
    let (vis, sig) = (&original.vis, &original.sig);
    let (generics, where_clause, inputs) = (&sig.generics, &sig.generics.where_clause, &sig.inputs);
    let allows = allows();
    quote! {
        #[doc = #doc]
        #(#attrs)*
        #allows
        #vis fn #name #generics (#inputs) -> #krate::Sparse<#storage> #where_clause {
            #body
        }
    }
}

/// `{name}_jacobian_pattern() -> Pattern`: generic over the function's const generics only.
fn pattern_sibling(
    request: &Request,
    layout: &Layout,
    rows: &Dim,
    columns: &Dim,
    second: Second,
) -> TokenStream {
    let (function, krate) = (request.function, request.krate);
    let original = request.nalgebra.map_or(function, |n| &n.original);
    let pattern = layout.pattern(rows, columns, krate);
    let (values_name, name) = names_of(request, second);
    let stem = &original.sig.ident;
    let what = if second == Second::Yes { "Hessian" } else { "Jacobian" };
    let consts: Vec<&syn::ConstParam> = original.sig.generics.const_params().collect();
    let doc = format!(
        " Where each value of [`{values_name}`] is in the {what} of [`{stem}`], in order: known at compile time, so nothing is evaluated. Generated by `#[jacobian(sparse)]`."
    );
    let vis = &original.vis;
    let attrs = original
        .attrs
        .iter()
        .filter(|a| !a.path().is_ident("doc") && !a.path().is_ident("test") && !a.path().is_ident("inline"));
    let allows = allows();
    quote! {
        #[doc = #doc]
        #(#attrs)*
        #allows
        #vis fn #name <#(#consts),*> () -> #krate::Pattern {
            #pattern
        }
    }
}

/// The sibling names for a function `stem`.
pub fn names(function: &syn::Ident) -> (syn::Ident, syn::Ident) {
    let stem = function.to_string();
    let stem = stem.trim_start_matches("r#");
    (
        format_ident!("{stem}_jacobian_sparse", span = function.span()),
        format_ident!("{stem}_jacobian_pattern", span = function.span()),
    )
}

/// The values and pattern siblings' names: `{name}_jacobian_*` or `{name}_hessian_*`.
fn names_of(request: &Request, second: Second) -> (syn::Ident, syn::Ident) {
    match second {
        Second::No => (request.values_name.clone(), request.pattern_name.clone()),
        Second::Yes => {
            let rename = |ident: &syn::Ident| {
                let text = ident.to_string();
                let text = text.trim_start_matches("r#");
                let renamed = match text.rfind("_jacobian_") {
                    Some(at) => format!("{}_hessian_{}", &text[..at], &text[at + "_jacobian_".len()..]),
                    None => format!("{text}_hessian"),
                };
                syn::Ident::new(&renamed, ident.span())
            };
            (rename(&request.values_name), rename(&request.pattern_name))
        }
    }
}
