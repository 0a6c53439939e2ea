//! The chained (extended) Rosenbrock function
//! f(x) = Σ_{i=0}^{n−2} [100 (x_{i+1} − x_i²)² + (1 − x_i)²], the classic test of
//! unconstrained minimisers, at n = 100 and n = 10,000: a gradient whose every entry
//! touches two terms, so the whole gradient costs O(n) by hand, while forward-mode dual
//! numbers carry n partials through every operation (O(n²)).

use jacobian::Matrix;
#[cfg(feature = "annotations")]
use jacobian::{jacobian, Vector};
use num_dual::{DualDVec64, DualNum};

use crate::random::Random;
use crate::{differences, duals, Case, Flat, Kind};

/// The function as a user writes it: the textbook sum, a loop with an accumulator. The
/// point is taken by reference (so that a call does not copy 80 KB at n = 10,000); the
/// macro accepts `x: [f64; N]` by value just as well.
#[cfg_attr(feature = "annotations", jacobian(vjp))]
pub fn rosenbrock<const N: usize>(x: &[f64; N]) -> f64 {
    let mut f = 0.0;
    for i in 0..N - 1 {
        f += 100.0 * (x[i + 1] - x[i].powi(2)).powi(2) + (1.0 - x[i]).powi(2);
    }
    f
}

/// The gradient in one pass, each entry written once from the two terms it appears in:
/// with `t_i = x_{i+1} − x_i²`, entry `i` is `200 t_{i−1} − 400 x_i t_i − 2 (1 − x_i)`
/// (the first lacks the `t_{i−1}` term, the last has only it). `t_i` is recomputed for the
/// neighbouring entry rather than carried, so that no value flows from one iteration to
/// the next and the loop vectorises.
pub fn hand_written<const N: usize>(x: &[f64; N]) -> Matrix<1, N> {
    let mut g = Matrix::<1, N>::zeros();
    let row = &mut g.as_rows_mut()[0];
    row[0] = -400.0 * x[0] * (x[1] - x[0] * x[0]) - 2.0 * (1.0 - x[0]);
    for i in 1..N - 1 {
        let xi = x[i];
        let before = x[i] - x[i - 1] * x[i - 1];
        let after = x[i + 1] - xi * xi;
        row[i] = 200.0 * before - 400.0 * xi * after - 2.0 * (1.0 - xi);
    }
    row[N - 1] = 200.0 * (x[N - 1] - x[N - 2] * x[N - 2]);
    g
}

/// The dual-number twin, on a slice and with clones so that it serves both the static
/// duals (`Copy`) and the dynamic ones (not `Copy`).
fn rosenbrock_generic<D: DualNum<Primitive = f64>>(x: &[D]) -> D {
    let mut f = D::zero();
    for i in 0..x.len() - 1 {
        f += (x[i + 1].clone() - x[i].powi(2)).powi(2) * 100.0 + (D::one() - &x[i]).powi(2);
    }
    f
}

/// Static vector duals, N partials on the stack per number: at n = 100, 453,000
/// instructions per gradient against 907,000 for dynamic ones (`num_dual_dynamic`).
pub fn num_dual_static<const N: usize>(x: &[f64; N]) -> Matrix<1, N> {
    let x = duals::seeded(x);
    Matrix::from_rows([duals::partials(&rosenbrock_generic(&x))])
}

/// Dynamic vector duals, N partials on the heap per number: at n = 10,000 the only
/// choice (a static dual would be 80 KB, the seeded point 800 MB of stack); the seeded
/// point alone is then 800 MB of heap.
pub fn num_dual_dynamic(x: &[f64]) -> Vec<f64> {
    let x: Vec<DualDVec64> = duals::seeded_dynamic(x);
    duals::partials_dynamic(&rosenbrock_generic(&x), x.len())
}

pub fn central_differences<const N: usize>(x: &[f64; N]) -> Matrix<1, N> {
    differences::gradient(x, rosenbrock)
}

fn case<const N: usize, O: Flat + 'static>(seed: u64, size: &str, num_dual: fn(&[f64; N]) -> O) -> Case {
    let x: [f64; N] = Random::new(seed).array(-1.5, 1.5);
    let case = Case::new(
        &format!("rosenbrock_{N}"),
        "chained Rosenbrock",
        size,
        &format!("gradient, {N} parameters"),
    )
    .variant(Kind::Function, x, rosenbrock)
    .variant(Kind::HandWritten, x, hand_written)
    .variant(Kind::NumDual, x, num_dual)
    .variant(Kind::CentralDifferences, x, central_differences);
    #[cfg(feature = "annotations")]
    let case = case
        .variant(Kind::Generated, x, rosenbrock_jacobian)
        .variant(Kind::Vjp, x, |x| rosenbrock_vjp(x, Vector::from([1.0])).1.transpose());
    case
}

pub fn cases() -> Vec<Case> {
    vec![
        case::<100, _>(0x5EED_0100, "n = 100", num_dual_static),
        case::<10_000, _>(0x5EED_2710, "n = 10,000", |x| num_dual_dynamic(x)),
    ]
}
