//! Minimising the chained Rosenbrock function in 10 dimensions with `argmin`'s L-BFGS
//! (a Moré–Thuente line search). The function is ordinary nalgebra code annotated with
//! `#[jacobian]`; argmin's `Gradient::gradient` is the generated `rosenbrock_jacobian`,
//! transposed: a scalar function's Jacobian is the gradient as a row.
//!
//! argmin runs on nalgebra 0.34 here (argmin-math's `nalgebra_v0_34` backend), which this
//! crate's dev-dependencies name `nalgebra034`; the signature names the types as `na::…`,
//! so the generated sibling returns `na::SMatrix`, and its transpose is the `na::SVector`
//! argmin wants, without conversion.
//!
//! Run with: cargo run --example lbfgs_argmin

use argmin::core::observers::{Observe, ObserverMode};
use argmin::core::{CostFunction, Error, Executor, Gradient, IterState, State, KV};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use jacobian::jacobian;
use nalgebra034 as na;

const N: usize = 10;

type Point = na::SVector<f64, N>;

/// f(x) = Σᵢ 100·(xᵢ₊₁ − xᵢ²)² + (1 − xᵢ)², least (zero) at x = (1, …, 1).
#[jacobian]
fn rosenbrock(x: na::SVector<f64, N>) -> f64 {
    x.iter().zip(x.iter().skip(1)).map(|(a, b)| 100.0 * (b - a * a).powi(2) + (1.0 - a).powi(2)).sum()
}

struct Rosenbrock;

impl CostFunction for Rosenbrock {
    type Param = Point;
    type Output = f64;

    fn cost(&self, x: &Point) -> Result<f64, Error> {
        Ok(rosenbrock(*x))
    }
}

impl Gradient for Rosenbrock {
    type Param = Point;
    type Gradient = Point;

    fn gradient(&self, x: &Point) -> Result<Point, Error> {
        Ok(rosenbrock_jacobian(*x).transpose())
    }
}

/// Prints the cost and gradient norm after the first iteration and every fifth.
struct Progress;

impl Observe<IterState<Point, Point, (), (), (), f64>> for Progress {
    fn observe_iter(
        &mut self,
        state: &IterState<Point, Point, (), (), (), f64>,
        _kv: &KV,
    ) -> Result<(), Error> {
        // Observers see the state of the iteration just done, before its count is incremented.
        let k = state.get_iter() + 1;
        if k == 1 || k % 5 == 0 {
            let gradient = state.get_gradient().map_or(f64::NAN, |g| g.norm());
            println!("{k:>4}  {:>12.5e}  {:>10.3e}", state.get_cost(), gradient);
        }
        Ok(())
    }
}

fn main() -> Result<(), Error> {
    // The classic start, (−1.2, 1, −1.2, 1, …).
    let start = Point::from_fn(|i, _| if i % 2 == 0 { -1.2 } else { 1.0 });

    // One check, at the start, that the generated gradient is the derivative of f.
    let eps = 1e-6;
    let central = Point::from_fn(|k, _| {
        let e = Point::ith(k, eps);
        (rosenbrock(start + e) - rosenbrock(start - e)) / (2.0 * eps)
    });
    let generated = Rosenbrock.gradient(&start)?;
    let gradient_diff = (generated - central).amax() / generated.amax();
    println!(
        "generated gradient vs central differences at the start: relative max difference {gradient_diff:.1e}"
    );
    assert!(gradient_diff < 1e-7, "the generated gradient disagrees with finite differences");

    let solver =
        LBFGS::new(MoreThuenteLineSearch::new(), 7).with_tolerance_grad(1e-10)?.with_tolerance_cost(0.0)?;
    println!("\n{:>4}  {:>12}  {:>10}", "iter", "f(x)", "‖∇f(x)‖");
    println!("{:>4}  {:>12.5e}  {:>10.3e}", 0, rosenbrock(start), generated.norm());
    let result = Executor::new(Rosenbrock, solver)
        .configure(|state| state.param(start).max_iters(500))
        .add_observer(Progress, ObserverMode::Always)
        .run()?;

    let state = result.state();
    let x = *state.get_best_param().expect("a solution");
    let gradient = Rosenbrock.gradient(&x)?.norm();
    println!("\ntermination: {} after {} iterations", state.get_termination_status(), state.get_iter());
    println!("f(x) = {:.3e}, ‖∇f(x)‖ = {gradient:.3e}", state.get_best_cost());
    println!("x = {:.10?}", x.as_slice());

    let error = (x - Point::repeat(1.0)).amax();
    assert!(error < 1e-8, "L-BFGS did not converge to (1, …, 1): max |xᵢ − 1| = {error:e}");
    Ok(())
}
