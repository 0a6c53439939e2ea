use jacobian::jacobian;

#[jacobian]
fn f(x: f64) -> f64 {
    2.0f64.powi(x as i32)
}

fn main() {}
