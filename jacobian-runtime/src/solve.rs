//! Linear systems: [`Matrix::solve`] and [`Matrix::try_inverse`], through an LU
//! factorisation with partial pivoting that [`Matrix::determinant`] shares.
//!
//! Everything happens in fixed-size arrays on the stack; nothing is allocated.

use crate::{Matrix, Scalar};

/// `P·A = L·U` for a square `A`, packed into one array: `U` on and above the
/// diagonal, the multipliers of `L` (whose diagonal is all ones) below it, as
/// Gaussian elimination with partial pivoting leaves them.
pub(crate) struct Lu<const N: usize, T> {
    /// `L` strictly below the diagonal, `U` on and above it.
    lu: [[T; N]; N],
    /// `P` as LAPACK's `ipiv`: step `k` swapped row `k` with row `swaps[k] >= k`.
    swaps: [usize; N],
}

impl<const N: usize, T: Scalar> Lu<N, T> {
    /// Factors `a`, or `None` when a column has no nonzero pivot left (`a` is then
    /// exactly singular). Pivots that are not finite are kept: the determinant
    /// propagates them, [`Lu::solve`] refuses them.
    ///
    /// The arithmetic is that of textbook elimination: at step `k` the row with the
    /// largest `|a[i][k]|` (the first of equals) becomes the pivot row, and every
    /// row below it loses `a[i][k] / a[k][k]` times it.
    pub(crate) fn new(mut a: [[T; N]; N]) -> Option<Self> {
        let mut swaps = [0; N];
        for k in 0..N {
            // Pivot on the largest magnitude in the column to keep the multipliers <= 1.
            let mut pivot = k;
            for i in k + 1..N {
                if abs(a[i][k]) > abs(a[pivot][k]) {
                    pivot = i;
                }
            }
            if a[pivot][k] == T::ZERO {
                return None;
            }
            a.swap(pivot, k);
            swaps[k] = pivot;
            let (done, rest) = a.split_at_mut(k + 1);
            let pivot_row = &done[k];
            for row in rest {
                let factor = row[k] / pivot_row[k];
                row[k] = factor;
                for j in k + 1..N {
                    row[j] -= factor * pivot_row[j];
                }
            }
        }
        Some(Self { lu: a, swaps })
    }

    /// The determinant: the product of the pivots in order, negated once per row
    /// swap, each negation at its step (so that even a NaN's sign is as it was when
    /// this loop lived in `determinant`).
    pub(crate) fn determinant(&self) -> T {
        let mut determinant = T::ONE;
        for (k, row) in self.lu.iter().enumerate() {
            if self.swaps[k] != k {
                determinant = -determinant;
            }
            determinant *= row[k];
        }
        determinant
    }

    /// Whether every pivot is finite, so that substitution divides by finite
    /// nonzero numbers only.
    fn pivots_are_finite(&self) -> bool {
        self.lu.iter().enumerate().all(|(k, row)| is_finite(row[k]))
    }

    /// `A⁻¹·b` for `K` right-hand sides at once, or `None` if a pivot is not finite.
    pub(crate) fn solve<const K: usize>(&self, b: &[[T; K]; N]) -> Option<[[T; K]; N]> {
        if !self.pivots_are_finite() {
            return None;
        }
        let mut x = *b;
        for (k, &pivot) in self.swaps.iter().enumerate() {
            x.swap(k, pivot);
        }
        // L·y = P·b, top to bottom (L has a unit diagonal).
        for i in 1..N {
            let (done, rest) = x.split_at_mut(i);
            let xi = &mut rest[0];
            for (&l, xj) in self.lu[i][..i].iter().zip(done.iter()) {
                axpy(xi, l, xj);
            }
        }
        // U·x = y, bottom to top.
        for i in (0..N).rev() {
            let (head, solved) = x.split_at_mut(i + 1);
            let xi = &mut head[i];
            for (&u, xj) in self.lu[i][i + 1..].iter().zip(solved.iter()) {
                axpy(xi, u, xj);
            }
            let pivot = self.lu[i][i];
            for value in xi.iter_mut() {
                *value /= pivot;
            }
        }
        Some(x)
    }
}

/// `y -= a·x`, row by row.
#[inline]
fn axpy<const K: usize, T: Scalar>(y: &mut [T; K], a: T, x: &[T; K]) {
    for (y, &x) in y.iter_mut().zip(x) {
        *y -= a * x;
    }
}

/// `|x|` without `std`'s float math.
#[inline]
pub(crate) fn abs<T: Scalar>(x: T) -> T {
    if x < T::ZERO {
        -x
    } else {
        x
    }
}

/// Neither infinite nor NaN, without `std` or a trait method: `0·x` is zero exactly
/// for finite `x` (`0·∞` and anything involving NaN are NaN).
#[inline]
fn is_finite<T: Scalar>(x: T) -> bool {
    x * T::ZERO == T::ZERO
}

impl<const N: usize, T: Scalar> Matrix<N, N, T> {
    /// The solution `X` of `self · X = b`, or `None` when `self` is singular.
    ///
    /// `b` holds `K` right-hand sides as its columns (a [`Vector`](crate::Vector) for
    /// one), and the result has the same shape. The method is Gaussian elimination
    /// with partial pivoting (an LU factorisation of a copy of `self`, on the stack,
    /// shared with [`determinant`](Matrix::determinant)), then forward and back
    /// substitution; a Newton step is `x - jacobian.solve(&f)?`.
    ///
    /// `None` means that a pivot was exactly zero or not finite (infinite or NaN).
    /// Nothing else is checked: a nearly singular matrix gives a solution whose
    /// error grows with its condition number, and non-finite entries elsewhere in
    /// `self` or `b` may give non-finite components. Check the residual
    /// `self * x - b` where that matters.
    ///
    /// ```
    /// use jacobian_runtime::{Matrix, Vector};
    ///
    /// // 2x + y = 3, x + 3y = 5 (the zero-pivot case [[0, 1], [1, 0]] works too).
    /// let a = Matrix::from_rows([[2.0, 1.0], [1.0, 3.0]]);
    /// let x = a.solve(&Vector::from([3.0, 5.0])).unwrap();
    /// assert!((a * x - Vector::from([3.0, 5.0])).norm_squared() < 1e-24);
    /// assert!((x - Vector::from([0.8, 1.4])).norm_squared() < 1e-24);
    ///
    /// // Several right-hand sides at once: the columns of `b`.
    /// let b = Matrix::from_rows([[3.0, 1.0], [5.0, 0.0]]);
    /// let xs: Matrix<2, 2> = a.solve(&b).unwrap();
    /// assert!((a * xs - b).norm_squared() < 1e-24);
    ///
    /// // Singular: the second row is twice the first.
    /// let singular = Matrix::from_rows([[1.0, 2.0], [2.0, 4.0]]);
    /// assert_eq!(singular.solve(&Vector::from([1.0, 2.0])), None);
    /// ```
    pub fn solve<const K: usize>(&self, b: &Matrix<N, K, T>) -> Option<Matrix<N, K, T>> {
        Lu::new(*self.as_rows())?.solve(b.as_rows()).map(Matrix::from_rows)
    }

    /// The inverse, or `None` when `self` is singular (as for [`solve`](Matrix::solve),
    /// whose conditions and caveats apply: this is `self.solve(&Matrix::identity())`).
    ///
    /// The name is nalgebra's. To solve a linear system, prefer `solve`: it is
    /// cheaper and more accurate than multiplying by the inverse.
    ///
    /// ```
    /// use jacobian_runtime::Matrix;
    ///
    /// let a = Matrix::from_rows([[4.0, 7.0], [2.0, 6.0]]);
    /// let inverse = a.try_inverse().unwrap();
    /// let expected = Matrix::from_rows([[0.6, -0.7], [-0.2, 0.4]]);
    /// assert!((inverse - expected).norm_squared() < 1e-24);
    /// assert!((a * inverse - Matrix::identity()).norm_squared() < 1e-24);
    ///
    /// assert_eq!(Matrix::<3, 3>::zeros().try_inverse(), None);
    /// ```
    pub fn try_inverse(&self) -> Option<Self> {
        self.solve(&Self::identity())
    }
}

#[cfg(test)]
mod tests {
    use crate::{Matrix, Scalar, Vector};

    /// A tiny linear congruential generator (Knuth's MMIX constants): deterministic,
    /// and enough to draw test matrices without a dependency.
    struct Lcg(u64);

    impl Lcg {
        /// Uniform in [-1, 1).
        fn next(&mut self) -> f64 {
            self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            // The top 53 bits, as a fraction in [0, 1).
            (self.0 >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        }

        fn matrix<const R: usize, const C: usize, T: Scalar>(&mut self) -> Matrix<R, C, T> {
            Matrix::from_rows(core::array::from_fn(|_| core::array::from_fn(|_| T::from_f64(self.next()))))
        }

        /// A random matrix plus `N` on the diagonal: strictly diagonally dominant
        /// (each off-diagonal entry is below 1 in magnitude), so well-conditioned.
        /// The rows are shuffled so that pivoting has work to do.
        fn well_conditioned<const N: usize, T: Scalar>(&mut self) -> Matrix<N, N, T> {
            let mut m: Matrix<N, N, T> = self.matrix() + Matrix::identity() * T::from_i32(N as i32);
            let rows = m.as_rows_mut();
            for i in (1..N).rev() {
                let j = ((self.next() + 1.0) / 2.0 * (i + 1) as f64) as usize;
                rows.swap(i, j.min(i));
            }
            m
        }
    }

    /// The largest absolute entry.
    fn max_abs<const R: usize, const C: usize, T: Scalar>(m: &Matrix<R, C, T>) -> T {
        m.iter().fold(T::ZERO, |acc, &x| {
            let x = super::abs(x);
            if x > acc {
                x
            } else {
                acc
            }
        })
    }

    /// Solves random systems and checks `max |A·x − b|` against `tolerance`.
    fn check_random_systems<const N: usize, const K: usize, T: Scalar>(rng: &mut Lcg, tolerance: T) {
        for _ in 0..20 {
            let a: Matrix<N, N, T> = rng.well_conditioned();
            let b: Matrix<N, K, T> = rng.matrix();
            let x = a.solve(&b).unwrap_or_else(|| panic!("{N}x{N} system reported singular: {a:?}"));
            let residual = max_abs(&(a * x - b));
            assert!(residual <= tolerance, "{N}x{N}, {K} right-hand sides: residual {residual} for {a:?}");
        }
    }

    #[test]
    fn random_well_conditioned_systems_have_small_residuals() {
        let mut rng = Lcg(0x5eed);
        check_random_systems::<1, 1, f64>(&mut rng, 1e-14);
        check_random_systems::<2, 1, f64>(&mut rng, 1e-14);
        check_random_systems::<3, 1, f64>(&mut rng, 1e-14);
        check_random_systems::<4, 2, f64>(&mut rng, 1e-13);
        check_random_systems::<7, 1, f64>(&mut rng, 1e-13);
        check_random_systems::<10, 3, f64>(&mut rng, 1e-13);
        check_random_systems::<16, 1, f64>(&mut rng, 1e-12);
        check_random_systems::<3, 1, f32>(&mut rng, 1e-5);
        check_random_systems::<10, 2, f32>(&mut rng, 1e-5);
    }

    #[test]
    fn solution_matches_a_known_one() {
        // A·x for a chosen x, then solved back.
        let mut rng = Lcg(42);
        let a: Matrix<6, 6> = rng.well_conditioned();
        let x: Vector<6> = rng.matrix();
        let solved = a.solve(&(a * x)).unwrap();
        assert!(max_abs(&(solved - x)) < 1e-13, "{solved:?} vs {x:?}");
    }

    #[test]
    fn one_by_one_divides() {
        assert_eq!(Matrix::from_rows([[4.0]]).solve(&Vector::from([2.0])), Some(Vector::from([0.5])));
        assert_eq!(
            Matrix::from_rows([[-2.0_f32]]).solve(&Matrix::from_rows([[1.0, 4.0]])),
            Some(Matrix::from_rows([[-0.5, -2.0]]))
        );
        assert_eq!(Matrix::from_rows([[4.0]]).try_inverse(), Some(Matrix::from_rows([[0.25]])));
        assert_eq!(Matrix::from_rows([[0.0]]).solve(&Vector::from([1.0])), None);
    }

    #[test]
    fn zero_leading_pivot_needs_a_row_swap() {
        let swap = Matrix::from_rows([[0.0, 1.0], [1.0, 0.0]]);
        assert_eq!(swap.solve(&Vector::from([2.0, 3.0])), Some(Vector::from([3.0, 2.0])));
        assert_eq!(swap.try_inverse(), Some(swap));

        // A cyclic shift with a zero on every diagonal entry.
        let cycle = Matrix::from_rows([
            [0.0, 1.0, 0.0, 0.0],
            [0.0, 0.0, 1.0, 0.0],
            [0.0, 0.0, 0.0, 1.0],
            [2.0, 0.0, 0.0, 0.0],
        ]);
        let b = Vector::from([1.0, 2.0, 3.0, 4.0]);
        assert_eq!(cycle.solve(&b), Some(Vector::from([2.0, 1.0, 2.0, 3.0])));

        // A zero pivot that appears only after the first elimination step.
        let later = Matrix::from_rows([[1.0, 1.0, 1.0], [1.0, 1.0, 2.0], [1.0, 2.0, 2.0]]);
        let x = later.solve(&Vector::from([3.0, 4.0, 5.0])).unwrap();
        assert_eq!(x, Vector::from([1.0, 1.0, 1.0]));
    }

    #[test]
    fn singular_matrices_give_none() {
        let rank_one = Matrix::from_rows([[1.0, 2.0], [2.0, 4.0]]);
        assert_eq!(rank_one.solve(&Vector::from([1.0, 2.0])), None);
        assert_eq!(rank_one.try_inverse(), None);

        let repeated_row = Matrix::from_rows([
            [1.0, 2.0, 3.0, 4.0],
            [2.0, 0.0, 1.0, 5.0],
            [1.0, 2.0, 3.0, 4.0],
            [7.0, 1.0, 0.0, 2.0],
        ]);
        assert_eq!(repeated_row.solve(&Vector::from([1.0, 1.0, 1.0, 1.0])), None);
        assert_eq!(Matrix::<5, 5, f32>::zeros().try_inverse(), None);

        let zero_column = Matrix::from_rows([[1.0, 0.0, 3.0], [2.0, 0.0, 1.0], [4.0, 0.0, 5.0]]);
        assert_eq!(zero_column.try_inverse(), None);
    }

    #[test]
    fn non_finite_pivots_give_none() {
        let nan = Matrix::from_rows([[f64::NAN, 1.0], [1.0, 1.0]]);
        assert_eq!(nan.solve(&Vector::from([1.0, 1.0])), None);
        let infinite = Matrix::from_rows([[f64::INFINITY, 0.0], [0.0, 1.0]]);
        assert_eq!(infinite.try_inverse(), None);
        let infinite_f32 = Matrix::from_rows([[1.0, 0.0], [0.0, f32::NEG_INFINITY]]);
        assert_eq!(infinite_f32.solve(&Vector::from([1.0, 1.0])), None);
    }

    #[test]
    fn empty_system_has_the_empty_solution() {
        assert_eq!(Matrix::<0, 0>::zeros().solve(&Matrix::<0, 2>::zeros()), Some(Matrix::zeros()));
        assert_eq!(Matrix::<0, 0>::zeros().try_inverse(), Some(Matrix::zeros()));
    }

    #[test]
    fn inverse_times_matrix_is_the_identity() {
        let mut rng = Lcg(7);
        for _ in 0..20 {
            let a: Matrix<5, 5> = rng.well_conditioned();
            let inverse = a.try_inverse().unwrap();
            assert!(max_abs(&(inverse * a - Matrix::identity())) < 1e-14, "{a:?}");
            assert!(max_abs(&(a * inverse - Matrix::identity())) < 1e-14, "{a:?}");
        }
        let a: Matrix<8, 8, f32> = rng.well_conditioned();
        let inverse = a.try_inverse().unwrap();
        assert!(max_abs(&(inverse * a - Matrix::identity())) < 1e-5);

        // Integer matrix with an integer inverse (determinant 1): exact.
        let a = Matrix::from_rows([[2.0, 3.0, 1.0], [1.0, 2.0, 1.0], [1.0, 1.0, 1.0]]);
        let inverse = a.try_inverse().unwrap();
        assert!(
            max_abs(&(inverse - Matrix::from_rows([[1.0, -2.0, 1.0], [0.0, 1.0, -1.0], [-1.0, 1.0, 1.0]])))
                < 1e-15
        );
    }

    #[test]
    fn determinant_agrees_with_the_factorisation() {
        // The LU determinant is used from size 4; compare with the product of the
        // inverse's determinant on random matrices: det(A)·det(A⁻¹) = 1.
        let mut rng = Lcg(99);
        for _ in 0..10 {
            let a: Matrix<6, 6> = rng.well_conditioned();
            let product = a.determinant() * a.try_inverse().unwrap().determinant();
            assert!((product - 1.0).abs() < 1e-12, "{product}");
        }
    }
}
