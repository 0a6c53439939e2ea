//! Seeding and reading `num-dual` numbers for the `num_dual` variants: static vector duals
//! (`DualSVec64<N>`, N partials on the stack) for Jacobians, dynamic ones (`DualDVec64`,
//! partials on the heap) where N is too large for the stack; second-order vector duals
//! (`Dual2SVec64<N>`: value, N partials and the N × N second partials) for Hessians.

use jacobian::Matrix;
use num_dual::{Dual2DVec64, Dual2SVec64, DualDVec64, DualSVec64};

/// The inputs as independent variables: component `k` has unit partial `k`.
pub fn seeded<const N: usize>(x: &[f64; N]) -> [DualSVec64<N>; N] {
    std::array::from_fn(|k| DualSVec64::from_re(x[k]).derivative(k))
}

/// The partials of `y` (zeros when it does not depend on the inputs).
pub fn partials<const N: usize>(y: &DualSVec64<N>) -> [f64; N] {
    y.eps.0.as_ref().map_or([0.0; N], |e| std::array::from_fn(|k| e[k]))
}

/// The Jacobian whose rows are the partials of the outputs.
pub fn jacobian<const M: usize, const N: usize>(y: &[DualSVec64<N>; M]) -> Matrix<M, N> {
    Matrix::from_rows(std::array::from_fn(|i| partials(&y[i])))
}

/// The inputs as independent variables, with dynamically sized partials.
pub fn seeded_dynamic(x: &[f64]) -> Vec<DualDVec64> {
    x.iter().enumerate().map(|(k, &v)| DualDVec64::from_re(v).derivative(x.len(), k)).collect()
}

/// The `n` partials of `y`.
pub fn partials_dynamic(y: &DualDVec64, n: usize) -> Vec<f64> {
    y.eps.0.as_ref().map_or_else(|| vec![0.0; n], |e| e.iter().copied().collect())
}

/// The inputs as independent variables of second-order duals, seeded as
/// `num_dual::hessian` seeds them (unit first partial `k`, no second partials), on the heap:
/// one `Dual2SVec64<N>` holds its N × N second partials inline (32 KB at N = 64), so N of
/// them would not fit a thread's stack.
pub fn seeded2<const N: usize>(x: &[f64; N]) -> Vec<Dual2SVec64<N>> {
    x.iter().enumerate().map(|(k, &v)| Dual2SVec64::from_re(v).derivative(k)).collect()
}

/// The second partials of `y` (zeros when it has none).
pub fn hessian<const N: usize>(y: &Dual2SVec64<N>) -> Matrix<N, N> {
    match y.v2.0.as_ref() {
        Some(h) => Matrix::from_rows(std::array::from_fn(|i| std::array::from_fn(|j| h[(i, j)]))),
        None => Matrix::zeros(),
    }
}

/// The inputs as independent variables of second-order duals with dynamically sized
/// partials (gradient and Hessian on the heap).
pub fn seeded2_dynamic<const N: usize>(x: &[f64; N]) -> Vec<Dual2DVec64> {
    x.iter().enumerate().map(|(k, &v)| Dual2DVec64::from_re(v).derivative(N, k)).collect()
}

/// The N × N second partials of `y` (zeros when it has none).
pub fn hessian_dynamic<const N: usize>(y: &Dual2DVec64) -> Matrix<N, N> {
    match y.v2.0.as_ref() {
        Some(h) => Matrix::from_rows(std::array::from_fn(|i| std::array::from_fn(|j| h[(i, j)]))),
        None => Matrix::zeros(),
    }
}
