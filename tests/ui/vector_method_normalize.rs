use jacobian::{jacobian, Vector};

#[jacobian]
fn f(x: Vector<3>) -> Vector<3> {
    x.normalize()
}

fn main() {}
