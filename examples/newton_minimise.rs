//! Newton's method minimising the chained Rosenbrock function in ten dimensions,
//!
//! f(x) = Σᵢ 100 (xᵢ₊₁ − xᵢ²)² + (1 − xᵢ)²,  i = 0 … n − 2,
//!
//! whose minimum is f(1, …, 1) = 0, from the classic start (−1.2, 1, −1.2, 1, …).
//! `#[jacobian(hessian, value)]` writes `rosenbrock_value_gradient_hessian`, which
//! returns f, its gradient (as a row) and its Hessian in one call; each step solves
//! H·p = −g with `Matrix::solve`.
//!
//! Far from the minimum the Hessian need not be positive definite, so the step is
//! safeguarded in the usual way: if p is not a descent direction, the Hessian is
//! shifted by μ·I (Levenberg) until it is, and a backtracking (Armijo) line search
//! shortens the step until f decreases enough. Near the minimum the full Newton step
//! is taken and the gradient norm falls quadratically: each ‖g‖ is about a constant
//! times the square of the previous one, which the last column shows.
//!
//! Run with `cargo run --example newton_minimise`.

use jacobian::{jacobian, Matrix, Vector};

const N: usize = 10;

/// The chained Rosenbrock function.
#[jacobian(hessian, value)]
fn rosenbrock(x: Vector<N>) -> f64 {
    let mut f = 0.0;
    for i in 0..N - 1 {
        let valley = x[i + 1] - x[i] * x[i];
        let slope = 1.0 - x[i];
        f += 100.0 * valley * valley + slope * slope;
    }
    f
}

/// A Newton direction for gradient `g` and Hessian `h`: the solution of
/// (H + μI)·p = −g for the smallest μ in 0, 10⁻³, 10⁻², … that gives a descent
/// direction (gᵀp < 0), and that μ.
fn newton_direction(g: &Vector<N>, h: &Matrix<N, N>) -> (Vector<N>, f64) {
    let mut shift = 0.0;
    loop {
        let shifted = h + Matrix::<N, N>::identity() * shift;
        if let Some(p) = shifted.solve(&-g) {
            if g.dot(&p) < 0.0 {
                return (p, shift);
            }
        }
        shift = if shift == 0.0 { 1e-3 } else { shift * 10.0 };
        // Large enough a shift makes H + μI positive definite, and p ≈ −g/μ.
        assert!(shift < 1e20, "no descent direction found at gradient {g:?}");
    }
}

fn main() {
    let mut x: Vector<N> = Vector::from(core::array::from_fn(|i| if i % 2 == 0 { -1.2 } else { 1.0 }));
    println!("Newton's method on the chained Rosenbrock function, n = {N}");
    println!("start x = {:?}\n", x.as_array());
    println!(
        "{:>4}  {:>22}  {:>12}  {:>8}  {:>8}  {:>14}",
        "iter", "f", "‖g‖", "step", "shift", "‖g‖/‖g_prev‖²"
    );

    let mut previous_gradient_norm = None;
    let mut converged = false;
    for iteration in 0..200 {
        let (f, gradient_row, hessian) = rosenbrock_value_gradient_hessian(x);
        let g = gradient_row.transpose();
        let gradient_norm = g.norm();
        let ratio = match previous_gradient_norm {
            Some(previous) => format!("{:.3e}", gradient_norm / (previous * previous)),
            None => "-".to_string(),
        };
        print!("{iteration:>4}  {f:>22.15e}  {gradient_norm:>12.3e}");
        if gradient_norm < 1e-10 {
            println!("  {:>8}  {:>8}  {ratio:>14}", "", "");
            converged = true;
            break;
        }

        let (p, shift) = newton_direction(&g, &hessian);

        // Backtracking line search with the Armijo condition f(x + tp) ≤ f(x) + c·t·gᵀp.
        let slope = g.dot(&p);
        let mut t = 1.0;
        while rosenbrock(x + p * t) > f + 1e-4 * t * slope {
            t *= 0.5;
            assert!(t > 1e-12, "line search failed at x = {x:?}");
        }
        x += p * t;
        let shift = if shift == 0.0 { "0".to_string() } else { format!("{shift:.0e}") };
        println!("  {t:>8.4}  {shift:>8}  {ratio:>14}");
        previous_gradient_norm = Some(gradient_norm);
    }

    println!("\nsolution x = {:?}", x.as_array());
    println!("f(x) = {:e}", rosenbrock(x));
    let error = (x - Vector::from([1.0; N])).norm();
    println!("‖x − (1, …, 1)‖ = {error:e}");
    assert!(converged, "Newton's method did not reach ‖g‖ < 1e-10");
    assert!(x.iter().all(|&xi| (xi - 1.0).abs() < 1e-8), "converged to {x:?}, not to all ones");
}
