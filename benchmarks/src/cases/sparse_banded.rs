//! The banded map of `banded.rs`, `fᵢ = sin(xᵢ) xᵢ₊₁` (and `fₙ₋₁ = sin(xₙ₋₁)`), at
//! n = 10,000, its Jacobian sparse: the 2n − 1 values of the upper bidiagonal, the main
//! diagonal first and then the one above it (the order of
//! `banded_map_jacobian_pattern()`). The dense Jacobian would be 800 MB. Every variant
//! returns those values in that order, in a `Vec`: the generated `_jacobian_sparse`
//! sibling, a hand-written fill, and num-dual and central differences with the two-colour
//! column compression a user of either would write for a bidiagonal matrix (even columns
//! in one direction, odd in the other: no row has two columns of one colour).

#[cfg(feature = "annotations")]
use jacobian::jacobian;
use num_dual::{DualNum, DualSVec64};

use crate::differences;
use crate::random::Random;
use crate::{Case, Flat, Kind};

const N: usize = 10_000;

#[cfg_attr(feature = "annotations", jacobian(sparse))]
pub fn banded_map<const N: usize>(x: [f64; N]) -> [f64; N] {
    let mut f = [0.0; N];
    for i in 0..N - 1 {
        f[i] = x[i].sin() * x[i + 1];
    }
    f[N - 1] = x[N - 1].sin();
    f
}

impl<V: jacobian::Values<Scalar = f64>> Flat for jacobian::Sparse<V> {
    fn flatten_into(&self, out: &mut Vec<f64>) {
        out.extend_from_slice(self.values());
    }
}

/// One `sin_cos` per row, each value written once, straight into its place.
pub fn hand_written(x: &[f64; N]) -> Vec<f64> {
    let mut values = vec![0.0; 2 * N - 1];
    let (diagonal, above) = values.split_at_mut(N);
    for i in 0..N - 1 {
        let (sin, cos) = x[i].sin_cos();
        diagonal[i] = cos * x[i + 1];
        above[i] = sin;
    }
    diagonal[N - 1] = x[N - 1].cos();
    values
}

/// Forward mode with two partials: `x_k` seeded with the unit partial of its colour `k % 2`.
pub fn num_dual(x: &[f64; N]) -> Vec<f64> {
    let seeded: Vec<DualSVec64<2>> =
        x.iter().enumerate().map(|(k, &v)| DualSVec64::from_re(v).derivative(k % 2)).collect();
    let partial = |y: &DualSVec64<2>, colour: usize| y.eps.0.as_ref().map_or(0.0, |e| e[colour]);
    let mut values = vec![0.0; 2 * N - 1];
    for i in 0..N {
        let y = if i + 1 < N { seeded[i].sin() * seeded[i + 1] } else { seeded[i].sin() };
        values[i] = partial(&y, i % 2);
        if i + 1 < N {
            values[N + i] = partial(&y, (i + 1) % 2);
        }
    }
    values
}

/// Central differences along the two colours' directions (4 evaluations).
pub fn central_differences(x: &[f64; N]) -> Vec<f64> {
    let mut values = vec![0.0; 2 * N - 1];
    let mut shifted = Box::new(*x);
    for colour in 0..2 {
        let step = |k: usize| if k % 2 == colour { differences::step(x[k]) } else { 0.0 };
        for k in 0..N {
            shifted[k] = x[k] + step(k);
        }
        let plus = banded_map(*shifted);
        for k in 0..N {
            shifted[k] = x[k] - step(k);
        }
        let minus = banded_map(*shifted);
        for i in 0..N {
            // Row i's column of this colour: i or i + 1.
            let (column, at) = if i % 2 == colour { (i, i) } else { (i + 1, N + i) };
            if column < N {
                values[at] = (plus[i] - minus[i]) / (2.0 * step(column));
            }
        }
    }
    values
}

pub fn cases() -> Vec<Case> {
    let x: Box<[f64; N]> = Box::new(Random::new(0x0005_ba01_0000).array(-2.0, 2.0));
    let case = Case::new(
        "sparse_banded_sin_10000",
        "banded map sin(xᵢ)·xᵢ₊₁, sparse",
        "n = m = 10,000",
        "sparse Jacobian, 19,999 values (bidiagonal)",
    )
    .note("num-dual and central differences with two-colour column compression")
    .target(Kind::HandWritten, 1.5)
    .variant(Kind::Function, x.clone(), |x| banded_map(**x))
    .variant(Kind::HandWritten, x.clone(), |x| hand_written(x))
    .variant(Kind::NumDual, x.clone(), |x| num_dual(x))
    .variant(Kind::CentralDifferences, x.clone(), |x| central_differences(x));
    #[cfg(feature = "annotations")]
    let case = case.variant(Kind::Generated, x, |x| banded_map_jacobian_sparse(**x));
    vec![case]
}
