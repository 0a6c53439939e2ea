use jacobian::{jacobian, Differentiable};

#[derive(Clone, Copy, Differentiable)]
struct State {
    p: [f64; 2],
    m: f64,
}

fn kinetic(s: &State) -> f64 {
    s.m * (s.p[0] * s.p[0] + s.p[1] * s.p[1])
}

// A differentiable struct parameter is taken apart into its fields: the body reads fields.
#[jacobian]
fn energy(s: State) -> f64 {
    kinetic(&s) + s.m
}

fn main() {}
