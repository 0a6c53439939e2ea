//! ADBench's bundle-adjustment reprojection error (`computeReprojError` in
//! `src/cpp/shared/ba.h` of microsoft/ADBench) and its 2 × 15 Jacobian with respect to the
//! camera (11: Rodrigues rotation 3, centre 3, focal 1, principal point 2, radial
//! distortion 2), the point (3) and the weight (1). The separate weight error `1 − w²` and
//! its 1 × 1 derivative are not measured.
//!
//! Two cases compute the same thing: `ba_one_body` as one annotated function with the
//! rotation, distortion and projection inlined by hand, `ba_helpers` as ADBench factors it,
//! from annotated helpers (`sqsum`, `cross`, `rodrigues_rotate_point`, `radial_distort`,
//! `project`) called by the top function. The hand-written variant of both is ADBench's
//! Manual Jacobian (`src/cpp/modules/manual/ba_d.cpp`), ported.
//!
//! Both functions have ADBench's small-angle branch (`θ² = 0`: `R·p ≈ p + r × p`); the
//! measured point has a rotation of a few tenths of a radian, so the normal branch is the
//! one measured and checked (the harness checks one point per case).

#[cfg(feature = "annotations")]
use jacobian::jacobian;
use jacobian::Matrix;
use num_dual::{DualNum, DualSVec64};

use crate::random::Random;
use crate::{differences, duals, Case, Kind};

/// The point of a case: camera, 3-D point, weight and observed feature.
#[derive(Clone, Debug)]
pub struct Observation {
    pub cam: [f64; 11],
    pub x: [f64; 3],
    pub w: f64,
    pub feat: [f64; 2],
}

// ---------------------------------------------------------------------------------------
// One body
// ---------------------------------------------------------------------------------------

/// ADBench's reprojection error written as one function: `Xcam = R(r)·(X − C)` by
/// Rodrigues' formula (with ADBench's small-angle branch), `p = Xcam[0..2] / Xcam[2]`,
/// radial distortion `p·(1 + κ₁ r² + κ₂ r⁴)`, then `f·p + x₀`, minus the feature, times `w`.
///
/// `sin` and `cos` are written separately as in ADBench: `theta.sin_cos()`, which a Rust
/// user might write, is refused by the macro ("`sin_cos` is not a differentiable method").
#[cfg_attr(feature = "annotations", jacobian(wrt(cam, x, w)))]
pub fn reprojection_error(cam: [f64; 11], x: [f64; 3], w: f64, feat: &[f64; 2]) -> [f64; 2] {
    let [r0, r1, r2, c0, c1, c2, f, u0, v0, k1, k2] = cam;
    // the point relative to the camera centre
    let p0 = x[0] - c0;
    let p1 = x[1] - c1;
    let p2 = x[2] - c2;
    // Rodrigues: R·p = p cos θ + (n × p) sin θ + n (n·p)(1 − cos θ), n = r / θ
    let sqtheta = r0 * r0 + r1 * r1 + r2 * r2;
    let [q0, q1, q2] = if sqtheta != 0.0 {
        let theta = sqtheta.sqrt();
        let costheta = theta.cos();
        let sintheta = theta.sin();
        let inv = 1.0 / theta;
        let n0 = r0 * inv;
        let n1 = r1 * inv;
        let n2 = r2 * inv;
        let tmp = (n0 * p0 + n1 * p1 + n2 * p2) * (1.0 - costheta);
        [
            p0 * costheta + (n1 * p2 - n2 * p1) * sintheta + n0 * tmp,
            p1 * costheta + (n2 * p0 - n0 * p2) * sintheta + n1 * tmp,
            p2 * costheta + (n0 * p1 - n1 * p0) * sintheta + n2 * tmp,
        ]
    } else {
        // small angle: R·p ≈ p + r × p
        [p0 + (r1 * p2 - r2 * p1), p1 + (r2 * p0 - r0 * p2), p2 + (r0 * p1 - r1 * p0)]
    };
    // perspective division and radial distortion
    let u = q0 / q2;
    let v = q1 / q2;
    let rsq = u * u + v * v;
    let l = 1.0 + k1 * rsq + k2 * rsq * rsq;
    [w * (u * l * f + u0 - feat[0]), w * (v * l * f + v0 - feat[1])]
}

/// The one-body function for dual numbers, written as a `num-dual` user would.
fn reprojection_error_generic<D: DualNum<Primitive = f64> + Copy>(
    cam: [D; 11],
    x: [D; 3],
    w: D,
    feat: &[f64; 2],
) -> [D; 2] {
    let [r0, r1, r2, c0, c1, c2, f, u0, v0, k1, k2] = cam;
    let p0 = x[0] - c0;
    let p1 = x[1] - c1;
    let p2 = x[2] - c2;
    let sqtheta = r0 * r0 + r1 * r1 + r2 * r2;
    let (q0, q1, q2) = if sqtheta.re() != 0.0 {
        let theta = sqtheta.sqrt();
        let (sintheta, costheta) = theta.sin_cos();
        let inv = theta.recip();
        let n0 = r0 * inv;
        let n1 = r1 * inv;
        let n2 = r2 * inv;
        let tmp = (n0 * p0 + n1 * p1 + n2 * p2) * (-costheta + 1.0);
        (
            p0 * costheta + (n1 * p2 - n2 * p1) * sintheta + n0 * tmp,
            p1 * costheta + (n2 * p0 - n0 * p2) * sintheta + n1 * tmp,
            p2 * costheta + (n0 * p1 - n1 * p0) * sintheta + n2 * tmp,
        )
    } else {
        (p0 + (r1 * p2 - r2 * p1), p1 + (r2 * p0 - r0 * p2), p2 + (r0 * p1 - r1 * p0))
    };
    let u = q0 / q2;
    let v = q1 / q2;
    let rsq = u * u + v * v;
    let l = k1 * rsq + k2 * rsq * rsq + 1.0;
    [(u * l * f + u0 - feat[0]) * w, (v * l * f + v0 - feat[1]) * w]
}

// ---------------------------------------------------------------------------------------
// Helper functions, as ba.h factors it
// ---------------------------------------------------------------------------------------

/// `sqsum(n, x)` of ba.h: the sum of squares.
#[cfg_attr(feature = "annotations", jacobian)]
pub fn sqsum<const N: usize>(x: [f64; N]) -> f64 {
    let mut res = 0.0;
    for xi in x {
        res += xi * xi;
    }
    res
}

/// `cross(a, b)` of ADBench's matrix.h.
#[cfg_attr(feature = "annotations", jacobian)]
pub fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
}

/// `rodrigues_rotate_point` of ba.h: `pt` rotated by the angle-axis vector `rot`.
#[cfg_attr(feature = "annotations", jacobian)]
pub fn rodrigues_rotate_point(rot: [f64; 3], pt: [f64; 3]) -> [f64; 3] {
    let sqtheta = sqsum(rot);
    if sqtheta != 0.0 {
        let theta = sqtheta.sqrt();
        let costheta = theta.cos();
        let sintheta = theta.sin();
        let theta_inverse = 1.0 / theta;
        let mut w = [0.0; 3];
        for i in 0..3 {
            w[i] = rot[i] * theta_inverse;
        }
        let w_cross_pt = cross(w, pt);
        let tmp = (w[0] * pt[0] + w[1] * pt[1] + w[2] * pt[2]) * (1.0 - costheta);
        let mut rotated = [0.0; 3];
        for i in 0..3 {
            rotated[i] = pt[i] * costheta + w_cross_pt[i] * sintheta + w[i] * tmp;
        }
        rotated
    } else {
        let rot_cross_pt = cross(rot, pt);
        let mut rotated = [0.0; 3];
        for i in 0..3 {
            rotated[i] = pt[i] + rot_cross_pt[i];
        }
        rotated
    }
}

/// `radial_distort` of ba.h: `proj·(1 + κ₁ r² + κ₂ r⁴)` (ADBench updates `proj` in place;
/// here it is returned).
#[cfg_attr(feature = "annotations", jacobian)]
pub fn radial_distort(rad_params: [f64; 2], proj: [f64; 2]) -> [f64; 2] {
    let rsq = sqsum(proj);
    let l = 1.0 + rad_params[0] * rsq + rad_params[1] * rsq * rsq;
    [proj[0] * l, proj[1] * l]
}

/// `project` of ba.h: the camera's image of `x`.
#[cfg_attr(feature = "annotations", jacobian)]
pub fn project(cam: [f64; 11], x: [f64; 3]) -> [f64; 2] {
    let xo = [x[0] - cam[3], x[1] - cam[4], x[2] - cam[5]];
    let xcam = rodrigues_rotate_point([cam[0], cam[1], cam[2]], xo);
    let proj = [xcam[0] / xcam[2], xcam[1] / xcam[2]];
    let proj = radial_distort([cam[9], cam[10]], proj);
    [proj[0] * cam[6] + cam[7], proj[1] * cam[6] + cam[8]]
}

/// `computeReprojError` of ba.h.
#[cfg_attr(feature = "annotations", jacobian(wrt(cam, x, w)))]
pub fn compute_reproj_error(cam: [f64; 11], x: [f64; 3], w: f64, feat: &[f64; 2]) -> [f64; 2] {
    let proj = project(cam, x);
    [w * (proj[0] - feat[0]), w * (proj[1] - feat[1])]
}

/// The helpers for dual numbers: ba.h's templates, as a `num-dual` user ports them.
mod generic {
    use num_dual::DualNum;

    pub fn sqsum<D: DualNum<Primitive = f64> + Copy, const N: usize>(x: &[D; N]) -> D {
        x.iter().fold(D::zero(), |res, &xi| res + xi * xi)
    }

    pub fn cross<D: DualNum<Primitive = f64> + Copy>(a: &[D; 3], b: &[D; 3]) -> [D; 3] {
        [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
    }

    pub fn rodrigues_rotate_point<D: DualNum<Primitive = f64> + Copy>(rot: &[D; 3], pt: &[D; 3]) -> [D; 3] {
        let sqtheta = sqsum(rot);
        if sqtheta.re() != 0.0 {
            let theta = sqtheta.sqrt();
            let (sintheta, costheta) = theta.sin_cos();
            let theta_inverse = theta.recip();
            let w = rot.map(|r| r * theta_inverse);
            let w_cross_pt = cross(&w, pt);
            let tmp = (w[0] * pt[0] + w[1] * pt[1] + w[2] * pt[2]) * (-costheta + 1.0);
            std::array::from_fn(|i| pt[i] * costheta + w_cross_pt[i] * sintheta + w[i] * tmp)
        } else {
            let rot_cross_pt = cross(rot, pt);
            std::array::from_fn(|i| pt[i] + rot_cross_pt[i])
        }
    }

    pub fn radial_distort<D: DualNum<Primitive = f64> + Copy>(rad_params: &[D; 2], proj: &[D; 2]) -> [D; 2] {
        let rsq = sqsum(proj);
        let l = rad_params[0] * rsq + rad_params[1] * rsq * rsq + 1.0;
        [proj[0] * l, proj[1] * l]
    }

    pub fn project<D: DualNum<Primitive = f64> + Copy>(cam: &[D; 11], x: &[D; 3]) -> [D; 2] {
        let xo = [x[0] - cam[3], x[1] - cam[4], x[2] - cam[5]];
        let xcam = rodrigues_rotate_point(&[cam[0], cam[1], cam[2]], &xo);
        let proj = [xcam[0] / xcam[2], xcam[1] / xcam[2]];
        let proj = radial_distort(&[cam[9], cam[10]], &proj);
        [proj[0] * cam[6] + cam[7], proj[1] * cam[6] + cam[8]]
    }

    pub fn compute_reproj_error<D: DualNum<Primitive = f64> + Copy>(
        cam: &[D; 11],
        x: &[D; 3],
        w: D,
        feat: &[f64; 2],
    ) -> [D; 2] {
        let proj = project(cam, x);
        [w * (proj[0] - feat[0]), w * (proj[1] - feat[1])]
    }
}

// ---------------------------------------------------------------------------------------
// Hand-written: ADBench's Manual Jacobian (src/cpp/modules/manual/ba_d.cpp), ported
// ---------------------------------------------------------------------------------------

type M3 = [[f64; 3]; 3];

/// The cross-product matrix `[v]×` (`[v]× a = v × a`), ba_d.cpp's `set_cross_mat`.
#[inline]
fn cross_mat(v: &[f64; 3]) -> M3 {
    [[0.0, -v[2], v[1]], [v[2], 0.0, -v[0]], [-v[1], v[0], 0.0]]
}

/// ba_d.cpp's `rodrigues_rotate_point_d`: the rotated point and its 3 × 3 derivatives
/// with respect to the rotation and to the point.
#[inline]
fn rodrigues_rotate_point_d(rot: &[f64; 3], x: &[f64; 3]) -> ([f64; 3], M3, M3) {
    let sqtheta = rot[0] * rot[0] + rot[1] * rot[1] + rot[2] * rot[2];
    if sqtheta != 0.0 {
        let theta = sqtheta.sqrt();
        let (sintheta, costheta) = theta.sin_cos();
        let theta_inverse = 1.0 / theta;
        let w = rot.map(|r| r * theta_inverse);
        // w_d = ∂w/∂rot = (I − w wᵀ) / θ
        let mut w_d = [[0.0; 3]; 3];
        for i in 0..3 {
            for j in 0..3 {
                w_d[i][j] = -w[i] * w[j] * theta_inverse;
            }
            w_d[i][i] += theta_inverse;
        }
        let w_cross_x = [w[1] * x[2] - w[2] * x[1], w[2] * x[0] - w[0] * x[2], w[0] * x[1] - w[1] * x[0]];
        let w_dot_x = w[0] * x[0] + w[1] * x[1] + w[2] * x[2];
        let one_minus_cos = 1.0 - costheta;
        let tmp = one_minus_cos * w_dot_x;
        // tmp_d = ∂tmp/∂rot = (1 − cos θ) xᵀ w_d + (w·x) sin θ wᵀ
        let ws = w_dot_x * sintheta;
        let tmp_d: [f64; 3] = std::array::from_fn(|j| {
            one_minus_cos * (x[0] * w_d[0][j] + x[1] * w_d[1][j] + x[2] * w_d[2][j]) + ws * w[j]
        });
        let rotated: [f64; 3] =
            std::array::from_fn(|i| costheta * x[i] + sintheta * w_cross_x[i] + tmp * w[i]);
        // ∂/∂rot = (cos θ (w × x) − sin θ x) wᵀ + (tmp I − sin θ [x]×) w_d + w tmp_d
        let mut m = cross_mat(x);
        for (i, row) in m.iter_mut().enumerate() {
            for e in row.iter_mut() {
                *e *= -sintheta;
            }
            row[i] = tmp;
        }
        let acc: [f64; 3] = std::array::from_fn(|i| costheta * w_cross_x[i] - sintheta * x[i]);
        let mut d_rot = [[0.0; 3]; 3];
        for i in 0..3 {
            for j in 0..3 {
                d_rot[i][j] = acc[i] * w[j]
                    + (m[i][0] * w_d[0][j] + m[i][1] * w_d[1][j] + m[i][2] * w_d[2][j])
                    + w[i] * tmp_d[j];
            }
        }
        // ∂/∂x = sin θ [w]× + (1 − cos θ) w wᵀ + cos θ I
        let mut d_x = cross_mat(&w);
        for i in 0..3 {
            let wi = one_minus_cos * w[i];
            for j in 0..3 {
                d_x[i][j] = d_x[i][j] * sintheta + wi * w[j];
            }
            d_x[i][i] += costheta;
        }
        (rotated, d_rot, d_x)
    } else {
        let mut d_rot = cross_mat(x);
        for row in d_rot.iter_mut() {
            for e in row.iter_mut() {
                *e = -*e;
            }
        }
        let mut d_x = cross_mat(rot);
        let rotated: [f64; 3] =
            std::array::from_fn(|i| x[i] + d_x[i][0] * x[0] + d_x[i][1] * x[1] + d_x[i][2] * x[2]);
        for (i, row) in d_x.iter_mut().enumerate() {
            row[i] += 1.0;
        }
        (rotated, d_rot, d_x)
    }
}

/// ADBench's Manual `compute_reproj_error_d` (with `project_d` and `radial_distort_d`
/// inlined in the same order), ported. One change an expert makes: the factors `f` and `w`
/// are folded once into the 2 × 3 derivative of the distorted projection before it is
/// multiplied into the rotation and point blocks, where ADBench scales the 2 × 14 result
/// by `f` and then by `w`.
pub fn hand_written(cam: &[f64; 11], x: &[f64; 3], w: f64, feat: &[f64; 2]) -> Matrix<2, 15> {
    let rot = [cam[0], cam[1], cam[2]];
    let xo = [x[0] - cam[3], x[1] - cam[4], x[2] - cam[5]];
    let f = cam[6];
    let (k1, k2) = (cam[9], cam[10]);

    let (xcam, rodri_rot_d, rodri_xo_d) = rodrigues_rotate_point_d(&rot, &xo);

    // p2e
    let inv_z = 1.0 / xcam[2];
    let proj = [xcam[0] * inv_z, xcam[1] * inv_z];

    // radial_distort_d
    let rsq = proj[0] * proj[0] + proj[1] * proj[1];
    let l = 1.0 + k1 * rsq + k2 * rsq * rsq;
    let coef = 2.0 * k1 + 4.0 * k2 * rsq;
    let distort_proj_d = [
        [coef * proj[0] * proj[0] + l, coef * proj[0] * proj[1]],
        [coef * proj[1] * proj[0], coef * proj[1] * proj[1] + l],
    ];
    let distorted = [proj[0] * l, proj[1] * l];

    // ∂(distorted)/∂xcam, scaled by w f: the projection's derivative is
    // [[1/z, 0, −x/z²], [0, 1/z, −y/z²]]
    let wf = w * f;
    let s = wf * inv_z;
    let right = [-proj[0], -proj[1]];
    let mut a = [[0.0; 3]; 2];
    for i in 0..2 {
        a[i][0] = distort_proj_d[i][0] * s;
        a[i][1] = distort_proj_d[i][1] * s;
        a[i][2] = (distort_proj_d[i][0] * right[0] + distort_proj_d[i][1] * right[1]) * s;
    }

    let mut j = [[0.0; 15]; 2];
    for i in 0..2 {
        let row = &mut j[i];
        for k in 0..3 {
            // rotation
            row[k] = a[i][0] * rodri_rot_d[0][k] + a[i][1] * rodri_rot_d[1][k] + a[i][2] * rodri_rot_d[2][k];
            // point, and the centre with the opposite sign
            let d = a[i][0] * rodri_xo_d[0][k] + a[i][1] * rodri_xo_d[1][k] + a[i][2] * rodri_xo_d[2][k];
            row[11 + k] = d;
            row[3 + k] = -d;
        }
        row[6] = w * distorted[i];
        row[7 + i] = w;
        let rad = wf * rsq * proj[i];
        row[9] = rad;
        row[10] = rad * rsq;
        row[14] = distorted[i] * f + cam[7 + i] - feat[i];
    }
    Matrix::from_rows(j)
}

// ---------------------------------------------------------------------------------------
// num-dual and central differences
// ---------------------------------------------------------------------------------------

fn seeded(
    cam: &[f64; 11],
    x: &[f64; 3],
    w: f64,
) -> ([DualSVec64<15>; 11], [DualSVec64<15>; 3], DualSVec64<15>) {
    let all = duals::seeded(&pack(cam, x, w));
    (std::array::from_fn(|k| all[k]), std::array::from_fn(|k| all[11 + k]), all[14])
}

pub fn num_dual_one_body(cam: &[f64; 11], x: &[f64; 3], w: f64, feat: &[f64; 2]) -> Matrix<2, 15> {
    let (cam, x, w) = seeded(cam, x, w);
    duals::jacobian(&reprojection_error_generic(cam, x, w, feat))
}

pub fn num_dual_helpers(cam: &[f64; 11], x: &[f64; 3], w: f64, feat: &[f64; 2]) -> Matrix<2, 15> {
    let (cam, x, w) = seeded(cam, x, w);
    duals::jacobian(&generic::compute_reproj_error(&cam, &x, w, feat))
}

fn pack(cam: &[f64; 11], x: &[f64; 3], w: f64) -> [f64; 15] {
    std::array::from_fn(|k| match k {
        0..=10 => cam[k],
        11..=13 => x[k - 11],
        _ => w,
    })
}

fn unpack(p: &[f64; 15]) -> ([f64; 11], [f64; 3], f64) {
    (std::array::from_fn(|k| p[k]), [p[11], p[12], p[13]], p[14])
}

/// The signature of both functions.
type Reprojection = fn([f64; 11], [f64; 3], f64, &[f64; 2]) -> [f64; 2];

pub fn central_differences(
    cam: &[f64; 11],
    x: &[f64; 3],
    w: f64,
    feat: &[f64; 2],
    f: Reprojection,
) -> Matrix<2, 15> {
    differences::jacobian(&pack(cam, x, w), |p| {
        let (cam, x, w) = unpack(p);
        f(cam, x, w, feat)
    })
}

// ---------------------------------------------------------------------------------------
// Inputs and cases
// ---------------------------------------------------------------------------------------

/// A realistic observation (magnitudes as in ADBench's `data/ba` and real bundle
/// adjustment problems): rotation components in ±0.5 rad, centre within ±50, focal
/// length 400–1500 px, principal point within ±10 px, small radial distortion, a point
/// 5–50 units in front of the camera inside a ±0.5 normalised field of view, the feature
/// its projection plus about a pixel of noise, and a weight around 1.
pub fn observation(seed: u64) -> Observation {
    let mut random = Random::new(seed);
    let rot: [f64; 3] = random.array(-0.5, 0.5);
    let centre: [f64; 3] = random.array(-50.0, 50.0);
    let f = random.uniform(400.0, 1500.0);
    let x0: [f64; 2] = random.array(-10.0, 10.0);
    let kappa = [random.uniform(-0.1, 0.1), random.uniform(-0.01, 0.01)];
    let cam = [rot[0], rot[1], rot[2], centre[0], centre[1], centre[2], f, x0[0], x0[1], kappa[0], kappa[1]];
    // the point in camera coordinates, moved to world coordinates by Rᵀ = R(−r)
    let z = random.uniform(5.0, 50.0);
    let in_camera = [random.uniform(-0.5, 0.5) * z, random.uniform(-0.5, 0.5) * z, z];
    let back = rodrigues_rotate_point(rot.map(|r| -r), in_camera);
    let x = [centre[0] + back[0], centre[1] + back[1], centre[2] + back[2]];
    let projected = project(cam, x);
    let feat = [projected[0] + random.normal(), projected[1] + random.normal()];
    let w = random.uniform(0.5, 1.5);
    Observation { cam, x, w, feat }
}

pub fn cases() -> Vec<Case> {
    let input = observation(0xBA_2019);
    let size = "camera 11, point 3, weight 1";
    let derivative = "Jacobian 2 × 15";
    let note = "hand-written: ADBench's Manual Jacobian (ba_d.cpp), ported";

    let one_body = Case::new("ba_one_body", "ADBench bundle adjustment, one body", size, derivative)
        .note(note)
        .variant(Kind::Function, input.clone(), |o| reprojection_error(o.cam, o.x, o.w, &o.feat))
        .variant(Kind::HandWritten, input.clone(), |o| hand_written(&o.cam, &o.x, o.w, &o.feat))
        .variant(Kind::NumDual, input.clone(), |o| num_dual_one_body(&o.cam, &o.x, o.w, &o.feat))
        .variant(Kind::CentralDifferences, input.clone(), |o| {
            central_differences(&o.cam, &o.x, o.w, &o.feat, reprojection_error)
        });
    #[cfg(feature = "annotations")]
    let one_body = one_body
        .variant(Kind::Generated, input.clone(), |o| reprojection_error_jacobian(o.cam, o.x, o.w, &o.feat));

    let helpers = Case::new("ba_helpers", "ADBench bundle adjustment, helper functions", size, derivative)
        .note(note)
        .variant(Kind::Function, input.clone(), |o| compute_reproj_error(o.cam, o.x, o.w, &o.feat))
        .variant(Kind::HandWritten, input.clone(), |o| hand_written(&o.cam, &o.x, o.w, &o.feat))
        .variant(Kind::NumDual, input.clone(), |o| num_dual_helpers(&o.cam, &o.x, o.w, &o.feat))
        .variant(Kind::CentralDifferences, input.clone(), |o| {
            central_differences(&o.cam, &o.x, o.w, &o.feat, compute_reproj_error)
        });
    #[cfg(feature = "annotations")]
    let helpers =
        helpers.variant(Kind::Generated, input, |o| compute_reproj_error_jacobian(o.cam, o.x, o.w, &o.feat));

    vec![one_body, helpers]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Flat;

    #[test]
    fn variants_agree() {
        for case in cases() {
            case.check().unwrap();
        }
    }

    /// The measured point exercises the normal branch, with the point in front of the camera.
    #[test]
    fn the_measured_point_is_realistic() {
        let o = observation(0xBA_2019);
        let theta = (o.cam[0] * o.cam[0] + o.cam[1] * o.cam[1] + o.cam[2] * o.cam[2]).sqrt();
        assert!(theta > 0.05, "θ = {theta}");
        let xo = [o.x[0] - o.cam[3], o.x[1] - o.cam[4], o.x[2] - o.cam[5]];
        assert!(rodrigues_rotate_point([o.cam[0], o.cam[1], o.cam[2]], xo)[2] > 1.0);
        let one = reprojection_error(o.cam, o.x, o.w, &o.feat);
        let two = compute_reproj_error(o.cam, o.x, o.w, &o.feat);
        assert!((one[0] - two[0]).abs() < 1e-9 && (one[1] - two[1]).abs() < 1e-9);
    }

    /// The small-angle branch (θ² = 0), which the cases do not measure: all variants agree
    /// with the hand-written Jacobian there too.
    #[test]
    fn small_angle_branch() {
        let mut o = observation(0xBA_2019);
        o.cam[0] = 0.0;
        o.cam[1] = 0.0;
        o.cam[2] = 0.0;
        let expected = hand_written(&o.cam, &o.x, o.w, &o.feat).flat();
        let close = |j: Matrix<2, 15>, tolerance: f64| {
            let scale = expected.iter().fold(0.0_f64, |m, e| m.max(e.abs()));
            for (a, b) in j.flat().iter().zip(&expected) {
                assert!((a - b).abs() <= tolerance * (1.0 + scale), "{j}\nvs\n{expected:?}");
            }
        };
        close(num_dual_one_body(&o.cam, &o.x, o.w, &o.feat), 1e-12);
        close(num_dual_helpers(&o.cam, &o.x, o.w, &o.feat), 1e-12);
        #[cfg(feature = "annotations")]
        {
            close(reprojection_error_jacobian(o.cam, o.x, o.w, &o.feat), 1e-12);
            close(compute_reproj_error_jacobian(o.cam, o.x, o.w, &o.feat), 1e-12);
        }
    }
}
