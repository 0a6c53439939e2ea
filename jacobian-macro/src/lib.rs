//! The `#[jacobian]` attribute, the procedural macro behind
//! [`jacobian-ad`](https://docs.rs/jacobian-ad): it reads a Rust function while it
//! compiles and writes siblings that return its Jacobian, gradient, Hessian, or products
//! with them, as straight-line Rust.
//!
//! Depend on `jacobian-ad` rather than on this crate: generated code names the runtime
//! types as `::jacobian::Matrix` and so on, which `jacobian-ad` (whose library is named
//! `jacobian`) provides, and its documentation holds the guide. The attribute's
//! reference is [`macro@jacobian`].
//!
//! Inside, the macro is a small compiler. `options` and `signature` read the attribute
//! and the function; `sparse` writes the `sparse` option's siblings; `front` lowers the body to the typed IR of `ir`; `opt` optimises
//! it; `forward` and `reverse` write the derivative into it with the rules of `rules` and
//! the activity of `analysis`; `emit` prints Rust; `expand` runs the stages and assembles
//! the siblings. Every refusal of unsupported code is a spanned error from `front`. See
//! `ARCHITECTURE.md` at the repository root.
#![warn(missing_docs)]

mod analysis;
mod callees;
mod check;
mod derive;
mod diagnostics;
mod doc;
mod emit;
mod expand;
mod forward;
mod front;
#[cfg(test)]
mod fuzz_tests;
mod ir;
mod nalgebra;
mod opt;
mod options;
mod reverse;
mod rules;
mod shape;
mod signature;
#[cfg(test)]
mod snapshots;
mod sparse;
mod structs;
mod symmetric;
#[cfg(test)]
mod tests;

use proc_macro::TokenStream;

/// Differentiates the annotated function at compile time: keeps it as written and adds
/// `{name}_jacobian` beside it, with the same visibility, generics, `where` clause and
/// parameters, returning the Jacobian as a `Matrix<M, N, T>`.
///
/// ```
/// use jacobian::{jacobian, Matrix};
///
/// #[jacobian]
/// fn f(x: f64, y: f64) -> [f64; 2] {
///     [x + y, x * y]
/// }
///
/// let j: Matrix<2, 2> = f_jacobian(-1.0, 2.0);
/// assert_eq!(j, Matrix::from_rows([[1.0, 1.0], [2.0, -1.0]]));
/// ```
///
/// Row `i` of the Jacobian is output component `i`, column `k` the `k`-th
/// differentiated input component. Inputs are numbered in parameter order; an array,
/// vector or matrix parameter contributes all its components, and an array, vector,
/// matrix or tuple result all of its own (matrices row-major). A scalar output gives
/// `Matrix<1, N>` (its `.transpose()` is the gradient); a scalar input and vector output
/// gives `Matrix<M, 1>`.
///
/// Differentiable parameter and result types, by value or `&`: `f64`, `f32`, a generic
/// `T: jacobian::Real`, `[T; N]`, `[[T; C]; R]`, `Vector<N, T>`, `Matrix<R, C, T>`, and
/// nalgebra's `SVector`/`SMatrix` and aliases, with sizes that are literals, `const`
/// items or const generics; tuples of them as results. One scalar type per function.
///
/// # Options
///
/// Written unquoted, in any combination and order: `#[jacobian(wrt(x), value, hessian)]`.
/// `N` is the number of differentiated input components (the Jacobian's columns), `M`
/// the number of output components (its rows).
///
/// | option | effect |
/// | --- | --- |
/// | `wrt(a, b, …)` | differentiate only these parameters; every other parameter is a constant of any type |
/// | `value` | also `{name}_value_and_jacobian(…) -> (output, Matrix<M, N, T>)`, with the shared work done once |
/// | `name = other` | name the Jacobian sibling `other` instead of `{name}_jacobian` |
/// | `crate = path` | where generated code finds the runtime (default `::jacobian`), as serde's `crate = …` |
/// | `jvp` | also `{name}_jvp(…, v: Vector<N, T>) -> (output, Vector<M, T>)`: the value and J·v, without forming J |
/// | `vjp` | also `{name}_vjp(…, u: Vector<M, T>) -> (output, Vector<N, T>)`: the value and Jᵀ·u, without forming J |
/// | `hessian` | (scalar output) also `{name}_hessian(…) -> Matrix<N, N, T>`; with `value`, also `{name}_value_gradient_hessian(…) -> (output, Matrix<1, N, T>, Matrix<N, N, T>)` |
/// | `hvp` | (scalar output) also `{name}_hvp(…, v: Vector<N, T>) -> Vector<N, T>`: H·v without forming H |
/// | `mode = forward`, `mode = reverse` | how the Jacobian is computed; by default the macro chooses |
/// | `sparse` | also `{name}_jacobian_sparse(…) -> Sparse<[T; NNZ]>` (or `Sparse<Vec<T>>` for const-generic sizes): the entries that can be non-zero only, in the order of `{name}_jacobian_pattern() -> Pattern`, which evaluates nothing (see the guide's chapter on sparse Jacobians) |
/// | `check` | also a `#[cfg(test)]` unit test `__{name}_jacobian_check` comparing `{name}_jacobian` with central differences at fixed points (below) |
///
/// ```
/// use jacobian::{jacobian, Vector};
///
/// #[jacobian(wrt(x), value, vjp, hessian)]
/// fn weighted(x: [f64; 2], w: &[f64; 2]) -> f64 {
///     w[0] * x[0].sin() + w[1] * x[0] * x[1]
/// }
///
/// let (x, w) = ([0.0, 2.0], [3.0, 0.5]);
/// let (value, j) = weighted_value_and_jacobian(x, &w);
/// assert_eq!(value, weighted(x, &w));
/// assert_eq!(j.as_rows(), &[[4.0, 0.0]]);
/// let (_, gradient) = weighted_vjp(x, &w, Vector::from([1.0]));
/// assert_eq!(gradient, j.transpose());
/// assert_eq!(weighted_hessian(x, &w).as_rows(), &[[0.0, 0.5], [0.5, 0.0]]);
/// ```
///
/// With `check`, the user's own `cargo test` runs a generated `#[test]` that evaluates
/// `{name}_jacobian` at 4 fixed points (pseudo-random components of magnitude in
/// `[0.1, 0.9) ∪ [1.1, 1.4)`, either sign: never 0 or near an integer) and compares each
/// entry with the central difference quotient of the function, step
/// `h = cbrt(ε)·max(1, |x_k|)`, within a tolerance scaled by the entry, the function's
/// value and the quotient's own truncation error; a failure names the point, the entry, the
/// generated value and the quotient. A point where the function is not finite is retried
/// with its absolute values. The test invents values only for differentiated parameters,
/// so `check` is a compile error on a method, a generic function or a function with a
/// constant parameter (test those by hand); and a function whose derivative jumps near a
/// test point (`abs`, `min`/`max`, `floor`, a branch on a differentiated value) can fail it.
///
/// ```
/// use jacobian::jacobian;
///
/// #[jacobian(check)]
/// fn polar(r: f64, theta: f64) -> [f64; 2] {
///     [r * theta.cos(), r * theta.sin()]
/// }
/// // `cargo test` now also runs `__polar_jacobian_check`.
/// # let _ = polar_jacobian(1.0, 0.5);
/// ```
///
/// The body may contain what numeric Rust contains: `let mut`, loops, branches, early
/// returns, iterator chains, closures, float methods, `Vector`/`Matrix` operations and
/// calls to other annotated functions; the guide in `jacobian-ad`'s documentation lists
/// it all. Anything else is a compile error at the offending code, and the original
/// function is always emitted.
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

/// Makes a struct a differentiable parameter and result type of `#[jacobian]` functions:
/// implements `jacobian::Differentiable` (its number of components, and the conversions to
/// and from one column of them, in field order). Fields are `f64` or `f32`, arrays
/// `[T; N]` and `[[T; C]; R]`, `Vector<N, T>` or `Matrix<R, C, T>`, with one scalar type and
/// sizes that are literals or `const` items; the struct has named fields and no generics.
/// `#[differentiable(crate = path)]` names the runtime where it is not `::jacobian`.
///
/// ```
/// use jacobian::{jacobian, Differentiable, Vector};
///
/// #[derive(Clone, Copy, Debug, PartialEq, Differentiable)]
/// struct Body {
///     position: [f64; 2],
///     mass: f64,
/// }
///
/// #[jacobian]
/// fn momentum(b: Body, speed: f64) -> [f64; 2] {
///     [b.mass * speed * b.position[0], b.mass * speed * b.position[1]]
/// }
///
/// let b = Body { position: [1.0, 2.0], mass: 3.0 };
/// let j = momentum_jacobian(b, 0.5);
/// // Columns: position[0], position[1], mass, speed.
/// assert_eq!(j.as_rows(), &[[1.5, 0.0, 0.5, 3.0], [0.0, 1.5, 1.0, 6.0]]);
/// assert_eq!(Body::from_components(&b.to_components()), b);
/// assert_eq!(b.to_components(), Vector::from([1.0, 2.0, 3.0]));
/// ```
#[proc_macro_derive(Differentiable, attributes(differentiable))]
pub fn derive_differentiable(item: TokenStream) -> TokenStream {
    let item = proc_macro2::TokenStream::from(item);
    match std::panic::catch_unwind(move || derive::derive(item)) {
        Ok(tokens) => tokens.into(),
        Err(_) => syn::Error::new(
            proc_macro2::Span::call_site(),
            "internal error in `#[derive(Differentiable)]`; please report this struct to the jacobian issue tracker",
        )
        .to_compile_error()
        .into(),
    }
}
