//! The guide: how to use `#[jacobian]`, chapter by chapter. These modules contain only
//! documentation; every example in them is compiled and run as a test.
//!
//! 1. [First steps](first_steps): the dependency, the shape of a Jacobian, `wrt`,
//!    `value`, `name`, generic and `no_std` code, methods, unsupported functions.
//! 2. [Supported syntax](syntax): what a body may contain.
//! 3. [Matrix calculus](matrix_calculus): `Vector` and `Matrix` code, the standard
//!    identities, nalgebra.
//! 4. [Composition](composition): annotated functions calling annotated functions, and
//!    the `crate` option.
//! 5. [Modes](modes): forward and reverse mode, `jvp`, `vjp`.
//! 6. [Second order](second_order): `hessian`, `hvp`, Newton's method.
//! 7. [Sparse Jacobians](sparse): `sparse`, patterns, large sizes, solvers.
//! 8. [Structs](structs): `#[derive(Differentiable)]` structs as parameters and results.
//! 9. [Performance](performance): what the generated code costs, and how to keep it
//!    cheap.
//! 10. [Edge conventions](conventions): what the Jacobian holds where a derivative is
//!     undefined.
//! 11. [Comparison](comparison): finite differences, `num-dual`, `std::autodiff`.

#[doc = include_str!("first_steps.md")]
pub mod first_steps {}

#[doc = include_str!("syntax.md")]
pub mod syntax {}

#[doc = include_str!("matrix_calculus.md")]
pub mod matrix_calculus {}

#[doc = include_str!("composition.md")]
pub mod composition {}

#[doc = include_str!("modes.md")]
pub mod modes {}

#[doc = include_str!("second_order.md")]
pub mod second_order {}

#[doc = include_str!("sparse.md")]
pub mod sparse {}

#[doc = include_str!("structs.md")]
pub mod structs {}

#[doc = include_str!("performance.md")]
pub mod performance {}

#[doc = include_str!("conventions.md")]
pub mod conventions {}

#[doc = include_str!("comparison.md")]
pub mod comparison {}
