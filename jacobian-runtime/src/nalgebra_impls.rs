//! Conversions between [`Matrix`] and nalgebra's statically sized `SMatrix`, so a
//! Jacobian can be handed to nalgebra's decompositions and solvers. Needs the
//! `nalgebra` feature.

use nalgebra::SMatrix;

use crate::Matrix;

impl<const R: usize, const C: usize, T: nalgebra::Scalar> From<Matrix<R, C, T>> for SMatrix<T, R, C> {
    /// The same matrix as an nalgebra `SMatrix` (entry `(i, j)` stays at `(i, j)`).
    ///
    /// ```
    /// use jacobian_runtime::Matrix;
    /// use nalgebra::SMatrix;
    ///
    /// let j = Matrix::from_rows([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// let n: SMatrix<f64, 2, 3> = j.into();
    /// assert_eq!(n[(1, 0)], 4.0);
    /// ```
    #[inline]
    fn from(m: Matrix<R, C, T>) -> Self {
        let rows = m.as_rows();
        SMatrix::from_fn(|i, j| rows[i][j].clone())
    }
}

impl<const R: usize, const C: usize, T: nalgebra::Scalar> From<SMatrix<T, R, C>> for Matrix<R, C, T> {
    /// The same matrix from an nalgebra `SMatrix` (entry `(i, j)` stays at `(i, j)`).
    ///
    /// ```
    /// use jacobian_runtime::{Matrix, Vector};
    /// use nalgebra::{Matrix2x3, Vector2};
    ///
    /// let m: Matrix<2, 3> = Matrix2x3::new(1.0, 2.0, 3.0, 4.0, 5.0, 6.0).into();
    /// assert_eq!(m, Matrix::from_rows([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]));
    /// let v: Vector<2> = Vector2::new(1.0, 2.0).into();
    /// assert_eq!(v, Vector::from([1.0, 2.0]));
    /// ```
    #[inline]
    fn from(m: SMatrix<T, R, C>) -> Self {
        Matrix::from_rows(core::array::from_fn(|i| core::array::from_fn(|j| m[(i, j)].clone())))
    }
}

#[cfg(test)]
mod tests {
    use nalgebra::{SMatrix, SVector};

    use crate::{Matrix, Vector};

    #[test]
    fn round_trip_keeps_entries_in_place() {
        let m = Matrix::from_rows([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
        let n: SMatrix<f64, 2, 3> = m.into();
        assert_eq!(n, SMatrix::<f64, 2, 3>::new(1.0, 2.0, 3.0, 4.0, 5.0, 6.0));
        assert_eq!(n[(1, 0)], 4.0);
        assert_eq!(Matrix::from(n), m);
    }

    #[test]
    fn vectors_convert_to_svector() {
        let v = Vector::from([1.0_f32, -2.0]);
        let n: SVector<f32, 2> = v.into();
        assert_eq!(n, SVector::<f32, 2>::new(1.0, -2.0));
        assert_eq!(Vector::from(n), v);
    }

    #[test]
    fn products_agree_with_nalgebra() {
        let a = Matrix::from_rows([[4.0, 3.0, 2.0], [0.0, 1.0, -1.0]]);
        let b = Matrix::from_rows([[3.0, 0.5], [2.0, 0.0], [1.0, 5.0]]);
        let expected = SMatrix::<f64, 2, 3>::from(a) * SMatrix::<f64, 3, 2>::from(b);
        assert_eq!(SMatrix::from(a * b), expected);
    }
}
