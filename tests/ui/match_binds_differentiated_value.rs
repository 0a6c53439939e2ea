use jacobian::jacobian;

#[jacobian]
fn f(x: f64, y: f64) -> f64 {
    match (x, y) {
        (a, b) => a * b,
    }
}

fn main() {}
