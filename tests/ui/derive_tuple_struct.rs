use jacobian::Differentiable;

#[derive(Differentiable)]
struct Point(f64, f64);

fn main() {}
