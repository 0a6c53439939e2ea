use jacobian::{jacobian, Vector};

// Second order does not take vectors and matrices yet.
#[jacobian(hessian)]
fn f(x: Vector<3>) -> f64 {
    x.norm_squared()
}

fn main() {}
