use jacobian::jacobian;

#[jacobian]
fn f(x: f64, y: f64) -> f64 {
    x.hypot(y, 1.0)
}

fn main() {}
