use jacobian::{jacobian, Matrix, Vector};

/// `Matrix::identity()` shows no size; rustc infers it from the product's use, which the
/// macro cannot see.
#[jacobian]
fn f(x: Vector<2>) -> Vector<2> {
    Matrix::identity() * x[0] * x
}

fn main() {}
