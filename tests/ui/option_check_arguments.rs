use jacobian::jacobian;

#[jacobian(check(with = points))]
fn f(x: f64) -> f64 {
    x * x
}

fn main() {}
