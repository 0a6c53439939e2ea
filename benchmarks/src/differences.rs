//! Central differences, the baseline every case measures: `2n` evaluations of the function,
//! each input moved by `h = ε^{1/3} · max(|x_k|, 1)` (the step that balances truncation,
//! O(h²), against cancellation, O(ε/h)). Inputs are moved in place and restored, so no
//! copy of the point is made per evaluation.

use jacobian::Matrix;

/// The step for an input of magnitude `x`.
#[inline]
pub fn step(x: f64) -> f64 {
    6.055_454_452_393_343e-6 * x.abs().max(1.0)
}

/// The Jacobian of `f: R^N → R^M` at `x`.
pub fn jacobian<const M: usize, const N: usize>(
    x: &[f64; N],
    f: impl Fn(&[f64; N]) -> [f64; M],
) -> Matrix<M, N> {
    let mut x = *x;
    let mut j = [[0.0; N]; M];
    for k in 0..N {
        let (plus, minus, width) = around(&mut x, k, |x| f(x));
        for (row, (p, m)) in j.iter_mut().zip(plus.iter().zip(&minus)) {
            row[k] = (p - m) / width;
        }
    }
    Matrix::from_rows(j)
}

/// The gradient of `f: R^N → R` at `x`, as the 1 × N Jacobian.
pub fn gradient<const N: usize>(x: &[f64; N], f: impl Fn(&[f64; N]) -> f64) -> Matrix<1, N> {
    let mut x = *x;
    let mut g = Matrix::<1, N>::zeros();
    for k in 0..N {
        let (plus, minus, width) = around(&mut x, k, |x| f(x));
        g[(0, k)] = (plus - minus) / width;
    }
    g
}

/// The Hessian of a function whose gradient `g` is known, by central differences of the
/// gradient: column `k` from `g` at `x ± h e_k` (2N gradients). Not symmetrised: entries
/// (i, k) and (k, i) come from different columns and differ by the truncation error.
pub fn hessian<const N: usize>(x: &[f64; N], g: impl Fn(&[f64; N]) -> Matrix<1, N>) -> Matrix<N, N> {
    let mut x = *x;
    let mut h = Matrix::<N, N>::zeros();
    for k in 0..N {
        let (plus, minus, width) = around(&mut x, k, |x| g(x));
        for i in 0..N {
            h[(i, k)] = (plus[(0, i)] - minus[(0, i)]) / width;
        }
    }
    h
}

/// The gradient of a function of a flat parameter slice (for cases whose parameters are
/// several arrays, packed and unpacked by the case).
pub fn gradient_of_slice(x: &[f64], f: impl Fn(&[f64]) -> f64) -> Vec<f64> {
    let mut x = x.to_vec();
    (0..x.len())
        .map(|k| {
            let (plus, minus, width) = around(&mut x, k, |x| f(x));
            (plus - minus) / width
        })
        .collect()
}

/// `f` at `x` with component `k` moved up and down by its step, and the distance between
/// the two points as actually represented; `x` is left as it was.
fn around<X: AsMut<[f64]> + ?Sized, Y>(x: &mut X, k: usize, f: impl Fn(&X) -> Y) -> (Y, Y, f64) {
    let centre = x.as_mut()[k];
    let h = step(centre);
    x.as_mut()[k] = centre + h;
    let plus = f(x);
    let up = x.as_mut()[k];
    x.as_mut()[k] = centre - h;
    let minus = f(x);
    let width = up - x.as_mut()[k];
    x.as_mut()[k] = centre;
    (plus, minus, width)
}
