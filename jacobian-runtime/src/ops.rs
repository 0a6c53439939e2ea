//! Arithmetic operators on [`Matrix`]: `+`, `-` and matrix `*` for every mix of
//! values and references, a scalar `*` on either side, `/` by a scalar, unary `-`,
//! and the compound assignments.

use core::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

use crate::{Matrix, Scalar};

impl<const R: usize, const C: usize, T: Scalar> Matrix<R, C, T> {
    /// Combines two same-shaped matrices entry by entry.
    #[inline]
    pub(crate) fn zip_with(&self, rhs: &Self, mut f: impl FnMut(T, T) -> T) -> Self {
        let mut out = *self;
        for (out_row, rhs_row) in out.as_rows_mut().iter_mut().zip(rhs.as_rows()) {
            for (x, &y) in out_row.iter_mut().zip(rhs_row) {
                *x = f(*x, y);
            }
        }
        out
    }

    /// Applies `f` to every entry in place.
    #[inline]
    pub(crate) fn apply(&mut self, f: impl FnMut(&mut T)) {
        self.as_rows_mut().iter_mut().flatten().for_each(f);
    }

    /// The matrix product `self * rhs`.
    #[inline]
    fn matmul<const K: usize>(&self, rhs: &Matrix<C, K, T>) -> Matrix<R, K, T> {
        let mut out = Matrix::<R, K, T>::zeros();
        for (out_row, lhs_row) in out.as_rows_mut().iter_mut().zip(self.as_rows()) {
            for (&a, rhs_row) in lhs_row.iter().zip(rhs.as_rows()) {
                for (x, &b) in out_row.iter_mut().zip(rhs_row) {
                    *x += a * b;
                }
            }
        }
        out
    }
}

/// Implements an entry-wise binary operator for the four mixes of values and
/// references, all forwarding to one body on references.
macro_rules! entrywise_op {
    ($Op:ident, $op:ident, $assign_op:tt) => {
        impl<const R: usize, const C: usize, T: Scalar> $Op<&Matrix<R, C, T>> for &Matrix<R, C, T> {
            type Output = Matrix<R, C, T>;

            #[inline]
            fn $op(self, rhs: &Matrix<R, C, T>) -> Matrix<R, C, T> {
                self.zip_with(rhs, |mut a, b| {
                    a $assign_op b;
                    a
                })
            }
        }

        impl<const R: usize, const C: usize, T: Scalar> $Op<Matrix<R, C, T>> for &Matrix<R, C, T> {
            type Output = Matrix<R, C, T>;

            #[inline]
            fn $op(self, rhs: Matrix<R, C, T>) -> Matrix<R, C, T> {
                self.$op(&rhs)
            }
        }

        impl<const R: usize, const C: usize, T: Scalar> $Op<&Matrix<R, C, T>> for Matrix<R, C, T> {
            type Output = Matrix<R, C, T>;

            #[inline]
            fn $op(self, rhs: &Matrix<R, C, T>) -> Matrix<R, C, T> {
                (&self).$op(rhs)
            }
        }

        impl<const R: usize, const C: usize, T: Scalar> $Op<Matrix<R, C, T>> for Matrix<R, C, T> {
            type Output = Matrix<R, C, T>;

            #[inline]
            fn $op(self, rhs: Matrix<R, C, T>) -> Matrix<R, C, T> {
                (&self).$op(&rhs)
            }
        }
    };
}

entrywise_op!(Add, add, +=);
entrywise_op!(Sub, sub, -=);

/// Implements `+=`/`-=` with a matrix, by value or by reference.
macro_rules! entrywise_assign_op {
    ($Op:ident, $op:ident, $assign_op:tt) => {
        impl<const R: usize, const C: usize, T: Scalar> $Op<&Matrix<R, C, T>> for Matrix<R, C, T> {
            #[inline]
            fn $op(&mut self, rhs: &Matrix<R, C, T>) {
                for (row, rhs_row) in self.as_rows_mut().iter_mut().zip(rhs.as_rows()) {
                    for (x, &y) in row.iter_mut().zip(rhs_row) {
                        *x $assign_op y;
                    }
                }
            }
        }

        impl<const R: usize, const C: usize, T: Scalar> $Op<Matrix<R, C, T>> for Matrix<R, C, T> {
            #[inline]
            fn $op(&mut self, rhs: Matrix<R, C, T>) {
                self.$op(&rhs);
            }
        }
    };
}

entrywise_assign_op!(AddAssign, add_assign, +=);
entrywise_assign_op!(SubAssign, sub_assign, -=);

impl<const R: usize, const K: usize, const C: usize, T: Scalar> Mul<&Matrix<K, C, T>> for &Matrix<R, K, T> {
    type Output = Matrix<R, C, T>;

    /// The matrix product: `R`×`K` times `K`×`C` is `R`×`C`.
    #[inline]
    fn mul(self, rhs: &Matrix<K, C, T>) -> Matrix<R, C, T> {
        self.matmul(rhs)
    }
}

impl<const R: usize, const K: usize, const C: usize, T: Scalar> Mul<Matrix<K, C, T>> for &Matrix<R, K, T> {
    type Output = Matrix<R, C, T>;

    /// The matrix product: `R`×`K` times `K`×`C` is `R`×`C`.
    #[inline]
    fn mul(self, rhs: Matrix<K, C, T>) -> Matrix<R, C, T> {
        self.matmul(&rhs)
    }
}

impl<const R: usize, const K: usize, const C: usize, T: Scalar> Mul<&Matrix<K, C, T>> for Matrix<R, K, T> {
    type Output = Matrix<R, C, T>;

    /// The matrix product: `R`×`K` times `K`×`C` is `R`×`C`.
    #[inline]
    fn mul(self, rhs: &Matrix<K, C, T>) -> Matrix<R, C, T> {
        self.matmul(rhs)
    }
}

impl<const R: usize, const K: usize, const C: usize, T: Scalar> Mul<Matrix<K, C, T>> for Matrix<R, K, T> {
    type Output = Matrix<R, C, T>;

    /// The matrix product: `R`×`K` times `K`×`C` is `R`×`C`.
    #[inline]
    fn mul(self, rhs: Matrix<K, C, T>) -> Matrix<R, C, T> {
        self.matmul(&rhs)
    }
}

impl<const R: usize, const C: usize, T: Scalar> Mul<T> for Matrix<R, C, T> {
    type Output = Self;

    /// Every entry times the scalar.
    #[inline]
    fn mul(mut self, rhs: T) -> Self {
        self *= rhs;
        self
    }
}

impl<const R: usize, const C: usize, T: Scalar> Mul<T> for &Matrix<R, C, T> {
    type Output = Matrix<R, C, T>;

    /// Every entry times the scalar.
    #[inline]
    fn mul(self, rhs: T) -> Matrix<R, C, T> {
        *self * rhs
    }
}

impl<const R: usize, const C: usize, T: Scalar> Div<T> for Matrix<R, C, T> {
    type Output = Self;

    /// Every entry divided by the scalar.
    #[inline]
    fn div(mut self, rhs: T) -> Self {
        self /= rhs;
        self
    }
}

impl<const R: usize, const C: usize, T: Scalar> Div<T> for &Matrix<R, C, T> {
    type Output = Matrix<R, C, T>;

    /// Every entry divided by the scalar.
    #[inline]
    fn div(self, rhs: T) -> Matrix<R, C, T> {
        *self / rhs
    }
}

impl<const R: usize, const C: usize, T: Scalar> MulAssign<T> for Matrix<R, C, T> {
    /// Multiplies every entry by the scalar.
    #[inline]
    fn mul_assign(&mut self, rhs: T) {
        self.apply(|x| *x *= rhs);
    }
}

impl<const R: usize, const C: usize, T: Scalar> DivAssign<T> for Matrix<R, C, T> {
    /// Divides every entry by the scalar.
    #[inline]
    fn div_assign(&mut self, rhs: T) {
        self.apply(|x| *x /= rhs);
    }
}

impl<const R: usize, const C: usize, T: Scalar> Neg for Matrix<R, C, T> {
    type Output = Self;

    /// Every entry negated.
    #[inline]
    fn neg(mut self) -> Self {
        self.apply(|x| *x = -*x);
        self
    }
}

impl<const R: usize, const C: usize, T: Scalar> Neg for &Matrix<R, C, T> {
    type Output = Matrix<R, C, T>;

    /// Every entry negated.
    #[inline]
    fn neg(self) -> Matrix<R, C, T> {
        -*self
    }
}

/// A scalar on the left (`2.0 * m`) needs one impl per concrete scalar type: the
/// orphan rule forbids `impl<T> Mul<Matrix<…, T>> for T`.
macro_rules! left_scalar_mul {
    ($($t:ty),*) => {$(
        impl<const R: usize, const C: usize> Mul<Matrix<R, C, $t>> for $t {
            type Output = Matrix<R, C, $t>;

            /// Every entry of the matrix times the scalar.
            #[inline]
            fn mul(self, rhs: Matrix<R, C, $t>) -> Matrix<R, C, $t> {
                rhs * self
            }
        }

        impl<const R: usize, const C: usize> Mul<&Matrix<R, C, $t>> for $t {
            type Output = Matrix<R, C, $t>;

            /// Every entry of the matrix times the scalar.
            #[inline]
            fn mul(self, rhs: &Matrix<R, C, $t>) -> Matrix<R, C, $t> {
                *rhs * self
            }
        }
    )*};
}

left_scalar_mul!(f32, f64);

#[cfg(test)]
mod tests {
    // These tests exist to exercise the by-reference impls.
    #![allow(clippy::op_ref)]

    use crate::{Matrix, Vector};

    const A: Matrix<2, 3> = Matrix::from_rows([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    const B: Matrix<2, 3> = Matrix::from_rows([[0.5, -1.0, 2.0], [0.0, 3.0, -6.0]]);

    #[test]
    fn add_every_mix() {
        let sum = Matrix::from_rows([[1.5, 1.0, 5.0], [4.0, 8.0, 0.0]]);
        assert_eq!(A + B, sum);
        assert_eq!(&A + B, sum);
        assert_eq!(A + &B, sum);
        assert_eq!(&A + &B, sum);
    }

    #[test]
    fn sub_every_mix() {
        let difference = Matrix::from_rows([[0.5, 3.0, 1.0], [4.0, 2.0, 12.0]]);
        assert_eq!(A - B, difference);
        assert_eq!(&A - B, difference);
        assert_eq!(A - &B, difference);
        assert_eq!(&A - &B, difference);
    }

    #[test]
    fn matrix_product_every_mix() {
        let a = Matrix::from_rows([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]);
        let b = Matrix::from_rows([[7.0, 8.0, 9.0, 10.0], [11.0, 12.0, 13.0, 14.0]]);
        let product: Matrix<3, 4> = Matrix::from_rows([
            [29.0, 32.0, 35.0, 38.0],
            [65.0, 72.0, 79.0, 86.0],
            [101.0, 112.0, 123.0, 134.0],
        ]);
        assert_eq!(a * b, product);
        assert_eq!(&a * b, product);
        assert_eq!(a * &b, product);
        assert_eq!(&a * &b, product);
    }

    #[test]
    fn matrix_times_vector_and_row_times_column() {
        let m = Matrix::from_rows([[1.0, 1.0], [2.0, -1.0]]);
        let v = Vector::from([3.0, 4.0]);
        assert_eq!(m * v, Vector::from([7.0, 2.0]));
        let row: Matrix<1, 2> = v.transpose();
        assert_eq!(row * v, Matrix::from_rows([[25.0]]));
        assert_eq!(v * row, Matrix::from_rows([[9.0, 12.0], [12.0, 16.0]]));
        assert_eq!(Matrix::<2, 2>::identity() * m, m);
        assert_eq!(m * Matrix::<2, 2>::identity(), m);
    }

    #[test]
    fn scalar_times_matrix_on_either_side() {
        let doubled = Matrix::from_rows([[2.0, 4.0, 6.0], [8.0, 10.0, 12.0]]);
        assert_eq!(A * 2.0, doubled);
        assert_eq!(&A * 2.0, doubled);
        assert_eq!(2.0 * A, doubled);
        assert_eq!(2.0 * &A, doubled);

        let v = Vector::from([1.0_f32, -2.0]);
        assert_eq!(v * 3.0, Vector::from([3.0, -6.0]));
        assert_eq!(3.0 * v, Vector::from([3.0, -6.0]));
        assert_eq!(3.0 * &v, Vector::from([3.0, -6.0]));
        assert_eq!(&v * 3.0, Vector::from([3.0, -6.0]));
    }

    #[test]
    fn divide_by_scalar_divides_each_entry() {
        let v = Vector::from([1.0, 2.0, 3.0]);
        assert_eq!(v / 3.0, Vector::from([1.0 / 3.0, 2.0 / 3.0, 1.0]));
        assert_eq!(&v / 2.0, Vector::from([0.5, 1.0, 1.5]));
        assert_eq!(Vector::from([1.0_f32]) / 4.0, Vector::from([0.25]));
    }

    #[test]
    fn negation_by_value_and_reference() {
        let negated = Matrix::from_rows([[-1.0, -2.0, -3.0], [-4.0, -5.0, -6.0]]);
        assert_eq!(-A, negated);
        assert_eq!(-&A, negated);
        assert_eq!(-Vector::from([1.0_f32, -0.0]), Vector::from([-1.0, 0.0]));
    }

    #[test]
    fn compound_assignment() {
        let mut m = A;
        m += B;
        assert_eq!(m, A + B);
        m -= &B;
        assert_eq!(m, A);
        m += &B;
        m -= B;
        assert_eq!(m, A);
        m *= 2.0;
        assert_eq!(m, A * 2.0);
        m /= 4.0;
        assert_eq!(m, A * 0.5);

        let mut v = Vector::from([1.0_f32, 2.0]);
        v += Vector::from([1.0, 1.0]);
        v *= 0.5;
        assert_eq!(v, Vector::from([1.0, 1.5]));
    }

    #[test]
    fn empty_shapes() {
        let a: Matrix<2, 0> = Matrix::zeros();
        let b: Matrix<0, 3> = Matrix::zeros();
        assert_eq!(a * b, Matrix::<2, 3>::zeros());
    }
}
