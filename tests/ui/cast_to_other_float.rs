use jacobian::jacobian;

// A differentiated function computes in one scalar type: a cast of a differentiated value
// to another float type would lose its derivative, so it is refused.
#[jacobian]
fn f(x: f64) -> f64 {
    let y = x as f32;
    (y * 2.0) as f64
}

fn main() {}
