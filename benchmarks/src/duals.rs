//! Seeding and reading `num-dual` numbers for the `num_dual` variants: static vector duals
//! (`DualSVec64<N>`, N partials on the stack) for Jacobians, dynamic ones (`DualDVec64`,
//! partials on the heap) where N is too large for the stack.

use jacobian::Matrix;
use num_dual::{DualDVec64, DualSVec64};

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
