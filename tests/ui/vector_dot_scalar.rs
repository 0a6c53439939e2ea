use jacobian::{jacobian, Vector};

#[jacobian]
fn f(x: Vector<3>, y: f64) -> f64 {
    x.dot(&y)
}

fn main() {}
