//! One `#[jacobian]` function per differentiable method of API.md, in method form
//! (`x.sin()`) and in path form (`f64::sin(x)`), plus the arithmetic operators, each
//! checked against a hand-written dual-number twin (`num-dual`, forward mode) on random
//! points inside the function's domain. Points near kinks and jumps are filtered out:
//! there the derivative is a convention, not a rule.

// The annotated originals are kept as written; most are reached only through their
// generated siblings here.
#![allow(dead_code)]
// Index loops are what the macro is exercised on, so they stay.
#![allow(clippy::needless_range_loop)]

mod common;

use std::f64::consts::PI;

use common::{assert_jacobian_close_at, dual_derivative, dual_derivative_f32, dual_jacobian};
use jacobian::{jacobian, Matrix};
use num_dual::DualNum;
use proptest::prelude::*;

/// Analytic and dual-number derivatives of the same formula agree to rounding.
const REL: f64 = 1e-12;
const ABS: f64 = 1e-12;
/// Single precision: a few ulps of f32.
const REL_F32: f64 = 1e-5;
const ABS_F32: f64 = 1e-6;

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(256)
}

fn away_from_zero() -> impl Strategy<Value = f64> {
    (-10.0..10.0f64).prop_filter("too close to 0", |x| x.abs() > 0.05)
}

fn away_from_integers() -> impl Strategy<Value = f64> {
    (-10.0..10.0f64).prop_filter("too close to an integer", |x| (x - x.round()).abs() > 1e-3)
}

fn away_from_half_integers() -> impl Strategy<Value = f64> {
    (-10.0..10.0f64).prop_filter("too close to a half-integer", |x| (x - x.floor() - 0.5).abs() > 1e-3)
}

/// Points of the plane not too close to the origin.
fn off_origin() -> impl Strategy<Value = (f64, f64)> {
    (-5.0..5.0f64, -5.0..5.0f64).prop_filter("too close to the origin", |(a, b)| a.hypot(*b) > 0.1)
}

/// For each rule: the method form and the path form, both `Matrix<1, 1>`, against the
/// twin's derivative at the same point.
macro_rules! unary_rule {
    ($rule:ident, $method:ident, $path:ident, $twin:ident, $domain:expr) => {
        mod $rule {
            use super::*;

            proptest! {
                #![proptest_config(config())]

                #[test]
                fn method_form(x in $domain) {
                    let (_, expected) = dual_derivative($twin, x);
                    let j: Matrix<1, 1> = $method(x);
                    assert_jacobian_close_at(&x, &j, &expected, REL, ABS);
                }

                #[test]
                fn path_form(x in $domain) {
                    let (_, expected) = dual_derivative($twin, x);
                    let j: Matrix<1, 1> = $path(x);
                    assert_jacobian_close_at(&x, &j, &expected, REL, ABS);
                }
            }
        }
    };
}

// ---------------------------------------------------------------------------------------
// Functions of one variable.
// ---------------------------------------------------------------------------------------

#[jacobian]
fn sin_method(x: f64) -> f64 {
    x.sin()
}

#[jacobian]
fn sin_path(x: f64) -> f64 {
    f64::sin(x)
}

fn sin_twin<D: DualNum + Copy>(x: D) -> D {
    x.sin()
}

#[jacobian]
fn cos_method(x: f64) -> f64 {
    x.cos()
}

#[jacobian]
fn cos_path(x: f64) -> f64 {
    f64::cos(x)
}

fn cos_twin<D: DualNum + Copy>(x: D) -> D {
    x.cos()
}

#[jacobian]
fn tan_method(x: f64) -> f64 {
    x.tan()
}

#[jacobian]
fn tan_path(x: f64) -> f64 {
    f64::tan(x)
}

fn tan_twin<D: DualNum + Copy>(x: D) -> D {
    x.tan()
}

#[jacobian]
fn asin_method(x: f64) -> f64 {
    x.asin()
}

#[jacobian]
fn asin_path(x: f64) -> f64 {
    f64::asin(x)
}

fn asin_twin<D: DualNum + Copy>(x: D) -> D {
    x.asin()
}

#[jacobian]
fn acos_method(x: f64) -> f64 {
    x.acos()
}

#[jacobian]
fn acos_path(x: f64) -> f64 {
    f64::acos(x)
}

fn acos_twin<D: DualNum + Copy>(x: D) -> D {
    x.acos()
}

#[jacobian]
fn atan_method(x: f64) -> f64 {
    x.atan()
}

#[jacobian]
fn atan_path(x: f64) -> f64 {
    f64::atan(x)
}

fn atan_twin<D: DualNum + Copy>(x: D) -> D {
    x.atan()
}

#[jacobian]
fn sinh_method(x: f64) -> f64 {
    x.sinh()
}

#[jacobian]
fn sinh_path(x: f64) -> f64 {
    f64::sinh(x)
}

fn sinh_twin<D: DualNum + Copy>(x: D) -> D {
    x.sinh()
}

#[jacobian]
fn cosh_method(x: f64) -> f64 {
    x.cosh()
}

#[jacobian]
fn cosh_path(x: f64) -> f64 {
    f64::cosh(x)
}

fn cosh_twin<D: DualNum + Copy>(x: D) -> D {
    x.cosh()
}

#[jacobian]
fn tanh_method(x: f64) -> f64 {
    x.tanh()
}

#[jacobian]
fn tanh_path(x: f64) -> f64 {
    f64::tanh(x)
}

fn tanh_twin<D: DualNum + Copy>(x: D) -> D {
    x.tanh()
}

#[jacobian]
fn asinh_method(x: f64) -> f64 {
    x.asinh()
}

#[jacobian]
fn asinh_path(x: f64) -> f64 {
    f64::asinh(x)
}

fn asinh_twin<D: DualNum + Copy>(x: D) -> D {
    x.asinh()
}

#[jacobian]
fn acosh_method(x: f64) -> f64 {
    x.acosh()
}

#[jacobian]
fn acosh_path(x: f64) -> f64 {
    f64::acosh(x)
}

fn acosh_twin<D: DualNum + Copy>(x: D) -> D {
    x.acosh()
}

#[jacobian]
fn atanh_method(x: f64) -> f64 {
    x.atanh()
}

#[jacobian]
fn atanh_path(x: f64) -> f64 {
    f64::atanh(x)
}

fn atanh_twin<D: DualNum + Copy>(x: D) -> D {
    x.atanh()
}

#[jacobian]
fn exp_method(x: f64) -> f64 {
    x.exp()
}

#[jacobian]
fn exp_path(x: f64) -> f64 {
    f64::exp(x)
}

fn exp_twin<D: DualNum + Copy>(x: D) -> D {
    x.exp()
}

#[jacobian]
fn exp2_method(x: f64) -> f64 {
    x.exp2()
}

#[jacobian]
fn exp2_path(x: f64) -> f64 {
    f64::exp2(x)
}

fn exp2_twin<D: DualNum + Copy>(x: D) -> D {
    x.exp2()
}

#[jacobian]
fn exp_m1_method(x: f64) -> f64 {
    x.exp_m1()
}

#[jacobian]
fn exp_m1_path(x: f64) -> f64 {
    f64::exp_m1(x)
}

fn exp_m1_twin<D: DualNum + Copy>(x: D) -> D {
    x.exp_m1()
}

#[jacobian]
fn ln_method(x: f64) -> f64 {
    x.ln()
}

#[jacobian]
fn ln_path(x: f64) -> f64 {
    f64::ln(x)
}

fn ln_twin<D: DualNum + Copy>(x: D) -> D {
    x.ln()
}

#[jacobian]
fn ln_1p_method(x: f64) -> f64 {
    x.ln_1p()
}

#[jacobian]
fn ln_1p_path(x: f64) -> f64 {
    f64::ln_1p(x)
}

fn ln_1p_twin<D: DualNum + Copy>(x: D) -> D {
    x.ln_1p()
}

#[jacobian]
fn log_constant_base_method(x: f64) -> f64 {
    x.log(3.0)
}

#[jacobian]
fn log_constant_base_path(x: f64) -> f64 {
    f64::log(x, 3.0)
}

fn log_constant_base_twin<D: DualNum<Primitive = f64> + Copy>(x: D) -> D {
    x.log(3.0)
}

#[jacobian]
fn log2_method(x: f64) -> f64 {
    x.log2()
}

#[jacobian]
fn log2_path(x: f64) -> f64 {
    f64::log2(x)
}

fn log2_twin<D: DualNum + Copy>(x: D) -> D {
    x.log2()
}

#[jacobian]
fn log10_method(x: f64) -> f64 {
    x.log10()
}

#[jacobian]
fn log10_path(x: f64) -> f64 {
    f64::log10(x)
}

fn log10_twin<D: DualNum + Copy>(x: D) -> D {
    x.log10()
}

#[jacobian]
fn sqrt_method(x: f64) -> f64 {
    x.sqrt()
}

#[jacobian]
fn sqrt_path(x: f64) -> f64 {
    f64::sqrt(x)
}

fn sqrt_twin<D: DualNum + Copy>(x: D) -> D {
    x.sqrt()
}

#[jacobian]
fn cbrt_method(x: f64) -> f64 {
    x.cbrt()
}

#[jacobian]
fn cbrt_path(x: f64) -> f64 {
    f64::cbrt(x)
}

fn cbrt_twin<D: DualNum + Copy>(x: D) -> D {
    x.cbrt()
}

#[jacobian]
fn powi_cube_method(x: f64) -> f64 {
    x.powi(3)
}

#[jacobian]
fn powi_cube_path(x: f64) -> f64 {
    f64::powi(x, 3)
}

fn powi_cube_twin<D: DualNum + Copy>(x: D) -> D {
    x.powi(3)
}

#[jacobian]
fn powi_negative_method(x: f64) -> f64 {
    x.powi(-2)
}

#[jacobian]
fn powi_negative_path(x: f64) -> f64 {
    f64::powi(x, -2)
}

fn powi_negative_twin<D: DualNum + Copy>(x: D) -> D {
    x.powi(-2)
}

#[jacobian]
fn powf_constant_exponent_method(x: f64) -> f64 {
    x.powf(2.5)
}

#[jacobian]
fn powf_constant_exponent_path(x: f64) -> f64 {
    f64::powf(x, 2.5)
}

fn powf_constant_exponent_twin<D: DualNum<Primitive = f64> + Copy>(x: D) -> D {
    x.powf(2.5)
}

#[jacobian]
fn recip_method(x: f64) -> f64 {
    x.recip()
}

#[jacobian]
fn recip_path(x: f64) -> f64 {
    f64::recip(x)
}

fn recip_twin<D: DualNum + Copy>(x: D) -> D {
    x.recip()
}

#[jacobian]
fn abs_method(x: f64) -> f64 {
    x.abs()
}

#[jacobian]
fn abs_path(x: f64) -> f64 {
    f64::abs(x)
}

fn abs_twin<D: DualNum + Copy>(x: D) -> D {
    x.abs()
}

#[jacobian]
fn signum_method(x: f64) -> f64 {
    x.signum()
}

#[jacobian]
fn signum_path(x: f64) -> f64 {
    f64::signum(x)
}

fn signum_twin<D: DualNum + Copy>(x: D) -> D {
    x.signum()
}

#[jacobian]
fn floor_method(x: f64) -> f64 {
    x.floor()
}

#[jacobian]
fn floor_path(x: f64) -> f64 {
    f64::floor(x)
}

fn floor_twin<D: DualNum<Primitive = f64> + Copy>(x: D) -> D {
    D::from(x.re().floor())
}

#[jacobian]
fn ceil_method(x: f64) -> f64 {
    x.ceil()
}

#[jacobian]
fn ceil_path(x: f64) -> f64 {
    f64::ceil(x)
}

fn ceil_twin<D: DualNum<Primitive = f64> + Copy>(x: D) -> D {
    D::from(x.re().ceil())
}

#[jacobian]
fn round_method(x: f64) -> f64 {
    x.round()
}

#[jacobian]
fn round_path(x: f64) -> f64 {
    f64::round(x)
}

fn round_twin<D: DualNum<Primitive = f64> + Copy>(x: D) -> D {
    D::from(x.re().round())
}

#[jacobian]
fn trunc_method(x: f64) -> f64 {
    x.trunc()
}

#[jacobian]
fn trunc_path(x: f64) -> f64 {
    f64::trunc(x)
}

fn trunc_twin<D: DualNum<Primitive = f64> + Copy>(x: D) -> D {
    D::from(x.re().trunc())
}

#[jacobian]
fn to_degrees_method(x: f64) -> f64 {
    x.to_degrees()
}

#[jacobian]
fn to_degrees_path(x: f64) -> f64 {
    f64::to_degrees(x)
}

fn to_degrees_twin<D: DualNum<Primitive = f64> + Copy>(x: D) -> D {
    x * (180.0 / PI)
}

#[jacobian]
fn to_radians_method(x: f64) -> f64 {
    x.to_radians()
}

#[jacobian]
fn to_radians_path(x: f64) -> f64 {
    f64::to_radians(x)
}

fn to_radians_twin<D: DualNum<Primitive = f64> + Copy>(x: D) -> D {
    x * (PI / 180.0)
}

// ---- checks ----

unary_rule!(sin, sin_method_jacobian, sin_path_jacobian, sin_twin, -10.0..10.0f64);

unary_rule!(cos, cos_method_jacobian, cos_path_jacobian, cos_twin, -10.0..10.0f64);

unary_rule!(tan, tan_method_jacobian, tan_path_jacobian, tan_twin, -1.4..1.4f64); // inside (-pi/2, pi/2), away from the poles

unary_rule!(asin, asin_method_jacobian, asin_path_jacobian, asin_twin, -0.99..0.99f64);

unary_rule!(acos, acos_method_jacobian, acos_path_jacobian, acos_twin, -0.99..0.99f64);

unary_rule!(atan, atan_method_jacobian, atan_path_jacobian, atan_twin, -10.0..10.0f64);

unary_rule!(sinh, sinh_method_jacobian, sinh_path_jacobian, sinh_twin, -5.0..5.0f64);

unary_rule!(cosh, cosh_method_jacobian, cosh_path_jacobian, cosh_twin, -5.0..5.0f64);

unary_rule!(tanh, tanh_method_jacobian, tanh_path_jacobian, tanh_twin, -5.0..5.0f64);

unary_rule!(asinh, asinh_method_jacobian, asinh_path_jacobian, asinh_twin, -10.0..10.0f64);

unary_rule!(acosh, acosh_method_jacobian, acosh_path_jacobian, acosh_twin, 1.01..10.0f64);

unary_rule!(atanh, atanh_method_jacobian, atanh_path_jacobian, atanh_twin, -0.99..0.99f64);

unary_rule!(exp, exp_method_jacobian, exp_path_jacobian, exp_twin, -5.0..5.0f64);

unary_rule!(exp2, exp2_method_jacobian, exp2_path_jacobian, exp2_twin, -5.0..5.0f64);

unary_rule!(exp_m1, exp_m1_method_jacobian, exp_m1_path_jacobian, exp_m1_twin, -5.0..5.0f64);

unary_rule!(ln, ln_method_jacobian, ln_path_jacobian, ln_twin, 0.01..10.0f64);

unary_rule!(ln_1p, ln_1p_method_jacobian, ln_1p_path_jacobian, ln_1p_twin, -0.99..10.0f64);

unary_rule!(
    log_constant_base,
    log_constant_base_method_jacobian,
    log_constant_base_path_jacobian,
    log_constant_base_twin,
    0.01..10.0f64
);

unary_rule!(log2, log2_method_jacobian, log2_path_jacobian, log2_twin, 0.01..10.0f64);

unary_rule!(log10, log10_method_jacobian, log10_path_jacobian, log10_twin, 0.01..10.0f64);

unary_rule!(sqrt, sqrt_method_jacobian, sqrt_path_jacobian, sqrt_twin, 0.01..10.0f64);

unary_rule!(cbrt, cbrt_method_jacobian, cbrt_path_jacobian, cbrt_twin, away_from_zero()); // away from 0, where the slope is infinite

unary_rule!(powi_cube, powi_cube_method_jacobian, powi_cube_path_jacobian, powi_cube_twin, -3.0..3.0f64);

unary_rule!(
    powi_negative,
    powi_negative_method_jacobian,
    powi_negative_path_jacobian,
    powi_negative_twin,
    away_from_zero()
);

unary_rule!(
    powf_constant_exponent,
    powf_constant_exponent_method_jacobian,
    powf_constant_exponent_path_jacobian,
    powf_constant_exponent_twin,
    0.01..10.0f64
);

unary_rule!(recip, recip_method_jacobian, recip_path_jacobian, recip_twin, away_from_zero());

unary_rule!(abs, abs_method_jacobian, abs_path_jacobian, abs_twin, away_from_zero()); // away from the kink at 0

unary_rule!(signum, signum_method_jacobian, signum_path_jacobian, signum_twin, away_from_zero()); // away from the jump at 0

unary_rule!(floor, floor_method_jacobian, floor_path_jacobian, floor_twin, away_from_integers()); // away from the jumps at integers

unary_rule!(ceil, ceil_method_jacobian, ceil_path_jacobian, ceil_twin, away_from_integers());

unary_rule!(round, round_method_jacobian, round_path_jacobian, round_twin, away_from_half_integers()); // away from the jumps at half-integers

unary_rule!(trunc, trunc_method_jacobian, trunc_path_jacobian, trunc_twin, away_from_integers());

unary_rule!(
    to_degrees,
    to_degrees_method_jacobian,
    to_degrees_path_jacobian,
    to_degrees_twin,
    -10.0..10.0f64
);

unary_rule!(
    to_radians,
    to_radians_method_jacobian,
    to_radians_path_jacobian,
    to_radians_twin,
    -500.0..500.0f64
);

#[test]
fn piecewise_constant_rules_have_zero_slope() {
    for x in [-2.7, -0.3, 0.2, 1.6, 3.4] {
        for j in [
            signum_method_jacobian(x),
            floor_method_jacobian(x),
            ceil_method_jacobian(x),
            round_method_jacobian(x),
            trunc_method_jacobian(x),
        ] {
            assert_eq!(j[(0, 0)], 0.0, "at {x}");
        }
    }
}

#[test]
fn abs_has_slope_sign_of_x() {
    for x in [-2.7, -0.3, 0.2, 1.6] {
        assert_eq!(abs_method_jacobian(x)[(0, 0)], x.signum(), "at {x}");
        assert_eq!(abs_path_jacobian(x)[(0, 0)], x.signum(), "at {x}");
    }
}

// ---------------------------------------------------------------------------------------
// Arithmetic operators, every partial.
// ---------------------------------------------------------------------------------------

#[jacobian]
fn add(x: f64, y: f64) -> f64 {
    x + y
}

#[jacobian]
fn sub(x: f64, y: f64) -> f64 {
    x - y
}

#[jacobian]
fn mul(x: f64, y: f64) -> f64 {
    x * y
}

#[jacobian]
fn div(x: f64, y: f64) -> f64 {
    x / y
}

#[jacobian]
fn neg(x: f64) -> f64 {
    -x
}

#[jacobian]
fn neg_of_expression(x: f64, y: f64) -> f64 {
    -(x * y) + -x
}

/// Literals on either side of every operator.
#[jacobian]
fn with_literals(x: f64) -> f64 {
    2.0 * x - x / 4.0 + 1.0 - 3.0 / x + (x + 0.5) * (1.5 - x)
}

fn add_twin<D: DualNum + Copy>(x: D, y: D) -> D {
    x + y
}

fn sub_twin<D: DualNum + Copy>(x: D, y: D) -> D {
    x - y
}

fn mul_twin<D: DualNum + Copy>(x: D, y: D) -> D {
    x * y
}

fn div_twin<D: DualNum + Copy>(x: D, y: D) -> D {
    x / y
}

fn neg_twin<D: DualNum + Copy>(x: D) -> D {
    -x
}

fn neg_of_expression_twin<D: DualNum + Copy>(x: D, y: D) -> D {
    -(x * y) + -x
}

fn with_literals_twin<D: DualNum<Primitive = f64> + Copy>(x: D) -> D {
    let two = D::from(2.0);
    let three = D::from(3.0);
    let one_and_a_half = D::from(1.5);
    two * x - x / 4.0 + 1.0 - three / x + (x + 0.5) * (one_and_a_half - x)
}

fn away_from_zero_pair() -> impl Strategy<Value = (f64, f64)> {
    (-10.0..10.0f64, away_from_zero())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn add_both_partials((x, y) in (-10.0..10.0f64, -10.0..10.0f64)) {
        let (_, expected) = dual_jacobian(|[x, y]| [add_twin(x, y)], [x, y]);
        let j: Matrix<1, 2> = add_jacobian(x, y);
        assert_jacobian_close_at(&(x, y), &j, &expected, REL, ABS);
    }

    #[test]
    fn sub_both_partials((x, y) in (-10.0..10.0f64, -10.0..10.0f64)) {
        let (_, expected) = dual_jacobian(|[x, y]| [sub_twin(x, y)], [x, y]);
        let j: Matrix<1, 2> = sub_jacobian(x, y);
        assert_jacobian_close_at(&(x, y), &j, &expected, REL, ABS);
    }

    #[test]
    fn mul_both_partials((x, y) in (-10.0..10.0f64, -10.0..10.0f64)) {
        let (_, expected) = dual_jacobian(|[x, y]| [mul_twin(x, y)], [x, y]);
        let j: Matrix<1, 2> = mul_jacobian(x, y);
        assert_jacobian_close_at(&(x, y), &j, &expected, REL, ABS);
    }

    #[test]
    fn div_both_partials((x, y) in away_from_zero_pair()) {
        let (_, expected) = dual_jacobian(|[x, y]| [div_twin(x, y)], [x, y]);
        let j: Matrix<1, 2> = div_jacobian(x, y);
        assert_jacobian_close_at(&(x, y), &j, &expected, REL, ABS);
    }

    #[test]
    fn unary_minus(x in -10.0..10.0f64) {
        let (_, expected) = dual_derivative(neg_twin, x);
        let j: Matrix<1, 1> = neg_jacobian(x);
        assert_jacobian_close_at(&x, &j, &expected, REL, ABS);
    }

    #[test]
    fn unary_minus_of_expressions((x, y) in (-10.0..10.0f64, -10.0..10.0f64)) {
        let (_, expected) = dual_jacobian(|[x, y]| [neg_of_expression_twin(x, y)], [x, y]);
        let j: Matrix<1, 2> = neg_of_expression_jacobian(x, y);
        assert_jacobian_close_at(&(x, y), &j, &expected, REL, ABS);
    }

    #[test]
    fn literals_on_either_side(x in away_from_zero()) {
        let (_, expected) = dual_derivative(with_literals_twin, x);
        let j: Matrix<1, 1> = with_literals_jacobian(x);
        assert_jacobian_close_at(&x, &j, &expected, REL, ABS);
    }
}

#[test]
fn operators_exactly() {
    let (x, y) = (3.0, -4.0);
    assert_eq!(add_jacobian(x, y), Matrix::from_rows([[1.0, 1.0]]));
    assert_eq!(sub_jacobian(x, y), Matrix::from_rows([[1.0, -1.0]]));
    assert_eq!(mul_jacobian(x, y), Matrix::from_rows([[y, x]]));
    assert_eq!(div_jacobian(x, y), Matrix::from_rows([[1.0 / y, -x / (y * y)]]));
    assert_eq!(neg_jacobian(x), Matrix::from_rows([[-1.0]]));
}

// ---------------------------------------------------------------------------------------
// Functions of several variables, every partial. Columns are in parameter order.
// ---------------------------------------------------------------------------------------

#[jacobian]
fn atan2_method(y: f64, x: f64) -> f64 {
    y.atan2(x)
}

#[jacobian]
fn atan2_path(y: f64, x: f64) -> f64 {
    f64::atan2(y, x)
}

fn atan2_twin<D: DualNum + Copy>(y: D, x: D) -> D {
    y.atan2(x)
}

#[jacobian]
fn hypot_method(x: f64, y: f64) -> f64 {
    x.hypot(y)
}

#[jacobian]
fn hypot_path(x: f64, y: f64) -> f64 {
    f64::hypot(x, y)
}

fn hypot_twin<D: DualNum + Copy>(x: D, y: D) -> D {
    (x * x + y * y).sqrt()
}

#[jacobian]
fn powf_method(x: f64, y: f64) -> f64 {
    x.powf(y)
}

#[jacobian]
fn powf_path(x: f64, y: f64) -> f64 {
    f64::powf(x, y)
}

/// `powf` of `num-dual` takes a constant exponent; `powd` is the power with a dual one.
fn powf_twin<D: DualNum + Copy>(x: D, y: D) -> D {
    x.powd(y)
}

#[jacobian]
fn log_method(x: f64, base: f64) -> f64 {
    x.log(base)
}

#[jacobian]
fn log_path(x: f64, base: f64) -> f64 {
    f64::log(x, base)
}

/// `log` of `num-dual` takes a constant base.
fn log_twin<D: DualNum + Copy>(x: D, base: D) -> D {
    x.ln() / base.ln()
}

#[jacobian]
fn min_method(x: f64, y: f64) -> f64 {
    x.min(y)
}

#[jacobian]
fn min_path(x: f64, y: f64) -> f64 {
    f64::min(x, y)
}

fn min_twin<D: DualNum + Copy>(x: D, y: D) -> D {
    if x.re() < y.re() {
        x
    } else {
        y
    }
}

#[jacobian]
fn max_method(x: f64, y: f64) -> f64 {
    x.max(y)
}

#[jacobian]
fn max_path(x: f64, y: f64) -> f64 {
    f64::max(x, y)
}

fn max_twin<D: DualNum + Copy>(x: D, y: D) -> D {
    if x.re() > y.re() {
        x
    } else {
        y
    }
}

#[jacobian]
fn mul_add_method(x: f64, a: f64, b: f64) -> f64 {
    x.mul_add(a, b)
}

#[jacobian]
fn mul_add_path(x: f64, a: f64, b: f64) -> f64 {
    f64::mul_add(x, a, b)
}

fn mul_add_twin<D: DualNum + Copy>(x: D, a: D, b: D) -> D {
    x * a + b
}

/// The exponent is an integer parameter: not differentiable, so not a column.
#[jacobian]
fn powi_method(x: f64, n: i32) -> f64 {
    x.powi(n)
}

#[jacobian]
fn powi_path(x: f64, n: i32) -> f64 {
    f64::powi(x, n)
}

fn powi_twin<D: DualNum + Copy>(x: D, n: i32) -> D {
    x.powi(n)
}

fn positive_base_and_exponent() -> impl Strategy<Value = (f64, f64)> {
    (0.01..10.0f64, -3.0..3.0f64)
}

fn argument_and_base() -> impl Strategy<Value = (f64, f64)> {
    // log base 1 divides by ln 1 = 0
    (0.01..10.0f64, 0.05..10.0f64).prop_filter("base too close to 1", |(_, b)| b.ln().abs() > 0.1)
}

fn distinct_pair() -> impl Strategy<Value = (f64, f64)> {
    (-10.0..10.0f64, -10.0..10.0f64).prop_filter("too close to the kink x = y", |(x, y)| (x - y).abs() > 1e-3)
}

/// Both forms of a rule of two variables against its twin.
macro_rules! binary_rule {
    ($rule:ident, $method:ident, $path:ident, $twin:ident, $domain:expr) => {
        mod $rule {
            use super::*;

            proptest! {
                #![proptest_config(config())]

                #[test]
                fn method_form((a, b) in $domain) {
                    let (_, expected) = dual_jacobian(|[a, b]| [$twin(a, b)], [a, b]);
                    let j: Matrix<1, 2> = $method(a, b);
                    assert_jacobian_close_at(&(a, b), &j, &expected, REL, ABS);
                }

                #[test]
                fn path_form((a, b) in $domain) {
                    let (_, expected) = dual_jacobian(|[a, b]| [$twin(a, b)], [a, b]);
                    let j: Matrix<1, 2> = $path(a, b);
                    assert_jacobian_close_at(&(a, b), &j, &expected, REL, ABS);
                }
            }
        }
    };
}

binary_rule!(atan2, atan2_method_jacobian, atan2_path_jacobian, atan2_twin, off_origin());
binary_rule!(hypot, hypot_method_jacobian, hypot_path_jacobian, hypot_twin, off_origin());
binary_rule!(powf, powf_method_jacobian, powf_path_jacobian, powf_twin, positive_base_and_exponent());
binary_rule!(log, log_method_jacobian, log_path_jacobian, log_twin, argument_and_base());
binary_rule!(min, min_method_jacobian, min_path_jacobian, min_twin, distinct_pair());
binary_rule!(max, max_method_jacobian, max_path_jacobian, max_twin, distinct_pair());

proptest! {
    #![proptest_config(config())]

    #[test]
    fn mul_add_all_three_partials(
        (x, a, b) in (-10.0..10.0f64, -10.0..10.0f64, -10.0..10.0f64)
    ) {
        let (_, expected) = dual_jacobian(|[x, a, b]| [mul_add_twin(x, a, b)], [x, a, b]);
        let j: Matrix<1, 3> = mul_add_method_jacobian(x, a, b);
        assert_jacobian_close_at(&(x, a, b), &j, &expected, REL, ABS);
        let j: Matrix<1, 3> = mul_add_path_jacobian(x, a, b);
        assert_jacobian_close_at(&(x, a, b), &j, &expected, REL, ABS);
    }

    #[test]
    fn powi_with_a_run_time_exponent((x, n) in (away_from_zero(), -4..=5i32)) {
        let (_, expected) = dual_derivative(|x| powi_twin(x, n), x);
        let j: Matrix<1, 1> = powi_method_jacobian(x, n);
        assert_jacobian_close_at(&(x, n), &j, &expected, REL, ABS);
        let j: Matrix<1, 1> = powi_path_jacobian(x, n);
        assert_jacobian_close_at(&(x, n), &j, &expected, REL, ABS);
    }
}

#[test]
fn binary_rules_by_hand() {
    // atan2(y, x): (x, -y) / (x^2 + y^2), columns in parameter order (y first).
    let j = atan2_method_jacobian(3.0, 4.0);
    assert_jacobian_close_at(&(3.0, 4.0), &j, &[[0.16, -0.12]], 1e-15, 0.0);
    // hypot(3, 4) = 5: (3/5, 4/5)
    let j = hypot_method_jacobian(3.0, 4.0);
    assert!((j[(0, 0)] - 0.6).abs() < 1e-15 && (j[(0, 1)] - 0.8).abs() < 1e-15);
    // min and max pass the slope of the argument they pick.
    assert_eq!(min_method_jacobian(1.0, 2.0), Matrix::from_rows([[1.0, 0.0]]));
    assert_eq!(min_method_jacobian(2.0, 1.0), Matrix::from_rows([[0.0, 1.0]]));
    assert_eq!(max_method_jacobian(1.0, 2.0), Matrix::from_rows([[0.0, 1.0]]));
    assert_eq!(max_method_jacobian(2.0, 1.0), Matrix::from_rows([[1.0, 0.0]]));
    // mul_add(x, a, b) = x a + b: (a, x, 1)
    assert_eq!(mul_add_method_jacobian(2.0, 3.0, 4.0), Matrix::from_rows([[3.0, 2.0, 1.0]]));
    // powi(x, n): n x^(n-1), whatever n is at run time
    assert_eq!(powi_method_jacobian(2.0, 3), Matrix::from_rows([[12.0]]));
    assert_eq!(powi_method_jacobian(2.0, 0), Matrix::from_rows([[0.0]]));
    assert_eq!(powi_method_jacobian(2.0, -1), Matrix::from_rows([[-0.25]]));
}

#[test]
fn powi_at_zero() {
    // d/dx x^n at 0 is 0 for n = 0 (x^0 = 1 everywhere), 1 for n = 1 and 0 for n >= 2:
    // no 0 * 0^-1 = NaN from the general rule n x^(n-1).
    for (n, slope) in [(0, 0.0), (1, 1.0), (2, 0.0), (3, 0.0), (4, 0.0)] {
        let (_, expected) = dual_derivative(|x| powi_twin(x, n), 0.0);
        assert_eq!(expected, [[slope]], "num-dual at n = {n}");
        assert_eq!(powi_method_jacobian(0.0, n), Matrix::from_rows([[slope]]), "n = {n}");
        assert_eq!(powi_path_jacobian(0.0, n), Matrix::from_rows([[slope]]), "n = {n}");
    }
}

// ---------------------------------------------------------------------------------------
// f32: the same rules in single precision.
// ---------------------------------------------------------------------------------------

#[jacobian]
fn sin_f32(x: f32) -> f32 {
    x.sin()
}

#[jacobian]
fn sin_f32_path(x: f32) -> f32 {
    f32::sin(x)
}

#[jacobian]
fn exp_f32(x: f32) -> f32 {
    x.exp()
}

#[jacobian]
fn sqrt_f32(x: f32) -> f32 {
    f32::sqrt(x)
}

#[jacobian]
fn powi_f32(x: f32) -> f32 {
    x.powi(3)
}

#[jacobian]
fn atan2_f32(y: f32, x: f32) -> f32 {
    y.atan2(x)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn sin_in_single_precision(x in -10.0..10.0f32) {
        let (_, expected) = dual_derivative_f32(sin_twin, x);
        let j: Matrix<1, 1, f32> = sin_f32_jacobian(x);
        assert_jacobian_close_at(&x, &j, &expected, REL_F32, ABS_F32);
        let j: Matrix<1, 1, f32> = sin_f32_path_jacobian(x);
        assert_jacobian_close_at(&x, &j, &expected, REL_F32, ABS_F32);
    }

    #[test]
    fn exp_in_single_precision(x in -5.0..5.0f32) {
        let (_, expected) = dual_derivative_f32(exp_twin, x);
        let j: Matrix<1, 1, f32> = exp_f32_jacobian(x);
        assert_jacobian_close_at(&x, &j, &expected, REL_F32, ABS_F32);
    }

    #[test]
    fn sqrt_in_single_precision(x in 0.01..10.0f32) {
        let (_, expected) = dual_derivative_f32(sqrt_twin, x);
        let j: Matrix<1, 1, f32> = sqrt_f32_jacobian(x);
        assert_jacobian_close_at(&x, &j, &expected, REL_F32, ABS_F32);
    }

    #[test]
    fn powi_in_single_precision(x in -3.0..3.0f32) {
        let (_, expected) = dual_derivative_f32(powi_cube_twin, x);
        let j: Matrix<1, 1, f32> = powi_f32_jacobian(x);
        assert_jacobian_close_at(&x, &j, &expected, REL_F32, ABS_F32);
    }

    #[test]
    fn atan2_in_single_precision(
        (y, x) in (-5.0..5.0f32, -5.0..5.0f32).prop_filter("origin", |(y, x)| y.hypot(*x) > 0.1)
    ) {
        let (_, expected) = dual_jacobian(|[y, x]| [atan2_twin(y, x)], [y, x]);
        let j: Matrix<1, 2, f32> = atan2_f32_jacobian(y, x);
        assert_jacobian_close_at(&(y, x), &j, &expected, REL_F32, ABS_F32);
    }
}
