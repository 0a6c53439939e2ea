//! Differentiable structs: `#[derive(Differentiable)]` structs as parameters and results of
//! `#[jacobian]` functions, with every sibling (forward and reverse mode, `value`, `jvp`,
//! `vjp`, `hessian`, `hvp`), checked against dual-number twins over the fields' components
//! at random points; the derive's conversions; `wrt` over struct parameters; and the ways a
//! body builds a struct (a literal in any field order, `..base`, a variable, a branch, an
//! early `return`, a mutable local updated field by field).

#![allow(clippy::needless_range_loop)]

mod common;

use common::{assert_jacobian_close_scaled, dual_jacobian, hyper_dual_hessian};
use jacobian::{jacobian, Differentiable, Matrix, Vector};
use num_dual::DualNum;
use proptest::prelude::*;

const TOL: f64 = 1e-12;
const D: usize = 2;

/// A point mass: position, velocity, mass. 7 components, in field order.
#[derive(Clone, Copy, Debug, PartialEq, Differentiable)]
pub struct State {
    pub p: [f64; 3],
    pub v: [f64; 3],
    pub m: f64,
}

/// One explicit step with drag and gravity: a struct in, a struct out.
#[jacobian(value, jvp, vjp)]
fn step(s: State, dt: f64) -> State {
    let mut p = s.p;
    for i in 0..3 {
        p[i] += dt * s.v[i];
    }
    let drag = 0.1 * s.m.sqrt();
    State { p, v: [s.v[0] * (1.0 - drag * dt), s.v[1] * (1.0 - drag * dt), s.v[2] - 9.81 * dt], m: s.m }
}

/// The same step in forward mode, the fields written in another order and the unchanged
/// ones taken with `..s`.
#[jacobian(mode = forward)]
fn step_forward(s: State, dt: f64) -> State {
    let drag = 0.1 * s.m.sqrt();
    let v = [s.v[0] * (1.0 - drag * dt), s.v[1] * (1.0 - drag * dt), s.v[2] - 9.81 * dt];
    State { v, p: [s.p[0] + dt * s.v[0], s.p[1] + dt * s.v[1], s.p[2] + dt * s.v[2]], ..s }
}

fn step_twin<T: DualNum<Primitive = f64> + Copy>(x: &[T]) -> Vec<T> {
    let (p, v, m, dt) = ([x[0], x[1], x[2]], [x[3], x[4], x[5]], x[6], x[7]);
    let drag = m.sqrt() * 0.1;
    let k = -(drag * dt) + 1.0;
    vec![p[0] + dt * v[0], p[1] + dt * v[1], p[2] + dt * v[2], v[0] * k, v[1] * k, v[2] - dt * 9.81, m]
}

/// Kinetic plus potential energy, by reference: a scalar with second derivatives.
#[jacobian(value, hessian, hvp)]
fn energy(s: &State) -> f64 {
    let v2 = s.v[0] * s.v[0] + s.v[1] * s.v[1] + s.v[2] * s.v[2];
    0.5 * s.m * v2 + s.m * 9.81 * s.p[2] + (s.p[0] * s.p[1]).sin()
}

fn energy_twin<T: DualNum<Primitive = f64> + Copy>(x: &[T]) -> T {
    let v2 = x[3] * x[3] + x[4] * x[4] + x[5] * x[5];
    x[6] * v2 * 0.5 + x[6] * 9.81 * x[2] + (x[0] * x[1]).sin()
}

/// Fields of every kind: a vector, a matrix, a nested array and an array.
#[derive(Clone, Copy, Debug, PartialEq, Differentiable)]
pub struct Frame {
    pub origin: Vector<2>,
    pub rotation: Matrix<2, 2>,
    pub weights: [[f64; 2]; 2],
    pub scale: [f64; 2],
}

/// A struct copied, then updated field by field in a loop.
#[jacobian(value, jvp, vjp)]
fn transformed(f: &Frame, x: [f64; 2]) -> Frame {
    let mut out = *f;
    for i in 0..2 {
        out.origin[i] = f.origin[i] + f.rotation[(i, 0)] * x[0] + f.rotation[(i, 1)] * x[1];
        for j in 0..2 {
            out.weights[i][j] = f.weights[i][j] * f.scale[j];
        }
    }
    out.scale = [f.scale[0] * x[0].exp(), f.scale[1]];
    out
}

/// A struct returned early, chosen in a branch, reassigned whole.
#[jacobian(value, jvp, vjp)]
fn bounce(s: State, floor: f64) -> State {
    if s.p[2] < floor {
        return State { v: [s.v[0], s.v[1], -s.v[2]], ..s };
    }
    let mut next = if s.v[2] > 0.0 { s } else { State { m: s.m * 0.5, p: s.p, v: s.v } };
    next = State { p: [next.p[0] * floor, next.p[1], next.p[2]], ..next };
    next
}

fn bounce_twin<T: DualNum<Primitive = f64> + Copy>(x: &[T]) -> Vec<T> {
    let floor = x[7];
    if x[2].re() < floor.re() {
        return vec![x[0], x[1], x[2], x[3], x[4], -x[5], x[6]];
    }
    let m = if x[5].re() > 0.0 { x[6] } else { x[6] * 0.5 };
    vec![x[0] * floor, x[1], x[2], x[3], x[4], x[5], m]
}

fn transformed_twin<T: DualNum<Primitive = f64> + Copy>(y: &[T]) -> Vec<T> {
    // Components: origin 0..2, rotation 2..6 (row-major), weights 6..10, scale 10..12, x 12..14.
    let (o, r, w, s, x) = (&y[0..2], &y[2..6], &y[6..10], &y[10..12], &y[12..14]);
    let mut out = y[0..12].to_vec();
    for i in 0..2 {
        out[i] = o[i] + r[2 * i] * x[0] + r[2 * i + 1] * x[1];
        for j in 0..2 {
            out[6 + 2 * i + j] = w[2 * i + j] * s[j];
        }
    }
    out[10] = s[0] * x[0].exp();
    out[11] = s[1];
    out
}

/// A struct built in a function over arrays: the result only.
#[jacobian]
fn build(x: [f64; 3]) -> State {
    let r = (x[0] * x[0] + x[1] * x[1]).sqrt();
    State { p: x, v: [x[1] / r, -x[0] / r, 0.0], m: r * x[2] }
}

/// `wrt` over a struct parameter, beside a constant one; and a struct that is a constant.
#[jacobian(wrt(s))]
fn drift(s: State, wind: [f64; 3]) -> [f64; 3] {
    [s.p[0] + wind[0] * s.m, s.p[1] + wind[1] * s.m, s.p[2] + wind[2] / s.m]
}

#[jacobian(wrt(t))]
fn constant_state(s: State, t: f64) -> f64 {
    s.m * t * t + s.p[0]
}

/// Structs built and read inside a function over arrays.
#[jacobian(hessian)]
fn local_structs(x: [f64; 3]) -> f64 {
    let s = State { p: x, v: [x[1], x[2], x[0]], m: 2.0 };
    let mut moved = State { m: s.m * x[0], ..s };
    moved.v[1] *= x[1];
    moved.m * s.p[0] + s.v[0] + moved.v[1]
}

/// Annotated functions calling each other with structs: the caller passes the fields.
#[jacobian]
fn kinetic(s: &State) -> f64 {
    0.5 * s.m * (s.v[0] * s.v[0] + s.v[1] * s.v[1] + s.v[2] * s.v[2])
}

#[jacobian(value, hessian, vjp)]
fn lagrangian(s: State, g: f64) -> f64 {
    let lifted = State { p: [s.p[0], s.p[1], s.p[2] + 1.0], ..s };
    kinetic(&s) - s.m * g * lifted.p[2]
}

fn lagrangian_twin<T: DualNum<Primitive = f64> + Copy>(x: &[T]) -> T {
    let kinetic = x[6] * (x[3] * x[3] + x[4] * x[4] + x[5] * x[5]) * 0.5;
    kinetic - x[6] * x[7] * (x[2] + 1.0)
}

/// Found by the fuzzer's struct functions: a struct parameter left out of `wrt` (its fields
/// constants) used whole; a mutable struct local whose field of constants is updated with a
/// differentiated value; a struct literal of constants beside an earlier one, whose
/// temporaries once shadowed the earlier ones' in the generated code (a wrong reverse-mode
/// Jacobian).
#[derive(Clone, Copy, Debug, PartialEq, Differentiable)]
pub struct Pair {
    pub a: [f64; 2],
    pub b: f64,
}

const K: f64 = 1.25;

#[jacobian(wrt(x))]
fn constant_struct_updated(s: Pair, x: f64) -> Pair {
    Pair { b: x * s.b, ..s }
}

#[jacobian(wrt(x))]
fn constant_struct_copied(s: &Pair, x: f64) -> f64 {
    let mut t = *s;
    t.b += x;
    t.b * t.a[1]
}

#[jacobian]
fn constants_then_updated(x: f64) -> f64 {
    let mut p = Pair { a: [K, K * 2.0], b: x };
    p.a[0] += x;
    p.a[0] * p.b
}

#[jacobian(mode = reverse)]
fn literal_beside_literal(x: [f64; 2]) -> f64 {
    let first = Pair { a: [x[1], x[0] * x[1]], b: x[0].sin() };
    let _second = Pair { b: K.floor(), a: first.a };
    first.b * first.a[1]
}

/// A mutable struct local with a matrix field, bound to an `if` of literals and returned
/// whole (once E0308 in the generated code).
#[derive(Clone, Copy, Debug, PartialEq, Differentiable)]
pub struct Weighted {
    pub w: Matrix<2, 2>,
    pub p: f64,
}

#[jacobian(jvp, vjp, mode = reverse)]
fn chosen_matrix(x: f64) -> Weighted {
    let mut b = if x < 0.5 {
        Weighted { w: Matrix::from_rows([[x, 1.0], [2.0, 3.0]]), p: x }
    } else {
        Weighted { w: Matrix::from_rows([[1.0, x], [2.0, 3.0]]), p: x }
    };
    b.p *= x;
    Weighted { w: b.w, ..b }
}

/// A parameter whose field's size is a `const` item.
#[derive(Clone, Copy, Debug, PartialEq, Differentiable)]
pub struct Weights {
    pub w: [f64; D],
    pub b: f64,
}

#[jacobian]
fn neuron(p: &Weights, x: [f64; D]) -> f64 {
    let mut z = p.b;
    for i in 0..D {
        z += p.w[i] * x[i];
    }
    z.tanh()
}

/// The runtime under another path (`#[differentiable(crate = …)]`, as `#[jacobian(crate =
/// …)]`).
mod runtime {
    pub use jacobian::*;
}

#[derive(Clone, Copy, Debug, PartialEq, Differentiable)]
#[differentiable(crate = crate::runtime)]
pub struct Elsewhere {
    pub v: Vector<2>,
}

/// `f32` fields.
#[derive(Clone, Copy, Debug, PartialEq, Differentiable)]
pub struct Small {
    pub a: f32,
    pub b: [f32; 2],
}

#[jacobian]
fn small(s: Small) -> f32 {
    s.a * s.b[0] + s.b[1].sin()
}

/// A method of a type taking a struct.
pub struct Planet {
    pub gm: f64,
}

impl Planet {
    #[jacobian(value)]
    pub fn acceleration(&self, s: &State) -> [f64; 3] {
        let r2 = s.p[0] * s.p[0] + s.p[1] * s.p[1] + s.p[2] * s.p[2];
        let k = -self.gm / (r2 * r2.sqrt());
        [k * s.p[0], k * s.p[1], k * s.p[2]]
    }
}

fn state(x: &[f64]) -> State {
    State { p: [x[0], x[1], x[2]], v: [x[3], x[4], x[5]], m: x[6] }
}

fn frame(y: &[f64]) -> Frame {
    Frame {
        origin: Vector::from([y[0], y[1]]),
        rotation: Matrix::from_rows([[y[2], y[3]], [y[4], y[5]]]),
        weights: [[y[6], y[7]], [y[8], y[9]]],
        scale: [y[10], y[11]],
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn a_struct_in_and_out(x in prop::array::uniform8(0.1f64..2.0)) {
        let s = state(&x);
        let (_, expected) = dual_jacobian(|d| <[_; 7]>::try_from(step_twin(&d)).unwrap(), x);
        let j = step_jacobian(s, x[7]);
        assert_jacobian_close_scaled(&x, &j, &expected, TOL);
        assert_jacobian_close_scaled(&x, &step_forward_jacobian(s, x[7]), &expected, TOL);
        prop_assert_eq!(step_forward(s, x[7]), step(s, x[7]));
        let (value, j2) = step_value_and_jacobian(s, x[7]);
        prop_assert_eq!(value, step(s, x[7]));
        prop_assert_eq!(j2, j);
        let direction: [f64; 8] = std::array::from_fn(|k| (k as f64 * 0.9).sin());
        let (value, jv) = step_jvp(s, x[7], Vector::from(direction));
        prop_assert_eq!(value, step(s, x[7]));
        let u: [f64; 7] = std::array::from_fn(|k| (k as f64 * 0.4).cos());
        let (value, ju) = step_vjp(s, x[7], Vector::from(u));
        prop_assert_eq!(value, step(s, x[7]));
        for i in 0..7 {
            let e: f64 = (0..8).map(|k| expected[i][k] * direction[k]).sum();
            prop_assert!((jv[i] - e).abs() < 1e-11, "J·v[{}]: {} vs {}", i, jv[i], e);
        }
        for k in 0..8 {
            let e: f64 = (0..7).map(|i| expected[i][k] * u[i]).sum();
            prop_assert!((ju[k] - e).abs() < 1e-11, "Jᵀ·u[{}]: {} vs {}", k, ju[k], e);
        }
    }

    #[test]
    fn structs_from_branches_and_returns(x in prop::array::uniform8(-2.0f64..2.0)) {
        let s = state(&x);
        let (values, expected) = dual_jacobian(|d| <[_; 7]>::try_from(bounce_twin(&d)).unwrap(), x);
        prop_assert_eq!(bounce(s, x[7]), state(&values));
        assert_jacobian_close_scaled(&x, &bounce_jacobian(s, x[7]), &expected, TOL);
        let (value, _) = bounce_vjp(s, x[7], Vector::from([1.0; 7]));
        prop_assert_eq!(value, bounce(s, x[7]));
    }

    #[test]
    fn second_order_over_a_struct(x in prop::array::uniform7(0.1f64..2.0)) {
        let s = state(&x);
        let expected = hyper_dual_hessian(x, |p| energy_twin(&p));
        let h = energy_hessian(&s);
        for i in 0..7 {
            for j in 0..7 {
                prop_assert!((h[(i, j)] - expected[i][j]).abs() < 1e-11, "({}, {}): {} vs {}", i, j, h[(i, j)], expected[i][j]);
            }
        }
        let (value, g) = energy_value_and_jacobian(&s);
        prop_assert_eq!(value, energy(&s));
        let (_, expected_g) = dual_jacobian(|d| [energy_twin(&d)], x);
        assert_jacobian_close_scaled(&x, &g, &expected_g, TOL);
        let v = Vector::from(std::array::from_fn::<f64, 7, _>(|k| 1.0 - k as f64 * 0.3));
        let hv = energy_hvp(&s, v);
        for i in 0..7 {
            let e: f64 = (0..7).map(|k| expected[i][k] * v[k]).sum();
            prop_assert!((hv[i] - e).abs() < 1e-10);
        }
    }

    #[test]
    fn fields_of_every_kind(y in prop::array::uniform14(-2.0f64..2.0)) {
        let f = frame(&y);
        let x = [y[12], y[13]];
        let (values, expected) = dual_jacobian(|d| <[_; 12]>::try_from(transformed_twin(&d)).unwrap(), y);
        let out = transformed(&f, x);
        prop_assert_eq!(out.to_components().as_rows().iter().map(|r| r[0]).collect::<Vec<_>>(), values.to_vec());
        assert_jacobian_close_scaled(&y, &transformed_jacobian(&f, x), &expected, TOL);
        let direction: [f64; 14] = std::array::from_fn(|k| (k as f64 * 0.7).cos());
        let (value, jv) = transformed_jvp(&f, x, Vector::from(direction));
        prop_assert_eq!(value, out);
        for i in 0..12 {
            let e: f64 = (0..14).map(|k| expected[i][k] * direction[k]).sum();
            prop_assert!((jv[i] - e).abs() < 1e-10);
        }
        let u: [f64; 12] = std::array::from_fn(|k| (k as f64 * 0.3).sin());
        let (_, ju) = transformed_vjp(&f, x, Vector::from(u));
        for k in 0..14 {
            let e: f64 = (0..12).map(|i| expected[i][k] * u[i]).sum();
            prop_assert!((ju[k] - e).abs() < 1e-10);
        }
    }

    #[test]
    fn a_struct_result_and_wrt(x in prop::array::uniform3(0.5f64..2.0)) {
        let j = build_jacobian(x);
        let (_, expected) = dual_jacobian(
            |d| {
                let r = (d[0] * d[0] + d[1] * d[1]).sqrt();
                [d[0], d[1], d[2], d[1] / r, -d[0] / r, r * 0.0, r * d[2]]
            },
            x,
        );
        assert_jacobian_close_scaled(&x, &j, &expected, TOL);
        let s = state(&[x[0], x[1], x[2], 0.5, 0.25, -1.0, x[0] + 1.0]);
        let wind = [x[2], -x[1], 0.5];
        let d = drift_jacobian(s, wind);
        let m = s.m;
        let expected = [
            [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, wind[0]],
            [0.0, 1.0, 0.0, 0.0, 0.0, 0.0, wind[1]],
            [0.0, 0.0, 1.0, 0.0, 0.0, 0.0, -wind[2] / (m * m)],
        ];
        assert_jacobian_close_scaled(&x, &d, &expected, TOL);
        let c = constant_state_jacobian(s, x[0]);
        prop_assert_eq!(c.as_rows(), &[[2.0 * s.m * x[0]]]);
    }
}

#[test]
fn the_derive_converts_to_and_from_components() {
    let s = State { p: [1.0, 2.0, 3.0], v: [4.0, 5.0, 6.0], m: 7.0 };
    assert_eq!(State::COMPONENTS, 7);
    assert_eq!(s.to_components(), Vector::from([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]));
    assert_eq!(State::from_components(&s.to_components()), s);
    let f = frame(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0]);
    assert_eq!(Frame::COMPONENTS, 12);
    let c = f.to_components();
    assert_eq!(c[3], 4.0);
    assert_eq!(c[8], 9.0);
    assert_eq!(Frame::from_components(&c), f);
    let e = Elsewhere { v: Vector::from([1.5, -2.0]) };
    assert_eq!(Elsewhere::from_components(&e.to_components()), e);
    let small_state = Small { a: 0.5, b: [2.0, 0.25] };
    assert_eq!(Small::COMPONENTS, 3);
    let j = small_jacobian(small_state);
    assert_eq!(j.as_rows(), &[[2.0, 0.5, 0.25f32.cos()]]);
}

#[test]
fn calls_with_structs() {
    let x = [0.5, -1.0, 2.0, 0.25, 1.5, -0.75, 3.0, 9.81];
    let s = state(&x);
    let (value, j) = lagrangian_value_and_jacobian(s, x[7]);
    assert_eq!(value, lagrangian(s, x[7]));
    let (_, expected) = dual_jacobian(|d| [lagrangian_twin(&d)], x);
    assert_jacobian_close_scaled(&x, &j, &expected, TOL);
    let (_, g) = lagrangian_vjp(s, x[7], Vector::from([1.0]));
    for k in 0..8 {
        assert!((g[k] - expected[0][k]).abs() < 1e-12);
    }
    let expected = hyper_dual_hessian(x, |p| lagrangian_twin(&p));
    assert_jacobian_close_scaled(&x, &lagrangian_hessian(s, x[7]), &expected, TOL);
}

#[test]
fn constant_structs_and_literals_of_constants() {
    let s = Pair { a: [1.0, 2.0], b: 3.0 };
    assert_eq!(constant_struct_updated_jacobian(s, 2.0).as_rows(), &[[0.0], [0.0], [3.0]]);
    assert_eq!(constant_struct_updated(s, 2.0), Pair { a: [1.0, 2.0], b: 6.0 });
    assert_eq!(constant_struct_copied_jacobian(&s, 2.0).as_rows(), &[[2.0]]);
    // (K + x)·x
    assert_eq!(constants_then_updated_jacobian(2.0).as_rows(), &[[K + 4.0]]);
    // sin(x0)·x0·x1
    let x = [-1.68, 0.375];
    let expected = [[x[0].cos() * x[0] * x[1] + x[0].sin() * x[1], x[0].sin() * x[0]]];
    assert_jacobian_close_scaled(&x, &literal_beside_literal_jacobian(x), &expected, TOL);
}

#[test]
fn a_mutable_struct_chosen_by_a_branch() {
    assert_eq!(chosen_matrix_jacobian(0.25).as_rows(), &[[1.0], [0.0], [0.0], [0.0], [0.5]]);
    assert_eq!(chosen_matrix_jacobian(0.75).as_rows(), &[[0.0], [1.0], [0.0], [0.0], [1.5]]);
    assert_eq!(chosen_matrix(0.75).p, 0.75 * 0.75);
}

#[test]
fn structs_inside_a_body() {
    // f = 2 x0² + x1 + x2 x1.
    let x = [0.5, -1.5, 2.0];
    let expected = [[4.0 * x[0], 1.0 + x[2], x[1]]];
    assert_jacobian_close_scaled(&x, &local_structs_jacobian(x), &expected, TOL);
    let h = local_structs_hessian(x);
    assert_eq!(h.as_rows(), &[[4.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]]);
}

#[test]
fn a_field_sized_by_a_const_item() {
    let (p, x) = (Weights { w: [0.5, -0.25], b: 0.1 }, [1.5, 2.0]);
    let z = p.b + p.w[0] * x[0] + p.w[1] * x[1];
    let d = 1.0 - z.tanh() * z.tanh();
    let expected = [[d * x[0], d * x[1], d, d * p.w[0], d * p.w[1]]];
    assert_jacobian_close_scaled(&x, &neuron_jacobian(&p, x), &expected, TOL);
}

#[test]
fn a_method_taking_a_struct() {
    let planet = Planet { gm: 3.0 };
    let x = [0.5, -1.0, 2.0, 0.0, 0.0, 0.0, 1.0];
    let s = state(&x);
    let (value, j) = planet.acceleration_value_and_jacobian(&s);
    assert_eq!(value, planet.acceleration(&s));
    let (_, expected) = dual_jacobian(
        |d| {
            let r2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
            let k = -(r2 * r2.sqrt()).recip() * 3.0;
            [d[0] * k, d[1] * k, d[2] * k]
        },
        x,
    );
    assert_jacobian_close_scaled(&x, &j, &expected, TOL);
}
