//! Osborne 1 (Moré, Garbow and Hillstrom 1981, problem 17; MINPACK's `ssqfcn`, problem 13):
//! fit `y(t) = x₁ + x₂ e^{−t x₄} + x₃ e^{−t x₅}` to 33 measurements at `tᵢ = 10 i`. The
//! residuals `rᵢ = yᵢ − y(tᵢ)` and their 33 × 5 Jacobian, what a Levenberg–Marquardt step
//! needs, at the standard starting point `(0.5, 1.5, −1, 0.01, 0.02)`.

#[cfg(feature = "annotations")]
use jacobian::jacobian;
use jacobian::Matrix;
use num_dual::DualNum;

use crate::{differences, duals, Case, Kind};

/// The measurements `yᵢ` (MGH 1981, table for problem 17).
const Y: [f64; 33] = [
    0.844, 0.908, 0.932, 0.936, 0.925, 0.908, 0.881, 0.850, 0.818, 0.784, 0.751, 0.718, 0.685, 0.658, 0.628,
    0.603, 0.580, 0.558, 0.538, 0.522, 0.506, 0.490, 0.478, 0.467, 0.457, 0.448, 0.438, 0.431, 0.424, 0.420,
    0.414, 0.411, 0.406,
];

/// The standard starting point of MGH 1981.
const START: [f64; 5] = [0.5, 1.5, -1.0, 0.01, 0.02];

/// The residuals, written as residual functions are written: a loop over the data.
#[cfg_attr(feature = "annotations", jacobian)]
pub fn osborne1(x: [f64; 5]) -> [f64; 33] {
    let mut r = [0.0; 33];
    for i in 0..33 {
        let t = 10.0 * i as f64;
        r[i] = Y[i] - (x[0] + x[1] * (-t * x[3]).exp() + x[2] * (-t * x[4]).exp());
    }
    r
}

/// Row `i` is `(−1, −e₄, −e₅, t x₂ e₄, t x₃ e₅)` with `e₄ = e^{−t x₄}`, `e₅ = e^{−t x₅}`:
/// two `exp` per row, each used twice. (An expert could also replace the `exp`s by the
/// recurrence `e₄ ← e₄ · e^{−10 x₄}`, which the function itself does not do; we keep the
/// function's algorithm.)
pub fn hand_written(x: [f64; 5]) -> Matrix<33, 5> {
    let [_, x2, x3, x4, x5] = x;
    let mut j = [[0.0; 5]; 33];
    for (i, row) in j.iter_mut().enumerate() {
        let t = 10.0 * i as f64;
        let e4 = (-t * x4).exp();
        let e5 = (-t * x5).exp();
        *row = [-1.0, -e4, -e5, t * x2 * e4, t * x3 * e5];
    }
    Matrix::from_rows(j)
}

fn osborne1_generic<D: DualNum<Primitive = f64> + Copy>(x: [D; 5]) -> [D; 33] {
    let mut r = [D::zero(); 33];
    for i in 0..33 {
        let t = 10.0 * i as f64;
        r[i] = -(x[0] + x[1] * (x[3] * -t).exp() + x[2] * (x[4] * -t).exp()) + Y[i];
    }
    r
}

pub fn num_dual(x: [f64; 5]) -> Matrix<33, 5> {
    duals::jacobian(&osborne1_generic(duals::seeded(&x)))
}

pub fn central_differences(x: [f64; 5]) -> Matrix<33, 5> {
    differences::jacobian(&x, |x| osborne1(*x))
}

pub fn cases() -> Vec<Case> {
    let x = START;
    let case = Case::new("osborne1", "Osborne 1 residuals", "n = 5, m = 33", "Jacobian 33 × 5")
        .variant(Kind::Function, x, |x| osborne1(*x))
        .variant(Kind::HandWritten, x, |x| hand_written(*x))
        .variant(Kind::NumDual, x, |x| num_dual(*x))
        .variant(Kind::CentralDifferences, x, |x| central_differences(*x));
    #[cfg(feature = "annotations")]
    let case = case.variant(Kind::Generated, x, |x| osborne1_jacobian(*x));
    vec![case]
}
