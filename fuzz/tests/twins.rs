//! The twins' own functions (`tw`) against the `f64` methods the originals call, where the
//! fuzzer found them to differ.

use jacobian_fuzz::tw;
use num_dual::DualSVec64;

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
