//! Reverse mode, `jvp`, `vjp`, `hessian`, `hvp` and `mode`: each function is annotated
//! twice from one body (reverse and forward), and checked on random points against
//! hyper-dual numbers (`num-dual`: first and second derivatives of a hand-written twin)
//! and against the forward-mode Jacobian.

#![allow(dead_code)]
#![allow(clippy::needless_range_loop)]

use jacobian::{jacobian, Matrix, Vector};
use num_dual::{DualNum, HyperDual64};
use proptest::prelude::*;

/// One body, annotated for reverse mode with every sibling, and for forward mode.
macro_rules! both {
    ($name:ident, $forward:ident, ($($params:tt)*) -> $ret:ty $body:block) => {
        #[jacobian(mode = reverse, value, jvp, vjp, hessian, hvp)]
        fn $name($($params)*) -> $ret $body

        #[jacobian(mode = forward)]
        fn $forward($($params)*) -> $ret $body
    };
}

const DATA: [f64; 20] = [
    0.3, -1.2, 0.8, 2.1, -0.5, 1.7, -2.2, 0.1, 0.9, -0.4, 1.1, -1.6, 0.6, 2.4, -0.9, 0.2, -1.1, 1.3, -0.7,
    0.5,
];

// A regularised logistic loss: a sum over the data (the reversed loop runs forwards).
both!(logistic, logistic_forward, (w: [f64; 20], b: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..20 {
        let z = w[i] * DATA[i] + b;
        s += (1.0 + (-z).exp()).ln() + 0.1 * w[i] * w[i];
    }
    s
});

fn logistic_twin(x: &[HyperDual64]) -> HyperDual64 {
    let mut s = HyperDual64::from(0.0);
    for i in 0..20 {
        let z = x[i] * DATA[i] + x[20];
        s += (HyperDual64::from(1.0) + (-z).exp()).ln() + x[i] * x[i] * 0.1;
    }
    s
}

// The chained Rosenbrock function.
both!(rosenbrock, rosenbrock_forward, (x: [f64; 16]) -> f64 {
    let mut s = 0.0;
    for i in 0..15 {
        let a = x[i + 1] - x[i] * x[i];
        let b = 1.0 - x[i];
        s += 100.0 * a * a + b * b;
    }
    s
});

fn rosenbrock_twin(x: &[HyperDual64]) -> HyperDual64 {
    let mut s = HyperDual64::from(0.0);
    for i in 0..15 {
        let a = x[i + 1] - x[i] * x[i];
        let b = -x[i] + 1.0;
        s += a * a * 100.0 + b * b;
    }
    s
}

// A chain read backwards (`x[i - 1]`) and a coupling of literal positions: the Hessian's
// updates below the diagonal are dropped and those above mirrored (symmetric by
// construction, no pass over the whole matrix).
both!(backward_chain, backward_chain_forward, (x: [f64; 6]) -> f64 {
    let mut s = x[0] * x[5] + x[3].sin() * x[1];
    for i in 1..6 {
        let d = x[i] - x[i - 1];
        s += d * d * x[i].cos() + x[i - 1] * x[i].exp();
    }
    s
});

fn backward_chain_twin(x: &[HyperDual64]) -> HyperDual64 {
    let mut s = x[0] * x[5] + x[3].sin() * x[1];
    for i in 1..6 {
        let d = x[i] - x[i - 1];
        s += d * d * x[i].cos() + x[i - 1] * x[i].exp();
    }
    s
}

// `continue`, an early `return`, and a constant matrix bound without a type annotation.
both!(skipping, skipping_forward, (x: [f64; 4]) -> f64 {
    if x[3] > 1.5 {
        return x[3] * x[0].sin();
    }
    let a = Matrix::from_rows([[1.0, 2.0, 0.0, -1.0], [0.0, 1.0, 3.0, 0.5]]);
    let v = a * Vector::from(x);
    let mut s = v[0] * v[1];
    for i in 0..4 {
        if x[i] < -1.0 {
            continue;
        }
        s += x[i] * x[i] * x[(i + 1) % 4];
    }
    s
});

fn skipping_twin(x: &[HyperDual64]) -> HyperDual64 {
    if x[3].re > 1.5 {
        return x[3] * x[0].sin();
    }
    let v0 = x[0] + x[1] * 2.0 - x[3];
    let v1 = x[1] + x[2] * 3.0 + x[3] * 0.5;
    let mut s = v0 * v1;
    for i in 0..4 {
        if x[i].re < -1.0 {
            continue;
        }
        s += x[i] * x[i] * x[(i + 1) % 4];
    }
    s
}

// Branches on differentiated values, and float methods with two operands.
both!(branchy, branchy_forward, (x: [f64; 3]) -> f64 {
    let r = (x[0] * x[0] + x[1] * x[1] + 1.0).sqrt();
    let mut t = x[2].tanh() * r;
    if t > 0.5 {
        t = t.powi(3) - x[0].atan2(x[1] + 3.0);
    } else {
        t += x[0].max(x[1]) * x[2];
    }
    t * x[1].exp() + x[0].hypot(x[2])
});

fn branchy_twin(x: &[HyperDual64]) -> HyperDual64 {
    let r = (x[0] * x[0] + x[1] * x[1] + 1.0).sqrt();
    let mut t = x[2].tanh() * r;
    if t.re > 0.5 {
        t = t.powi(3) - x[0].atan2(x[1] + 3.0);
    } else {
        let m = if x[0].re >= x[1].re { x[0] } else { x[1] };
        t += m * x[2];
    }
    t * x[1].exp() + (x[0] * x[0] + x[2] * x[2]).sqrt()
}

// A loop whose carried value is scaled each step: the reversed loop runs backwards.
both!(damped, damped_forward, (x: [f64; 4]) -> f64 {
    let mut s = 0.0;
    for i in 0..4 {
        s = s * 0.5 + x[i].sin() * x[(i + 1) % 4];
    }
    s * s
});

fn damped_twin(x: &[HyperDual64]) -> HyperDual64 {
    let mut s = HyperDual64::from(0.0);
    for i in 0..4 {
        s = s * 0.5 + x[i].sin() * x[(i + 1) % 4];
    }
    s * s
}

// An array written element by element in one loop and read in the next.
both!(written, written_forward, (x: [f64; 5]) -> f64 {
    let mut a = [0.0; 5];
    for i in 0..5 {
        a[i] = (0.5 * x[i]).exp();
    }
    let mut s = 0.0;
    for i in 0..5 {
        s += a[i] * x[(i + 2) % 5] - a[(i + 1) % 5].ln_1p();
    }
    s
});

fn written_twin(x: &[HyperDual64]) -> HyperDual64 {
    let a: Vec<HyperDual64> = (0..5).map(|i| (x[i] * 0.5).exp()).collect();
    let mut s = HyperDual64::from(0.0);
    for i in 0..5 {
        s += a[i] * x[(i + 2) % 5] - a[(i + 1) % 5].ln_1p();
    }
    s
}

// Nested loops and a guard clause.
both!(nested, nested_forward, (x: [f64; 6], scale: f64) -> f64 {
    if scale < 0.0 {
        return 0.0;
    }
    let mut s = 0.0;
    for i in 0..3 {
        let mut row = 0.0;
        for j in 0..2 {
            row += x[2 * i + j] * (j as f64 + 1.0);
        }
        s += (scale * row).cos() / (1.0 + x[i] * x[i]);
    }
    s
});

fn nested_twin(x: &[HyperDual64]) -> HyperDual64 {
    let mut s = HyperDual64::from(0.0);
    for i in 0..3 {
        let mut row = HyperDual64::from(0.0);
        for j in 0..2 {
            row += x[2 * i + j] * (j as f64 + 1.0);
        }
        s += (x[6] * row).cos() / (x[i] * x[i] + 1.0);
    }
    s
}

// Loops whose rules need the values they carry: reversed with a tape on the stack.
both!(taped, taped_forward, (x: [f64; 4]) -> f64 {
    let mut p = 1.0;
    for i in 0..4 {
        p *= x[i] + 2.5;
    }
    let mut m = x[0];
    for i in 1..4 {
        m = m.max(x[i]);
    }
    let mut s = 0.0;
    for i in 0..4 {
        s += (x[i] - m).exp();
    }
    let mut r = 0.5;
    for _ in 0..3 {
        r = (r * x[1] + x[2]).sin();
    }
    p.ln() + s.ln() + m + r
});

fn taped_twin(x: &[HyperDual64]) -> HyperDual64 {
    let mut p = HyperDual64::from(1.0);
    for i in 0..4 {
        p *= x[i] + 2.5;
    }
    let mut m = x[0];
    for i in 1..4 {
        if x[i].re > m.re {
            m = x[i];
        }
    }
    let mut s = HyperDual64::from(0.0);
    for i in 0..4 {
        s += (x[i] - m).exp();
    }
    let mut r = HyperDual64::from(0.5);
    for _ in 0..3 {
        r = (r * x[1] + x[2]).sin();
    }
    p.ln() + s.ln() + m + r
}

// Vectors and matrices (written out as components for reverse mode and second order).
const A: [[f64; 3]; 3] = [[2.0, 0.5, -0.3], [0.5, 1.5, 0.2], [-0.3, 0.2, 1.0]];

both!(quadratic, quadratic_forward, (x: Vector<3>, s: f64) -> f64 {
    let a: Matrix<3, 3> = Matrix::from_rows(A);
    let y = a * x;
    let z = (x.transpose() * a * x)[(0, 0)];
    let u = Vector::from([x[0] * s, x[1].sin(), s]);
    z + y.dot(&u) + x.map(|t| (t * s).tanh()).component_mul(&u).norm_squared() + (x - u).norm()
});

fn quadratic_twin(v: &[HyperDual64]) -> HyperDual64 {
    let (x, s) = (&v[..3], v[3]);
    let y: Vec<HyperDual64> =
        (0..3).map(|i| (0..3).fold(HyperDual64::from(0.0), |acc, j| acc + x[j] * A[i][j])).collect();
    let z = (0..3).fold(HyperDual64::from(0.0), |acc, i| acc + x[i] * y[i]);
    let u = [x[0] * s, x[1].sin(), s];
    let dot = (0..3).fold(HyperDual64::from(0.0), |acc, i| acc + y[i] * u[i]);
    let m = (0..3).fold(HyperDual64::from(0.0), |acc, i| {
        let c = (x[i] * s).tanh() * u[i];
        acc + c * c
    });
    let d = (0..3).fold(HyperDual64::from(0.0), |acc, i| acc + (x[i] - u[i]) * (x[i] - u[i]));
    z + dot + m + d.sqrt()
}

/// Value, gradient and Hessian of a twin by hyper-dual numbers, one pair at a time.
fn second_order<const N: usize>(
    twin: fn(&[HyperDual64]) -> HyperDual64,
    x: [f64; N],
) -> (f64, [f64; N], [[f64; N]; N]) {
    let mut gradient = [0.0; N];
    let mut hessian = [[0.0; N]; N];
    let mut value = 0.0;
    for i in 0..N {
        for j in 0..N {
            let point: Vec<HyperDual64> = (0..N)
                .map(|k| {
                    let (e1, e2) = (f64::from(u8::from(k == i)), f64::from(u8::from(k == j)));
                    HyperDual64::new(x[k], e1, e2, 0.0)
                })
                .collect();
            let y = twin(&point);
            value = y.re;
            gradient[i] = y.eps1;
            hessian[i][j] = y.eps1eps2;
        }
    }
    (value, gradient, hessian)
}

fn close(actual: f64, expected: f64, scale: f64) -> bool {
    (actual - expected).abs() <= 1e-10 * scale.max(1.0)
}

fn assert_rows<const R: usize, const C: usize>(what: &str, actual: &Matrix<R, C>, expected: &[[f64; C]; R]) {
    let scale = expected.iter().flatten().fold(0.0f64, |m, v| m.max(v.abs()));
    for i in 0..R {
        for j in 0..C {
            assert!(
                close(actual[(i, j)], expected[i][j], scale),
                "{what}[{i}][{j}]: {} against {}\n{actual}\nexpected {expected:?}",
                actual[(i, j)],
                expected[i][j]
            );
        }
    }
}

/// Everything the siblings of a scalar function give, against the twin and forward mode.
macro_rules! check_all {
    ($n:literal, $x:expr, $v:expr, $twin:expr, |$p:ident| ($($args:expr),*), $f:ident, $fwd:ident,
     $jac:ident, $value_jac:ident, $jvp:ident, $vjp:ident, $hessian:ident, $vgh:ident, $hvp:ident) => {{
        let $p: [f64; $n] = $x;
        let v: [f64; $n] = $v;
        let (value, gradient, hessian) = second_order::<$n>($twin, $p);
        assert!(close($f($($args),*), value, value.abs()));
        let reverse = $jac($($args),*);
        assert_rows("gradient", &reverse, &[gradient]);
        assert_rows("forward mode", &$fwd($($args),*), &reverse.into_rows());
        let (y, j) = $value_jac($($args),*);
        assert_eq!(y, $f($($args),*));
        assert_eq!(j, reverse);
        let (y, jv) = $jvp($($args),*, Vector::from(v));
        assert_eq!(y, $f($($args),*));
        let expected: f64 = (0..$n).map(|k| gradient[k] * v[k]).sum();
        assert_rows("jvp", &jv, &[[expected]]);
        let (y, vj) = $vjp($($args),*, Vector::from([2.5]));
        assert_eq!(y, $f($($args),*));
        assert_rows("vjp", &vj, &gradient.map(|g| [2.5 * g]));
        let h = $hessian($($args),*);
        assert_rows("hessian", &h, &hessian);
        assert_eq!(h, h.transpose(), "the Hessian is symmetric");
        let (y, g, h2) = $vgh($($args),*);
        assert_eq!(y, $f($($args),*));
        assert_rows("gradient of value_gradient_hessian", &g, &[gradient]);
        assert_eq!(h2, h);
        let hv = $hvp($($args),*, Vector::from(v));
        let expected: [[f64; 1]; $n] = std::array::from_fn(|i| [(0..$n).map(|k| hessian[i][k] * v[k]).sum()]);
        assert_rows("hvp", &hv, &expected);
    }};
}

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(64)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn logistic_loss(x in prop::array::uniform21(-2.0..2.0f64), v in prop::array::uniform21(-1.0..1.0f64)) {
        check_all!(21, x, v, logistic_twin, |p| (p[..20].try_into().unwrap(), p[20]), logistic, logistic_forward_jacobian,
            logistic_jacobian, logistic_value_and_jacobian, logistic_jvp, logistic_vjp, logistic_hessian,
            logistic_value_gradient_hessian, logistic_hvp);
    }

    #[test]
    fn chained_rosenbrock(x in prop::array::uniform16(-2.0..2.0f64), v in prop::array::uniform16(-1.0..1.0f64)) {
        check_all!(16, x, v, rosenbrock_twin, |p| (p), rosenbrock, rosenbrock_forward_jacobian, rosenbrock_jacobian,
            rosenbrock_value_and_jacobian, rosenbrock_jvp, rosenbrock_vjp, rosenbrock_hessian,
            rosenbrock_value_gradient_hessian, rosenbrock_hvp);
    }

    #[test]
    fn chain_read_backwards(x in prop::array::uniform6(-2.0..2.0f64), v in prop::array::uniform6(-1.0..1.0f64)) {
        check_all!(6, x, v, backward_chain_twin, |p| (p), backward_chain, backward_chain_forward_jacobian,
            backward_chain_jacobian, backward_chain_value_and_jacobian, backward_chain_jvp, backward_chain_vjp,
            backward_chain_hessian, backward_chain_value_gradient_hessian, backward_chain_hvp);
    }

    #[test]
    fn continue_return_and_constant_matrices(x in prop::array::uniform4(-2.0..2.0f64), v in prop::array::uniform4(-1.0..1.0f64)) {
        prop_assume!(x.iter().all(|t| (t + 1.0).abs() > 1e-6) && (x[3] - 1.5).abs() > 1e-6);
        check_all!(4, x, v, skipping_twin, |p| (p), skipping, skipping_forward_jacobian, skipping_jacobian,
            skipping_value_and_jacobian, skipping_jvp, skipping_vjp, skipping_hessian,
            skipping_value_gradient_hessian, skipping_hvp);
    }

    #[test]
    fn branches(x in prop::array::uniform3(-2.0..2.0f64), v in prop::array::uniform3(-1.0..1.0f64)) {
        let t = (x[2].tanh() * (x[0] * x[0] + x[1] * x[1] + 1.0).sqrt() - 0.5).abs();
        prop_assume!(t > 1e-6 && (x[0] - x[1]).abs() > 1e-6);
        check_all!(3, x, v, branchy_twin, |p| (p), branchy, branchy_forward_jacobian, branchy_jacobian,
            branchy_value_and_jacobian, branchy_jvp, branchy_vjp, branchy_hessian,
            branchy_value_gradient_hessian, branchy_hvp);
    }

    #[test]
    fn loop_running_backwards(x in prop::array::uniform4(-2.0..2.0f64), v in prop::array::uniform4(-1.0..1.0f64)) {
        check_all!(4, x, v, damped_twin, |p| (p), damped, damped_forward_jacobian, damped_jacobian,
            damped_value_and_jacobian, damped_jvp, damped_vjp, damped_hessian, damped_value_gradient_hessian,
            damped_hvp);
    }

    #[test]
    fn element_writes(x in prop::array::uniform5(-2.0..2.0f64), v in prop::array::uniform5(-1.0..1.0f64)) {
        check_all!(5, x, v, written_twin, |p| (p), written, written_forward_jacobian, written_jacobian,
            written_value_and_jacobian, written_jvp, written_vjp, written_hessian,
            written_value_gradient_hessian, written_hvp);
    }

    #[test]
    fn taped_loops(x in prop::array::uniform4(-2.0..2.0f64), v in prop::array::uniform4(-1.0..1.0f64)) {
        let mut sorted = x;
        sorted.sort_by(f64::total_cmp);
        prop_assume!(sorted.windows(2).all(|w| w[1] - w[0] > 1e-6));
        check_all!(4, x, v, taped_twin, |p| (p), taped, taped_forward_jacobian, taped_jacobian,
            taped_value_and_jacobian, taped_jvp, taped_vjp, taped_hessian, taped_value_gradient_hessian,
            taped_hvp);
    }

    #[test]
    fn vectors_and_matrices(x in prop::array::uniform4(-2.0..2.0f64), v in prop::array::uniform4(-1.0..1.0f64)) {
        check_all!(4, x, v, quadratic_twin, |p| (Vector::from([p[0], p[1], p[2]]), p[3]), quadratic,
            quadratic_forward_jacobian, quadratic_jacobian, quadratic_value_and_jacobian, quadratic_jvp,
            quadratic_vjp, quadratic_hessian, quadratic_value_gradient_hessian, quadratic_hvp);
    }

    #[test]
    fn nested_loops(x in prop::array::uniform7(-2.0..2.0f64), v in prop::array::uniform7(-1.0..1.0f64)) {
        let x = { let mut x = x; x[6] = x[6].abs() + 0.1; x };
        check_all!(7, x, v, nested_twin, |p| (p[..6].try_into().unwrap(), p[6]), nested, nested_forward_jacobian,
            nested_jacobian, nested_value_and_jacobian, nested_jvp, nested_vjp, nested_hessian,
            nested_value_gradient_hessian, nested_hvp);
    }
}

// ------------------------------------------------------------------ vector outputs

#[jacobian(jvp, vjp, mode = reverse)]
fn polar(x: [f64; 3]) -> [f64; 2] {
    let r = (x[0] * x[0] + x[1] * x[1]).sqrt();
    [r * x[2].cos(), x[1].atan2(x[0]) * x[2]]
}

/// Vectors in and out: `jvp` by forward mode along the direction, `vjp` by one reverse sweep.
#[jacobian(jvp, vjp)]
fn stretched(v: Vector<3>, s: f64) -> Vector<2> {
    Vector::from([v[0] * s + v[1], v.norm() * v[2]])
}

/// A matrix output, and element writes of a matrix.
#[jacobian(jvp, vjp, mode = reverse)]
fn outer(v: Vector<2>, w: [f64; 3]) -> Matrix<2, 3> {
    let mut m = Matrix::from_rows([[0.0; 3]; 2]);
    for i in 0..2 {
        for j in 0..3 {
            m[(i, j)] = v[i] * w[j].exp();
        }
    }
    m[(1, 2)] += v[0] * v[1];
    m
}

#[test]
fn matrix_outputs() {
    let (v, w) = (Vector::from([0.5, -1.5]), [0.2, 0.7, -0.4]);
    let j = outer_jacobian(v, w);
    for i in 0..2 {
        for k in 0..3 {
            let row = 3 * i + k;
            let extra = if row == 5 { v[0] } else { 0.0 };
            assert!((j[(row, i)] - w[k].exp() - extra).abs() < 1e-15);
            assert!((j[(row, 2 + k)] - v[i] * w[k].exp()).abs() < 1e-15);
        }
    }
    assert_eq!(j[(5, 0)], v[1]);
    let u = Vector::from([1.0, -2.0, 0.5, 3.0, 0.25, -1.0]);
    let (m, vj) = outer_vjp(v, w, u);
    assert_eq!(m, outer(v, w));
    approx::assert_relative_eq!(vj, j.transpose() * u, max_relative = 1e-14);
    let d = Vector::from([1.0, 0.5, -1.0, 2.0, 0.0]);
    let (_, jv) = outer_jvp(v, w, d);
    approx::assert_relative_eq!(jv, j * d, max_relative = 1e-14);
}

#[test]
fn products_with_vector_outputs() {
    let x = [0.7, -1.3, 0.4];
    let j = polar_jacobian(x);
    let (y, jv) = polar_jvp(x, Vector::from([1.0, -2.0, 0.5]));
    assert_eq!(y, polar(x));
    approx::assert_relative_eq!(jv, j * Vector::from([1.0, -2.0, 0.5]), max_relative = 1e-14);
    let (y, vj) = polar_vjp(x, Vector::from([0.5, 3.0]));
    assert_eq!(y, polar(x));
    approx::assert_relative_eq!(vj, j.transpose() * Vector::from([0.5, 3.0]), max_relative = 1e-14);

    let (v, s) = (Vector::from([0.3, -0.8, 1.5]), 1.7);
    let j = stretched_jacobian(v, s);
    let (y, jv) = stretched_jvp(v, s, Vector::from([1.0, 0.0, -1.0, 2.0]));
    assert_eq!(y, stretched(v, s));
    approx::assert_relative_eq!(jv, j * Vector::from([1.0, 0.0, -1.0, 2.0]), max_relative = 1e-14);
    let (_, vj) = stretched_vjp(v, s, Vector::from([2.0, -1.0]));
    approx::assert_relative_eq!(vj, j.transpose() * Vector::from([2.0, -1.0]), max_relative = 1e-14);
}

/// The extra parameter never clashes with the user's names.
#[jacobian(jvp, vjp, hvp)]
fn named_like_ours(v: [f64; 2], u: f64) -> f64 {
    v[0] * v[1] * u
}

#[test]
fn extra_parameters_are_hygienic() {
    let (y, jv) = named_like_ours_jvp([2.0, 3.0], 4.0, Vector::from([1.0, 0.0, 0.0]));
    assert_eq!(y, 24.0);
    assert_eq!(jv, Vector::from([12.0]));
    let (_, vj) = named_like_ours_vjp([2.0, 3.0], 4.0, Vector::from([1.0]));
    assert_eq!(vj, Vector::from([12.0, 8.0, 6.0]));
    let hv = named_like_ours_hvp([2.0, 3.0], 4.0, Vector::from([0.0, 0.0, 1.0]));
    assert_eq!(hv, Vector::from([3.0, 2.0, 0.0]));
}

/// `f32` and generic sizes in reverse mode.
/// Products over iterator chains that skip, step and reverse: taped over the range.
#[jacobian(mode = reverse, hessian)]
fn adapted_products(x: [f64; 4]) -> f64 {
    x.iter().skip(1).product::<f64>() + x.iter().rev().step_by(2).fold(1.0, |a, b| a * b.sin())
}

fn adapted_products_twin(x: &[HyperDual64]) -> HyperDual64 {
    x[1] * x[2] * x[3] + x[3].sin() * x[1].sin()
}

#[test]
fn products_over_adapted_ranges() {
    let x = [0.3, 1.5, -0.7, 2.0];
    let (value, gradient, hessian) = second_order::<4>(adapted_products_twin, x);
    assert!(close(adapted_products(x), value, value.abs()));
    assert_rows("gradient", &adapted_products_jacobian(x), &[gradient]);
    let h = adapted_products_hessian(x);
    assert_rows("hessian", &h, &hessian);
    assert_eq!(h, h.transpose());
}

/// A product over a const-generic range: reverse mode tapes it in `[T; N]`.
#[jacobian(mode = reverse, hessian)]
fn pairwise_product<const N: usize>(x: [f64; N]) -> f64 {
    let mut p = 1.0;
    for i in 1..N {
        p *= x[i] + x[i - 1];
    }
    p
}

fn pairwise_product_twin(x: &[HyperDual64]) -> HyperDual64 {
    (1..x.len()).fold(HyperDual64::from(1.0), |p, i| p * (x[i] + x[i - 1]))
}

#[jacobian(mode = reverse, hessian)]
fn sum_of_cubes<const N: usize>(x: [f32; N]) -> f32 {
    let mut s = 0.0;
    for i in 0..N {
        s += x[i] * x[i] * x[i];
    }
    s
}

#[test]
fn generic_sizes_and_f32() {
    let x = [0.5, -1.5, 2.0, 0.7];
    let (value, gradient, hessian) = second_order::<4>(pairwise_product_twin, x);
    assert!(close(pairwise_product(x), value, value.abs()));
    assert_rows("gradient", &pairwise_product_jacobian(x), &[gradient]);
    let h = pairwise_product_hessian(x);
    assert_rows("hessian", &h, &hessian);
    assert_eq!(h, h.transpose());

    let j = sum_of_cubes_jacobian([1.0f32, 2.0, -1.0]);
    assert_eq!(j, Matrix::from_rows([[3.0f32, 12.0, 3.0]]));
    let h = sum_of_cubes_hessian([1.0f32, 2.0, -1.0]);
    assert_eq!(h, Matrix::from_rows([[6.0f32, 0.0, 0.0], [0.0, 12.0, 0.0], [0.0, 0.0, -6.0]]));
}

/// A vector output in reverse mode: one sweep per output component.
#[jacobian(mode = reverse, value)]
fn two_outputs(x: [f64; 3], w: f64) -> [f64; 2] {
    let mut s = 0.0;
    for i in 0..3 {
        s += (x[i] * w).sin();
    }
    [s * x[0], (s * w).exp()]
}

#[jacobian(mode = forward)]
fn two_outputs_forward(x: [f64; 3], w: f64) -> [f64; 2] {
    let mut s = 0.0;
    for i in 0..3 {
        s += (x[i] * w).sin();
    }
    [s * x[0], (s * w).exp()]
}

#[test]
fn vector_outputs_in_reverse_mode() {
    let (x, w) = ([0.3, -1.2, 0.8], 0.7);
    let reverse = two_outputs_jacobian(x, w);
    let forward = two_outputs_forward_jacobian(x, w);
    approx::assert_relative_eq!(reverse, forward, max_relative = 1e-14);
    let (value, j) = two_outputs_value_and_jacobian(x, w);
    assert_eq!(value, two_outputs(x, w));
    assert_eq!(j, reverse);
}

/// A `while` loop carrying differentiated state with a run-time trip count: reverse mode
/// would need its iterations stored or checkpointed, so `mode = reverse` computes this one
/// by forward mode (documented), and `vjp` forms Jᵀ·u from the forward Jacobian.
#[jacobian(mode = reverse, vjp)]
fn newton_sqrt(a: f64, b: f64) -> f64 {
    let mut r = 1.0 + a;
    let mut k = 0;
    while (r * r - a).abs() > 1e-15 * a && k < 100 {
        r = 0.5 * (r + a / r);
        k += 1;
    }
    r * b
}

#[test]
fn while_loops_in_reverse_mode() {
    let (a, b) = (2.5f64, 3.0);
    let j = newton_sqrt_jacobian(a, b);
    assert!((j[(0, 0)] - b * 0.5 / a.sqrt()).abs() < 1e-12);
    assert!((j[(0, 1)] - a.sqrt()).abs() < 1e-12);
    let (_, vj) = newton_sqrt_vjp(a, b, Vector::from([2.0]));
    approx::assert_relative_eq!(vj, j.transpose() * 2.0, max_relative = 1e-15);
}

struct Spring {
    k: f64,
}

impl Spring {
    /// A method: `&self` is a constant.
    #[jacobian(hessian, vjp, value)]
    fn energy(&self, x: [f64; 3]) -> f64 {
        let mut e = 0.0;
        for i in 0..3 {
            e += self.k * x[i] * x[i] * x[(i + 1) % 3];
        }
        e
    }
}

#[test]
fn methods_take_second_order() {
    let spring = Spring { k: 2.0 };
    let x = [1.0, 2.0, 3.0];
    let h = spring.energy_hessian(x);
    // e = k Σ x_i² x_{i+1}: ∂²e/∂x_i² = 2k x_{i+1}, ∂²e/∂x_i∂x_{i+1} = 2k x_i.
    assert_eq!(h, Matrix::from_rows([[8.0, 4.0, 12.0], [4.0, 12.0, 8.0], [12.0, 8.0, 4.0]]));
    let (_, g) = spring.energy_value_and_jacobian(x);
    let (_, vj) = spring.energy_vjp(x, Vector::from([1.0]));
    assert_eq!(vj, g.transpose());
}
