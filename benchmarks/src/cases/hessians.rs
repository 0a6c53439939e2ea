//! Second order: dense Hessians of three scalar functions by `#[jacobian(hessian)]` (forward
//! mode over the reverse sweep), against their closed forms, num-dual's second-order vector
//! dual numbers and central differences of the hand-written gradient. A Hessian is another
//! kind of derivative than the Jacobians and gradients of the other cases, so these cases
//! have their own table in `BENCHMARKS.md` ([`Case::second_order`]).
//!
//! - the chained Rosenbrock function at n = 100: a tridiagonal Hessian in a dense
//!   100 × 100 matrix (the question is what forward over reverse pays for the zeros);
//! - a quadratic form xᵀAx plus Σ exp(x_i) at n = 16, A a fixed random symmetric matrix:
//!   a dense Hessian 2A + diag(exp(x)) that is mostly constant;
//! - log-sum-exp at n = 64, written as careful users write it (a running maximum, then a sum
//!   of `exp` shifted by it): the dense Hessian diag(p) − p pᵀ, p = softmax(x).
//!
//! The functions take their sizes as literals (`[f64; 100]`), as the targets do, and
//! are written with indexed loops, as users of arrays write them.

// Indexed loops are the style measured (the annotated functions) and the clearest for the
// closed forms.
#![allow(clippy::needless_range_loop)]

#[cfg(feature = "annotations")]
use jacobian::jacobian;
use jacobian::Matrix;
use num_dual::DualNum;

use crate::random::Random;
use crate::{differences, duals, Case, Kind};

// ---------------------------------------------------------------------------------------
// Chained Rosenbrock, n = 100

/// The chained Rosenbrock function as `rosenbrock.rs` writes it, at a literal size.
#[cfg_attr(feature = "annotations", jacobian(hessian))]
pub fn rosenbrock_100(x: &[f64; 100]) -> f64 {
    let mut f = 0.0;
    for i in 0..99 {
        f += 100.0 * (x[i + 1] - x[i].powi(2)).powi(2) + (1.0 - x[i]).powi(2);
    }
    f
}

/// The gradient by hand (as `rosenbrock::hand_written`), for central differences.
fn rosenbrock_gradient(x: &[f64; 100]) -> Matrix<1, 100> {
    crate::cases::rosenbrock::hand_written(x)
}

/// The tridiagonal Hessian, filled into a dense matrix: with `t_i = x_{i+1} − x_i²`, term i
/// contributes `1200 x_i² − 400 x_{i+1} + 2` to entry (i, i), `200` to (i + 1, i + 1) and
/// `−400 x_i` to (i, i + 1) and (i + 1, i). Each entry written once; the zeros are the
/// matrix's initialisation.
pub fn rosenbrock_hand_written(x: &[f64; 100]) -> Matrix<100, 100> {
    let mut h = Matrix::<100, 100>::zeros();
    let rows = h.as_rows_mut();
    for i in 0..100 {
        let mut diagonal = if i > 0 { 200.0 } else { 0.0 };
        if i < 99 {
            diagonal += 1200.0 * x[i] * x[i] - 400.0 * x[i + 1] + 2.0;
            let off = -400.0 * x[i];
            rows[i][i + 1] = off;
            rows[i + 1][i] = off;
        }
        rows[i][i] = diagonal;
    }
    h
}

/// The dual-number twin (clones, so that it serves the static duals, which are `Copy`, and
/// the dynamic ones, which are not).
fn rosenbrock_generic<D: DualNum<Primitive = f64>>(x: &[D]) -> D {
    let mut f = D::zero();
    for i in 0..x.len() - 1 {
        f += (x[i + 1].clone() - x[i].powi(2)).powi(2) * 100.0 + (D::one() - &x[i]).powi(2);
    }
    f
}

/// Second-order duals with dynamically sized partials: 79.4 million instructions per
/// Hessian against 100.9 million for static ones (`Dual2SVec64<100>`, seeded on the heap:
/// each number holds its 100 × 100 second partials inline, 80 KB copied per operation).
fn rosenbrock_num_dual(x: &[f64; 100]) -> Matrix<100, 100> {
    duals::hessian_dynamic(&rosenbrock_generic(&duals::seeded2_dynamic(x)))
}

// ---------------------------------------------------------------------------------------
// Quadratic form plus a smooth term, n = 16

/// xᵀAx + Σ exp(x_i), A symmetric and a constant, written with arrays and loops.
#[cfg_attr(feature = "annotations", jacobian(wrt(x), hessian))]
pub fn quadratic_16(x: &[f64; 16], a: &[[f64; 16]; 16]) -> f64 {
    let mut s = 0.0;
    for i in 0..16 {
        for j in 0..16 {
            s += x[i] * a[i][j] * x[j];
        }
    }
    for i in 0..16 {
        s += x[i].exp();
    }
    s
}

/// The gradient (A + Aᵀ) x + exp(x) = 2Ax + exp(x), for central differences.
fn quadratic_gradient(x: &[f64; 16], a: &[[f64; 16]; 16]) -> Matrix<1, 16> {
    Matrix::from_rows([std::array::from_fn(|i| {
        let mut s = 0.0;
        for j in 0..16 {
            s += a[i][j] * x[j];
        }
        2.0 * s + x[i].exp()
    })])
}

/// 2A + diag(exp(x)): one product per entry, one `exp` per row.
pub fn quadratic_hand_written(x: &[f64; 16], a: &[[f64; 16]; 16]) -> Matrix<16, 16> {
    let mut h = [[0.0; 16]; 16];
    for i in 0..16 {
        for j in 0..16 {
            h[i][j] = 2.0 * a[i][j];
        }
        h[i][i] += x[i].exp();
    }
    Matrix::from_rows(h)
}

/// The dual-number twin.
fn quadratic_generic<D: DualNum<Primitive = f64>>(x: &[D], a: &[[f64; 16]; 16]) -> D {
    let mut s = D::zero();
    for i in 0..16 {
        for j in 0..16 {
            s += x[i].clone() * a[i][j] * &x[j];
        }
    }
    for xi in x {
        s += xi.exp();
    }
    s
}

/// Static second-order duals (`Dual2SVec64<16>`): 1.72 million instructions per Hessian
/// against 1.96 million for dynamic ones.
fn quadratic_num_dual(x: &[f64; 16], a: &[[f64; 16]; 16]) -> Matrix<16, 16> {
    duals::hessian(&quadratic_generic(&duals::seeded2(x), a))
}

// ---------------------------------------------------------------------------------------
// Log-sum-exp, n = 64

/// log Σ exp(x_i), with the largest entry subtracted so that no `exp` overflows.
#[cfg_attr(feature = "annotations", jacobian(hessian))]
pub fn log_sum_exp_64(x: &[f64; 64]) -> f64 {
    let mut largest = x[0];
    for i in 1..64 {
        largest = largest.max(x[i]);
    }
    let mut total = 0.0;
    for i in 0..64 {
        total += (x[i] - largest).exp();
    }
    largest + total.ln()
}

/// p = softmax(x), by the same shift.
fn softmax(x: &[f64; 64]) -> [f64; 64] {
    let largest = x.iter().fold(f64::NEG_INFINITY, |m, &t| m.max(t));
    let mut p = [0.0; 64];
    let mut total = 0.0;
    for (pi, xi) in p.iter_mut().zip(x) {
        *pi = (xi - largest).exp();
        total += *pi;
    }
    let scale = 1.0 / total;
    for pi in &mut p {
        *pi *= scale;
    }
    p
}

/// The gradient p, for central differences.
fn log_sum_exp_gradient(x: &[f64; 64]) -> Matrix<1, 64> {
    Matrix::from_rows([softmax(x)])
}

/// diag(p) − p pᵀ: 64 `exp`s and one division for p, then one product per entry.
pub fn log_sum_exp_hand_written(x: &[f64; 64]) -> Matrix<64, 64> {
    let p = softmax(x);
    let mut h = [[0.0; 64]; 64];
    for i in 0..64 {
        for j in 0..64 {
            h[i][j] = -p[i] * p[j];
        }
        h[i][i] += p[i];
    }
    Matrix::from_rows(h)
}

/// The dual-number twin (the running maximum by comparison of real parts: `DualNum` has
/// no `max`).
fn log_sum_exp_generic<D: DualNum<Primitive = f64>>(x: &[D]) -> D {
    let mut largest = x[0].clone();
    for xi in &x[1..] {
        if xi.re() > largest.re() {
            largest = xi.clone();
        }
    }
    let mut total = D::zero();
    for xi in x {
        total += (xi.clone() - &largest).exp();
    }
    largest + total.ln()
}

/// Second-order duals with dynamically sized partials: 3.27 million instructions per
/// Hessian against 3.55 million for static ones (`Dual2SVec64<64>`).
fn log_sum_exp_num_dual(x: &[f64; 64]) -> Matrix<64, 64> {
    duals::hessian_dynamic(&log_sum_exp_generic(&duals::seeded2_dynamic(x)))
}

// ---------------------------------------------------------------------------------------
// The cases

pub fn cases() -> Vec<Case> {
    vec![rosenbrock_case(), quadratic_case(), log_sum_exp_case()]
}

fn rosenbrock_case() -> Case {
    let x: [f64; 100] = Random::new(0x4E55_0100).array(-1.5, 1.5);
    let case = Case::new(
        "rosenbrock_hessian_100",
        "chained Rosenbrock",
        "n = 100",
        "Hessian 100 × 100 (tridiagonal, dense result)",
    )
    .second_order()
    .target(Kind::Function, 10.0)
    .variant(Kind::Function, x, rosenbrock_100)
    .variant(Kind::HandWritten, x, rosenbrock_hand_written)
    .variant(Kind::NumDual, x, rosenbrock_num_dual)
    .variant(Kind::CentralDifferences, x, |x| differences::hessian(x, rosenbrock_gradient));
    #[cfg(feature = "annotations")]
    let case = case.variant(Kind::Generated, x, rosenbrock_100_hessian);
    case
}

fn quadratic_case() -> Case {
    let mut random = Random::new(0x4E55_0016);
    let mut a = [[0.0; 16]; 16];
    for i in 0..16 {
        for j in i..16 {
            let aij = random.normal();
            a[i][j] = aij;
            a[j][i] = aij;
        }
    }
    let x: [f64; 16] = random.array(-1.0, 1.0);
    let input = (x, a);
    let case = Case::new(
        "quadratic_hessian_16",
        "quadratic form xᵀAx + Σ exp(xᵢ)",
        "n = 16",
        "Hessian 16 × 16 (dense)",
    )
    .second_order()
    .target(Kind::HandWritten, 1.5)
    .variant(Kind::Function, input, |(x, a)| quadratic_16(x, a))
    .variant(Kind::HandWritten, input, |(x, a)| quadratic_hand_written(x, a))
    .variant(Kind::NumDual, input, |(x, a)| quadratic_num_dual(x, a))
    .variant(Kind::CentralDifferences, input, |(x, a)| differences::hessian(x, |x| quadratic_gradient(x, a)));
    #[cfg(feature = "annotations")]
    let case = case.variant(Kind::Generated, input, |(x, a)| quadratic_16_hessian(x, a));
    case
}

fn log_sum_exp_case() -> Case {
    let x: [f64; 64] = std::array::from_fn({
        let mut random = Random::new(0x4E55_0064);
        move |_| 2.0 * random.normal()
    });
    let case = Case::new("log_sum_exp_hessian_64", "log-sum-exp", "n = 64", "Hessian 64 × 64 (dense)")
        .second_order()
        .target(Kind::HandWritten, 1.5)
        .variant(Kind::Function, x, log_sum_exp_64)
        .variant(Kind::HandWritten, x, log_sum_exp_hand_written)
        .variant(Kind::NumDual, x, log_sum_exp_num_dual)
        .variant(Kind::CentralDifferences, x, |x| differences::hessian(x, log_sum_exp_gradient));
    #[cfg(feature = "annotations")]
    let case = case.variant(Kind::Generated, x, log_sum_exp_64_hessian);
    case
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Flat;

    /// The closed forms are the Hessians: against central differences of the function
    /// itself (not of the hand-written gradients the `central` variants difference).
    #[test]
    fn closed_forms_against_second_differences_of_the_functions() {
        fn second_differences<const N: usize>(x: &[f64; N], f: impl Fn(&[f64; N]) -> f64) -> Vec<f64> {
            let h = 1e-4;
            let mut out = Vec::new();
            for i in 0..N {
                for j in 0..N {
                    let at = |di: f64, dj: f64| {
                        let mut y = *x;
                        y[i] += di;
                        y[j] += dj;
                        f(&y)
                    };
                    out.push((at(h, h) - at(h, -h) - at(-h, h) + at(-h, -h)) / (4.0 * h * h));
                }
            }
            out
        }
        fn close(got: &[f64], expected: &[f64], tolerance: f64) {
            let scale = 1.0 + expected.iter().fold(0.0_f64, |m, e| m.max(e.abs()));
            for (k, (g, e)) in got.iter().zip(expected).enumerate() {
                assert!((g - e).abs() <= tolerance * scale, "entry {k}: {g} vs {e}");
            }
        }
        let x: [f64; 16] = Random::new(7).array(-1.0, 1.0);
        let mut random = Random::new(8);
        let a: [[f64; 16]; 16] = {
            let mut a = [[0.0; 16]; 16];
            for i in 0..16 {
                for j in i..16 {
                    a[i][j] = random.normal();
                    a[j][i] = a[i][j];
                }
            }
            a
        };
        close(&quadratic_hand_written(&x, &a).flat(), &second_differences(&x, |x| quadratic_16(x, &a)), 1e-5);
        let x: [f64; 100] = Random::new(9).array(-1.5, 1.5);
        close(&rosenbrock_hand_written(&x).flat(), &second_differences(&x, rosenbrock_100), 1e-5);
        let x: [f64; 64] = Random::new(10).array(-3.0, 3.0);
        close(&log_sum_exp_hand_written(&x).flat(), &second_differences(&x, log_sum_exp_64), 1e-5);
    }
}
