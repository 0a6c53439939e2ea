use jacobian::jacobian;

#[jacobian]
fn f(x: f64) -> f64 {
    let mut y = 3.0 * x;
    y %= 1.0;
    y
}

fn main() {}
