use jacobian::jacobian;

#[jacobian(check, value, check)]
fn f(x: f64) -> f64 {
    x * x
}

fn main() {}
