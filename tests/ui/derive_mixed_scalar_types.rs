use jacobian::Differentiable;

#[derive(Differentiable)]
struct Mixed {
    a: f64,
    b: [f32; 2],
}

fn main() {}
