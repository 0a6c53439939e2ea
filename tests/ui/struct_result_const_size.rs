use jacobian::{jacobian, Differentiable};

const N: usize = 3;

#[derive(Clone, Copy, Differentiable)]
struct Weights {
    w: [f64; N],
}

// A struct result's components are counted when the macro runs: literal sizes only.
#[jacobian]
fn scaled(x: f64) -> Weights {
    Weights { w: [x, 2.0 * x, 3.0 * x] }
}

fn main() {}
