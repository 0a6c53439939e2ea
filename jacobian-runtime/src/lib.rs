//! The `no_std` matrix types behind [`jacobian-ad`](https://docs.rs/jacobian-ad), the
//! `#[jacobian]` attribute that writes Jacobians, gradients and Hessians of Rust
//! functions at compile time.
//!
//! `#[jacobian]` returns its Jacobians as [`Matrix<M, N, T>`](Matrix): row `i` holds
//! the derivatives of output component `i`, column `k` those with respect to input
//! component `k`. Generated code also uses [`Vector`] parameters and results, the
//! [`Scalar`] and [`Real`] traits, and the operations here (`*`, `transpose`,
//! `dot`, `norm`, `map`, …), whose names follow nalgebra. Users of the attribute
//! depend on `jacobian-ad`, which re-exports everything here as `jacobian::Matrix`
//! and so on; depend on this crate directly only to use the types without the macro,
//! or to point generated code at it with `#[jacobian(crate = ::jacobian_runtime)]`.
//!
//! The types are usable on their own too: a [`Matrix`] is a plain `[[T; C]; R]`
//! array on the stack, `Copy`, with arithmetic for every mix of values and
//! references and nothing allocated anywhere.
//!
//! ```
//! use jacobian_runtime::{Matrix, Vector};
//!
//! let j = Matrix::from_rows([[1.0, 1.0], [2.0, -1.0]]);
//! let step = j * Vector::from([0.5, 0.25]);
//! assert_eq!(step, Vector::from([0.75, 0.75]));
//! assert_eq!(j.determinant(), -3.0);
//!
//! // A Newton step for J·Δ = r, by LU with partial pivoting, on the stack.
//! let delta = j.solve(&Vector::from([3.0, 0.0])).unwrap();
//! assert_eq!(delta, Vector::from([1.0, 2.0]));
//! ```
//!
//! # Features
//!
//! - `std` (default): the [`Real`] trait with the float functions of `f32`/`f64`,
//!   and [`Matrix::norm`] and [`Matrix::normalize`]. Without it the crate needs only
//!   `core`.
//! - `approx` (default): `approx` 0.5's `AbsDiffEq`, `RelativeEq` and `UlpsEq` for
//!   [`Matrix`], so that `approx::assert_relative_eq!(j, expected, max_relative =
//!   1e-12)` compares Jacobians.
//! - `nalgebra`: `From` conversions both ways between [`Matrix`] and nalgebra's
//!   `SMatrix` (0.35), to hand a Jacobian to nalgebra's decompositions.
//! - `alloc` (with `std`): [`Sparse`] Jacobians of const-generic size hold their values
//!   in a `Vec` (see [`Sparse`]), and [`Pattern::csc_order`] and the like.
//! - `nalgebra-sparse`: [`Sparse::to_coo`], [`Sparse::to_csc`] and [`Sparse::to_csr`],
//!   nalgebra-sparse 0.12's matrices, to hand a sparse Jacobian to its solvers.
#![no_std]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]
// Without `std` there is no `Real` or `norm` for the crate docs above to link to.
#![cfg_attr(not(feature = "std"), allow(rustdoc::broken_intra_doc_links))]
#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

#[cfg(feature = "approx")]
mod approx_impls;
mod differentiable;
mod fmt;
mod linalg;
mod matrix;
#[cfg(feature = "nalgebra")]
mod nalgebra_impls;
mod ops;
mod scalar;
mod solve;
mod sparse;

#[doc(hidden)]
#[allow(missing_docs)]
pub mod __private;

pub use differentiable::Differentiable;
pub use matrix::{Matrix, Vector};
#[cfg(feature = "std")]
pub use scalar::Real;
pub use scalar::Scalar;
pub use sparse::{Pattern, PatternIter, Segment, Sparse, Values};
