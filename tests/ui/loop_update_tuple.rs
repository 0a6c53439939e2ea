use jacobian::jacobian;

#[jacobian]
fn f(x: f64) -> f64 {
    let mut t = (x, 1.0);
    for _ in 0..3 {
        t = (t.0 * x, t.1 + 1.0);
    }
    t.0
}

fn main() {}
