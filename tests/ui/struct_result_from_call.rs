use jacobian::{jacobian, Differentiable};

#[derive(Clone, Copy, Differentiable)]
struct State {
    p: [f64; 2],
    m: f64,
}

fn make(p: [f64; 2], m: f64) -> State {
    State { p, m }
}

// A struct result is built where the macro sees its fields.
#[jacobian]
fn step(s: State, dt: f64) -> State {
    make([s.p[0] + dt, s.p[1]], s.m)
}

fn main() {}
