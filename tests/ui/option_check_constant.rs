use jacobian::jacobian;

#[jacobian(check)]
fn f(x: f64, n: i32, w: &[f64]) -> f64 {
    x.powi(n) * w[0]
}

fn main() {}
