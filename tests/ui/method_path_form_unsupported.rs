use jacobian::jacobian;

#[jacobian]
fn f(x: f64) -> f64 {
    f64::copysign(x, -1.0)
}

fn main() {}
