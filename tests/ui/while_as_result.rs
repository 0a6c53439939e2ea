use jacobian::jacobian;

#[jacobian]
fn f(x: f64) -> f64 {
    let mut y = x;
    while y < 10.0 {
        y *= 2.0;
    }
}

fn main() {}
