//! Newton's method for a nonlinear system F(x) = 0 of three equations in three
//! unknowns, the classic example of Burden and Faires (Numerical Analysis, §10.2):
//!
//! 3x₁ − cos(x₂x₃) − 1/2 = 0
//! x₁² − 81(x₂ + 0.1)² + sin x₃ + 1.06 = 0
//! e^(−x₁x₂) + 20x₃ + (10π − 3)/3 = 0
//!
//! with the root (1/2, 0, −π/6), from their start (0.1, 0.1, −0.1).
//! `#[jacobian(value)]` writes `system_value_and_jacobian`, which returns F(x) and its
//! Jacobian J(x) in one call; each step solves J·p = −F with `Matrix::solve`.
//!
//! Run with `cargo run --example newton_system`.

use std::f64::consts::PI;

use jacobian::{jacobian, Vector};

/// F(x), whose root is (1/2, 0, −π/6).
#[jacobian(value)]
fn system(x: Vector<3>) -> Vector<3> {
    Vector::from([
        3.0 * x[0] - (x[1] * x[2]).cos() - 0.5,
        x[0] * x[0] - 81.0 * (x[1] + 0.1) * (x[1] + 0.1) + x[2].sin() + 1.06,
        (-x[0] * x[1]).exp() + 20.0 * x[2] + (10.0 * PI - 3.0) / 3.0,
    ])
}

fn main() {
    let root = Vector::from([0.5, 0.0, -PI / 6.0]);
    let mut x = Vector::from([0.1, 0.1, -0.1]);
    println!("Newton's method on F(x) = 0, three equations");
    println!("{:>4}  {:>23} {:>23} {:>23}  {:>10}  {:>10}", "iter", "x₁", "x₂", "x₃", "‖F(x)‖", "‖x − x*‖");

    let mut converged = false;
    for iteration in 0..50 {
        let (residual, jacobian) = system_value_and_jacobian(x);
        let [x1, x2, x3] = x.as_array();
        println!(
            "{iteration:>4}  {x1:>23.16e} {x2:>23.16e} {x3:>23.16e}  {:>10.3e}  {:>10.3e}",
            residual.norm(),
            (x - root).norm()
        );
        if residual.norm() < 1e-14 {
            converged = true;
            break;
        }
        let step = jacobian.solve(&-residual).expect("the Jacobian is singular");
        x += step;
    }

    println!("\nroot x = {:?}", x.as_array());
    println!("F(x)   = {:?}", system(x).as_array());
    assert!(converged, "Newton's method did not reach ‖F(x)‖ < 1e-14");
    assert!((x - root).norm() < 1e-12, "converged to {x:?}, not to (1/2, 0, −π/6)");
}
