//! The siblings of nalgebra-0.33-typed functions return that nalgebra's matrices, with
//! entries checked against closed forms.

use jacobian_compat_nalgebra_033::*;
use nalgebra::{Matrix2x3, Matrix3, RowVector3, SMatrix, Vector2, Vector3};

#[test]
fn range_bearing_in_closed_form() {
    let (x, l) = (Vector3::new(1.0, 2.0, 0.3), Vector2::new(4.0, 6.0));
    let (value, j): (Vector2<f64>, SMatrix<f64, 2, 3>) = range_bearing_value_and_jacobian(x, &l);
    assert_eq!(value, range_bearing(x, &l));
    // dx = 3, dy = 4, r = 5.
    let expected = SMatrix::<f64, 2, 3>::new(-0.6, -0.8, 0.0, 4.0 / 25.0, -3.0 / 25.0, -1.0);
    assert!((j - expected).norm() < 1e-15, "{j} ≠ {expected}");
}

#[test]
fn layer_products() {
    let w = Matrix2x3::new(0.1, -0.2, 0.3, 0.4, 0.5, -0.6);
    let x = Vector3::new(1.0, 0.5, -1.0);
    let j = layer_jacobian(&w, x);
    let d = (w * x).map(|t| 1.0 - t.tanh().powi(2));
    for i in 0..2 {
        for k in 0..3 {
            assert!((j[(i, k)] - d[i] * w[(i, k)]).abs() < 1e-15);
        }
    }
    let v = Vector3::new(1.0, 2.0, 3.0);
    let u = Vector2::new(-1.0, 0.5);
    assert!((layer_jvp(&w, x, v).1 - j * v).norm() < 1e-14);
    assert!((layer_vjp(&w, x, u).1 - j.transpose() * u).norm() < 1e-14);
}

#[test]
fn energy_hessian_in_closed_form() {
    let q = Vector3::new(1.0, 2.0, 3.0);
    let (value, g, h): (f64, RowVector3<f64>, Matrix3<f64>) = energy_value_gradient_hessian(q);
    assert_eq!(value, 16.0);
    assert_eq!(g, RowVector3::new(4.0, 5.0, 6.0));
    assert_eq!(h, Matrix3::new(2.0, 1.0, 0.0, 1.0, 2.0, 0.0, 0.0, 0.0, 2.0));
    assert_eq!(energy_hessian(q), h);
}
