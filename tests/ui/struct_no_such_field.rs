use jacobian::{jacobian, Differentiable};

#[derive(Clone, Copy, Differentiable)]
struct State {
    p: [f64; 2],
    m: f64,
}

#[jacobian]
fn step(s: State) -> State {
    State { p: s.p, m: s.m, q: 1.0 }
}

fn main() {}
