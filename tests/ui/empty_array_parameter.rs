use jacobian::jacobian;

// An empty array has nothing to differentiate: its Jacobian block would have no columns.
#[jacobian]
fn f(x: [f64; 0], y: f64) -> f64 {
    x.len() as f64 * y
}

fn main() {}
