//! The `check` option: `#[jacobian(check)]` writes a `#[cfg(test)]` unit test,
//! `__{name}_jacobian_check`, comparing `{name}_jacobian` with central differences. Each
//! function here carries one, which `cargo test --test check` runs as a test of its own;
//! some are also called directly. The comparison itself (`__private::check_jacobian`) is
//! tested against wrong Jacobians, which it must reject with a readable message.
//! Lints as a user's crate would: generated tests must not warn.
#![deny(warnings, clippy::all, clippy::pedantic)]

use jacobian::{jacobian, Matrix, Vector};

#[jacobian(check)]
fn polar(r: f64, theta: f64) -> [f64; 2] {
    [r * theta.cos(), r * theta.sin()]
}

/// References, a nested array and a tuple result, with a loop.
#[jacobian(check, value)]
fn mixed(x: &[f64; 3], m: [[f64; 2]; 2], s: f64) -> (f64, [f64; 2]) {
    let mut total = 0.0;
    for v in x {
        total += v * v * s;
    }
    (total.exp(), [m[0][0] * m[1][1] - m[0][1] * m[1][0], (x[0] * m[1][0]).tanh()])
}

const N: usize = 3;

/// Sizes from a `const` item; `Vector` and `Matrix` parameters and result.
#[jacobian(check, name = layer_derivative)]
fn layer(w: &Matrix<N, N>, x: Vector<N>) -> Vector<N> {
    (w * x).map(f64::tanh)
}

/// `f32`: the tolerance follows the scalar type.
#[jacobian(check)]
fn single(x: [f32; 2]) -> f32 {
    x[0].sin() * x[1].exp() + x[0] * x[0] * x[1]
}

/// Outside `sqrt`'s and `ln`'s domain at most test points: the check falls back on the
/// point's absolute values.
#[jacobian(check, mode = reverse)]
fn domain(x: [f64; 3]) -> f64 {
    x[0].sqrt() + x[1].ln() * x[2].sqrt()
}

/// A scalar input and a `Matrix` result.
#[jacobian(check)]
fn rotation(t: f64) -> Matrix<2, 2> {
    let (s, c) = t.sin_cos();
    Matrix::from_rows([[c, -s], [s, c]])
}

/// nalgebra-typed, annotated unchanged.
#[jacobian(check)]
fn range_bearing(x: nalgebra::SVector<f64, 3>, l: &nalgebra::Vector2<f64>) -> nalgebra::Vector2<f64> {
    let dx = l.x - x.x;
    let dy = l[1] - x[1];
    nalgebra::Vector2::new((dx * dx + dy * dy).sqrt(), dy.atan2(dx) - x.z)
}

/// The runtime named directly (`crate = …`).
#[jacobian(check, crate = ::jacobian_runtime)]
fn cubic(x: f64) -> f64 {
    x * x * x - 2.0 * x
}

/// The generated tests are ordinary functions under `cfg(test)`: callable by name.
#[test]
fn generated_checks_pass_when_called_directly() {
    __polar_jacobian_check();
    __mixed_jacobian_check();
    __layer_jacobian_check();
    __single_jacobian_check();
    __domain_jacobian_check();
    __rotation_jacobian_check();
    __range_bearing_jacobian_check();
    __cubic_jacobian_check();
    // (The siblings are there as usual.)
    assert_eq!(polar_jacobian(1.0, 0.0), Matrix::from_rows([[1.0, 0.0], [0.0, 1.0]]));
    let _ = (mixed_value_and_jacobian, layer_derivative);
}

/// The points are fixed, inside [−1.5, 1.5], away from 0 and the integers, of both signs.
#[test]
fn test_points_are_deterministic_and_away_from_kinks() {
    use jacobian::__private::{check_point, CHECK_POINTS};
    let mut signs = [0, 0];
    for point in 0..CHECK_POINTS {
        for k in 0..50 {
            let v = check_point(point, k);
            assert_eq!(v.to_bits(), check_point(point, k).to_bits());
            assert!((0.1..1.4).contains(&v.abs()) && (v.abs() - 1.0).abs() >= 0.1, "{v}");
            signs[usize::from(v > 0.0)] += 1;
        }
    }
    assert!(signs[0] > 50 && signs[1] > 50, "{signs:?}");
    assert_ne!(check_point(0, 0).to_bits(), check_point(1, 0).to_bits());
    assert_ne!(check_point(0, 0).to_bits(), check_point(0, 1).to_bits());
}

fn square_and_product(x: &[f64; 2]) -> [f64; 2] {
    [x[0] * x[0], x[0] * x[1]]
}

fn right(x: &[f64; 2]) -> [[f64; 2]; 2] {
    [[2.0 * x[0], 0.0], [x[1], x[0]]]
}

#[test]
fn comparison_accepts_a_right_jacobian() {
    jacobian::__private::check_jacobian("f", "f_jacobian", &[("x", 2)], square_and_product, right);
}

#[test]
#[should_panic(expected = "`f_jacobian` disagrees with central differences of `f`")]
fn comparison_rejects_a_wrong_entry() {
    jacobian::__private::check_jacobian(
        "f",
        "f_jacobian",
        &[("x", 2)],
        square_and_product,
        |x: &[f64; 2]| [[2.0 * x[0], 0.0], [x[1], x[1]]],
    );
}

#[test]
#[should_panic(expected = "disagrees with central differences")]
fn comparison_rejects_a_small_relative_error() {
    jacobian::__private::check_jacobian(
        "f",
        "f_jacobian",
        &[("x", 2)],
        square_and_product,
        |x: &[f64; 2]| {
            let mut j = right(x);
            j[1][0] *= 1.0 + 1e-6;
            j
        },
    );
}

#[test]
#[should_panic(expected = "disagrees with central differences")]
fn comparison_rejects_a_nan_entry() {
    jacobian::__private::check_jacobian(
        "f",
        "f_jacobian",
        &[("x", 2)],
        square_and_product,
        |x: &[f64; 2]| {
            let mut j = right(x);
            j[0][1] = f64::NAN;
            j
        },
    );
}

#[test]
#[should_panic(expected = "disagrees with central differences")]
fn comparison_rejects_a_wrong_f32_entry() {
    jacobian::__private::check_jacobian(
        "g",
        "g_jacobian",
        &[("x", 1)],
        |x: &[f32; 1]| [x[0].sin()],
        |x: &[f32; 1]| [[x[0].cos() * 1.01]],
    );
}

#[test]
#[should_panic(expected = "none of the 4 test points is in the domain of `f`")]
fn comparison_needs_a_point_in_the_domain() {
    jacobian::__private::check_jacobian(
        "f",
        "f_jacobian",
        &[("x", 1)],
        |_: &[f64; 1]| [f64::NAN],
        |_| [[0.0]],
    );
}

/// The message names the point as arguments, the entry, the generated value and the
/// difference quotient.
#[test]
fn failure_message_is_readable() {
    let failure = std::panic::catch_unwind(|| {
        jacobian::__private::check_jacobian(
            "f",
            "f_jacobian",
            &[("s", 1), ("y", 2)],
            |p: &[f64; 3]| [p[0] * p[1], p[2]],
            |p: &[f64; 3]| [[p[1], p[0], 0.0], [0.0, 0.0, 2.0]],
        );
    })
    .expect_err("a wrong Jacobian must fail");
    let message = failure.downcast_ref::<String>().expect("a formatted message");
    let p: [f64; 3] = std::array::from_fn(|k| jacobian::__private::check_point(0, k));
    let at = format!("at s = {}, y = [{}, {}]  (test point 1 of 4)", p[0], p[1], p[2]);
    assert!(message.contains(&at), "{message}");
    assert!(message.contains("entry (1, 2) = ∂f[1]/∂y[1]"), "{message}");
    assert!(message.contains("generated:          2\n"), "{message}");
    let quotient: f64 = message
        .split("central difference: ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .unwrap()
        .parse()
        .unwrap();
    assert!((quotient - 1.0).abs() < 1e-8, "{message}");
    assert!(message.contains("not differentiable near this point"), "{message}");
}
