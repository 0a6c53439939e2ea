//! Curve fitting with the `levenberg-marquardt` crate: a damped oscillation
//! y = a·exp(−b·t)·cos(c·t + d) fitted to 30 noisy samples. The residual function is
//! ordinary nalgebra code annotated with `#[jacobian(wrt(p))]`; the crate's
//! `LeastSquaresProblem::jacobian` is the generated `residuals_jacobian`, nothing is
//! derived by hand. The samples' noise comes from a small seeded generator, so every run
//! prints the same table.
//!
//! levenberg-marquardt 0.15 is built on nalgebra 0.34, which this crate's dev-dependencies
//! name `nalgebra034` (its `nalgebra` is 0.35); the function's signature names the types
//! as `na::…`, and the generated sibling returns `na::SMatrix`, the matrix the solver wants.
//!
//! Run with: cargo run --example curve_fit_lm

use std::cell::Cell;
use std::f64::consts::PI;

use jacobian::jacobian;
use levenberg_marquardt::{differentiate_numerically, LeastSquaresProblem, LevenbergMarquardt};
use na::storage::Owned;
use na::{Const, U4};
use nalgebra034 as na;

const POINTS: usize = 30;

/// The measurements: sample times and measured values.
struct Samples {
    t: [f64; POINTS],
    y: [f64; POINTS],
}

/// The residuals r_i = a·exp(−b·tᵢ)·cos(c·tᵢ + d) − yᵢ of the parameters p = (a, b, c, d).
#[jacobian(wrt(p))]
fn residuals(p: na::SVector<f64, 4>, data: &Samples) -> na::SVector<f64, POINTS> {
    let (a, b, c, d) = (p[0], p[1], p[2], p[3]);
    let mut r = na::SVector::<f64, POINTS>::zeros();
    for i in 0..POINTS {
        let t = data.t[i];
        r[i] = a * (-b * t).exp() * (c * t + d).cos() - data.y[i];
    }
    r
}

/// The problem as the solver sees it: the current parameters and the data.
struct DampedOscillation {
    p: na::SVector<f64, 4>,
    data: Samples,
    /// Whether to print each evaluation, and how many there were.
    log: bool,
    evaluations: Cell<usize>,
}

impl LeastSquaresProblem<f64, Const<POINTS>, U4> for DampedOscillation {
    type ResidualStorage = Owned<f64, Const<POINTS>>;
    type JacobianStorage = Owned<f64, Const<POINTS>, U4>;
    type ParameterStorage = Owned<f64, U4>;

    fn set_params(&mut self, p: &na::SVector<f64, 4>) {
        self.p = *p;
    }

    fn params(&self) -> na::SVector<f64, 4> {
        self.p
    }

    fn residuals(&self) -> Option<na::SVector<f64, POINTS>> {
        let r = residuals(self.p, &self.data);
        // Every evaluation, accepted step or rejected trial, with its cost ½‖r‖².
        let k = self.evaluations.get() + 1;
        self.evaluations.set(k);
        if self.log {
            let [a, b, c, d] = self.p.into();
            println!("{k:>4}  {a:>9.5} {b:>9.5} {c:>9.5} {d:>9.5}  {:>12.5e}", 0.5 * r.norm_squared());
        }
        Some(r)
    }

    fn jacobian(&self) -> Option<na::SMatrix<f64, POINTS, 4>> {
        Some(residuals_jacobian(self.p, &self.data))
    }
}

/// Deterministic standard normal samples: a 64-bit LCG (Knuth's MMIX constants) feeding
/// the Box–Muller transform.
struct Gaussian(u64);

impl Gaussian {
    fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        // The top 53 bits, shifted into (0, 1] so that the logarithm below is finite.
        ((self.0 >> 11) as f64 + 1.0) / (1u64 << 53) as f64
    }

    fn sample(&mut self) -> f64 {
        let (u1, u2) = (self.uniform(), self.uniform());
        (-2.0 * u1.ln()).sqrt() * (2.0 * PI * u2).cos()
    }
}

fn main() {
    // The truth, and 30 samples of it over t ∈ [0, 6] with noise of standard deviation σ.
    let truth = na::SVector::<f64, 4>::new(2.5, 0.4, 3.0, 0.5);
    let sigma = 0.02;
    let mut rng = Gaussian(11);
    let t: [f64; POINTS] = std::array::from_fn(|i| 6.0 * i as f64 / (POINTS - 1) as f64);
    let y =
        t.map(|t| truth[0] * (-truth[1] * t).exp() * (truth[2] * t + truth[3]).cos() + sigma * rng.sample());

    // A rough first guess: amplitude and frequency read off a plot, no decay, no phase.
    let start = na::SVector::<f64, 4>::new(2.0, 0.1, 2.8, 0.0);
    let mut problem =
        DampedOscillation { p: start, data: Samples { t, y }, log: false, evaluations: Cell::new(0) };

    // The crate's own check of a hand-written Jacobian, here of the generated one.
    let numerical = differentiate_numerically(&mut problem).expect("finite residuals");
    let generated = problem.jacobian().expect("a Jacobian");
    let jacobian_diff = (generated - numerical).amax();
    println!("generated Jacobian vs the crate's numerical differentiation at the start:");
    println!("  max |J - J_fd| = {jacobian_diff:.1e}");
    assert!(jacobian_diff < 1e-6, "the generated Jacobian disagrees with finite differences");

    problem.evaluations.set(0);
    problem.log = true;
    println!("\n{:>4}  {:>9} {:>9} {:>9} {:>9}  {:>12}", "eval", "a", "b", "c", "d", "cost ½‖r‖²");
    let (fit, report) = LevenbergMarquardt::new().minimize(problem);

    let p = fit.p;
    let r = residuals(p, &fit.data);
    let gradient = residuals_jacobian(p, &fit.data).transpose() * r;
    let rms = (r.norm_squared() / POINTS as f64).sqrt();
    println!("\ntermination: {:?} after {} evaluations", report.termination, report.number_of_evaluations);
    println!("cost ½‖r‖² = {:.6e}, RMS residual = {rms:.4} (noise σ = {sigma})", report.objective_function);
    println!("‖Jᵀr‖ = {:.1e}", gradient.norm());
    println!("\n{:>10} {:>10} {:>10} {:>10}", "parameter", "fitted", "true", "error");
    for (k, name) in ["a", "b", "c", "d"].iter().enumerate() {
        println!("{name:>10} {:>10.5} {:>10.5} {:>10.1e}", p[k], truth[k], p[k] - truth[k]);
    }

    assert!(report.termination.was_successful(), "LM did not converge: {:?}", report.termination);
    assert!(gradient.norm() < 1e-8, "not a stationary point: ‖Jᵀr‖ = {}", gradient.norm());
    assert!((rms - sigma).abs() < 0.5 * sigma, "the residuals are not the noise: RMS {rms}");
    assert!((p - truth).amax() < 0.05, "fitted {p:?}, expected close to {truth:?}");
}
