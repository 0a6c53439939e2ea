use jacobian::jacobian;

#[jacobian]
fn f(x: f64) -> f64 {
    x.clamp(0.0, 1.0)
}

fn main() {}
