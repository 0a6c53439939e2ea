//! Generated code in a user's crate: no warnings under `deny(warnings)` and clippy's
//! pedantic set (CI lints this file), no clashes with user names that look like the
//! macro's temporaries, and it works inside `macro_rules!`, in `impl` blocks, with doc
//! comments and other attributes, and generic over the scalar type.
#![deny(warnings, clippy::all, clippy::pedantic)]

use jacobian::{jacobian, Matrix, Real, Vector};

/// Names the macro also likes to use for its temporaries.
#[jacobian]
fn clashing_names(t: f64, ds: [f64; 2]) -> [f64; 2] {
    let t_1 = t * ds[0];
    let c = t_1.sin();
    let row = c * ds[1];
    let jacobian = row + t;
    let k = 1;
    let value = ds[k] * jacobian;
    [value, t_1]
}

#[test]
fn user_names_that_look_like_temporaries_do_not_clash() {
    let (t, d0, d1) = (0.7, -1.3, 2.1);
    let j = clashing_names_jacobian(t, [d0, d1]);
    // Hand-derived: t1 = t·d0, c = sin t1, row = c·d1, jac = row + t, value = d1·jac.
    let (t1, cos) = (t * d0, (t * d0).cos());
    let d_jac = [cos * d0 * d1 + 1.0, cos * t * d1, t1.sin()];
    let jac = t1.sin() * d1 + t;
    let expected = Matrix::from_rows([[d1 * d_jac[0], d1 * d_jac[1], d1 * d_jac[2] + jac], [d0, t, 0.0]]);
    approx::assert_relative_eq!(j, expected, max_relative = 1e-14);
}

macro_rules! polynomial {
    ($name:ident, $a:expr, $b:expr) => {
        #[jacobian]
        fn $name(x: f64) -> f64 {
            $a * x * x + $b * x
        }
    };
}

polynomial!(quadratic, 3.0, -2.0);

#[test]
fn works_inside_macro_rules() {
    assert_eq!(quadratic_jacobian(2.0), Matrix::from_rows([[10.0]]));
}

struct Pendulum {
    gravity: f64,
    length: f64,
}

impl Pendulum {
    /// The right-hand side of θ'' = −(g/L) sin θ.
    #[jacobian]
    #[inline]
    #[must_use]
    fn rhs(&self, state: [f64; 2]) -> [f64; 2] {
        [state[1], -(self.gravity / self.length) * state[0].sin()]
    }

    /// An associated function without `self`.
    #[jacobian(name = energy_gradient)]
    #[cfg(test)]
    fn energy(theta: f64, omega: f64) -> f64 {
        0.5 * omega * omega - theta.cos()
    }
}

#[test]
fn works_on_methods_and_associated_functions_with_attributes() {
    let p = Pendulum { gravity: 9.81, length: 2.0 };
    let j = p.rhs_jacobian([0.3, -0.1]);
    let expected = Matrix::from_rows([[0.0, 1.0], [-(9.81 / 2.0) * 0.3_f64.cos(), 0.0]]);
    approx::assert_relative_eq!(j, expected, max_relative = 1e-15);
    let g = Pendulum::energy_gradient(0.3, -0.1);
    approx::assert_relative_eq!(g, Matrix::from_rows([[0.3_f64.sin(), -0.1]]), max_relative = 1e-15);
}

/// Generic over the scalar: the same function for `f32` and `f64`.
#[jacobian]
fn generic_product<T: Real>(x: T, y: T) -> T {
    x * y + x.sin()
}

#[test]
fn generic_scalar_functions_work_for_f32_and_f64() {
    let j64 = generic_product_jacobian(0.5_f64, 2.0_f64);
    approx::assert_relative_eq!(j64, Matrix::from_rows([[2.0 + 0.5_f64.cos(), 0.5]]), max_relative = 1e-15);
    let j32 = generic_product_jacobian(0.5_f32, 2.0_f32);
    approx::assert_relative_eq!(j32, Matrix::from_rows([[2.0 + 0.5_f32.cos(), 0.5]]), max_relative = 1e-6);
}

mod kinematics {
    use jacobian::jacobian;

    /// A public function in a module keeps its visibility, and so does its Jacobian.
    #[jacobian(value)]
    pub fn arm(q: [f64; 2]) -> [f64; 2] {
        let (l1, l2) = (1.0, 0.5);
        [l1 * q[0].cos() + l2 * (q[0] + q[1]).cos(), l1 * q[0].sin() + l2 * (q[0] + q[1]).sin()]
    }
}

#[test]
fn visibility_is_kept() {
    let (position, j) = kinematics::arm_value_and_jacobian([0.0, 0.0]);
    assert_eq!(position.map(f64::to_bits), kinematics::arm([0.0, 0.0]).map(f64::to_bits));
    assert_eq!(j, Matrix::from_rows([[0.0, 0.0], [1.5, 0.5]]));
}

#[jacobian(wrt(x))]
fn layer(w: &Matrix<2, 2>, x: Vector<2>) -> Vector<2> {
    (w * x).map(f64::tanh)
}

#[test]
fn vector_code_is_clean_too() {
    let w = Matrix::from_rows([[1.0, 0.0], [0.0, 2.0]]);
    let j = layer_jacobian(&w, Vector::from([0.0, 0.0]));
    assert_eq!(j, w);
}

// Diverging arms, comparisons and integer methods whose results the derivative code does
// not use: no `unreachable_code`, `unused_must_use` or unused-comparison warnings.
#[jacobian(jvp, vjp, hessian)]
#[allow(clippy::needless_range_loop, clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
fn diverging_arm(x: [f64; 3], k: usize) -> f64 {
    let mut s = 0.0;
    for j in 0..3 {
        if j != k {
            s += x[j].powi(j as i32 - 1);
        }
    }
    match k {
        0 => s * x[0],
        1 | 2 => s.sin(),
        _ => unreachable!("k is at most 2"),
    }
}

#[test]
fn diverging_arms_compile_cleanly() {
    let (value, jv) = diverging_arm_jvp([1.0, 2.0, 3.0], 1, jacobian::Vector::from([1.0, 0.0, 0.0]));
    assert!((value - diverging_arm([1.0, 2.0, 3.0], 1)).abs() < 1e-15);
    assert!(jv[0].is_finite());
}
