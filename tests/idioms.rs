//! The iterator idioms of numeric Rust, closures bound in the body, `sin_cos` and `clamp`
//! (API.md, "What a body may contain"), each against a dual-number twin written with plain
//! loops, on random points; and their gradients by reverse mode and Hessians.

#![allow(dead_code)]
#![allow(clippy::needless_range_loop)]
// Late initialisation is an idiom some users write; the macro takes it.
#![allow(clippy::needless_late_init)]

mod common;

use common::{assert_jacobian_close_scaled, dual_jacobian};
use jacobian::{jacobian, Matrix, Vector};
use num_dual::{DualNum, DualSVec64};
use proptest::prelude::*;

const TOL: f64 = 1e-12;

#[jacobian]
fn chains(x: [f64; 4], y: [f64; 4]) -> [f64; 5] {
    let dot: f64 = x.iter().zip(y.iter()).map(|(a, b)| a * b).sum();
    let weighted: f64 = x.iter().enumerate().map(|(i, v)| (i as f64 + 1.0) * v.sin()).sum();
    let largest = x.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
    let tail = y.iter().rev().skip(1).take(2).map(|v| v * v).product::<f64>();
    let norm = x.iter().map(|v| v * v).sum::<f64>().sqrt();
    [dot, weighted, largest, tail, norm]
}

fn chains_twin<D: DualNum<Primitive = f64> + Copy>(v: [D; 8]) -> [D; 5] {
    let (x, y) = (&v[..4], &v[4..]);
    let mut dot = D::from(0.0);
    let mut weighted = D::from(0.0);
    let mut largest = x[0];
    let mut norm = D::from(0.0);
    for i in 0..4 {
        dot += x[i] * y[i];
        weighted += x[i].sin() * (i as f64 + 1.0);
        if x[i].re() > largest.re() {
            largest = x[i];
        }
        norm += x[i] * x[i];
    }
    // y reversed, skip 1, take 2: y[2], y[1]
    let tail = y[2] * y[2] * y[1] * y[1];
    [dot, weighted, largest, tail, norm.sqrt()]
}

#[jacobian(vjp, hessian, mode = reverse)]
fn energy(x: [f64; 6], k: f64) -> f64 {
    let spring = |a: f64, b: f64| 0.5 * k * (b - a - 1.0).powi(2);
    let mut e = 0.0;
    for (i, pair) in x.iter().zip(x.iter().skip(1)).enumerate() {
        let (a, b) = pair;
        e += spring(*a, *b) * (1.0 + 0.1 * i as f64);
    }
    let scaled = x.map(|v| (v * k).tanh());
    let (s, c) = scaled[2].sin_cos();
    e + s * c + scaled.iter().fold(0.0, |acc, v| acc + v.clamp(-0.5, 0.5))
}

fn energy_twin<D: DualNum<Primitive = f64> + Copy>(v: [D; 7]) -> [D; 1] {
    let (x, k) = (&v[..6], v[6]);
    let mut e = D::from(0.0);
    for i in 0..5 {
        let d = x[i + 1] - x[i] - 1.0;
        e += k * d * d * 0.5 * (1.0 + 0.1 * i as f64);
    }
    let scaled: Vec<D> = x.iter().map(|v| (*v * k).tanh()).collect();
    let mut clamped = D::from(0.0);
    for s in &scaled {
        clamped += if s.re() < -0.5 {
            D::from(-0.5)
        } else if s.re() > 0.5 {
            D::from(0.5)
        } else {
            *s
        };
    }
    [e + scaled[2].sin() * scaled[2].cos() + clamped]
}

#[jacobian]
fn over_a_vector(v: Vector<3>) -> f64 {
    v.iter().map(|t| t.exp()).sum::<f64>() / 3.0
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn iterator_chains(x in prop::array::uniform8(-2.0..2.0f64)) {
        let mut sorted = [x[0], x[1], x[2], x[3]];
        sorted.sort_by(f64::total_cmp);
        prop_assume!(sorted.windows(2).all(|w| w[1] - w[0] > 1e-6));
        let (a, b) = ([x[0], x[1], x[2], x[3]], [x[4], x[5], x[6], x[7]]);
        let (values, expected) = dual_jacobian(chains_twin, x);
        let value = chains(a, b);
        for i in 0..5 {
            prop_assert!((value[i] - values[i]).abs() <= 1e-12 * (1.0 + values[i].abs()));
        }
        assert_jacobian_close_scaled(&x, &chains_jacobian(a, b), &expected, TOL);
    }

    #[test]
    fn closures_sin_cos_and_clamp(x in prop::array::uniform7(-1.5..1.5f64)) {
        let k = x[6].abs() + 0.2;
        let point = [x[0], x[1], x[2], x[3], x[4], x[5], k];
        let scaled: Vec<f64> = x[..6].iter().map(|v| (v * k).tanh()).collect();
        prop_assume!(scaled.iter().all(|s| (s.abs() - 0.5).abs() > 1e-6));
        let xs = [x[0], x[1], x[2], x[3], x[4], x[5]];
        let (values, expected) = dual_jacobian(energy_twin, point);
        prop_assert!((energy(xs, k) - values[0]).abs() <= 1e-12 * (1.0 + values[0].abs()));
        let gradient = energy_jacobian(xs, k);
        assert_jacobian_close_scaled(&point, &gradient, &expected, TOL);
        let (_, vj) = energy_vjp(xs, k, Vector::from([1.0]));
        prop_assert_eq!(vj, gradient.transpose());
        let h = energy_hessian(xs, k);
        prop_assert_eq!(h, h.transpose());
        // The Hessian's rows against central differences of the gradient.
        for j in 0..7 {
            let step = 1e-6;
            let (mut up, mut down) = (point, point);
            up[j] += step;
            down[j] -= step;
            let g = |p: [f64; 7]| energy_jacobian([p[0], p[1], p[2], p[3], p[4], p[5]], p[6]);
            let (gu, gd) = (g(up), g(down));
            for i in 0..7 {
                let fd = (gu[(0, i)] - gd[(0, i)]) / (2.0 * step);
                prop_assert!((h[(i, j)] - fd).abs() <= 1e-5 * (1.0 + fd.abs()), "H[{}][{}] = {} against {}", i, j, h[(i, j)], fd);
            }
        }
    }
}

#[test]
fn iterating_over_a_vector() {
    let v = Vector::from([0.1, -0.4, 0.7]);
    let j = over_a_vector_jacobian(v);
    for k in 0..3 {
        assert!((j[(0, k)] - v[k].exp() / 3.0).abs() < 1e-15);
    }
}

#[test]
fn a_dual_twin_sanity_check() {
    let y = chains_twin([DualSVec64::<8>::from_re(1.0); 8]);
    assert_eq!(y[0].re, 4.0);
}

// Once refused (their UI tests are gone): each is now what API.md says.

#[jacobian]
fn summed(x: [f64; 3]) -> f64 {
    x.iter().sum()
}

#[jacobian]
fn doubled(x: f64) -> f64 {
    let double = |t: f64| t * 2.0;
    double(x)
}

#[jacobian]
fn scaled_by_a_capture(x: f64) -> f64 {
    let scale = |t: f64| t * x;
    scale(2.0) + scale(x)
}

#[jacobian]
fn clamped(x: f64) -> f64 {
    x.clamp(0.0, 1.0)
}

#[jacobian]
fn sine_times_cosine(x: f64) -> f64 {
    let (s, c) = x.sin_cos();
    s * c
}

#[test]
fn once_refused_idioms() {
    assert_eq!(summed_jacobian([1.0, 2.0, 3.0]), jacobian::Matrix::from_rows([[1.0, 1.0, 1.0]]));
    assert_eq!(doubled_jacobian(0.3)[(0, 0)], 2.0);
    assert_eq!(scaled_by_a_capture_jacobian(0.5)[(0, 0)], 2.0 + 2.0 * 0.5);
    assert_eq!(clamped_jacobian(0.5)[(0, 0)], 1.0);
    assert_eq!(clamped_jacobian(1.5)[(0, 0)], 0.0);
    assert_eq!(clamped_jacobian(-0.5)[(0, 0)], 0.0);
    let x = 0.7f64;
    assert!((sine_times_cosine_jacobian(x)[(0, 0)] - (2.0 * x).cos()).abs() < 1e-15);
}

/// A tuple chosen by a branch, destructured.
#[jacobian(mode = forward, value)]
fn tuple_from_branches(x: f64, y: f64) -> f64 {
    let (a, b) = if x > y {
        let t = x * y;
        (t, y * 2.0)
    } else if x < 0.0 {
        (y, x)
    } else {
        (x, x.sin())
    };
    a * b
}

#[test]
fn tuples_from_branches() {
    // x > y: a = xy, b = 2y: f = 2xy², ∂x = 2y², ∂y = 4xy.
    let j = tuple_from_branches_jacobian(2.0, 1.5);
    assert_eq!(j, jacobian::Matrix::from_rows([[2.0 * 1.5 * 1.5, 4.0 * 2.0 * 1.5]]));
    // x < 0, x ≤ y: f = yx.
    assert_eq!(tuple_from_branches_jacobian(-1.0, 0.5), jacobian::Matrix::from_rows([[0.5, -1.0]]));
    // 0 ≤ x ≤ y: f = x sin x.
    let x = 0.25f64;
    let (value, j) = tuple_from_branches_value_and_jacobian(x, 0.5);
    assert_eq!(value, x * x.sin());
    assert!((j[(0, 0)] - (x.sin() + x * x.cos())).abs() < 1e-15);
    assert_eq!(j[(0, 1)], 0.0);
}

/// A tuple result: its components are the Jacobian's rows, in order.
#[jacobian(value, jvp, vjp)]
fn tupled(x: f64, v: [f64; 2]) -> (f64, [f64; 2], Vector<2>) {
    (x * v[0], [v[1].sin(), x], Vector::from([x + v[0], 2.0 * v[1]]))
}

#[test]
fn tuple_results() {
    let (x, v) = (0.5, [1.5, -0.25]);
    let j = tupled_jacobian(x, v);
    let expected = jacobian::Matrix::from_rows([
        [v[0], x, 0.0],
        [0.0, 0.0, v[1].cos()],
        [1.0, 0.0, 0.0],
        [1.0, 1.0, 0.0],
        [0.0, 0.0, 2.0],
    ]);
    assert_eq!(j, expected);
    let (value, j2) = tupled_value_and_jacobian(x, v);
    assert_eq!(value, tupled(x, v));
    assert_eq!(j2, j);
    let d = Vector::from([1.0, -1.0, 2.0]);
    let (value, jv) = tupled_jvp(x, v, d);
    assert_eq!(value, tupled(x, v));
    approx::assert_relative_eq!(jv, j * d, max_relative = 1e-15);
    let u = Vector::from([1.0, 2.0, 3.0, 4.0, 5.0]);
    let (_, vj) = tupled_vjp(x, v, u);
    approx::assert_relative_eq!(vj, j.transpose() * u, max_relative = 1e-15);
}

/// Nested arrays as parameter, local and result (row-major, like a `Matrix`).
#[jacobian(value, vjp, jvp)]
fn nested(x: [[f64; 2]; 3], w: f64) -> [[f64; 2]; 2] {
    let mut q = [[0.0; 2]; 2];
    for r in 0..3 {
        for c in 0..2 {
            q[c][0] += x[r][c] * w;
        }
    }
    q[1][1] = x[0][1].sin();
    q
}

/// A scalar of nested arrays, by reverse mode, and its Hessian.
#[jacobian(hessian, mode = reverse)]
fn nested_energy(means: &[[f64; 2]; 2], p: [f64; 2]) -> f64 {
    let mut e = 0.0;
    for k in 0..2 {
        let d0 = p[0] - means[k][0];
        let d1 = p[1] - means[k][1];
        e += (-(d0 * d0 + d1 * d1)).exp();
    }
    e
}

#[test]
fn nested_arrays() {
    let (x, w) = ([[0.5, -1.0], [2.0, 0.25], [1.5, 0.75]], 0.5);
    let j = nested_jacobian(x, w);
    for r in 0..3 {
        for c in 0..2 {
            assert_eq!(j[(c * 2, r * 2 + c)], w);
        }
    }
    assert_eq!(j[(0, 6)], 0.5 + 2.0 + 1.5);
    assert_eq!(j[(2, 6)], -1.0 + 0.25 + 0.75);
    assert_eq!(j[(3, 1)], (-1.0f64).cos());
    let (value, j2) = nested_value_and_jacobian(x, w);
    assert_eq!(value, nested(x, w));
    assert_eq!(j2, j);
    let u = Vector::from([1.0, 2.0, 3.0, 4.0]);
    let (_, vj) = nested_vjp(x, w, u);
    approx::assert_relative_eq!(vj, j.transpose() * u, max_relative = 1e-15);
    let d = Vector::from([1.0, 0.0, -1.0, 2.0, 0.5, 0.25, 3.0]);
    let (_, jv) = nested_jvp(x, w, d);
    approx::assert_relative_eq!(jv, j * d, max_relative = 1e-15);

    let (means, p) = ([[0.1, 0.2], [-0.3, 0.4]], [0.25, -0.5]);
    let g = nested_energy_jacobian(&means, p);
    let h = nested_energy_hessian(&means, p);
    assert_eq!(h, h.transpose());
    for i in 0..6 {
        let step = 1e-6;
        let shifted = |s: f64| {
            let (mut m, mut q) = (means, p);
            if i < 4 {
                m[i / 2][i % 2] += s;
            } else {
                q[i - 4] += s;
            }
            nested_energy_jacobian(&m, q)
        };
        let (up, down) = (shifted(step), shifted(-step));
        for k in 0..6 {
            let fd = (up[(0, k)] - down[(0, k)]) / (2.0 * step);
            assert!((h[(k, i)] - fd).abs() < 1e-6, "H[{k}][{i}] = {} against {fd}", h[(k, i)]);
        }
        let fd = (nested_energy(&means, q_or(p, i, step)) - nested_energy(&means, q_or(p, i, -step)))
            / (2.0 * step);
        if i >= 4 {
            assert!((g[(0, i)] - fd).abs() < 1e-6);
        }
    }
}

fn q_or(p: [f64; 2], i: usize, s: f64) -> [f64; 2] {
    let mut q = p;
    if i >= 4 {
        q[i - 4] += s;
    }
    q
}

/// A nested array literal (once refused; its UI test is gone).
#[jacobian]
fn nested_literal(x: f64, y: f64) -> f64 {
    let rows = [[x, y], [y, x]];
    rows[0][0] * rows[1][1] - rows[0][1] * rows[1][0]
}

#[test]
fn nested_array_literals() {
    assert_eq!(nested_literal_jacobian(1.5, 0.5), jacobian::Matrix::from_rows([[3.0, -1.0]]));
}

/// Functions defined in the body, applied where they are called, to second order.
#[jacobian(hessian)]
fn with_helpers(x: f64, y: [f64; 2]) -> f64 {
    fn sq(t: f64) -> f64 {
        t * t
    }
    fn dot(a: [f64; 2], b: [f64; 2]) -> f64 {
        a[0] * b[0] + a[1] * b[1]
    }
    sq(x) + dot(y, y) * x
}

#[test]
fn functions_defined_in_the_body() {
    let (x, y) = (0.5, [1.5, -2.0]);
    assert_eq!(
        with_helpers_jacobian(x, y),
        jacobian::Matrix::from_rows([[2.0 * x + 6.25, 2.0 * y[0] * x, 2.0 * y[1] * x]])
    );
    let h = with_helpers_hessian(x, y);
    assert_eq!(
        h,
        jacobian::Matrix::from_rows([
            [2.0, 2.0 * y[0], 2.0 * y[1]],
            [2.0 * y[0], 2.0 * x, 0.0],
            [2.0 * y[1], 0.0, 2.0 * x]
        ])
    );
}

/// Sub-arrays of constant ranges.
#[jacobian(mode = reverse)]
fn sub_arrays(cam: [f64; 6]) -> f64 {
    let t = &cam[3..6];
    let r = cam[..3].iter().map(|v| v * v).sum::<f64>();
    t[0] * t[2] + r
}

#[test]
fn sub_arrays_of_constant_ranges() {
    let cam = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    assert_eq!(sub_arrays_jacobian(cam), jacobian::Matrix::from_rows([[2.0, 4.0, 6.0, 6.0, 0.0, 4.0]]));
}

/// `clamp` with differentiated bounds: the derivative of what it returns, in forward and
/// reverse mode.
#[jacobian]
fn clamp_bounds(x: f64, lo: f64, hi: f64) -> f64 {
    x.clamp(lo, hi) * 2.0
}

#[jacobian(mode = reverse)]
fn clamp_bounds_reverse(x: f64, lo: f64, hi: f64) -> f64 {
    x.clamp(lo, hi) * 2.0
}

#[test]
fn clamp_with_differentiated_bounds() {
    for (x, expected) in [(0.5, [2.0, 0.0, 0.0]), (-1.0, [0.0, 2.0, 0.0]), (3.0, [0.0, 0.0, 2.0])] {
        let expected = jacobian::Matrix::from_rows([expected]);
        assert_eq!(clamp_bounds_jacobian(x, 0.0, 1.0), expected, "x = {x}");
        assert_eq!(clamp_bounds_reverse_jacobian(x, 0.0, 1.0), expected, "x = {x}");
    }
}

/// A `map` closure that ignores its parameter (`|_|`), once refused: the shared closure
/// application takes any pattern.
#[jacobian]
fn ignores_its_component(x: Vector<3>) -> Vector<3> {
    x.map(|_| 1.0) + x
}

#[test]
fn map_with_an_ignored_parameter() {
    let x = Vector::from([0.5, -1.0, 2.0]);
    assert_eq!(ignores_its_component(x), Vector::from([1.5, 0.0, 3.0]));
    assert_eq!(ignores_its_component_jacobian(x), jacobian::Matrix::identity());
}

// ------------------------------------------------------------ data in iterator chains
// Chains over arrays that are never differentiated (a `const`, a constant parameter),
// zipped with differentiated ones or carrying them in their closures.

const TIMES: [f64; 5] = [0.0, 0.5, 1.0, 1.5, 2.0];
const SEEN: [f64; 5] = [1.0, 1.6, 2.7, 4.5, 7.4];

#[jacobian(wrt(p), mode = reverse, hessian)]
fn sum_of_squares(p: [f64; 2], weights: &[f64; 5]) -> f64 {
    TIMES
        .iter()
        .zip(SEEN.iter())
        .zip(weights.iter())
        .map(|((t, y), w)| w * (p[0] * (p[1] * t).exp() - *y).powi(2))
        .sum()
}

fn sum_of_squares_twin<D: DualNum<Primitive = f64> + Copy>(p: [D; 2], weights: &[f64; 5]) -> D {
    let mut s = D::from(0.0);
    for i in 0..5 {
        let r = p[0] * (p[1] * TIMES[i]).exp() - SEEN[i];
        s += r * r * weights[i];
    }
    s
}

#[jacobian(mode = forward)]
fn weighted_dot(x: [f64; 5]) -> f64 {
    x.iter().zip(TIMES.iter()).map(|(a, b)| a * b).sum::<f64>()
        + x.iter().zip(&SEEN).map(|(a, &b)| a.sin() * b).sum::<f64>()
}

proptest! {
    #[test]
    fn chains_over_data(p in proptest::array::uniform2(-1.0..1.0f64), x in proptest::array::uniform5(-2.0..2.0f64)) {
        let weights = [1.0, 0.5, 2.0, 1.5, 0.25];
        let (_, expected) = dual_jacobian(|q: [DualSVec64<2>; 2]| [sum_of_squares_twin(q, &weights)], p);
        assert_jacobian_close_scaled(&p, sum_of_squares_jacobian(p, &weights).as_rows(), &expected, TOL);
        let expected: [[f64; 5]; 1] = [std::array::from_fn(|i| TIMES[i] + x[i].cos() * SEEN[i])];
        assert_jacobian_close_scaled(&x, weighted_dot_jacobian(x).as_rows(), &expected, TOL);
    }
}

// ------------------------------------------------- more of the idioms API.md lists

#[jacobian(mode = reverse, hessian)]
fn sin_cos_as_values(x: f64, y: f64) -> f64 {
    let (s, _) = f64::sin_cos(x);
    s * y + x.sin_cos().1 + f64::sin_cos(y).0
}

#[jacobian(mode = reverse, hessian)]
fn root_mean_square(x: [f64; 4]) -> f64 {
    (x.iter().map(|v| v * v).sum::<f64>() / x.len() as f64).sqrt()
}

#[jacobian(mode = reverse, hessian)]
fn tuple_from_match(x: f64, y: f64, k: usize) -> f64 {
    let (c, d) = match k {
        0 => (x + y, x * y),
        1 => (x - y, y.exp()),
        _ => (x, y),
    };
    c * d
}

#[jacobian(mode = reverse, hessian)]
fn closure_reusing_a_name(x: [f64; 3]) -> f64 {
    let t = x[0];
    let sq = |t: f64| t * t;
    sq(x[1]) * t + sq(2.0)
}

#[test]
fn sin_cos_len_match_tuples_and_closures() {
    let (x, y) = (0.7_f64, -1.3_f64);
    let g = sin_cos_as_values_jacobian(x, y);
    assert!((g[(0, 0)] - (x.cos() * y - x.sin())).abs() < 1e-15, "{g}");
    assert!((g[(0, 1)] - (x.sin() + y.cos())).abs() < 1e-15, "{g}");
    let v = [1.0, -2.0, 3.0, 0.5];
    let rms = root_mean_square(v);
    let g = root_mean_square_jacobian(v);
    for k in 0..4 {
        assert!((g[(0, k)] - v[k] / (4.0 * rms)).abs() < 1e-15);
    }
    assert_eq!(
        tuple_from_match_jacobian(x, y, 0),
        Matrix::from_rows([[x * y + (x + y) * y, x * y + (x + y) * x]])
    );
    let g = tuple_from_match_jacobian(x, y, 1);
    assert!(
        (g[(0, 0)] - y.exp()).abs() < 1e-15 && (g[(0, 1)] - (-y.exp() + (x - y) * y.exp())).abs() < 1e-15
    );
    assert_eq!(closure_reusing_a_name_jacobian([2.0, 3.0, 5.0]), Matrix::from_rows([[9.0, 12.0, 0.0]]));
    assert_eq!(closure_reusing_a_name_hessian([2.0, 3.0, 5.0])[(0, 1)], 6.0);
}

// ------------------------------------------------------------ rows of nested arrays

#[jacobian(hessian)]
fn rows_in_a_loop(q: [[f64; 2]; 3]) -> f64 {
    let mut s = 0.0;
    for row in &q {
        s += row[0] * row[1];
    }
    s
}

#[jacobian]
fn rows_by_index(q: [[f64; 2]; 3], k: usize) -> [f64; 2] {
    let r = q[k];
    let [a, b] = q[0];
    [r[0] * a, r[1] + b]
}

#[test]
fn whole_rows_of_nested_arrays() {
    let q = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]];
    assert_eq!(rows_in_a_loop_jacobian(q), Matrix::from_rows([[2.0, 1.0, 4.0, 3.0, 6.0, 5.0]]));
    assert_eq!(rows_in_a_loop_hessian(q)[(0, 1)], 1.0);
    assert_eq!(rows_in_a_loop_hessian(q)[(0, 2)], 0.0);
    assert_eq!(
        rows_by_index_jacobian(q, 2),
        Matrix::from_rows([[5.0, 0.0, 0.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 0.0, 0.0, 1.0]])
    );
}

/// `let z;` assigned later, in every arm of a branch or `match`: differentiated values,
/// an annotated one, an array, a vector, and an integer of the user's.
#[jacobian(mode = reverse, jvp, vjp)]
fn assigned_later(x: [f64; 2]) -> f64 {
    let z;
    let w: f64;
    let n;
    if x[0] > 0.5 {
        z = x[0] * x[1];
        w = x[1].sin();
        n = 2;
    } else {
        z = x[1];
        w = 1.0;
        n = 3;
    }
    let v;
    match n {
        2 => v = [z, w],
        _ => v = [w, z * z],
    }
    z * w + (n as f64) * v[1]
}

fn assigned_later_twin<D: DualNum<Primitive = f64> + Copy>(x: [D; 2]) -> D {
    let (z, w, n) = if x[0].re() > 0.5 { (x[0] * x[1], x[1].sin(), 2.0) } else { (x[1], D::from(1.0), 3.0) };
    let v1 = if n == 2.0 { w } else { z * z };
    z * w + v1 * n
}

#[jacobian(hessian)]
fn assigned_later_second_order(x: [f64; 2]) -> f64 {
    let z: f64;
    if x[0] > x[1] {
        z = x[0] * x[0] * x[1];
    } else {
        z = x[1].exp();
    }
    z * x[0]
}

#[jacobian(jvp)]
fn vector_assigned_later(x: Vector<2>) -> Vector<2> {
    let out: Vector<2>;
    if x[0] > 0.0 {
        out = x * 2.0;
    } else {
        out = Vector::from([x[1], x[0]]);
    }
    out
}

#[test]
fn a_let_assigned_later() {
    for x in [[0.7, 0.3], [0.2, -1.5], [1.5, 2.0]] {
        let (_, expected) = dual_jacobian(|d| [assigned_later_twin(d)], x);
        assert_jacobian_close_scaled(&x, &assigned_later_jacobian(x), &expected, TOL);
        let (value, jv) = assigned_later_jvp(x, Vector::from([1.0, -0.5]));
        assert_eq!(value, assigned_later(x));
        assert!((jv[0] - (expected[0][0] - 0.5 * expected[0][1])).abs() < 1e-12);
        let h = assigned_later_second_order_hessian(x);
        let expected = if x[0] > x[1] {
            [[6.0 * x[0] * x[1], 3.0 * x[0] * x[0]], [3.0 * x[0] * x[0], 0.0]]
        } else {
            [[0.0, x[1].exp()], [x[1].exp(), x[0] * x[1].exp()]]
        };
        assert_jacobian_close_scaled(&x, &h, &expected, TOL);
    }
    assert_eq!(
        vector_assigned_later_jacobian(Vector::from([1.0, 2.0])),
        Matrix::from_rows([[2.0, 0.0], [0.0, 2.0]])
    );
    assert_eq!(
        vector_assigned_later_jacobian(Vector::from([-1.0, 2.0])),
        Matrix::from_rows([[0.0, 1.0], [1.0, 0.0]])
    );
}

const L3: usize = 3;

/// Sizes written as a `const` item in one place and a literal in another (`[f64; L3]`
/// returned as `[…, …, …]`, a `[f64; 3]` annotation of a `[f64; L3]` value).
#[jacobian]
fn const_and_literal_sizes(x: [f64; L3]) -> [f64; L3] {
    [x[0] * x[1], x[2].sin(), x[0]]
}

#[jacobian(hessian)]
fn const_and_literal_sizes_second_order(x: [f64; L3]) -> f64 {
    let y: [f64; 3] = x;
    let v: Vector<L3> = Vector::from([y[0], y[1] * y[2], 1.0]);
    v.dot(&v)
}

#[test]
fn sizes_by_a_const_item_and_by_a_literal() {
    let x = [1.0, 2.0, 3.0];
    let expected = [[x[1], x[0], 0.0], [0.0, 0.0, x[2].cos()], [1.0, 0.0, 0.0]];
    assert_jacobian_close_scaled(&x, &const_and_literal_sizes_jacobian(x), &expected, TOL);
    let h = const_and_literal_sizes_second_order_hessian(x);
    let expected = [
        [2.0, 0.0, 0.0],
        [0.0, 2.0 * x[2] * x[2], 4.0 * x[1] * x[2]],
        [0.0, 4.0 * x[1] * x[2], 2.0 * x[1] * x[1]],
    ];
    assert_jacobian_close_scaled(&x, &h, &expected, TOL);
}

/// `x.len()` of a differentiated array as a loop bound and in arithmetic (a nested array's
/// is its number of rows), and a closure bound by a `let` passed to `map` by name.
#[jacobian(mode = reverse, hessian)]
fn lengths_and_named_closures(x: [f64; 3], q: [[f64; 2]; 2]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += x[i] * (i + 1) as f64;
    }
    let sq = |v: &f64| v * v;
    let mean = x.iter().sum::<f64>() / x.len() as f64;
    s * mean + x.iter().map(sq).sum::<f64>() + q[q.len() - 1][0] * q[0].len() as f64
}

#[test]
fn lengths_of_differentiated_arrays() {
    let (x, q) = ([0.5, -1.0, 2.0], [[1.0, 2.0], [3.0, 4.0]]);
    // s = x0 + 2x1 + 3x2, mean = (x0 + x1 + x2) / 3; f = s·mean + Σ x² + 2 q10.
    let (s, mean) = (x[0] + 2.0 * x[1] + 3.0 * x[2], (x[0] + x[1] + x[2]) / 3.0);
    let expected = [[
        mean + s / 3.0 + 2.0 * x[0],
        2.0 * mean + s / 3.0 + 2.0 * x[1],
        3.0 * mean + s / 3.0 + 2.0 * x[2],
        0.0,
        0.0,
        2.0,
        0.0,
    ]];
    assert_jacobian_close_scaled(&x, &lengths_and_named_closures_jacobian(x, q), &expected, TOL);
    let h = lengths_and_named_closures_hessian(x, q);
    assert!((h[(0, 1)] - (2.0 / 3.0 + 1.0 / 3.0)).abs() < 1e-12);
    assert!((h[(2, 2)] - (6.0 / 3.0 + 2.0)).abs() < 1e-12);
}

/// A tuple kept in a local and read by field, as people keep pairs (was refused by the IR
/// front end, which read fields of iterator pairs only).
#[jacobian]
fn tuple_local(x: [f64; 2]) -> f64 {
    let t = (x[0] * x[1], x[0].sin());
    t.0 + 2.0 * t.1
}

#[test]
fn fields_of_a_tuple_local() {
    let x = [0.5, 2.0];
    let expected = [[x[1] + 2.0 * x[0].cos(), x[0]]];
    assert_jacobian_close_scaled(&x, &tuple_local_jacobian(x), &expected, TOL);
}
