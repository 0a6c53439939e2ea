use jacobian::{jacobian, Matrix};

// The callee's signature is out of the macro's sight (made by another macro, as it would
// be in another file): the caller cannot tell the type of its result.
macro_rules! elsewhere {
    ($($item:item)*) => { $($item)* };
}

elsewhere! {
    #[jacobian]
    fn rotation(t: f64) -> Matrix<2, 2> {
        Matrix::from_rows([[t.cos(), -t.sin()], [t.sin(), t.cos()]])
    }
}

#[jacobian]
fn f(t: f64) -> Matrix<2, 2> {
    rotation(t).transpose()
}

fn main() {}
