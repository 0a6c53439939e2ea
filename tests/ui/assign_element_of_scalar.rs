use jacobian::jacobian;

#[jacobian]
fn f(x: f64) -> f64 {
    let mut y = x;
    y[0] = x;
    y
}

fn main() {}
