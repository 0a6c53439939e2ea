//! Jumps in every form the new pipeline takes: `break` and `continue` anywhere in a loop
//! (labelled or not), `break` with a value and `loop` as a value, a `let` before a loop's
//! `break`, early `return` from loops and nested branches, and branches with an arm that
//! jumps away. Each function is annotated twice from one body (reverse mode with every
//! sibling, and forward mode) and checked at many random points against a hand-written
//! twin on hyper-dual numbers (`num-dual`): values, the Jacobian in both modes, `jvp`,
//! `vjp`, and for scalar functions whose loops reverse mode takes, the Hessian, `hvp` and
//! `value_gradient_hessian`.

#![allow(dead_code)]
#![allow(clippy::needless_range_loop)]
#![allow(clippy::never_loop)]
#![allow(clippy::needless_return)]
#![allow(clippy::collapsible_if, clippy::collapsible_else_if)]

use jacobian::{jacobian, Matrix, Vector};
use num_dual::{DualNum, HyperDual64};

type H = HyperDual64;

fn h(v: f64) -> H {
    H::from(v)
}

/// A scalar function with every sibling, second order included (`f`), and forward mode
/// (`g`).
macro_rules! second_order {
    ($m:ident, ($x:ident: [f64; $n:tt]) -> f64 $body:block) => {
        mod $m {
            use super::*;

            #[jacobian(mode = reverse, value, jvp, vjp, hessian, hvp)]
            pub fn f($x: [f64; $n]) -> f64 $body

            #[jacobian(mode = forward, value, jvp, vjp)]
            pub fn g($x: [f64; $n]) -> f64 $body
        }
    };
}

/// A function with the first-order siblings, in reverse mode where it takes the function
/// (`f`; forward mode otherwise) and in forward mode (`g`).
macro_rules! first_order {
    ($m:ident, ($x:ident: [f64; $n:tt]) -> $ret:ty $body:block) => {
        mod $m {
            use super::*;

            #[jacobian(mode = reverse, value, jvp, vjp)]
            pub fn f($x: [f64; $n]) -> $ret $body

            #[jacobian(mode = forward, value, jvp, vjp)]
            pub fn g($x: [f64; $n]) -> $ret $body
        }
    };
}

/// Many points in `[-2, 2]ᴺ` and directions in `[-1, 1]ᴺ`, the same on every run.
fn points<const N: usize>(count: usize) -> Vec<([f64; N], [f64; N])> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15 ^ N as u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..count)
        .map(|_| (std::array::from_fn(|_| 4.0 * next() - 2.0), std::array::from_fn(|_| 2.0 * next() - 1.0)))
        .collect()
}

/// Values and Jacobian of a twin at `x`, one input direction at a time.
fn twin_jacobian<const N: usize, const M: usize>(
    twin: fn(&[H]) -> [H; M],
    x: [f64; N],
) -> ([f64; M], [[f64; N]; M]) {
    let mut jacobian = [[0.0; N]; M];
    let mut values = [0.0; M];
    for k in 0..N {
        let point: Vec<H> = (0..N).map(|i| H::new(x[i], f64::from(u8::from(i == k)), 0.0, 0.0)).collect();
        let y = twin(&point);
        for i in 0..M {
            values[i] = y[i].re;
            jacobian[i][k] = y[i].eps1;
        }
    }
    (values, jacobian)
}

/// The Hessian of a scalar twin at `x`, one pair of directions at a time.
fn twin_hessian<const N: usize>(twin: fn(&[H]) -> [H; 1], x: [f64; N]) -> [[f64; N]; N] {
    let mut hessian = [[0.0; N]; N];
    for i in 0..N {
        for j in 0..N {
            let point: Vec<H> = (0..N)
                .map(|k| H::new(x[k], f64::from(u8::from(k == i)), f64::from(u8::from(k == j)), 0.0))
                .collect();
            hessian[i][j] = twin(&point)[0].eps1eps2;
        }
    }
    hessian
}

fn close(actual: f64, expected: f64, scale: f64) -> bool {
    (actual - expected).abs() <= 1e-10 * scale.max(1.0) || (actual.is_nan() && expected.is_nan())
}

fn assert_close<const R: usize, const C: usize>(
    what: &str,
    x: &[f64],
    actual: &Matrix<R, C>,
    expected: &[[f64; C]; R],
) {
    let scale = expected.iter().flatten().fold(0.0f64, |m, v| m.max(v.abs()));
    for i in 0..R {
        for j in 0..C {
            assert!(
                close(actual[(i, j)], expected[i][j], scale),
                "{what}[{i}][{j}] at {x:?}: {} against {}\n{actual}\nexpected {expected:?}",
                actual[(i, j)],
                expected[i][j]
            );
        }
    }
}

trait Flat<const M: usize> {
    fn flat(&self) -> [f64; M];
}

impl Flat<1> for f64 {
    fn flat(&self) -> [f64; 1] {
        [*self]
    }
}

impl<const M: usize> Flat<M> for [f64; M] {
    fn flat(&self) -> [f64; M] {
        *self
    }
}

/// Every first-order sibling of `$m::f` and `$m::g` against the twin, at many points.
macro_rules! check_first_order {
    ($m:ident, $twin:ident, $n:literal, $outputs:literal) => {{
        for (x, v) in points::<$n>(200) {
            let (values, jacobian) = twin_jacobian::<$n, $outputs>($twin, x);
            let y = $m::f(x);
            let flat: [f64; $outputs] = Flat::flat(&y);
            for i in 0..$outputs {
                assert!(
                    close(flat[i], values[i], values[i].abs()),
                    "value at {x:?}: {flat:?} against the twin's {values:?}"
                );
            }
            let j = $m::f_jacobian(x);
            assert_close("reverse-mode Jacobian", &x, &j, &jacobian);
            assert_close("forward-mode Jacobian", &x, &$m::g_jacobian(x), &jacobian);
            let (y2, j2) = $m::f_value_and_jacobian(x);
            assert_eq!(Flat::<$outputs>::flat(&y2), flat);
            assert_eq!(j2, j);
            let (y3, j3) = $m::g_value_and_jacobian(x);
            assert_eq!(Flat::<$outputs>::flat(&y3), flat);
            assert_close("forward-mode value_and_jacobian", &x, &j3, &jacobian);
            let jv: [[f64; 1]; $outputs] =
                std::array::from_fn(|i| [(0..$n).map(|k| jacobian[i][k] * v[k]).sum()]);
            let (y4, p) = $m::f_jvp(x, Vector::from(v));
            assert_eq!(Flat::<$outputs>::flat(&y4), flat);
            assert_close("jvp", &x, &p, &jv);
            assert_close("forward-mode jvp", &x, &$m::g_jvp(x, Vector::from(v)).1, &jv);
            let u: [f64; $outputs] = std::array::from_fn(|i| 1.5 - i as f64);
            let uj: [[f64; 1]; $n] =
                std::array::from_fn(|k| [(0..$outputs).map(|i| u[i] * jacobian[i][k]).sum()]);
            let (y5, p) = $m::f_vjp(x, Vector::from(u));
            assert_eq!(Flat::<$outputs>::flat(&y5), flat);
            assert_close("vjp", &x, &p, &uj);
            assert_close("forward-mode vjp", &x, &$m::g_vjp(x, Vector::from(u)).1, &uj);
        }
    }};
}

/// The first-order checks, and the second-order siblings of `$m::f` against the twin.
macro_rules! check_second_order {
    ($m:ident, $twin:ident, $n:literal) => {{
        check_first_order!($m, $twin, $n, 1);
        for (x, v) in points::<$n>(100) {
            let hessian = twin_hessian::<$n>($twin, x);
            let (_, gradient) = twin_jacobian::<$n, 1>($twin, x);
            let hm = $m::f_hessian(x);
            assert_close("hessian", &x, &hm, &hessian);
            let (y, g, h2) = $m::f_value_gradient_hessian(x);
            assert_eq!(y, $m::f(x));
            assert_close("gradient of value_gradient_hessian", &x, &g, &gradient);
            assert_eq!(h2, hm);
            let hv: [[f64; 1]; $n] = std::array::from_fn(|i| [(0..$n).map(|k| hessian[i][k] * v[k]).sum()]);
            assert_close("hvp", &x, &$m::f_hvp(x, Vector::from(v)), &hv);
        }
    }};
}

// ---- `for` loops: `break`, `continue` and `return` anywhere, labelled or not ----

// `break` on a condition of differentiated values, after the update.
second_order!(break_on_sum, (x: [f64; 4]) -> f64 {
    let mut s = 0.0;
    for i in 0..4 {
        s += x[i] * x[i].sin();
        if s > 1.0 {
            break;
        }
    }
    s * x[0]
});

fn break_on_sum_twin(x: &[H]) -> [H; 1] {
    let mut s = h(0.0);
    for i in 0..4 {
        s += x[i] * x[i].sin();
        if s.re > 1.0 {
            break;
        }
    }
    [s * x[0]]
}

#[test]
fn break_out_of_a_for_loop() {
    check_second_order!(break_on_sum, break_on_sum_twin, 4);
}

// `continue 'rows` and `break 'rows` from an inner loop.
second_order!(labelled, (x: [f64; 3]) -> f64 {
    let mut s = x[0];
    'rows: for i in 0..3 {
        for j in 0..3 {
            if j > i {
                continue 'rows;
            }
            if x[j] < -1.5 {
                break 'rows;
            }
            s += x[i] * x[j].cos();
        }
        s *= 0.5;
    }
    s
});

fn labelled_twin(x: &[H]) -> [H; 1] {
    let mut s = x[0];
    'rows: for i in 0..3 {
        for j in 0..3 {
            if j > i {
                continue 'rows;
            }
            if x[j].re < -1.5 {
                break 'rows;
            }
            s += x[i] * x[j].cos();
        }
        s *= 0.5;
    }
    [s]
}

#[test]
fn labelled_break_and_continue() {
    check_second_order!(labelled, labelled_twin, 3);
}

// `continue` inside a nested branch, with statements after it.
second_order!(nested_continue, (x: [f64; 3]) -> f64 {
    let mut s = 0.0;
    for i in 0..5 {
        let t = x[i % 3];
        if i % 2 == 1 {
            if t > 0.0 {
                continue;
            }
            s -= t;
        }
        s += t * t * x[(i + 1) % 3];
    }
    s
});

fn nested_continue_twin(x: &[H]) -> [H; 1] {
    let mut s = h(0.0);
    for i in 0..5 {
        let t = x[i % 3];
        if i % 2 == 1 {
            if t.re > 0.0 {
                continue;
            }
            s -= t;
        }
        s += t * t * x[(i + 1) % 3];
    }
    [s]
}

#[test]
fn continue_in_a_nested_branch() {
    check_second_order!(nested_continue, nested_continue_twin, 3);
}

// An early `return` from inside a loop.
second_order!(return_in_loop, (x: [f64; 3]) -> f64 {
    let mut p = 0.0;
    for i in 0..3 {
        p += x[i].exp();
        if p > 3.0 {
            return p.ln() * x[i];
        }
    }
    p.sqrt()
});

fn return_in_loop_twin(x: &[H]) -> [H; 1] {
    let mut p = h(0.0);
    for i in 0..3 {
        p += x[i].exp();
        if p.re > 3.0 {
            return [p.ln() * x[i]];
        }
    }
    [p.sqrt()]
}

#[test]
fn return_from_a_loop() {
    check_second_order!(return_in_loop, return_in_loop_twin, 3);
}

// Returns from nested branches, and one in the body's value.
second_order!(nested_returns, (x: [f64; 2]) -> f64 {
    if x[0] > 0.0 {
        if x[1] > 0.0 {
            return x[0] * x[1];
        }
    }
    let z = x[0].sin();
    if z < -0.5 {
        return z * x[1].exp();
    }
    if x[1] < 0.0 {
        z.cos() + x[1]
    } else {
        if x[0] < -1.0 {
            return x[0].exp();
        }
        z + x[1] * x[1]
    }
});

fn nested_returns_twin(x: &[H]) -> [H; 1] {
    if x[0].re > 0.0 && x[1].re > 0.0 {
        return [x[0] * x[1]];
    }
    let z = x[0].sin();
    if z.re < -0.5 {
        return [z * x[1].exp()];
    }
    if x[1].re < 0.0 {
        [z.cos() + x[1]]
    } else {
        if x[0].re < -1.0 {
            return [x[0].exp()];
        }
        [z + x[1] * x[1]]
    }
}

#[test]
fn returns_from_nested_branches() {
    check_second_order!(nested_returns, nested_returns_twin, 2);
}

// A branch whose arm jumps away, for its value.
second_order!(diverging_arm, (x: [f64; 3]) -> f64 {
    let mut s = x[2];
    for i in 0..3 {
        let t = if x[i] < 0.0 { continue; } else { (x[i] + 1.0).sqrt() };
        s += t * x[(i + 1) % 3];
    }
    s
});

fn diverging_arm_twin(x: &[H]) -> [H; 1] {
    let mut s = x[2];
    for i in 0..3 {
        if x[i].re < 0.0 {
            continue;
        }
        let t = (x[i] + 1.0).sqrt();
        s += t * x[(i + 1) % 3];
    }
    [s]
}

#[test]
fn branch_with_an_arm_that_jumps() {
    check_second_order!(diverging_arm, diverging_arm_twin, 3);
}

// An array result, `return` and `continue 'scan` from an inner loop.
first_order!(scan, (x: [f64; 3]) -> [f64; 2] {
    let mut acc = [0.0; 2];
    'scan: for i in 0..3 {
        for j in 0..2 {
            if x[i] * x[j] > 2.0 {
                return [x[i], acc[0] + x[j]];
            }
            if x[j] < -1.0 {
                continue 'scan;
            }
            acc[j] += x[i] * x[j];
        }
    }
    acc
});

fn scan_twin(x: &[H]) -> [H; 2] {
    let mut acc = [h(0.0); 2];
    'scan: for i in 0..3 {
        for j in 0..2 {
            if (x[i] * x[j]).re > 2.0 {
                return [x[i], acc[0] + x[j]];
            }
            if x[j].re < -1.0 {
                continue 'scan;
            }
            acc[j] += x[i] * x[j];
        }
    }
    acc
}

#[test]
fn array_result_with_jumps() {
    check_first_order!(scan, scan_twin, 3, 2);
}

// ---- `loop` and `while`: `break` with a value, `let` before `break`, jumps anywhere ----

// `break` with a value out of `loop`, bound by `let`.
first_order!(break_value, (x: [f64; 3]) -> f64 {
    let mut v = x[0];
    let mut k = 0;
    let r = loop {
        v = v * v.cos() + x[1];
        k += 1;
        if v > 2.0 || k == 6 {
            break 2.0 * v + x[2];
        }
    };
    r * x[0]
});

fn break_value_twin(x: &[H]) -> [H; 1] {
    let mut v = x[0];
    let mut k = 0;
    let r = loop {
        v = v * v.cos() + x[1];
        k += 1;
        if v.re > 2.0 || k == 6 {
            break v * 2.0 + x[2];
        }
    };
    [r * x[0]]
}

#[test]
fn break_with_a_value() {
    check_first_order!(break_value, break_value_twin, 3, 1);
}

// `loop` as the body's value, a `let` before its `break`s, two of them.
first_order!(loop_tail, (x: [f64; 2]) -> f64 {
    let mut y = x[0];
    let mut k = 0;
    loop {
        let t = y.sin() + x[1];
        k += 1;
        if t > 1.0 {
            break t * y;
        }
        if k >= 5 {
            break y;
        }
        y = y * 1.5 + t;
    }
});

fn loop_tail_twin(x: &[H]) -> [H; 1] {
    let mut y = x[0];
    let mut k = 0;
    loop {
        let t = y.sin() + x[1];
        k += 1;
        if t.re > 1.0 {
            break [t * y];
        }
        if k >= 5 {
            break [y];
        }
        y = y * 1.5 + t;
    }
}

#[test]
fn loop_as_the_result() {
    check_first_order!(loop_tail, loop_tail_twin, 2, 1);
}

// A `let` before a loop's only `break`.
first_order!(let_before_break, (x: [f64; 2]) -> f64 {
    let mut s = x[0];
    let mut k = 0;
    loop {
        let t = s.tanh() * x[1];
        s += t;
        k += 1;
        if k >= 3 {
            break;
        }
    }
    s
});

fn let_before_break_twin(x: &[H]) -> [H; 1] {
    let mut s = x[0];
    for _ in 0..3 {
        let t = s.tanh() * x[1];
        s += t;
    }
    [s]
}

#[test]
fn let_before_a_break() {
    check_first_order!(let_before_break, let_before_break_twin, 2, 1);
}

// `while` with `continue` and `break` in its body.
first_order!(while_jumps, (x: [f64; 3]) -> [f64; 2] {
    let mut s = x[0];
    let mut p = x[1];
    let mut k = 0;
    while k < 6 {
        k += 1;
        if k % 3 == 0 {
            continue;
        }
        s += p.sin();
        if s > 3.0 {
            break;
        }
        p *= 0.9 + 0.05 * x[2];
    }
    [s, p]
});

fn while_jumps_twin(x: &[H]) -> [H; 2] {
    let mut s = x[0];
    let mut p = x[1];
    let mut k = 0;
    while k < 6 {
        k += 1;
        if k % 3 == 0 {
            continue;
        }
        s += p.sin();
        if s.re > 3.0 {
            break;
        }
        p *= x[2] * 0.05 + 0.9;
    }
    [s, p]
}

#[test]
fn while_with_break_and_continue() {
    check_first_order!(while_jumps, while_jumps_twin, 3, 2);
}

// A labelled `loop` left with a value from an inner `for`.
first_order!(labelled_loop, (x: [f64; 3]) -> [f64; 2] {
    let mut s = x[0];
    let mut k = 0;
    let r = 'outer: loop {
        for i in 0..3 {
            s += x[i] * 0.5;
            if s > 2.0 {
                break 'outer s * 2.0;
            }
        }
        k += 1;
        if k > 3 {
            break x[1] - s;
        }
    };
    [r, s]
});

fn labelled_loop_twin(x: &[H]) -> [H; 2] {
    let mut s = x[0];
    let mut k = 0;
    let r = 'outer: loop {
        for i in 0..3 {
            s += x[i] * 0.5;
            if s.re > 2.0 {
                break 'outer s * 2.0;
            }
        }
        k += 1;
        if k > 3 {
            break x[1] - s;
        }
    };
    [r, s]
}

#[test]
fn labelled_loop_left_from_an_inner_for() {
    check_first_order!(labelled_loop, labelled_loop_twin, 3, 2);
}

// An early `return` from a `while`.
first_order!(return_in_while, (x: [f64; 3]) -> [f64; 2] {
    let mut a = x[0];
    let mut k = 0;
    while k < 4 {
        a = a * x[1] + x[2];
        if a.abs() > 3.0 {
            return [a, k as f64];
        }
        k += 1;
    }
    [a, x[0] * a]
});

fn return_in_while_twin(x: &[H]) -> [H; 2] {
    let mut a = x[0];
    let mut k = 0;
    while k < 4 {
        a = a * x[1] + x[2];
        if a.re.abs() > 3.0 {
            return [a, h(f64::from(k))];
        }
        k += 1;
    }
    [a, x[0] * a]
}

#[test]
fn return_from_a_while() {
    check_first_order!(return_in_while, return_in_while_twin, 3, 2);
}

// `break` with a value that is not differentiated (an integer).
first_order!(integer_break, (x: [f64; 2]) -> f64 {
    let mut y = x[0];
    let mut n = 0;
    let steps = loop {
        y = y.cos() * x[1];
        n += 1;
        if y < 0.0 || n > 4 {
            break n;
        }
    };
    y * steps as f64
});

fn integer_break_twin(x: &[H]) -> [H; 1] {
    let mut y = x[0];
    let mut n = 0;
    let steps = loop {
        y = y.cos() * x[1];
        n += 1;
        if y.re < 0.0 || n > 4 {
            break n;
        }
    };
    [y * f64::from(steps)]
}

#[test]
fn break_with_an_integer() {
    check_first_order!(integer_break, integer_break_twin, 2, 1);
}

// `break` with a vector value.
first_order!(vector_break, (x: [f64; 2]) -> [f64; 2] {
    let v = Vector::from(x);
    let mut k = 0;
    let y = loop {
        k += 1;
        if k > 2 || v[0] > 1.0 {
            break v * (2.0 + x[1]);
        }
    };
    [y[0], y[1] * x[0]]
});

fn vector_break_twin(x: &[H]) -> [H; 2] {
    let y = [x[0] * (x[1] + 2.0), x[1] * (x[1] + 2.0)];
    [y[0], y[1] * x[0]]
}

#[test]
fn break_with_a_vector() {
    check_first_order!(vector_break, vector_break_twin, 2, 2);
}

// ---- an array chosen by a branch, destructured; a loop over `*x` ----

// `let [a, b, c] = if … { …; [p, q, r] } else { [s, t, u] };` (bundle adjustment's
// rotation): one branch per element.
second_order!(array_branch, (x: [f64; 3]) -> f64 {
    let sq = x[0] * x[0] + x[1] * x[1];
    let [a, b, c] = if sq > 1.0 {
        let r = sq.sqrt();
        let s = x[2].sin();
        [x[0] / r, x[1] * s, r * s]
    } else {
        [x[0], x[1] + x[2], sq]
    };
    a * b + c * x[2]
});

fn array_branch_twin(x: &[H]) -> [H; 1] {
    let sq = x[0] * x[0] + x[1] * x[1];
    let [a, b, c] = if sq.re > 1.0 {
        let r = sq.sqrt();
        let s = x[2].sin();
        [x[0] / r, x[1] * s, r * s]
    } else {
        [x[0], x[1] + x[2], sq]
    };
    [a * b + c * x[2]]
}

#[test]
fn array_chosen_by_a_branch() {
    check_second_order!(array_branch, array_branch_twin, 3);
}

#[jacobian(hessian)]
fn sum_of_squares(x: &[f64; 3]) -> f64 {
    let mut s = 0.0;
    for e in *x {
        s += e * e * x[0];
    }
    s
}

#[test]
fn loop_over_a_dereferenced_parameter() {
    let x = [0.5, -1.5, 2.0];
    let q = x[0] * x[0] + x[1] * x[1] + x[2] * x[2];
    let j = sum_of_squares_jacobian(&x);
    let expected = [[q + 2.0 * x[0] * x[0], 2.0 * x[1] * x[0], 2.0 * x[2] * x[0]]];
    assert_close("Jacobian", &x, &j, &expected);
    let h = sum_of_squares_hessian(&x);
    let expected =
        [[6.0 * x[0], 2.0 * x[1], 2.0 * x[2]], [2.0 * x[1], 2.0 * x[0], 0.0], [2.0 * x[2], 0.0, 2.0 * x[0]]];
    assert_close("Hessian", &x, &h, &expected);
}

// ---- patterns on values that are never differentiated ----

const K: f64 = -1.5;

#[jacobian(value, hessian)]
fn if_let_shadowing(x: f64, o: Option<i32>) -> f64 {
    if let Some(x) = o {
        f64::from(x) * 2.0
    } else {
        x * x * x
    }
}

#[jacobian(hessian)]
fn match_binding(x: f64, n: i32) -> f64 {
    match n {
        k if k > 2 => x * f64::from(k),
        0 => x.sin(),
        x => f64::from(x) * 0.5,
    }
}

#[jacobian(hessian)]
fn let_else_return(x: f64, n: usize) -> f64 {
    let Some(k) = n.checked_sub(1) else {
        return x.exp();
    };
    x * x * (k as f64)
}

#[jacobian(hessian, mode = reverse)]
fn let_else_continue(x: [f64; 3], at: [Option<usize>; 3]) -> f64 {
    let mut s = 0.0;
    for i in 0..3 {
        let Some(j) = at[i] else {
            continue;
        };
        s += x[j] * x[i];
    }
    s
}

#[jacobian(hessian)]
fn block_shadowing(x: f64, n: usize) -> f64 {
    let s = {
        let x = K * K.abs();
        x * x
    };
    let t = {
        let n = n + 1;
        n as f64
    };
    x * x * s + t * x
}

#[test]
fn patterns_that_bind() {
    let x = 0.75;
    assert_eq!(if_let_shadowing_value_and_jacobian(x, Some(3)), (6.0, Matrix::from_rows([[0.0]])));
    assert_eq!(if_let_shadowing_jacobian(x, None), Matrix::from_rows([[3.0 * x * x]]));
    assert_eq!(if_let_shadowing_hessian(x, None), Matrix::from_rows([[6.0 * x]]));
    assert_eq!(match_binding_jacobian(x, 4), Matrix::from_rows([[4.0]]));
    assert_eq!(match_binding_jacobian(x, 0), Matrix::from_rows([[x.cos()]]));
    assert_eq!(match_binding_hessian(x, 0), Matrix::from_rows([[-x.sin()]]));
    assert_eq!(match_binding_jacobian(x, -7), Matrix::from_rows([[0.0]]));
    assert_eq!(let_else_return_jacobian(x, 0), Matrix::from_rows([[x.exp()]]));
    assert_eq!(let_else_return_hessian(x, 0), Matrix::from_rows([[x.exp()]]));
    assert_eq!(let_else_return_jacobian(x, 4), Matrix::from_rows([[6.0 * x]]));
    let p = [0.5, -1.25, 2.0];
    let at = [Some(2), None, Some(0)];
    // s = x₂·x₀ + x₀·x₂ = 2·x₀·x₂.
    assert_eq!(let_else_continue_jacobian(p, at), Matrix::from_rows([[2.0 * p[2], 0.0, 2.0 * p[0]]]));
    assert_eq!(
        let_else_continue_hessian(p, at),
        Matrix::from_rows([[0.0, 0.0, 2.0], [0.0, 0.0, 0.0], [2.0, 0.0, 0.0]])
    );
    let s = (K * K.abs()) * (K * K.abs());
    assert_eq!(block_shadowing_jacobian(x, 2), Matrix::from_rows([[2.0 * x * s + 3.0]]));
    assert_eq!(block_shadowing_hessian(x, 2), Matrix::from_rows([[2.0 * s]]));
}

// A `match` as the body's value, one arm returning, on an integer counted in branches on
// differentiated values.
second_order!(match_returns, (x: [f64; 2]) -> f64 {
    let mut q = 0;
    if x[0] > 0.0 {
        q += 1;
    }
    if x[1] > 0.5 {
        q += 2;
    }
    let mut s = x[0] * x[1];
    for i in 0..2 {
        if q == 3 && x[i] > 1.5 {
            return s.exp();
        }
        s += x[i].sin();
    }
    match q {
        0 => s * s,
        1 => return s.cos() * x[1],
        _ => {
            if s > 1.0 {
                return s.sqrt();
            }
            s * x[0]
        }
    }
});

fn match_returns_twin(x: &[H]) -> [H; 1] {
    let q = i32::from(x[0].re > 0.0) + 2 * i32::from(x[1].re > 0.5);
    let mut s = x[0] * x[1];
    for i in 0..2 {
        if q == 3 && x[i].re > 1.5 {
            return [s.exp()];
        }
        s += x[i].sin();
    }
    match q {
        0 => [s * s],
        1 => [s.cos() * x[1]],
        _ => {
            if s.re > 1.0 {
                return [s.sqrt()];
            }
            [s * x[0]]
        }
    }
}

#[test]
fn returns_from_match_arms() {
    check_second_order!(match_returns, match_returns_twin, 2);
}

// `continue 'outer` and `break 'outer` between nested `while` loops.
first_order!(nested_whiles, (x: [f64; 3]) -> f64 {
    let mut s = x[0];
    let mut i = 0;
    'outer: while i < 4 {
        i += 1;
        let mut j = 0;
        while j < 3 {
            j += 1;
            if x[j - 1] * (i as f64) > 2.5 {
                continue 'outer;
            }
            if s > 6.0 {
                break 'outer;
            }
            s += x[j - 1] * x[j - 1] * x[2];
        }
        s *= 1.1;
    }
    s
});

fn nested_whiles_twin(x: &[H]) -> [H; 1] {
    let mut s = x[0];
    let mut i = 0;
    'outer: while i < 4 {
        i += 1;
        let mut j = 0;
        while j < 3 {
            j += 1;
            if x[j - 1].re * f64::from(i) > 2.5 {
                continue 'outer;
            }
            if s.re > 6.0 {
                break 'outer;
            }
            s += x[j - 1] * x[j - 1] * x[2];
        }
        s *= 1.1;
    }
    [s]
}

#[test]
fn labelled_jumps_between_whiles() {
    check_first_order!(nested_whiles, nested_whiles_twin, 3, 1);
}

/// The generated code of jumps and patterns, under the lints a user may deny.
#[deny(warnings, clippy::all, clippy::pedantic)]
mod lints {
    use jacobian::jacobian;

    #[jacobian(jvp, vjp, hessian, hvp)]
    #[allow(clippy::needless_range_loop)]
    pub fn jumps(x: [f64; 3], at: [Option<usize>; 3], n: i32) -> f64 {
        let mut s = x[0];
        'outer: for i in 0..3 {
            let Some(j) = at[i] else {
                continue;
            };
            for k in 0..3 {
                if x[k] > 1.5 {
                    continue 'outer;
                }
                if s > 4.0 {
                    break 'outer;
                }
                if x[j] < -1.8 {
                    return s * x[k];
                }
                s += x[j] * x[k];
            }
        }
        if let Some(k) = at[0] {
            s += x[k].sin();
        }
        match n {
            m if m > 2 => s * f64::from(m),
            _ => s,
        }
    }

    #[jacobian(jvp, vjp)]
    pub fn loop_value(x: f64) -> f64 {
        let mut y = x;
        let mut k = 0;
        let r = 'l: loop {
            k += 1;
            if k > 5 {
                break 'l y;
            }
            let t = y.sin();
            if t > 0.5 {
                break t * x;
            }
            y += t;
        };
        r * y
    }
}

#[test]
fn generated_code_under_lints() {
    let x = [0.3, -0.4, 0.9];
    let at = [Some(2), None, Some(0)];
    let g = lints::jumps_jacobian(x, at, 3);
    let h = lints::jumps_hessian(x, at, 3);
    assert_eq!(h, h.transpose());
    let (_, jv) = lints::jumps_jvp(x, at, 3, Vector::from([1.0, 0.0, 0.0]));
    assert!((jv[0] - g[(0, 0)]).abs() < 1e-12);
    let d = lints::loop_value_jacobian(0.7);
    assert!(d[(0, 0)].is_finite());
}

#[jacobian(wrt(x), hessian)]
fn over_data(x: f64, a: [f64; 3]) -> f64 {
    let mut s = x;
    for e in a {
        s += e * x * x;
    }
    for e in &a {
        s -= e * x;
    }
    s
}

#[test]
fn loop_over_an_array_that_is_not_differentiated() {
    let (x, a) = (0.8, [1.5, -0.25, 2.0]);
    let sum: f64 = a.iter().sum();
    assert_close("Jacobian", &[x], &over_data_jacobian(x, a), &[[1.0 + 2.0 * x * sum - sum]]);
    assert_close("Hessian", &[x], &over_data_hessian(x, a), &[[2.0 * sum]]);
}

// Every value returned is a constant (the variable that keeps it has the type of the user's
// code, which nothing must leave ambiguous where it is not read): fuzz seed 15, f86.
#[jacobian(jvp, vjp)]
fn constant_returns(x: [f64; 2], n: usize) -> [f64; 2] {
    let c = (n as f64).cos();
    for _ in 0..n {
        if c > x[0] {
            return [c, 1.0];
        }
    }
    [c * 2.0, 0.5]
}

#[test]
fn returns_of_constants() {
    assert_eq!(constant_returns_jacobian([0.5, 1.0], 1), Matrix::zeros());
    let (y, p) = constant_returns_jvp([0.6, 1.0], 1, Vector::from([1.0, 2.0]));
    assert_eq!((y, p), ([1.0f64.cos() * 2.0, 0.5], Vector::zeros()));
    let (y, _) = constant_returns_vjp([-0.5, 1.0], 2, Vector::from([1.0, 2.0]));
    assert_eq!(y, [2.0f64.cos(), 1.0]);
}

// A copy of a parameter taken by reference (`let a = *x;`, the same value under another
// name) read in a loop's `break` condition: that code reads the copy, not a name the
// generated function lacks (once E0425 on `a`: fuzz seed 103, f67).
#[jacobian(mode = reverse, jvp, vjp)]
fn copy_in_a_break_condition(x: &[f64; 3], t: f64) -> [f64; 2] {
    let mut k = 0;
    let mut s = t;
    loop {
        let a = *x;
        s *= a[k];
        k += 1;
        if k >= 3 || ((k + 1) as f64) < a[1] {
            break;
        }
    }
    [s, x[0] * t]
}

#[test]
fn a_copy_of_a_reference_in_a_break_condition() {
    for (x, t) in [([0.5, 0.75, 2.0], 1.5), ([1.25, 5.0, -0.5], 0.25)] {
        let mut stop = 1;
        while stop < 3 && (stop + 1) as f64 >= x[1] {
            stop += 1;
        }
        let mut expected = [[0.0; 4]; 2];
        let product: f64 = x[..stop].iter().product();
        for i in 0..stop {
            expected[0][i] = t * product / x[i];
        }
        expected[0][3] = product;
        expected[1][0] = t;
        expected[1][3] = x[0];
        assert_close("Jacobian", &[t], &copy_in_a_break_condition_jacobian(&x, t), &expected);
        let (_, jv) = copy_in_a_break_condition_jvp(&x, t, Vector::from([1.0, 0.0, 0.0, 0.0]));
        assert!((jv[0] - expected[0][0]).abs() < 1e-12);
    }
}
