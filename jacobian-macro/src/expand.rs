//! Owns the pipeline: options and signature, lowering (with forward-mode derivatives),
//! clean-up, printing. The user's function is always emitted unchanged, even beside
//! errors, so one mistake does not bury their other diagnostics.

use crate::diagnostics::Diagnostics;
use crate::ir::Function;
use crate::legacy::ir::Builder;
use crate::legacy::lower::{Lowerer, Output};
use crate::legacy::{emit, simplify};
use crate::signature::Signature;
use crate::{forward, front, options, signature};
use proc_macro2::TokenStream;
use quote::{format_ident, quote, ToTokens};
use syn::ItemFn;

pub fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let diagnostics = Diagnostics::default();
    let options = options::parse(attr, &diagnostics);
    let function: ItemFn = match syn::parse2(item.clone()) {
        Ok(function) => function,
        Err(_) => {
            diagnostics.push(syn::Error::new(
                proc_macro2::Span::call_site(),
                "`#[jacobian]` applies to a function (`fn`, associated function or method)",
            ));
            let errors = diagnostics.to_compile_errors();
            return quote!(#errors #item);
        }
    };
    let krate = options.krate.as_ref().map(ToTokens::to_token_stream).unwrap_or_else(|| quote!(::jacobian));
    let signature = signature::analyse(&function, &options, &diagnostics);
    let mut siblings = Vec::new();
    if let Some(signature) = &signature {
        let primal = primal(&function, signature);
        let primal = &primal;
        let name = options.name.clone().unwrap_or_else(|| format_ident!("{}_jacobian", function.sig.ident));
        siblings.push(sibling(&function, signature, &krate, &diagnostics, Output::Jacobian, name, primal));
        if options.value {
            let name = format_ident!("{}_value_and_jacobian", function.sig.ident);
            siblings.push(sibling(
                &function,
                signature,
                &krate,
                &diagnostics,
                Output::ValueAndJacobian,
                name,
                primal,
            ));
        }
        let expressible = |dim: crate::shape::Dim| {
            !dim.is_generic() || syn::parse2::<syn::Ident>(dim.to_token_stream()).is_ok()
        };
        if signature.inputs.iter().all(|input| expressible(input.shape.len())) {
            let name = parts_name(&function.sig.ident);
            siblings.push(sibling(&function, signature, &krate, &diagnostics, Output::Parts, name, primal));
        }
    }
    if diagnostics.has_errors() {
        let errors = diagnostics.to_compile_errors();
        return quote!(#errors #function);
    }
    // Callers often use only the Jacobian; that is a use of the function's definition, so
    // rustc's "never used" would be a false alarm (and an error under `deny(warnings)`).
    quote! {
        #[allow(dead_code)]
        #function
        #(#siblings)*
    }
}

/// The body of a sibling from the typed-IR pipeline (front end, forward mode, emission),
/// or `None` where it cannot take the function yet and the legacy lowering does. Setting
/// `__JACOBIAN_LEGACY_PIPELINE` in the compiler's environment forces the legacy one, to
/// compare the two while both exist.
fn pipeline(
    function: &ItemFn,
    signature: &Signature,
    krate: &TokenStream,
    output: Output,
    primal: &Result<Function, String>,
) -> Option<TokenStream> {
    let returns = match output {
        Output::Jacobian => forward::Returns::Jacobian,
        Output::ValueAndJacobian => forward::Returns::ValueAndJacobian,
        Output::Parts => forward::Returns::Parts,
    };
    let jacobian = primal.clone().and_then(|primal| {
        let mut jacobian = forward::jacobian(&primal, signature, krate, returns)
            .map_err(|problem| format!("{} at {:?}", problem.what, problem.span))?;
        crate::opt::optimise(&mut jacobian);
        crate::ir::verify::verify(&jacobian)?;
        Ok(jacobian)
    });
    log_pipeline(&function.sig.ident, jacobian.as_ref().err());
    let jacobian = jacobian.ok()?;
    Some(crate::emit::body(&jacobian, &signature.scalar, krate, &reserved(function)))
}

/// The function's primal IR, optimised, once for all its siblings; or why the new
/// pipeline cannot take it.
fn primal(function: &ItemFn, signature: &Signature) -> Result<Function, String> {
    if std::env::var_os("__JACOBIAN_LEGACY_PIPELINE").is_some() {
        return Err("the legacy pipeline is forced".into());
    }
    let mut primal = front::lower(function, signature)
        .map_err(|problem| format!("{} at {:?}", problem.what, problem.span))?;
    crate::opt::optimise(&mut primal);
    crate::ir::verify::verify(&primal)?;
    Ok(primal)
}

/// With `__JACOBIAN_PIPELINE_LOG=FILE` in the compiler's environment, appends which
/// pipeline took each function (and why not the new one) to `FILE`: how the new pipeline's
/// coverage is measured while both exist.
fn log_pipeline(name: &syn::Ident, problem: Option<&String>) {
    use std::io::Write as _;
    let Some(path) = std::env::var_os("__JACOBIAN_PIPELINE_LOG") else { return };
    let line = match problem {
        None => format!("{name}\tnew\n"),
        Some(problem) => format!("{name}\tlegacy\t{problem}\n"),
    };
    if let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
        let _ = file.write_all(line.as_bytes());
    }
}

/// The user's identifiers, which generated names avoid so that none prints as a user's.
pub fn reserved(function: &ItemFn) -> std::collections::BTreeSet<String> {
    let mut names = std::collections::BTreeSet::new();
    reserve(function.to_token_stream(), &mut names);
    names
}

fn reserve(tokens: TokenStream, out: &mut std::collections::BTreeSet<String>) {
    for tree in tokens {
        match tree {
            proc_macro2::TokenTree::Ident(ident) => {
                out.insert(ident.to_string());
            }
            proc_macro2::TokenTree::Group(group) => reserve(group.stream(), out),
            _ => {}
        }
    }
}

/// The hidden sibling that callers chain through: `__{name}_jacobian_parts`.
pub fn parts_name(function: &syn::Ident) -> syn::Ident {
    let name = function.to_string();
    format_ident!("__{}_jacobian_parts", name.trim_start_matches("r#"), span = function.span())
}

fn sibling(
    function: &ItemFn,
    signature: &Signature,
    krate: &TokenStream,
    diagnostics: &Diagnostics,
    output: Output,
    name: syn::Ident,
    primal: &Result<Function, String>,
) -> TokenStream {
    let body = match pipeline(function, signature, krate, output, primal) {
        Some(body) => body,
        None => {
            let mut builder = Builder::new(signature.scalar.clone(), krate.clone());
            builder.reserve(function.to_token_stream());
            let lowerer = Lowerer::new(signature, function, builder, diagnostics, output);
            let mut body = lowerer.lower_body(&function.block);
            simplify::remove_dead_temporaries(&mut body);
            emit::block(&body)
        }
    };

    let original = &function.sig.ident;
    let ty = &signature.scalar.tokens;
    let (rows, cols) = (signature.rows.type_arg(), signature.columns.type_arg());
    let matrix = quote!(#krate::Matrix<#rows, #cols, #ty>);
    let wrt: Vec<String> = signature.inputs.iter().map(|i| format!("`{}`", i.ident)).collect();
    let wrt = wrt.join(", ");
    let (ret, doc) = match output {
        Output::Jacobian => (
            matrix,
            format!(" The Jacobian of [`{original}`] with respect to {wrt}: row `i` is output component `i`, column `k` the `k`-th input component. Generated by `#[jacobian]`."),
        ),
        Output::ValueAndJacobian => {
            let value = match &function.sig.output {
                syn::ReturnType::Type(_, ty) => ty.to_token_stream(),
                syn::ReturnType::Default => quote!(()),
            };
            (
                quote!((#value, #matrix)),
                format!(" The value of [`{original}`] and its Jacobian with respect to {wrt}, sharing the work. Generated by `#[jacobian]`."),
            )
        }
        Output::Parts => {
            let value = match &function.sig.output {
                syn::ReturnType::Type(_, ty) => ty.to_token_stream(),
                syn::ReturnType::Default => quote!(()),
            };
            let mut parts = vec![value];
            for position in &signature.positions {
                parts.push(match position {
                    Some(block) => {
                        let cols = signature.inputs[*block].shape.len().type_arg();
                        quote!(#krate::Matrix<#rows, #cols, #ty>)
                    }
                    None => quote!(#krate::__private::NotDifferentiated),
                });
            }
            (quote!((#(#parts),*)), String::new())
        }
    };
    let doc = if doc.is_empty() { quote!(#[doc(hidden)]) } else { quote!(#[doc = #doc]) };
    let attrs = function.attrs.iter().filter(|a| !a.path().is_ident("doc") && !a.path().is_ident("test"));
    let vis = &function.vis;
    let sig = &function.sig;
    let constness = &sig.constness;
    let _ = constness;
    let generics = &sig.generics;
    let where_clause = &sig.generics.where_clause;
    let inputs = &sig.inputs;
    quote! {
        #doc
        #(#attrs)*
        #[allow(dead_code, unused_variables, unused_mut, unused_assignments, unused_parens, unused_braces, clippy::all, clippy::pedantic, clippy::nursery)]
        #vis fn #name #generics (#inputs) -> #ret #where_clause {
            #body
        }
    }
}
