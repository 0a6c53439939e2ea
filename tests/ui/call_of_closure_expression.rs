use jacobian::jacobian;

#[jacobian]
fn f(x: f64) -> f64 {
    (|t: f64| t * 2.0)(x)
}

fn main() {}
