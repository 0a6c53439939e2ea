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

/// Entries of a matrix returned by another annotated function (was: every entry got the
/// derivative of entry (0, 0), a wrong Jacobian found by differential fuzzing).
#[jacobian]
fn scaled_matrix(a: f64) -> Matrix<2, 2> {
    a * Matrix::from_rows([[-2.0, 1.0], [2.0, -2.5]])
}

#[jacobian]
fn entries_of_a_called_matrix(x: f64) -> [f64; 4] {
    let w = scaled_matrix(x);
    [w[(0, 0)], w[(0, 1)], scaled_matrix(x)[(1, 0)], w[(1, 1)]]
}

#[test]
fn entries_of_a_matrix_returned_by_a_call() {
    let expected = Matrix::from_rows([[-2.0], [1.0], [2.0], [-2.5]]);
    assert_eq!(entries_of_a_called_matrix_jacobian(1.2), expected);
}

#[jacobian]
fn identity_callee(a: f64) -> f64 {
    a
}

/// A mutable scalar updated between two calls (was: the second call reused the first
/// call's derivative row, a wrong Jacobian found by differential fuzzing).
#[jacobian]
fn mutable_argument(y: f64) -> f64 {
    let mut m = y;
    if y > 100.0 {
        m *= 2.0;
    }
    let _first = identity_callee(m);
    m /= 3.0;
    identity_callee(m)
}

#[test]
fn a_mutable_argument_is_read_after_its_update() {
    approx::assert_relative_eq!(
        mutable_argument_jacobian(0.7),
        Matrix::from_rows([[1.0 / 3.0]]),
        max_relative = 1e-15
    );
}

/// Float literals as operands of two-argument methods.
#[jacobian]
fn literal_operands(x: f64) -> [f64; 3] {
    let a = [x, 2.0];
    [x.log(3.0), f64::hypot(2.0, x), x * a[1].sin()]
}

#[test]
fn float_literal_operands_of_methods() {
    let x: f64 = 1.5;
    let expected = Matrix::from_rows([[1.0 / (x * 3.0_f64.ln())], [x / 2.0_f64.hypot(x)], [2.0_f64.sin()]]);
    approx::assert_relative_eq!(literal_operands_jacobian(x), expected, max_relative = 1e-15);
}

/// A call's result as one branch's value, a scalar as the other's.
#[jacobian]
fn call_in_a_branch(x: f64, y: f64, n: usize) -> f64 {
    let r = identity_callee(x);
    if n == 1 {
        r
    } else {
        y
    }
}

#[test]
fn call_results_join_scalars() {
    assert_eq!(call_in_a_branch_jacobian(1.0, 2.0, 1), Matrix::from_rows([[1.0, 0.0]]));
    assert_eq!(call_in_a_branch_jacobian(1.0, 2.0, 0), Matrix::from_rows([[0.0, 1.0]]));
}

/// `break` with a constant value from a loop that updates differentiated values.
#[jacobian]
fn constant_break(x: f64) -> f64 {
    let mut k = 0;
    let mut m = x;
    let s = loop {
        m *= x;
        k += 1;
        if k >= 2 {
            break 2.0;
        }
    };
    m * s
}

#[test]
fn constant_break_values() {
    // m = x³, f = 2x³, f' = 6x².
    assert_eq!(constant_break_jacobian(2.0), Matrix::from_rows([[24.0]]));
}

#[jacobian]
fn square(t: f64) -> f64 {
    t * t
}

/// A `map` closure calling an annotated function.
#[jacobian]
#[allow(clippy::redundant_closure)]
fn map_through_a_call(v: Vector<2>) -> Vector<2> {
    v.map(|t| square(t))
}

#[test]
fn map_closures_may_call_annotated_functions() {
    assert_eq!(
        map_through_a_call_jacobian(Vector::from([1.5, -2.0])),
        Matrix::from_rows([[3.0, 0.0], [0.0, -4.0]])
    );
}

/// Differentiated parameters by shared reference, used as values.
#[jacobian(value)]
fn by_reference(x: &f64, a: &[f64; 2]) -> [f64; 3] {
    let m = *x;
    [*x, m * a[0], a[1].min(*x)]
}

#[test]
fn parameters_by_reference_are_values() {
    let (value, j) = by_reference_value_and_jacobian(&2.0, &[3.0, 5.0]);
    assert_eq!(value, [2.0, 6.0, 2.0]);
    assert_eq!(j, Matrix::from_rows([[1.0, 0.0, 0.0], [3.0, 2.0, 0.0], [1.0, 0.0, 0.0]]));
}

/// `for v in x` over a parameter `x: &[f64; N]` gives references, as in the function.
#[jacobian]
fn iterate_reference(x: &[f64; 2], y: f64) -> f64 {
    let mut s = 0.0;
    for v in x {
        if *v < y {
            s += y * *v;
        }
    }
    s
}

#[test]
fn iterating_a_parameter_by_reference() {
    assert_eq!(iterate_reference_jacobian(&[1.0, 5.0], 2.0), Matrix::from_rows([[2.0, 0.0, 1.0]]));
}
