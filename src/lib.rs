#![no_std]
#![doc = include_str!("lib.md")]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]
// Without `std` there is no `Real` or `norm` for the docs to link to.
#![cfg_attr(not(feature = "std"), allow(rustdoc::broken_intra_doc_links))]

pub use jacobian_macro::{jacobian, Differentiable};
pub use jacobian_runtime::*;

pub mod guide;

/// The README's examples, compiled and run with the crate's doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
