//! Sparse Jacobians: what `#[jacobian(sparse)]` returns.
//!
//! `{name}_jacobian_sparse(…)` returns a [`Sparse`]: the values of the Jacobian's
//! structurally non-zero entries only, in a fixed order, and the [`Pattern`] that says
//! where each one is. `{name}_jacobian_pattern()` returns the same pattern without
//! evaluating anything, so that a solver can analyse (order, factorise symbolically) the
//! structure once and then refill the values at each step.
//!
//! A pattern is a short list of [`Segment`]s known at compile time (an entry, a dense
//! row, a dense block, a diagonal of a banded block), each covering a run of the values:
//! it takes no memory that grows with the matrix, and [`Pattern::iter`] lists the
//! `(row, column)` of every value in order. It never lists a position twice. It may list
//! an entry that happens to be zero (a dense block's zeros, a branch not taken), never
//! omit one that is not.
//!
//! The values are an array `[T; NNZ]` where the function's sizes are literals or `const`
//! items (the number of values is then computed at compile time), and a `Vec<T>` where they
//! are const-generic parameters (stable Rust cannot write `[T; 2 * N - 1]`), which needs
//! the `alloc` feature (on with `std`, the default). [`Values`] is implemented by both.
//!
//! ```
//! use jacobian_runtime::{Pattern, Segment, Sparse};
//!
//! // A 3 × 3 upper bidiagonal matrix: the main diagonal, then the one above it.
//! static SEGMENTS: [Segment; 2] = [
//!     Segment::Diagonal { row: 0, col: 0, rows: 3, width: 3, shift: 0 },
//!     Segment::Diagonal { row: 0, col: 0, rows: 3, width: 3, shift: 1 },
//! ];
//! let pattern = Pattern::__new(3, 3, &SEGMENTS);
//! assert_eq!(pattern.len(), 5);
//! let positions: Vec<_> = pattern.iter().collect();
//! assert_eq!(positions, [(0, 0), (1, 1), (2, 2), (0, 1), (1, 2)]);
//! let j = Sparse::__new(pattern, [1.0, 2.0, 3.0, 4.0, 5.0]);
//! assert_eq!(j.get(1, 2), Some(5.0));
//! assert_eq!(j.get(2, 0), None);
//! ```

use crate::{Matrix, Scalar};

/// A run of a sparse matrix's values and where they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Segment {
    /// One entry.
    Entry {
        /// Its row.
        row: usize,
        /// Its column.
        col: usize,
    },
    /// Columns `col..col + len` of row `row`, left to right.
    Row {
        /// The row.
        row: usize,
        /// The first column.
        col: usize,
        /// The number of columns.
        len: usize,
    },
    /// Rows `row..row + rows` and columns `col..col + cols`, row-major.
    Block {
        /// The first row.
        row: usize,
        /// The first column.
        col: usize,
        /// The number of rows.
        rows: usize,
        /// The number of columns.
        cols: usize,
    },
    /// One diagonal of a banded block: entry `(row + r, col + r + shift)` for each
    /// `r < rows` with `0 ≤ r + shift < width`, in order of `r`.
    Diagonal {
        /// The block's first row.
        row: usize,
        /// The block's first column.
        col: usize,
        /// The block's rows.
        rows: usize,
        /// The block's columns.
        width: usize,
        /// Which diagonal: 0 the main one, 1 the one above it, −1 below.
        shift: isize,
    },
}

impl Segment {
    /// The rows `r` of a diagonal that are inside its block: `lo..hi`.
    const fn diagonal_range(rows: usize, width: usize, shift: isize) -> (usize, usize) {
        let lo = if shift < 0 { shift.unsigned_abs() } else { 0 };
        let end = width as isize - shift;
        let hi = if end < 0 {
            0
        } else if (end as usize) < rows {
            end as usize
        } else {
            rows
        };
        if hi < lo {
            (lo, lo)
        } else {
            (lo, hi)
        }
    }

    /// The number of values it covers.
    pub const fn len(&self) -> usize {
        match *self {
            Segment::Entry { .. } => 1,
            Segment::Row { len, .. } => len,
            Segment::Block { rows, cols, .. } => rows * cols,
            Segment::Diagonal { rows, width, shift, .. } => {
                let (lo, hi) = Segment::diagonal_range(rows, width, shift);
                hi - lo
            }
        }
    }

    /// Whether it covers no value.
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The position of its `k`-th value (`k < self.len()`).
    pub fn position(&self, k: usize) -> (usize, usize) {
        match *self {
            Segment::Entry { row, col } => (row, col),
            Segment::Row { row, col, .. } => (row, col + k),
            Segment::Block { row, col, cols, .. } => (row + k / cols, col + k % cols),
            Segment::Diagonal { row, col, rows, width, shift } => {
                let r = Segment::diagonal_range(rows, width, shift).0 + k;
                (row + r, (col + r).wrapping_add_signed(shift))
            }
        }
    }

    /// The index among its values of the entry at `(row, col)`, if it covers it.
    pub fn index_of(&self, row: usize, col: usize) -> Option<usize> {
        match *self {
            Segment::Entry { row: r, col: c } => (r == row && c == col).then_some(0),
            Segment::Row { row: r, col: c, len } => (r == row && col >= c && col - c < len).then(|| col - c),
            Segment::Block { row: r, col: c, rows, cols } => {
                let inside = row >= r && row - r < rows && col >= c && col - c < cols;
                inside.then(|| (row - r) * cols + col - c)
            }
            Segment::Diagonal { row: r0, col: c0, rows, width, shift } => {
                if row < r0 || col < c0 {
                    return None;
                }
                let r = row - r0;
                let (lo, hi) = Segment::diagonal_range(rows, width, shift);
                let on = (col - c0) as isize - r as isize == shift;
                (on && r >= lo && r < hi).then(|| r - lo)
            }
        }
    }
}

/// Where each value of a sparse Jacobian is: its shape and the [`Segment`]s that cover
/// the values in order. `Copy`, and as small as its few segments: get it from
/// `{name}_jacobian_pattern()` (no evaluation) or [`Sparse::pattern`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Pattern {
    rows: usize,
    cols: usize,
    segments: &'static [Segment],
}

impl Pattern {
    /// The pattern of a `rows × cols` matrix whose values the segments cover in order.
    /// Written by `#[jacobian(sparse)]`; the segments must lie inside the matrix and not
    /// overlap (debug builds check the first).
    #[doc(hidden)]
    pub const fn __new(rows: usize, cols: usize, segments: &'static [Segment]) -> Pattern {
        Pattern { rows, cols, segments }
    }

    /// The number of rows of the matrix.
    pub const fn rows(&self) -> usize {
        self.rows
    }

    /// The number of columns of the matrix.
    pub const fn cols(&self) -> usize {
        self.cols
    }

    /// The segments, in the order of the values.
    pub const fn segments(&self) -> &'static [Segment] {
        self.segments
    }

    /// The number of values (entries that may be non-zero): `nnz`.
    pub const fn len(&self) -> usize {
        let mut n = 0;
        let mut k = 0;
        while k < self.segments.len() {
            n += self.segments[k].len();
            k += 1;
        }
        n
    }

    /// Whether the matrix is structurally zero.
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `(row, column)` of each value, in order.
    pub fn iter(&self) -> PatternIter {
        PatternIter { segments: self.segments, at: 0 }
    }

    /// The index of the value at `(row, col)`, or `None` where the entry is a structural
    /// zero. Looks through the segments: O(number of segments).
    pub fn index_of(&self, row: usize, col: usize) -> Option<usize> {
        let mut start = 0;
        for segment in self.segments {
            if let Some(k) = segment.index_of(row, col) {
                return Some(start + k);
            }
            start += segment.len();
        }
        None
    }

    /// Whether `(row, col)` may be non-zero.
    pub fn contains(&self, row: usize, col: usize) -> bool {
        self.index_of(row, col).is_some()
    }

    /// The `(row, column)` of each value, in order.
    #[cfg(feature = "alloc")]
    pub fn to_vec(&self) -> alloc::vec::Vec<(usize, usize)> {
        self.iter().collect()
    }

    /// For each value, its index in compressed sparse column order (by column, then by
    /// row): the values of [`Sparse::to_csc`] are `csc[order[k]] = values[k]`, so a solver
    /// that holds a CSC matrix of this pattern refills it in place with
    /// [`Pattern::scatter`].
    #[cfg(feature = "alloc")]
    pub fn csc_order(&self) -> alloc::vec::Vec<usize> {
        self.order(|(row, col)| (col, row))
    }

    /// As [`Pattern::csc_order`], for compressed sparse row order (by row, then column).
    #[cfg(feature = "alloc")]
    pub fn csr_order(&self) -> alloc::vec::Vec<usize> {
        self.order(|position| position)
    }

    #[cfg(feature = "alloc")]
    fn order(&self, key: impl Fn((usize, usize)) -> (usize, usize)) -> alloc::vec::Vec<usize> {
        let mut by_key: alloc::vec::Vec<(usize, usize, usize)> =
            self.iter().enumerate().map(|(k, p)| (key(p).0, key(p).1, k)).collect();
        by_key.sort_unstable();
        let mut order = alloc::vec![0; by_key.len()];
        for (slot, (_, _, k)) in by_key.into_iter().enumerate() {
            order[k] = slot;
        }
        order
    }

    /// `target[order[k]] = values[k]` for every value: refills a matrix stored in another
    /// order (see [`Pattern::csc_order`]) without allocating.
    pub fn scatter<T: Copy>(order: &[usize], values: &[T], target: &mut [T]) {
        for (k, &slot) in order.iter().enumerate() {
            target[slot] = values[k];
        }
    }
}

impl IntoIterator for Pattern {
    type Item = (usize, usize);
    type IntoIter = PatternIter;

    fn into_iter(self) -> PatternIter {
        self.iter()
    }
}

/// The `(row, column)` of each value of a [`Pattern`], in order.
#[derive(Clone, Debug)]
pub struct PatternIter {
    segments: &'static [Segment],
    at: usize,
}

impl Iterator for PatternIter {
    type Item = (usize, usize);

    fn next(&mut self) -> Option<(usize, usize)> {
        loop {
            let segment = self.segments.first()?;
            if self.at < segment.len() {
                self.at += 1;
                return Some(segment.position(self.at - 1));
            }
            self.segments = &self.segments[1..];
            self.at = 0;
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let rest: usize = self.segments.iter().map(Segment::len).sum::<usize>() - self.at;
        (rest, Some(rest))
    }
}

impl ExactSizeIterator for PatternIter {}

/// The storage of a [`Sparse`]'s values: `[T; NNZ]` (sizes known at compile time) or
/// `Vec<T>` (const-generic sizes, feature `alloc`).
pub trait Values: sealed::Sealed {
    /// The scalar type.
    type Scalar;
    /// The values in order.
    fn as_slice(&self) -> &[Self::Scalar];
    /// The values in order, to change in place.
    fn as_mut_slice(&mut self) -> &mut [Self::Scalar];
}

mod sealed {
    pub trait Sealed {}
    impl<T, const N: usize> Sealed for [T; N] {}
    #[cfg(feature = "alloc")]
    impl<T> Sealed for alloc::vec::Vec<T> {}
}

impl<T, const N: usize> Values for [T; N] {
    type Scalar = T;
    fn as_slice(&self) -> &[T] {
        self
    }
    fn as_mut_slice(&mut self) -> &mut [T] {
        self
    }
}

#[cfg(feature = "alloc")]
impl<T> Values for alloc::vec::Vec<T> {
    type Scalar = T;
    fn as_slice(&self) -> &[T] {
        self
    }
    fn as_mut_slice(&mut self) -> &mut [T] {
        self
    }
}

/// A sparse matrix as `#[jacobian(sparse)]` returns it: the values of the entries its
/// [`Pattern`] lists, in the pattern's order. `V` is `[T; NNZ]` or `Vec<T>` ([`Values`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Sparse<V> {
    pattern: Pattern,
    values: V,
}

impl<V: Values> Sparse<V> {
    /// The matrix with these values at the pattern's positions. Written by
    /// `#[jacobian(sparse)]`.
    ///
    /// # Panics
    ///
    /// If there are not as many values as the pattern has positions.
    #[doc(hidden)]
    pub fn __new(pattern: Pattern, values: V) -> Sparse<V> {
        assert_eq!(values.as_slice().len(), pattern.len(), "one value per position of the pattern");
        Sparse { pattern, values }
    }

    /// Where each value is.
    pub fn pattern(&self) -> Pattern {
        self.pattern
    }

    /// The values, in the pattern's order.
    pub fn values(&self) -> &[V::Scalar] {
        self.values.as_slice()
    }

    /// The values, to change in place.
    pub fn values_mut(&mut self) -> &mut [V::Scalar] {
        self.values.as_mut_slice()
    }

    /// The values' storage.
    pub fn into_values(self) -> V {
        self.values
    }

    /// The number of values (`nnz`).
    pub fn len(&self) -> usize {
        self.pattern.len()
    }

    /// Whether there is no value (the matrix is structurally zero).
    pub fn is_empty(&self) -> bool {
        self.pattern.is_empty()
    }

    /// The number of rows.
    pub fn rows(&self) -> usize {
        self.pattern.rows
    }

    /// The number of columns.
    pub fn cols(&self) -> usize {
        self.pattern.cols
    }

    /// `(row, column, value)` for each value, in order.
    pub fn iter(&self) -> impl Iterator<Item = (usize, usize, V::Scalar)> + '_
    where
        V::Scalar: Copy,
    {
        self.pattern.iter().zip(self.values()).map(|((r, c), v)| (r, c, *v))
    }

    /// The entry at `(row, col)` if the pattern has it (O(number of segments)); `None` for
    /// a structural zero.
    pub fn get(&self, row: usize, col: usize) -> Option<V::Scalar>
    where
        V::Scalar: Copy,
    {
        self.pattern.index_of(row, col).map(|k| self.values()[k])
    }
}

impl<V: Values> Sparse<V>
where
    V::Scalar: Scalar,
{
    /// `y ← y + J·x`, without forming `J` (`x` has `cols()` components, `y` `rows()`).
    ///
    /// # Panics
    ///
    /// If `x` or `y` has the wrong length.
    pub fn mul_add_to(&self, x: &[V::Scalar], y: &mut [V::Scalar]) {
        assert_eq!((x.len(), y.len()), (self.cols(), self.rows()), "x has cols() components, y rows()");
        for (r, c, v) in self.iter() {
            y[r] += v * x[c];
        }
    }

    /// The dense matrix (for tests and small sizes: `R × C` must be the pattern's shape).
    ///
    /// # Panics
    ///
    /// If `R` or `C` differs from the pattern's shape.
    pub fn to_dense<const R: usize, const C: usize>(&self) -> Matrix<R, C, V::Scalar> {
        assert_eq!((R, C), (self.rows(), self.cols()), "the dense matrix's shape");
        let mut m = Matrix::zeros();
        for (r, c, v) in self.iter() {
            m[(r, c)] = v;
        }
        m
    }
}

#[cfg(feature = "nalgebra-sparse")]
impl<V: Values> Sparse<V>
where
    V::Scalar: nalgebra_sparse::na::Scalar + Copy + num_traits::Zero + nalgebra_sparse::na::ClosedAddAssign,
{
    /// nalgebra-sparse's coordinate form (feature `nalgebra-sparse`): the triplets in the
    /// pattern's order.
    pub fn to_coo(&self) -> nalgebra_sparse::CooMatrix<V::Scalar> {
        let (rows, cols): (alloc::vec::Vec<usize>, alloc::vec::Vec<usize>) = self.pattern.iter().unzip();
        nalgebra_sparse::CooMatrix::try_from_triplets(
            self.rows(),
            self.cols(),
            rows,
            cols,
            self.values().to_vec(),
        )
        .expect("the pattern lies inside the matrix")
    }

    /// nalgebra-sparse's compressed sparse column form (feature `nalgebra-sparse`), every
    /// position of the pattern stored (zeros too), so that its values can be refilled in
    /// place with [`Pattern::csc_order`] and [`Pattern::scatter`].
    pub fn to_csc(&self) -> nalgebra_sparse::CscMatrix<V::Scalar> {
        nalgebra_sparse::CscMatrix::from(&self.to_coo())
    }

    /// nalgebra-sparse's compressed sparse row form (feature `nalgebra-sparse`), every
    /// position of the pattern stored ([`Pattern::csr_order`] to refill it).
    pub fn to_csr(&self) -> nalgebra_sparse::CsrMatrix<V::Scalar> {
        nalgebra_sparse::CsrMatrix::from(&self.to_coo())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static SEGMENTS: [Segment; 5] = [
        Segment::Entry { row: 0, col: 4 },
        Segment::Row { row: 1, col: 3, len: 2 },
        Segment::Block { row: 2, col: 3, rows: 2, cols: 2 },
        Segment::Diagonal { row: 0, col: 0, rows: 4, width: 3, shift: 0 },
        Segment::Diagonal { row: 0, col: 0, rows: 4, width: 3, shift: -1 },
    ];

    #[test]
    fn positions_and_indices_agree() {
        let pattern = Pattern::__new(4, 5, &SEGMENTS);
        let positions: [(usize, usize); 14] = [
            (0, 4),
            (1, 3),
            (1, 4),
            (2, 3),
            (2, 4),
            (3, 3),
            (3, 4),
            (0, 0),
            (1, 1),
            (2, 2),
            (1, 0),
            (2, 1),
            (3, 2),
            // (No (3, 3) on the main diagonal of a 4 × 3 block: column 3 is outside it.)
            (usize::MAX, usize::MAX),
        ];
        assert_eq!(pattern.len(), 13);
        for (k, p) in pattern.iter().enumerate() {
            assert_eq!(p, positions[k]);
            assert_eq!(pattern.index_of(p.0, p.1), Some(k));
        }
        assert_eq!(pattern.iter().len(), 13);
        assert_eq!(pattern.index_of(0, 1), None);
        assert_eq!(pattern.index_of(3, 0), None);
    }

    #[test]
    fn diagonals_outside_the_block_are_empty() {
        for shift in -6..=6 {
            let d = Segment::Diagonal { row: 0, col: 0, rows: 3, width: 4, shift };
            let expected = (0..3).filter(|r| (0..4).contains(&(r + shift))).count();
            assert_eq!(d.len(), expected, "shift {shift}");
        }
    }

    #[test]
    fn sparse_products_and_dense() {
        static BAND: [Segment; 2] = [
            Segment::Diagonal { row: 0, col: 0, rows: 3, width: 3, shift: 0 },
            Segment::Diagonal { row: 0, col: 0, rows: 3, width: 3, shift: 1 },
        ];
        let j = Sparse::__new(Pattern::__new(3, 3, &BAND), [1.0, 2.0, 3.0, 4.0, 5.0]);
        let dense: Matrix<3, 3> = j.to_dense();
        assert_eq!(dense, Matrix::from_rows([[1.0, 4.0, 0.0], [0.0, 2.0, 5.0], [0.0, 0.0, 3.0]]));
        let mut y = [1.0; 3];
        j.mul_add_to(&[1.0, 1.0, 1.0], &mut y);
        assert_eq!(y, [6.0, 8.0, 4.0]);
    }

    #[cfg(feature = "alloc")]
    #[test]
    fn compressed_orders() {
        static BAND: [Segment; 2] = [
            Segment::Diagonal { row: 0, col: 0, rows: 3, width: 3, shift: 0 },
            Segment::Diagonal { row: 0, col: 0, rows: 3, width: 3, shift: 1 },
        ];
        let pattern = Pattern::__new(3, 3, &BAND);
        // Values (0,0) (1,1) (2,2) (0,1) (1,2); by column: (0,0) (0,1) (1,1) (1,2) (2,2).
        assert_eq!(pattern.csc_order(), [0, 2, 4, 1, 3]);
        assert_eq!(pattern.csr_order(), [0, 2, 4, 1, 3]);
        let mut csc = [0.0; 5];
        Pattern::scatter(&pattern.csc_order(), &[1.0, 2.0, 3.0, 4.0, 5.0], &mut csc);
        assert_eq!(csc, [1.0, 4.0, 2.0, 5.0, 3.0]);
    }
}
