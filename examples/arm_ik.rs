//! Inverse kinematics of a three-link planar arm with nalgebra. The forward kinematics
//! `tip(q, lengths)` is an ordinary nalgebra function annotated with
//! `#[jacobian(wrt(q), value)]`; the generated `tip_value_and_jacobian` gives the tip and
//! its 2×3 Jacobian J, and each step is a damped least-squares step
//! Δq = Jᵀ(JJᵀ + λ²I)⁻¹ e towards the target (e the tip's error), with the damping λ
//! shrinking as the error does, so that the last steps are plain pseudo-inverse steps.
//!
//! Run with: cargo run --example arm_ik

use std::f64::consts::PI;

use jacobian::jacobian;
use nalgebra::{Matrix2, Vector2, Vector3};

/// Where the tip is: joint angles are relative, so link i points along q₀ + … + qᵢ.
#[jacobian(wrt(q), value)]
fn tip(q: Vector3<f64>, lengths: &Vector3<f64>) -> Vector2<f64> {
    let mut angle = 0.0;
    let mut p = Vector2::zeros();
    for i in 0..3 {
        angle += q[i];
        p += lengths[i] * Vector2::new(angle.cos(), angle.sin());
    }
    p
}

/// Moves the joints from `q` until the tip is at `target`; returns the joint angles and
/// the residual ‖tip(q) − target‖ after each iteration.
fn solve(mut q: Vector3<f64>, lengths: &Vector3<f64>, target: &Vector2<f64>) -> (Vector3<f64>, Vec<f64>) {
    const MAX_ITERATIONS: usize = 100;
    let mut residuals = Vec::new();
    for _ in 0..MAX_ITERATIONS {
        let (p, j) = tip_value_and_jacobian(q, lengths);
        let error = target - p;
        if error.norm() < 1e-12 {
            break;
        }
        let lambda = 0.1 * error.norm().min(1.0);
        let jjt = j * j.transpose() + Matrix2::identity() * (lambda * lambda);
        let inverse = jjt.try_inverse().expect("JJᵀ + λ²I is positive definite");
        q += j.transpose() * inverse * error;
        // The tip is 2π-periodic in every joint: keep the angles in [−π, π).
        q = q.map(|a| (a + PI).rem_euclid(2.0 * PI) - PI);
        residuals.push((target - tip(q, lengths)).norm());
    }
    (q, residuals)
}

fn main() {
    let lengths = Vector3::new(1.0, 0.8, 0.5);
    let start = Vector3::new(0.3, 0.4, 0.5);
    let targets = [
        Vector2::new(1.5, 0.5),
        Vector2::new(-0.8, 1.6),
        Vector2::new(0.3, -1.2),
        Vector2::new(2.2, 0.3), // near the edge of the workspace, |target| ≈ 2.22 of 2.3
        Vector2::new(0.2, 0.1), // close to the base
    ];

    // J has one row per tip coordinate and one column per joint.
    println!("J at the start {:?}:{:.4}", start.as_slice(), tip_jacobian(start, &lengths));

    for target in &targets {
        let (q, residuals) = solve(start, &lengths, target);
        let trace: Vec<String> = residuals.iter().map(|r| format!("{r:.1e}")).collect();
        println!("target ({:>5.2}, {:>5.2}), residuals: {}", target.x, target.y, trace.join(" "));
        let residual = (tip(q, &lengths) - target).norm();
        let degrees = q.map(|a| a.to_degrees());
        println!(
            "  q = ({:>7.2}°, {:>7.2}°, {:>7.2}°), {} iterations, residual {residual:.1e}",
            degrees.x,
            degrees.y,
            degrees.z,
            residuals.len()
        );
        assert!(residual < 1e-10, "no convergence to {target:?}: residual {residual:e}");
    }
}
