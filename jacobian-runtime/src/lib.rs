//! Runtime types for `jacobian`. (Being written.)
#![no_std]
#![warn(missing_docs)]
#[cfg(feature = "std")]
extern crate std;

mod scalar;

#[doc(hidden)]
pub mod __private;

#[cfg(feature = "std")]
pub use scalar::Real;
pub use scalar::Scalar;
