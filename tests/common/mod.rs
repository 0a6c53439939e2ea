//! Oracles shared by the integration tests: central finite differences, forward-mode
//! dual numbers from `num-dual`, and a comparison that explains itself when it fails.
//!
//! Only the public surface of `jacobian::Matrix` (`m[(i, j)]`) is used here, so that a
//! change inside the runtime cannot make the oracle agree with it by accident.
#![allow(dead_code)]

use std::fmt::Debug;

use num_dual::{first_derivative, gradient, Dual32, Dual64, DualNumFloat, DualSVec, DualSVec64, HyperDual64};

/// Anything that can be read as a dense, row-major matrix of `f64`.
pub trait Rows {
    fn rows(&self) -> Vec<Vec<f64>>;
}

impl<const M: usize, const N: usize> Rows for jacobian::Matrix<M, N, f64> {
    fn rows(&self) -> Vec<Vec<f64>> {
        (0..M).map(|i| (0..N).map(|j| self[(i, j)]).collect()).collect()
    }
}

impl<const M: usize, const N: usize> Rows for jacobian::Matrix<M, N, f32> {
    fn rows(&self) -> Vec<Vec<f64>> {
        (0..M).map(|i| (0..N).map(|j| f64::from(self[(i, j)])).collect()).collect()
    }
}

impl<const M: usize, const N: usize> Rows for [[f64; N]; M] {
    fn rows(&self) -> Vec<Vec<f64>> {
        self.iter().map(|row| row.to_vec()).collect()
    }
}

impl<const M: usize, const N: usize> Rows for [[f32; N]; M] {
    fn rows(&self) -> Vec<Vec<f64>> {
        self.iter().map(|row| row.iter().map(|&v| f64::from(v)).collect()).collect()
    }
}

impl<const N: usize> Rows for Vec<[f64; N]> {
    fn rows(&self) -> Vec<Vec<f64>> {
        self.iter().map(|row| row.to_vec()).collect()
    }
}

impl Rows for Vec<Vec<f64>> {
    fn rows(&self) -> Vec<Vec<f64>> {
        self.clone()
    }
}

impl<T: Rows + ?Sized> Rows for &T {
    fn rows(&self) -> Vec<Vec<f64>> {
        (**self).rows()
    }
}

fn format_rows(rows: &[Vec<f64>]) -> String {
    let mut out = String::new();
    for row in rows {
        out.push_str("    [");
        for (j, v) in row.iter().enumerate() {
            if j > 0 {
                out.push_str(", ");
            }
            out.push_str(&format!("{v:>24.17e}"));
        }
        out.push_str("]\n");
    }
    out
}

/// `|a - e| <= abs + rel * max(|a|, |e|)`, and both NaN counts as equal.
pub fn close(actual: f64, expected: f64, rel: f64, abs: f64) -> bool {
    if actual.is_nan() || expected.is_nan() {
        return actual.is_nan() && expected.is_nan();
    }
    if actual == expected {
        return true;
    }
    (actual - expected).abs() <= abs + rel * actual.abs().max(expected.abs())
}

/// Compares `actual` with `expected` entry by entry, allowing row `i` an absolute error
/// of `abs(i)`; on failure prints the point, both matrices and every entry that is off.
fn compare(
    what: &str,
    point: &dyn Debug,
    actual: &impl Rows,
    expected: &impl Rows,
    rel: f64,
    abs: impl Fn(usize) -> f64,
) {
    let a = actual.rows();
    let e = expected.rows();
    let shape = |m: &Vec<Vec<f64>>| (m.len(), m.first().map_or(0, Vec::len));
    assert_eq!(
        shape(&a),
        shape(&e),
        "{what}: shapes differ at point {point:?}\nactual:\n{}expected:\n{}",
        format_rows(&a),
        format_rows(&e)
    );
    let mut bad = Vec::new();
    for (i, (ra, re)) in a.iter().zip(&e).enumerate() {
        let abs = abs(i);
        for (j, (&va, &ve)) in ra.iter().zip(re).enumerate() {
            if !close(va, ve, rel, abs) {
                bad.push(format!(
                    "  entry ({i}, {j}) = d out[{i}] / d in[{j}]: actual {va:e}, expected {ve:e}, \
                     diff {:e}, allowed {:e}",
                    (va - ve).abs(),
                    abs + rel * va.abs().max(ve.abs())
                ));
            }
        }
    }
    if !bad.is_empty() {
        panic!(
            "{what} (rel {rel:e})\npoint: {point:?}\nactual:\n{}expected:\n{}{} entr{} off:\n{}",
            format_rows(&a),
            format_rows(&e),
            bad.len(),
            if bad.len() == 1 { "y" } else { "ies" },
            bad.join("\n")
        );
    }
}

/// Asserts that a Jacobian agrees with an oracle to `abs + rel * max(|a|, |e|)` in every
/// entry; on failure prints the point, both matrices and every entry that is off.
pub fn assert_jacobian_close_at(
    point: &dyn Debug,
    actual: &impl Rows,
    expected: &impl Rows,
    rel: f64,
    abs: f64,
) {
    compare("Jacobian differs from the oracle", point, actual, expected, rel, |_| abs);
}

/// [`assert_jacobian_close_at`] without a point to report.
pub fn assert_jacobian_close(actual: &impl Rows, expected: &impl Rows, rel: f64, abs: f64) {
    assert_jacobian_close_at(&"(not given)", actual, expected, rel, abs);
}

/// Like [`assert_jacobian_close_at`] with `rel = tol` and the absolute tolerance of each
/// row scaled by that row's largest expected entry: a derivative that is a sum of large
/// terms of both signs can only agree to rounding relative to those terms, not to their
/// (possibly tiny) sum, and two correct programs may add them in different orders.
pub fn assert_jacobian_close_scaled(point: &dyn Debug, actual: &impl Rows, expected: &impl Rows, tol: f64) {
    let e = expected.rows();
    compare("Jacobian differs from the oracle", point, actual, expected, tol, |i| {
        tol * e[i].iter().fold(1.0f64, |s, v| s.max(v.abs()))
    });
}

/// Largest absolute entry, at least 1.
pub fn scale_of(m: &impl Rows) -> f64 {
    m.rows().iter().flatten().fold(1.0f64, |s, v| s.max(v.abs()))
}

/// Central finite differences, row-major `out × in`, with a step scaled per component:
/// `h_k = 1e-6 * max(1, |x_k|)`. The step actually taken is `(x + h) - (x - h)`, which
/// keeps the representation error of `x ± h` out of the quotient.
pub fn fd_jacobian(f: impl Fn(&[f64]) -> Vec<f64>, x: &[f64]) -> Vec<Vec<f64>> {
    let m = f(x).len();
    let mut jac = vec![vec![0.0; x.len()]; m];
    let mut xp = x.to_vec();
    let mut xm = x.to_vec();
    for k in 0..x.len() {
        let h = 1e-6 * x[k].abs().max(1.0);
        xp[k] = x[k] + h;
        xm[k] = x[k] - h;
        let step = xp[k] - xm[k];
        let fp = f(&xp);
        let fm = f(&xm);
        for i in 0..m {
            jac[i][k] = (fp[i] - fm[i]) / step;
        }
        xp[k] = x[k];
        xm[k] = x[k];
    }
    jac
}

/// Finite differences of a function of a fixed-size array into a fixed-size array.
pub fn fd_jacobian_array<const N: usize, const M: usize>(
    f: impl Fn([f64; N]) -> [f64; M],
    x: [f64; N],
) -> Vec<Vec<f64>> {
    fd_jacobian(|v| f(<[f64; N]>::try_from(v).expect("length")).to_vec(), &x)
}

/// Variables seeded for forward mode with `N` directions at once: variable `k` carries
/// the `k`-th unit vector as its derivative part.
pub fn seed<T: DualNumFloat, const N: usize>(x: [T; N]) -> [DualSVec<T, N>; N] {
    std::array::from_fn(|k| DualSVec::from_re(x[k]).derivative(k))
}

/// The derivative part of `y` with respect to seeded variable `k` (zero when `y` never
/// met a variable).
pub fn eps<T: DualNumFloat, const N: usize>(y: &DualSVec<T, N>, k: usize) -> T {
    y.eps.0.as_ref().map_or(T::zero(), |e| e[k])
}

/// Values and Jacobian of `f` at `x` by forward-mode dual numbers (`DualSVec`, all `N`
/// directions in one pass).
pub fn dual_jacobian<T: DualNumFloat, const N: usize, const M: usize>(
    f: impl FnOnce([DualSVec<T, N>; N]) -> [DualSVec<T, N>; M],
    x: [T; N],
) -> ([T; M], [[T; N]; M]) {
    let y = f(seed(x));
    let values = std::array::from_fn(|i| y[i].re);
    let jac = std::array::from_fn(|i| std::array::from_fn(|k| eps(&y[i], k)));
    (values, jac)
}

/// Value and gradient (as a `1 × N` row) of a scalar function by dual numbers.
pub fn dual_gradient<T: DualNumFloat, const N: usize>(
    f: impl FnOnce([DualSVec<T, N>; N]) -> DualSVec<T, N>,
    x: [T; N],
) -> (T, [[T; N]; 1]) {
    let (value, jac) = dual_jacobian(|v| [f(v)], x);
    (value[0], jac)
}

/// Value and gradient (as a `1 × N` row) of a scalar function through `num_dual::gradient`
/// itself rather than [`seed`]: an independent path to check the seeding against.
///
/// `gradient` takes a nalgebra column vector, and nalgebra is not a dependency of the
/// tests, so the vector is taken from a seeded dual number (`eps` of variable 0 is a
/// column of `N` entries) and overwritten with `x`.
pub fn num_dual_gradient<const N: usize>(
    f: impl Fn([DualSVec64<N>; N]) -> DualSVec64<N>,
    x: [f64; N],
) -> (f64, [[f64; N]; 1]) {
    let mut column =
        DualSVec64::<N>::from_re(0.0).derivative(0).eps.0.expect("a seeded variable has a derivative part");
    for k in 0..N {
        column[k] = x[k];
    }
    let (value, g) = gradient(|v| f(std::array::from_fn(|k| v[k])), &column);
    (value, [std::array::from_fn(|k| g[k])])
}

/// `d f / d x` of a scalar function of one `f64`, as a `1 × 1` matrix.
pub fn dual_derivative(f: impl Fn(Dual64) -> Dual64, x: f64) -> (f64, [[f64; 1]; 1]) {
    let (value, d) = first_derivative(f, x);
    (value, [[d]])
}

/// `d f / d x` of a scalar function of one `f32`, as a `1 × 1` matrix.
pub fn dual_derivative_f32(f: impl Fn(Dual32) -> Dual32, x: f32) -> (f32, [[f32; 1]; 1]) {
    let (value, d) = first_derivative(f, x);
    (value, [[d]])
}

/// Checks that a hand-written dual twin is the same function as the original: the same
/// values, and a Jacobian that finite differences of the original confirm. This keeps a
/// mistake in a twin from passing itself off as a bug in the macro.
pub fn check_twin<const N: usize, const M: usize>(
    point: [f64; N],
    original: impl Fn([f64; N]) -> [f64; M],
    twin_values: [f64; M],
    twin_jacobian: &[[f64; N]; M],
) {
    let values = original(point);
    for i in 0..M {
        assert!(
            close(twin_values[i], values[i], 1e-12, 1e-12),
            "the dual twin is not the original function at {point:?}: output {i} is {} vs {}",
            twin_values[i],
            values[i]
        );
    }
    let fd = fd_jacobian_array(original, point);
    let size = values.iter().fold(scale_of(twin_jacobian), |s, v| s.max(v.abs()));
    compare(
        "the dual twin disagrees with finite differences of the original",
        &point,
        twin_jacobian,
        &fd,
        1e-6,
        |_| 1e-6 * size,
    );
}

/// The Hessian of a scalar twin by hyper-dual numbers, one pair of directions at a time.
pub fn hyper_dual_hessian<const N: usize>(
    x: [f64; N],
    twin: impl Fn([HyperDual64; N]) -> HyperDual64,
) -> [[f64; N]; N] {
    std::array::from_fn(|i| {
        std::array::from_fn(|j| {
            let point = std::array::from_fn(|k| {
                HyperDual64::new(x[k], f64::from(u8::from(k == i)), f64::from(u8::from(k == j)), 0.0)
            });
            twin(point).eps1eps2
        })
    })
}
