use jacobian::{jacobian, Vector};

#[jacobian]
fn f(x: Vector<3>, y: Vector<3>) -> Vector<3> {
    x / y
}

fn main() {}
