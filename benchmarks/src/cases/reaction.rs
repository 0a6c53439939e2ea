//! The right-hand side of a reaction-chain ODE: a linear pathway of 20 species fed at a
//! constant rate, `→ A₀ → A₁ → … → A₁₉ →`, each step catalysed by an enzyme with
//! Michaelis–Menten kinetics `rᵢ = Vᵢ cᵢ / (Kᵢ + cᵢ)`, so `dcᵢ/dt = rᵢ₋₁ − rᵢ` with
//! `r₋₁` the feed and `r₁₉` the pathway's output. Its 20 × 20 Jacobian with respect to the
//! concentrations (what an implicit ODE solver factors) is lower bidiagonal:
//! `∂rᵢ/∂cᵢ = Vᵢ Kᵢ / (Kᵢ + cᵢ)²` on the diagonal with a minus sign, and below it.

#[cfg(feature = "annotations")]
use jacobian::jacobian;
use jacobian::Matrix;
use num_dual::DualNum;

use crate::random::Random;
use crate::{differences, duals, Case, Kind};

const SPECIES: usize = 20;

/// The kinetic constants.
#[derive(Clone, Copy)]
pub struct Kinetics {
    /// The feed into `A₀`.
    pub feed: f64,
    /// The enzymes' maximal rates `Vᵢ`.
    pub vmax: [f64; SPECIES],
    /// The Michaelis constants `Kᵢ`.
    pub km: [f64; SPECIES],
}

/// The rates first, then the balance of each species: how a right-hand side is written.
#[cfg_attr(feature = "annotations", jacobian(wrt(c)))]
pub fn reaction_chain(c: [f64; SPECIES], k: &Kinetics) -> [f64; SPECIES] {
    let mut rate = [0.0; SPECIES];
    for i in 0..SPECIES {
        rate[i] = k.vmax[i] * c[i] / (k.km[i] + c[i]);
    }
    let mut dc = [0.0; SPECIES];
    dc[0] = k.feed - rate[0];
    for i in 1..SPECIES {
        dc[i] = rate[i - 1] - rate[i];
    }
    dc
}

/// Only the non-zeros: one division per species for `∂rᵢ/∂cᵢ = Vᵢ Kᵢ / (Kᵢ + cᵢ)²`, stored
/// with a minus sign on the diagonal and as it is below it.
pub fn hand_written(c: &[f64; SPECIES], k: &Kinetics) -> Matrix<SPECIES, SPECIES> {
    let mut j = Matrix::<SPECIES, SPECIES>::zeros();
    for i in 0..SPECIES {
        let s = 1.0 / (k.km[i] + c[i]);
        let d = k.vmax[i] * k.km[i] * s * s;
        j[(i, i)] = -d;
        if i + 1 < SPECIES {
            j[(i + 1, i)] = d;
        }
    }
    j
}

fn reaction_chain_generic<D: DualNum<Primitive = f64> + Copy>(
    c: &[D; SPECIES],
    k: &Kinetics,
) -> [D; SPECIES] {
    let rate: [D; SPECIES] = std::array::from_fn(|i| c[i] * k.vmax[i] / (c[i] + k.km[i]));
    let mut dc = [D::zero(); SPECIES];
    dc[0] = -rate[0] + k.feed;
    for i in 1..SPECIES {
        dc[i] = rate[i - 1] - rate[i];
    }
    dc
}

pub fn num_dual(c: &[f64; SPECIES], k: &Kinetics) -> Matrix<SPECIES, SPECIES> {
    duals::jacobian(&reaction_chain_generic(&duals::seeded(c), k))
}

pub fn central_differences(c: &[f64; SPECIES], k: &Kinetics) -> Matrix<SPECIES, SPECIES> {
    differences::jacobian(c, |c| reaction_chain(*c, k))
}

pub fn cases() -> Vec<Case> {
    let mut random = Random::new(0x4e_0020);
    let kinetics = Kinetics { feed: 1.0, vmax: random.array(1.0, 3.0), km: random.array(0.2, 1.0) };
    let c: [f64; SPECIES] = random.array(0.1, 2.0);
    let input = (c, kinetics);
    let case = Case::new(
        "reaction_chain_20",
        "reaction chain ODE right-hand side",
        "n = m = 20",
        "Jacobian 20 × 20 (bidiagonal)",
    )
    .variant(Kind::Function, input, |(c, k)| reaction_chain(*c, k))
    .variant(Kind::HandWritten, input, |(c, k)| hand_written(c, k))
    .variant(Kind::NumDual, input, |(c, k)| num_dual(c, k))
    .variant(Kind::CentralDifferences, input, |(c, k)| central_differences(c, k));
    #[cfg(feature = "annotations")]
    let case = case.variant(Kind::Generated, input, |(c, k)| reaction_chain_jacobian(*c, k));
    vec![case]
}
