use jacobian::{jacobian, Vector};

#[jacobian]
fn f(x: Vector<3>) -> f64 {
    x.dot()
}

fn main() {}
