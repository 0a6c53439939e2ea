//! Minimised regressions: each function once gave a wrong Jacobian, a compile error on
//! supported code, or a crash. Checked against hand-derived Jacobians.

use jacobian::{jacobian, Matrix, Vector};

/// A `match` arm binding a name that shadows a differentiated parameter: inside the arm
/// the name is the constant, not the parameter.
#[jacobian]
#[allow(clippy::match_single_binding)]
fn match_binding_shadows(x: f64, n: i32) -> f64 {
    let k = match n {
        x => f64::from(x),
    };
    k * x
}

#[test]
fn match_binding_shadows_a_parameter() {
    assert_eq!(match_binding_shadows_jacobian(2.0, 3), Matrix::from_rows([[3.0]]));
}

/// `for x in 0..3` inside a function differentiated in `x`: the loop's `x` is an integer.
#[jacobian]
fn loop_variable_shadows(x: f64) -> f64 {
    let mut s = x;
    for x in 0..3 {
        s += f64::from(x);
    }
    s * x
}

#[test]
fn loop_variable_shadows_a_parameter() {
    // s = x + 3, f = (x + 3)·x, f' = 2x + 3.
    assert_eq!(loop_variable_shadows_jacobian(2.0), Matrix::from_rows([[7.0]]));
}

/// `if let` on a constant, binding a name that shadows a parameter.
#[jacobian]
fn if_let_binding(x: f64, o: Option<f64>) -> f64 {
    if let Some(x) = o {
        x * 2.0
    } else {
        x * x
    }
}

#[test]
fn if_let_binds_constants() {
    assert_eq!(if_let_binding_jacobian(3.0, Some(1.0)), Matrix::from_rows([[0.0]]));
    assert_eq!(if_let_binding_jacobian(3.0, None), Matrix::from_rows([[6.0]]));
}

/// `let … else` on integers, whose `else` returns.
#[jacobian]
fn let_else(x: f64, n: usize) -> f64 {
    let Some(k) = n.checked_sub(1) else {
        return x;
    };
    x * x * (k as f64)
}

#[test]
fn let_else_over_constants() {
    assert_eq!(let_else_jacobian(2.0, 0), Matrix::from_rows([[1.0]]));
    assert_eq!(let_else_jacobian(2.0, 3), Matrix::from_rows([[8.0]]));
}

/// Shadowing a parameter with a `let`, then using both values' derivatives.
#[jacobian]
fn shadowing(x: f64, y: f64) -> [f64; 2] {
    let x = x * y;
    let y = x + y;
    let x: f64 = x.sin() * y;
    [x, y]
}

#[test]
fn shadowing_keeps_each_value() {
    let (x, y): (f64, f64) = (0.4, 1.3);
    let (u, v) = (x * y, x * y + y);
    // d(u) = [y, x]; d(v) = [y, x + 1]; d(sin(u)·v) = cos(u)·v·du + sin(u)·dv.
    let expected = Matrix::from_rows([
        [u.cos() * v * y + u.sin() * y, u.cos() * v * x + u.sin() * (x + 1.0)],
        [y, x + 1.0],
    ]);
    approx::assert_relative_eq!(shadowing_jacobian(x, y), expected, max_relative = 1e-15);
}

#[jacobian]
fn negate(x: Vector<2>) -> Vector<2> {
    -x
}

#[test]
fn unary_minus_on_a_vector() {
    assert_eq!(negate_jacobian(Vector::from([1.0, 2.0])), Matrix::from_rows([[-1.0, 0.0], [0.0, -1.0]]));
}

/// Float arrays and negative literals as initial values of variables updated later.
#[jacobian]
fn literal_initial_values(x: [f64; 3]) -> [f64; 2] {
    let mut a = [0.0, 0.0];
    let mut best = -1.0;
    for v in x {
        if v > best {
            best = v;
        }
    }
    a[0] = best * 2.0;
    a[1] = x[0] * x[1];
    a
}

#[test]
fn float_literal_arrays_and_negative_literals_have_a_type() {
    let j = literal_initial_values_jacobian([0.5, 2.0, 1.0]);
    assert_eq!(j, Matrix::from_rows([[0.0, 2.0, 0.0], [2.0, 0.5, 0.0]]));
}

/// A `loop` as the function's result, leaving with `break value`.
#[jacobian]
fn loop_result(x: f64) -> f64 {
    let mut y = x;
    loop {
        if y > 10.0 {
            break y * 2.0;
        }
        y *= 3.0;
    }
}

#[test]
fn loop_with_break_value_as_the_result() {
    // y = 27x at x = 1 (1, 3, 9, 27): f = 54x.
    assert_eq!(loop_result_jacobian(1.0), Matrix::from_rows([[54.0]]));
}

/// `powi` with exponents of no declared integer type.
#[jacobian]
fn powi_untyped(x: f64) -> [f64; 3] {
    let n = 3;
    [x.powi(-2), x.powi(n), x.powi(2 - 4)]
}

#[test]
fn powi_with_untyped_integer_exponents() {
    let x: f64 = 2.0;
    let expected = Matrix::from_rows([[-2.0 * x.powi(-3)], [3.0 * x * x], [-2.0 * x.powi(-3)]]);
    assert_eq!(powi_untyped_jacobian(x), expected);
}

/// `p[i] = p[i - 1] * x[i]` reads one row of an array's derivative while writing another.
#[jacobian]
fn prefix_products(x: [f64; 3]) -> [f64; 3] {
    let mut p = [0.0; 3];
    p[0] = x[0];
    for i in 1..3 {
        p[i] = p[i - 1] * x[i];
    }
    p
}

#[test]
fn prefix_products_update_rows_in_place_safely() {
    let [a, b, c] = [2.0, 3.0, 5.0];
    let expected = Matrix::from_rows([[1.0, 0.0, 0.0], [b, a, 0.0], [b * c, a * c, a * b]]);
    assert_eq!(prefix_products_jacobian([a, b, c]), expected);
}

/// A call result annotated with its type, then used as a vector.
#[jacobian]
fn inner(x: Vector<2>) -> Vector<2> {
    x.component_mul(&x)
}

#[jacobian]
fn outer(x: Vector<2>) -> Vector<2> {
    let y: Vector<2> = inner(x);
    2.0 * y
}

#[test]
fn annotated_call_results_are_vectors() {
    assert_eq!(outer_jacobian(Vector::from([1.0, 3.0])), Matrix::from_rows([[4.0, 0.0], [0.0, 12.0]]));
}

#[jacobian]
fn rotation(t: f64) -> Matrix<2, 2> {
    Matrix::from_rows([[t.cos(), -t.sin()], [t.sin(), t.cos()]])
}

/// A matrix-valued call result, annotated, then transposed.
#[jacobian]
fn rotation_transposed(t: f64) -> Matrix<2, 2> {
    let m: Matrix<2, 2> = rotation(t);
    m.transpose()
}

#[test]
fn annotated_matrix_call_results_transpose_correctly() {
    let t: f64 = 0.3;
    // d/dt of [[c, s], [-s, c]] row-major: [-s, c, -c, -s].
    let expected = Matrix::from_rows([[-t.sin()], [t.cos()], [-t.cos()], [-t.sin()]]);
    approx::assert_relative_eq!(rotation_transposed_jacobian(t), expected, max_relative = 1e-15);
}

/// A vector variable created with its size in a turbofish, filled in a loop.
#[jacobian]
fn filled_in_a_loop(x: Vector<3>) -> Vector<3> {
    let mut y = Vector::<3>::zeros();
    for i in 0..3 {
        y[i] = x[i] * x[(i + 1) % 3];
    }
    y
}

#[test]
fn turbofish_sizes_give_a_variable_its_shape() {
    let [a, b, c] = [2.0, 3.0, 5.0];
    let expected = Matrix::from_rows([[b, a, 0.0], [0.0, c, b], [c, 0.0, a]]);
    assert_eq!(filled_in_a_loop_jacobian(Vector::from([a, b, c])), expected);
}
