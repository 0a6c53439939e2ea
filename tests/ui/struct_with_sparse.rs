use jacobian::{jacobian, Differentiable};

#[derive(Clone, Copy, Differentiable)]
struct State {
    p: [f64; 2],
    m: f64,
}

#[jacobian(sparse)]
fn weight(s: State) -> [f64; 2] {
    [s.p[0] * s.m, s.p[1] * s.m]
}

fn main() {}
