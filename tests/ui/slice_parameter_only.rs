use jacobian::jacobian;

#[jacobian]
fn sqnorm(x: &[f64]) -> f64 {
    x.iter().map(|v| v * v).sum()
}

fn main() {}
