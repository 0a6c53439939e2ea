use jacobian::Differentiable;

#[derive(Differentiable)]
enum Mode {
    Fast,
    Slow,
}

fn main() {}
