//! Helpers called only by code that `#[jacobian]` generates: the loops over rows of
//! partial derivatives, written once here instead of in every expansion. Not public API.

use crate::{Matrix, Scalar};

/// `c · row`.
#[inline(always)]
pub fn scaled<T: Scalar, const N: usize>(c: T, row: &[T; N]) -> [T; N] {
    let mut out = *row;
    for v in &mut out {
        *v = c * *v;
    }
    out
}

/// `row ← c · row`.
#[inline(always)]
pub fn scale<T: Scalar, const N: usize>(row: &mut [T; N], c: T) {
    for v in row {
        *v = c * *v;
    }
}

/// `acc ← acc + c · row`.
#[inline(always)]
pub fn axpy<T: Scalar, const N: usize>(acc: &mut [T; N], c: T, row: &[T; N]) {
    for (a, r) in acc.iter_mut().zip(row) {
        *a += c * *r;
    }
}

/// `v[offset..offset + L]` as one-column rows `[[T; 1]; L]`: the tangent of a parameter
/// of `L` components seeded with its part of a direction `v` (`jvp`, `hvp`).
#[inline(always)]
pub fn direction_rows<T: Scalar, const N: usize, const L: usize>(v: &[T; N], offset: usize) -> [[T; 1]; L] {
    let mut rows = [[T::ZERO; 1]; L];
    for (k, row) in rows.iter_mut().enumerate() {
        row[0] = v[offset + k];
    }
    rows
}

/// Makes a Hessian exactly symmetric: its upper triangle copied onto the lower one (forward
/// over reverse computes both, equal up to rounding).
#[inline(always)]
pub fn mirror_upper<T: Scalar, const N: usize>(h: &mut Matrix<N, N, T>) {
    let rows = h.as_rows_mut();
    for i in 1..N {
        let (upper, lower) = rows.split_at_mut(i);
        for (x, row) in lower[0].iter_mut().zip(upper.iter()) {
            *x = row[i];
        }
    }
}

/// The rows of the identity, `[[T; N]; N]`.
#[inline(always)]
pub fn identity_rows<T: Scalar, const N: usize>() -> [[T; N]; N] {
    let mut rows = [[T::ZERO; N]; N];
    for (i, row) in rows.iter_mut().enumerate() {
        row[i] = T::ONE;
    }
    rows
}

/// `j[i, offset..offset + N] += c · row`.
#[inline(always)]
pub fn add_row<T: Scalar, const R: usize, const C: usize, const N: usize>(
    j: &mut Matrix<R, C, T>,
    i: usize,
    offset: usize,
    c: T,
    row: &[T; N],
) {
    for (k, r) in row.iter().enumerate() {
        j[(i, offset + k)] += c * *r;
    }
}

/// `j[k, offset + k] += 1` for `k < len`.
#[inline(always)]
pub fn add_identity<T: Scalar, const R: usize, const C: usize>(
    j: &mut Matrix<R, C, T>,
    offset: usize,
    len: usize,
) {
    for k in 0..len {
        j[(k, offset + k)] += T::ONE;
    }
}

/// `j[0..M, offset..offset + N] += rows`.
#[inline(always)]
pub fn add_block<T: Scalar, const R: usize, const C: usize, const N: usize, const M: usize>(
    j: &mut Matrix<R, C, T>,
    offset: usize,
    rows: &[[T; N]; M],
) {
    for (i, row) in rows.iter().enumerate() {
        for (k, r) in row.iter().enumerate() {
            j[(i, offset + k)] += *r;
        }
    }
}

/// Marks, in a function's `__{name}_jacobian_parts`, a parameter it does not differentiate.
#[derive(Clone, Copy, Debug)]
pub struct NotDifferentiated;

/// A callee's Jacobian block for one parameter, `M × L`, as used by the chain rule.
#[diagnostic::on_unimplemented(
    message = "a value that depends on the differentiated parameters is passed to a parameter the called function does not differentiate",
    label = "the called function treats this parameter as a constant",
    note = "list the parameter in the called function's `#[jacobian(wrt(…))]`, or pass a value that does not depend on the differentiated parameters"
)]
pub trait Partial<T, const M: usize, const L: usize> {
    /// Entry `(i, k)`.
    fn entry(&self, i: usize, k: usize) -> T;
}

impl<T: Scalar, const M: usize, const L: usize> Partial<T, M, L> for Matrix<M, L, T> {
    #[inline(always)]
    fn entry(&self, i: usize, k: usize) -> T {
        self[(i, k)]
    }
}

/// `P · row` for a scalar argument: `P` is `M × 1`.
#[inline(always)]
pub fn chain_scalar<T: Scalar, P: Partial<T, M, 1>, const M: usize, const N: usize>(
    p: &P,
    row: &[T; N],
) -> [[T; N]; M] {
    let mut out = [[T::ZERO; N]; M];
    for (i, out_row) in out.iter_mut().enumerate() {
        let c = p.entry(i, 0);
        for (o, r) in out_row.iter_mut().zip(row) {
            *o = c * *r;
        }
    }
    out
}

/// `P · R` for an array argument with run-time rows `R` (`L × N`).
#[inline(always)]
pub fn chain_rows<T: Scalar, P: Partial<T, M, L>, const M: usize, const L: usize, const N: usize>(
    p: &P,
    rows: &[[T; N]; L],
) -> [[T; N]; M] {
    let mut out = [[T::ZERO; N]; M];
    for (i, out_row) in out.iter_mut().enumerate() {
        for (l, row) in rows.iter().enumerate() {
            let c = p.entry(i, l);
            for (o, r) in out_row.iter_mut().zip(row) {
                *o += c * *r;
            }
        }
    }
    out
}

/// `P · I`: the argument is the parameter itself.
#[inline(always)]
pub fn chain_identity<T: Scalar, P: Partial<T, M, L>, const M: usize, const L: usize>(p: &P) -> [[T; L]; M] {
    let mut out = [[T::ZERO; L]; M];
    for (i, out_row) in out.iter_mut().enumerate() {
        for (k, o) in out_row.iter_mut().enumerate() {
            *o = p.entry(i, k);
        }
    }
    out
}

/// `acc ← acc + rows`.
#[inline(always)]
pub fn add_rows<T: Scalar, const N: usize, const M: usize>(acc: &mut [[T; N]; M], rows: &[[T; N]; M]) {
    for (a, r) in acc.iter_mut().zip(rows) {
        for (x, y) in a.iter_mut().zip(r) {
            *x += *y;
        }
    }
}

// Matrix calculus. A value with `L` components (row-major for a matrix) carries, per
// differentiated parameter of `N` components, its Jacobian block as rows `[[T; N]; L]`.

/// The components of `m`, row-major.
#[inline(always)]
pub fn flat<T: Scalar, const R: usize, const C: usize, const L: usize>(m: &Matrix<R, C, T>) -> [T; L] {
    debug_assert_eq!(L, R * C);
    let mut out = [T::ZERO; L];
    for (l, o) in out.iter_mut().enumerate() {
        *o = m[(l / C, l % C)];
    }
    out
}

/// The matrix whose components, row-major, are `a`.
#[inline(always)]
pub fn unflat<T: Scalar, const R: usize, const C: usize, const L: usize>(a: &[T; L]) -> Matrix<R, C, T> {
    debug_assert_eq!(L, R * C);
    let mut m = Matrix::zeros();
    for (l, x) in a.iter().enumerate() {
        m[(l / C, l % C)] = *x;
    }
    m
}

/// The components of a nested array, row-major.
#[inline(always)]
pub fn flat_rows<T: Scalar, const C: usize, const R: usize, const L: usize>(a: &[[T; C]; R]) -> [T; L] {
    debug_assert_eq!(L, R * C);
    let mut out = [T::ZERO; L];
    for (l, o) in out.iter_mut().enumerate() {
        *o = a[l / C][l % C];
    }
    out
}

/// The nested array whose components, row-major, are `a`.
#[inline(always)]
pub fn unflat_rows<T: Scalar, const C: usize, const R: usize, const L: usize>(a: &[T; L]) -> [[T; C]; R] {
    debug_assert_eq!(L, R * C);
    let mut out = [[T::ZERO; C]; R];
    for (l, x) in a.iter().enumerate() {
        out[l / C][l % C] = *x;
    }
    out
}

/// `[v; N]`.
#[inline(always)]
pub fn filled<T: Scalar, const N: usize>(v: T) -> [T; N] {
    [v; N]
}

/// `[1; N]`.
#[inline(always)]
pub fn ones<T: Scalar, const N: usize>() -> [T; N] {
    [T::ONE; N]
}

/// `a ⊙ b`.
#[inline(always)]
pub fn mul_flat<T: Scalar, const L: usize>(a: &[T; L], b: &[T; L]) -> [T; L] {
    let mut out = *a;
    for (o, y) in out.iter_mut().zip(b) {
        *o *= *y;
    }
    out
}

/// `diag(d)` as rows.
#[inline(always)]
pub fn diag_rows<T: Scalar, const N: usize>(d: &[T; N]) -> [[T; N]; N] {
    let mut rows = [[T::ZERO; N]; N];
    for (i, row) in rows.iter_mut().enumerate() {
        row[i] = d[i];
    }
    rows
}

/// `a + b`.
#[inline(always)]
pub fn rows_add<T: Scalar, const N: usize, const L: usize>(a: &[[T; N]; L], b: &[[T; N]; L]) -> [[T; N]; L] {
    let mut out = *a;
    add_rows(&mut out, b);
    out
}

/// `a − b`.
#[inline(always)]
pub fn rows_sub<T: Scalar, const N: usize, const L: usize>(a: &[[T; N]; L], b: &[[T; N]; L]) -> [[T; N]; L] {
    let mut out = *a;
    for (o, r) in out.iter_mut().zip(b) {
        for (x, y) in o.iter_mut().zip(r) {
            *x -= *y;
        }
    }
    out
}

/// `c · a`.
#[inline(always)]
pub fn rows_scaled<T: Scalar, const N: usize, const L: usize>(c: T, a: &[[T; N]; L]) -> [[T; N]; L] {
    let mut out = *a;
    for row in &mut out {
        scale(row, c);
    }
    out
}

/// `diag(d) · a`: row `l` scaled by `d[l]`, O(L·N).
#[inline(always)]
pub fn scale_rows<T: Scalar, const N: usize, const L: usize>(d: &[T; L], a: &[[T; N]; L]) -> [[T; N]; L] {
    let mut out = *a;
    for (row, c) in out.iter_mut().zip(d) {
        scale(row, *c);
    }
    out
}

/// `v · rowᵀ`, the outer product: row `l` is `v[l] · row`.
#[inline(always)]
pub fn outer<T: Scalar, const N: usize, const L: usize>(v: &[T; L], row: &[T; N]) -> [[T; N]; L] {
    let mut out = [[T::ZERO; N]; L];
    for (o, c) in out.iter_mut().zip(v) {
        *o = scaled(*c, row);
    }
    out
}

/// `Σ_l v[l] · a[l]`.
#[inline(always)]
pub fn dot_rows<T: Scalar, const N: usize, const L: usize>(v: &[T; L], a: &[[T; N]; L]) -> [T; N] {
    let mut out = [T::ZERO; N];
    for (row, c) in a.iter().zip(v) {
        axpy(&mut out, *c, row);
    }
    out
}

/// `Σ_l a[l]`.
#[inline(always)]
pub fn sum_rows<T: Scalar, const N: usize, const L: usize>(a: &[[T; N]; L]) -> [T; N] {
    let mut out = [T::ZERO; N];
    for row in a {
        for (o, r) in out.iter_mut().zip(row) {
            *o += *r;
        }
    }
    out
}

/// `A · dB` for a constant `A` (`R × K`) and `B` (`K × C`, `C = LB / K`) with rows `rb`.
#[inline(always)]
pub fn mul_rows<
    T: Scalar,
    const R: usize,
    const K: usize,
    const N: usize,
    const LB: usize,
    const LO: usize,
>(
    a: &Matrix<R, K, T>,
    rb: &[[T; N]; LB],
) -> [[T; N]; LO] {
    let c = LB / K;
    debug_assert_eq!(LO, R * c);
    let mut out = [[T::ZERO; N]; LO];
    for (o, out_row) in out.iter_mut().enumerate() {
        let (i, j) = (o / c, o % c);
        for k in 0..K {
            axpy(out_row, a[(i, k)], &rb[k * c + j]);
        }
    }
    out
}

/// `A · dB` where `B` (`K × C`) is the parameter itself: row `(i, j)` has `A[i, k]` at
/// column `k·C + j`.
#[inline(always)]
pub fn mul_identity<T: Scalar, const R: usize, const K: usize, const N: usize, const LO: usize>(
    a: &Matrix<R, K, T>,
) -> [[T; N]; LO] {
    let c = N / K;
    debug_assert_eq!(LO, R * c);
    let mut out = [[T::ZERO; N]; LO];
    for (o, out_row) in out.iter_mut().enumerate() {
        let (i, j) = (o / c, o % c);
        for k in 0..K {
            out_row[k * c + j] = a[(i, k)];
        }
    }
    out
}

/// `A · diag(d)` for a constant `A` and a vector with diagonal rows: column scaling.
#[inline(always)]
pub fn mul_diag<T: Scalar, const R: usize, const K: usize>(a: &Matrix<R, K, T>, d: &[T; K]) -> [[T; K]; R] {
    let mut out = [[T::ZERO; K]; R];
    for (i, row) in out.iter_mut().enumerate() {
        for (k, o) in row.iter_mut().enumerate() {
            *o = a[(i, k)] * d[k];
        }
    }
    out
}

/// `dA · B` for rows `ra` of `A` (`R × K`, `R = LA / K`) and a constant `B` (`K × C`).
#[inline(always)]
pub fn rows_mul<
    T: Scalar,
    const K: usize,
    const C: usize,
    const N: usize,
    const LA: usize,
    const LO: usize,
>(
    ra: &[[T; N]; LA],
    b: &Matrix<K, C, T>,
) -> [[T; N]; LO] {
    debug_assert_eq!(LO, (LA / K) * C);
    let mut out = [[T::ZERO; N]; LO];
    for (o, out_row) in out.iter_mut().enumerate() {
        let (i, j) = (o / C, o % C);
        for k in 0..K {
            axpy(out_row, b[(k, j)], &ra[i * K + k]);
        }
    }
    out
}

/// `dA · B` where `A` (`R × K`, `N = R·K`) is the parameter itself: row `(i, j)` has
/// `B[k, j]` at column `i·K + k`.
#[inline(always)]
pub fn identity_mul<T: Scalar, const K: usize, const C: usize, const N: usize, const LO: usize>(
    b: &Matrix<K, C, T>,
) -> [[T; N]; LO] {
    debug_assert_eq!(LO, (N / K) * C);
    let mut out = [[T::ZERO; N]; LO];
    for (o, out_row) in out.iter_mut().enumerate() {
        let (i, j) = (o / C, o % C);
        for k in 0..K {
            out_row[i * K + k] = b[(k, j)];
        }
    }
    out
}

/// Rows of `Aᵀ` from rows of `A` (`rows × cols`).
#[inline(always)]
pub fn transpose_rows<T: Scalar, const N: usize, const L: usize>(
    a: &[[T; N]; L],
    rows: usize,
    cols: usize,
) -> [[T; N]; L] {
    let mut out = *a;
    for i in 0..rows {
        for j in 0..cols {
            out[j * rows + i] = a[i * cols + j];
        }
    }
    out
}

/// `a + b`, componentwise.
#[inline(always)]
pub fn add_flat<T: Scalar, const L: usize>(a: &[T; L], b: &[T; L]) -> [T; L] {
    let mut out = *a;
    for (o, y) in out.iter_mut().zip(b) {
        *o += *y;
    }
    out
}

/// `1 ⊘ b`.
#[inline(always)]
pub fn div_flat<T: Scalar, const L: usize>(b: &[T; L]) -> [T; L] {
    let mut out = *b;
    for o in &mut out {
        *o = T::ONE / *o;
    }
    out
}

/// `−(q ⊘ b)`: the derivative of `a ⊘ b` through `b`, given the quotient `q = a ⊘ b`.
#[inline(always)]
pub fn neg_div_flat<T: Scalar, const L: usize>(q: &[T; L], b: &[T; L]) -> [T; L] {
    let mut out = *q;
    for (o, y) in out.iter_mut().zip(b) {
        *o = -(*o / *y);
    }
    out
}

/// The number of columns of `m`, for indexing a matrix whose type only rustc knows.
#[inline(always)]
pub fn cols<T, const R: usize, const C: usize>(_: &Matrix<R, C, T>) -> usize {
    C
}

/// Adds a diagonal into a dense Jacobian block: `jac[r][r + offset] += diagonal[r]` for
/// every `r` whose column is in range (a banded block made dense).
#[inline]
pub fn add_band_rows<T: Scalar, const N: usize, const L: usize>(
    jac: &mut [[T; N]; L],
    diagonal: &[T; L],
    offset: isize,
) {
    for (r, (row, d)) in jac.iter_mut().zip(diagonal).enumerate() {
        if let Some(column) = r.checked_add_signed(offset).filter(|c| *c < N) {
            row[column] += *d;
        }
    }
}

/// The rows `r` of a band at `shift` whose column `r + shift` lies in `0..width`.
#[inline]
fn band_rows(len: usize, width: usize, shift: isize) -> core::ops::Range<usize> {
    let start = shift.min(0).unsigned_abs();
    let end =
        if shift >= 0 { width.saturating_sub(shift.unsigned_abs()) } else { width + shift.unsigned_abs() };
    start.min(len)..end.min(len).max(start.min(len))
}

/// Adds one diagonal of a banded Jacobian block into the Jacobian: entry
/// `(r, column + r + shift)` gets `diagonal[r]` wherever `0 ≤ r + shift < width` (the
/// block's columns are `column..column + width`).
#[inline]
pub fn add_band<T: Scalar, const R: usize, const C: usize, const L: usize>(
    j: &mut Matrix<R, C, T>,
    column: usize,
    width: usize,
    shift: isize,
    diagonal: &[T; L],
) {
    let rows = j.as_rows_mut();
    for r in band_rows(L.min(R), width, shift) {
        let k = column + r.wrapping_add_signed(shift);
        rows[r][k] += diagonal[r];
    }
}

/// [`add_band`] transposed: entry `(column + r + shift, r)` gets `diagonal[r]` wherever
/// `0 ≤ r + shift < width` (the mirror image, below the diagonal of a Hessian, of a band
/// above it).
#[inline]
pub fn add_band_transposed<T: Scalar, const R: usize, const C: usize, const L: usize>(
    j: &mut Matrix<R, C, T>,
    column: usize,
    width: usize,
    shift: isize,
    diagonal: &[T; L],
) {
    let rows = j.as_rows_mut();
    for r in band_rows(L.min(C), width, shift) {
        let k = column + r.wrapping_add_signed(shift);
        rows[k][r] += diagonal[r];
    }
}
