//! The loss of L2-regularised logistic regression,
//! L(w) = (1/m) Σ_j log(1 + exp(−y_j w·a_j)) + λ/2 ‖w‖², with 100 weights and m = 200
//! fixed data points (features `a_j`, labels `y_j = ±1`): the gradient every first-order
//! trainer of a linear model evaluates, O(m n) by hand.

use std::rc::Rc;

use jacobian::Matrix;
#[cfg(feature = "annotations")]
use jacobian::{jacobian, Vector};
use num_dual::DualNum;

use crate::random::Random;
use crate::{differences, duals, Case, Kind};

pub const FEATURES: usize = 100;
pub const POINTS: usize = 200;
/// The weight of the L2 term.
pub const LAMBDA: f64 = 0.01;

/// The loss as a careful user writes it: `log(1 + exp(z))` in the stable form
/// `max(z, 0) + log(1 + exp(−|z|))`, which neither overflows for large `z` nor loses the
/// small ones.
///
/// The natural margin is an iterator fold,
/// `let margin: f64 = w.iter().zip(&a[j]).map(|(wk, ak)| wk * ak).sum();` (and the norm
/// `w.iter().map(|wk| wk * wk).sum()`), which the macro refuses although `API.md` lists
/// `.iter()`, `.zip`, `.map` and `.sum()` over arrays: "the method `iter` is not supported
/// on a differentiated array; index the components in a loop, or use `Vector`". Hence the
/// indexed loop for the margin and `for wk in w` for the norm.
#[cfg_attr(feature = "annotations", jacobian(wrt(w), vjp))]
pub fn logistic_loss(w: [f64; FEATURES], a: &[[f64; FEATURES]; POINTS], y: &[f64; POINTS]) -> f64 {
    let mut loss = 0.0;
    for j in 0..POINTS {
        let mut margin = 0.0;
        for k in 0..FEATURES {
            margin += w[k] * a[j][k];
        }
        let z = -y[j] * margin;
        loss += z.max(0.0) + (-z.abs()).exp().ln_1p();
    }
    let mut norm_squared = 0.0;
    for wk in w {
        norm_squared += wk * wk;
    }
    loss / POINTS as f64 + 0.5 * LAMBDA * norm_squared
}

/// The gradient (1/m) Σ_j −y_j σ(z_j) a_j + λ w with z_j = −y_j w·a_j: one dot product
/// (summed in the function's order), one `exp` and one scaled row added per data point; σ
/// in the stable form (one `exp`, never overflowing); the 1/m applied once at the end; no
/// allocation.
pub fn hand_written(
    w: &[f64; FEATURES],
    a: &[[f64; FEATURES]; POINTS],
    y: &[f64; POINTS],
) -> Matrix<1, FEATURES> {
    let mut gradient = Matrix::<1, FEATURES>::zeros();
    let g = &mut gradient.as_rows_mut()[0];
    for (aj, &yj) in a.iter().zip(y) {
        let mut margin = 0.0;
        for (wk, ak) in w.iter().zip(aj) {
            margin += wk * ak;
        }
        let z = -yj * margin;
        let e = (-z.abs()).exp();
        let sigma = if z >= 0.0 { 1.0 / (1.0 + e) } else { e / (1.0 + e) };
        let c = -yj * sigma;
        for (gk, ak) in g.iter_mut().zip(aj) {
            *gk += c * ak;
        }
    }
    let scale = 1.0 / POINTS as f64;
    for (gk, wk) in g.iter_mut().zip(w) {
        *gk = *gk * scale + LAMBDA * wk;
    }
    gradient
}

/// The dual-number twin (`DualNum` has no `max`: the branch a user writes instead).
fn logistic_loss_generic<D: DualNum<Primitive = f64> + Copy>(
    w: &[D; FEATURES],
    a: &[[f64; FEATURES]; POINTS],
    y: &[f64; POINTS],
) -> D {
    let mut loss = D::zero();
    for j in 0..POINTS {
        let margin: D = w.iter().zip(&a[j]).map(|(&wk, &ak)| wk * ak).sum();
        let z = margin * -y[j];
        let positive = if z > 0.0 { z } else { D::zero() };
        loss += positive + (-z.abs()).exp().ln_1p();
    }
    let norm_squared: D = w.iter().map(|&wk| wk * wk).sum();
    loss / POINTS as f64 + norm_squared * (0.5 * LAMBDA)
}

pub fn num_dual(
    w: &[f64; FEATURES],
    a: &[[f64; FEATURES]; POINTS],
    y: &[f64; POINTS],
) -> Matrix<1, FEATURES> {
    let w = duals::seeded(w);
    Matrix::from_rows([duals::partials(&logistic_loss_generic(&w, a, y))])
}

pub fn central_differences(
    w: &[f64; FEATURES],
    a: &[[f64; FEATURES]; POINTS],
    y: &[f64; POINTS],
) -> Matrix<1, FEATURES> {
    differences::gradient(w, |w| logistic_loss(*w, a, y))
}

/// The data points, shared by every variant.
struct Data {
    a: [[f64; FEATURES]; POINTS],
    y: [f64; POINTS],
}

pub fn cases() -> Vec<Case> {
    let mut random = Random::new(0x1061_571C);
    let data = Rc::new(Data {
        a: std::array::from_fn(|_| std::array::from_fn(|_| random.normal())),
        y: std::array::from_fn(|_| if random.next_u64() & 1 == 0 { 1.0 } else { -1.0 }),
    });
    let w: [f64; FEATURES] = std::array::from_fn(|_| 0.1 * random.normal());
    let input = (w, data);
    let case = Case::new(
        "logistic_regression",
        "logistic regression loss",
        &format!("{FEATURES} weights, {POINTS} data points"),
        &format!("gradient, {FEATURES} parameters"),
    )
    .variant(Kind::Function, input.clone(), |(w, d)| logistic_loss(*w, &d.a, &d.y))
    .variant(Kind::HandWritten, input.clone(), |(w, d)| hand_written(w, &d.a, &d.y))
    .variant(Kind::NumDual, input.clone(), |(w, d)| num_dual(w, &d.a, &d.y))
    .variant(Kind::CentralDifferences, input.clone(), |(w, d)| central_differences(w, &d.a, &d.y));
    #[cfg(feature = "annotations")]
    let case = case
        .variant(Kind::Generated, input.clone(), |(w, d)| logistic_loss_jacobian(*w, &d.a, &d.y))
        .variant(Kind::Vjp, input, |(w, d)| {
            logistic_loss_vjp(*w, &d.a, &d.y, Vector::from([1.0])).1.transpose()
        });
    vec![case]
}
