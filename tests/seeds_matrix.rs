//! The worked examples of the seed texts written at the matrix level, with `Vector` and
//! `Matrix` values and the nalgebra-style operations of API.md (`w * x`,
//! `x.norm_squared()`, `x.map(f64::tanh)`, `x.component_mul(&c)`, `x + c`, `a * f(x)`).
//! Kept apart from `seeds.rs` because these operations land after the scalar ones.

// The annotated originals are kept as written; most are reached only through their
// generated siblings here.
#![allow(dead_code)]
// Index loops are what the macro is exercised on, so they stay.
#![allow(clippy::needless_range_loop)]

mod common;

use common::{assert_jacobian_close_at, dual_jacobian};
use jacobian::{jacobian, Matrix, Vector};
use num_dual::DualNum;

// f(x, y) = (x + y, x y) with a vector output.
#[jacobian]
fn f(x: f64, y: f64) -> Vector<2> {
    Vector::from([x + y, x * y])
}

#[test]
fn worked_example_with_a_vector_output() {
    let j: Matrix<2, 2> = f_jacobian(-1.0, 2.0);
    assert_eq!(j, Matrix::from_rows([[1.0, 1.0], [2.0, -1.0]]));
    assert_eq!(j.determinant(), -3.0);
}

// f(v) = (v0 + v1, v0 v1) with a vector input.
#[jacobian]
fn f_of_vector(v: Vector<2>) -> Vector<2> {
    Vector::from([v[0] + v[1], v[0] * v[1]])
}

#[test]
fn worked_example_with_a_vector_input() {
    let j: Matrix<2, 2> = f_of_vector_jacobian(Vector::from([-1.0, 2.0]));
    assert_eq!(j, Matrix::from_rows([[1.0, 1.0], [2.0, -1.0]]));
    for (x, y) in [(3.0, 4.0), (0.5, -0.25)] {
        let j = f_of_vector_jacobian(Vector::from([x, y]));
        assert_eq!(j, Matrix::from_rows([[1.0, 1.0], [y, x]]));
    }
}

// R -> R^m: a column. R^n -> R: a row whose transpose is the gradient.
#[jacobian]
fn curve(t: f64) -> Vector<3> {
    Vector::from([t, t * t, 2.0 * t])
}

#[jacobian]
fn dot_with_itself_plus(x: Vector<3>) -> f64 {
    x.dot(&x) + x.sum()
}

#[test]
fn vector_shapes_column_and_row() {
    let j: Matrix<3, 1> = curve_jacobian(1.5);
    assert_eq!(j, Matrix::from_rows([[1.0], [3.0], [2.0]]));
    let x = Vector::from([1.0, -2.0, 0.5]);
    let j: Matrix<1, 3> = dot_with_itself_plus_jacobian(x);
    assert_eq!(j, Matrix::from_rows([[3.0, -3.0, 2.0]]));
    let gradient: Vector<3> = j.transpose();
    assert_eq!(gradient, Vector::from([3.0, -3.0, 2.0]));
}

// W x: the Jacobian is W.
#[jacobian(wrt(x))]
fn left_multiply(w: Matrix<2, 3>, x: Vector<3>) -> Vector<2> {
    w * x
}

#[jacobian(wrt(x))]
fn left_multiply_by_ref(w: &Matrix<2, 3>, x: &Vector<3>) -> Vector<2> {
    w * x
}

#[test]
fn left_multiplication_gives_w() {
    let w = Matrix::from_rows([[1.0, -2.0, 0.5], [3.0, 0.0, -4.25]]);
    for x in [[0.0, 0.0, 0.0], [1.0, 2.0, 3.0], [-0.3, 7.1, 1e3]] {
        let x = Vector::from(x);
        let j: Matrix<2, 3> = left_multiply_jacobian(w, x);
        assert_eq!(j, w);
        let j: Matrix<2, 3> = left_multiply_by_ref_jacobian(&w, &x);
        assert_eq!(j, w);
    }
}

// ||x||^2: the Jacobian is 2 x^T.
#[jacobian]
fn norm_squared(x: Vector<4>) -> f64 {
    x.norm_squared()
}

#[jacobian]
fn norm(x: Vector<4>) -> f64 {
    x.norm()
}

#[test]
fn squared_norm_gives_two_x_transposed() {
    for x in [[1.0, 2.0, 3.0, 4.0], [-0.5, 0.0, 1e-3, -7.0]] {
        let j: Matrix<1, 4> = norm_squared_jacobian(Vector::from(x));
        assert_eq!(j, Matrix::from_rows([x.map(|v| 2.0 * v)]));
        assert_eq!(j.transpose(), Vector::from(x.map(|v| 2.0 * v)));
    }
}

#[test]
fn norm_gives_unit_vector_transposed() {
    let x = [3.0, 0.0, -4.0, 12.0]; // norm 13
    let j: Matrix<1, 4> = norm_jacobian(Vector::from(x));
    let expected = [x.map(|v| v / 13.0)];
    assert_jacobian_close_at(&x, &j, &expected, 1e-15, 1e-16);
}

// g∘x: the Jacobian is diag(g'(x)).
#[jacobian]
fn tanh_each(x: Vector<3>) -> Vector<3> {
    x.map(f64::tanh)
}

#[jacobian]
fn sin_each(x: Vector<3>) -> Vector<3> {
    x.map(|t| t.sin())
}

#[jacobian]
fn exp_each(x: Vector<3>) -> Vector<3> {
    x.map(f64::exp)
}

#[jacobian]
fn softmax_like(x: Vector<3>) -> Vector<3> {
    let e = x.map(f64::exp);
    let total = e.sum();
    e.map(|t| t / total)
}

fn diag(d: [f64; 3]) -> Matrix<3, 3> {
    Matrix::from_diagonal(&Vector::from(d))
}

const POINTS: [[f64; 3]; 3] = [[0.0, 0.5, -1.0], [2.0, -1.5, 0.25], [1e-8, -2.0, 0.75]];

#[test]
fn elementwise_map_gives_diagonal_of_derivative() {
    for x in POINTS {
        let v = Vector::from(x);
        let cases: [(Matrix<3, 3>, [f64; 3]); 3] = [
            (tanh_each_jacobian(v), x.map(|t| 1.0 / (t.cosh() * t.cosh()))),
            (sin_each_jacobian(v), x.map(f64::cos)),
            (exp_each_jacobian(v), x.map(f64::exp)),
        ];
        for (j, derivative) in cases {
            assert_jacobian_close_at(&x, &j, diag(derivative).as_rows(), 1e-13, 1e-15);
        }
    }
}

#[test]
fn map_with_a_closure_over_a_differentiated_local() {
    // softmax: J = diag(s) - s s^T; the closure uses `total`, which depends on x.
    for x in POINTS {
        let (_, expected) = dual_jacobian(
            |[a, b, c]| {
                let e = [a.exp(), b.exp(), c.exp()];
                let total = e[0] + e[1] + e[2];
                e.map(|t| t / total)
            },
            x,
        );
        let j = softmax_like_jacobian(Vector::from(x));
        assert_jacobian_close_at(&x, &j, &expected, 1e-13, 1e-15);
    }
}

// x ⊙ c: diag(c). x + c: I.
#[jacobian(wrt(x))]
fn hadamard(x: Vector<3>, c: Vector<3>) -> Vector<3> {
    x.component_mul(&c)
}

#[jacobian(wrt(x))]
fn add_constant(x: Vector<3>, c: Vector<3>) -> Vector<3> {
    x + c
}

#[jacobian(wrt(x))]
fn divide_by_constant(x: Vector<3>, c: Vector<3>) -> Vector<3> {
    x.component_div(&c)
}

#[test]
fn elementwise_product_with_constant_gives_diag_c() {
    let c = Vector::from([2.0, -0.5, 3.25]);
    for x in [[1.0, 1.0, 1.0], [0.0, -4.0, 9.5]] {
        let j: Matrix<3, 3> = hadamard_jacobian(Vector::from(x), c);
        assert_eq!(j, Matrix::from_diagonal(&c));
    }
}

#[test]
fn elementwise_sum_with_constant_gives_identity() {
    let c = Vector::from([2.0, -0.5, 3.25]);
    for x in [[1.0, 1.0, 1.0], [0.0, -4.0, 9.5]] {
        let j: Matrix<3, 3> = add_constant_jacobian(Vector::from(x), c);
        assert_eq!(j, Matrix::identity());
    }
}

#[test]
fn elementwise_division_by_constant_gives_diag_of_reciprocals() {
    let c = [2.0, -0.5, 4.0];
    let j: Matrix<3, 3> = divide_by_constant_jacobian(Vector::from([1.0, 2.0, 3.0]), Vector::from(c));
    assert_eq!(j, diag([0.5, -2.0, 0.25]));
}

// A f(x): A J_f(x), with A 2 x 3 and f: R^4 -> R^3.
#[jacobian]
fn inner(x: Vector<4>) -> Vector<3> {
    Vector::from([x[0] * x[1], x[2].sin() + x[3], x[3] * x[3] - x[0]])
}

#[jacobian(wrt(x))]
fn a_times_inner(a: Matrix<2, 3>, x: Vector<4>) -> Vector<2> {
    a * inner(x)
}

fn inner_jacobian_by_hand(x: [f64; 4]) -> [[f64; 4]; 3] {
    [[x[1], x[0], 0.0, 0.0], [0.0, 0.0, x[2].cos(), 1.0], [-1.0, 0.0, 0.0, 2.0 * x[3]]]
}

#[test]
fn a_times_f_gives_a_times_jacobian_of_f() {
    let a = [[1.0, -2.0, 0.5], [0.0, 3.0, 4.0]];
    for x in [[1.0, 2.0, 3.0, 4.0], [-0.5, 0.25, -1.0, 0.0]] {
        let jf = inner_jacobian_by_hand(x);
        let mut expected = [[0.0; 4]; 2];
        for i in 0..2 {
            for j in 0..4 {
                for k in 0..3 {
                    expected[i][j] += a[i][k] * jf[k][j];
                }
            }
        }
        let j: Matrix<2, 4> = a_times_inner_jacobian(Matrix::from_rows(a), Vector::from(x));
        assert_jacobian_close_at(&x, &j, &expected, 1e-14, 1e-14);
        let j: Matrix<3, 4> = inner_jacobian(Vector::from(x));
        assert_jacobian_close_at(&x, &j, &jf, 1e-15, 1e-15);
    }
}

// Matrix outputs contribute all their rows, row-major; matrix inputs all their entries.
#[jacobian]
fn outer_product(x: Vector<2>) -> Matrix<2, 2> {
    x * x.transpose()
}

#[jacobian]
fn determinant_2x2(m: Matrix<2, 2>) -> f64 {
    m[(0, 0)] * m[(1, 1)] - m[(0, 1)] * m[(1, 0)]
}

#[test]
fn matrix_output_is_flattened_row_major() {
    let (a, b) = (3.0, -2.0);
    let j: Matrix<4, 2> = outer_product_jacobian(Vector::from([a, b]));
    // rows: x0 x0, x0 x1, x1 x0, x1 x1
    let expected = [[2.0 * a, 0.0], [b, a], [b, a], [0.0, 2.0 * b]];
    assert_eq!(j, Matrix::from_rows(expected));
}

#[test]
fn matrix_input_is_flattened_row_major() {
    let m = Matrix::from_rows([[1.0, 2.0], [3.0, 4.0]]);
    let j: Matrix<1, 4> = determinant_2x2_jacobian(m);
    // d det / d (m00, m01, m10, m11) = (m11, -m10, -m01, m00): the cofactor matrix.
    assert_eq!(j, Matrix::from_rows([[4.0, -3.0, -2.0, 1.0]]));
}

// A layer: tanh(W x + b), differentiated in x only and in everything.
#[jacobian(wrt(x))]
fn dense(w: &Matrix<2, 3>, b: &Vector<2>, x: Vector<3>) -> Vector<2> {
    (w * x + *b).map(f64::tanh)
}

#[test]
fn dense_layer_is_diag_of_tanh_prime_times_w() {
    let w = [[0.5, -1.0, 0.25], [2.0, 0.0, -0.75]];
    let b = [0.1, -0.2];
    let x = [0.3, 0.4, -1.2];
    let mut expected = [[0.0; 3]; 2];
    for i in 0..2 {
        let z: f64 = b[i] + (0..3).map(|k| w[i][k] * x[k]).sum::<f64>();
        let slope = 1.0 - z.tanh() * z.tanh();
        for k in 0..3 {
            expected[i][k] = slope * w[i][k];
        }
    }
    let j = dense_jacobian(&Matrix::from_rows(w), &Vector::from(b), Vector::from(x));
    assert_jacobian_close_at(&x, &j, &expected, 1e-14, 1e-15);
}
