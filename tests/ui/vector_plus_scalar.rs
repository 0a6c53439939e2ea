use jacobian::{jacobian, Vector};

#[jacobian]
fn f(x: Vector<3>, c: f64) -> Vector<3> {
    x + c
}

fn main() {}
