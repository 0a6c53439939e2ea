use jacobian::{jacobian, Vector};

#[jacobian]
fn f(x: f64) -> Vector<1> {
    Vector::from(x)
}

fn main() {}
