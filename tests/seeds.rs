//! Every worked example of the two seed texts (`shared/seeds/`), written with scalars,
//! arrays and loops. The same examples with `Vector`/`Matrix` values are in
//! `seeds_matrix.rs`.

// The annotated originals are kept as written; most are reached only through their
// generated siblings here.
#![allow(dead_code)]
// Index loops are what the macro is exercised on, so they stay.
#![allow(clippy::needless_range_loop)]

mod common;

use common::{assert_jacobian_close_at, dual_jacobian, fd_jacobian_array};
use jacobian::{jacobian, Matrix};

// ---------------------------------------------------------------------------------------
// Seed 000: f(x, y) = (x + y, x y), its Jacobian [[1, 1], [y, x]], and at (-1, 2) the
// matrix [[1, 1], [2, -1]] with determinant -3.
// ---------------------------------------------------------------------------------------

#[jacobian]
fn f(x: f64, y: f64) -> [f64; 2] {
    [x + y, x * y]
}

#[test]
fn worked_example_at_minus_one_two() {
    let j: Matrix<2, 2> = f_jacobian(-1.0, 2.0);
    assert_eq!(j, Matrix::from_rows([[1.0, 1.0], [2.0, -1.0]]));
    assert_eq!(j.determinant(), -3.0);
}

#[test]
fn worked_example_entries_are_partials_by_row_and_column() {
    let j = f_jacobian(-1.0, 2.0);
    // Row i is output i, column k is input k.
    assert_eq!(j[(0, 0)], 1.0); // d(x + y)/dx
    assert_eq!(j[(0, 1)], 1.0); // d(x + y)/dy
    assert_eq!(j[(1, 0)], 2.0); // d(xy)/dx = y
    assert_eq!(j[(1, 1)], -1.0); // d(xy)/dy = x
    assert_eq!(j.as_rows(), &[[1.0, 1.0], [2.0, -1.0]]);
    assert_eq!(Matrix::<2, 2>::ROWS, 2);
    assert_eq!(Matrix::<2, 2>::COLS, 2);
}

#[test]
fn worked_example_keeps_the_function() {
    assert_eq!(f(-1.0, 2.0), [1.0, -2.0]);
}

#[test]
fn worked_example_symbolic_form_at_other_points() {
    // [[1, 1], [y, x]], exactly, wherever it is evaluated.
    for (x, y) in [
        (0.0, 0.0),
        (1.0, 2.0),
        (3.0, -4.0),
        (-7.5, 0.25),
        (1e10, -1e-10),
        (0.1, 0.7),
        (-2.0, -2.0),
        (f64::MAX, f64::MIN_POSITIVE),
    ] {
        let j = f_jacobian(x, y);
        assert_eq!(j, Matrix::from_rows([[1.0, 1.0], [y, x]]), "at (x, y) = ({x}, {y})");
    }
}

#[test]
fn worked_example_determinant_is_x_minus_y() {
    // det [[1, 1], [y, x]] = x - y: the local area factor, negative where orientation flips.
    for (x, y) in [(-1.0, 2.0), (2.0, -1.0), (5.0, 5.0), (0.0, 3.0), (4.0, 1.0)] {
        let det = f_jacobian(x, y).determinant();
        assert_eq!(det, x - y, "at (x, y) = ({x}, {y})");
    }
    // At (-1, 2) the area is scaled by 3 and orientation is flipped.
    let det = f_jacobian(-1.0, 2.0).determinant();
    assert_eq!(det.abs(), 3.0);
    assert!(det < 0.0);
}

#[test]
fn worked_example_is_the_local_linear_map() {
    // f(p + d) - f(p) - J d = (0, dx dy): the only second-order term of f.
    let (x, y) = (-1.0, 2.0);
    let j = f_jacobian(x, y);
    for (dx, dy) in [(1e-3, 2e-3), (-4e-4, 1e-4), (2.5e-3, -3e-3)] {
        let moved = f(x + dx, y + dy);
        let here = f(x, y);
        for i in 0..2 {
            let linear = j[(i, 0)] * dx + j[(i, 1)] * dy;
            let second_order = if i == 1 { dx * dy } else { 0.0 };
            let residual = moved[i] - here[i] - linear;
            assert!(
                (residual - second_order).abs() < 1e-12,
                "output {i}, step ({dx}, {dy}): residual {residual}, expected {second_order}"
            );
        }
    }
}

#[test]
fn worked_example_agrees_with_dual_numbers_and_finite_differences() {
    for p in [[-1.0, 2.0], [0.3, -0.8], [12.0, 7.0]] {
        let (_, expected) = dual_jacobian(|[x, y]| [x + y, x * y], p);
        let j = f_jacobian(p[0], p[1]);
        assert_jacobian_close_at(&p, &j, &expected, 0.0, 0.0);
        let fd = fd_jacobian_array(|[x, y]| f(x, y), p);
        assert_jacobian_close_at(&p, &j, &fd, 1e-7, 1e-7);
    }
}

// ---------------------------------------------------------------------------------------
// Seed 003: shapes. R -> R^m gives an m x 1 column; R^n -> R gives a 1 x n row whose
// transpose is the gradient.
// ---------------------------------------------------------------------------------------

#[jacobian]
fn curve(t: f64) -> [f64; 3] {
    [t, t * t, t * t * t]
}

#[jacobian]
fn helix(t: f64) -> [f64; 3] {
    [t.cos(), t.sin(), 0.5 * t]
}

#[test]
fn scalar_to_vector_gives_a_column() {
    for t in [-2.0, 0.0, 1.0, 3.0, 0.5] {
        let j: Matrix<3, 1> = curve_jacobian(t);
        assert_eq!(j, Matrix::from_rows([[1.0], [2.0 * t], [3.0 * t * t]]), "at t = {t}");
    }
    assert_eq!(Matrix::<3, 1>::ROWS, 3);
    assert_eq!(Matrix::<3, 1>::COLS, 1);
}

#[test]
fn scalar_to_vector_column_of_a_helix() {
    for t in [-3.0, -0.4, 0.0, 0.9, 2.5, 10.0] {
        let j: Matrix<3, 1> = helix_jacobian(t);
        let expected = [[-t.sin()], [t.cos()], [0.5]];
        assert_jacobian_close_at(&t, &j, &expected, 1e-15, 1e-15);
    }
}

#[jacobian]
fn psi(x: f64, y: f64, z: f64) -> f64 {
    x * y + y * z * z - 2.0 * x
}

#[jacobian]
fn psi_of_array(x: [f64; 3]) -> f64 {
    x[0] * x[1] + x[1] * x[2] * x[2] - 2.0 * x[0]
}

#[test]
fn vector_to_scalar_gives_a_row() {
    for [x, y, z] in [[1.0, 2.0, 3.0], [-1.0, 0.5, -4.0], [0.0, 0.0, 0.0]] {
        let j: Matrix<1, 3> = psi_jacobian(x, y, z);
        let gradient = [y - 2.0, x + z * z, 2.0 * y * z];
        assert_eq!(j, Matrix::from_rows([gradient]), "at ({x}, {y}, {z})");
        let j: Matrix<1, 3> = psi_of_array_jacobian([x, y, z]);
        assert_eq!(j, Matrix::from_rows([gradient]), "array form at ({x}, {y}, {z})");
    }
    assert_eq!(Matrix::<1, 3>::ROWS, 1);
    assert_eq!(Matrix::<1, 3>::COLS, 3);
}

#[test]
fn transpose_of_the_row_is_the_gradient() {
    let [x, y, z] = [1.5, -2.0, 0.5];
    let gradient: Matrix<3, 1> = psi_jacobian(x, y, z).transpose();
    assert_eq!(gradient, Matrix::from_rows([[y - 2.0], [x + z * z], [2.0 * y * z]]));
    let gradient: Matrix<3, 1> = psi_of_array_jacobian([x, y, z]).transpose();
    assert_eq!(gradient[(0, 0)], y - 2.0);
    assert_eq!(gradient[(1, 0)], x + z * z);
    assert_eq!(gradient[(2, 0)], 2.0 * y * z);
}

// ---------------------------------------------------------------------------------------
// Left-multiplication by a matrix: d(Wx)/dx = W (seed 000), d(Ax)/dx = A (seed 003).
// W is a constant parameter, x the differentiated one.
// ---------------------------------------------------------------------------------------

const M: usize = 2;
const N: usize = 3;

#[jacobian(wrt(x))]
fn left_multiply(w: [[f64; N]; M], x: [f64; N]) -> [f64; M] {
    let mut y = [0.0; M];
    for i in 0..M {
        for j in 0..N {
            y[i] += w[i][j] * x[j];
        }
    }
    y
}

#[jacobian(wrt(x))]
fn left_multiply_by_ref(w: &[[f64; N]; M], x: &[f64; N]) -> [f64; M] {
    let mut y = [0.0; M];
    for i in 0..M {
        for j in 0..N {
            y[i] += w[i][j] * x[j];
        }
    }
    y
}

#[jacobian(wrt(x))]
fn linear_form<const R: usize, const C: usize>(a: &[[f64; C]; R], x: [f64; C]) -> [f64; R] {
    let mut y = [0.0; R];
    for i in 0..R {
        for j in 0..C {
            y[i] += a[i][j] * x[j];
        }
    }
    y
}

const W: [[f64; N]; M] = [[1.0, -2.0, 0.5], [3.0, 0.0, -4.25]];

#[test]
fn left_multiplication_gives_w() {
    for x in [[0.0, 0.0, 0.0], [1.0, 2.0, 3.0], [-0.3, 7.1, 1e3]] {
        let j: Matrix<M, N> = left_multiply_jacobian(W, x);
        assert_eq!(j, Matrix::from_rows(W), "at x = {x:?}");
        let j: Matrix<M, N> = left_multiply_by_ref_jacobian(&W, &x);
        assert_eq!(j, Matrix::from_rows(W), "by reference at x = {x:?}");
    }
}

#[test]
fn linear_form_gives_a_for_several_shapes() {
    let a = [[2.0, -1.0, 0.0, 4.0], [0.5, 0.25, -8.0, 1.0], [9.0, 0.0, 0.0, -1.0]];
    let j: Matrix<3, 4> = linear_form_jacobian(&a, [1.0, -1.0, 2.0, 0.5]);
    assert_eq!(j, Matrix::from_rows(a));

    let column = [[3.0], [-2.0]];
    let j: Matrix<2, 1> = linear_form_jacobian(&column, [5.0]);
    assert_eq!(j, Matrix::from_rows(column));

    let row = [[1.0, 2.0, 3.0, 4.0, 5.0]];
    let j: Matrix<1, 5> = linear_form_jacobian(&row, [0.0; 5]);
    assert_eq!(j, Matrix::from_rows(row));
}

// ---------------------------------------------------------------------------------------
// Squared L2 norm: d||x||^2/dx = 2 x^T.
// ---------------------------------------------------------------------------------------

#[jacobian]
fn norm_squared(x: [f64; 4]) -> f64 {
    let mut s = 0.0;
    for i in 0..4 {
        s += x[i] * x[i];
    }
    s
}

#[test]
fn squared_norm_gives_two_x_transposed() {
    for x in [[1.0, 2.0, 3.0, 4.0], [-0.5, 0.0, 1e-3, -7.0], [0.0; 4]] {
        let j: Matrix<1, 4> = norm_squared_jacobian(x);
        let two_x = x.map(|v| 2.0 * v);
        assert_eq!(j, Matrix::from_rows([two_x]), "at x = {x:?}");
        assert_eq!(j.transpose(), Matrix::from_rows(two_x.map(|v| [v])));
    }
}

// ---------------------------------------------------------------------------------------
// Elementwise functions: d(g∘x)/dx = diag(g'(x)).
// ---------------------------------------------------------------------------------------

#[jacobian]
fn tanh_each(x: [f64; 3]) -> [f64; 3] {
    let mut y = [0.0; 3];
    for i in 0..3 {
        y[i] = x[i].tanh();
    }
    y
}

#[jacobian]
fn sin_each(x: [f64; 3]) -> [f64; 3] {
    let mut y = [0.0; 3];
    for i in 0..3 {
        y[i] = x[i].sin();
    }
    y
}

#[jacobian]
fn exp_each(x: [f64; 3]) -> [f64; 3] {
    [x[0].exp(), x[1].exp(), x[2].exp()]
}

fn diag(d: [f64; 3]) -> [[f64; 3]; 3] {
    let mut m = [[0.0; 3]; 3];
    for i in 0..3 {
        m[i][i] = d[i];
    }
    m
}

fn assert_elementwise(x: [f64; 3], j: Matrix<3, 3>, g_prime: fn(f64) -> f64) {
    assert_jacobian_close_at(&x, &j, &diag(x.map(g_prime)), 1e-13, 1e-15);
    for r in 0..3 {
        for c in 0..3 {
            if r != c {
                assert_eq!(j[(r, c)], 0.0, "off-diagonal ({r}, {c}) at {x:?}");
            }
        }
    }
}

const ELEMENTWISE_POINTS: [[f64; 3]; 4] =
    [[0.0, 0.5, -1.0], [2.0, -1.5, 0.25], [-0.1, 1.2, 1.9], [1e-8, -2.0, 0.75]];

#[test]
fn elementwise_tanh_gives_diagonal_of_derivative() {
    for x in ELEMENTWISE_POINTS {
        assert_elementwise(x, tanh_each_jacobian(x), |t| 1.0 / (t.cosh() * t.cosh()));
    }
}

#[test]
fn elementwise_sin_gives_diagonal_of_derivative() {
    for x in ELEMENTWISE_POINTS {
        assert_elementwise(x, sin_each_jacobian(x), f64::cos);
    }
}

#[test]
fn elementwise_exp_gives_diagonal_of_derivative() {
    for x in ELEMENTWISE_POINTS {
        assert_elementwise(x, exp_each_jacobian(x), f64::exp);
    }
}

// ---------------------------------------------------------------------------------------
// Elementwise product and sum with a constant: d(x⊙c)/dx = diag(c), d(x + c)/dx = I.
// ---------------------------------------------------------------------------------------

#[jacobian(wrt(x))]
fn hadamard(x: [f64; 3], c: [f64; 3]) -> [f64; 3] {
    let mut y = [0.0; 3];
    for i in 0..3 {
        y[i] = x[i] * c[i];
    }
    y
}

#[jacobian]
fn hadamard_both(x: [f64; 3], c: [f64; 3]) -> [f64; 3] {
    let mut y = [0.0; 3];
    for i in 0..3 {
        y[i] = x[i] * c[i];
    }
    y
}

#[jacobian(wrt(x))]
fn add_constant(x: [f64; 3], c: [f64; 3]) -> [f64; 3] {
    let mut y = [0.0; 3];
    for i in 0..3 {
        y[i] = x[i] + c[i];
    }
    y
}

#[test]
fn elementwise_product_with_constant_gives_diag_c() {
    let c = [2.0, -0.5, 3.25];
    for x in [[1.0, 1.0, 1.0], [0.0, -4.0, 9.5]] {
        let j: Matrix<3, 3> = hadamard_jacobian(x, c);
        assert_eq!(j, Matrix::from_rows(diag(c)), "at x = {x:?}");
    }
}

#[test]
fn elementwise_product_differentiated_in_both_is_diag_c_then_diag_x() {
    // Columns follow parameter order: first the three components of x, then those of c.
    let c = [2.0, -0.5, 3.25];
    let x = [0.5, -4.0, 9.5];
    let j: Matrix<3, 6> = hadamard_both_jacobian(x, c);
    let mut expected = [[0.0; 6]; 3];
    for i in 0..3 {
        expected[i][i] = c[i];
        expected[i][3 + i] = x[i];
    }
    assert_eq!(j, Matrix::from_rows(expected));
}

#[test]
fn elementwise_sum_with_constant_gives_identity() {
    let c = [2.0, -0.5, 3.25];
    for x in [[1.0, 1.0, 1.0], [0.0, -4.0, 9.5]] {
        let j: Matrix<3, 3> = add_constant_jacobian(x, c);
        assert_eq!(j, Matrix::identity(), "at x = {x:?}");
        assert_eq!(j, Matrix::from_rows(diag([1.0; 3])));
    }
}

// ---------------------------------------------------------------------------------------
// Chain rule: d(A f(x))/dx = A J_f(x), with A m x n, f: R^l -> R^n (m = 2, n = 3, l = 4,
// so every shape is different).
// ---------------------------------------------------------------------------------------

#[jacobian]
fn inner(x: [f64; 4]) -> [f64; 3] {
    [x[0] * x[1], x[2].sin() + x[3], x[3] * x[3] - x[0]]
}

#[jacobian(wrt(x))]
fn a_times_inner(a: [[f64; 3]; 2], x: [f64; 4]) -> [f64; 2] {
    let fx = inner(x);
    let mut y = [0.0; 2];
    for i in 0..2 {
        for k in 0..3 {
            y[i] += a[i][k] * fx[k];
        }
    }
    y
}

/// J_f of `inner`, by hand.
fn inner_jacobian_by_hand(x: [f64; 4]) -> [[f64; 4]; 3] {
    [[x[1], x[0], 0.0, 0.0], [0.0, 0.0, x[2].cos(), 1.0], [-1.0, 0.0, 0.0, 2.0 * x[3]]]
}

fn mat_mul<const R: usize, const K: usize, const C: usize>(
    a: &[[f64; K]; R],
    b: &[[f64; C]; K],
) -> [[f64; C]; R] {
    let mut p = [[0.0; C]; R];
    for i in 0..R {
        for j in 0..C {
            for k in 0..K {
                p[i][j] += a[i][k] * b[k][j];
            }
        }
    }
    p
}

#[test]
fn a_times_f_gives_a_times_jacobian_of_f() {
    let a = [[1.0, -2.0, 0.5], [0.0, 3.0, 4.0]];
    for x in [[1.0, 2.0, 3.0, 4.0], [-0.5, 0.25, -1.0, 0.0], [2.0, -3.0, 0.1, -0.7]] {
        let j: Matrix<2, 4> = a_times_inner_jacobian(a, x);
        let expected = mat_mul(&a, &inner_jacobian_by_hand(x));
        assert_jacobian_close_at(&x, &j, &expected, 1e-14, 1e-14);
        // and J_f itself, through the generated sibling of `inner`
        let jf: Matrix<3, 4> = inner_jacobian(x);
        assert_jacobian_close_at(&x, &jf, &inner_jacobian_by_hand(x), 1e-15, 1e-15);
    }
}

#[test]
fn a_times_f_is_linear_in_a() {
    // The Jacobian of A f(x) with respect to x is linear in the constant A.
    let a1 = [[1.0, -2.0, 0.5], [0.0, 3.0, 4.0]];
    let a2 = [[-1.0, 0.0, 2.0], [5.0, 1.0, -1.0]];
    let sum = [[0.0, -2.0, 2.5], [5.0, 4.0, 3.0]];
    let x = [0.3, -1.2, 2.2, 0.9];
    let (j1, j2, js) =
        (a_times_inner_jacobian(a1, x), a_times_inner_jacobian(a2, x), a_times_inner_jacobian(sum, x));
    for r in 0..2 {
        for c in 0..4 {
            let expected = j1[(r, c)] + j2[(r, c)];
            assert!(
                (js[(r, c)] - expected).abs() <= 1e-14 * (1.0 + expected.abs()),
                "entry ({r}, {c}): {} vs {expected}",
                js[(r, c)]
            );
        }
    }
}
