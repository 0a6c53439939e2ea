use jacobian::{jacobian, Matrix};

#[jacobian]
fn f(x: f64, y: f64) -> Matrix<2, 2> {
    let top = [x, y];
    let bottom = [y, x];
    Matrix::from_rows([top, bottom])
}

fn main() {}
