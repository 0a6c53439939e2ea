//! The twins' own functions (`tw`) against the `f64` methods the originals call, where the
//! fuzzer found them to differ, and their second-order terms against num-dual's.

use jacobian_fuzz::tw;
use num_dual::{Dual2SVec64, DualNum, DualSVec64};

fn variable(x: f64) -> DualSVec64<1> {
    jacobian_fuzz::seed::<1>([x])[0]
}

/// `tanh(-0.0)` is `-0.0` in the original; the twin once gave `+0.0` (its chain rule added
/// a zero derivative part to the value), and `signum` of it disagreed (seed 20261130).
#[test]
fn signed_zeros_survive_tanh_and_atan2() {
    for x in [-0.0, 0.0] {
        let t = tw::tanh(variable(x));
        assert_eq!(t.re.to_bits(), x.tanh().to_bits(), "tanh({x:?})");
        assert_eq!(tw::signum(t).re, x.tanh().signum());
        let a = tw::atan2(variable(x), variable(1.5));
        assert_eq!(a.re.to_bits(), x.atan2(1.5).to_bits(), "atan2({x:?}, 1.5)");
        let c = tw::tanh(DualSVec64::<1>::from_re(x));
        assert_eq!(c.re.to_bits(), x.tanh().to_bits(), "tanh of the constant {x:?}");
    }
}

#[test]
fn tanh_and_atan2_keep_their_derivatives() {
    let x = 0.375;
    let t = tw::tanh(variable(x));
    let d = t.eps.0.as_ref().map_or(0.0, |e| e[0]);
    assert!((d - (1.0 - x.tanh().powi(2))).abs() < 1e-15);
    let a = tw::atan2(variable(x), DualSVec64::<1>::from_re(1.5));
    let d = a.eps.0.as_ref().map_or(0.0, |e| e[0]);
    assert!((d - 1.5 / (1.5 * 1.5 + x * x)).abs() < 1e-15);
}

/// `‖a‖` at the zero vector: derivative 0 where `a` stays zero, as the macro has it
/// (num-dual's `sqrt` gave NaN or 0 depending on how it held `a`'s zero derivative: seed
/// 0xBADC0DE).
#[test]
fn norm_of_a_constant_zero_vector() {
    let zero = DualSVec64::<1>::from_re(0.0);
    let x = variable(0.5);
    let n = tw::norm([zero * x, zero]);
    assert_eq!(n.re, 0.0);
    assert_eq!(n.eps.0.as_ref().map_or(0.0, |e| e[0]), 0.0);
    tw::reset_near_kink();
    let _ = tw::norm([x - x, zero]);
    assert!(!tw::take_near_kink(), "a zero vector with a zero derivative is no kink");
    let _ = tw::norm([variable(0.0), zero]);
    assert!(tw::take_near_kink(), "a zero vector that moves is a kink");
}

/// Two variables on second-order duals.
fn variables2(a: f64, b: f64) -> (Dual2SVec64<2>, Dual2SVec64<2>) {
    let [a, b] = jacobian_fuzz::seed2::<2>([a, b]);
    (a, b)
}

/// Value, gradient and Hessian of a second-order dual of two variables.
fn parts(y: Dual2SVec64<2>) -> (f64, Vec<f64>, Vec<Vec<f64>>) {
    let (v, g, h) = jacobian_fuzz::unseed2(&[y]);
    (v[0], g, h)
}

fn assert_close(what: &str, got: Dual2SVec64<2>, want: Dual2SVec64<2>) {
    let (gv, gg, gh) = parts(got);
    let (wv, wg, wh) = parts(want);
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * (1.0 + a.abs().max(b.abs()));
    assert!(close(gv, wv), "{what}: value {gv} against {wv}");
    for k in 0..2 {
        assert!(close(gg[k], wg[k]), "{what}: gradient {gg:?} against {wg:?}");
        for l in 0..2 {
            assert!(close(gh[k][l], wh[k][l]), "{what}: Hessian {gh:?} against {wh:?}");
        }
    }
}

/// The chain rules `tw` applies on real parts carry their second-order terms: on
/// second-order duals they agree with num-dual's own functions (or compositions of them),
/// at points where those are well defined, with both arguments depending on both variables.
#[test]
fn second_order_chain_rules_match_num_dual() {
    for (p, q) in [(0.375, -1.25), (1.5, 0.625), (-0.8, 2.0)] {
        let (x, y) = variables2(p, q);
        let c = Dual2SVec64::<2>::from_re;
        // arguments that depend on both variables, nonlinearly
        let a = x * y + x.sin();
        let b = (x - y * y).exp() + c(0.5);
        assert_close("tanh", tw::tanh(a), a.tanh());
        assert_close("tan", tw::tan(a), a.sin() / a.cos());
        assert_close("div", tw::div(a, b), a * b.recip());
        assert_close("atan2", tw::atan2(a, b), (a / b).atan());
        assert_close("hypot", tw::hypot(a, b), (a * a + b * b).sqrt());
        assert_close("log", tw::log(b, a * a + c(2.0)), b.ln() / (a * a + c(2.0)).ln());
        assert_close("powf", tw::powf(b, a), (a * b.ln()).exp());
        assert_close("mul_add", tw::mul_add(a, b, x), a * b + x);
        assert_close("to_degrees", tw::to_degrees(a), a * c(180.0 / std::f64::consts::PI));
        for n in [-2, -1, 1, 2, 3, 4] {
            assert_close(&format!("powi {n}"), tw::powi(b, n), b.powi(n));
        }
    }
}

/// A value whose gradient vanishes at the point but whose Hessian does not is no constant:
/// a decision on it can be near its kink.
#[test]
fn a_vanishing_gradient_is_not_a_constant_on_second_order_duals() {
    let (x, _) = variables2(0.0, 1.0);
    let square = x * x;
    assert!(!tw::Tangent::is_constant(&square));
    tw::reset_near_kink();
    let _ = tw::abs(square);
    assert!(tw::take_near_kink(), "|x²| at x = 0 is at its kink");
    assert!(tw::Tangent::is_constant(&Dual2SVec64::<2>::from_re(1.5)));
}
