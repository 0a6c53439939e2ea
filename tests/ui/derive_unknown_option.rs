use jacobian::Differentiable;

#[derive(Differentiable)]
#[differentiable(krate = ::jacobian)]
struct State {
    p: [f64; 2],
}

fn main() {}
