use jacobian::{jacobian, Vector};

#[jacobian]
fn f(x: Vector<2>) -> f64 {
    let (a, b) = x;
    a * b
}

fn main() {}
