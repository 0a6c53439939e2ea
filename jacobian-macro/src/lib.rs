//! The `#[jacobian]` attribute: a small compiler. `options` and `signature` read the
//! attribute and the function; `front` lowers the body to the typed IR of `ir`; `opt`
//! optimises it; `forward` writes the derivative into it with the rules of `rules` and the
//! activity of `analysis`; `emit` prints Rust; `expand` runs the stages and assembles the
//! siblings. What the new front end does not take yet goes through `legacy`. See
//! `ARCHITECTURE.md` at the repository root.

mod analysis;
mod diagnostics;
mod emit;
mod expand;
mod forward;
mod front;
#[cfg(test)]
mod fuzz_tests;
mod ir;
mod legacy;
mod nalgebra;
mod opt;
mod options;
mod reverse;
mod rules;
mod shape;
mod signature;
#[cfg(test)]
mod snapshots;
mod symmetric;
#[cfg(test)]
mod tests;

use proc_macro::TokenStream;

/// Generates `{name}_jacobian`, the analytic Jacobian of the annotated function, as
/// straight-line Rust beside it. See the crate `jacobian` for the options and the
/// supported syntax.
#[proc_macro_attribute]
pub fn jacobian(attr: TokenStream, item: TokenStream) -> TokenStream {
    let (attr, item) = (proc_macro2::TokenStream::from(attr), proc_macro2::TokenStream::from(item));
    let fallback = item.clone();
    // The macro reports problems as `compile_error!`; a panic would be a bug, and even then
    // the user gets a message at the attribute and their function back.
    match std::panic::catch_unwind(move || expand::expand(attr, item)) {
        Ok(tokens) => tokens.into(),
        Err(_) => {
            let error = syn::Error::new(
                proc_macro2::Span::call_site(),
                "internal error in `#[jacobian]`; please report this function to the jacobian issue tracker",
            )
            .to_compile_error();
            quote::quote!(#error #fallback).into()
        }
    }
}
