//! A second struct of the same name, in a file of its own.

#[derive(Clone, Copy, jacobian::Differentiable)]
pub struct Twin {
    pub w: [f64; 2],
}
