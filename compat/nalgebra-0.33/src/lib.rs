//! Functions annotated with `#[jacobian]` whose signatures use nalgebra 0.33, the oldest
//! version API.md promises; `tests/` checks their siblings. The main test suite uses the
//! newest version (`tests/nalgebra.rs` at the repository root).

use jacobian::jacobian;
use nalgebra::{Matrix2x3, SVector, Vector2, Vector3};

/// The range and bearing of landmark `l` seen from pose `x = (x, y, θ)`.
#[jacobian(wrt(x), value)]
pub fn range_bearing(x: SVector<f64, 3>, l: &Vector2<f64>) -> SVector<f64, 2> {
    let dx = l.x - x.x;
    let dy = l.y - x.y;
    Vector2::new((dx * dx + dy * dy).sqrt(), dy.atan2(dx) - x.z)
}

/// A layer `tanh(W·x)`, differentiated with respect to `x`.
#[jacobian(wrt(x), jvp, vjp)]
pub fn layer(w: &Matrix2x3<f64>, x: Vector3<f64>) -> Vector2<f64> {
    (w * x).map(f64::tanh)
}

/// A scalar energy with its Hessian.
#[jacobian(value, hessian)]
pub fn energy(q: Vector3<f64>) -> f64 {
    q.norm_squared() + q.x * q.y
}
