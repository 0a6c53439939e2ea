use jacobian::{jacobian, Matrix, Vector};

#[jacobian]
fn rotation(t: f64) -> Matrix<2, 2> {
    Matrix::from_rows([[t.cos(), -t.sin()], [t.sin(), t.cos()]])
}

#[jacobian]
fn f(t: f64, x: Vector<2>) -> Vector<2> {
    rotation(t) * x
}

fn main() {}
