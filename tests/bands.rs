//! Banded Jacobian blocks (`analysis::band`): arrays whose element `r` depends only on
//! inputs `r + s` for a few offsets `s` are differentiated as those diagonals, not as
//! dense blocks. Each function here is checked against dual numbers on random points,
//! forward mode against reverse mode.

#![allow(clippy::needless_range_loop)]

mod common;

use common::{assert_jacobian_close_scaled, dual_jacobian};
use jacobian::jacobian;
use num_dual::DualNum;
use proptest::prelude::*;

const N: usize = 12;
const TOL: f64 = 1e-12;

/// A three-point stencil with boundary terms (offsets −1, 0, +1).
#[jacobian(mode = forward)]
fn stencil(u: [f64; N]) -> [f64; N] {
    let mut out = [0.0; N];
    out[0] = u[0] * u[0] - u[1];
    for i in 1..N - 1 {
        out[i] = u[i - 1] - 2.0 * u[i].sin() + u[i + 1] * u[i];
    }
    out[N - 1] = u[N - 1].exp() + u[N - 2];
    out
}

fn stencil_twin<D: DualNum<Primitive = f64> + Copy>(u: [D; N]) -> [D; N] {
    let mut out = [D::from(0.0); N];
    out[0] = u[0] * u[0] - u[1];
    for i in 1..N - 1 {
        out[i] = u[i - 1] - u[i].sin() * 2.0 + u[i + 1] * u[i];
    }
    out[N - 1] = u[N - 1].exp() + u[N - 2];
    out
}

/// An intermediate banded array read back at shifted positions, accumulated into, and a
/// copy of the input updated in place.
#[jacobian(mode = forward)]
fn chain(c: [f64; N], k: f64) -> [f64; N] {
    let mut rate = [0.0; N];
    for i in 0..N {
        rate[i] = k * c[i] / (1.0 + c[i]);
    }
    let mut dc = c;
    dc[0] -= rate[0];
    for i in 1..N {
        dc[i] += rate[i - 1] - rate[i];
    }
    for i in 0..N - 2 {
        dc[i] += 0.5 * rate[i + 2];
    }
    dc
}

fn chain_twin<D: DualNum<Primitive = f64> + Copy>(v: [D; N + 1]) -> [D; N] {
    let k = v[N];
    let c: [D; N] = std::array::from_fn(|i| v[i]);
    let rate: [D; N] = std::array::from_fn(|i| k * c[i] / (c[i] + 1.0));
    let mut dc = c;
    dc[0] -= rate[0];
    for i in 1..N {
        dc[i] += rate[i - 1] - rate[i];
    }
    for i in 0..N - 2 {
        dc[i] += rate[i + 2] * 0.5;
    }
    dc
}

/// A branch on a differentiated value inside the loop (the band is kept through it or the
/// loop falls back to dense blocks: either way the same numbers).
#[jacobian(mode = forward)]
fn branchy(x: [f64; N]) -> [f64; N] {
    let mut y = [0.0; N];
    for i in 0..N - 1 {
        y[i] = if x[i] > 0.0 { x[i] * x[i + 1] } else { x[i + 1].cos() };
    }
    y[N - 1] = x[0] * x[N - 1];
    y
}

fn branchy_twin<D: DualNum<Primitive = f64> + Copy>(x: [D; N]) -> [D; N] {
    let mut y = [D::from(0.0); N];
    for i in 0..N - 1 {
        y[i] = if x[i].re() > 0.0 { x[i] * x[i + 1] } else { x[i + 1].cos() };
    }
    y[N - 1] = x[0] * x[N - 1];
    y
}

#[jacobian(mode = reverse)]
fn chain_reverse(c: [f64; N], k: f64) -> [f64; N] {
    let mut rate = [0.0; N];
    for i in 0..N {
        rate[i] = k * c[i] / (1.0 + c[i]);
    }
    let mut dc = c;
    dc[0] -= rate[0];
    for i in 1..N {
        dc[i] += rate[i - 1] - rate[i];
    }
    for i in 0..N - 2 {
        dc[i] += 0.5 * rate[i + 2];
    }
    dc
}

/// A const-generic length and a last element written at `N - 1`, outside the loop.
#[jacobian]
fn banded_sin<const L: usize>(x: [f64; L]) -> [f64; L] {
    let mut f = [0.0; L];
    for i in 0..L - 1 {
        f[i] = x[i].sin() * x[i + 1];
    }
    f[L - 1] = x[L - 1].sin();
    f
}

#[test]
fn banded_sin_in_closed_form() {
    let x: [f64; 40] = std::array::from_fn(|i| 0.3 * i as f64 - 5.0);
    let j = banded_sin_jacobian(x);
    for r in 0..40 {
        for c in 0..40 {
            let expected = match (r, c) {
                (r, c) if r == c && r < 39 => x[r].cos() * x[r + 1],
                (39, 39) => x[39].cos(),
                (r, c) if c == r + 1 => x[r].sin(),
                _ => 0.0,
            };
            assert_eq!(j[(r, c)], expected, "({r}, {c})");
        }
    }
}

proptest! {
    #[test]
    fn stencil_matches_dual_numbers(u in proptest::array::uniform12(-2.0..2.0f64)) {
        let (_, expected) = dual_jacobian(stencil_twin, u);
        assert_jacobian_close_scaled(&u, stencil_jacobian(u).as_rows(), &expected, TOL);
    }

    #[test]
    fn chain_matches_dual_numbers(c in proptest::array::uniform12(0.0..3.0f64), k in 0.1..2.0f64) {
        let mut v = [k; N + 1];
        v[..N].copy_from_slice(&c);
        let (_, expected) = dual_jacobian(chain_twin, v);
        let j = chain_jacobian(c, k);
        assert_jacobian_close_scaled(&v, j.as_rows(), &expected, TOL);
        assert_jacobian_close_scaled(&v, chain_reverse_jacobian(c, k).as_rows(), j.as_rows(), TOL);
    }

    #[test]
    fn branches_keep_the_numbers(x in proptest::array::uniform12(-2.0..2.0f64)) {
        let (_, expected) = dual_jacobian(branchy_twin, x);
        assert_jacobian_close_scaled(&x, branchy_jacobian(x).as_rows(), &expected, TOL);
    }
}
