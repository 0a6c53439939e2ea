//! Forward kinematics of a planar arm with 6 revolute joints: joint angles `q` to the
//! end-effector's position and orientation `(x, y, φ)`, link lengths constant. Its 3 × 6
//! Jacobian with respect to `q` is what resolved-rate control and inverse kinematics use.

#[cfg(feature = "annotations")]
use jacobian::jacobian;
use jacobian::Matrix;
use num_dual::DualNum;

use crate::random::Random;
use crate::{differences, duals, Case, Kind};

/// The link lengths (metres), shoulder to wrist.
const LENGTHS: [f64; 6] = [0.9, 0.75, 0.6, 0.45, 0.3, 0.15];

/// The end-effector `(x, y, φ)`: each link turns by its joint's angle relative to the
/// previous one, so link `i` points at `θᵢ = q₀ + … + qᵢ`.
#[cfg_attr(feature = "annotations", jacobian(wrt(q)))]
pub fn planar_arm(q: [f64; 6], lengths: &[f64; 6]) -> [f64; 3] {
    let mut angle = 0.0;
    let mut x = 0.0;
    let mut y = 0.0;
    for i in 0..6 {
        angle += q[i];
        x += lengths[i] * angle.cos();
        y += lengths[i] * angle.sin();
    }
    [x, y, angle]
}

/// The textbook Jacobian in O(n): joint `j` turns every link from `j` on, so column `j`
/// of the position rows is `(−Σ_{i≥j} lᵢ sin θᵢ, Σ_{i≥j} lᵢ cos θᵢ)`, suffix sums of the
/// links' components (one `sin_cos` per joint); the orientation row is all ones.
pub fn hand_written(q: [f64; 6], lengths: &[f64; 6]) -> Matrix<3, 6> {
    let mut dx = [0.0; 6];
    let mut dy = [0.0; 6];
    let mut angle = 0.0;
    for i in 0..6 {
        angle += q[i];
        let (sin, cos) = angle.sin_cos();
        dx[i] = -lengths[i] * sin;
        dy[i] = lengths[i] * cos;
    }
    for i in (0..5).rev() {
        dx[i] += dx[i + 1];
        dy[i] += dy[i + 1];
    }
    Matrix::from_rows([dx, dy, [1.0; 6]])
}

fn planar_arm_generic<D: DualNum<Primitive = f64> + Copy>(q: [D; 6], lengths: &[f64; 6]) -> [D; 3] {
    let mut angle = D::zero();
    let mut x = D::zero();
    let mut y = D::zero();
    for i in 0..6 {
        angle += q[i];
        x += angle.cos() * lengths[i];
        y += angle.sin() * lengths[i];
    }
    [x, y, angle]
}

pub fn num_dual(q: [f64; 6], lengths: &[f64; 6]) -> Matrix<3, 6> {
    duals::jacobian(&planar_arm_generic(duals::seeded(&q), lengths))
}

pub fn central_differences(q: [f64; 6], lengths: &[f64; 6]) -> Matrix<3, 6> {
    differences::jacobian(&q, |q| planar_arm(*q, lengths))
}

pub fn cases() -> Vec<Case> {
    let q: [f64; 6] = Random::new(0x6a_0147).array(-std::f64::consts::PI / 2.0, std::f64::consts::PI / 2.0);
    let input = (q, LENGTHS);
    let case = Case::new("planar_arm_6", "planar arm, 6 joints (loop)", "n = 6, m = 3", "Jacobian 3 × 6")
        .variant(Kind::Function, input, |(q, l)| planar_arm(*q, l))
        .variant(Kind::HandWritten, input, |(q, l)| hand_written(*q, l))
        .variant(Kind::NumDual, input, |(q, l)| num_dual(*q, l))
        .variant(Kind::CentralDifferences, input, |(q, l)| central_differences(*q, l));
    #[cfg(feature = "annotations")]
    let case = case.variant(Kind::Generated, input, |(q, l)| planar_arm_jacobian(*q, l));
    vec![case]
}
