//! A banded map: `fᵢ = sin(xᵢ) xᵢ₊₁` for `i < n − 1`, and at the boundary, where there is
//! no `xₙ`, `fₙ₋₁ = sin(xₙ₋₁)` (as if `xₙ = 1`). Its n × n Jacobian is upper bidiagonal:
//! row `i` holds `cos(xᵢ) xᵢ₊₁` on the diagonal and `sin(xᵢ)` just right of it. Sizes 64
//! and 256: the dense Jacobian is what the caller receives, so every variant also writes
//! its n² − 2n + 1 zeros.

#[cfg(feature = "annotations")]
use jacobian::jacobian;
use jacobian::Matrix;
use num_dual::{DualDVec64, DualNum};

use crate::random::Random;
use crate::{differences, duals, Case, Kind};

#[cfg_attr(feature = "annotations", jacobian)]
pub fn banded_sin<const N: usize>(x: [f64; N]) -> [f64; N] {
    let mut f = [0.0; N];
    for i in 0..N - 1 {
        f[i] = x[i].sin() * x[i + 1];
    }
    f[N - 1] = x[N - 1].sin();
    f
}

/// One `sin_cos` per row, the two non-zeros of each row written into a zeroed matrix.
pub fn hand_written<const N: usize>(x: &[f64; N]) -> Matrix<N, N> {
    let mut j = Matrix::<N, N>::zeros();
    for i in 0..N - 1 {
        let (sin, cos) = x[i].sin_cos();
        j[(i, i)] = cos * x[i + 1];
        j[(i, i + 1)] = sin;
    }
    j[(N - 1, N - 1)] = x[N - 1].cos();
    j
}

fn banded_sin_generic<D: DualNum<Primitive = f64> + Copy, const N: usize>(x: &[D; N]) -> [D; N] {
    let mut f = [D::zero(); N];
    for i in 0..N - 1 {
        f[i] = x[i].sin() * x[i + 1];
    }
    f[N - 1] = x[N - 1].sin();
    f
}

/// The same for `DualDVec64`, which is not `Copy`.
fn banded_sin_dynamic(x: &[DualDVec64]) -> Vec<DualDVec64> {
    let n = x.len();
    let mut f: Vec<DualDVec64> = (0..n - 1).map(|i| x[i].sin() * &x[i + 1]).collect();
    f.push(x[n - 1].sin());
    f
}

pub fn num_dual<const N: usize>(x: &[f64; N]) -> Matrix<N, N> {
    duals::jacobian(&banded_sin_generic(&duals::seeded(x)))
}

/// Forward mode with dynamic duals, flattened row-major.
pub fn num_dual_dynamic(x: &[f64]) -> Vec<f64> {
    let n = x.len();
    banded_sin_dynamic(&duals::seeded_dynamic(x)).iter().flat_map(|y| duals::partials_dynamic(y, n)).collect()
}

pub fn central_differences<const N: usize>(x: &[f64; N]) -> Matrix<N, N> {
    differences::jacobian(x, |x| banded_sin(*x))
}

fn case<const N: usize>(seed: u64) -> Case {
    let x: [f64; N] = Random::new(seed).array(-2.0, 2.0);
    let case = Case::new(
        &format!("banded_sin_{N}"),
        "banded map sin(xᵢ)·xᵢ₊₁",
        &format!("n = m = {N}"),
        &format!("Jacobian {N} × {N} (bidiagonal)"),
    )
    .variant(Kind::Function, x, |x| banded_sin(*x))
    .variant(Kind::HandWritten, x, hand_written);
    // `[DualSVec64<256>; 256]` is 528 KB, and the seeded inputs, the outputs and the
    // unoptimised temporaries together overflow the 2 MB stack of a test thread in a debug
    // build: at n = 256 we use dynamic duals, as a num-dual user would.
    let case = if N <= 64 {
        case.variant(Kind::NumDual, x, num_dual)
    } else {
        case.variant(Kind::NumDual, x, |x| num_dual_dynamic(x))
    };
    let case = case.variant(Kind::CentralDifferences, x, central_differences);
    #[cfg(feature = "annotations")]
    let case = case.variant(Kind::Generated, x, |x| banded_sin_jacobian(*x));
    case
}

pub fn cases() -> Vec<Case> {
    vec![case::<64>(0xba_0064), case::<256>(0xba_0256)]
}
