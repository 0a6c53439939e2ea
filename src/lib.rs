#![no_std]
#![doc = include_str!("../README.md")]

pub use jacobian_macro::jacobian;
pub use jacobian_runtime::*;
