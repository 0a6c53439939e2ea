//! The `no_std` matrix types behind `jacobian`.
//!
//! `#[jacobian]` returns its Jacobians as [`Matrix<M, N, T>`](Matrix): row `i` holds
//! the derivatives of output component `i`, column `k` those with respect to input
//! component `k`. Generated code also uses [`Vector`] parameters and results, the
//! [`Scalar`] and [`Real`] traits, and the operations here (`*`, `transpose`,
//! `dot`, `norm`, `map`, …), whose names follow nalgebra.
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
//! ```
//!
//! # Features
//!
//! - `std` (default): the [`Real`] trait with the float functions of `f32`/`f64`,
//!   and [`Matrix::norm`]. Without it the crate needs only `core`.
//! - `approx` (default): `approx` 0.5's `AbsDiffEq`, `RelativeEq` and `UlpsEq` for
//!   [`Matrix`].
//! - `nalgebra`: conversions to and from nalgebra's `SMatrix`.
#![no_std]
#![warn(missing_docs)]
// Without `std` there is no `Real` or `norm` for the crate docs above to link to.
#![cfg_attr(not(feature = "std"), allow(rustdoc::broken_intra_doc_links))]
#[cfg(feature = "std")]
extern crate std;

#[cfg(feature = "approx")]
mod approx_impls;
mod fmt;
mod linalg;
mod matrix;
#[cfg(feature = "nalgebra")]
mod nalgebra_impls;
mod ops;
mod scalar;
mod solve;

#[doc(hidden)]
pub mod __private;

pub use matrix::{Matrix, Vector};
#[cfg(feature = "std")]
pub use scalar::Real;
pub use scalar::Scalar;
