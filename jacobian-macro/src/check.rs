//! Owns the `check` option: a `#[cfg(test)]` unit test, `__{name}_jacobian_check`, beside
//! the function, that compares `{name}_jacobian` with central differences of the function
//! at fixed points (`__private::check_jacobian` in the runtime does the comparing). Also
//! every refusal of `check`: the test can only choose values for differentiated parameters
//! of a non-generic free function.

use crate::diagnostics::Diagnostics;
use crate::shape::{Dim, Shape};
use crate::signature::Signature;
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, ToTokens};
use syn::{FnArg, GenericParam, ItemFn, ReturnType, Type};

/// The test's name: `__{name}_jacobian_check`, after the function (not the `name = …` of
/// its Jacobian), spanned at the function's name so that it is callable from the user's
/// other tests.
pub fn test_name(function: &syn::Ident) -> syn::Ident {
    let name = function.to_string();
    format_ident!("__{}_jacobian_check", name.trim_start_matches("r#"), span = function.span())
}

/// The generated test, or `None` after a diagnostic at `key` (the `check` option) saying
/// why there can be none. `original` is the function as the user wrote it, `translated`
/// the one the signature describes (they differ for nalgebra types), `jacobian` the name of
/// the Jacobian sibling.
pub fn test(
    key: &syn::Ident,
    original: &ItemFn,
    translated: &ItemFn,
    signature: &Signature,
    krate: &TokenStream,
    jacobian: &syn::Ident,
    diagnostics: &Diagnostics,
) -> Option<TokenStream> {
    let sig = &original.sig;
    let name = sig.ident.to_string();
    let name = name.trim_start_matches("r#");
    let by_hand = format!(
        "remove `check` and write a `#[test]` that compares `{jacobian}` with central differences of `{name}` at values you choose"
    );
    if sig.inputs.iter().any(|input| matches!(input, FnArg::Receiver(_))) {
        diagnostics.error_at(
            key,
            format!("`check` cannot test a method: the test it generates is a free `#[test]` function, which an `impl` block cannot hold, and it has no value of `Self` to call the method on; {by_hand}"),
        );
        return None;
    }
    let generic: Vec<String> = sig
        .generics
        .params
        .iter()
        .filter_map(|param| match param {
            GenericParam::Type(t) => Some(format!("`{}`", t.ident)),
            GenericParam::Const(c) => Some(format!("`{}`", c.ident)),
            GenericParam::Lifetime(_) => None,
        })
        .collect();
    if !generic.is_empty() {
        diagnostics.error_at(
            key,
            format!(
                "`check` cannot test a generic function: its test would have to choose {} for the generic parameter{} {}; remove `check` and write a `#[test]` that calls `{jacobian}::<…>` with the generic arguments you use and compares it with central differences of `{name}` at values you choose",
                if generic.len() == 1 { "a type or size" } else { "types or sizes" },
                if generic.len() == 1 { "" } else { "s" },
                generic.join(", "),
            ),
        );
        return None;
    }
    // Typed parameters in order, each with its block if differentiated.
    let typed: Vec<&syn::PatType> = sig
        .inputs
        .iter()
        .filter_map(|input| match input {
            FnArg::Typed(typed) => Some(typed),
            FnArg::Receiver(_) => None,
        })
        .collect();
    let constants: Vec<String> = typed
        .iter()
        .zip(&signature.positions)
        .filter(|(_, position)| position.is_none())
        .map(|(typed, _)| {
            let ty = typed.ty.to_token_stream().to_string().replace("& ", "&");
            format!("`{}: {ty}`", typed.pat.to_token_stream())
        })
        .collect();
    if !constants.is_empty() {
        let are = if constants.len() == 1 { "is" } else { "are" };
        diagnostics.error_at(
            key,
            format!(
                "`check` cannot choose a value for {}, which {are} not differentiated: its test invents values only for differentiated parameters (`f64`, `f32`, arrays, `Vector`, `Matrix`, nalgebra's vectors and matrices), and a constant needs a value that means something to `{name}`; {by_hand}",
                constants.join(", "),
            ),
        );
        return None;
    }

    let mixed = |text: &str| syn::Ident::new(text, Span::mixed_site());
    let (point, result, out, rows_var, k, a, b) =
        (mixed("point"), mixed("result"), mixed("out"), mixed("j"), mixed("k"), mixed("a"), mixed("b"));
    let scalar = &signature.scalar.tokens;
    let (rows, columns) = (signature.rows.type_arg(), signature.columns.type_arg());

    // The arguments, built from the flattened point.
    let mut build = TokenStream::new();
    let mut arguments = Vec::new();
    let mut labels = Vec::new();
    for (n, (typed, position)) in typed.iter().zip(&signature.positions).enumerate() {
        let input = &signature.inputs[(*position)?];
        let (ty, references) = dereferenced(&typed.ty);
        let argument = format_ident!("argument{n}", span = Span::mixed_site());
        let offset = input.offset.value();
        let value = match &input.shape {
            Shape::Scalar => quote!(#point[#offset]),
            Shape::Array(_) => quote!(::core::array::from_fn(|#k| #point[#offset + #k])),
            Shape::Nested(_, c) => {
                let c = c.value();
                quote!(::core::array::from_fn(|#a| ::core::array::from_fn(|#b| #point[#offset + #a * #c + #b])))
            }
            Shape::Vector(len) => {
                let len = len.value();
                quote!({
                    let mut #argument = <#ty>::zeros();
                    for #k in 0..#len {
                        #argument[#k] = #point[#offset + #k];
                    }
                    #argument
                })
            }
            Shape::Matrix(r, c) => {
                let (r, c) = (r.value(), c.value());
                quote!({
                    let mut #argument = <#ty>::zeros();
                    for #a in 0..#r {
                        for #b in 0..#c {
                            #argument[(#a, #b)] = #point[#offset + #a * #c + #b];
                        }
                    }
                    #argument
                })
            }
        };
        build.extend(quote!(let #argument: #ty = #value;));
        let borrows = (0..references).map(|_| quote!(&));
        arguments.push(quote!(#(#borrows)* #argument));
        let label = match &*typed.pat {
            syn::Pat::Ident(pat) => pat.ident.to_string().trim_start_matches("r#").to_owned(),
            other => other.to_token_stream().to_string(),
        };
        let len = input.shape.len().value();
        labels.push(quote!((#label, #len)));
    }

    // The result, flattened: its parts (one, or a tuple's), each at its offset.
    let parts = output_parts(original, translated, signature)?;
    let mut flatten = TokenStream::new();
    let mut offset = Dim::Lit(0);
    for (access, shape, references) in parts {
        let derefs = (0..references).map(|_| quote!(*));
        let part =
            if references == 0 { quote!(#result #access) } else { quote!((#(#derefs)* #result #access)) };
        let at = offset.value();
        flatten.extend(match &shape {
            Shape::Scalar => quote!(#out[#at] = #part;),
            Shape::Array(len) | Shape::Vector(len) => {
                let len = len.value();
                quote!(for #k in 0..#len { #out[#at + #k] = #part[#k]; })
            }
            Shape::Nested(r, c) | Shape::Matrix(r, c) => {
                let (r, c) = (r.value(), c.value());
                let entry =
                    if matches!(shape, Shape::Nested(..)) { quote!([#a][#b]) } else { quote!([(#a, #b)]) };
                quote!(for #a in 0..#r { for #b in 0..#c { #out[#at + #a * #c + #b] = #part #entry; } })
            }
        });
        offset = offset.add(&shape.len());
    }

    let function = &sig.ident;
    let test = test_name(function);
    let jacobian_label = jacobian.to_string().trim_start_matches("r#").to_owned();
    // The user's `cfg`s: a function compiled out takes its test with it.
    let cfgs = original.attrs.iter().filter(|attr| attr.path().is_ident("cfg"));
    Some(quote! {
        #[cfg(test)]
        #(#cfgs)*
        #[::core::prelude::v1::test]
        #[allow(non_snake_case, unused_mut, unused_parens, unused_braces, clippy::all, clippy::pedantic, clippy::nursery)]
        fn #test() {
            #krate::__private::check_jacobian::<#scalar, #columns, #rows>(
                #name,
                #jacobian_label,
                &[#(#labels),*],
                |#point: &[#scalar; #columns]| -> [#scalar; #rows] {
                    #build
                    let #result = #function(#(#arguments),*);
                    let mut #out: [#scalar; #rows] = [0.0; #rows];
                    #flatten
                    #out
                },
                |#point: &[#scalar; #columns]| -> [[#scalar; #columns]; #rows] {
                    #build
                    let #rows_var = #jacobian(#(#arguments),*);
                    ::core::array::from_fn(|#a| ::core::array::from_fn(|#b| #rows_var[(#a, #b)]))
                },
            );
        }
    })
}

/// The type under any number of `&` (and parentheses), and how many `&` there were.
fn dereferenced(ty: &Type) -> (&Type, usize) {
    match ty {
        Type::Reference(reference) => {
            let (inner, n) = dereferenced(&reference.elem);
            (inner, n + 1)
        }
        Type::Paren(inner) => dereferenced(&inner.elem),
        Type::Group(inner) => dereferenced(&inner.elem),
        _ => (ty, 0),
    }
}

/// The result's differentiated parts: how to reach each from the result (`.0` for a tuple's
/// first), its shape, and how many `&` its type has in the user's signature.
fn output_parts(
    original: &ItemFn,
    translated: &ItemFn,
    signature: &Signature,
) -> Option<Vec<(TokenStream, Shape, usize)>> {
    let (ReturnType::Type(_, user), ReturnType::Type(_, ty)) = (&original.sig.output, &translated.sig.output)
    else {
        return None;
    };
    let (user, references) = dereferenced(user);
    match &signature.tuple_output {
        Some(shapes) => {
            let Type::Tuple(tuple) = user else { return None };
            let parts = tuple.elems.iter().zip(shapes).enumerate().map(|(n, (elem, shape))| {
                let n = syn::Index::from(n);
                (quote!(.#n), shape.clone(), dereferenced(elem).1)
            });
            // A reference to a tuple is read through (`(*result).0`) by auto-deref.
            Some(parts.collect())
        }
        None => {
            let (shape, _) = crate::signature::shape_of(ty, &translated.sig.generics)?;
            Some(vec![(TokenStream::new(), shape, references)])
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::tests::expand_str;

    #[test]
    fn the_test_is_an_item_under_cfg_test_beside_the_siblings() {
        let out =
            expand_str("check, name = g", "fn f(x: f64, y: &[f64; 2]) -> [f64; 2] { [x * y[0], y[1]] }");
        assert!(!out.contains("compile_error"), "{out}");
        assert!(out.contains("# [cfg (test)]"), "{out}");
        assert!(out.contains("fn __f_jacobian_check ()"), "{out}");
        assert!(out.contains("check_jacobian :: < f64 , 3 , 2 >"), "{out}");
        assert!(out.contains("\"f\" , \"g\""), "{out}");
        assert!(out.contains("fn g ("), "{out}");
    }

    #[test]
    fn without_check_there_is_no_test() {
        let out = expand_str("", "fn f(x: f64) -> f64 { x * x }");
        assert!(!out.contains("check_jacobian"), "{out}");
    }

    #[test]
    fn refusals_are_errors_with_the_function_kept() {
        for (attr, item, says) in [
            ("check", "fn f(x: f64, n: i32) -> f64 { x.powi(n) }", "`n: i32`"),
            ("check", "fn f<const N: usize>(x: [f64; N]) -> f64 { x[0] }", "generic parameter `N`"),
            ("check", "fn f(&self, x: f64) -> f64 { x }", "cannot test a method"),
        ] {
            let out = expand_str(attr, item);
            assert!(out.contains("compile_error") && out.contains(says), "{out}");
            assert!(out.contains("fn f"), "{out}");
            assert!(!out.contains("check_jacobian"), "{out}");
        }
    }
}
