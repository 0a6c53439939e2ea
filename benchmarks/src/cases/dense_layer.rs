//! A dense neural-network layer `y = tanh(W x + b)` and its Jacobian with respect to the
//! input `x` (weights and biases constant), for n = m = 4, 16 and 64: the suite's port of
//! the criterion benchmark `benches/dense_layer.rs`.

#[cfg(feature = "annotations")]
use jacobian::jacobian;
use jacobian::{Matrix, Vector};
use num_dual::DualNum;

use crate::random::Random;
use crate::{differences, duals, Case, Kind};

/// The layer, written with the matrix types.
#[cfg_attr(feature = "annotations", jacobian(wrt(x)))]
pub fn layer<const N: usize>(w: &Matrix<N, N>, b: &Vector<N>, x: Vector<N>) -> Vector<N> {
    (w * x + b).map(f64::tanh)
}

/// What an expert writes: the slopes `sᵢ = 1 − tanh(zᵢ)²` with `zᵢ = Wᵢ·x + bᵢ` in a first
/// pass, then `J = diag(s) W` (the rows of `W` scaled by `s`) built in a second pass,
/// straight into the result. Of the forms we measured under callgrind (one fused pass
/// into a zeroed matrix, as in `benches/common`; `w * x + b` then scaling a copy of `W` in
/// place; this one), this one took the fewest instructions at n = 4 and 16 (11% fewer than
/// the fused pass at n = 16) and was within 2% of the fused pass at n = 64.
pub fn hand_written<const N: usize>(w: &Matrix<N, N>, b: &Vector<N>, x: &Vector<N>) -> Matrix<N, N> {
    let w = w.as_rows();
    let mut s = [0.0; N];
    for ((s_i, w_row), b_i) in s.iter_mut().zip(w).zip(b.as_rows()) {
        let mut z = b_i[0];
        for (w_ik, x_k) in w_row.iter().zip(x.as_rows()) {
            z += w_ik * x_k[0];
        }
        let t = z.tanh();
        *s_i = 1.0 - t * t;
    }
    Matrix::from_rows(std::array::from_fn(|i| std::array::from_fn(|k| s[i] * w[i][k])))
}

fn layer_generic<D: DualNum<Primitive = f64> + Copy, const N: usize>(
    w: &Matrix<N, N>,
    b: &Vector<N>,
    x: &[D; N],
) -> [D; N] {
    let w = w.as_rows();
    std::array::from_fn(|i| {
        let mut z = D::from(b[i]);
        for (x_k, w_ik) in x.iter().zip(&w[i]) {
            z += *x_k * *w_ik;
        }
        z.tanh()
    })
}

pub fn num_dual<const N: usize>(w: &Matrix<N, N>, b: &Vector<N>, x: &Vector<N>) -> Matrix<N, N> {
    duals::jacobian(&layer_generic(w, b, &duals::seeded(&x.as_array())))
}

pub fn central_differences<const N: usize>(w: &Matrix<N, N>, b: &Vector<N>, x: &Vector<N>) -> Matrix<N, N> {
    differences::jacobian(&x.as_array(), |x| layer(w, b, Vector::from(*x)).as_array())
}

/// Fixed inputs: entries uniform in `[−1, 1)`, `W` scaled by `1/√N` so that `W x + b`
/// stays where tanh is not flat.
fn inputs<const N: usize>(seed: u64) -> (Matrix<N, N>, Vector<N>, Vector<N>) {
    let mut random = Random::new(seed);
    let scale = 1.0 / (N as f64).sqrt();
    let w: [[f64; N]; N] = std::array::from_fn(|_| random.array(-1.0, 1.0).map(|w: f64| w * scale));
    let b: [f64; N] = random.array(-1.0, 1.0);
    let x: [f64; N] = random.array(-1.0, 1.0);
    (Matrix::from_rows(w), Vector::from(b), Vector::from(x))
}

fn case<const N: usize>(seed: u64) -> Case {
    let input = inputs::<N>(seed);
    let case = Case::new(
        &format!("dense_layer_{N}"),
        "dense layer tanh(W x + b)",
        &format!("n = m = {N}"),
        &format!("Jacobian {N} × {N}"),
    )
    .variant(Kind::Function, input, |(w, b, x)| layer(w, b, *x))
    .variant(Kind::HandWritten, input, |(w, b, x)| hand_written(w, b, x))
    .variant(Kind::NumDual, input, |(w, b, x)| num_dual(w, b, x))
    .variant(Kind::CentralDifferences, input, |(w, b, x)| central_differences(w, b, x));
    #[cfg(feature = "annotations")]
    let case = case.variant(Kind::Generated, input, |(w, b, x)| layer_jacobian(w, b, *x));
    case
}

pub fn cases() -> Vec<Case> {
    vec![case::<4>(0xd1_0004), case::<16>(0xd1_0016), case::<64>(0xd1_0064)]
}
