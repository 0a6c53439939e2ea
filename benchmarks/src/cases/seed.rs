//! The seed: f(x, y) = (x + y, xy), whose Jacobian at (-1, 2) is [[1, 1], [2, -1]].

#[cfg(feature = "annotations")]
use jacobian::jacobian;
use jacobian::Matrix;
use num_dual::DualNum;

use crate::{differences, duals, Case, Kind};

#[cfg_attr(feature = "annotations", jacobian)]
pub fn f(x: f64, y: f64) -> [f64; 2] {
    [x + y, x * y]
}

pub fn hand_written(x: f64, y: f64) -> Matrix<2, 2> {
    Matrix::from_rows([[1.0, 1.0], [y, x]])
}

fn f_generic<D: DualNum<Primitive = f64> + Copy>(x: D, y: D) -> [D; 2] {
    [x + y, x * y]
}

pub fn num_dual(x: f64, y: f64) -> Matrix<2, 2> {
    let [x, y] = duals::seeded(&[x, y]);
    duals::jacobian(&f_generic(x, y))
}

pub fn central_differences(x: f64, y: f64) -> Matrix<2, 2> {
    differences::jacobian(&[x, y], |&[x, y]| f(x, y))
}

pub fn cases() -> Vec<Case> {
    let point = (-1.0, 2.0);
    let case = Case::new("seed", "seed f(x, y) = (x + y, xy)", "n = m = 2", "Jacobian 2 × 2")
        .variant(Kind::Function, point, |&(x, y)| f(x, y))
        .variant(Kind::HandWritten, point, |&(x, y)| hand_written(x, y))
        .variant(Kind::NumDual, point, |&(x, y)| num_dual(x, y))
        .variant(Kind::CentralDifferences, point, |&(x, y)| central_differences(x, y));
    #[cfg(feature = "annotations")]
    let case = case.variant(Kind::Generated, point, |&(x, y)| f_jacobian(x, y));
    vec![case]
}
