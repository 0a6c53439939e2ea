use jacobian::jacobian;

#[jacobian(name)]
fn f(x: f64) -> f64 {
    x * x
}

fn main() {}
