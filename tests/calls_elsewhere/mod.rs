//! Helpers of `tests/calls.rs` in a module of their own file: the macro reads their
//! signatures from here (the files beside the caller's).

use jacobian::{jacobian, Vector};

/// Annotated, in another file: a caller needs no annotation for its result type.
#[jacobian]
pub fn elsewhere_polar(r: f64, theta: f64) -> Vector<2> {
    Vector::from([r * theta.cos(), r * theta.sin()])
}
