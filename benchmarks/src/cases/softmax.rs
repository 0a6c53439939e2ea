//! The softmax cross-entropy of a linear classifier, L(W, b) = logsumexp(z) − z_label with
//! logits z = W x + b, for one input x and its label: the gradient with respect to the
//! classifier's weights and biases, as in one step of stochastic gradient descent.

#[cfg(feature = "annotations")]
use jacobian::jacobian;
use jacobian::{Matrix, Vector};
use num_dual::{DualNum, DualSVec64};

use crate::random::Random;
use crate::{differences, duals, Case, Kind};

pub const CLASSES: usize = 10;
pub const FEATURES: usize = 20;
/// The parameters: the weights (row-major), then the biases.
pub const PARAMETERS: usize = CLASSES * FEATURES + CLASSES;

/// The loss as users write it: the logits in matrix form, log-sum-exp with the largest
/// logit subtracted so that no `exp` overflows.
#[cfg_attr(feature = "annotations", jacobian(wrt(w, b), vjp))]
pub fn softmax_cross_entropy(
    w: &Matrix<CLASSES, FEATURES>,
    b: &Vector<CLASSES>,
    x: &Vector<FEATURES>,
    label: usize,
) -> f64 {
    let z = w * x + b;
    let mut largest = z[0];
    for i in 1..CLASSES {
        largest = largest.max(z[i]);
    }
    let total = z.map(|t| (t - largest).exp()).sum();
    largest + total.ln() - z[label]
}

/// With p = softmax(z) and d = p − e_label: ∂L/∂W = d xᵀ, ∂L/∂b = d. One pass for the
/// logits, one `exp` per class, one division, then each entry written once (indexed
/// loops of constant length, which the compiler unrolls and vectorises completely).
#[allow(clippy::needless_range_loop)]
pub fn hand_written(
    w: &Matrix<CLASSES, FEATURES>,
    b: &Vector<CLASSES>,
    x: &Vector<FEATURES>,
    label: usize,
) -> Matrix<1, PARAMETERS> {
    let (w, b, x) = (w.as_rows(), b.as_rows(), x.as_rows());
    let mut e: [f64; CLASSES] = std::array::from_fn(|i| {
        let mut s = b[i][0];
        for k in 0..FEATURES {
            s += w[i][k] * x[k][0];
        }
        s
    });
    let largest = e.iter().fold(f64::NEG_INFINITY, |m, &t| m.max(t));
    let mut total = 0.0;
    for ei in &mut e {
        *ei = (*ei - largest).exp();
        total += *ei;
    }
    let scale = 1.0 / total;
    let mut g = Matrix::<1, PARAMETERS>::zeros();
    let g_row = &mut g.as_rows_mut()[0];
    for i in 0..CLASSES {
        let d = if i == label { e[i] * scale - 1.0 } else { e[i] * scale };
        for k in 0..FEATURES {
            g_row[i * FEATURES + k] = d * x[k][0];
        }
        g_row[CLASSES * FEATURES + i] = d;
    }
    g
}

/// The dual-number twin, on the flat parameters (weights row-major, then biases).
fn softmax_cross_entropy_generic<D: DualNum<Primitive = f64> + Copy>(
    parameters: &[D],
    x: &Vector<FEATURES>,
    label: usize,
) -> D {
    let (w, b) = parameters.split_at(CLASSES * FEATURES);
    let z: [D; CLASSES] =
        std::array::from_fn(|i| (0..FEATURES).fold(b[i], |s, k| s + w[i * FEATURES + k] * x[k]));
    let mut largest = z[0];
    for &zi in &z[1..] {
        if zi > largest {
            largest = zi;
        }
    }
    let total: D = z.iter().map(|&t| (t - largest).exp()).sum();
    largest + total.ln() - z[label]
}

/// The parameters flat, weights row-major then biases.
fn pack(w: &Matrix<CLASSES, FEATURES>, b: &Vector<CLASSES>) -> [f64; PARAMETERS] {
    let mut p = [0.0; PARAMETERS];
    p[..CLASSES * FEATURES].copy_from_slice(w.as_rows().as_flattened());
    p[CLASSES * FEATURES..].copy_from_slice(b.as_rows().as_flattened());
    p
}

fn unpack(p: &[f64; PARAMETERS]) -> (Matrix<CLASSES, FEATURES>, Vector<CLASSES>) {
    let mut w = Matrix::zeros();
    w.as_rows_mut().as_flattened_mut().copy_from_slice(&p[..CLASSES * FEATURES]);
    let mut b = Vector::zeros();
    b.as_rows_mut().as_flattened_mut().copy_from_slice(&p[CLASSES * FEATURES..]);
    (w, b)
}

/// Static vector duals (210 partials each), seeded on the heap (the 210 seeded parameters
/// take 350 KB). Dynamic duals (`DualDVec64`) take 775,000 instructions per gradient
/// against 506,000 for these.
pub fn num_dual(
    w: &Matrix<CLASSES, FEATURES>,
    b: &Vector<CLASSES>,
    x: &Vector<FEATURES>,
    label: usize,
) -> Matrix<1, PARAMETERS> {
    let parameters: Vec<DualSVec64<PARAMETERS>> =
        pack(w, b).iter().enumerate().map(|(k, &p)| DualSVec64::from_re(p).derivative(k)).collect();
    Matrix::from_rows([duals::partials(&softmax_cross_entropy_generic(&parameters, x, label))])
}

pub fn central_differences(
    w: &Matrix<CLASSES, FEATURES>,
    b: &Vector<CLASSES>,
    x: &Vector<FEATURES>,
    label: usize,
) -> Matrix<1, PARAMETERS> {
    differences::gradient(&pack(w, b), |p| {
        let (w, b) = unpack(p);
        softmax_cross_entropy(&w, &b, x, label)
    })
}

type Input = (Matrix<CLASSES, FEATURES>, Vector<CLASSES>, Vector<FEATURES>, usize);

pub fn cases() -> Vec<Case> {
    let mut random = Random::new(0x50F7_3A58);
    let w = Matrix::from_rows(std::array::from_fn(|_| std::array::from_fn(|_| 0.3 * random.normal())));
    let b = Vector::from(std::array::from_fn(|_| 0.1 * random.normal()));
    let x = Vector::from(std::array::from_fn(|_| random.normal()));
    let label = 3;
    let input: Input = (w, b, x, label);
    let case = Case::new(
        "softmax_cross_entropy",
        "softmax cross-entropy of a linear classifier",
        &format!("{CLASSES} classes, {FEATURES} features ({PARAMETERS} parameters)"),
        &format!("gradient, {PARAMETERS} parameters"),
    )
    .variant(Kind::Function, input, |(w, b, x, label)| softmax_cross_entropy(w, b, x, *label))
    .variant(Kind::HandWritten, input, |(w, b, x, label)| hand_written(w, b, x, *label))
    .variant(Kind::NumDual, input, |(w, b, x, label)| num_dual(w, b, x, *label))
    .variant(Kind::CentralDifferences, input, |(w, b, x, label)| central_differences(w, b, x, *label));
    #[cfg(feature = "annotations")]
    let case = case
        .variant(Kind::Generated, input, |(w, b, x, label)| softmax_cross_entropy_jacobian(w, b, x, *label))
        .variant(Kind::Vjp, input, |(w, b, x, label)| {
            softmax_cross_entropy_vjp(w, b, x, *label, Vector::from([1.0])).1.transpose()
        });
    vec![case]
}
