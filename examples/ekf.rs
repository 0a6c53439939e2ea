//! An extended Kalman filter, written with nalgebra, for a planar robot (pose x, y, θ)
//! driven by unicycle controls (speed v, turn rate ω) that measures range and bearing to
//! known landmarks. The motion model and the measurement model are ordinary nalgebra
//! functions annotated with `#[jacobian(wrt(x), value)]`; the filter's Jacobians F and H
//! come from the generated `motion_value_and_jacobian` and `h_value_and_jacobian`, nothing
//! is derived by hand. The ground truth and its noise come from a small seeded
//! generator, so every run prints the same table.
//!
//! Run with: cargo run --example ekf

use std::f64::consts::PI;

use jacobian::jacobian;
use nalgebra::{Matrix2, Matrix3, SMatrix, SVector, Vector2, Vector3};

/// Unicycle motion over one time step: the pose advances along its heading.
#[jacobian(wrt(x), value)]
fn motion(x: SVector<f64, 3>, u: &Vector2<f64>, dt: f64) -> SVector<f64, 3> {
    let (v, w) = (u.x, u.y);
    x + Vector3::new(v * x.z.cos() * dt, v * x.z.sin() * dt, w * dt)
}

/// Range and bearing (relative to the heading) from pose `x` to landmark `l`.
#[jacobian(wrt(x), value)]
fn h(x: SVector<f64, 3>, l: &Vector2<f64>) -> SVector<f64, 2> {
    let d = l - Vector2::new(x.x, x.y);
    Vector2::new(d.norm(), d.y.atan2(d.x) - x.z)
}

/// A wrapped angle in (−π, π].
fn wrap(a: f64) -> f64 {
    let b = a.rem_euclid(2.0 * PI);
    if b > PI {
        b - 2.0 * PI
    } else {
        b
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

    fn vector<const N: usize>(&mut self, sigma: &SVector<f64, N>) -> SVector<f64, N> {
        SVector::from_fn(|i, _| sigma[i] * self.sample())
    }
}

/// The Jacobian of `f` at `x` by central differences, to check the generated ones.
fn central_differences<const M: usize>(
    f: impl Fn(SVector<f64, 3>) -> SVector<f64, M>,
    x: SVector<f64, 3>,
) -> SMatrix<f64, M, 3> {
    let eps = 1e-6;
    let mut j = SMatrix::<f64, M, 3>::zeros();
    for k in 0..3 {
        let e = SVector::<f64, 3>::ith(k, eps);
        j.set_column(k, &((f(x + e) - f(x - e)) / (2.0 * eps)));
    }
    j
}

fn main() {
    let landmarks =
        [Vector2::new(5.0, 5.0), Vector2::new(-5.0, 5.0), Vector2::new(-5.0, -5.0), Vector2::new(5.0, -5.0)];
    let (dt, steps) = (0.1, 300);

    // One check, at one state, that the generated H and F are the derivatives of h and f.
    let (x0, u0) = (Vector3::new(1.0, -2.0, 0.7), Vector2::new(1.0, 0.6));
    let h_diff = (h_jacobian(x0, &landmarks[0]) - central_differences(|x| h(x, &landmarks[0]), x0)).amax();
    let f_diff = (motion_jacobian(x0, &u0, dt) - central_differences(|x| motion(x, &u0, dt), x0)).amax();
    println!("generated vs central differences at x = {:?}:", x0.as_slice());
    println!("  max |H - H_fd| = {h_diff:.1e}, max |F - F_fd| = {f_diff:.1e}");
    assert!(h_diff < 1e-6 && f_diff < 1e-6, "a generated Jacobian disagrees with finite differences");

    // Process noise (per step, on the pose) and measurement noise (range, bearing).
    let q_sigma = Vector3::new(0.01, 0.01, 0.005);
    let r_sigma = Vector2::new(0.1, 0.02);
    let q = Matrix3::from_diagonal(&q_sigma.component_mul(&q_sigma));
    let r = Matrix2::from_diagonal(&r_sigma.component_mul(&r_sigma));

    let mut rng = Gaussian(2024);
    let mut truth = Vector3::new(0.0, -3.0, 0.0);
    // The filter starts off by half a metre and 0.2 rad, and knows it is uncertain.
    let mut x = truth + Vector3::new(0.5, -0.5, 0.2);
    let mut p = Matrix3::from_diagonal(&Vector3::new(0.5, 0.5, 0.1));
    let mut sum_sq_error = 0.0;

    println!(
        "\n{:>4}  {:^24}  {:^24}  {:>9}  {:>8}",
        "step", "true x, y, θ", "estimate", "pos error", "trace P"
    );
    for step in 1..=steps {
        // Constant speed; the turn rate switches sign every 10 s, so the path weaves.
        let u = Vector2::new(1.0, 0.6 * (2.0 * PI * step as f64 * dt / 20.0).sin().signum());

        // Ground truth and the measurements it produces.
        truth = motion(truth, &u, dt) + rng.vector(&q_sigma);
        let measurements: Vec<Vector2<f64>> =
            landmarks.iter().map(|l| h(truth, l) + rng.vector(&r_sigma)).collect();

        // Predict: x ← f(x, u), P ← F P Fᵀ + Q.
        let (x_pred, f) = motion_value_and_jacobian(x, &u, dt);
        x = x_pred;
        x.z = wrap(x.z);
        p = f * p * f.transpose() + q;

        // Update with each landmark in turn.
        for (l, z) in landmarks.iter().zip(&measurements) {
            let (z_pred, hj) = h_value_and_jacobian(x, l);
            let mut innovation = z - z_pred;
            innovation.y = wrap(innovation.y);
            let s = hj * p * hj.transpose() + r;
            let s_inv = s.try_inverse().expect("the innovation covariance is invertible");
            let k = p * hj.transpose() * s_inv;
            x += k * innovation;
            x.z = wrap(x.z);
            // Joseph form, which keeps P positive semi-definite despite rounding.
            let i_kh = Matrix3::identity() - k * hj;
            p = i_kh * p * i_kh.transpose() + k * r * k.transpose();
        }

        let error = (x.xy() - truth.xy()).norm();
        sum_sq_error += error * error;
        if step % 25 == 0 || step == 1 {
            println!(
                "{step:>4}  {:>7.3} {:>7.3} {:>7.3}   {:>7.3} {:>7.3} {:>7.3}   {error:>9.4}  {:>8.5}",
                truth.x,
                truth.y,
                wrap(truth.z),
                x.x,
                x.y,
                x.z,
                p.trace()
            );
        }
    }

    let rms = (sum_sq_error / steps as f64).sqrt();
    println!("\nRMS position error over {steps} steps: {rms:.4} m");
    assert!(rms < 0.1, "the filter diverged: RMS position error {rms} m");
}
