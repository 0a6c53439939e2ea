//! ADBench's Gaussian mixture model objective (Microsoft ADBench, `src/cpp/shared/gmm.h`):
//! the log-likelihood of n points under a mixture of k Gaussians in d dimensions, each
//! component parametrised by an unnormalised log weight `alphas[ik]`, a mean and the
//! Cholesky factor Q of its inverse covariance (`icf`: d logs of Q's diagonal, then the
//! strictly lower triangle column by column), plus a Wishart prior on the Qs. The
//! derivative is the gradient w.r.t. (alphas, means, icf), in that order.
//!
//! Inputs follow ADBench's generator (`data/gmm/gmm-data-gen.py`): alphas, icf and the
//! points standard normal, means uniform in [0, 1), Wishart γ = 1 and m = 0; drawn here
//! from a fixed seed rather than read from ADBench's files. (A test at the end also checks
//! every variant with m ≠ 0 and γ ≠ 1, which the measured inputs leave unexercised.)
//!
//! The constant `log_gamma_distrib` of the Wishart prior needs `lgamma`, which Rust's
//! stable std lacks; it is only ever needed at multiples of ½, so
//! [`ln_gamma_half_integer`] computes it exactly, and the annotated function calls it
//! (a plain function of non-differentiated values, which the macro copies verbatim) just
//! where `gmm.h` calls `log_gamma_distrib`.

use jacobian::Matrix;
#[cfg(feature = "annotations")]
use jacobian::{jacobian, Vector};
use num_dual::{DualDVec64, DualNum, DualSVec64};

use crate::random::Random;
use crate::{differences, duals, Case, Kind};

/// ADBench's `Wishart` (`defs.h`): the prior's γ and its integer degrees-of-freedom offset m.
#[derive(Clone, Copy, Debug)]
pub struct Wishart {
    pub gamma: f64,
    pub m: i32,
}

/// ln Γ(z) for z a positive multiple of ½ (all the Wishart constant needs), exactly:
/// Γ(1) = 1, Γ(½) = √π and Γ(t + 1) = t Γ(t).
pub fn ln_gamma_half_integer(z: f64) -> f64 {
    let twice = 2.0 * z;
    assert!(
        twice >= 1.0 && twice.fract() == 0.0,
        "ln_gamma_half_integer({z}): not a positive multiple of 1/2"
    );
    let (mut t, mut ln) =
        if twice % 2.0 == 0.0 { (1.0, 0.0) } else { (0.5, 0.5 * std::f64::consts::PI.ln()) };
    while t < z {
        ln += f64::ln(t);
        t += 1.0;
    }
    ln
}

/// ADBench's `log_gamma_distrib(a, p)` (`matrix.h`): the log of the multivariate gamma
/// function Γ_p(a), for `a` a multiple of ½.
pub fn log_gamma_distrib(a: f64, p: f64) -> f64 {
    let mut out = 0.25 * p * (p - 1.0) * std::f64::consts::PI.ln();
    for j in 1..=p as i32 {
        out += ln_gamma_half_integer(a + 0.5 * f64::from(1 - j));
    }
    out
}

/// The objective exactly as `gmm.h`'s `gmm_objective` computes it, one function per size
/// (the sizes must be literals or `const` items for the macro, and several generic-size
/// differentiated arrays would need a Jacobian type `Matrix<1, {K + K·D + K·ICF}>` that
/// stable Rust cannot write). ADBench's helpers (`preprocess_qs`, `subtract`, `Qtimesx`,
/// `sqnorm`, `logsumexp`, `log_wishart_prior`) are inlined as loops, in ADBench's order;
/// the data points and the Wishart parameters are constants.
macro_rules! objective {
    ($(#[$doc:meta])* $name:ident, d = $d:tt, k = $k:tt, kd = $kd:tt, icf = $icf:tt, n = $n:tt) => {
        $(#[$doc])*
        #[cfg_attr(feature = "annotations", jacobian(wrt(alphas, means, icf), vjp))]
        pub fn $name(
            alphas: &[f64; $k],
            means: &[f64; $kd],
            icf: &[f64; $icf],
            x: &[[f64; $d]; $n],
            wishart: Wishart,
        ) -> f64 {
            let d = $d;
            let k = $k;
            let n = $n;
            let constant = -(n as f64) * (d as f64) * 0.5 * (2.0 * std::f64::consts::PI).ln();
            let icf_sz = d * (d + 1) / 2;

            // preprocess_qs
            let mut qdiags = [0.0; $kd];
            let mut sum_qs = [0.0; $k];
            for ik in 0..k {
                sum_qs[ik] = 0.0;
                for id in 0..d {
                    let q = icf[ik * icf_sz + id];
                    sum_qs[ik] += q;
                    qdiags[ik * d + id] = q.exp();
                }
            }

            let mut xcentered = [0.0; $d];
            let mut qxcentered = [0.0; $d];
            let mut main_term = [0.0; $k];
            let mut slse = 0.0;
            for ix in 0..n {
                for ik in 0..k {
                    // subtract
                    for id in 0..d {
                        xcentered[id] = x[ix][id] - means[ik * d + id];
                    }
                    // Qtimesx
                    for id in 0..d {
                        qxcentered[id] = qdiags[ik * d + id] * xcentered[id];
                    }
                    let mut lparamsidx = ik * icf_sz + d;
                    for i in 0..d {
                        for j in i + 1..d {
                            qxcentered[j] += icf[lparamsidx] * xcentered[i];
                            lparamsidx += 1;
                        }
                    }
                    // sqnorm
                    let mut sqnorm = qxcentered[0] * qxcentered[0];
                    for id in 1..d {
                        sqnorm += qxcentered[id] * qxcentered[id];
                    }
                    main_term[ik] = alphas[ik] + sum_qs[ik] - 0.5 * sqnorm;
                }
                // logsumexp
                let mut mx = main_term[0];
                for ik in 1..k {
                    mx = mx.max(main_term[ik]);
                }
                let mut semx = 0.0;
                for ik in 0..k {
                    semx += (main_term[ik] - mx).exp();
                }
                slse += semx.ln() + mx;
            }

            // logsumexp of the alphas
            let mut mx = alphas[0];
            for ik in 1..k {
                mx = mx.max(alphas[ik]);
            }
            let mut semx = 0.0;
            for ik in 0..k {
                semx += (alphas[ik] - mx).exp();
            }
            let lse_alphas = semx.ln() + mx;

            let err = constant + slse - n as f64 * lse_alphas;

            // log_wishart_prior
            let wishart_n = d as i32 + wishart.m + 1;
            let c = f64::from(wishart_n) * d as f64 * (wishart.gamma.ln() - 0.5 * 2.0_f64.ln())
                - log_gamma_distrib(0.5 * f64::from(wishart_n), d as f64);
            let mut out = 0.0;
            for ik in 0..k {
                let mut frobenius = qdiags[ik * d] * qdiags[ik * d];
                for id in 1..d {
                    frobenius += qdiags[ik * d + id] * qdiags[ik * d + id];
                }
                for i in d..icf_sz {
                    frobenius += icf[ik * icf_sz + i] * icf[ik * icf_sz + i];
                }
                out += 0.5 * wishart.gamma * wishart.gamma * frobenius - f64::from(wishart.m) * sum_qs[ik];
            }
            err + out - k as f64 * c
        }
    };
}

objective!(
    /// d = 2, k = 5, n = 1,000: 5 + 10 + 15 = 30 parameters.
    gmm_d2_k5, d = 2, k = 5, kd = 10, icf = 15, n = 1000
);
objective!(
    /// d = 10, k = 5, n = 1,000: 5 + 50 + 275 = 330 parameters.
    gmm_d10_k5, d = 10, k = 5, kd = 50, icf = 275, n = 1000
);

/// ADBench's `logsumexp_d` (`modules/manual/gmm_d.cpp`), in place as ADBench calls it on
/// `main_term`: `x` becomes ∂ logsumexp / ∂x (the softmax of `x`, computed ADBench's way:
/// shifted by the largest entry, whose partial is corrected by +1 after the division).
/// Returns logsumexp(x).
fn logsumexp_d<const K: usize>(x: &mut [f64; K]) -> f64 {
    // arr_max_idx
    let mut max_elem = 0;
    for i in 1..K {
        if x[max_elem] < x[i] {
            max_elem = i;
        }
    }
    let mx = x[max_elem];
    let mut semx = 0.0;
    for xi in x.iter_mut() {
        *xi = (*xi - mx).exp();
        semx += *xi;
    }
    if semx == 0.0 {
        x.fill(0.0);
    } else {
        x[max_elem] -= semx;
        for xi in x.iter_mut() {
            *xi /= semx;
        }
    }
    x[max_elem] += 1.0;
    semx.ln() + mx
}

/// ADBench's Manual gradient (`modules/manual/gmm_d.cpp`, `gmm_objective_d`), ported: one
/// pass over the points; for each point and component, Q·(x − μ) (`Qtimesx`), the mean's
/// partial Qᵀ·Q·(x − μ) (`Qtransposetimesx`), the partials of the log-diagonal
/// (`compute_q_inner_term`) and of the lower triangle (`compute_L_inner_term`), then the
/// softmax of the component terms (`logsumexp_d`) weights their accumulation; the alphas'
/// logsumexp and the Wishart prior are added at the end. Fixed-size stack arrays where
/// ADBench allocates its `vector`s once per call; `curr_q_d` and `curr_L_d` share one array
/// per component laid out like `icf` (the log-diagonal first, then the triangle), so the
/// accumulation is one loop. ADBench's function also returns the objective's value; only
/// the gradient is measured here, so the value (`slse`, the prior) is not formed.
pub fn hand_written<const D: usize, const K: usize, const ICF: usize, const P: usize>(
    alphas: &[f64; K],
    means: &[f64],
    icf: &[f64],
    x: &[[f64; D]],
    wishart: Wishart,
) -> Matrix<1, P> {
    debug_assert!(ICF == D * (D + 1) / 2 && P == K + K * D + K * ICF);
    let means: &[[f64; D]; K] = means.as_chunks::<D>().0.try_into().expect("k·d means");
    let icf: &[[f64; ICF]; K] = icf.as_chunks::<ICF>().0.try_into().expect("k·d(d+1)/2 icf");

    // preprocess_qs
    let mut qdiags = [[0.0; D]; K];
    let mut sum_qs = [0.0; K];
    for ik in 0..K {
        for id in 0..D {
            let q = icf[ik][id];
            sum_qs[ik] += q;
            qdiags[ik][id] = q.exp();
        }
    }

    let mut j = [0.0; P];
    let (alphas_d, rest) = j.split_at_mut(K);
    let (means_d, icf_d) = rest.split_at_mut(K * D);
    let means_d = means_d.as_chunks_mut::<D>().0;
    let icf_d = icf_d.as_chunks_mut::<ICF>().0;

    let mut curr_means_d = [[0.0; D]; K];
    let mut curr_icf_d = [[0.0; ICF]; K];
    let mut main_term = [0.0; K];
    let mut xcentered = [0.0; D];
    let mut qxcentered = [0.0; D];
    for curr_x in x {
        for ik in 0..K {
            let qdiag = &qdiags[ik];
            let icf_k = &icf[ik];
            // subtract
            for id in 0..D {
                xcentered[id] = curr_x[id] - means[ik][id];
            }
            // Qtimesx
            for id in 0..D {
                qxcentered[id] = qdiag[id] * xcentered[id];
            }
            let (_, ltri) = icf_k.split_at(D);
            let mut lparams = ltri.iter();
            for (i, &xc) in xcentered.iter().enumerate() {
                for (qx, l) in qxcentered[i + 1..].iter_mut().zip(&mut lparams) {
                    *qx += l * xc;
                }
            }
            // Qtransposetimesx
            let means_d_k = &mut curr_means_d[ik];
            for id in 0..D {
                means_d_k[id] = qdiag[id] * qxcentered[id];
            }
            let mut lparams = ltri.iter();
            for (i, m) in means_d_k.iter_mut().enumerate() {
                for (&qx, l) in qxcentered[i + 1..].iter().zip(&mut lparams) {
                    *m += l * qx;
                }
            }
            // compute_q_inner_term
            let (q_d, l_d) = curr_icf_d[ik].split_at_mut(D);
            for id in 0..D {
                q_d[id] = 1.0 - qdiag[id] * xcentered[id] * qxcentered[id];
            }
            // compute_L_inner_term
            let mut l_d = l_d.iter_mut();
            for (i, &xc) in xcentered.iter().enumerate() {
                for (&qx, l) in qxcentered[i + 1..].iter().zip(&mut l_d) {
                    *l = -xc * qx;
                }
            }
            // sqnorm
            let mut sqnorm = qxcentered[0] * qxcentered[0];
            for q in &qxcentered[1..] {
                sqnorm += q * q;
            }
            main_term[ik] = alphas[ik] + sum_qs[ik] - 0.5 * sqnorm;
        }
        logsumexp_d(&mut main_term);
        for ik in 0..K {
            let w = main_term[ik];
            alphas_d[ik] += w;
            for id in 0..D {
                means_d[ik][id] += curr_means_d[ik][id] * w;
            }
            for i in 0..ICF {
                icf_d[ik][i] += curr_icf_d[ik][i] * w;
            }
        }
    }

    let mut lse_alphas_d = *alphas;
    logsumexp_d(&mut lse_alphas_d);
    let n = x.len() as f64;
    let gamma2 = wishart.gamma * wishart.gamma;
    let m = f64::from(wishart.m);
    for ik in 0..K {
        alphas_d[ik] -= n * lse_alphas_d[ik];
        for id in 0..D {
            icf_d[ik][id] += gamma2 * qdiags[ik][id] * qdiags[ik][id] - m;
        }
        for i in D..ICF {
            icf_d[ik][i] += gamma2 * icf[ik][i];
        }
    }
    Matrix::from_rows([j])
}

/// logsumexp with the max trick, as `gmm.h`'s `logsumexp` (`arr_max` by `fmax`).
fn logsumexp_generic<T: DualNum<Primitive = f64>>(x: &[T]) -> T {
    let mut mx = x[0].clone();
    for xi in &x[1..] {
        if mx.re() < xi.re() {
            mx = xi.clone();
        }
    }
    let mut semx = T::zero();
    for xi in x {
        semx += (xi.clone() - &mx).exp();
    }
    semx.ln() + mx
}

/// The dual-number twin of the objective, `gmm.h` line by line over slices (clones, so that
/// it serves the static duals, which are `Copy`, and the dynamic ones, which are not).
fn objective_generic<T: DualNum<Primitive = f64>, const D: usize, const K: usize>(
    alphas: &[T],
    means: &[T],
    icf: &[T],
    x: &[[f64; D]],
    wishart: Wishart,
) -> T {
    let n = x.len();
    let constant = -(n as f64) * (D as f64) * 0.5 * (2.0 * std::f64::consts::PI).ln();
    let icf_sz = D * (D + 1) / 2;

    let mut qdiags = Vec::with_capacity(K * D);
    let mut sum_qs = Vec::with_capacity(K);
    for ik in 0..K {
        let mut sum_q = T::zero();
        for q in &icf[ik * icf_sz..ik * icf_sz + D] {
            sum_q += q.clone();
            qdiags.push(q.exp());
        }
        sum_qs.push(sum_q);
    }

    let mut xcentered: [T; D] = std::array::from_fn(|_| T::zero());
    let mut qxcentered: [T; D] = std::array::from_fn(|_| T::zero());
    let mut main_term: [T; K] = std::array::from_fn(|_| T::zero());
    let mut slse = T::zero();
    for curr_x in x {
        for ik in 0..K {
            for id in 0..D {
                xcentered[id] = T::from(curr_x[id]) - &means[ik * D + id];
            }
            for id in 0..D {
                qxcentered[id] = qdiags[ik * D + id].clone() * &xcentered[id];
            }
            let mut lparams = icf[ik * icf_sz + D..(ik + 1) * icf_sz].iter();
            for (i, xc) in xcentered.iter().enumerate() {
                for (qx, l) in qxcentered[i + 1..].iter_mut().zip(&mut lparams) {
                    *qx += l.clone() * xc;
                }
            }
            let mut sqnorm = qxcentered[0].clone() * &qxcentered[0];
            for q in &qxcentered[1..] {
                sqnorm += q.clone() * q;
            }
            main_term[ik] = alphas[ik].clone() + &sum_qs[ik] - sqnorm * 0.5;
        }
        slse += logsumexp_generic(&main_term);
    }
    let lse_alphas = logsumexp_generic(alphas);
    let err = slse - lse_alphas * n as f64 + constant;

    // log_wishart_prior
    let wishart_n = D as i32 + wishart.m + 1;
    let c = f64::from(wishart_n) * D as f64 * (wishart.gamma.ln() - 0.5 * 2.0_f64.ln())
        - log_gamma_distrib(0.5 * f64::from(wishart_n), D as f64);
    let mut out = T::zero();
    for ik in 0..K {
        let mut frobenius = T::zero();
        for q in &qdiags[ik * D..(ik + 1) * D] {
            frobenius += q.clone() * q;
        }
        for l in &icf[ik * icf_sz + D..(ik + 1) * icf_sz] {
            frobenius += l.clone() * l;
        }
        out += frobenius * (0.5 * wishart.gamma * wishart.gamma) - sum_qs[ik].clone() * f64::from(wishart.m);
    }
    err + out - K as f64 * c
}

/// A size's inputs, drawn as ADBench's generator draws them.
#[derive(Clone)]
struct Input<const D: usize, const K: usize, const KD: usize, const ICF: usize, const N: usize> {
    alphas: [f64; K],
    means: [f64; KD],
    icf: [f64; ICF],
    x: Box<[[f64; D]; N]>,
    wishart: Wishart,
}

impl<const D: usize, const K: usize, const KD: usize, const ICF: usize, const N: usize>
    Input<D, K, KD, ICF, N>
{
    /// `gmm-data-gen.py`: alphas N(0, 1), means U[0, 1), icf N(0, 1), points N(0, 1),
    /// γ = 1, m = 0.
    fn new(seed: u64) -> Self {
        let mut random = Random::new(seed);
        let alphas = std::array::from_fn(|_| random.normal());
        let means = random.array(0.0, 1.0);
        let icf = std::array::from_fn(|_| random.normal());
        let x: Vec<[f64; D]> = (0..N).map(|_| std::array::from_fn(|_| random.normal())).collect();
        let x = x.into_boxed_slice().try_into().expect("N points");
        Input { alphas, means, icf, x, wishart: Wishart { gamma: 1.0, m: 0 } }
    }

    /// (alphas, means, icf) in the gradient's order.
    fn parameters(&self) -> Vec<f64> {
        [&self.alphas[..], &self.means, &self.icf].concat()
    }
}

type Objective<const D: usize, const K: usize, const KD: usize, const ICF: usize, const N: usize> =
    fn(&[f64; K], &[f64; KD], &[f64; ICF], &[[f64; D]; N], Wishart) -> f64;

/// The objective's gradient by central differences over the flat parameter vector.
fn central_differences<const D: usize, const K: usize, const KD: usize, const ICF: usize, const N: usize>(
    input: &Input<D, K, KD, ICF, N>,
    objective: Objective<D, K, KD, ICF, N>,
) -> Vec<f64> {
    differences::gradient_of_slice(&input.parameters(), |p| {
        let (alphas, rest) = p.split_at(K);
        let (means, icf) = rest.split_at(KD);
        objective(
            alphas.try_into().expect("k alphas"),
            means.try_into().expect("k·d means"),
            icf.try_into().expect("k·d(d+1)/2 icf"),
            &input.x,
            input.wishart,
        )
    })
}

/// Forward mode with static vector duals (P partials on the stack per number).
fn num_dual_static<
    const D: usize,
    const K: usize,
    const KD: usize,
    const ICF: usize,
    const N: usize,
    const P: usize,
>(
    input: &Input<D, K, KD, ICF, N>,
) -> [f64; P] {
    let p: [f64; P] = input.parameters().try_into().expect("P parameters");
    let p = duals::seeded(&p);
    let (alphas, rest) = p.split_at(K);
    let (means, icf) = rest.split_at(KD);
    duals::partials(&objective_generic::<DualSVec64<P>, D, K>(
        alphas,
        means,
        icf,
        &input.x[..],
        input.wishart,
    ))
}

/// Forward mode with dynamic vector duals (the partials on the heap).
fn num_dual_dynamic<const D: usize, const K: usize, const KD: usize, const ICF: usize, const N: usize>(
    input: &Input<D, K, KD, ICF, N>,
) -> Vec<f64> {
    let p = input.parameters();
    let p: Vec<DualDVec64> = duals::seeded_dynamic(&p);
    let (alphas, rest) = p.split_at(K);
    let (means, icf) = rest.split_at(KD);
    duals::partials_dynamic(
        &objective_generic::<_, D, K>(alphas, means, icf, &input.x[..], input.wishart),
        p.len(),
    )
}

/// The variants every size writes alike; the caller adds the hand-written one (whose
/// per-component icf size, d(d + 1)/2, a const generic argument cannot compute from ICF on
/// stable Rust), num-dual and the generated one.
fn case<const D: usize, const K: usize, const KD: usize, const ICF: usize, const N: usize, const P: usize>(
    input: &Input<D, K, KD, ICF, N>,
    objective: Objective<D, K, KD, ICF, N>,
) -> Case {
    Case::new(
        &format!("gmm_d{D}_k{K}"),
        "ADBench GMM log-likelihood",
        &format!("d = {D}, k = {K}, n = {N}"),
        &format!("gradient, {P} parameters"),
    )
    .note(
        "hand-written: ADBench's Manual gradient (gmm_d.cpp), ported. generated vjp: reverse \
         mode does not take this function yet (the running index `lparamsidx` is user code \
         that changes a variable the recomputed loops read; and the loops run over ranges \
         bounded by locals, `let n = 1000` as `gmm.h` has them, while those whose derivative \
         reads what they carry, logsumexp's running maxima and the scratch arrays \
         `xcentered`/`qxcentered`, need a tape, which needs literal or `const` bounds), so \
         `vjp` forms the Jacobian by forward mode and returns Jᵀu: expected, and its count is \
         about the generated Jacobian's",
    )
    // A sum over n = 1,000 points: the objective |F| and the largest gradient entry |g|
    // both grow with n, so the cancellation error of a difference, ε·|F|/h, relative to
    // |g| does not (ε/h ≈ 3.7e-11, |F|/|g| ≈ 10 here: |F| ≈ 4e3 and |g| ≈ 5e2 at d = 2,
    // 4e4 and 4e3 at d = 10); truncation, h²·|F‴|/6, adds the rest. The worst entries
    // differ by 2.5e-10 (d = 2) and 1.6e-9 (d = 10) of 1 + |g|: 1e-7 leaves a 60× margin
    // and is ten times tighter than the suite's default.
    .differences_tolerance(1e-7)
    .variant(Kind::Function, input.clone(), move |i| objective(&i.alphas, &i.means, &i.icf, &i.x, i.wishart))
    .variant(Kind::CentralDifferences, input.clone(), move |i| central_differences(i, objective))
}

fn gmm_d2_k5_case(input: Input<2, 5, 10, 15, 1000>) -> Case {
    let case = case::<2, 5, 10, 15, 1000, 30>(&input, gmm_d2_k5)
        .variant(Kind::HandWritten, input.clone(), |i| {
            hand_written::<2, 5, 3, 30>(&i.alphas, &i.means, &i.icf, &i.x[..], i.wishart)
        })
        // Static duals: 30 partials on the stack are 3.3× fewer instructions than dynamic ones.
        .variant(Kind::NumDual, input.clone(), num_dual_static::<2, 5, 10, 15, 1000, 30>);
    #[cfg(feature = "annotations")]
    let case = case
        .variant(Kind::Generated, input.clone(), |i| {
            gmm_d2_k5_jacobian(&i.alphas, &i.means, &i.icf, &i.x, i.wishart)
        })
        .variant(Kind::Vjp, input, |i| {
            gmm_d2_k5_vjp(&i.alphas, &i.means, &i.icf, &i.x, i.wishart, Vector::from([1.0])).1.transpose()
        });
    case
}

fn gmm_d10_k5_case(input: Input<10, 5, 50, 275, 1000>) -> Case {
    let case = case::<10, 5, 50, 275, 1000, 330>(&input, gmm_d10_k5)
        .variant(Kind::HandWritten, input.clone(), |i| {
            hand_written::<10, 5, 55, 330>(&i.alphas, &i.means, &i.icf, &i.x[..], i.wishart)
        })
        // Dynamic duals: 330 static partials (2.6 kB a number) are no faster (4% more
        // instructions) and would not fit the seeding helper's stack array.
        .variant(Kind::NumDual, input.clone(), num_dual_dynamic);
    #[cfg(feature = "annotations")]
    let case = case
        .variant(Kind::Generated, input.clone(), |i| {
            gmm_d10_k5_jacobian(&i.alphas, &i.means, &i.icf, &i.x, i.wishart)
        })
        .variant(Kind::Vjp, input, |i| {
            gmm_d10_k5_vjp(&i.alphas, &i.means, &i.icf, &i.x, i.wishart, Vector::from([1.0])).1.transpose()
        });
    case
}

pub fn cases() -> Vec<Case> {
    vec![gmm_d2_k5_case(Input::new(0x6A4D_0205)), gmm_d10_k5_case(Input::new(0x6A4D_1005))]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln_gamma_of_half_integers() {
        let expected = [
            (0.5, 0.572_364_942_924_700_1),
            (1.0, 0.0),
            (1.5, -0.120_782_237_635_245_22),
            (2.0, 0.0),
            (5.0, 24.0_f64.ln()),
            (5.5, 3.957_813_967_618_716_5),
        ];
        for (z, ln_gamma) in expected {
            assert!((ln_gamma_half_integer(z) - ln_gamma).abs() < 1e-14, "ln Γ({z})");
        }
    }

    objective!(
        /// ADBench's test instance (`data/gmm/test.txt`): d = 2, k = 3, one point.
        adbench_test_instance, d = 2, k = 3, kd = 6, icf = 9, n = 1
    );

    /// ADBench's own test (`test/cpp/modules/common/GmmTests.cpp`): its instance's objective
    /// and gradient, which every ADBench module must reproduce to 1e-8.
    #[test]
    #[allow(clippy::excessive_precision)] // ADBench's expected values, digit for digit
    fn adbench_test_instance_value_and_gradient() {
        let alphas = [-0.649014, 1.181166, -0.758453];
        let means = [0.092339, 0.186260, 0.345561, 0.396767, 0.538817, 0.419195];
        let icf =
            [0.586443, -0.851887, 0.800321, -1.509405, 0.875874, -0.242790, 0.166813, -1.965419, -1.270071];
        let x = [[1.175171, 2.029160]];
        let wishart = Wishart { gamma: 1.0, m: 0 };
        let expected = [
            1.08662855508652456e-01,
            -7.41270039523898472e-01,
            6.32607184015246071e-01,
            1.11692576532787013e+00,
            1.63333013551455269e-01,
            -2.19989824071193142e-02,
            2.27778292254236098e-01,
            1.20963025612832187e+00,
            -6.06375920733956339e-02,
            2.58529994051162237e+00,
            1.12632694524213789e-01,
            3.85744309849611777e-01,
            7.35180573182305508e-02,
            5.41836362715595232e+00,
            -3.21494409677446469e-01,
            1.71892309775004937e+00,
            8.60091090790866875e-01,
            -9.94640930466322848e-01,
        ];
        let value = adbench_test_instance(&alphas, &means, &icf, &x, wishart);
        assert!((value - 8.07380408004975791).abs() < 1e-8, "objective {value}");
        let hand = hand_written::<2, 3, 3, 18>(&alphas, &means, &icf, &x, wishart);
        #[cfg(feature = "annotations")]
        let generated = adbench_test_instance_jacobian(&alphas, &means, &icf, &x, wishart);
        #[cfg(feature = "annotations")]
        let (vjp_value, vjp) =
            adbench_test_instance_vjp(&alphas, &means, &icf, &x, wishart, Vector::from([1.0]));
        #[cfg(feature = "annotations")]
        assert_eq!(vjp_value, value);
        for (k, e) in expected.iter().enumerate() {
            assert!((hand[(0, k)] - e).abs() < 1e-8, "hand-written entry {k}");
            #[cfg(feature = "annotations")]
            assert!((generated[(0, k)] - e).abs() < 1e-8, "generated entry {k}");
            #[cfg(feature = "annotations")]
            assert!((vjp[k] - e).abs() < 1e-8, "generated vjp entry {k}");
        }
    }

    /// The measured inputs have ADBench's γ = 1 and m = 0, under which the prior's
    /// −m·Σ log diag term vanishes and γ² multiplies by one: every variant again with both.
    #[test]
    fn every_variant_agrees_under_a_general_wishart_prior() {
        let mut input = Input::new(0x6A4D_0205);
        input.wishart = Wishart { gamma: 0.7, m: 3 };
        gmm_d2_k5_case(input).check().unwrap();
    }

    /// The dual-number twin, evaluated on plain floats, is the annotated function.
    #[test]
    fn the_twin_computes_the_objective() {
        let i = Input::<10, 5, 50, 275, 1000>::new(0x6A4D_1005);
        let twin = objective_generic::<f64, 10, 5>(&i.alphas, &i.means, &i.icf, &i.x[..], i.wishart);
        let value = gmm_d10_k5(&i.alphas, &i.means, &i.icf, &i.x, i.wishart);
        assert!((twin - value).abs() <= 1e-12 * value.abs(), "{twin} vs {value}");
    }
}
