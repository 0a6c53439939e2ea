use jacobian::{jacobian, Matrix};

#[jacobian]
fn f(m: Matrix<2, 2>) -> f64 {
    m.determinant()
}

fn main() {}
