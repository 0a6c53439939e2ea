//! Runtime types for `jacobian`. (Being written.)
#![no_std]
#[cfg(feature = "std")]
extern crate std;

#[doc(hidden)]
pub mod __private;
