//! The [`Matrix`] type and its [`Vector`] alias: storage, constructors, element
//! access and conversions. Arithmetic is in `ops`, linear algebra in `linalg`,
//! formatting in `fmt`.

use core::ops::{Index, IndexMut};

use crate::Scalar;

/// A dense `R`×`C` matrix of `T` (by default `f64`), stored row-major on the stack.
///
/// This is the type `#[jacobian]` returns: row `i` holds the derivatives of output
/// component `i`, column `k` those with respect to input component `k`. Method names
/// follow nalgebra (`transpose`, `dot`, `norm`, `component_mul`, …).
///
/// ```
/// use jacobian_runtime::Matrix;
///
/// let j = Matrix::from_rows([[1.0, 1.0], [2.0, -1.0]]);
/// assert_eq!(j[(1, 0)], 2.0);
/// assert_eq!(j.determinant(), -3.0);
/// assert_eq!(j.transpose(), Matrix::from_rows([[1.0, 2.0], [1.0, -1.0]]));
/// ```
///
/// # Arithmetic
///
/// `+`, `-` and the matrix product `*` take every mix of values and references
/// (`a * b`, `&a * b`, `a * &b`, `&a * &b`), so a matrix used again need not be
/// copied by hand; the shapes are checked by the compiler. A scalar multiplies on
/// either side (`2.0 * m`, `m * 2.0`), `/` divides by a scalar, unary `-` negates,
/// and `+=`, `-=` (with a matrix), `*=`, `/=` (with a scalar) update in place.
///
/// ```
/// use jacobian_runtime::{Matrix, Vector};
///
/// let a = Matrix::from_rows([[1.0, 2.0], [3.0, 4.0]]);
/// let x = Vector::from([1.0, -1.0]);
/// assert_eq!(&a * &x, Vector::from([-1.0, -1.0]));
/// assert_eq!(a * a, Matrix::from_rows([[7.0, 10.0], [15.0, 22.0]]));
/// assert_eq!(x.transpose() * x, Matrix::from_rows([[2.0]])); // 1×2 times 2×1
/// assert_eq!(2.0 * x, x + x);
/// assert_eq!(&a - a, Matrix::zeros());
/// assert_eq!(-x / 2.0, Vector::from([-0.5, 0.5]));
///
/// let mut m = a;
/// m += &a;
/// m *= 0.5;
/// assert_eq!(m, a);
/// ```
#[derive(Clone, Copy, PartialEq)]
pub struct Matrix<const R: usize, const C: usize, T = f64> {
    rows: [[T; C]; R],
}

/// A column vector of `N` components: an `N`×1 [`Matrix`], indexed `v[i]`.
///
/// ```
/// use jacobian_runtime::Vector;
///
/// let v = Vector::from([3.0, 4.0]);
/// assert_eq!(v[1], 4.0);
/// assert_eq!(v.dot(&v), 25.0);
/// ```
pub type Vector<const N: usize, T = f64> = Matrix<N, 1, T>;

impl<const R: usize, const C: usize, T> Matrix<R, C, T> {
    /// The number of rows, `R`.
    ///
    /// ```
    /// use jacobian_runtime::{Matrix, Vector};
    ///
    /// assert_eq!(Matrix::<2, 3>::ROWS, 2);
    /// assert_eq!(Vector::<4>::ROWS, 4);
    /// ```
    pub const ROWS: usize = R;
    /// The number of columns, `C`.
    ///
    /// ```
    /// use jacobian_runtime::{Matrix, Vector};
    ///
    /// assert_eq!(Matrix::<2, 3>::COLS, 3);
    /// assert_eq!(Vector::<4>::COLS, 1);
    /// ```
    pub const COLS: usize = C;

    /// A matrix with the given rows.
    ///
    /// ```
    /// use jacobian_runtime::Matrix;
    ///
    /// let m = Matrix::from_rows([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// assert_eq!(m[(0, 2)], 3.0);
    /// ```
    #[inline]
    pub const fn from_rows(rows: [[T; C]; R]) -> Self {
        Self { rows }
    }

    /// The matrix whose entry `(i, j)` is `f(i, j)`, as nalgebra's `from_fn`: also how a
    /// matrix of any other library (that indexes by `(i, j)`) becomes a `Matrix`.
    ///
    /// ```
    /// use jacobian_runtime::Matrix;
    ///
    /// let m: Matrix<2, 3> = Matrix::from_fn(|i, j| (10 * i + j) as f64);
    /// assert_eq!(m, Matrix::from_rows([[0.0, 1.0, 2.0], [10.0, 11.0, 12.0]]));
    /// ```
    #[inline]
    pub fn from_fn(mut f: impl FnMut(usize, usize) -> T) -> Self {
        Self { rows: core::array::from_fn(|i| core::array::from_fn(|j| f(i, j))) }
    }

    /// The rows, borrowed.
    ///
    /// ```
    /// use jacobian_runtime::Matrix;
    ///
    /// let m = Matrix::from_rows([[1.0, 2.0], [3.0, 4.0]]);
    /// for row in m.as_rows() {
    ///     assert_eq!(row.len(), 2);
    /// }
    /// assert_eq!(m.as_rows()[1], [3.0, 4.0]);
    /// ```
    #[inline]
    pub const fn as_rows(&self) -> &[[T; C]; R] {
        &self.rows
    }

    /// The rows, mutably borrowed.
    ///
    /// ```
    /// use jacobian_runtime::Matrix;
    ///
    /// let mut m = Matrix::from_rows([[1.0, 2.0], [3.0, 4.0]]);
    /// m.as_rows_mut().swap(0, 1);
    /// assert_eq!(m, Matrix::from_rows([[3.0, 4.0], [1.0, 2.0]]));
    /// ```
    #[inline]
    pub fn as_rows_mut(&mut self) -> &mut [[T; C]; R] {
        &mut self.rows
    }

    /// The rows, by value.
    ///
    /// ```
    /// use jacobian_runtime::Matrix;
    ///
    /// let [first, second] = Matrix::from_rows([[1.0, 2.0], [3.0, 4.0]]).into_rows();
    /// assert_eq!((first, second), ([1.0, 2.0], [3.0, 4.0]));
    /// ```
    #[inline]
    pub fn into_rows(self) -> [[T; C]; R] {
        self.rows
    }

    /// The components, row-major (a vector's in order), borrowed.
    ///
    /// ```
    /// use jacobian_runtime::{Matrix, Vector};
    ///
    /// let v = Vector::from([1.0, 2.0, 3.0]);
    /// assert_eq!(v.iter().sum::<f64>(), 6.0);
    ///
    /// let m = Matrix::from_rows([[1.0, 2.0], [3.0, 4.0]]);
    /// assert!(m.iter().copied().eq([1.0, 2.0, 3.0, 4.0]));
    /// ```
    #[inline]
    pub fn iter(&self) -> core::iter::Flatten<core::slice::Iter<'_, [T; C]>> {
        self.rows.iter().flatten()
    }
}

impl<const R: usize, const C: usize, T: Scalar> Matrix<R, C, T> {
    /// The matrix of all zeros.
    ///
    /// ```
    /// use jacobian_runtime::{Matrix, Vector};
    ///
    /// let z: Matrix<2, 3> = Matrix::zeros();
    /// assert!(z.iter().all(|&x| x == 0.0));
    /// const ORIGIN: Vector<3, f32> = Vector::zeros(); // also in constants
    /// assert_eq!(ORIGIN.norm_squared(), 0.0);
    /// ```
    #[inline]
    pub const fn zeros() -> Self {
        Self { rows: [[T::ZERO; C]; R] }
    }

    /// Ones on the main diagonal, zeros elsewhere; also for non-square shapes.
    ///
    /// ```
    /// use jacobian_runtime::Matrix;
    ///
    /// let m: Matrix<2, 3> = Matrix::identity();
    /// assert_eq!(m, Matrix::from_rows([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]));
    /// ```
    #[inline]
    pub const fn identity() -> Self {
        let mut rows = [[T::ZERO; C]; R];
        let mut i = 0;
        while i < R && i < C {
            rows[i][i] = T::ONE;
            i += 1;
        }
        Self { rows }
    }
}

impl<const R: usize, const C: usize, T: Copy> Matrix<R, C, T> {
    /// Row `i` as a 1×`C` matrix.
    ///
    /// ```
    /// use jacobian_runtime::Matrix;
    ///
    /// let j = Matrix::from_rows([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// assert_eq!(j.row(1), Matrix::from_rows([[4.0, 5.0, 6.0]]));
    /// ```
    ///
    /// # Panics
    /// If `i >= R`.
    #[inline]
    pub fn row(&self, i: usize) -> Matrix<1, C, T> {
        Matrix::from_rows([self.rows[i]])
    }

    /// Column `j` as an `R`×1 [`Vector`].
    ///
    /// ```
    /// use jacobian_runtime::{Matrix, Vector};
    ///
    /// let j = Matrix::from_rows([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// assert_eq!(j.column(2), Vector::from([3.0, 6.0]));
    /// ```
    ///
    /// # Panics
    /// If `j >= C`.
    #[inline]
    pub fn column(&self, j: usize) -> Vector<R, T> {
        assert!(j < C, "column index {j} out of range for a matrix with {C} columns");
        Matrix::from_rows(self.rows.map(|row| [row[j]]))
    }
}

impl<const N: usize, T: Scalar> Matrix<N, N, T> {
    /// The square matrix with `diagonal` on its main diagonal and zeros elsewhere.
    ///
    /// ```
    /// use jacobian_runtime::{Matrix, Vector};
    ///
    /// let d = Matrix::from_diagonal(&Vector::from([2.0, 3.0]));
    /// assert_eq!(d, Matrix::from_rows([[2.0, 0.0], [0.0, 3.0]]));
    /// ```
    #[inline]
    pub fn from_diagonal(diagonal: &Vector<N, T>) -> Self {
        let mut m = Self::zeros();
        for (i, row) in m.rows.iter_mut().enumerate() {
            row[i] = diagonal.rows[i][0];
        }
        m
    }
}

impl<const N: usize, T: Copy> Matrix<N, 1, T> {
    /// The components of the vector as an array.
    ///
    /// ```
    /// use jacobian_runtime::Vector;
    ///
    /// let [x, y] = Vector::from([3.0, 4.0]).as_array();
    /// assert_eq!((x, y), (3.0, 4.0));
    /// ```
    #[inline]
    pub fn as_array(&self) -> [T; N] {
        self.rows.map(|[x]| x)
    }
}

impl<const R: usize, const C: usize, T> Matrix<R, C, T> {
    /// The number of components, `R·C` (a vector's length), as nalgebra's `len`.
    ///
    /// ```
    /// use jacobian_runtime::{Matrix, Vector};
    ///
    /// assert_eq!(Vector::from([1.0, 2.0, 3.0]).len(), 3);
    /// assert_eq!(Matrix::<2, 3>::zeros().len(), 6);
    /// ```
    #[inline]
    #[allow(clippy::len_without_is_empty)]
    pub const fn len(&self) -> usize {
        R * C
    }
}

impl<T: Scalar> Matrix<3, 1, T> {
    /// The cross product `self × rhs` of 3-vectors.
    ///
    /// ```
    /// use jacobian_runtime::Vector;
    ///
    /// let (x, y) = (Vector::from([1.0, 0.0, 0.0]), Vector::from([0.0, 1.0, 0.0]));
    /// assert_eq!(x.cross(&y), Vector::from([0.0, 0.0, 1.0]));
    /// ```
    #[inline]
    pub fn cross(&self, rhs: &Self) -> Self {
        let ([[a0], [a1], [a2]], [[b0], [b1], [b2]]) = (self.rows, rhs.rows);
        Self::from_rows([[a1 * b2 - a2 * b1], [a2 * b0 - a0 * b2], [a0 * b1 - a1 * b0]])
    }
}

#[cfg(feature = "std")]
impl<const R: usize, const C: usize, T: crate::Real> Matrix<R, C, T> {
    /// `self / self.norm()`, as nalgebra's `normalize` (not finite at the zero matrix).
    /// Needs the `std` feature.
    ///
    /// ```
    /// use jacobian_runtime::Vector;
    ///
    /// assert_eq!(Vector::from([3.0, 4.0]).normalize(), Vector::from([0.6, 0.8]));
    /// ```
    #[inline]
    pub fn normalize(&self) -> Self {
        let norm = self.norm();
        let mut out = *self;
        for x in out.rows.iter_mut().flatten() {
            *x /= norm;
        }
        out
    }
}

impl<const R: usize, const C: usize, T: Scalar> Default for Matrix<R, C, T> {
    /// The matrix of all zeros.
    ///
    /// ```
    /// use jacobian_runtime::Matrix;
    ///
    /// assert_eq!(Matrix::<2, 2>::default(), Matrix::zeros());
    /// ```
    #[inline]
    fn default() -> Self {
        Self::zeros()
    }
}

// `T: Scalar` keeps `Matrix::from([[1.0, 2.0]])` unambiguous: without it, the array
// of rows could also be read as one vector of `[f64; 2]` components.
impl<const N: usize, T: Scalar> From<[T; N]> for Matrix<N, 1, T> {
    /// The column vector with these components.
    ///
    /// ```
    /// use jacobian_runtime::{Matrix, Vector};
    ///
    /// let v: Vector<2> = Vector::from([1.0, 2.0]);
    /// assert_eq!(v, Matrix::from_rows([[1.0], [2.0]]));
    /// let w: Vector<2, f32> = [1.0, 2.0].into();
    /// assert_eq!(w[1], 2.0);
    /// ```
    #[inline]
    fn from(components: [T; N]) -> Self {
        Self::from_rows(components.map(|x| [x]))
    }
}

impl<const N: usize, T> From<Matrix<N, 1, T>> for [T; N] {
    /// The components of the column vector.
    ///
    /// ```
    /// use jacobian_runtime::Vector;
    ///
    /// let a: [f64; 2] = Vector::from([1.0, 2.0]).into();
    /// assert_eq!(a, [1.0, 2.0]);
    /// ```
    #[inline]
    fn from(v: Matrix<N, 1, T>) -> Self {
        v.rows.map(|[x]| x)
    }
}

impl<const R: usize, const C: usize, T> From<[[T; C]; R]> for Matrix<R, C, T> {
    /// The matrix with these rows, as [`Matrix::from_rows`].
    ///
    /// ```
    /// use jacobian_runtime::Matrix;
    ///
    /// let m: Matrix<1, 2> = [[1.0, 2.0]].into();
    /// assert_eq!(m, Matrix::from_rows([[1.0, 2.0]]));
    /// ```
    #[inline]
    fn from(rows: [[T; C]; R]) -> Self {
        Self::from_rows(rows)
    }
}

impl<const R: usize, const C: usize, T> Index<(usize, usize)> for Matrix<R, C, T> {
    type Output = T;

    /// The entry in row `i`, column `j`; panics if either is out of range.
    ///
    /// ```
    /// use jacobian_runtime::Matrix;
    ///
    /// let m = Matrix::from_rows([[1.0, 2.0], [3.0, 4.0]]);
    /// assert_eq!(m[(1, 0)], 3.0);
    /// ```
    #[inline]
    fn index(&self, (i, j): (usize, usize)) -> &T {
        &self.rows[i][j]
    }
}

impl<const R: usize, const C: usize, T> IndexMut<(usize, usize)> for Matrix<R, C, T> {
    /// The entry in row `i`, column `j`; panics if either is out of range.
    ///
    /// ```
    /// use jacobian_runtime::Matrix;
    ///
    /// let mut m: Matrix<2, 2> = Matrix::zeros();
    /// m[(0, 1)] = 5.0;
    /// assert_eq!(m, Matrix::from_rows([[0.0, 5.0], [0.0, 0.0]]));
    /// ```
    #[inline]
    fn index_mut(&mut self, (i, j): (usize, usize)) -> &mut T {
        &mut self.rows[i][j]
    }
}

impl<const N: usize, T> Index<usize> for Matrix<N, 1, T> {
    type Output = T;

    /// Component `i` of the column vector; panics if `i >= N`.
    ///
    /// ```
    /// use jacobian_runtime::Vector;
    ///
    /// assert_eq!(Vector::from([1.0, 2.0, 3.0])[2], 3.0);
    /// ```
    #[inline]
    fn index(&self, i: usize) -> &T {
        &self.rows[i][0]
    }
}

impl<const N: usize, T> IndexMut<usize> for Matrix<N, 1, T> {
    /// Component `i` of the column vector; panics if `i >= N`.
    ///
    /// ```
    /// use jacobian_runtime::Vector;
    ///
    /// let mut v = Vector::from([1.0, 2.0, 3.0]);
    /// v[0] = -1.0;
    /// assert_eq!(v, Vector::from([-1.0, 2.0, 3.0]));
    /// ```
    #[inline]
    fn index_mut(&mut self, i: usize) -> &mut T {
        &mut self.rows[i][0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: Matrix<2, 2> = Matrix::from_rows([[1.0, 1.0], [2.0, -1.0]]);

    #[test]
    fn from_rows_keeps_row_major_order() {
        let m = Matrix::from_rows([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
        assert_eq!(m[(0, 0)], 1.0);
        assert_eq!(m[(0, 2)], 3.0);
        assert_eq!(m[(1, 0)], 4.0);
        assert_eq!(m.as_rows(), &[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
        assert_eq!(m.into_rows(), [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
        let from_array = Matrix::from([[1.0, 2.0]]);
        assert_eq!(from_array.into_rows(), [[1.0, 2.0]]);
        assert_eq!(Matrix::from([[1.0, 2.0], [3.0, 4.0]]), Matrix::from_rows([[1.0, 2.0], [3.0, 4.0]]));
    }

    #[test]
    fn shape_constants() {
        assert_eq!(Matrix::<2, 3>::ROWS, 2);
        assert_eq!(Matrix::<2, 3>::COLS, 3);
        assert_eq!(Vector::<4, f32>::ROWS, 4);
        assert_eq!(Vector::<4, f32>::COLS, 1);
    }

    #[test]
    fn zeros_and_default() {
        assert_eq!(Matrix::<2, 3>::zeros().into_rows(), [[0.0; 3]; 2]);
        assert_eq!(Matrix::<2, 2, f32>::default(), Matrix::zeros());
        const Z: Vector<3, f32> = Matrix::zeros();
        assert_eq!(Z.as_array(), [0.0; 3]);
    }

    #[test]
    fn identity_of_every_shape() {
        const I: Matrix<3, 3> = Matrix::identity();
        assert_eq!(I, Matrix::from_rows([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]));
        assert_eq!(Matrix::<2, 3, f32>::identity(), Matrix::from_rows([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]));
        assert_eq!(Matrix::<3, 2>::identity(), Matrix::from_rows([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]));
        assert_eq!(Matrix::<0, 0>::identity().into_rows(), [[0.0_f64; 0]; 0]);
    }

    #[test]
    fn from_diagonal_puts_the_vector_on_the_diagonal() {
        let d = Matrix::from_diagonal(&Vector::from([2.0_f32, -3.0, 4.0]));
        assert_eq!(d, Matrix::from_rows([[2.0, 0.0, 0.0], [0.0, -3.0, 0.0], [0.0, 0.0, 4.0]]));
    }

    #[test]
    fn vector_conversions() {
        let v = Vector::from([1.0, 2.0, 3.0]);
        assert_eq!(v.into_rows(), [[1.0], [2.0], [3.0]]);
        assert_eq!(v.as_array(), [1.0, 2.0, 3.0]);
        let a: [f64; 3] = v.into();
        assert_eq!(a, [1.0, 2.0, 3.0]);
        let w: Vector<2, f32> = [5.0, 6.0].into();
        assert_eq!(w[0], 5.0);
    }

    #[test]
    fn row_and_column_follow_nalgebra_shapes() {
        let m = Matrix::from_rows([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
        let r: Matrix<1, 3> = m.row(1);
        let c: Vector<2> = m.column(2);
        assert_eq!(r, Matrix::from_rows([[4.0, 5.0, 6.0]]));
        assert_eq!(c, Vector::from([3.0, 6.0]));
        assert_eq!(SEED.row(0), Matrix::from_rows([[1.0, 1.0]]));
        assert_eq!(SEED.column(1), Vector::from([1.0, -1.0]));
    }

    #[test]
    #[should_panic]
    fn row_out_of_range_panics() {
        let _ = SEED.row(2);
    }

    #[test]
    #[should_panic]
    fn column_out_of_range_panics() {
        let _ = SEED.column(2);
    }

    #[test]
    fn indexing_reads_and_writes() {
        let mut m = SEED;
        assert_eq!(m[(1, 1)], -1.0);
        m[(1, 1)] = 7.0;
        assert_eq!(m, Matrix::from_rows([[1.0, 1.0], [2.0, 7.0]]));
        m.as_rows_mut()[0] = [0.5, 0.25];
        assert_eq!(m[(0, 1)], 0.25);

        let mut v = Vector::from([1.0_f32, 2.0]);
        assert_eq!(v[1], 2.0);
        v[0] = 9.0;
        assert_eq!(v[(0, 0)], 9.0);
        v[(1, 0)] = 8.0;
        assert_eq!(v.as_array(), [9.0, 8.0]);
    }

    #[test]
    #[should_panic]
    fn index_out_of_range_panics() {
        let _ = SEED[(0, 2)];
    }

    #[test]
    #[should_panic]
    fn vector_index_out_of_range_panics() {
        let _ = Vector::from([1.0, 2.0])[2];
    }

    #[test]
    fn copy_and_equality() {
        let a = SEED;
        let b = a;
        assert_eq!(a, b);
        assert_ne!(a, Matrix::identity());
        let nan = Vector::from([f64::NAN]);
        assert_ne!(nan, nan);
    }
}
