//! Implicit Euler on a stiff reaction chain of 10,000 species, Newton's method solving each
//! step with the sparse Jacobian.
//!
//! A linear pathway `→ A₀ → A₁ → … → A₉₉₉₉ →` fed at a constant rate, each step catalysed
//! by an enzyme with Michaelis–Menten kinetics `rᵢ = Vᵢ cᵢ / (Kᵢ + cᵢ)`, so
//! `dcᵢ/dt = rᵢ₋₁ − rᵢ`. The maximal rates span five orders of magnitude: the system is
//! stiff, and explicit Euler would need steps below `2 / max |∂rᵢ/∂cᵢ|`. Implicit Euler
//! takes steps 10⁴ times longer; each solves `G(c) = c − cₙ − h f(c) = 0` by Newton's
//! method, whose matrix `I − h J` is 10,000 × 10,000: dense, 800 MB; sparse, 19,999 values.
//!
//! `#[jacobian(sparse)]` gives `rhs_jacobian_pattern()` (where the values are, known at
//! compile time) and `rhs_jacobian_sparse(c, k)` (the values, in O(n)). The pattern is
//! lower bidiagonal (the example checks it), so `I − h J` is lower triangular and
//! nalgebra-sparse's sparse triangular solve (`spsolve_csc_lower_triangular`) is exact: no
//! factorisation at all. The compressed-column matrix is built once from the pattern and
//! refilled in place at every Newton iteration (`Pattern::csc_order`, `Pattern::scatter`).
//! Why nalgebra-sparse: it is the sparse companion of the nalgebra the crate already
//! supports (our `nalgebra-sparse` feature converts to its matrices), light to build, and
//! its triangular solve fits this structure exactly; its only factorisation is Cholesky,
//! which needs a symmetric matrix, so for a general pattern (a reversible chain is
//! tridiagonal) use faer's sparse LU on the same CSC, factorised symbolically once.
//!
//! Run with `cargo run --example implicit_euler`.

use jacobian::jacobian;
use nalgebra_sparse::na::DMatrix;
use nalgebra_sparse::ops::serial::spsolve_csc_lower_triangular;
use nalgebra_sparse::ops::Op;

const SPECIES: usize = 10_000;

/// The kinetic constants.
struct Kinetics<const N: usize> {
    feed: f64,
    vmax: [f64; N],
    km: [f64; N],
}

/// The right-hand side `dc/dt`: the rates, then each species' balance.
#[jacobian(wrt(c), sparse)]
fn rhs<const N: usize>(c: [f64; N], k: &Kinetics<N>) -> [f64; N] {
    let mut rate = [0.0; N];
    for i in 0..N {
        rate[i] = k.vmax[i] * c[i] / (k.km[i] + c[i]);
    }
    let mut dc = [0.0; N];
    dc[0] = k.feed - rate[0];
    for i in 1..N {
        dc[i] = rate[i - 1] - rate[i];
    }
    dc
}

/// A deterministic pseudo-random sequence in [0, 1) (SplitMix64).
fn uniform(state: &mut u64) -> f64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

fn main() {
    let mut state = 7;
    let mut kinetics = Box::new(Kinetics { feed: 1.0, vmax: [0.0; SPECIES], km: [0.0; SPECIES] });
    for i in 0..SPECIES {
        // Maximal rates from 2 to 2·10⁵, log-uniform: every enzyme can carry the feed.
        kinetics.vmax[i] = 2.0 * 10f64.powf(5.0 * uniform(&mut state));
        kinetics.km[i] = 0.1 + 0.9 * uniform(&mut state);
    }
    let k = &*kinetics;

    // The structure, once: lower bidiagonal, every diagonal entry present.
    let pattern = rhs_jacobian_pattern::<SPECIES>();
    assert_eq!(pattern.len(), 2 * SPECIES - 1);
    assert!(pattern.iter().all(|(r, c)| c <= r), "the Jacobian is lower triangular");
    assert!((0..SPECIES).all(|i| pattern.contains(i, i)));
    println!(
        "pattern: {} × {}, {} values in {} segments (dense: {} MB)",
        pattern.rows(),
        pattern.cols(),
        pattern.len(),
        pattern.segments().len(),
        SPECIES * SPECIES * 8 / 1_000_000
    );

    // I − h J in compressed-column form, built once from the pattern; `order[k]` is where
    // value k of the sparse Jacobian goes, `diagonal` where the ones are added.
    let mut c = Box::new([0.0; SPECIES]);
    let mut csc = rhs_jacobian_sparse(*c, k).to_csc();
    let order = pattern.csc_order();
    let diagonal: Vec<usize> =
        (0..SPECIES).map(|i| order[pattern.index_of(i, i).expect("diagonal")]).collect();

    let h = 0.5;
    let stiffness = k.vmax.iter().zip(&k.km).map(|(v, km)| v / km).fold(0.0, f64::max);
    println!("step h = {h}: h · max |∂rᵢ/∂cᵢ| = {:.1e} (explicit Euler is stable below 2)", h * stiffness);

    let mut newton_iterations = 0;
    let steps = 40;
    for step in 1..=steps {
        let previous = c.clone();
        let mut residuals = Vec::new();
        for iteration in 0.. {
            assert!(iteration < 12, "Newton's method did not converge at step {step}: {residuals:?}");
            // G(c) = c − cₙ − h f(c).
            let f = rhs(*c, k);
            let mut g = DMatrix::<f64>::from_fn(SPECIES, 1, |i, _| c[i] - previous[i] - h * f[i]);
            let norm = max_abs(g.as_slice());
            residuals.push(norm);
            if norm < 1e-10 {
                break;
            }
            // Refill I − h J in place and solve (I − h J) Δ = −G.
            let jacobian = rhs_jacobian_sparse(*c, k);
            jacobian::Pattern::scatter(&order, jacobian.values(), csc.values_mut());
            for v in csc.values_mut() {
                *v *= -h;
            }
            for &slot in &diagonal {
                csc.values_mut()[slot] += 1.0;
            }
            g.neg_mut();
            spsolve_csc_lower_triangular(Op::NoOp(&csc), &mut g).expect("a non-singular triangular matrix");
            for i in 0..SPECIES {
                c[i] += g[(i, 0)];
            }
            newton_iterations += 1;
        }
        // Quadratic convergence: each residual at most a constant times the square of the last.
        for pair in residuals.windows(2).filter(|p| p[0] < 1e-2 && p[1] > 1e-13) {
            assert!(pair[1] <= 10.0 * pair[0] * pair[0].max(1e-8), "not quadratic: {residuals:?}");
        }
        // Implicit Euler keeps the chain's balance exactly: the total changes by h times
        // (feed − outflow at the new state).
        let outflow = k.vmax[SPECIES - 1] * c[SPECIES - 1] / (k.km[SPECIES - 1] + c[SPECIES - 1]);
        let change = c.iter().sum::<f64>() - previous.iter().sum::<f64>();
        assert!((change - h * (k.feed - outflow)).abs() < 1e-8, "mass balance at step {step}");
        if step <= 3 || step % 10 == 0 {
            let shown: Vec<String> = residuals.iter().map(|r| format!("{r:.1e}")).collect();
            println!("step {step:>2}: t = {:>4.1}, Newton residuals {}", step as f64 * h, shown.join(" → "));
        }
    }

    // At steady state every rate equals the feed: cᵢ = feed·Kᵢ / (Vᵢ − feed). Species
    // fill in turn from the head of the chain.
    let steady = |i: usize| k.feed * k.km[i] / (k.vmax[i] - k.feed);
    let settled = (0..SPECIES).take_while(|&i| (c[i] - steady(i)).abs() < 1e-3 * steady(i)).count();
    println!("{steps} steps, {newton_iterations} Newton iterations; the first {settled} species within 0.1% of steady state");
    assert!(settled >= 5, "the head of the chain settles");
    assert!(c.iter().all(|&ci| ci >= 0.0 && ci.is_finite()), "concentrations stay non-negative");
}
