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

// ---------------------------------------------------------------------------------------
// Issue 8: the differential fuzzer at seeds 20261130 and 4242 (count 600), minimised. Each
// function takes a vector or calls an annotated function, so that the legacy lowering,
// which handles those, is the one tested.
// ---------------------------------------------------------------------------------------

const K: f64 = -0.375;

/// A `let mut` inside a loop body shadowing a constant of the enclosing block, then
/// updated (was: "cannot tell the type of `s`, which is updated with differentiated
/// values", at the outer `s`, which is never assigned).
#[jacobian]
fn shadowed_in_a_loop(v: Vector<2>, x: f64) -> f64 {
    let s = {
        let t = std::f64::consts::PI;
        t * t.atan()
    };
    let mut total = 0.0;
    for i in 0..2 {
        let mut s = s.sin() - x;
        s -= v[i];
        total += s;
    }
    x * s + total
}

#[test]
fn a_variable_shadowed_inside_a_loop_is_its_own() {
    let s = std::f64::consts::PI * std::f64::consts::PI.atan();
    let j = shadowed_in_a_loop_jacobian(Vector::from([0.5, -1.5]), 0.25);
    approx::assert_relative_eq!(j, Matrix::from_rows([[-1.0, -1.0, s - 2.0]]), max_relative = 1e-15);
}

/// A constant scalar bound by an `if`, as the factor of a vector (was: E0308 in the
/// generated code, `rows_mul` given a `&f64`: the constant was taken for a matrix).
#[jacobian]
fn scaled_by_a_constant_branch(v: Vector<2>) -> Vector<2> {
    let s = if K < 0.75 { 2.375 } else { K.cos() };
    let t = {
        let u = 0.5;
        u * K.abs()
    };
    v * s + t * v
}

#[test]
fn constants_from_branches_and_blocks_are_scalars() {
    let d = 2.375 + 0.5 * K.abs();
    let j = scaled_by_a_constant_branch_jacobian(Vector::from([0.5, -1.5]));
    approx::assert_relative_eq!(j, Matrix::from_rows([[d, 0.0], [0.0, d]]), max_relative = 1e-15);
}

/// A float method of a constant times a matrix literal, times a vector (was: "cannot tell
/// the size of this product's left operand", although the literal's size is visible).
#[jacobian]
fn scaled_literal_matrix(x: Vector<3>) -> Vector<3> {
    let s = K + 1.0;
    s.tanh() * Matrix::from_rows([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]) * x
}

#[test]
fn a_scalar_times_a_literal_matrix_has_the_matrix_shape() {
    let c = (K + 1.0).tanh();
    let expected = Matrix::from_rows([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]) * c;
    let j = scaled_literal_matrix_jacobian(Vector::from([0.5, -1.5, 2.0]));
    approx::assert_relative_eq!(j, expected, max_relative = 1e-15);
}

/// Constant factors the syntax shows to be scalars: `PI`, a float method of a constant
/// parameter, the quotient by a `const` item (was: "cannot tell the size …", "this
/// operator is not supported on vectors and matrices").
#[jacobian(wrt(x))]
fn constant_factors(x: Vector<2>, c: f64) -> Vector<2> {
    use std::f64::consts::PI;
    PI * x + c.sin() * x + x / K
}

#[test]
fn constant_factors_the_syntax_shows_to_be_scalars() {
    let c: f64 = 0.75;
    let d = std::f64::consts::PI + c.sin() + 1.0 / K;
    let j = constant_factors_jacobian(Vector::from([0.5, -1.5]), c);
    approx::assert_relative_eq!(j, Matrix::from_rows([[d, 0.0], [0.0, d]]), max_relative = 1e-15);
}

#[jacobian]
fn product_of_components(v: &Vector<4>) -> f64 {
    v[0] * v[1] + v[2] * v[3]
}

#[jacobian]
fn first_times_second(a: &[f64; 2]) -> f64 {
    a[0] * a[1]
}

#[jacobian]
fn first_times_scalar(a: &Vector<4>, t: f64) -> f64 {
    a[0] * t
}

/// Reference parameters passed on as they are to annotated functions that take references
/// (was: E0308 in the generated code, "expected `&Matrix<4, 1>`, found `Matrix<4, 1>`"),
/// and a value read through a reference passed on by value.
#[jacobian]
fn forwards_references(v: &Vector<4>, a: &[f64; 2], t: &f64) -> f64 {
    let m = *t;
    product_of_components(v) * first_times_second(a) + first_times_scalar(v, m)
}

#[test]
fn references_are_passed_on_as_references() {
    let (v, a) = (Vector::from([1.0, 2.0, 3.0, 4.0]), [5.0, 7.0]);
    let (p, q, t) = (14.0, 35.0, 0.5);
    let expected = Matrix::from_rows([[2.0 * q + t, 1.0 * q, 4.0 * q, 3.0 * q, 7.0 * p, 5.0 * p, 1.0]]);
    assert_eq!(forwards_references_jacobian(&v, &a, &t), expected);
}

/// An elementwise product with a constant vector made by `map`, summed into a value that
/// only an unused vector reads (was: E0284 in the generated code, "cannot infer the value
/// of const parameter `L`" of the runtime's `flat`: nothing fixed the constant's length).
#[jacobian]
#[allow(unused_variables)]
fn product_with_a_mapped_constant(v: Vector<2>) -> [f64; 2] {
    let s = v.component_mul(&Vector::from([1.0, 2.0]).map(f64::tanh)).sum();
    let unused = Vector::from([s, v[1]]);
    let t = Vector::from([1.0, 2.0]).map(f64::tanh).dot(&v);
    [v[0] * v[1], t]
}

#[test]
fn a_constant_operand_takes_the_other_operands_shape() {
    let j = product_with_a_mapped_constant_jacobian(Vector::from([0.5, -1.5]));
    let expected = Matrix::from_rows([[-1.5, 0.5], [1.0f64.tanh(), 2.0f64.tanh()]]);
    approx::assert_relative_eq!(j, expected, max_relative = 1e-15);
}

/// Vectors and matrices computed from constants alone, where their shape matters (were:
/// E0308 "expected f64, found Matrix<2, 1>", "cannot tell the size …", E0284 …).
#[jacobian]
fn constant_operations(x: f64, u: Vector<2>) -> Vector<2> {
    let c = Vector::from([1.0, 3.0]).map(f64::tanh);
    let w = Matrix::from_rows([[1.0, 2.0], [3.0, 4.0]]).map(f64::atan);
    c * x + w * u + Vector::from([0.5, 1.5]).map(|t| t * x)
}

#[test]
fn operations_on_constants_have_a_shape() {
    let (x, u) = (0.75, Vector::from([0.5, -1.5]));
    let (c0, c1) = (1.0f64.tanh(), 3.0f64.tanh());
    let w = |a: f64| a.atan();
    let expected = Matrix::from_rows([[c0 + 0.5, w(1.0), w(2.0)], [c1 + 1.5, w(3.0), w(4.0)]]);
    approx::assert_relative_eq!(constant_operations_jacobian(x, u), expected, max_relative = 1e-15);
}

/// A constant shadowed by its product with a differentiated value (was a WRONG JACOBIAN:
/// the derivative used the new value, `s·x`, in place of the old `s`).
#[jacobian]
fn shadowed_constant(x: f64, v: Vector<2>) -> f64 {
    let s = K * K;
    let s = s * x;
    let t = v[0].floor();
    let t = x * t;
    s + t * v[1]
}

#[test]
fn a_shadowed_constant_keeps_its_value_in_the_derivative() {
    let (x, v) = (1.8, Vector::from([2.5, 0.5]));
    let expected = Matrix::from_rows([[K * K + 2.0 * 0.5, 0.0, 2.0 * x]]);
    approx::assert_relative_eq!(shadowed_constant_jacobian(x, v), expected, max_relative = 1e-15);
}

/// Mutable variables initialized with float literals or constants, updated with
/// differentiated values in branches and loops, and given to float methods in path form
/// (were: E0689 on `{float}` in the generated code, and "cannot tell the type of `m`").
#[jacobian]
fn literal_and_constant_initial_values(x: f64, v: Vector<2>) -> f64 {
    let x = identity_callee(x);
    let mut m = 1.25;
    if x >= 0.5 {
        m = (x.atan() - 1.5).recip();
    }
    let mut n = K.round();
    let mut a = [K, 1.0];
    for i in 0..2 {
        n += x * v[i];
        a[i] += x;
    }
    let s = 0.625;
    x * (0.25 + f64::abs(m)).recip() + n + a[0] * a[1] + f64::max(s, x) + f64::min(-0.625, v[1])
}

#[test]
fn untyped_literals_and_constants_as_initial_values() {
    let v = Vector::from([0.5, -1.5]);
    for x in [0.75_f64, 0.25] {
        let (m, dm): (f64, f64) = if x >= 0.5 {
            let q = x.atan() - 1.5;
            (1.0 / q, -1.0 / (q * q) / (1.0 + x * x))
        } else {
            (1.25, 0.0)
        };
        // m < 0 where it is differentiated: d|m| = -dm
        let r = 1.0 / (0.25 + m.abs());
        let dr = if m < 0.0 { r * r * dm } else { -r * r * dm };
        let dx = r + x * dr + (v[0] + v[1]) + (1.0 + x) + (K + x) + if x > 0.625 { 1.0 } else { 0.0 };
        let expected = Matrix::from_rows([[dx, x, x + 1.0]]);
        approx::assert_relative_eq!(
            literal_and_constant_initial_values_jacobian(x, v),
            expected,
            max_relative = 1e-14
        );
    }
}

/// `for e in a` over a mutable array that the body writes: the loop reads a copy made
/// before it (was a WRONG JACOBIAN: the lowering read the array as updated, found by the
/// differential fuzzer at seed 20261130).
#[jacobian]
fn iterate_over_a_copy(x: f64, v: Vector<2>) -> Vector<3> {
    let mut a = [x, x + x, v[0]];
    for e in a {
        a[1] += e * x;
    }
    Vector::from(a)
}

#[test]
fn iterating_by_value_reads_the_array_as_it_was() {
    let (x, v) = (0.75, Vector::from([0.5, -1.5]));
    // a[1] = 2x + x·x + 2x·x + v0·x
    let expected = Matrix::from_rows([[1.0, 0.0, 0.0], [2.0 + 6.0 * x + v[0], x, 0.0], [0.0, 1.0, 0.0]]);
    approx::assert_relative_eq!(iterate_over_a_copy_jacobian(x, v), expected, max_relative = 1e-15);
}

/// A `map` closure whose value is a float literal alone, on a differentiated vector, then
/// mapped again (was: E0282 in the generated code: the closure's result was `{float}`).
#[jacobian]
#[allow(clippy::identity_op)]
fn map_to_a_literal(x: Vector<3>, m: f64) -> Vector<3> {
    let y = x[1];
    (-Vector::from([1.625, m, x[0]]).map(|_t| m).map(|_t| -1.375 * 1.0)).map(|t| (t - K).min(y))
}

#[test]
fn a_closure_of_a_literal_has_the_scalar_type() {
    // every component is min(1.375 + 0.375, y) = y
    let j = map_to_a_literal_jacobian(Vector::from([0.3, 0.5, 0.1]), 0.2);
    assert_eq!(j, Matrix::from_rows([[0.0, 1.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]]));
}

/// A compound expression of float literals as the receiver of a method with a
/// differentiated argument (was: E0689 in the generated code, `atan2` on `{float}`, found
/// by the differential fuzzer at seed 99).
#[jacobian]
fn compound_literal_receiver(x: f64, v: Vector<2>) -> f64 {
    f64::atan2(1.25 + -0.375, 1.0 + x.max(v[0]).powi(2)) * f64::min(2.0 * 0.5, v[1])
}

#[test]
fn compound_float_literals_are_typed() {
    let (x, v) = (0.75, Vector::from([0.5, 0.25]));
    let c: f64 = 1.25 - 0.375;
    let d = 1.0 + x * x;
    let a = c.atan2(d);
    // d/dd atan2(c, d) = -c / (c² + d²); dd/dx = 2x (x > v0); min(1, v1) = v1
    let expected = Matrix::from_rows([[-c / (c * c + d * d) * 2.0 * x * v[1], 0.0, a]]);
    approx::assert_relative_eq!(compound_literal_receiver_jacobian(x, v), expected, max_relative = 1e-14);
}

/// `‖a‖` of a vector that stays zero: the derivative 0 (was: NaN, `0 / 0`, found by the
/// differential fuzzer at seeds 5 and 0xBADC0DE).
#[jacobian]
#[allow(clippy::eq_op)]
fn norm_of_a_zero_vector(x: f64, v: Vector<2>) -> [f64; 2] {
    let mut a = [0.0; 2];
    if x > 10.0 {
        a[0] = x;
    }
    let s = (Vector::from([v[0], 1.0]) * (x - x)).norm();
    [Vector::from(a).norm() + x, s]
}

#[test]
fn the_norm_of_the_zero_vector_has_derivative_zero() {
    let j = norm_of_a_zero_vector_jacobian(0.5, Vector::from([0.25, 2.0]));
    assert_eq!(j, Matrix::from_rows([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]));
}

/// A loop-carried value overwritten by a read of an array (`m = x[i % 3]`): its final
/// value was lost in the emitted code of `value_and_jacobian` and `jvp`, which returned the
/// value before the loop (found by the differential fuzzer's `jvp` check, default seed).
#[jacobian(value, jvp)]
fn overwritten_by_a_read(x: &[f64; 3], y: f64) -> [f64; 2] {
    let mut m = 1.0 / (1.0 + y * y);
    for i in 0..4 {
        m = x[i % 3];
    }
    [m, x[1] * y]
}

#[test]
fn a_value_overwritten_in_a_loop_is_returned() {
    let x = [0.5, -1.5, 2.0];
    let (value, j) = overwritten_by_a_read_value_and_jacobian(&x, 0.25);
    assert_eq!(value, [0.5, -0.375]);
    assert_eq!(j, overwritten_by_a_read_jacobian(&x, 0.25));
    let (value, jv) = overwritten_by_a_read_jvp(&x, 0.25, Vector::from([1.0, 2.0, 3.0, 4.0]));
    assert_eq!(value, [0.5, -0.375]);
    assert_eq!(jv, j * Vector::from([1.0, 2.0, 3.0, 4.0]));
}

/// A carried value overwritten every iteration (`m = x[i % 3]`): only the last iteration's
/// read gets the adjoint, and the value before the loop none (was: every read got it, in
/// reverse mode; found by the fuzzer's vjp check, default seed).
#[jacobian(mode = reverse, vjp)]
fn overwritten_in_reverse(x: &[f64; 3], y: f64) -> f64 {
    let mut m = y * y;
    for i in 0..4 {
        m = x[i % 3];
    }
    m * y
}

#[test]
fn an_overwritten_carried_value_in_reverse_mode() {
    let x = [0.5, -1.5, 2.0];
    // m = x[0] (i = 3): f = x[0] y.
    let j = overwritten_in_reverse_jacobian(&x, 0.25);
    assert_eq!(j, Matrix::from_rows([[0.25, 0.0, 0.0, 0.5]]));
    let (_, vj) = overwritten_in_reverse_vjp(&x, 0.25, Vector::from([2.0]));
    assert_eq!(vj, Vector::from([0.5, 0.0, 0.0, 1.0]));
}

// ----------------------------------------------------------- integer state that changes
// A reassigned integer variable (a counter, an index) was read at its final value by the
// derivative code, which wrote `k` where it was used rather than where it was read.

#[jacobian(value, mode = forward, name = reassigned_index_forward)]
fn reassigned_index(x: [f64; 3]) -> f64 {
    let mut k = 0;
    let a = x[k] * x[k];
    k = 2;
    let b = x[k].sin();
    a * b
}

#[jacobian(mode = reverse, hessian)]
fn reassigned_index_reverse(x: [f64; 3]) -> f64 {
    let mut k = 0;
    let a = x[k] * x[k];
    k = 2;
    let b = x[k].sin();
    a * b
}

#[test]
fn a_reassigned_index_is_read_where_it_is_read() {
    let x: [f64; 3] = [0.5, 2.0, 1.5];
    let expected = [2.0 * x[0] * x[2].sin(), 0.0, x[0] * x[0] * x[2].cos()];
    for j in [reassigned_index_forward(x), reassigned_index_reverse_jacobian(x)] {
        for k in 0..3 {
            assert!((j[(0, k)] - expected[k]).abs() < 1e-15, "{j}");
        }
    }
    let h = reassigned_index_reverse_hessian(x);
    assert!(
        (h[(0, 0)] - 2.0 * x[2].sin()).abs() < 1e-15 && (h[(0, 2)] - 2.0 * x[0] * x[2].cos()).abs() < 1e-15
    );
    assert_eq!(h[(1, 1)], 0.0);
}

#[jacobian(mode = forward, name = counted_while_forward)]
fn counted_while(x: [f64; 4]) -> f64 {
    let mut i = 0;
    let mut s = 0.0;
    while i < 3 {
        s += x[i] * x[i];
        i += 1;
    }
    s
}

#[jacobian(mode = reverse, name = counted_loop_reverse)]
fn counted_loop(x: [f64; 4]) -> f64 {
    let mut i = 0;
    let mut s = 0.0;
    loop {
        if i >= 4 {
            break;
        }
        s += x[i] * x[i];
        i += 1;
    }
    s
}

#[jacobian]
fn counter_in_for(x: [f64; 6]) -> f64 {
    let mut k = 0;
    let mut s = 0.0;
    for _ in 0..3 {
        s += x[k] * x[k + 1];
        k += 2;
    }
    s
}

#[jacobian(mode = forward, name = changing_exponent_forward)]
fn changing_exponent(x: f64) -> f64 {
    let mut n = 2;
    let a = x.powi(n);
    n = 3;
    a + x.powi(n)
}

#[test]
fn counters_in_loops_index_the_right_elements() {
    let x = [1.0, 2.0, 3.0, 4.0];
    assert_eq!(counted_while_forward(x), Matrix::from_rows([[2.0, 4.0, 6.0, 0.0]]));
    assert_eq!(counted_loop_reverse(x), Matrix::from_rows([[2.0, 4.0, 6.0, 8.0]]));
    let y = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    assert_eq!(counter_in_for_jacobian(y), Matrix::from_rows([[2.0, 1.0, 4.0, 3.0, 6.0, 5.0]]));
    let j = changing_exponent_forward(1.5);
    assert!((j[(0, 0)] - (2.0 * 1.5 + 3.0 * 1.5 * 1.5)).abs() < 1e-14, "{j}");
}

#[jacobian(mode = reverse, name = stepping_counter_reverse)]
fn stepping_counter(x: [f64; 4]) -> f64 {
    let mut i = 0;
    let mut s = 0.0;
    while i < 4 {
        s += x[i] * x[i];
        if x[i] > 0.5 {
            i += 2;
        } else {
            i += 1;
        }
    }
    s
}

#[test]
fn a_counter_stepped_by_a_branch_on_differentiated_values() {
    assert_eq!(stepping_counter_reverse([0.6, 0.1, 0.7, 0.2]), Matrix::from_rows([[1.2, 0.0, 1.4, 0.0]]));
    let low = stepping_counter_reverse([0.1, 0.2, 0.3, 0.4]);
    assert!((low - Matrix::from_rows([[0.2, 0.4, 0.6, 0.8]])).norm() < 1e-15, "{low}");
}

// ------------------------------------------------- infinite partials in reverse mode
// Reverse mode multiplied a zero adjoint by an infinite partial (0 · ∞ = NaN) where forward
// mode adds no term at all: in the sweep for another output, and after a branch not taken.

#[jacobian(mode = reverse, name = hypot_rows_reverse)]
fn hypot_rows(x: f64, y: f64) -> [f64; 2] {
    [x.hypot(y), y]
}

#[jacobian(mode = reverse, name = roots_reverse)]
fn roots(x: f64, y: f64) -> [f64; 3] {
    [x.sqrt(), y * 2.0, x.cbrt()]
}

#[jacobian(mode = reverse, vjp, name = untaken_branch_reverse)]
fn untaken_branch(x: f64, y: f64) -> f64 {
    let s = x.sqrt();
    if y > 0.0 {
        y * 2.0
    } else {
        s
    }
}

#[jacobian(vjp, hessian)]
fn guarded(x: [f64; 2]) -> f64 {
    let r = (x[0] * x[0] + x[1] * x[1]).sqrt();
    if r < 1e-12 {
        0.0
    } else {
        x[0] / r
    }
}

#[test]
fn zero_adjoints_times_infinite_partials_are_zero() {
    assert_eq!(hypot_rows_reverse(0.0, 0.0).row(1), Matrix::from_rows([[0.0, 1.0]]));
    let j = roots_reverse(0.0, 3.0);
    assert_eq!((j[(0, 0)], j[(1, 0)], j[(1, 1)], j[(2, 0)]), (f64::INFINITY, 0.0, 2.0, f64::INFINITY));
    assert_eq!(untaken_branch_reverse(0.0, 1.0), Matrix::from_rows([[0.0, 2.0]]));
    assert_eq!(untaken_branch_vjp(0.0, 1.0, Vector::from([1.0])).1, Vector::from([0.0, 2.0]));
    assert_eq!(guarded_vjp([0.0, 0.0], Vector::from([1.0])).1, Vector::from([0.0, 0.0]));
    assert_eq!(guarded_hessian([0.0, 0.0]), Matrix::zeros());
    assert_eq!(guarded_jacobian([0.0, 0.0]), Matrix::zeros());
    let (x, y) = (0.6, -0.8);
    let g = guarded_jacobian([x, y]);
    assert!((g[(0, 0)] - y * y).abs() < 1e-15 && (g[(0, 1)] + x * y).abs() < 1e-15, "{g}");
}

// ------------------------------------------- user code kept beside the derivative code
// An untyped closure was kept verbatim in the siblings, where nothing called it, so its
// parameter's type could not be inferred; a function item whose parameter shares an outer
// name was refused (and then called as if annotated).

#[jacobian(mode = reverse, hessian)]
fn untyped_closure(x: [f64; 3]) -> f64 {
    let h = |t| t * 2.0;
    x[0] * h(x[2])
}

#[jacobian]
fn item_shadowing_a_parameter(x: [f64; 2]) -> f64 {
    fn h(x: f64) -> f64 {
        x * x
    }
    let y = x[1];
    h(y) * y + h(x[0])
}

#[jacobian(jvp, vjp)]
fn diverging_match(x: f64, k: usize) -> f64 {
    match k {
        0 => x * 2.0,
        1 => x.sin(),
        _ => unreachable!("k is 0 or 1"),
    }
}

#[test]
fn kept_user_code_compiles_and_differentiates() {
    assert_eq!(untyped_closure_jacobian([1.5, 0.0, 2.0]), Matrix::from_rows([[4.0, 0.0, 3.0]]));
    assert_eq!(untyped_closure_hessian([1.5, 0.0, 2.0])[(0, 2)], 2.0);
    assert_eq!(item_shadowing_a_parameter_jacobian([3.0, 2.0]), Matrix::from_rows([[6.0, 12.0]]));
    assert_eq!(diverging_match_jvp(0.5, 1, Vector::from([2.0])).1, Vector::from([2.0 * 0.5f64.cos()]));
    assert_eq!(diverging_match_vjp(0.5, 0, Vector::from([1.0])).1, Vector::from([2.0]));
}

// ---------------------------------------------------------- results by shared reference
// A function returning a reference into its arguments: the siblings that return the value
// return the function's own reference (the derivative code computes only the value).

#[jacobian(value)]
fn pick(x: &[f64; 3]) -> &[f64; 3] {
    x
}

#[jacobian(value, jvp)]
fn same(x: &f64) -> &f64 {
    x
}

#[jacobian]
fn through_a_reference(x: [f64; 3]) -> f64 {
    let p = pick(&x);
    p[0] * p[2]
}

#[test]
fn results_by_shared_reference() {
    let x = [1.0, 2.0, 3.0];
    let (value, j) = pick_value_and_jacobian(&x);
    assert_eq!(value, &x);
    assert_eq!(j, Matrix::<3, 3>::identity());
    assert_eq!(same_jvp(&2.0, Vector::from([3.0])), (&2.0, Vector::from([3.0])));
    assert_eq!(through_a_reference_jacobian(x), Matrix::from_rows([[3.0, 0.0, 1.0]]));
}

// A variable whose derivative is zero (`trunc`), then scaled by a constant in place: the
// first lowering wrote `m *= …` as the user's code but went on reading `m`'s old value
// (fuzzer seed 4242, function 176).
#[jacobian(wrt(x), value)]
fn zero_derivative_then_scaled(x: Vector<2>, c: f64) -> f64 {
    let mut m = x[1].trunc() + 0.5;
    m *= 1.0 + c * c;
    m / x.dot(&x)
}

#[test]
fn a_constant_variable_scaled_in_place() {
    let (x, c) = (Vector::from([0.5, 2.25]), 2.0);
    let (value, j) = zero_derivative_then_scaled_value_and_jacobian(x, c);
    let m = 2.5 * 5.0;
    let r2 = 0.25 + 2.25 * 2.25;
    assert_eq!(value, zero_derivative_then_scaled(x, c));
    assert!((value - m / r2).abs() < 1e-15);
    for k in 0..2 {
        assert!((j[(0, k)] + m * 2.0 * x[k] / (r2 * r2)).abs() < 1e-14, "{j}");
    }
}

// An integer stepped by a condition on differentiated values: the step is an integer, not
// a derivative (it was taken for one, and the index then refused).
#[jacobian]
fn stepped_by_a_condition(x: [f64; 4]) -> f64 {
    let mut i = 0;
    let mut s = 0.0;
    while i < 4 {
        s += x[i] * x[i];
        i += if x[i] > 0.8 { 2 } else { 1 };
    }
    s
}

#[test]
fn an_integer_chosen_by_a_condition() {
    assert_eq!(
        stepped_by_a_condition_jacobian([1.0, 0.5, 0.7, 0.2]),
        Matrix::from_rows([[2.0, 0.0, 1.4, 0.4]])
    );
    assert_eq!(
        stepped_by_a_condition_jacobian([0.1, 0.9, 0.5, 0.2]),
        Matrix::from_rows([[0.2, 1.8, 0.0, 0.4]])
    );
}

// ------------------------------------------------- a band past the end of a symbolic length
// Fuzzer seed 5, function 158: in a Hessian over `[f64; L3]` (a `const` length), a banded
// block's element at a literal row read its diagonal of offset 2 at column `row + 2`, past
// the end for L3 = 3 (index out of bounds at run time); the column is now clamped, where the
// diagonal holds zero.

const L3: usize = 3;

#[jacobian(mode = reverse, hessian)]
fn band_past_the_end(x0: [f64; L3]) -> f64 {
    let mut m1 = 0.875 * f64::exp_m1((1.0 + (2.0 + x0[2].sin())).acosh().atan()).min(x0[0]).cos();
    m1 += f64::sqrt(x0[0].cosh()).signum();
    -(x0[2] / (0.25 + x0[2].abs()))
        * (Vector::from([0.5, m1]).dot(&Vector::from([m1, m1]).map(f64::atan)).tanh().tanh() * 2.0).exp2()
}

#[test]
fn a_band_past_the_end_of_a_symbolic_length() {
    let x = [0.3, -0.7, 1.1];
    let h = band_past_the_end_hessian(x);
    let step = 1e-6;
    for k in 0..L3 {
        let (mut up, mut down) = (x, x);
        up[k] += step;
        down[k] -= step;
        let (gu, gd) = (band_past_the_end_jacobian(up), band_past_the_end_jacobian(down));
        for i in 0..L3 {
            let fd = (gu[(0, i)] - gd[(0, i)]) / (2.0 * step);
            assert!((h[(i, k)] - fd).abs() < 1e-6 * (1.0 + fd.abs()), "{h} at ({i}, {k}): {fd}");
        }
    }
}

// ---------------------------------------------- a carried variable read after its update
// Fuzzer seed 1, function 182 (once calls took the new pipeline): in `jvp`, the outer
// loop's `x1 *= 1.0 + x0[i]` was written as an update of `x1` in place although the
// derivative code after it still read the old `x1`, which the inner loop's result shares
// a variable with: J·v came out wrong.

#[jacobian(mode = reverse, jvp)]
fn updated_after_an_inner_loop(x0: [f64; 3], x1: f64) -> f64 {
    let mut x1 = x1;
    for i2 in 0..3 {
        for _i3 in 0..2 {
            x1 /= 2.0 + (x0[0] * x1).sin();
        }
        x1 *= 1.0 + x0[i2];
    }
    x1
}

#[test]
fn a_carried_variable_is_not_updated_while_its_old_value_is_read() {
    let (x0, x1) = ([0.3, -0.2, 0.5], 0.8);
    let j = updated_after_an_inner_loop_jacobian(x0, x1);
    let step = 1e-6;
    let f = |x: [f64; 4]| updated_after_an_inner_loop([x[0], x[1], x[2]], x[3]);
    let at = [x0[0], x0[1], x0[2], x1];
    for k in 0..4 {
        let (mut up, mut down) = (at, at);
        up[k] += step;
        down[k] -= step;
        let fd = (f(up) - f(down)) / (2.0 * step);
        assert!((j[(0, k)] - fd).abs() < 1e-7, "{j}: column {k} vs {fd}");
    }
    let v = [0.1, 0.2, 0.3, 0.4];
    let (_, jvp) = updated_after_an_inner_loop_jvp(x0, x1, Vector::from(v));
    let expected: f64 = (0..4).map(|k| j[(0, k)] * v[k]).sum();
    assert!((jvp[0] - expected).abs() < 1e-14, "{} vs {expected}", jvp[0]);
}

// ------------------------------------------------------------ arithmetic of literals alone
// Fuzzer seed 11, function 91: `m1 = f64::atan(1.0 * m1)` of a variable holding a literal
// was emitted as `let t = 1.0 * 0.375; t.atan()`, a method of `{float}` (E0689).

#[jacobian(mode = reverse, jvp, vjp)]
fn literal_arithmetic(x0: [f64; 2], x1: f64) -> f64 {
    let mut m1 = 0.375;
    if x1 < m1 {
        m1 = f64::atan(1.0 * m1);
    }
    0.375 - -Vector::from([x0[0], m1, m1, x1])[3] * (-0.375 - m1).atan() + x0[1]
}

#[test]
fn arithmetic_of_literals_alone_has_a_type() {
    let m1 = 0.375_f64.atan();
    let j = literal_arithmetic_jacobian([0.5, 0.25], 0.125);
    assert_eq!(j, Matrix::from_rows([[0.0, 1.0, (-0.375 - m1).atan()]]));
    let (_, jvp) = literal_arithmetic_jvp([0.5, 0.25], 0.125, Vector::from([1.0, 2.0, 4.0]));
    assert_eq!(jvp[0], 2.0 + 4.0 * (-0.375 - m1).atan());
}

// ------------------------------------------- an inner loop that overwrites a carried value
// Fuzzer seed 17, function 158: reverse mode took the outer loop as one that passes the
// adjoint of `m1` through each iteration unchanged, although the inner loop overwrites
// `m1`, so every outer iteration got the result's adjoint again (wrong `vjp` and reverse
// Jacobian; `x0`, overwritten, got one).

#[jacobian(mode = reverse, vjp)]
fn overwritten_in_an_inner_loop(x0: f64, x2: [f64; 2]) -> f64 {
    let mut m1 = x0;
    for _e2 in x2 {
        for i3 in 1..=4 {
            m1 = (i3 % 3) as f64;
            m1 *= 1.0 + x2[i3 % 2].sin() * 0.375;
        }
    }
    (m1 * 0.5).atan()
}

#[jacobian(mode = forward)]
fn overwritten_in_an_inner_loop_forward(x0: f64, x2: [f64; 2]) -> f64 {
    overwritten_in_an_inner_loop(x0, x2)
}

#[test]
fn an_inner_loop_that_overwrites_stops_the_adjoint() {
    let (x0, x2) = (0.36, [0.84, 1.18]);
    let reverse = overwritten_in_an_inner_loop_jacobian(x0, x2);
    let forward = overwritten_in_an_inner_loop_forward_jacobian(x0, x2);
    // m1 = 1 · (1 + 0.375 sin x2[0]) at the end (i3 = 4): only x2[0] matters.
    let m = 1.0 + 0.375 * x2[0].sin();
    let expected = 0.5 / (1.0 + 0.25 * m * m) * 0.375 * x2[0].cos();
    assert_eq!(reverse[(0, 0)], 0.0);
    assert!((reverse[(0, 1)] - expected).abs() < 1e-15, "{reverse}");
    assert_eq!(reverse[(0, 2)], 0.0);
    assert!((forward[(0, 1)] - expected).abs() < 1e-15, "{forward}");
}

// A branch that overwrites a carried value in one arm and updates it in the other: the
// adjoint passes on only through the updating arm (the same mistake as above, found next
// to it).

#[allow(clippy::needless_range_loop)]
#[jacobian(mode = reverse, hessian)]
fn overwritten_in_one_arm(x: [f64; 4]) -> f64 {
    let mut m = x[0];
    for i in 0..4 {
        if i == 2 {
            m = 1.0;
        } else {
            m += x[i] * x[i];
        }
    }
    m
}

#[test]
fn a_branch_that_overwrites_stops_the_adjoint() {
    assert_eq!(
        overwritten_in_one_arm_jacobian([1.0, 2.0, 3.0, 4.0]),
        Matrix::from_rows([[0.0, 0.0, 0.0, 8.0]])
    );
    let h = overwritten_in_one_arm_hessian([1.0, 2.0, 3.0, 4.0]);
    let expected = Matrix::from_rows([[0.0; 4], [0.0; 4], [0.0; 4], [0.0, 0.0, 0.0, 2.0]]);
    assert_eq!(h, expected);
}

// ------------------------------------------------ a constant reassigned from its own value
// Fuzzer seed 4 (count 600), function 576: in the first lowering (vectors, `mode =
// forward`), after `m1 = f(m1)` of a variable with no derivative, later reads of `m1` in the
// derivative code evaluated `f(m1)` again, from the new `m1`: `f(f(m1))`.

#[jacobian(mode = forward)]
fn constant_reassigned(x0: f64, x2: [f64; 2]) -> [f64; 2] {
    let mut m1: f64 = x2[1].ceil();
    m1 = f64::mul_add(f64::tanh(m1), m1, m1).tanh();
    m1 *= 0.25 + (-m1 / ((Vector::from(x2) - Vector::from([x0, 1.875])).norm().tanh() - 1.5)).tanh().powi(2);
    [x0, m1]
}

#[test]
fn a_constant_reassigned_from_its_own_value_is_read_as_it_is() {
    let (x0, x2) = (-1.457761967744589, [0.09369269252566914, -1.891813061201732]);
    let j = constant_reassigned_jacobian(x0, x2);
    let step = 1e-6;
    let fd = (constant_reassigned(x0 + step, x2)[1] - constant_reassigned(x0 - step, x2)[1]) / (2.0 * step);
    assert!((j[(1, 0)] - fd).abs() < 1e-9, "{j} vs {fd}");
}

// ------------------------------------------------------- a `loop` inside a `for` loop
// Fuzzer seed 5 (count 600), function 484: the `loop`'s result, computed last in the outer
// loop's body, was taken for an update of the outer loop's variable written in place, and
// the outer variable was never given it: every outer iteration started from the first
// value (a silently wrong Jacobian).

#[jacobian(mode = forward, jvp)]
fn loop_in_a_for_loop(x0: [f64; 2], x1: [f64; 2]) -> f64 {
    let mut m2 = 0.875 * x0[0];
    for e3 in &x1 {
        m2 = 0.5 * m2 + (m2.tanh() * x0[1]).sin();
        let mut k4 = 0;
        loop {
            m2 -= (m2 * *e3).tanh();
            k4 += 1;
            if k4 >= 3 || m2 <= -0.125 {
                break;
            }
        }
    }
    m2
}

#[test]
fn a_loop_inside_a_for_loop_hands_on_its_result() {
    let (x0, x1) = ([0.3, -0.7], [0.4, 1.2]);
    let j = loop_in_a_for_loop_jacobian(x0, x1);
    let f = |x: [f64; 4]| loop_in_a_for_loop([x[0], x[1]], [x[2], x[3]]);
    let at = [x0[0], x0[1], x1[0], x1[1]];
    let step = 1e-6;
    for k in 0..4 {
        let (mut up, mut down) = (at, at);
        up[k] += step;
        down[k] -= step;
        let fd = (f(up) - f(down)) / (2.0 * step);
        assert!((j[(0, k)] - fd).abs() < 1e-8, "{j}: column {k} vs {fd}");
    }
}

// ------------------------------------------- a `while` that only updates a constant
// Found by the fuzzer's new second-order functions and by CI's seed for acdc16c (f62): a
// `while` loop whose carried values are never differentiated was taken for a pure
// instruction and left out of the emitted siblings when its results were written where
// they are read: `value_and_jacobian`, `jvp` and `vjp` returned values from before the loop.

#[jacobian(value, jvp, vjp)]
fn constant_updated_in_a_while(x: f64) -> f64 {
    let mut m = std::f64::consts::PI;
    let mut k = 0;
    while k < 1 {
        m = m.atan();
        k += 1;
    }
    m + x * m
}

#[test]
fn a_while_that_updates_a_constant_runs_in_every_sibling() {
    let m = std::f64::consts::PI.atan();
    let (value, j) = constant_updated_in_a_while_value_and_jacobian(0.5);
    assert_eq!(value, m + 0.5 * m);
    assert_eq!(j[(0, 0)], m);
    let (value, jvp) = constant_updated_in_a_while_jvp(0.5, Vector::from([2.0]));
    assert_eq!((value, jvp[0]), (m + 0.5 * m, 2.0 * m));
    let (value, vjp) = constant_updated_in_a_while_vjp(0.5, Vector::from([2.0]));
    assert_eq!((value, vjp[0]), (m + 0.5 * m, 2.0 * m));
}

// -------------------------------------------------------- sin and cos of a literal
// Found by the fuzzer (seed 14 of its helper's sweep): `f64::cos(s) * f64::sin(s)` of a
// variable holding a literal was fused into `2.5.sin_cos()`, a method of `{float}` (E0689).

#[jacobian]
fn sin_cos_of_a_literal(x: f64) -> f64 {
    let s2: f64 = 2.5;
    let s3 = f64::cos(s2) * f64::sin(s2);
    x * s3
}

#[test]
fn sin_cos_of_a_literal_has_a_type() {
    assert_eq!(sin_cos_of_a_literal_jacobian(1.0)[(0, 0)], 2.5f64.cos() * 2.5f64.sin());
}

// -------------------------------------------------------- methods of literals in branches
// Found by the fuzzer (seeds 31 and 20 at count 600): a value made of float literals alone
// (a branch choosing between two, an element of an array of them) is `{float}` to rustc,
// and its method `s.tanh()` ambiguous (E0689); such receivers are written `<f64>::tanh(s)`.

#[jacobian(jvp)]
fn method_of_a_branch_of_literals(x: f64) -> f64 {
    let s = if x < 1.0 { 2.625 } else { -1.875 };
    x * f64::tanh(s)
}

#[jacobian]
fn method_of_an_element_of_literals(x: f64) -> f64 {
    let v = [0.75, 2.125];
    if x < 1.0 {
        x * f64::atan(v[0])
    } else {
        x * v[1].ln()
    }
}

#[test]
fn methods_of_literal_values_have_a_type() {
    assert_eq!(method_of_a_branch_of_literals_jacobian(0.5)[(0, 0)], 2.625f64.tanh());
    assert_eq!(method_of_a_branch_of_literals_jvp(1.5, Vector::from([2.0])).1[0], 2.0 * (-1.875f64).tanh());
    assert_eq!(method_of_an_element_of_literals_jacobian(0.5)[(0, 0)], 0.75f64.atan());
    assert_eq!(method_of_an_element_of_literals_jacobian(1.5)[(0, 0)], 2.125f64.ln());
}

// -------------------------------------------------------- a transposed literal matrix
// Found by the fuzzer (seed 7): `m * Matrix::from_rows(…).transpose() * v` took the
// transposed literal for a scalar (`m * t` then a Matrix read as a scalar: E0308), in the
// jvp sibling, and in the Jacobian once forward mode on vectors took the new pipeline.

#[jacobian(jvp)]
fn transposed_literal(x: f64, m: f64) -> Vector<2> {
    m * Matrix::from_rows([[0.875, 0.875], [2.75, 3.0]]).transpose() * Vector::from([x, x * x])
}

#[test]
fn a_transposed_literal_matrix_is_a_matrix() {
    let (x, m) = (0.5, 2.0);
    // m Aᵀ (x, x²) with Aᵀ = [[0.875, 2.75], [0.875, 3.0]].
    let expected = Matrix::from_rows([
        [m * 0.875 + m * 2.75 * 2.0 * x, 0.875 * x + 2.75 * x * x],
        [m * 0.875 + m * 3.0 * 2.0 * x, 0.875 * x + 3.0 * x * x],
    ]);
    approx::assert_relative_eq!(transposed_literal_jacobian(x, m), expected, max_relative = 1e-15);
    let (_, jvp) = transposed_literal_jvp(x, m, Vector::from([1.0, 0.0]));
    approx::assert_relative_eq!(jvp, expected.column(0), max_relative = 1e-15);
}

// -------------------------------------------------------- two `match`es, one in a block
// Found by the fuzzer (seed 16): every `match` bound its scrutinee to the same hidden name,
// so one in a branch after another one "shadowed a variable with a `let`": the new front
// end refused the function (second order, which has no other lowering, was an error).

#[jacobian(hessian)]
fn matches_in_sequence(x: [f64; 2], n: usize) -> f64 {
    let a = match n % 3 {
        0 => x[0] * x[1],
        1 => x[0],
        _ => x[1],
    };
    let mut b = x[1];
    if a > 0.5 {
        let c = match n % 2 {
            0 => a * a,
            _ => a,
        };
        b *= c;
    }
    a + b
}

#[test]
fn a_match_in_a_block_after_another() {
    // n = 0, x = (2, 0.5): a = x0 x1 = 1 > 0.5, c = a², f = a + x1 a² = x0 x1 + x0² x1³.
    let x: [f64; 2] = [2.0, 0.5];
    let h = matches_in_sequence_hessian(x, 0);
    let expected = [
        [2.0 * x[1].powi(3), 1.0 + 6.0 * x[0] * x[1] * x[1]],
        [1.0 + 6.0 * x[0] * x[1] * x[1], 6.0 * x[0] * x[0] * x[1]],
    ];
    for i in 0..2 {
        for j in 0..2 {
            assert!(
                (h[(i, j)] - expected[i][j]).abs() < 1e-12,
                "({i}, {j}): {} vs {}",
                h[(i, j)],
                expected[i][j]
            );
        }
    }
}

/// A loop that carries an array and reads an element of it in a product: reverse mode
/// tapes the array, and the Hessian (forward mode over that) must follow the tape (was a
/// WRONG HESSIAN: the tape of whole arrays carried no tangents, so the terms through the
/// taped `v[2]` were lost; fuzzer seed 20261130, function f133).
#[jacobian(hessian)]
fn taped_array_loop(x: [f64; 3]) -> f64 {
    let mut v = [x[0], x[1], x[2]];
    for i in 0..2 {
        v[i] -= v[2] * v[2];
    }
    v[1] * v[1]
}

#[test]
fn a_hessian_through_a_taped_array() {
    let x = [0.3, -0.7, 1.1];
    let a = x[1] - x[2] * x[2];
    let expected =
        [[0.0, 0.0, 0.0], [0.0, 2.0, -4.0 * x[2]], [0.0, -4.0 * x[2], -4.0 * a + 8.0 * x[2] * x[2]]];
    let h = taped_array_loop_hessian(x);
    for i in 0..3 {
        for j in 0..3 {
            approx::assert_relative_eq!(h[(i, j)], expected[i][j], epsilon = 1e-12, max_relative = 1e-12);
        }
    }
}

/// A constant computed from float literals alone, typed in the user's function only by a
/// use the Jacobian does not need (`f64::tanh(s)` of the value): the sibling reads it in
/// a float method, so its `let` is written with the scalar type (was E0689 in the
/// expansion, "can't call method `tanh` on ambiguous numeric type `{float}`"; fuzzer seed
/// 31337).
#[jacobian(mode = reverse, jvp, vjp)]
fn literal_constant_typed_by_a_dropped_use(x: f64, y: [f64; 2]) -> f64 {
    let s = {
        let t = 2.0;
        t * t
    };
    let v = Vector::from([x, s, y[1]]).map(f64::tanh);
    v[1] * x + f64::tanh(s)
}

#[test]
fn a_literal_constant_keeps_its_type_in_the_siblings() {
    let j = literal_constant_typed_by_a_dropped_use_jacobian(0.5, [1.0, 2.0]);
    approx::assert_relative_eq!(j, Matrix::from_rows([[4.0f64.tanh(), 0.0, 0.0]]), max_relative = 1e-15);
}

/// A value the macro folds to a literal (`(−v)[1]` of a literal component), read by user
/// code in a float method (was E0689 in the expansion: the literal written into the user's
/// code as `1.25.powi(2)`, of ambiguous type; fuzzer seed 555).
#[jacobian(value, mode = reverse, jvp, vjp)]
fn folded_literal_in_user_code(x: &[f64; 2]) -> f64 {
    let s = (-Vector::from([x[0], -1.25]))[1];
    let t = if (1.0 + s.powi(2)).ln() <= std::f64::consts::PI + s { s.cosh() } else { 2.125 };
    t * x[1]
}

#[test]
fn a_folded_literal_in_user_code_is_typed() {
    let j = folded_literal_in_user_code_jacobian(&[0.5, 2.0]);
    approx::assert_relative_eq!(j, Matrix::from_rows([[0.0, 1.25f64.cosh()]]), max_relative = 1e-15);
}

/// Floats of literals alone bound by a tuple pattern, typed in the user's function only by
/// a later use (`.map(f64::asinh)` of a vector holding them): the siblings read them in
/// float methods, so the tuple's `let` is written with their type, `let (s, k): (f64, _)`,
/// nested tuples too, and so is a literal component beside a differentiated one (was E0689
/// in the expansion, "can't call method `asinh` on ambiguous numeric type `{float}`";
/// fuzzer seed 777).
#[jacobian(mode = reverse, jvp, vjp)]
fn literals_in_tuple_patterns(x: Vector<2>) -> f64 {
    let (s, k) = (-2.75, 2);
    let ((a, b), c) = ((1.5, 2), 0.5 * 3.0);
    let (t, y) = (0.25, x[1] * 2.0);
    let v = Vector::from([s * x[0], s, a, c, t, y]).map(f64::asinh);
    v.sum() + f64::from(k + b)
}

#[test]
fn literals_in_tuple_patterns_keep_their_type() {
    let x = [0.5, -1.5];
    let j = literals_in_tuple_patterns_jacobian(Vector::from(x));
    // d/dx0 asinh(−2.75 x0) = −2.75 / √(1 + (2.75 x0)²); d/dx1 asinh(2 x1) = 2 / √(1 + 4 x1²).
    let expected = [-2.75 / (1.0 + (2.75 * x[0]).powi(2)).sqrt(), 2.0 / (1.0 + 4.0 * x[1] * x[1]).sqrt()];
    approx::assert_relative_eq!(j, Matrix::from_rows([expected]), max_relative = 1e-14);
    let (value, gradient) = literals_in_tuple_patterns_vjp(Vector::from(x), Vector::from([1.0]));
    approx::assert_relative_eq!(value, literals_in_tuple_patterns(Vector::from(x)), max_relative = 1e-15);
    approx::assert_relative_eq!(gradient, Vector::from(expected), max_relative = 1e-14);
}

/// A constant matrix's entry and a constant array turned into a vector, in vector
/// arithmetic with differentiated values: `w[(1, 1)]` of a matrix is a scalar, and
/// `Vector::from(a)` of an array whose `let` shows its length is a vector of that length
/// (were refused, "this operand of a vector or matrix operation", although rustc knows
/// both; fuzzer seeds 23 and 25 at count 600).
#[jacobian]
fn constant_entry_and_array_in_vector_arithmetic(x: Vector<2>) -> Vector<2> {
    let w = Matrix::from_rows([[1.0, 2.0], [3.0, 0.5]]);
    let mut a = [0.25, -1.0];
    a[1] -= 0.5;
    (w[(1, 1)] * (w * x) + Vector::from(a)).map(f64::sin)
}

#[test]
fn constant_entries_and_arrays_have_their_types() {
    let x = [0.3, -0.7];
    let w = [[1.0, 2.0], [3.0, 0.5]];
    let a = [0.25, -1.5];
    let j = constant_entry_and_array_in_vector_arithmetic_jacobian(Vector::from(x));
    for i in 0..2 {
        let z = 0.5 * (w[i][0] * x[0] + w[i][1] * x[1]) + a[i];
        for k in 0..2 {
            approx::assert_relative_eq!(j[(i, k)], z.cos() * 0.5 * w[i][k], max_relative = 1e-14);
        }
    }
}

/// One value passed to an inlined callee both lent and by value (`lent_and_by_value(&x, x)`):
/// the parameter typed as a value names the value, not a reference to it (was E0308 in the
/// Hessian sibling, `(x).sin() <= (&x)`, since the callee is inlined for second order and
/// every parameter bound to a lent value was taken for a reference; fuzzer seed 24 at
/// count 600).
#[jacobian]
fn lent_and_by_value(r: &f64, v: f64) -> [f64; 2] {
    let s = if (*r).sin() <= v { v } else { 2.0 * v };
    [s * *r, s]
}

#[jacobian(hessian)]
fn passes_a_value_lent_and_by_value(x: f64) -> f64 {
    let p = lent_and_by_value(&x, x);
    p[0] * x
}

#[test]
fn a_value_lent_and_passed_by_value_is_the_value() {
    // sin(x) <= x for x > 0: p[0] = x², f = x³, f'' = 6x; for x < 0 (sin(x) > x): p[0] = 2x², f'' = 12x.
    for (x, expected) in [(0.7, 6.0 * 0.7), (-0.4, 12.0 * -0.4)] {
        let h = passes_a_value_lent_and_by_value_hessian(x);
        approx::assert_relative_eq!(h[(0, 0)], expected, max_relative = 1e-14);
    }
}

/// A `loop` whose value is a constant (`break PI.floor()`), used in vector arithmetic with a
/// differentiated vector: its type is that of its `break` value (was refused, "this operand
/// of a vector or matrix operation"; fuzzer seed 36 at count 600).
#[jacobian]
fn loop_value_scales_a_vector(x: Vector<2>) -> Vector<2> {
    let mut k = 0;
    let s = loop {
        k += 1;
        if k >= 2 {
            break std::f64::consts::PI.floor();
        }
    };
    (x * s).map(f64::sin)
}

#[test]
fn a_loop_value_has_its_break_value_type() {
    let x = [0.2, -0.9];
    let j = loop_value_scales_a_vector_jacobian(Vector::from(x));
    for i in 0..2 {
        approx::assert_relative_eq!(j[(i, i)], 3.0 * (3.0 * x[i]).cos(), max_relative = 1e-14);
        approx::assert_relative_eq!(j[(i, 1 - i)], 0.0);
    }
}

/// A sine whose variable a loop then carries on (`let mut m = s;` with `s` read nowhere
/// after): the `let` of the fused `sin_cos` is `mut` where the emitter reuses its variable
/// (was E0384 in the expansion, "cannot assign twice to immutable variable"; fuzzer seed 38
/// at count 600).
#[jacobian(jvp, vjp)]
fn sine_carried_by_a_loop(x: f64) -> f64 {
    let s = (x * 2.0).sin();
    let mut m = s;
    let mut k = 0;
    while k < 3 {
        m /= 2.0 + x.tanh();
        k += 1;
    }
    m
}

#[test]
fn a_sine_carried_by_a_loop_keeps_its_derivative() {
    let x = 0.4_f64;
    // m = sin(2x) / d³ with d = 2 + tanh x: m' = 2cos(2x)/d³ − 3 sin(2x)(1 − tanh² x)/d⁴.
    let d = 2.0 + x.tanh();
    let expected =
        2.0 * (2.0 * x).cos() / d.powi(3) - 3.0 * (2.0 * x).sin() * (1.0 - x.tanh().powi(2)) / d.powi(4);
    approx::assert_relative_eq!(sine_carried_by_a_loop_jacobian(x)[(0, 0)], expected, max_relative = 1e-13);
    let (_, g) = sine_carried_by_a_loop_vjp(x, Vector::from([1.0]));
    approx::assert_relative_eq!(g[0], expected, max_relative = 1e-13);
}

/// The result of a call of another `#[jacobian]` function with arguments never
/// differentiated, used in vector arithmetic: its type is the callee's result type (was
/// refused, "this operand of a vector or matrix operation"; fuzzer seed 43 at count 600).
#[jacobian]
fn constant_pair(t: f64) -> Vector<2> {
    Vector::from([t.sin(), t.cos()])
}

#[jacobian]
fn adds_a_constant_call(x: Vector<2>) -> Vector<2> {
    let c = constant_pair(std::f64::consts::PI.sin());
    x * 0.5 + c.map(f64::tanh)
}

#[test]
fn a_call_with_constant_arguments_has_its_result_type() {
    let x = Vector::from([0.3, -1.2]);
    assert_eq!(adds_a_constant_call_jacobian(x), Matrix::<2, 2>::identity() * 0.5);
}
