use jacobian::jacobian;

#[jacobian]
fn f(x: f64, _: ...) -> f64 {
    x * x
}

fn main() {}
