use jacobian::jacobian;

fn checked(v: f64) -> Option<f64> {
    (v > 0.0).then_some(v)
}

#[jacobian]
fn f(x: f64) -> f64 {
    let y = checked(x)?;
    y * x
}

fn main() {}
