use jacobian::{jacobian, Matrix};

fn rows(x: f64) -> [[f64; 2]; 2] {
    [[x, 0.0], [0.0, x]]
}

#[jacobian]
fn f(x: f64) -> Matrix<2, 2> {
    Matrix::from_rows(rows(x))
}

fn main() {}
