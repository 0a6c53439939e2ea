use jacobian::{jacobian, Vector};

#[jacobian]
fn f(x: Vector<3>) -> Vector<3> {
    x.map(|_| 1.0) + x
}

fn main() {}
