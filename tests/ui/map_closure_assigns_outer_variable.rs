use jacobian::{jacobian, Vector};

#[jacobian]
fn f(x: Vector<3>) -> f64 {
    let mut last = 0.0;
    let y = x.map(|t| {
        last = t;
        2.0 * t
    });
    y.sum() + last
}

fn main() {}
