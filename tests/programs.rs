//! Realistic functions with loops, branches and mutation: classic least-squares test
//! problems, robot kinematics, ODE right-hand sides, and one function per construct of
//! API.md. Each is checked on random points against a hand-written dual-number twin
//! (`num-dual`, forward mode), and the twin itself against finite differences of the
//! original, so that a mistake in a twin cannot pass for a bug in the macro.

// The annotated originals are kept as written; some are reached only through their
// generated siblings here.
#![allow(dead_code)]
// Index loops are what the macro is exercised on, so they stay.
#![allow(clippy::needless_range_loop)]
// `y[0] = y[4] * y[0]` reads and writes one array on purpose.
#![allow(clippy::assign_op_pattern)]

mod common;

use std::f64::consts::PI;

use common::{
    assert_jacobian_close_at, assert_jacobian_close_scaled, check_twin, dual_jacobian, num_dual_gradient,
    Rows,
};
use jacobian::{jacobian, Matrix};
use num_dual::{DualNum, DualSVec64};
use proptest::prelude::*;

/// Analytic and dual-number Jacobians of the same program agree to rounding, measured
/// against the size of each row (long sums may add their terms in another order).
const TOL: f64 = 1e-11;

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(256)
}

/// The Jacobian the macro generated, `actual`, against the dual twin's at `x`; first the
/// twin against the original function (values and finite differences).
fn check<const N: usize, const M: usize>(
    x: [f64; N],
    actual: &impl Rows,
    original: impl Fn([f64; N]) -> [f64; M],
    twin: impl FnOnce([DualSVec64<N>; N]) -> [DualSVec64<N>; M],
) {
    let (values, expected) = dual_jacobian(twin, x);
    check_twin(x, original, values, &expected);
    assert_jacobian_close_scaled(&x, actual, &expected, TOL);
}

/// A `Vec` from proptest as a fixed-size array.
fn array<const N: usize>(v: Vec<f64>) -> [f64; N] {
    v.try_into().expect("strategy gives N values")
}

// =======================================================================================
// Classic least-squares test problems (Moré, Garbow & Hillstrom).
// =======================================================================================

#[jacobian]
fn rosenbrock(x: [f64; 2]) -> [f64; 2] {
    [10.0 * (x[1] - x[0] * x[0]), 1.0 - x[0]]
}

fn rosenbrock_twin<D: DualNum<Primitive = f64> + Copy>(x: [D; 2]) -> [D; 2] {
    [(x[1] - x[0] * x[0]) * 10.0, -x[0] + 1.0]
}

#[jacobian]
fn powell_singular(x: [f64; 4]) -> [f64; 4] {
    [
        x[0] + 10.0 * x[1],
        5.0_f64.sqrt() * (x[2] - x[3]),
        (x[1] - 2.0 * x[2]).powi(2),
        10.0_f64.sqrt() * (x[0] - x[3]).powi(2),
    ]
}

fn powell_singular_twin<D: DualNum<Primitive = f64> + Copy>(x: [D; 4]) -> [D; 4] {
    [
        x[0] + x[1] * 10.0,
        (x[2] - x[3]) * 5.0_f64.sqrt(),
        (x[1] - x[2] * 2.0).powi(2),
        (x[0] - x[3]).powi(2) * 10.0_f64.sqrt(),
    ]
}

#[jacobian]
fn freudenstein_roth(x: [f64; 2]) -> [f64; 2] {
    let x1 = x[0];
    let x2 = x[1];
    [-13.0 + x1 + ((5.0 - x2) * x2 - 2.0) * x2, -29.0 + x1 + ((x2 + 1.0) * x2 - 14.0) * x2]
}

fn freudenstein_roth_twin<D: DualNum<Primitive = f64> + Copy>(x: [D; 2]) -> [D; 2] {
    let (x1, x2) = (x[0], x[1]);
    [x1 - 13.0 + ((-x2 + 5.0) * x2 - 2.0) * x2, x1 - 29.0 + ((x2 + 1.0) * x2 - 14.0) * x2]
}

/// θ is the angle of (x0, x1) in turns, taken in (-1/4, 3/4]: `atan2` and a branch on a
/// differentiated value.
#[jacobian]
fn helical_valley(x: [f64; 3]) -> [f64; 3] {
    let mut theta = x[1].atan2(x[0]) / (2.0 * PI);
    if theta < -0.25 {
        theta += 1.0;
    }
    let r = (x[0] * x[0] + x[1] * x[1]).sqrt();
    [10.0 * (x[2] - 10.0 * theta), 10.0 * (r - 1.0), x[2]]
}

fn helical_valley_twin<D: DualNum<Primitive = f64> + Copy>(x: [D; 3]) -> [D; 3] {
    let mut theta = x[1].atan2(x[0]) / (2.0 * PI);
    if theta < -0.25 {
        theta += 1.0;
    }
    let r = (x[0] * x[0] + x[1] * x[1]).sqrt();
    [(x[2] - theta * 10.0) * 10.0, (r - 1.0) * 10.0, x[2]]
}

#[jacobian]
fn box_3d(x: [f64; 3]) -> [f64; 10] {
    let mut r = [0.0; 10];
    for i in 1..=10 {
        let t = 0.1 * i as f64;
        r[i - 1] = (-t * x[0]).exp() - (-t * x[1]).exp() - x[2] * ((-t).exp() - (-10.0 * t).exp());
    }
    r
}

fn box_3d_twin<D: DualNum<Primitive = f64> + Copy>(x: [D; 3]) -> [D; 10] {
    std::array::from_fn(|k| {
        let t = 0.1 * (k + 1) as f64;
        (x[0] * -t).exp() - (x[1] * -t).exp() - x[2] * ((-t).exp() - (-10.0 * t).exp())
    })
}

const BROWN_N: usize = 5;

#[jacobian]
fn brown_almost_linear(x: [f64; BROWN_N]) -> [f64; BROWN_N] {
    let mut sum = 0.0;
    let mut product = 1.0;
    for j in 0..BROWN_N {
        sum += x[j];
        product *= x[j];
    }
    let mut f = [0.0; BROWN_N];
    for i in 0..BROWN_N - 1 {
        f[i] = x[i] + sum - (BROWN_N as f64 + 1.0);
    }
    f[BROWN_N - 1] = product - 1.0;
    f
}

fn brown_almost_linear_twin<D: DualNum<Primitive = f64> + Copy>(x: [D; BROWN_N]) -> [D; BROWN_N] {
    let sum: D = x.iter().copied().sum();
    let product: D = x.iter().copied().product();
    std::array::from_fn(|i| if i < BROWN_N - 1 { x[i] + sum - (BROWN_N as f64 + 1.0) } else { product - 1.0 })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn rosenbrock_against_dual(x in prop::array::uniform2(-3.0..3.0f64)) {
        check(x, &rosenbrock_jacobian(x), rosenbrock, rosenbrock_twin);
    }

    #[test]
    fn powell_singular_against_dual(x in prop::array::uniform4(-3.0..3.0f64)) {
        check(x, &powell_singular_jacobian(x), powell_singular, powell_singular_twin);
    }

    #[test]
    fn freudenstein_roth_against_dual(x in prop::array::uniform2(-10.0..10.0f64)) {
        check(x, &freudenstein_roth_jacobian(x), freudenstein_roth, freudenstein_roth_twin);
    }

    #[test]
    fn helical_valley_against_dual(
        x in prop::array::uniform3(-3.0..3.0f64)
            // away from the origin and from the line x0 = 0 where θ jumps
            .prop_filter("near the cut", |x| x[0].abs() > 0.05)
    ) {
        check(x, &helical_valley_jacobian(x), helical_valley, helical_valley_twin);
    }

    #[test]
    fn box_3d_against_dual(x in (-1.0..3.0f64, -1.0..12.0f64, -2.0..2.0f64)) {
        let x = [x.0, x.1, x.2];
        check(x, &box_3d_jacobian(x), box_3d, box_3d_twin);
    }

    #[test]
    fn brown_almost_linear_against_dual(x in prop::array::uniform5(-2.0..2.0f64)) {
        check(
            x,
            &brown_almost_linear_jacobian(x),
            brown_almost_linear,
            brown_almost_linear_twin,
        );
    }
}

#[test]
fn rosenbrock_by_hand() {
    for x in [[-1.2, 1.0], [1.0, 1.0], [0.5, -2.0]] {
        let j: Matrix<2, 2> = rosenbrock_jacobian(x);
        let expected = [[-20.0 * x[0], 10.0], [-1.0, 0.0]];
        assert_jacobian_close_at(&x, &j, &expected, 1e-15, 0.0);
    }
}

#[test]
fn brown_almost_linear_by_hand() {
    // rows 0..n-1: e_i + (1, ..., 1); last row: the products of the other components
    let x = [1.0, 2.0, -1.0, 0.5, 3.0];
    let j: Matrix<5, 5> = brown_almost_linear_jacobian(x);
    let mut expected = [[1.0; 5]; 5];
    for i in 0..4 {
        expected[i][i] = 2.0;
    }
    expected[4] = [-3.0, -1.5, 3.0, -6.0, -1.0];
    assert_eq!(j, Matrix::from_rows(expected));
}

// =======================================================================================
// A planar three-link arm: the tip from joint angles, link lengths constant.
// =======================================================================================

const LINKS: [f64; 3] = [1.0, 0.7, 0.4];

#[jacobian(wrt(q))]
fn arm_tip(q: [f64; 3], lengths: [f64; 3]) -> [f64; 2] {
    let mut angle = 0.0;
    let mut tip = [0.0; 2];
    for i in 0..3 {
        angle += q[i];
        tip[0] += lengths[i] * angle.cos();
        tip[1] += lengths[i] * angle.sin();
    }
    tip
}

fn arm_tip_twin<D: DualNum<Primitive = f64> + Copy>(q: [D; 3], lengths: [f64; 3]) -> [D; 2] {
    let mut angle = D::from(0.0);
    let mut tip = [D::from(0.0); 2];
    for i in 0..3 {
        angle += q[i];
        tip[0] += angle.cos() * lengths[i];
        tip[1] += angle.sin() * lengths[i];
    }
    tip
}

/// The textbook Jacobian: joint k moves every link from k on.
fn arm_jacobian_by_hand(q: [f64; 3], lengths: [f64; 3]) -> [[f64; 3]; 2] {
    let angles = [q[0], q[0] + q[1], q[0] + q[1] + q[2]];
    let mut j = [[0.0; 3]; 2];
    for k in 0..3 {
        for i in k..3 {
            j[0][k] -= lengths[i] * angles[i].sin();
            j[1][k] += lengths[i] * angles[i].cos();
        }
    }
    j
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arm_tip_against_dual(q in prop::array::uniform3(-PI..PI)) {
        let j: Matrix<2, 3> = arm_tip_jacobian(q, LINKS);
        check(q, &j, |q| arm_tip(q, LINKS), |q| arm_tip_twin(q, LINKS));
        assert_jacobian_close_at(&q, &j, &arm_jacobian_by_hand(q, LINKS), 1e-12, 1e-12);
    }
}

#[test]
fn arm_stretched_along_x() {
    // All joints at 0: the tip moves straight up, by the length beyond each joint.
    let j = arm_tip_jacobian([0.0; 3], LINKS);
    assert_eq!(j, Matrix::from_rows([[0.0, 0.0, 0.0], [2.1, 1.1, 0.4]]));
}

// =======================================================================================
// ODE right-hand sides.
// =======================================================================================

struct LorenzParams {
    sigma: f64,
    rho: f64,
    beta: f64,
}

const CLASSIC: LorenzParams = LorenzParams { sigma: 10.0, rho: 28.0, beta: 8.0 / 3.0 };

/// Lorenz system, differentiated in the state only; the parameters are a struct.
#[jacobian(wrt(u))]
fn lorenz(u: [f64; 3], p: &LorenzParams) -> [f64; 3] {
    let x = u[0];
    let y = u[1];
    let z = u[2];
    [p.sigma * (y - x), x * (p.rho - z) - y, x * y - p.beta * z]
}

/// The same in state and parameters: 3 x 6, columns u0 u1 u2 sigma rho beta.
#[jacobian]
fn lorenz_with_parameters(u: [f64; 3], sigma: f64, rho: f64, beta: f64) -> [f64; 3] {
    [sigma * (u[1] - u[0]), u[0] * (rho - u[2]) - u[1], u[0] * u[1] - beta * u[2]]
}

fn lorenz_twin<D: DualNum<Primitive = f64> + Copy>(u: [D; 3], sigma: D, rho: D, beta: D) -> [D; 3] {
    let [x, y, z] = u;
    [sigma * (y - x), x * (rho - z) - y, x * y - beta * z]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn lorenz_against_dual(u in prop::array::uniform3(-30.0..30.0f64)) {
        let p = &CLASSIC;
        check(u, &lorenz_jacobian(u, p), |u| lorenz(u, p), |u| {
            lorenz_twin(u, p.sigma.into(), p.rho.into(), p.beta.into())
        });
        // and the textbook form, exactly
        let [x, y, z] = u;
        let expected = [
            [-p.sigma, p.sigma, 0.0],
            [p.rho - z, -1.0, -x],
            [y, x, -p.beta],
        ];
        assert_jacobian_close_at(&u, &lorenz_jacobian(u, p), &expected, 0.0, 0.0);
    }

    #[test]
    fn lorenz_with_parameters_against_dual(
        u in prop::array::uniform3(-30.0..30.0f64),
        (sigma, rho, beta) in (5.0..15.0f64, 0.0..50.0f64, 0.5..5.0f64),
    ) {
        let v = [u[0], u[1], u[2], sigma, rho, beta];
        let j: Matrix<3, 6> = lorenz_with_parameters_jacobian(u, sigma, rho, beta);
        check(
            v,
            &j,
            |v| lorenz_with_parameters([v[0], v[1], v[2]], v[3], v[4], v[5]),
            |v| lorenz_twin([v[0], v[1], v[2]], v[3], v[4], v[5]),
        );
    }
}

const G: f64 = 9.81;

#[derive(Clone, Copy)]
struct Pendulum {
    length: f64,
    damping: f64,
    drive: f64,
}

/// A damped, driven pendulum; time and parameters are constants.
#[jacobian(wrt(state))]
fn pendulum(state: [f64; 2], t: f64, p: Pendulum) -> [f64; 2] {
    let forcing = p.drive * (1.3 * t).cos();
    [state[1], -(G / p.length) * state[0].sin() - p.damping * state[1] + forcing]
}

fn pendulum_twin<D: DualNum<Primitive = f64> + Copy>(state: [D; 2], t: f64, p: Pendulum) -> [D; 2] {
    let forcing = p.drive * (1.3 * t).cos();
    [state[1], state[0].sin() * -(G / p.length) - state[1] * p.damping + forcing]
}

/// Robertson's stiff chemical kinetics: three species, rates spanning nine decades.
#[jacobian]
fn robertson(y: [f64; 3]) -> [f64; 3] {
    let k1 = 0.04;
    let k2 = 3.0e7;
    let k3 = 1.0e4;
    let r1 = k1 * y[0];
    let r2 = k2 * y[1] * y[1];
    let r3 = k3 * y[1] * y[2];
    [-r1 + r3, r1 - r2 - r3, r2]
}

fn robertson_twin<D: DualNum<Primitive = f64> + Copy>(y: [D; 3]) -> [D; 3] {
    let r1 = y[0] * 0.04;
    let r2 = y[1] * y[1] * 3.0e7;
    let r3 = y[1] * y[2] * 1.0e4;
    [-r1 + r3, r1 - r2 - r3, r2]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn pendulum_against_dual(
        state in prop::array::uniform2(-4.0..4.0f64),
        t in 0.0..20.0f64,
    ) {
        let p = Pendulum { length: 0.8, damping: 0.3, drive: 1.5 };
        let j: Matrix<2, 2> = pendulum_jacobian(state, t, p);
        check(state, &j, |s| pendulum(s, t, p), |s| pendulum_twin(s, t, p));
        let expected = [[0.0, 1.0], [-(G / p.length) * state[0].cos(), -p.damping]];
        assert_jacobian_close_at(&(state, t), &j, &expected, 1e-14, 1e-14);
    }

    #[test]
    fn robertson_against_dual(y in prop::array::uniform3(0.0..1.0f64)) {
        check(y, &robertson_jacobian(y), robertson, robertson_twin);
        let expected = [
            [-0.04, 1.0e4 * y[2], 1.0e4 * y[1]],
            [0.04, -6.0e7 * y[1] - 1.0e4 * y[2], -1.0e4 * y[1]],
            [0.0, 6.0e7 * y[1], 0.0],
        ];
        assert_jacobian_close_scaled(&y, &robertson_jacobian(y), &expected, TOL);
    }
}

// =======================================================================================
// Control flow.
// =======================================================================================

#[jacobian]
fn early_return(x: [f64; 2]) -> f64 {
    if x[0] > x[1] {
        return x[0] * x[0] - x[1];
    }
    let s = x[0] + 2.0 * x[1];
    s.exp() * x[0]
}

fn early_return_twin<D: DualNum<Primitive = f64> + Copy>(x: [D; 2]) -> D {
    if x[0] > x[1] {
        return x[0] * x[0] - x[1];
    }
    let s = x[0] + x[1] * 2.0;
    s.exp() * x[0]
}

/// Newton's iteration for √a, a fixed number of steps counted by an integer.
#[jacobian]
fn newton_sqrt(a: f64) -> f64 {
    let mut r = 1.0 + a;
    let mut k = 0;
    while k < 40 {
        r = 0.5 * (r + a / r);
        k += 1;
    }
    r
}

fn newton_sqrt_twin<D: DualNum<Primitive = f64> + Copy>(a: D) -> D {
    let mut r = a + 1.0;
    for _ in 0..40 {
        r = (r + a / r) * 0.5;
    }
    r
}

/// Newton's iteration until converged: the loop condition reads differentiated values.
#[jacobian]
fn newton_sqrt_until_converged(a: f64) -> f64 {
    let mut r = 1.0 + a;
    let mut k = 0;
    while (r * r - a).abs() > 1e-14 * a && k < 100 {
        r = 0.5 * (r + a / r);
        k += 1;
    }
    r
}

/// Compound growth: `loop` with `break` on an integer counter.
#[jacobian]
fn compound_growth(x: [f64; 2]) -> f64 {
    let principal = x[0];
    let rate = x[1];
    let mut balance = principal;
    let mut year = 0;
    loop {
        balance *= 1.0 + rate;
        year += 1;
        if year == 10 {
            break;
        }
    }
    balance
}

/// `loop` with `break` on a differentiated value: the number of steps depends on x.
#[jacobian]
fn grow_past_threshold(x: f64) -> f64 {
    let mut v = x;
    loop {
        if v > 100.0 {
            break;
        }
        v = 1.5 * v + x.sin();
    }
    v
}

fn grow_past_threshold_twin<D: DualNum<Primitive = f64> + Copy>(x: D) -> D {
    let mut v = x;
    while v <= 100.0 {
        v = v * 1.5 + x.sin();
    }
    v
}

/// How many steps `grow_past_threshold` takes: the output jumps where this changes, and
/// finite differences must not straddle such a point.
fn growth_steps(x: f64) -> usize {
    let mut v = x;
    let mut steps = 0;
    while v <= 100.0 {
        v = 1.5 * v + x.sin();
        steps += 1;
    }
    steps
}

/// `break` with a value out of `loop`.
#[jacobian]
fn break_with_value(x: f64) -> f64 {
    let mut v = x;
    let mut k = 0;
    let result = loop {
        v = v * v.cos() + 1.0;
        k += 1;
        if k == 4 {
            break 2.0 * v;
        }
    };
    result + x
}

fn break_with_value_twin<D: DualNum<Primitive = f64> + Copy>(x: D) -> D {
    let mut v = x;
    for _ in 0..4 {
        v = v * v.cos() + 1.0;
    }
    v * 2.0 + x
}

/// `match` on an integer parameter choosing the formula.
#[jacobian]
fn formula(x: [f64; 2], kind: u8) -> f64 {
    match kind {
        0 => x[0] * x[1],
        1 => x[0].sin() + x[1],
        2 | 3 => (x[0] - x[1]).powi(2),
        _ => x[0].hypot(x[1]),
    }
}

fn formula_twin<D: DualNum<Primitive = f64> + Copy>(x: [D; 2], kind: u8) -> D {
    match kind {
        0 => x[0] * x[1],
        1 => x[0].sin() + x[1],
        2 | 3 => (x[0] - x[1]).powi(2),
        _ => (x[0] * x[0] + x[1] * x[1]).sqrt(),
    }
}

/// A smooth step, with a differentiated condition choosing among three branches.
#[jacobian]
fn smooth_step(x: f64) -> f64 {
    if x < 0.0 {
        0.0
    } else if x < 1.0 {
        x * x * (3.0 - 2.0 * x)
    } else {
        1.0
    }
}

fn smooth_step_twin<D: DualNum<Primitive = f64> + Copy>(x: D) -> D {
    if x < 0.0 {
        D::from(0.0)
    } else if x < 1.0 {
        x * x * (-x * 2.0 + 3.0)
    } else {
        D::from(1.0)
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn early_return_against_dual(
        x in prop::array::uniform2(-2.0..2.0f64)
            .prop_filter("near the switch", |x| (x[0] - x[1]).abs() > 1e-3)
    ) {
        let j: Matrix<1, 2> = early_return_jacobian(x);
        check(x, &j, |x| [early_return(x)], |x| [early_return_twin(x)]);
    }

    #[test]
    fn newton_while_against_dual(a in 0.01..100.0f64) {
        let j: Matrix<1, 1> = newton_sqrt_jacobian(a);
        check([a], &j, |[a]| [newton_sqrt(a)], |[a]| [newton_sqrt_twin(a)]);
        assert_jacobian_close_at(&a, &j, &[[0.5 / a.sqrt()]], 1e-12, 0.0);
    }

    #[test]
    fn newton_while_on_a_differentiated_condition(a in 0.01..100.0f64) {
        // Converged Newton iterates carry the derivative of the root: 1 / (2 √a).
        let j: Matrix<1, 1> = newton_sqrt_until_converged_jacobian(a);
        assert_jacobian_close_at(&a, &j, &[[0.5 / a.sqrt()]], 1e-10, 0.0);
    }

    #[test]
    fn loop_with_break_against_closed_form(x in (0.1..1000.0f64, -0.5..0.5f64)) {
        let (principal, rate) = x;
        let j: Matrix<1, 2> = compound_growth_jacobian([principal, rate]);
        let expected = [[(1.0 + rate).powi(10), 10.0 * principal * (1.0 + rate).powi(9)]];
        assert_jacobian_close_at(&x, &j, &expected, 1e-12, 1e-12);
    }

    #[test]
    fn loop_with_break_on_a_differentiated_value(
        x in (1.0..10.0f64).prop_filter("near a change of step count", |&x| {
            growth_steps(x * (1.0 - 1e-5)) == growth_steps(x * (1.0 + 1e-5))
        })
    ) {
        let j: Matrix<1, 1> = grow_past_threshold_jacobian(x);
        check([x], &j, |[x]| [grow_past_threshold(x)], |[x]| [grow_past_threshold_twin(x)]);
    }

    #[test]
    fn loop_breaking_with_a_value(x in -3.0..3.0f64) {
        let j: Matrix<1, 1> = break_with_value_jacobian(x);
        check([x], &j, |[x]| [break_with_value(x)], |[x]| [break_with_value_twin(x)]);
    }

    #[test]
    fn match_on_an_integer_parameter(
        x in prop::array::uniform2(-3.0..3.0f64)
            .prop_filter("hypot is not smooth at 0", |x| x[0].hypot(x[1]) > 0.05),
        kind in 0..6u8,
    ) {
        let j: Matrix<1, 2> = formula_jacobian(x, kind);
        check(x, &j, |x| [formula(x, kind)], |x| [formula_twin(x, kind)]);
    }

    #[test]
    fn if_else_if_else_on_a_differentiated_value(
        x in (-1.0..2.0f64).prop_filter("near a joint", |x| x.abs() > 1e-3 && (x - 1.0).abs() > 1e-3)
    ) {
        let j: Matrix<1, 1> = smooth_step_jacobian(x);
        check([x], &j, |[x]| [smooth_step(x)], |[x]| [smooth_step_twin(x)]);
    }
}

#[test]
fn early_return_takes_the_branch_taken() {
    // x0 > x1: d(x0² - x1) = (2 x0, -1)
    assert_eq!(early_return_jacobian([3.0, 1.0]), Matrix::from_rows([[6.0, -1.0]]));
    // otherwise: d(e^(x0 + 2 x1) x0) = e^s (1 + x0, 2 x0)
    let x = [0.5, 1.0];
    let s = (2.5f64).exp();
    assert_jacobian_close_at(&x, &early_return_jacobian(x), &[[1.5 * s, s]], 1e-15, 0.0);
}

#[test]
fn smooth_step_flat_outside() {
    assert_eq!(smooth_step_jacobian(-0.5), Matrix::from_rows([[0.0]]));
    assert_eq!(smooth_step_jacobian(1.5), Matrix::from_rows([[0.0]]));
    // 6 x (1 - x) inside
    assert_eq!(smooth_step_jacobian(0.5), Matrix::from_rows([[1.5]]));
}

// =======================================================================================
// Bindings and mutation.
// =======================================================================================

#[jacobian]
fn shadowing(x: f64, y: f64) -> [f64; 2] {
    let x = x * y;
    let y = x + y;
    let x: f64 = x.sin() * y;
    [x, y]
}

fn shadowing_twin<D: DualNum<Primitive = f64> + Copy>(x: D, y: D) -> [D; 2] {
    let x = x * y;
    let y = x + y;
    let x = x.sin() * y;
    [x, y]
}

#[jacobian]
fn compound_assignment(x: [f64; 3]) -> f64 {
    let mut a = x[0];
    a += x[1];
    a *= x[2];
    a -= x[0] * x[0];
    a /= 1.0 + x[1] * x[1];
    a += 2.0;
    a *= 3.0;
    a
}

fn compound_assignment_twin<D: DualNum<Primitive = f64> + Copy>(x: [D; 3]) -> D {
    let mut a = x[0];
    a += x[1];
    a *= x[2];
    a -= x[0] * x[0];
    a /= x[1] * x[1] + 1.0;
    a += 2.0;
    a *= 3.0;
    a
}

/// Element assignment in a loop, reading what the previous iteration wrote.
#[jacobian]
fn prefix_products(x: [f64; 4]) -> [f64; 4] {
    let mut p = [0.0; 4];
    p[0] = x[0];
    for i in 1..4 {
        p[i] = p[i - 1] * x[i];
    }
    p
}

fn prefix_products_twin<D: DualNum<Primitive = f64> + Copy>(x: [D; 4]) -> [D; 4] {
    let mut p = x;
    for i in 1..4 {
        p[i] = p[i - 1] * x[i];
    }
    p
}

/// A copy of a differentiated array, updated in place with compound element assignment.
#[jacobian]
fn smoothing(x: [f64; 5]) -> [f64; 5] {
    let mut y = x;
    for i in 1..4 {
        y[i] += 0.5 * (x[i - 1] + x[i + 1]);
        y[i] *= 0.5;
    }
    y[0] = y[4] * y[0];
    y
}

fn smoothing_twin<D: DualNum<Primitive = f64> + Copy>(x: [D; 5]) -> [D; 5] {
    let mut y = x;
    for i in 1..4 {
        y[i] = (x[i] + (x[i - 1] + x[i + 1]) * 0.5) * 0.5;
    }
    y[0] = x[4] * x[0];
    y
}

#[jacobian]
fn destructuring(x: [f64; 3]) -> [f64; 2] {
    let [a, b, c] = x;
    let (s, t) = (a * b, c.exp());
    [s + t, s * t]
}

fn destructuring_twin<D: DualNum<Primitive = f64> + Copy>(x: [D; 3]) -> [D; 2] {
    let s = x[0] * x[1];
    let t = x[2].exp();
    [s + t, s * t]
}

fn weight(i: usize) -> f64 {
    1.0 / (1.0 + i as f64)
}

/// Tuples, a block expression, a plain function of an integer, `%` in a condition.
#[jacobian]
fn tuples_blocks_and_helpers(x: [f64; 3]) -> [f64; 2] {
    let (a, b) = (x[0] * x[1], x[2].cos());
    let s = {
        let t = a + b;
        t * t
    };
    let mut acc = 0.0;
    for i in 0..3 {
        if i % 2 == 0 {
            acc += weight(i) * x[i];
        } else {
            acc -= weight(i) * x[i] * s;
        }
    }
    [s, acc]
}

fn tuples_blocks_and_helpers_twin<D: DualNum<Primitive = f64> + Copy>(x: [D; 3]) -> [D; 2] {
    let t = x[0] * x[1] + x[2].cos();
    let s = t * t;
    let acc = x[0] * weight(0) - x[1] * s * weight(1) + x[2] * weight(2);
    [s, acc]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn let_shadowing(x in prop::array::uniform2(-3.0..3.0f64)) {
        let j: Matrix<2, 2> = shadowing_jacobian(x[0], x[1]);
        check(x, &j, |[x, y]| shadowing(x, y), |[x, y]| shadowing_twin(x, y));
    }

    #[test]
    fn let_mut_with_compound_assignment(x in prop::array::uniform3(-3.0..3.0f64)) {
        let j: Matrix<1, 3> = compound_assignment_jacobian(x);
        check(x, &j, |x| [compound_assignment(x)], |x| [compound_assignment_twin(x)]);
    }

    #[test]
    fn element_assignment_in_a_loop(x in prop::array::uniform4(-2.0..2.0f64)) {
        let j: Matrix<4, 4> = prefix_products_jacobian(x);
        check(x, &j, prefix_products, prefix_products_twin);
    }

    #[test]
    fn element_compound_assignment_on_a_copy(x in prop::array::uniform5(-2.0..2.0f64)) {
        let j: Matrix<5, 5> = smoothing_jacobian(x);
        check(x, &j, smoothing, smoothing_twin);
    }

    #[test]
    fn destructuring_let(x in prop::array::uniform3(-2.0..2.0f64)) {
        let j: Matrix<2, 3> = destructuring_jacobian(x);
        check(x, &j, destructuring, destructuring_twin);
    }

    #[test]
    fn tuples_block_expressions_and_plain_helpers(x in prop::array::uniform3(-2.0..2.0f64)) {
        let j: Matrix<2, 3> = tuples_blocks_and_helpers_jacobian(x);
        check(x, &j, tuples_blocks_and_helpers, tuples_blocks_and_helpers_twin);
    }
}

// =======================================================================================
// Iteration over arrays, constants, paths.
// =======================================================================================

#[jacobian]
fn sum_by_value(x: [f64; 5]) -> f64 {
    let mut s = 0.0;
    for v in x {
        s += v * v.sin();
    }
    s
}

#[jacobian]
fn sum_by_reference(x: [f64; 5]) -> f64 {
    let mut s = 0.0;
    for v in &x {
        s += *v * *v - 3.0 * *v;
    }
    s
}

#[jacobian]
fn sum_by_reference_auto_deref(x: [f64; 5]) -> f64 {
    let mut s = 0.0;
    for v in &x {
        s += v.exp() * 2.0;
    }
    s
}

const DIM: usize = 4;
const SCALE: f64 = 0.5;

/// A const item as an array length, a loop bound, a value and (cast) a factor.
#[jacobian]
fn ring(x: [f64; DIM]) -> [f64; DIM] {
    let mut y = [0.0; DIM];
    for i in 0..DIM {
        y[i] = x[i] * DIM as f64 + SCALE * x[(i + 1) % DIM] * x[i];
    }
    y
}

fn ring_twin<D: DualNum<Primitive = f64> + Copy>(x: [D; DIM]) -> [D; DIM] {
    std::array::from_fn(|i| x[i] * DIM as f64 + x[(i + 1) % DIM] * x[i] * SCALE)
}

#[jacobian]
fn circle(r: f64) -> [f64; 2] {
    [std::f64::consts::PI * r * r, 2.0 * std::f64::consts::PI * r]
}

#[jacobian]
fn standing_wave(x: [f64; 2]) -> f64 {
    (PI * x[0]).sin() * (2.0 * PI * x[1]).cos()
}

fn standing_wave_twin<D: DualNum<Primitive = f64> + Copy>(x: [D; 2]) -> D {
    (x[0] * PI).sin() * (x[1] * (2.0 * PI)).cos()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn for_over_an_array_by_value(x in prop::array::uniform5(-3.0..3.0f64)) {
        let j: Matrix<1, 5> = sum_by_value_jacobian(x);
        let expected = [x.map(|v| v.sin() + v * v.cos())];
        assert_jacobian_close_at(&x, &j, &expected, 1e-13, 1e-14);
    }

    #[test]
    fn for_over_an_array_by_reference(x in prop::array::uniform5(-3.0..3.0f64)) {
        let j: Matrix<1, 5> = sum_by_reference_jacobian(x);
        let expected = [x.map(|v| 2.0 * v - 3.0)];
        assert_jacobian_close_at(&x, &j, &expected, 1e-15, 1e-15);
        let j: Matrix<1, 5> = sum_by_reference_auto_deref_jacobian(x);
        let expected = [x.map(|v| 2.0 * v.exp())];
        assert_jacobian_close_at(&x, &j, &expected, 1e-15, 1e-15);
    }

    #[test]
    fn const_items_as_length_and_value(x in prop::array::uniform4(-3.0..3.0f64)) {
        let j: Matrix<DIM, DIM> = ring_jacobian(x);
        check(x, &j, ring, ring_twin);
    }

    #[test]
    fn pi_by_path_and_by_use(x in prop::array::uniform2(-2.0..2.0f64)) {
        let j: Matrix<1, 2> = standing_wave_jacobian(x);
        check(x, &j, |x| [standing_wave(x)], |x| [standing_wave_twin(x)]);
        let r = x[0];
        let j: Matrix<2, 1> = circle_jacobian(r);
        let expected = [[2.0 * PI * r], [2.0 * PI]];
        assert_jacobian_close_at(&r, &j, &expected, 1e-15, 1e-15);
    }
}

// =======================================================================================
// Const generics and integer code.
// =======================================================================================

#[jacobian]
fn sumsq<const N: usize>(x: [f64; N]) -> f64 {
    let mut s = 0.0;
    for i in 0..N {
        s += x[i] * x[i];
    }
    s
}

fn sumsq_twin<D: DualNum<Primitive = f64> + Copy, const N: usize>(x: [D; N]) -> D {
    x.iter().map(|&v| v * v).sum()
}

#[jacobian(wrt(x))]
fn scale_all<const N: usize>(x: [f64; N], k: f64) -> [f64; N] {
    let mut y = x;
    for i in 0..N {
        y[i] *= k * (i + 1) as f64;
    }
    y
}

const BAND: usize = 6;

/// A banded coupling: loop bounds from integer methods.
#[jacobian]
fn banded(x: [f64; BAND]) -> [f64; BAND] {
    let mut y = [0.0; BAND];
    for i in 0..BAND {
        for j in i.saturating_sub(1)..(i + 2).min(BAND) {
            y[i] += x[i] * x[j] + (j as f64 - i as f64) * x[j];
        }
    }
    y
}

fn banded_twin<D: DualNum<Primitive = f64> + Copy>(x: [D; BAND]) -> [D; BAND] {
    std::array::from_fn(|i| {
        let mut acc = D::from(0.0);
        let lo = if i == 0 { 0 } else { i - 1 };
        let hi = if i + 2 > BAND { BAND } else { i + 2 };
        for j in lo..hi {
            acc += x[i] * x[j] + x[j] * (j as f64 - i as f64);
        }
        acc
    })
}

const TS: [f64; 5] = [0.0, 0.25, 0.5, 0.75, 1.0];
const YS: [f64; 5] = [1.0, 1.3, 1.9, 2.2, 3.1];

/// Residuals of a cubic fit; `t.powi(j as i32 - 1)` with a non-differentiated `t`.
#[jacobian(wrt(c))]
fn polynomial_residuals(c: [f64; 4], ts: &[f64; 5], ys: &[f64; 5]) -> [f64; 5] {
    let mut r = [0.0; 5];
    for i in 0..5 {
        let t = ts[i];
        let mut model = 0.0;
        for j in 1..=4 {
            model += c[j - 1] * t.powi(j as i32 - 1);
        }
        r[i] = model - ys[i];
    }
    r
}

/// The same powers with a differentiated `t`.
#[jacobian]
fn monomials(t: f64) -> [f64; 4] {
    let mut m = [0.0; 4];
    for j in 1..=4 {
        m[j - 1] = t.powi(j as i32 - 1);
    }
    m
}

/// Sum of squared residuals over slices of run-time length (constants).
#[jacobian(wrt(c))]
fn quadratic_fit_cost(c: [f64; 3], ts: &[f64], ys: &[f64]) -> f64 {
    let mut cost = 0.0;
    for i in 0..ts.len() {
        let r = c[0] + c[1] * ts[i] + c[2] * ts[i] * ts[i] - ys[i];
        cost += r * r;
    }
    cost
}

fn quadratic_fit_cost_twin<D: DualNum<Primitive = f64> + Copy>(c: [D; 3], ts: &[f64], ys: &[f64]) -> D {
    let mut cost = D::from(0.0);
    for (&t, &y) in ts.iter().zip(ys) {
        let r = c[0] + c[1] * t + c[2] * (t * t) - y;
        cost += r * r;
    }
    cost
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn const_generic_size_two(x in prop::array::uniform2(-5.0..5.0f64)) {
        let j: Matrix<1, 2> = sumsq_jacobian(x);
        check(x, &j, |x| [sumsq(x)], |x| [sumsq_twin(x)]);
        assert_eq!(j, Matrix::from_rows([x.map(|v| 2.0 * v)]));
    }

    #[test]
    fn const_generic_size_fifty(x in prop::collection::vec(-5.0..5.0f64, 50)) {
        let x: [f64; 50] = array(x);
        let j: Matrix<1, 50> = sumsq_jacobian::<50>(x);
        check(x, &j, |x| [sumsq(x)], |x| [sumsq_twin(x)]);
        assert_eq!(j, Matrix::from_rows([x.map(|v| 2.0 * v)]));
    }

    #[test]
    fn integer_methods_in_loop_bounds(x in prop::array::uniform6(-2.0..2.0f64)) {
        let j: Matrix<BAND, BAND> = banded_jacobian(x);
        check(x, &j, banded, banded_twin);
    }

    #[test]
    fn slices_of_run_time_length_as_constants(
        c in prop::array::uniform3(-2.0..2.0f64),
        n in 1..8usize,
    ) {
        let ts: Vec<f64> = (0..n).map(|i| i as f64 * 0.3).collect();
        let ys: Vec<f64> = ts.iter().map(|t| t.sin()).collect();
        let j: Matrix<1, 3> = quadratic_fit_cost_jacobian(c, &ts, &ys);
        check(
            c,
            &j,
            |c| [quadratic_fit_cost(c, &ts, &ys)],
            |c| [quadratic_fit_cost_twin(c, &ts, &ys)],
        );
    }
}

#[test]
fn oracles_agree_with_each_other() {
    // The seeding used by every check here against num-dual's own `gradient`, and both
    // against the closed form, on the 50-component sum of squares.
    let x: [f64; 50] = std::array::from_fn(|i| (i as f64 * 0.37).sin() * 3.0);
    let (value, seeded) = dual_jacobian(|x| [sumsq_twin(x)], x);
    let (value_nd, by_num_dual) = num_dual_gradient(sumsq_twin, x);
    assert_eq!(value[0], value_nd);
    assert_eq!(seeded, by_num_dual);
    assert_eq!(seeded, [x.map(|v| 2.0 * v)]);
}

#[test]
fn const_generic_with_a_constant_scalar() {
    let j: Matrix<3, 3> = scale_all_jacobian([1.0, 2.0, 3.0], 0.5);
    assert_eq!(j, Matrix::from_rows([[0.5, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.5]]));
    let j: Matrix<1, 1> = scale_all_jacobian([7.0], -2.0);
    assert_eq!(j, Matrix::from_rows([[-2.0]]));
}

#[test]
fn powi_with_integer_exponents_gives_vandermonde() {
    let c = [0.3, -1.0, 2.0, 0.5];
    let j: Matrix<5, 4> = polynomial_residuals_jacobian(c, &TS, &YS);
    let mut expected = [[0.0; 4]; 5];
    for i in 0..5 {
        for k in 0..4 {
            expected[i][k] = TS[i].powi(k as i32);
        }
    }
    // t = 0: the constant column is 0^0 = 1, the others 0
    assert_eq!(j, Matrix::from_rows(expected));
}

#[test]
fn powi_with_differentiated_base_gives_column_of_derivatives() {
    for t in [-2.0, -0.5, 0.0, 0.25, 1.0, 3.0] {
        let j: Matrix<4, 1> = monomials_jacobian(t);
        // d/dt (1, t, t², t³) = (0, 1, 2t, 3t²); at t = 0 the first is still 0.
        let expected = [[0.0], [1.0], [2.0 * t], [3.0 * t * t]];
        assert_jacobian_close_at(&t, &j, &expected, 1e-15, 0.0);
    }
}

// =======================================================================================
// Methods, options and shapes.
// =======================================================================================

struct Model {
    ts: [f64; 3],
    ys: [f64; 3],
}

impl Model {
    /// Residuals of y = p0 e^(p1 t) over the model's data; `self` is a constant.
    #[jacobian]
    fn residual(&self, p: [f64; 2]) -> [f64; 3] {
        let mut r = [0.0; 3];
        for i in 0..3 {
            r[i] = p[0] * (p[1] * self.ts[i]).exp() - self.ys[i];
        }
        r
    }

    /// An associated function without `self`.
    #[jacobian]
    fn decay(rate: f64, t: f64) -> f64 {
        (-rate * t).exp()
    }
}

fn model_residual_twin<D: DualNum<Primitive = f64> + Copy>(model: &Model, p: [D; 2]) -> [D; 3] {
    std::array::from_fn(|i| p[0] * (p[1] * model.ts[i]).exp() - model.ys[i])
}

/// `wrt` lists `b` before `a`; the columns are still in parameter order: a, b0, b1.
#[jacobian(wrt(b, a))]
fn reversed_wrt(a: f64, k: f64, b: [f64; 2]) -> [f64; 2] {
    [a * b[0] + k, a.sin() * b[1] * k]
}

fn reversed_wrt_twin<D: DualNum<Primitive = f64> + Copy>(a: D, k: f64, b: [D; 2]) -> [D; 2] {
    [a * b[0] + k, a.sin() * b[1] * k]
}

#[jacobian(name = grad_f)]
fn f(x: [f64; 3]) -> f64 {
    x[0] * x[1].exp() + x[2] * x[2]
}

#[jacobian(value)]
fn polar_to_cartesian(p: [f64; 2]) -> [f64; 2] {
    [p[0] * p[1].cos(), p[0] * p[1].sin()]
}

#[jacobian(value)]
fn energy(x: [f64; 2]) -> f64 {
    0.5 * x[0] * x[1] * x[1] + x[0].cos()
}

/// A differentiated parameter by shared reference.
#[jacobian]
fn dot_self(x: &[f64; 3]) -> f64 {
    x[0] * x[0] + x[1] * x[1] + x[2] * x[2]
}

/// Two differentiated arrays: columns are a0 a1 a2 b0 b1 b2.
#[jacobian]
fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
}

#[jacobian]
fn rotate(p: [f64; 2], angle: f64) -> [f64; 2] {
    let (s, c) = (angle.sin(), angle.cos());
    [c * p[0] - s * p[1], s * p[0] + c * p[1]]
}

/// Calls another `#[jacobian]` function in a loop: the chain rule through its sibling.
#[jacobian]
fn spiral(p: [f64; 2], angle: f64) -> [f64; 2] {
    let mut q = p;
    for _ in 0..3 {
        q = rotate(q, angle);
        q[0] *= 0.9;
    }
    q
}

fn spiral_twin<D: DualNum<Primitive = f64> + Copy>(p: [D; 2], angle: D) -> [D; 2] {
    let mut q = p;
    for _ in 0..3 {
        let (s, c) = (angle.sin(), angle.cos());
        q = [(c * q[0] - s * q[1]) * 0.9, s * q[0] + c * q[1]];
    }
    q
}

#[jacobian]
fn kinetic_energy_f32(v: [f32; 3], m: f32) -> f32 {
    0.5 * m * (v[0] * v[0] + v[1] * v[1] + v[2] * v[2])
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn method_with_constant_self(p in (0.1..3.0f64, -2.0..2.0f64)) {
        let model = Model { ts: [0.0, 0.5, 1.5], ys: [1.0, 2.0, 2.5] };
        let p = [p.0, p.1];
        let j: Matrix<3, 2> = model.residual_jacobian(p);
        check(p, &j, |p| model.residual(p), |p| model_residual_twin(&model, p));
    }

    #[test]
    fn associated_function(x in (0.0..3.0f64, -2.0..2.0f64)) {
        let (rate, t) = x;
        let j: Matrix<1, 2> = Model::decay_jacobian(rate, t);
        let e = (-rate * t).exp();
        assert_jacobian_close_at(&x, &j, &[[-t * e, -rate * e]], 1e-14, 1e-15);
    }

    #[test]
    fn wrt_in_reverse_order_keeps_parameter_order(
        v in prop::array::uniform3(-2.0..2.0f64),
        k in -2.0..2.0f64,
    ) {
        let j: Matrix<2, 3> = reversed_wrt_jacobian(v[0], k, [v[1], v[2]]);
        check(
            v,
            &j,
            |v| reversed_wrt(v[0], k, [v[1], v[2]]),
            |v| reversed_wrt_twin(v[0], k, [v[1], v[2]]),
        );
    }

    #[test]
    fn renamed_sibling(x in prop::array::uniform3(-2.0..2.0f64)) {
        let j: Matrix<1, 3> = grad_f(x);
        check(x, &j, |x| [f(x)], |x| [x[0] * x[1].exp() + x[2] * x[2]]);
        let gradient: Matrix<3, 1> = j.transpose();
        let expected = [[x[1].exp()], [x[0] * x[1].exp()], [2.0 * x[2]]];
        assert_jacobian_close_at(&x, &gradient, &expected, 1e-15, 1e-15);
    }

    #[test]
    fn value_and_jacobian_of_a_vector_function(p in (0.1..5.0f64, -PI..PI)) {
        let p = [p.0, p.1];
        let (value, j): ([f64; 2], Matrix<2, 2>) = polar_to_cartesian_value_and_jacobian(p);
        assert_eq!(value, polar_to_cartesian(p));
        let (r, phi) = (p[0], p[1]);
        let expected = [[phi.cos(), -r * phi.sin()], [phi.sin(), r * phi.cos()]];
        assert_jacobian_close_at(&p, &j, &expected, 1e-14, 1e-15);
        assert_jacobian_close_at(&p, &j, &polar_to_cartesian_jacobian(p), 1e-15, 0.0);
        // the area element of polar coordinates
        let det = j.determinant();
        assert!((det - r).abs() <= 1e-13 * r, "det {det} vs r {r}");
    }

    #[test]
    fn value_and_jacobian_of_a_scalar_function(x in prop::array::uniform2(-3.0..3.0f64)) {
        let (value, j): (f64, Matrix<1, 2>) = energy_value_and_jacobian(x);
        assert_eq!(value, energy(x));
        let expected = [[0.5 * x[1] * x[1] - x[0].sin(), x[0] * x[1]]];
        assert_jacobian_close_at(&x, &j, &expected, 1e-14, 1e-15);
    }

    #[test]
    fn differentiated_parameter_by_reference(x in prop::array::uniform3(-3.0..3.0f64)) {
        let j: Matrix<1, 3> = dot_self_jacobian(&x);
        assert_eq!(j, Matrix::from_rows([x.map(|v| 2.0 * v)]));
    }

    #[test]
    fn two_differentiated_arrays(
        a in prop::array::uniform3(-3.0..3.0f64),
        b in prop::array::uniform3(-3.0..3.0f64),
    ) {
        let j: Matrix<3, 6> = cross_jacobian(a, b);
        // d(a × b) = [-[b]ₓ | [a]ₓ], [v]ₓ the cross-product matrix of v
        let expected = [
            [0.0, b[2], -b[1], 0.0, -a[2], a[1]],
            [-b[2], 0.0, b[0], a[2], 0.0, -a[0]],
            [b[1], -b[0], 0.0, -a[1], a[0], 0.0],
        ];
        assert_eq!(j, Matrix::from_rows(expected));
    }

    #[test]
    fn chain_rule_through_another_annotated_function(
        v in prop::array::uniform3(-2.0..2.0f64),
    ) {
        let j: Matrix<2, 3> = spiral_jacobian([v[0], v[1]], v[2]);
        check(
            v,
            &j,
            |v| spiral([v[0], v[1]], v[2]),
            |v| spiral_twin([v[0], v[1]], v[2]),
        );
    }

    #[test]
    fn single_precision_program(
        v in prop::array::uniform3(-3.0..3.0f32),
        m in 0.1..10.0f32,
    ) {
        let j: Matrix<1, 4, f32> = kinetic_energy_f32_jacobian(v, m);
        let (_, expected) = dual_jacobian(
            |[a, b, c, m]| [m * 0.5 * (a * a + b * b + c * c)],
            [v[0], v[1], v[2], m],
        );
        assert_jacobian_close_at(&(v, m), &j, &expected, 1e-5, 1e-5);
    }
}

#[test]
fn shapes_of_scalar_input_and_scalar_output() {
    // scalar output: one row; scalar input: one column
    let row: Matrix<1, 3> = f_gradient_row();
    assert_eq!(Matrix::<1, 3>::ROWS, 1);
    assert_eq!(Matrix::<1, 3>::COLS, 3);
    assert_eq!(row.transpose(), Matrix::from_rows([[1.0], [0.0], [2.0]]));
    let column: Matrix<4, 1> = monomials_jacobian(1.0);
    assert_eq!(Matrix::<4, 1>::ROWS, 4);
    assert_eq!(Matrix::<4, 1>::COLS, 1);
    assert_eq!(column, Matrix::from_rows([[0.0], [1.0], [2.0], [3.0]]));
}

fn f_gradient_row() -> Matrix<1, 3> {
    // f = x0 e^x1 + x2², at (0, 0, 1): (1, 0, 2)
    grad_f([0.0, 0.0, 1.0])
}

fn lowest() -> f64 {
    f64::NEG_INFINITY
}

/// A running maximum whose initial value comes from a plain function: its type is seen
/// from the differentiated values assigned to it in the loop (this used to need an
/// annotation).
#[jacobian]
fn running_maximum(x: [f64; 3]) -> f64 {
    let mut best = lowest();
    for i in 0..3 {
        if x[i] > best {
            best = x[i];
        }
    }
    best
}

#[test]
fn running_maximum_from_an_unannotated_initial_value() {
    assert_eq!(running_maximum_jacobian([1.0, 5.0, 3.0]), Matrix::from_rows([[0.0, 1.0, 0.0]]));
    assert_eq!(running_maximum_jacobian([7.0, 5.0, 3.0]), Matrix::from_rows([[1.0, 0.0, 0.0]]));
    assert_eq!(running_maximum_jacobian([1.0, 5.0, 9.0]), Matrix::from_rows([[0.0, 0.0, 1.0]]));
}
