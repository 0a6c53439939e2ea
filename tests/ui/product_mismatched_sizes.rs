use jacobian::{jacobian, Matrix, Vector};

#[jacobian(wrt(x))]
fn f(w: Matrix<2, 3>, x: Vector<2>) -> Vector<2> {
    w * x
}

fn main() {}
