//! Linear algebra on [`Matrix`]: `transpose`, `determinant`, `trace`, `dot`, norms,
//! `sum`, `map` and the component-wise products. Names and receivers follow
//! nalgebra. Linear systems and the LU factorisation are in `solve`.

use crate::solve::Lu;
#[cfg(feature = "std")]
use crate::Real;
use crate::{Matrix, Scalar};

impl<const R: usize, const C: usize, T: Copy> Matrix<R, C, T> {
    /// The transpose: entry `(i, j)` becomes entry `(j, i)`.
    ///
    /// ```
    /// use jacobian_runtime::{Matrix, Vector};
    ///
    /// let gradient: Vector<2> = Matrix::from_rows([[3.0, 4.0]]).transpose();
    /// assert_eq!(gradient, Vector::from([3.0, 4.0]));
    /// ```
    #[inline]
    pub fn transpose(&self) -> Matrix<C, R, T> {
        let rows = self.as_rows();
        Matrix::from_rows(core::array::from_fn(|j| core::array::from_fn(|i| rows[i][j])))
    }

    /// The matrix of `f` applied to every entry, in row-major order.
    ///
    /// ```
    /// use jacobian_runtime::{Matrix, Vector};
    ///
    /// let v = Vector::from([1.0, 4.0, 9.0]);
    /// assert_eq!(v.map(f64::sqrt), Vector::from([1.0, 2.0, 3.0]));
    /// assert_eq!(v.map(|x| x > 2.0), Matrix::from_rows([[false], [true], [true]]));
    /// ```
    #[inline]
    pub fn map<U, F: FnMut(T) -> U>(&self, mut f: F) -> Matrix<R, C, U> {
        let rows = self.as_rows();
        Matrix::from_rows(core::array::from_fn(|i| core::array::from_fn(|j| f(rows[i][j]))))
    }
}

impl<const R: usize, const C: usize, T: Scalar> Matrix<R, C, T> {
    /// The sum of the products of corresponding entries (for vectors, the dot
    /// product; for matrices, the Frobenius inner product).
    ///
    /// ```
    /// use jacobian_runtime::{Matrix, Vector};
    ///
    /// assert_eq!(Vector::from([1.0, 2.0, 3.0]).dot(&Vector::from([4.0, 5.0, 6.0])), 32.0);
    /// let a = Matrix::from_rows([[1.0, 2.0], [3.0, 4.0]]);
    /// assert_eq!(a.dot(&Matrix::identity()), a.trace());
    /// ```
    #[inline]
    pub fn dot(&self, rhs: &Self) -> T {
        let mut total = T::ZERO;
        for (row, rhs_row) in self.as_rows().iter().zip(rhs.as_rows()) {
            for (&x, &y) in row.iter().zip(rhs_row) {
                total += x * y;
            }
        }
        total
    }

    /// The squared Euclidean (Frobenius) norm, `self.dot(self)`.
    ///
    /// ```
    /// use jacobian_runtime::{Matrix, Vector};
    ///
    /// assert_eq!(Vector::from([3.0, 4.0]).norm_squared(), 25.0);
    /// assert_eq!(Matrix::from_rows([[1.0, 2.0], [3.0, 4.0]]).norm_squared(), 30.0);
    /// ```
    #[inline]
    pub fn norm_squared(&self) -> T {
        self.dot(self)
    }

    /// The sum of all entries.
    ///
    /// ```
    /// use jacobian_runtime::Matrix;
    ///
    /// assert_eq!(Matrix::from_rows([[1.0, 2.0], [3.0, 4.0]]).sum(), 10.0);
    /// ```
    #[inline]
    pub fn sum(&self) -> T {
        let mut total = T::ZERO;
        for &x in self.as_rows().iter().flatten() {
            total += x;
        }
        total
    }

    /// The entry-wise (Hadamard) product.
    ///
    /// ```
    /// use jacobian_runtime::Vector;
    ///
    /// let x = Vector::from([1.0, 2.0, 3.0]);
    /// assert_eq!(x.component_mul(&Vector::from([2.0, 0.5, -1.0])), Vector::from([2.0, 1.0, -3.0]));
    /// ```
    #[inline]
    pub fn component_mul(&self, rhs: &Self) -> Self {
        self.zip_with(rhs, |x, y| x * y)
    }

    /// The entry-wise quotient.
    ///
    /// ```
    /// use jacobian_runtime::Vector;
    ///
    /// let x = Vector::from([1.0, 2.0, 3.0]);
    /// assert_eq!(x.component_div(&Vector::from([2.0, 0.5, -1.0])), Vector::from([0.5, 4.0, -3.0]));
    /// ```
    #[inline]
    pub fn component_div(&self, rhs: &Self) -> Self {
        self.zip_with(rhs, |x, y| x / y)
    }
}

#[cfg(feature = "std")]
impl<const R: usize, const C: usize, T: Real> Matrix<R, C, T> {
    /// The Euclidean (Frobenius) norm, `sqrt(self.norm_squared())`. Needs the `std`
    /// feature.
    ///
    /// ```
    /// use jacobian_runtime::Vector;
    ///
    /// assert_eq!(Vector::from([3.0, 4.0]).norm(), 5.0);
    /// ```
    #[inline]
    pub fn norm(&self) -> T {
        self.norm_squared().sqrt()
    }
}

impl<const N: usize, T: Scalar> Matrix<N, N, T> {
    /// The sum of the main diagonal.
    ///
    /// ```
    /// use jacobian_runtime::Matrix;
    ///
    /// assert_eq!(Matrix::from_rows([[1.0, 2.0], [3.0, 4.0]]).trace(), 5.0);
    /// ```
    #[inline]
    pub fn trace(&self) -> T {
        let mut total = T::ZERO;
        for (i, row) in self.as_rows().iter().enumerate() {
            total += row[i];
        }
        total
    }

    /// The determinant.
    ///
    /// Sizes 1 to 3 use the closed forms, so integer-valued entries give exact
    /// results; larger sizes use the LU decomposition with partial pivoting that
    /// [`solve`](Matrix::solve) uses, on a copy of the matrix (on the stack), exact up
    /// to rounding. A singular matrix gives
    /// zero (or a value within rounding of it), the empty matrix gives one.
    ///
    /// ```
    /// use jacobian_runtime::Matrix;
    ///
    /// assert_eq!(Matrix::from_rows([[1.0, 1.0], [2.0, -1.0]]).determinant(), -3.0);
    /// assert_eq!(Matrix::from_rows([[2.0, 0.0], [0.0, 3.0]]).determinant(), 6.0);
    /// ```
    #[inline]
    pub fn determinant(&self) -> T {
        let m = self.as_rows();
        match N {
            0 => T::ONE,
            1 => m[0][0],
            2 => m[0][0] * m[1][1] - m[0][1] * m[1][0],
            3 => {
                m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
                    - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
                    + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
            }
            // No nonzero pivot left in some column: exactly singular.
            _ => Lu::new(*m).map_or(T::ZERO, |lu| lu.determinant()),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{Matrix, Vector};

    /// Relative comparison for determinants computed through LU.
    fn close(actual: f64, expected: f64) -> bool {
        (actual - expected).abs() <= 1e-12 * expected.abs().max(1.0)
    }

    #[test]
    fn transpose_swaps_rows_and_columns() {
        let m = Matrix::from_rows([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
        let t: Matrix<3, 2> = m.transpose();
        assert_eq!(t, Matrix::from_rows([[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]]));
        assert_eq!(t.transpose(), m);
        assert_eq!(Vector::from([1.0_f32, 2.0]).transpose(), Matrix::from_rows([[1.0, 2.0]]));
    }

    #[test]
    fn map_changes_entries_and_type() {
        let m = Matrix::from_rows([[1.0, -2.0], [3.0, -4.0]]);
        assert_eq!(m.map(|x| x * x), Matrix::from_rows([[1.0, 4.0], [9.0, 16.0]]));
        let single: Matrix<2, 2, f32> = m.map(|x| x as f32);
        assert_eq!(single, Matrix::from_rows([[1.0, -2.0], [3.0, -4.0]]));
        let mut seen = [0.0; 4];
        let mut n = 0;
        let _ = m.map(|x| {
            seen[n] = x;
            n += 1;
        });
        assert_eq!(seen, [1.0, -2.0, 3.0, -4.0], "map visits entries in row-major order");
    }

    #[test]
    fn dot_norm_squared_and_sum() {
        let v = Vector::from([3.0, 4.0]);
        let w = Vector::from([-1.0, 2.0]);
        assert_eq!(v.dot(&w), 5.0);
        assert_eq!(v.norm_squared(), 25.0);
        assert_eq!(v.sum(), 7.0);
        let m = Matrix::from_rows([[1.0_f32, 2.0], [3.0, 4.0]]);
        assert_eq!(m.dot(&m), 30.0);
        assert_eq!(m.sum(), 10.0);
        assert_eq!(Matrix::<0, 3>::zeros().sum(), 0.0);
    }

    #[cfg(feature = "std")]
    #[test]
    fn norm_is_the_euclidean_length() {
        assert_eq!(Vector::from([3.0, 4.0]).norm(), 5.0);
        assert_eq!(Vector::from([3.0_f32, 4.0]).norm(), 5.0);
        assert_eq!(Matrix::from_rows([[1.0, 1.0], [1.0, 1.0]]).norm(), 2.0);
    }

    #[test]
    fn component_mul_and_div() {
        let a = Vector::from([1.0, 2.0, 3.0]);
        let b = Vector::from([4.0, 5.0, 6.0]);
        assert_eq!(a.component_mul(&b), Vector::from([4.0, 10.0, 18.0]));
        assert_eq!(b.component_div(&a), Vector::from([4.0, 2.5, 2.0]));
        let m = Matrix::from_rows([[2.0_f32, 3.0]]);
        assert_eq!(m.component_div(&m), Matrix::from_rows([[1.0, 1.0]]));
    }

    #[test]
    fn trace_sums_the_diagonal() {
        assert_eq!(Matrix::from_rows([[1.0, 9.0], [9.0, -4.0]]).trace(), -3.0);
        assert_eq!(Matrix::<3, 3, f32>::identity().trace(), 3.0);
    }

    #[test]
    fn determinant_of_the_seeds_is_exact() {
        assert_eq!(Matrix::from_rows([[1.0, 1.0], [2.0, -1.0]]).determinant(), -3.0);
        assert_eq!(Matrix::from_rows([[2.0, 0.0], [0.0, 3.0]]).determinant(), 6.0);
        assert_eq!(Matrix::from_rows([[1.0_f32, 1.0], [2.0, -1.0]]).determinant(), -3.0);
    }

    #[test]
    fn determinant_of_small_sizes() {
        assert_eq!(Matrix::<0, 0>::zeros().determinant(), 1.0);
        assert_eq!(Matrix::from_rows([[-2.5]]).determinant(), -2.5);
        assert_eq!(
            Matrix::from_rows([[2.0, -3.0, 1.0], [2.0, 0.0, -1.0], [1.0, 4.0, 5.0]]).determinant(),
            49.0
        );
        assert_eq!(
            Matrix::from_rows([[1.0_f32, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]).determinant(),
            0.0
        );
    }

    #[test]
    fn determinant_of_larger_sizes() {
        let four = Matrix::from_rows([
            [0.0, 2.0, 1.0, 3.0],
            [1.0, 0.0, 2.0, 1.0],
            [2.0, 1.0, 0.0, 1.0],
            [1.0, 3.0, 1.0, 0.0],
        ]);
        assert!(close(four.determinant(), -37.0), "{}", four.determinant());

        let five = Matrix::from_rows([
            [2.0, 1.0, 0.0, 0.0, 0.0],
            [1.0, 2.0, 1.0, 0.0, 0.0],
            [0.0, 1.0, 2.0, 1.0, 0.0],
            [0.0, 0.0, 1.0, 2.0, 1.0],
            [0.0, 0.0, 0.0, 1.0, 2.0],
        ]);
        assert!(close(five.determinant(), 6.0), "{}", five.determinant());

        // The symmetric Pascal matrix, binomial(i + j, i), has determinant 1.
        let pascal: Matrix<6, 6> =
            Matrix::from_rows(core::array::from_fn(|i| core::array::from_fn(|j| binomial(i + j, i))));
        assert!(close(pascal.determinant(), 1.0), "{}", pascal.determinant());

        let diagonal = Matrix::from_diagonal(&Vector::from([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]));
        assert_eq!(diagonal.determinant(), 720.0);
        let f32_diagonal = Matrix::from_diagonal(&Vector::from([1.0_f32, 2.0, 3.0, 4.0]));
        assert_eq!(f32_diagonal.determinant(), 24.0);
    }

    #[test]
    fn determinant_with_a_zero_pivot_needs_row_swaps() {
        // A zero in the top-left corner: elimination without pivoting would divide by 0.
        let swap = Matrix::from_rows([
            [0.0, 1.0, 0.0, 0.0],
            [1.0, 0.0, 0.0, 0.0],
            [0.0, 0.0, 0.0, 1.0],
            [0.0, 0.0, 1.0, 0.0],
        ]);
        assert_eq!(swap.determinant(), 1.0);
        let cycle = Matrix::from_rows([
            [0.0, 1.0, 0.0, 0.0, 0.0],
            [0.0, 0.0, 1.0, 0.0, 0.0],
            [0.0, 0.0, 0.0, 1.0, 0.0],
            [0.0, 0.0, 0.0, 0.0, 1.0],
            [3.0, 0.0, 0.0, 0.0, 0.0],
        ]);
        assert_eq!(cycle.determinant(), 3.0);
    }

    #[test]
    fn determinant_of_singular_matrices_is_zero() {
        let repeated_row = Matrix::from_rows([
            [1.0, 2.0, 3.0, 4.0],
            [2.0, 0.0, 1.0, 5.0],
            [1.0, 2.0, 3.0, 4.0],
            [7.0, 1.0, 0.0, 2.0],
        ]);
        assert_eq!(repeated_row.determinant(), 0.0);
        let zero_column = Matrix::from_rows([
            [0.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            [0.0, 1.0, 3.0, 4.0, 5.0, 6.0],
            [0.0, 2.0, 1.0, 4.0, 5.0, 6.0],
            [0.0, 2.0, 3.0, 1.0, 5.0, 6.0],
            [0.0, 2.0, 3.0, 4.0, 1.0, 6.0],
            [0.0, 2.0, 3.0, 4.0, 5.0, 1.0],
        ]);
        assert_eq!(zero_column.determinant(), 0.0);
        assert_eq!(Matrix::<6, 6, f32>::zeros().determinant(), 0.0);
    }

    fn binomial(n: usize, k: usize) -> f64 {
        (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
    }
}
