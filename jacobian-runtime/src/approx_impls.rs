//! `approx` 0.5's `AbsDiffEq`, `RelativeEq` and `UlpsEq` for [`Matrix`], entry by
//! entry, so `approx::assert_relative_eq!(j, expected, max_relative = 1e-12)` works
//! on Jacobians. Needs the `approx` feature.

use approx::{AbsDiffEq, RelativeEq, UlpsEq};

use crate::Matrix;

impl<const R: usize, const C: usize, T> Matrix<R, C, T> {
    /// Whether `same` holds for every pair of corresponding entries.
    #[inline]
    fn all_entries(&self, other: &Self, mut same: impl FnMut(&T, &T) -> bool) -> bool {
        self.as_rows().iter().flatten().zip(other.as_rows().iter().flatten()).all(|(a, b)| same(a, b))
    }
}

/// Every entry within `epsilon` of the other's.
///
/// ```
/// use approx::assert_abs_diff_eq;
/// use jacobian_runtime::Matrix;
///
/// let j = Matrix::from_rows([[1.0, 2.0], [3.0, 4.0]]);
/// assert_abs_diff_eq!(j, j + Matrix::from_rows([[1e-9, 0.0], [0.0, -1e-9]]), epsilon = 1e-8);
/// ```
impl<const R: usize, const C: usize, T> AbsDiffEq for Matrix<R, C, T>
where
    T: AbsDiffEq,
    T::Epsilon: Copy,
{
    type Epsilon = T::Epsilon;

    #[inline]
    fn default_epsilon() -> T::Epsilon {
        T::default_epsilon()
    }

    #[inline]
    fn abs_diff_eq(&self, other: &Self, epsilon: T::Epsilon) -> bool {
        self.all_entries(other, |a, b| a.abs_diff_eq(b, epsilon))
    }
}

/// Every entry within `max_relative` (relative to the larger of the two) or `epsilon`
/// (absolute) of the other's: the usual way to compare a Jacobian with a reference.
///
/// ```
/// use approx::{assert_relative_eq, relative_ne};
/// use jacobian_runtime::Vector;
///
/// let g = Vector::from([1.0, 1e6]);
/// assert_relative_eq!(g, Vector::from([1.0 + 1e-13, 1e6 + 1e-7]), max_relative = 1e-12);
/// assert!(relative_ne!(g, Vector::from([1.0, 1.0001e6]), max_relative = 1e-12));
/// ```
impl<const R: usize, const C: usize, T> RelativeEq for Matrix<R, C, T>
where
    T: RelativeEq,
    T::Epsilon: Copy,
{
    #[inline]
    fn default_max_relative() -> T::Epsilon {
        T::default_max_relative()
    }

    #[inline]
    fn relative_eq(&self, other: &Self, epsilon: T::Epsilon, max_relative: T::Epsilon) -> bool {
        self.all_entries(other, |a, b| a.relative_eq(b, epsilon, max_relative))
    }
}

/// Every entry within `max_ulps` units in the last place (or `epsilon`) of the
/// other's.
///
/// ```
/// use approx::assert_ulps_eq;
/// use jacobian_runtime::Vector;
///
/// assert_ulps_eq!(Vector::from([0.1 + 0.2, 1.0]), Vector::from([0.3, 1.0]), max_ulps = 1);
/// ```
impl<const R: usize, const C: usize, T> UlpsEq for Matrix<R, C, T>
where
    T: UlpsEq,
    T::Epsilon: Copy,
{
    #[inline]
    fn default_max_ulps() -> u32 {
        T::default_max_ulps()
    }

    #[inline]
    fn ulps_eq(&self, other: &Self, epsilon: T::Epsilon, max_ulps: u32) -> bool {
        self.all_entries(other, |a, b| a.ulps_eq(b, epsilon, max_ulps))
    }
}

#[cfg(test)]
mod tests {
    use approx::{
        assert_abs_diff_eq, assert_relative_eq, assert_relative_ne, assert_ulps_eq, AbsDiffEq, RelativeEq,
        UlpsEq,
    };

    use crate::{Matrix, Vector};

    const SEED: Matrix<2, 2> = Matrix::from_rows([[1.0, 1.0], [2.0, -1.0]]);

    #[test]
    fn relative_eq_compares_every_entry() {
        let nudged = Matrix::from_rows([[1.0 + 1e-14, 1.0], [2.0, -1.0 - 1e-14]]);
        assert_relative_eq!(nudged, SEED, max_relative = 1e-12);
        assert_relative_ne!(nudged, SEED, max_relative = 1e-16);
        let off = Matrix::from_rows([[1.0, 1.0], [2.0, -1.001]]);
        assert!(!off.relative_eq(&SEED, f64::EPSILON, 1e-6));
        assert!(off.relative_eq(&SEED, f64::EPSILON, 1e-2));
    }

    #[test]
    fn abs_diff_eq_uses_the_entry_epsilon() {
        assert_eq!(Matrix::<2, 2>::default_epsilon(), f64::EPSILON);
        assert_eq!(Vector::<3, f32>::default_epsilon(), f32::EPSILON);
        let v = Vector::from([0.1_f32 + 0.2, 1.0]);
        assert_abs_diff_eq!(v, Vector::from([0.3, 1.0]), epsilon = 1e-6);
        assert!(!v.abs_diff_eq(&Vector::from([0.3, 1.1]), 1e-6));
        assert!(v.abs_diff_ne(&Vector::from([0.3, 1.1]), 1e-6));
    }

    #[test]
    fn ulps_eq_counts_units_in_the_last_place() {
        assert_eq!(Matrix::<1, 1>::default_max_ulps(), f64::default_max_ulps());
        let a = Vector::from([0.1 + 0.2, 1.0]);
        assert_ulps_eq!(a, Vector::from([0.3, 1.0]));
        assert!(!a.ulps_eq(&Vector::from([0.3, 1.0]), 0.0, 0));
        assert_eq!(Matrix::<1, 1>::default_max_relative(), f64::EPSILON);
    }

    #[test]
    fn nan_is_never_approximately_equal() {
        let nan = Vector::from([f64::NAN]);
        assert!(!nan.relative_eq(&nan, 1.0, 1.0));
    }
}
