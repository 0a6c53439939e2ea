//! A module of `struct_defined_twice.rs`.

#[derive(Clone, Copy, jacobian::Differentiable)]
pub struct Twin {
    pub v: f64,
}
