use jacobian::Differentiable;

#[derive(Differentiable)]
struct Cloud {
    points: Vec<f64>,
    weight: f64,
}

fn main() {}
