//! What the Jacobian holds where a derivative is undefined or infinite (the conventions
//! the README documents), and that NaN and infinities in the inputs propagate as in the
//! function itself, never as a panic.

use jacobian::{jacobian, Matrix};

#[jacobian]
fn sqrt(x: f64) -> f64 {
    x.sqrt()
}

#[jacobian]
fn cbrt(x: f64) -> f64 {
    x.cbrt()
}

#[jacobian]
fn abs(x: f64) -> f64 {
    x.abs()
}

#[jacobian]
fn max(a: f64, b: f64) -> f64 {
    a.max(b)
}

#[jacobian]
fn min(a: f64, b: f64) -> f64 {
    a.min(b)
}

#[jacobian]
fn powf(a: f64, p: f64) -> f64 {
    a.powf(p)
}

#[jacobian]
fn powi(a: f64, n: i32) -> f64 {
    a.powi(n)
}

#[jacobian]
fn atan2(y: f64, x: f64) -> f64 {
    y.atan2(x)
}

#[jacobian]
fn steps(x: f64) -> [f64; 5] {
    [x.signum(), x.floor(), x.ceil(), x.round(), x.trunc()]
}

#[jacobian]
fn branch(x: f64) -> f64 {
    if x < 1.0 {
        x * x
    } else {
        3.0 * x
    }
}

#[jacobian]
fn mixed(x: f64, y: f64) -> [f64; 2] {
    [x * y, x.sin() + y.exp()]
}

fn entry<const M: usize, const N: usize>(j: Matrix<M, N>, i: usize, k: usize) -> f64 {
    j[(i, k)]
}

#[test]
fn sqrt_and_cbrt_at_zero_are_plus_infinity() {
    assert_eq!(entry(sqrt_jacobian(0.0), 0, 0), f64::INFINITY);
    assert_eq!(entry(cbrt_jacobian(0.0), 0, 0), f64::INFINITY);
    assert!(entry(sqrt_jacobian(-1.0), 0, 0).is_nan(), "outside the domain, as the value");
}

#[test]
fn abs_at_zero_takes_the_sign_of_zero() {
    assert_eq!(entry(abs_jacobian(0.0), 0, 0), 1.0);
    assert_eq!(entry(abs_jacobian(-0.0), 0, 0), -1.0);
    assert_eq!(entry(abs_jacobian(-2.0), 0, 0), -1.0);
}

#[test]
fn min_and_max_at_a_tie_follow_the_first_operand() {
    assert_eq!(max_jacobian(1.0, 1.0), Matrix::from_rows([[1.0, 0.0]]));
    assert_eq!(min_jacobian(1.0, 1.0), Matrix::from_rows([[1.0, 0.0]]));
    assert_eq!(max_jacobian(1.0, 2.0), Matrix::from_rows([[0.0, 1.0]]));
    assert_eq!(min_jacobian(1.0, 2.0), Matrix::from_rows([[1.0, 0.0]]));
    // Rust's max of NaN and a number is the number; so is the derivative's choice.
    assert_eq!(max_jacobian(f64::NAN, 2.0), Matrix::from_rows([[0.0, 1.0]]));
    assert_eq!(max_jacobian(2.0, f64::NAN), Matrix::from_rows([[1.0, 0.0]]));
}

#[test]
fn powf_with_a_zero_base() {
    // d/dp 0^p = 0 for p > 0 (not 0 · ln 0 = NaN); d/da 0^p = p · 0^(p−1).
    assert_eq!(powf_jacobian(0.0, 2.5), Matrix::from_rows([[0.0, 0.0]]));
    assert_eq!(entry(powf_jacobian(0.0, 0.5), 0, 0), f64::INFINITY);
    // A negative base with a fractional exponent: the value is NaN, so is its derivative.
    assert!(powf(-1.0, 0.5).is_nan());
    assert!(entry(powf_jacobian(-1.0, 0.5), 0, 0).is_nan());
}

#[test]
fn powi_with_zero_exponent_has_zero_derivative_even_at_zero() {
    assert_eq!(entry(powi_jacobian(0.0, 0), 0, 0), 0.0);
    assert_eq!(entry(powi_jacobian(0.0, 1), 0, 0), 1.0);
    assert_eq!(entry(powi_jacobian(3.0, 2), 0, 0), 6.0);
}

#[test]
fn atan2_at_the_origin_is_undefined() {
    let j = atan2_jacobian(0.0, 0.0);
    assert!(entry(j, 0, 0).is_nan() && entry(j, 0, 1).is_nan());
    assert_eq!(atan2_jacobian(0.0, 1.0), Matrix::from_rows([[1.0, -0.0]]));
}

#[test]
fn piecewise_constant_functions_have_zero_derivative() {
    for x in [-1.5, -0.5, 0.0, 0.5, 2.0] {
        assert_eq!(steps_jacobian(x), Matrix::zeros(), "at {x}");
    }
}

#[test]
fn at_a_branch_boundary_the_derivative_is_that_of_the_branch_taken() {
    assert_eq!(entry(branch_jacobian(1.0), 0, 0), 3.0);
    assert_eq!(entry(branch_jacobian(0.999), 0, 0), 2.0 * 0.999);
}

#[test]
fn nan_and_infinity_propagate_without_panics() {
    let j = mixed_jacobian(f64::NAN, 1.0);
    assert!(entry(j, 0, 0) == 1.0 && entry(j, 0, 1).is_nan() && entry(j, 1, 0).is_nan());
    let j = mixed_jacobian(2.0, f64::INFINITY);
    assert_eq!(entry(j, 0, 0), f64::INFINITY);
    assert_eq!(entry(j, 1, 1), f64::INFINITY);
    let _ = sqrt_jacobian(f64::NAN);
    let _ = atan2_jacobian(f64::INFINITY, f64::NEG_INFINITY);
    let _ = powi_jacobian(f64::NAN, i32::MIN);
}
