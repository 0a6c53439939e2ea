//! Calls of other `#[jacobian]` functions through the new pipeline (`Op::Chain`): the
//! caller's derivative chains through the callee's hidden parts sibling in forward mode,
//! reverse mode, `jvp` and `vjp`. Each caller is checked against dual numbers on random
//! points, and forward mode against reverse mode.

#![allow(clippy::needless_range_loop)]

mod common;

use common::{assert_jacobian_close_scaled, dual_jacobian, hyper_dual_hessian};
use jacobian::{jacobian, Matrix, Vector};
use num_dual::{DualNum, HyperDual64};
use proptest::prelude::*;

#[path = "calls_elsewhere/mod.rs"]
mod calls_elsewhere;

const N: usize = 8;
const TOL: f64 = 1e-12;

#[jacobian]
fn softplus(t: f64) -> f64 {
    (1.0 + t.exp()).ln()
}

fn softplus_twin<D: DualNum<Primitive = f64> + Copy>(t: D) -> D {
    (t.exp() + 1.0).ln()
}

#[jacobian]
fn pair(a: f64, b: f64) -> f64 {
    a * b.sin() + b
}

fn pair_twin<D: DualNum<Primitive = f64> + Copy>(a: D, b: D) -> D {
    a * b.sin() + b
}

/// A scalar helper in a loop: a gradient with many inputs (reverse mode chains through the
/// callee's parts in its backward sweep).
#[jacobian(mode = reverse, vjp, jvp)]
fn loss(x: [f64; N]) -> f64 {
    let mut total = 0.0;
    for i in 0..N - 1 {
        total += softplus(x[i] - x[i + 1]) * pair(x[i], x[i + 1]);
    }
    total
}

#[jacobian(mode = forward)]
fn loss_forward(x: [f64; N]) -> f64 {
    let mut total = 0.0;
    for i in 0..N - 1 {
        total += softplus(x[i] - x[i + 1]) * pair(x[i], x[i + 1]);
    }
    total
}

fn loss_twin<D: DualNum<Primitive = f64> + Copy>(x: [D; N]) -> D {
    let mut total = D::from(0.0);
    for i in 0..N - 1 {
        total += softplus_twin(x[i] - x[i + 1]) * pair_twin(x[i], x[i + 1]);
    }
    total
}

/// A vector-valued helper whose result type the caller writes, with a constant argument
/// by reference.
#[jacobian(wrt(x))]
fn rotate(angle: f64, x: Vector<2>) -> Vector<2> {
    let (s, c) = angle.sin_cos();
    Vector::from([c * x[0] - s * x[1], s * x[0] + c * x[1]])
}

#[jacobian(wrt(v))]
fn scaled(m: &Matrix<2, 2>, v: Vector<2>) -> [f64; 2] {
    let w = m * v;
    [w[0] * w[1], w[0] - w[1].tanh()]
}

#[jacobian(mode = reverse, vjp, jvp)]
fn chained(x: [f64; 3]) -> [f64; 3] {
    let m = Matrix::from_rows([[1.0, 0.5], [-0.25, 2.0]]);
    let r: Vector<2> = rotate(0.3, Vector::from([x[0], x[1] * x[2]]));
    let s: [f64; 2] = scaled(&m, r);
    [s[0] + x[2], s[1] * x[0], softplus(r[0]) + pair(x[1], s[1])]
}

#[jacobian(mode = forward)]
fn chained_forward(x: [f64; 3]) -> [f64; 3] {
    let m = Matrix::from_rows([[1.0, 0.5], [-0.25, 2.0]]);
    let r: Vector<2> = rotate(0.3, Vector::from([x[0], x[1] * x[2]]));
    let s: [f64; 2] = scaled(&m, r);
    [s[0] + x[2], s[1] * x[0], softplus(r[0]) + pair(x[1], s[1])]
}

fn chained_twin<D: DualNum<Primitive = f64> + Copy>(x: [D; 3]) -> [D; 3] {
    let (s, c) = (D::from(0.3_f64.sin()), D::from(0.3_f64.cos()));
    let y = [x[0], x[1] * x[2]];
    let r = [c * y[0] - s * y[1], s * y[0] + c * y[1]];
    let w = [r[0] + r[1] * 0.5, r[0] * -0.25 + r[1] * 2.0];
    let sc = [w[0] * w[1], w[0] - w[1].tanh()];
    [sc[0] + x[2], sc[1] * x[0], softplus_twin(r[0]) + pair_twin(x[1], sc[1])]
}

/// A method of a constant receiver, a path call, and a call as the result.
struct Model {
    weights: [f64; 3],
}

impl Model {
    #[jacobian(wrt(x))]
    fn response(&self, x: [f64; 3]) -> f64 {
        let mut s = 0.0;
        for i in 0..3 {
            s += self.weights[i] * x[i].tanh();
        }
        s
    }

    #[jacobian(wrt(x), mode = reverse)]
    fn objective(&self, x: [f64; 3]) -> f64 {
        self.response(x).powi(2) + helpers::bump(x[0] * x[2])
    }
}

fn response_twin<D: DualNum<Primitive = f64> + Copy>(weights: [f64; 3], x: [D; 3]) -> D {
    let mut s = D::from(0.0);
    for i in 0..3 {
        s += x[i].tanh() * weights[i];
    }
    s
}

mod helpers {
    use jacobian::jacobian;

    #[jacobian]
    pub fn bump(t: f64) -> f64 {
        (-t * t).exp()
    }
}

/// The result of a call is the function's result.
#[jacobian]
fn returned(x: [f64; 2]) -> Vector<2> {
    rotate(0.7, Vector::from([x[1], x[0] * x[1]]))
}

fn returned_twin<D: DualNum<Primitive = f64> + Copy>(x: [D; 2]) -> [D; 2] {
    let (s, c) = (D::from(0.7_f64.sin()), D::from(0.7_f64.cos()));
    let y = [x[1], x[0] * x[1]];
    [c * y[0] - s * y[1], s * y[0] + c * y[1]]
}

/// Result types the caller does not write: read from the callees' signatures in this file
/// (a matrix multiplied and transposed, a vector passed on, a const-generic callee, a
/// parameter taken by reference passed on as it is).
#[jacobian]
fn rotation(t: f64) -> Matrix<2, 2> {
    Matrix::from_rows([[t.cos(), -t.sin()], [t.sin(), t.cos()]])
}

#[jacobian]
fn squares<const M: usize>(x: [f64; M]) -> [f64; M] {
    let mut out = x;
    for i in 0..M {
        out[i] = x[i] * x[i];
    }
    out
}

#[jacobian(wrt(x))]
fn shifted(x: &Vector<2>, by: f64) -> Vector<2> {
    Vector::from([x[0] + by, x[1] * by])
}

#[jacobian(mode = reverse, vjp)]
fn unwritten(t: f64, x: &Vector<2>) -> [f64; 3] {
    let r = rotation(t);
    let y = r * shifted(x, 0.5);
    let z = rotation(t).transpose() * y;
    let s = squares([z[0], y[1], t]);
    [s[0] + s[2], s[1] * z[1], y[0]]
}

fn unwritten_twin<D: DualNum<Primitive = f64> + Copy>(v: [D; 3]) -> [D; 3] {
    let (t, x) = (v[0], [v[1], v[2]]);
    let (c, s) = (t.cos(), t.sin());
    let w = [x[0] + 0.5, x[1] * 0.5];
    let y = [c * w[0] - s * w[1], s * w[0] + c * w[1]];
    let z = [c * y[0] + s * y[1], -s * y[0] + c * y[1]];
    let sq = [z[0] * z[0], y[1] * y[1], t * t];
    [sq[0] + sq[2], sq[1] * z[1], y[0]]
}

/// Second derivatives through calls: the callees' bodies are written out in place (same
/// module, no assignments, no generics), the chain then differentiated twice.
#[jacobian(value, hessian, hvp)]
fn through_helpers(x: [f64; N]) -> f64 {
    let mut total = 0.0;
    for i in 0..N - 1 {
        total += softplus(x[i] - x[i + 1]) * pair(x[i], x[i + 1]);
    }
    total + softplus(x[0] * x[N - 1])
}

fn through_helpers_twin<D: DualNum<Primitive = f64> + Copy>(x: [D; N]) -> D {
    let mut total = D::from(0.0);
    for i in 0..N - 1 {
        total += softplus_twin(x[i] - x[i + 1]) * pair_twin(x[i], x[i + 1]);
    }
    total + softplus_twin(x[0] * x[N - 1])
}

/// Helpers written out in place whose parameters are references (read through `*`, in
/// branch conditions, looped over), an integer, and locals they assign: the names stay
/// references to the caller's values (once `E0425`/`E0614` inside the expansion: fuzzer
/// seeds 103 and 0x49fb52f16ef6a62a).
#[jacobian]
fn by_reference(r: &f64, a: &[f64; 3], k: usize) -> f64 {
    let s = if *r > 0.0 { r * 2.0 } else { r.sin() };
    let copy = *a;
    let t = if copy[k] > 0.5 && a[0] < 1.5 { a[0] * s } else { s };
    let mut total = 0.0;
    for v in a {
        if *v > 0.1 {
            total += v * t;
        }
    }
    total + a.iter().sum::<f64>()
}

fn by_reference_twin(r: HyperDual64, a: [HyperDual64; 3], k: usize) -> HyperDual64 {
    let s = if r.re > 0.0 { r * 2.0 } else { r.sin() };
    let t = if a[k].re > 0.5 && a[0].re < 1.5 { a[0] * s } else { s };
    let mut total = HyperDual64::from(0.0);
    for v in a {
        if v.re > 0.1 {
            total += v * t;
        }
    }
    total + a[0] + a[1] + a[2]
}

#[jacobian(hessian)]
fn through_references(x: &[f64; 3]) -> f64 {
    let k = 2;
    by_reference(&x[1], x, k) * by_reference(&x[0].tanh(), &[x[0], 2.0 * x[2], x[1].sin()], 0)
}

fn through_references_twin(x: [HyperDual64; 3]) -> HyperDual64 {
    by_reference_twin(x[1], x, 2) * by_reference_twin(x[0].tanh(), [x[0], x[2] * 2.0, x[1].sin()], 0)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn a_scalar_helper_in_a_loop(x in prop::array::uniform8(-2.0f64..2.0)) {
        let (value, expected) = dual_jacobian(|x| [loss_twin(x)], x);
        let reverse = loss_jacobian(x);
        let forward = loss_forward_jacobian(x);
        assert_jacobian_close_scaled(&x, &reverse, &expected, TOL);
        assert_jacobian_close_scaled(&x, &forward, &expected, TOL);
        let u = 0.75;
        let (v_value, vjp) = loss_vjp(x, Vector::from([u]));
        prop_assert!((v_value - value[0]).abs() < 1e-12);
        for k in 0..N {
            prop_assert!((vjp[k] - u * expected[0][k]).abs() < 1e-11 * (1.0 + expected[0][k].abs()));
        }
        let direction: [f64; N] = std::array::from_fn(|k| (k as f64 * 0.37).sin());
        let (_, jvp) = loss_jvp(x, Vector::from(direction));
        let dot: f64 = (0..N).map(|k| expected[0][k] * direction[k]).sum();
        prop_assert!((jvp[0] - dot).abs() < 1e-11 * (1.0 + dot.abs()));
    }

    #[test]
    fn vector_helpers_with_written_types(x in prop::array::uniform3(-2.0f64..2.0)) {
        let (value, expected) = dual_jacobian(chained_twin, x);
        assert_jacobian_close_scaled(&x, &chained_jacobian(x), &expected, TOL);
        assert_jacobian_close_scaled(&x, &chained_forward_jacobian(x), &expected, TOL);
        let u = [0.5, -1.25, 2.0];
        let (v_value, vjp) = chained_vjp(x, Vector::from(u));
        for i in 0..3 {
            prop_assert!((v_value[i] - value[i]).abs() < 1e-12);
        }
        for k in 0..3 {
            let e: f64 = (0..3).map(|i| u[i] * expected[i][k]).sum();
            prop_assert!((vjp[k] - e).abs() < 1e-11 * (1.0 + e.abs()));
        }
        let v = [1.0, -0.5, 0.25];
        let (_, jvp) = chained_jvp(x, Vector::from(v));
        for i in 0..3 {
            let e: f64 = (0..3).map(|k| expected[i][k] * v[k]).sum();
            prop_assert!((jvp[i] - e).abs() < 1e-11 * (1.0 + e.abs()));
        }
    }

    #[test]
    fn methods_and_paths(x in prop::array::uniform3(-2.0f64..2.0)) {
        let model = Model { weights: [0.5, -1.5, 2.0] };
        let (_, expected) = dual_jacobian(
            |x| [response_twin(model.weights, x).powi(2) + (-(x[0] * x[2]) * (x[0] * x[2])).exp()],
            x,
        );
        assert_jacobian_close_scaled(&x, &model.objective_jacobian(x), &expected, TOL);
    }

    #[test]
    fn a_call_as_the_result(x in prop::array::uniform2(-2.0f64..2.0)) {
        let (_, expected) = dual_jacobian(returned_twin, x);
        assert_jacobian_close_scaled(&x, &returned_jacobian(x), &expected, TOL);
    }

    #[test]
    fn result_types_from_the_callees_signatures(v in prop::array::uniform3(-2.0f64..2.0)) {
        let (_, expected) = dual_jacobian(unwritten_twin, v);
        let x = Vector::from([v[1], v[2]]);
        assert_jacobian_close_scaled(&v, &unwritten_jacobian(v[0], &x), &expected, TOL);
        let u = [1.0, -2.0, 0.5];
        let (_, vjp) = unwritten_vjp(v[0], &x, Vector::from(u));
        for k in 0..3 {
            let e: f64 = (0..3).map(|i| u[i] * expected[i][k]).sum();
            prop_assert!((vjp[k] - e).abs() < 1e-11 * (1.0 + e.abs()));
        }
    }

    #[test]
    fn hessians_through_calls(x in prop::array::uniform8(-1.5f64..1.5)) {
        let expected = hyper_dual_hessian(x, through_helpers_twin);
        let h = through_helpers_hessian(x);
        let (value, _, h2) = through_helpers_value_gradient_hessian(x);
        prop_assert!((value - through_helpers(x)).abs() < 1e-14);
        let scale = expected.iter().flatten().fold(1.0f64, |s, v| s.max(v.abs()));
        for i in 0..N {
            for j in 0..N {
                prop_assert!((h[(i, j)] - expected[i][j]).abs() < 1e-12 * scale, "({}, {}): {} vs {}", i, j, h[(i, j)], expected[i][j]);
                prop_assert_eq!(h[(i, j)], h[(j, i)]);
                prop_assert_eq!(h[(i, j)], h2[(i, j)]);
            }
        }
        let v: [f64; N] = std::array::from_fn(|k| (k as f64 * 0.7).cos());
        let hv = through_helpers_hvp(x, Vector::from(v));
        for i in 0..N {
            let e: f64 = (0..N).map(|k| expected[i][k] * v[k]).sum();
            prop_assert!((hv[i] - e).abs() < 1e-11 * scale);
        }
    }

    #[test]
    fn hessians_through_helpers_taking_references(x in prop::array::uniform3(-1.5f64..1.5)) {
        let expected = hyper_dual_hessian(x, through_references_twin);
        let h = through_references_hessian(&x);
        let scale = expected.iter().flatten().fold(1.0f64, |s, v| s.max(v.abs()));
        for i in 0..3 {
            for j in 0..3 {
                prop_assert!((h[(i, j)] - expected[i][j]).abs() < 1e-12 * scale, "({}, {}): {} vs {}", i, j, h[(i, j)], expected[i][j]);
            }
        }
    }
}

/// A helper written out in place whose integer parameter is used in integer arithmetic
/// (`n % 3`, `n.min(1)`: code, not a differentiated value) and which assigns to its own
/// `mut` parameter.
#[jacobian]
fn integer_arithmetic(mut x: f64, a: [f64; 2], n: usize) -> f64 {
    x *= a[n.min(1)];
    x * x * ((n % 3) as f64 + 1.0)
}

#[jacobian(hessian)]
fn through_integer_arithmetic(a: [f64; 2], n: usize) -> f64 {
    integer_arithmetic(a[0], a, n + 1)
}

#[test]
fn hessian_through_integer_arithmetic() {
    for (a, n) in [([0.5, -1.25], 0usize), ([2.0, 0.75], 2), ([1.5, 3.0], 4)] {
        // x = a0 · a1 (index min(n + 1, 1) = 1), f = c · a0² · a1², c = (n + 1) % 3 + 1.
        let c = ((n + 1) % 3) as f64 + 1.0;
        let expected =
            [[2.0 * c * a[1] * a[1], 4.0 * c * a[0] * a[1]], [4.0 * c * a[0] * a[1], 2.0 * c * a[0] * a[0]]];
        assert_jacobian_close_scaled(&(a, n), &through_integer_arithmetic_hessian(a, n), &expected, TOL);
    }
}

/// A call of an annotated function in another file, its result type not written: the
/// macro reads the callee's signature there.
#[jacobian]
fn through_another_file(x: [f64; 2]) -> f64 {
    let p = calls_elsewhere::elsewhere_polar(x[0], x[1]);
    p.dot(&p) + p[0]
}

#[test]
fn a_callee_in_another_file() {
    let x = [1.5, 0.25];
    // |p|² = r², p[0] = r cos θ.
    let expected = [[2.0 * x[0] + x[1].cos(), -x[0] * x[1].sin()]];
    assert_jacobian_close_scaled(&x, &through_another_file_jacobian(x), &expected, TOL);
}

/// A literal argument for an integer parameter of a helper written out in place, on which
/// the helper calls a method (`2.saturating_sub(1)` alone would be ambiguous on
/// `{integer}`: fuzzer seed 16).
#[jacobian]
fn integer_method(x: f64, n: usize) -> f64 {
    x * (n.saturating_sub(1) as f64 + 1.0)
}

#[jacobian(hessian)]
fn through_integer_method(x: f64) -> f64 {
    integer_method(x, 2) * x
}

#[test]
fn hessian_through_a_literal_integer_argument() {
    // 2x².
    assert_eq!(through_integer_method_hessian(0.5).as_rows(), &[[4.0]]);
}
