//! nalgebra-typed signatures (API.md, "nalgebra"): `SVector`, `SMatrix` and the aliases as
//! parameters and results, bodies written as nalgebra users write them, siblings returning
//! nalgebra's `SMatrix`; each against a dual-number twin on random points, and against the
//! same function spelled with `jacobian::Vector`.

#![deny(warnings)]
#![allow(dead_code)]

mod common;

use common::{assert_jacobian_close_scaled, dual_jacobian};
use jacobian::{jacobian, Vector};
use nalgebra::{Matrix2, Matrix2x3, SMatrix, SVector, Vector2, Vector3};
use num_dual::DualNum;
use proptest::prelude::*;

const TOL: f64 = 1e-12;

fn rows<const R: usize, const C: usize>(m: &SMatrix<f64, R, C>) -> [[f64; C]; R] {
    std::array::from_fn(|i| std::array::from_fn(|j| m[(i, j)]))
}

/// The range-bearing model of an EKF, as issue 11 shows it: annotated unchanged.
#[jacobian(wrt(x), value)]
fn range_bearing(x: SVector<f64, 3>, l: &Vector2<f64>) -> SVector<f64, 2> {
    let dx = l.x - x.x;
    let dy = l[1] - x[1];
    let r = (dx * dx + dy * dy).sqrt();
    let b = dy.atan2(dx) - x.z;
    Vector2::new(r, b)
}

/// All differentiable parameters, landmark included (no `wrt`).
#[jacobian(name = range_bearing_all)]
fn range_bearing_both(x: SVector<f64, 3>, l: &Vector2<f64>) -> SVector<f64, 2> {
    let d = l - Vector2::new(x.x, x.y);
    let r = (d.x * d.x + d.y * d.y).sqrt();
    SVector::from([r, d.y.atan2(d.x) - x[2]])
}

fn range_bearing_twin<D: DualNum<Primitive = f64> + Copy>(v: [D; 5]) -> [D; 2] {
    let (dx, dy) = (v[3] - v[0], v[4] - v[1]);
    [(dx * dx + dy * dy).sqrt(), dy.atan2(dx) - v[2]]
}

/// A layer: a matrix times a vector, then `tanh` of every component.
#[jacobian(wrt(x), value, jvp, vjp)]
fn layer(w: &Matrix2x3<f64>, x: Vector3<f64>) -> Vector2<f64> {
    (w * x).map(f64::tanh)
}

#[jacobian(wrt(x), value)]
fn layer_jacobian_types(w: &jacobian::Matrix<2, 3>, x: Vector<3>) -> Vector<2> {
    (w * x).map(f64::tanh)
}

/// A scalar energy with its Hessian.
#[jacobian(value, hessian, hvp)]
fn energy(q: Vector3<f64>) -> f64 {
    q.norm_squared() + q.x * q.y.sin() + q.dot(&q).sqrt() * q.z
}

#[jacobian(value, hessian)]
fn energy_jacobian_types(q: Vector<3>) -> f64 {
    q.norm_squared() + q[0] * q[1].sin() + q.dot(&q).sqrt() * q[2]
}

/// nalgebra's constructors in the body: `Matrix2::new` (row-major arguments), `identity`,
/// `zeros`, `from`; a matrix parameter, numbered row-major.
#[jacobian(value)]
fn rotate(m: SMatrix<f64, 2, 2>, v: Vector2<f64>) -> Vector2<f64> {
    let shear = Matrix2::new(1.0, v.x, 0.0, 1.0);
    let mut acc = Vector2::zeros();
    acc += shear * m * v + Matrix2::identity() * v;
    acc
}

fn rotate_twin<D: DualNum<Primitive = f64> + Copy>(p: [D; 6]) -> [D; 2] {
    let (m, v) = ([[p[0], p[1]], [p[2], p[3]]], [p[4], p[5]]);
    let mv = [m[0][0] * v[0] + m[0][1] * v[1], m[1][0] * v[0] + m[1][1] * v[1]];
    [mv[0] + v[0] * mv[1] + v[0], mv[1] + v[1]]
}

/// A tuple result mixing nalgebra and scalars, and `f32`.
#[jacobian]
fn split(x: Vector2<f32>) -> (Vector2<f32>, f32) {
    (x * 2.0, x.x * x.y)
}

/// `cross`, `normalize`, `len`, element and coordinate assignment, `repeat`, `zeros`.
#[jacobian(value)]
fn frame(a: Vector3<f64>, b: Vector3<f64>) -> Vector3<f64> {
    let n = a.cross(&b);
    let mut out = n.normalize() * a.dot(&b);
    let mut extra = Vector3::zeros();
    extra.x = b.y * Vector3::repeat(2.0).x;
    for i in 0..a.len() {
        out[i] += b[i] * b[i];
    }
    out + extra
}

fn frame_twin<D: DualNum<Primitive = f64> + Copy>(p: [D; 6]) -> [D; 3] {
    let (a, b) = ([p[0], p[1], p[2]], [p[3], p[4], p[5]]);
    let n = [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
    let norm = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt();
    let dot = a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    let mut out: [D; 3] = std::array::from_fn(|i| n[i] / norm * dot + b[i] * b[i]);
    out[0] += b[1] * 2.0;
    out
}

/// `Matrix2::from_diagonal`, a matrix result.
#[jacobian]
fn scaled_diagonal(x: Vector2<f64>) -> Matrix2<f64> {
    Matrix2::from_diagonal(&x) * x.sum()
}

/// A call between annotated nalgebra functions: chain rule through `energy`'s siblings.
#[jacobian]
fn twice_energy(q: Vector3<f64>, s: f64) -> f64 {
    energy(q * s) * 2.0
}

/// Loops over a vector's components, and an accumulator from `zeros()` (the scalar type
/// taken from the signature).
#[jacobian]
fn looped(q: Vector3<f64>) -> Vector2<f64> {
    let mut p = Vector2::zeros();
    for (a, b) in q.iter().zip(q.iter().skip(1)) {
        p += Vector2::new(a.cos() * b, a * b.sin());
    }
    let mut s = 0.0;
    for qi in q.iter() {
        s += qi.exp();
    }
    for qi in &q {
        s += qi * qi;
    }
    p * s
}

fn looped_twin<D: DualNum<Primitive = f64> + Copy>(q: [D; 3]) -> [D; 2] {
    let mut p = [D::from(0.0); 2];
    for k in 0..2 {
        let (a, b) = (q[k], q[k + 1]);
        p[0] += a.cos() * b;
        p[1] += a * b.sin();
    }
    let s = q.iter().fold(D::from(0.0), |s, &v| s + v.exp() + v * v);
    [p[0] * s, p[1] * s]
}

/// Coordinates of a vector an annotated function returns.
#[jacobian]
fn doubled(v: Vector2<f64>) -> Vector2<f64> {
    v * 2.0
}

#[jacobian]
fn coordinates_of_a_call(v: Vector2<f64>) -> f64 {
    let h = doubled(v);
    h.x * h.y.sin()
}

/// `zeros()` and `from_diagonal` together, and a matrix repeating a differentiated value.
#[jacobian]
fn diagonal_plus_zeros(x: Vector2<f64>) -> Matrix2<f64> {
    let z = Matrix2::zeros();
    let d = Matrix2::from_diagonal(&x);
    z + d + Matrix2::repeat(x.y) * x.x
}

/// A local annotated with its nalgebra type, built by a constructor that names no size.
#[jacobian(wrt(p))]
fn annotated_zeros(p: SVector<f64, 2>, t: &[f64; 3]) -> SVector<f64, 3> {
    let mut r: SVector<f64, 3> = SVector::zeros();
    for i in 0..3 {
        r[i] = p[0] * t[i] + p[1];
    }
    r
}

struct Arm {
    lengths: Vector2<f64>,
}

impl Arm {
    /// A method: `&self` is a constant.
    #[jacobian]
    fn tip(&self, q: Vector2<f64>) -> Vector2<f64> {
        let (a, b) = (self.lengths.x, self.lengths.y);
        Vector2::new(a * q.x.cos() + b * (q.x + q.y).cos(), a * q.x.sin() + b * (q.x + q.y).sin())
    }
}

#[test]
fn siblings_return_nalgebra_matrices() {
    let x = SVector::<f64, 3>::new(1.0, 2.0, 0.3);
    let l = Vector2::new(4.0, 6.0);
    let j: SMatrix<f64, 2, 3> = range_bearing_jacobian(x, &l);
    let (value, j2): (SVector<f64, 2>, SMatrix<f64, 2, 3>) = range_bearing_value_and_jacobian(x, &l);
    assert_eq!(value, range_bearing(x, &l));
    assert_eq!(j, j2);
    // ∂r/∂x = -dx/r with dx = 3, dy = 4, r = 5.
    assert!((j[(0, 0)] + 0.6).abs() < 1e-15 && (j[(0, 1)] + 0.8).abs() < 1e-15);
    assert_eq!(j[(1, 2)], -1.0);
    let all: SMatrix<f64, 2, 5> = range_bearing_all(x, &l);
    assert_eq!(all.fixed_columns::<3>(0), j);
}

proptest! {
    #[test]
    fn range_bearing_matches_dual_numbers(p in proptest::array::uniform5(-3.0..3.0f64)) {
        prop_assume!((p[3] - p[0]).hypot(p[4] - p[1]) > 0.1);
        let (x, l) = (Vector3::new(p[0], p[1], p[2]), Vector2::new(p[3], p[4]));
        let (value, expected) = dual_jacobian(range_bearing_twin, p);
        let all = range_bearing_all(x, &l);
        assert_jacobian_close_scaled(&p, &rows(&all), &expected, TOL);
        let (v, j) = range_bearing_value_and_jacobian(x, &l);
        prop_assert!((v[0] - value[0]).abs() < 1e-12);
        let first: [[f64; 3]; 2] = std::array::from_fn(|i| std::array::from_fn(|k| expected[i][k]));
        assert_jacobian_close_scaled(&p, &rows(&j), &first, TOL);
    }

    #[test]
    fn layer_agrees_with_the_jacobian_spelling(p in proptest::array::uniform9(-2.0..2.0f64)) {
        let w = Matrix2x3::from_row_slice(&p[..6]);
        let x = Vector3::new(p[6], p[7], p[8]);
        let ours = jacobian::Matrix::from_fn(|i, j| w[(i, j)]);
        let (value, j) = layer_value_and_jacobian(&w, x);
        let (value2, j2) = layer_jacobian_types_value_and_jacobian(&ours, Vector::from([p[6], p[7], p[8]]));
        prop_assert_eq!(value, Vector2::new(value2[0], value2[1]));
        assert_jacobian_close_scaled(&p, &rows(&j), j2.as_rows(), 1e-14);
        let v = Vector3::new(0.5, -1.0, 2.0);
        let (_, jv): (Vector2<f64>, Vector2<f64>) = layer_jvp(&w, x, v);
        let u = Vector2::new(-0.25, 3.0);
        let (_, ju): (Vector2<f64>, Vector3<f64>) = layer_vjp(&w, x, u);
        prop_assert!((jv - j * v).norm() < 1e-12);
        prop_assert!((ju - j.transpose() * u).norm() < 1e-12);
    }

    #[test]
    fn energy_hessian_matches_the_jacobian_spelling(p in proptest::array::uniform3(-2.0..2.0f64)) {
        prop_assume!(p.iter().map(|v| v * v).sum::<f64>() > 0.01);
        let q = Vector3::new(p[0], p[1], p[2]);
        let h: SMatrix<f64, 3, 3> = energy_hessian(q);
        let (value, g, h2) = energy_value_gradient_hessian(q);
        let (value2, g2, h3) = energy_jacobian_types_value_gradient_hessian(Vector::from(p));
        prop_assert_eq!(h, h2);
        prop_assert!((value - value2).abs() < 1e-12);
        assert_jacobian_close_scaled(&p, &rows(&g), g2.as_rows(), 1e-13);
        assert_jacobian_close_scaled(&p, &rows(&h), h3.as_rows(), 1e-13);
        let v = Vector3::new(1.0, -2.0, 0.5);
        let hv: SVector<f64, 3> = energy_hvp(q, v);
        prop_assert!((hv - h * v).norm() < 1e-11 * (1.0 + h.norm()));
    }

    #[test]
    fn constructors_follow_nalgebra(p in proptest::array::uniform6(-2.0..2.0f64)) {
        let m = SMatrix::<f64, 2, 2>::new(p[0], p[1], p[2], p[3]);
        let v = Vector2::new(p[4], p[5]);
        let (value, j) = rotate_value_and_jacobian(m, v);
        let (expected_value, expected) = dual_jacobian(rotate_twin, p);
        prop_assert!((value - Vector2::from(expected_value)).norm() < 1e-12);
        prop_assert_eq!(value, rotate(m, v));
        assert_jacobian_close_scaled(&p, &rows(&j), &expected, TOL);
    }
}

proptest! {
    #[test]
    fn cross_normalize_and_assignments(p in proptest::array::uniform6(-2.0..2.0f64)) {
        let (a, b) = (Vector3::new(p[0], p[1], p[2]), Vector3::new(p[3], p[4], p[5]));
        prop_assume!(a.cross(&b).norm() > 0.1);
        let (value, j) = frame_value_and_jacobian(a, b);
        let (expected_value, expected) = dual_jacobian(frame_twin, p);
        prop_assert!((value - Vector3::from(expected_value)).norm() < 1e-12);
        assert_jacobian_close_scaled(&p, &rows(&j), &expected, TOL);
    }
}

#[test]
fn calls_between_nalgebra_functions() {
    let q = Vector3::new(0.3, -1.2, 0.8);
    let s = 1.5;
    let j = twice_energy_jacobian(q, s);
    let g = energy_jacobian(q * s);
    for k in 0..3 {
        assert!((j[(0, k)] - 2.0 * s * g[(0, k)]).abs() < 1e-12);
    }
    assert!((j[(0, 3)] - 2.0 * (g * q)[(0, 0)]).abs() < 1e-12);
}

proptest! {
    #[test]
    fn loops_over_components(p in proptest::array::uniform3(-2.0..2.0f64)) {
        let j = looped_jacobian(Vector3::from(p));
        let (_, expected) = dual_jacobian(looped_twin, p);
        assert_jacobian_close_scaled(&p, &rows(&j), &expected, TOL);
    }
}

#[test]
fn coordinates_of_a_returned_vector() {
    let v = Vector2::new(0.3, -0.4);
    let j = coordinates_of_a_call_jacobian(v);
    let (a, b) = (2.0 * v.x, 2.0 * v.y);
    assert!(
        (j[(0, 0)] - 2.0 * b.sin()).abs() < 1e-15 && (j[(0, 1)] - 2.0 * a * b.cos()).abs() < 1e-15,
        "{j}"
    );
}

#[test]
fn zeros_diagonals_and_repeats() {
    let j = diagonal_plus_zeros_jacobian(Vector2::new(3.0, 5.0));
    // Entries row-major: (0,0) = x + xy, (0,1) = xy, (1,0) = xy, (1,1) = y + xy.
    assert_eq!(j, SMatrix::<f64, 4, 2>::new(6.0, 3.0, 5.0, 3.0, 5.0, 3.0, 5.0, 4.0));
}

#[test]
fn sizes_from_an_annotation() {
    let j = annotated_zeros_jacobian(Vector2::new(1.0, 2.0), &[0.5, 1.5, 2.5]);
    assert_eq!(j, SMatrix::<f64, 3, 2>::new(0.5, 1.0, 1.5, 1.0, 2.5, 1.0));
}

#[test]
fn diagonal_matrix_result() {
    let j: SMatrix<f64, 4, 2> = scaled_diagonal_jacobian(Vector2::new(2.0, 3.0));
    // Rows are the result's entries row-major: (0,0) = x₀(x₀+x₁), (0,1) = 0, (1,0) = 0, (1,1) = x₁(x₀+x₁).
    assert_eq!(j, SMatrix::<f64, 4, 2>::new(7.0, 2.0, 0.0, 0.0, 0.0, 0.0, 3.0, 8.0));
}

#[test]
fn tuples_f32_and_methods() {
    let j: SMatrix<f32, 3, 2> = split_jacobian(Vector2::new(3.0, -2.0));
    assert_eq!(j, SMatrix::<f32, 3, 2>::new(2.0, 0.0, 0.0, 2.0, -2.0, 3.0));
    let arm = Arm { lengths: Vector2::new(1.0, 0.5) };
    let q = Vector2::new(0.3, -0.7);
    let j = arm.tip_jacobian(q);
    let s = (q.x + q.y).sin();
    assert!((j[(0, 1)] + 0.5 * s).abs() < 1e-15);
    assert!((j[(0, 0)] + q.x.sin() + 0.5 * s).abs() < 1e-15);
}
