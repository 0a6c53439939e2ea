use jacobian::jacobian;

#[jacobian(value, value)]
fn f(x: f64) -> f64 {
    x * x
}

fn main() {}
