//! The dense layer `y = tanh(W x + b)` and four ways to get its Jacobian with respect to
//! `x`, shared by the criterion benchmark (`dense_layer`) and the callgrind driver
//! (`callgrind_layer`).

use jacobian::{jacobian, Matrix, Vector};
use num_dual::{DualNum, DualSVec64};

/// The layer, and through the attribute its generated sibling `layer_jacobian(&w, &b, x)`.
#[jacobian(wrt(x))]
pub fn layer<const N: usize>(w: &Matrix<N, N>, b: &Vector<N>, x: Vector<N>) -> Vector<N> {
    (w * x + b).map(f64::tanh)
}

/// What an expert writes by hand: `z = W x + b`, `s_i = 1 - tanh(z_i)²`,
/// `J[i][j] = s_i W[i][j]` (the rows of `W` scaled by `s`).
pub fn hand_layer_jacobian<const N: usize>(w: &Matrix<N, N>, b: &Vector<N>, x: Vector<N>) -> Matrix<N, N> {
    let w = w.as_rows();
    let mut j = [[0.0; N]; N];
    for (row, (w_row, b_i)) in j.iter_mut().zip(w.iter().zip(b.as_rows())) {
        let mut z = 0.0;
        for (w_ik, x_k) in w_row.iter().zip(x.as_rows()) {
            z += w_ik * x_k[0];
        }
        let t = (z + b_i[0]).tanh();
        let s = 1.0 - t * t;
        for (j_ik, w_ik) in row.iter_mut().zip(w_row) {
            *j_ik = s * w_ik;
        }
    }
    Matrix::from_rows(j)
}

/// The layer written once for any `num_dual` number type (`f64` included).
pub fn layer_generic<D: DualNum<Primitive = f64> + Copy, const N: usize>(
    w: &Matrix<N, N>,
    b: &Vector<N>,
    x: &[D; N],
) -> [D; N] {
    let w = w.as_rows();
    std::array::from_fn(|i| {
        let mut z = D::zero();
        for (x_k, w_ik) in x.iter().zip(&w[i]) {
            z += *x_k * *w_ik;
        }
        (z + b[i]).tanh()
    })
}

/// Forward mode with num-dual: one pass of `layer_generic` on `DualSVec64<N>` numbers seeded
/// with the unit vectors gives every column of the Jacobian at once.
pub fn num_dual_layer_jacobian<const N: usize>(
    w: &Matrix<N, N>,
    b: &Vector<N>,
    x: Vector<N>,
) -> Matrix<N, N> {
    let xd: [DualSVec64<N>; N] = std::array::from_fn(|k| DualSVec64::from_re(x[k]).derivative(k));
    let y = layer_generic(w, b, &xd);
    let mut j = [[0.0; N]; N];
    for (row, y_i) in j.iter_mut().zip(&y) {
        if let Some(eps) = &y_i.eps.0 {
            for (k, j_ik) in row.iter_mut().enumerate() {
                *j_ik = eps[k];
            }
        }
    }
    Matrix::from_rows(j)
}

/// Central finite differences, `2 N` evaluations of the original `layer`.
pub fn fd_layer_jacobian<const N: usize>(w: &Matrix<N, N>, b: &Vector<N>, x: Vector<N>) -> Matrix<N, N> {
    let mut j = [[0.0; N]; N];
    for k in 0..N {
        let h = 1e-6 * x[k].abs().max(1.0);
        let (mut xp, mut xm) = (x, x);
        xp[k] += h;
        xm[k] -= h;
        let (yp, ym) = (layer(w, b, xp), layer(w, b, xm));
        let step = xp[k] - xm[k];
        for (i, row) in j.iter_mut().enumerate() {
            row[k] = (yp[i] - ym[i]) / step;
        }
    }
    Matrix::from_rows(j)
}

/// Random but fixed inputs: a 64-bit LCG (Knuth's MMIX constants), entries uniform in
/// `[-1, 1)`, `W` scaled by `1/√N` so that `W x + b` stays in tanh's non-flat range.
pub fn inputs<const N: usize>(seed: u64) -> (Matrix<N, N>, Vector<N>, Vector<N>) {
    let mut state = seed;
    let mut next = move || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    };
    let scale = 1.0 / (N as f64).sqrt();
    let w: [[f64; N]; N] = std::array::from_fn(|_| std::array::from_fn(|_| next() * scale));
    let b: [f64; N] = std::array::from_fn(|_| next());
    let x: [f64; N] = std::array::from_fn(|_| next());
    (Matrix::from_rows(w), Vector::from(b), Vector::from(x))
}

/// Largest absolute difference between two matrices.
pub fn max_abs_diff<const N: usize>(a: &Matrix<N, N>, b: &Matrix<N, N>) -> f64 {
    a.as_rows()
        .iter()
        .flatten()
        .zip(b.as_rows().iter().flatten())
        .map(|(p, q)| (p - q).abs())
        .fold(0.0, f64::max)
}

/// Checks, outside any timing, that every variant computes the same Jacobian (the analytic
/// ones to 1e-10, finite differences to 1e-6) and that it is not trivially zero. Panics
/// otherwise, so a benchmark can never silently measure wrong code.
pub fn check_agreement<const N: usize>(w: &Matrix<N, N>, b: &Vector<N>, x: Vector<N>) {
    let hand = hand_layer_jacobian(w, b, x);
    let generated = layer_jacobian(w, b, x);
    let dual = num_dual_layer_jacobian(w, b, x);
    let fd = fd_layer_jacobian(w, b, x);
    let y = layer(w, b, x);
    let y_generic = layer_generic::<f64, N>(w, b, &x.as_array());
    let norm = hand.as_rows().iter().flatten().map(|v| v.abs()).fold(0.0, f64::max);
    assert!(norm > 1e-3, "n = {N}: the hand-written Jacobian is (nearly) zero: {norm}");
    for (name, j, tol) in
        [("generated", &generated, 1e-10), ("num-dual", &dual, 1e-10), ("finite differences", &fd, 1e-6)]
    {
        let d = max_abs_diff(&hand, j);
        assert!(d <= tol, "n = {N}: {name} differs from the hand-written Jacobian by {d:e} (> {tol:e})");
    }
    for i in 0..N {
        assert!((y[i] - y_generic[i]).abs() <= 1e-12, "n = {N}: layer and layer_generic differ at {i}");
    }
}
