use jacobian::{jacobian, Vector};

#[jacobian]
fn f(x: Vector<2>, y: Vector<3>) -> f64 {
    (x + y).sum()
}

fn main() {}
