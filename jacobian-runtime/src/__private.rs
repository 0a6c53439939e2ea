//! Helpers called only by code that `#[jacobian]` generates: the loops over rows of
//! partial derivatives, written once here instead of in every expansion. Not public API.

use crate::{Matrix, Scalar};

/// `Vec`, for the values of sparse Jacobians of const-generic size.
#[cfg(feature = "alloc")]
pub use alloc::vec::Vec;

/// `c · row`.
#[inline(always)]
pub fn scaled<T: Scalar, const N: usize>(c: T, row: &[T; N]) -> [T; N] {
    let mut out = *row;
    for v in &mut out {
        *v = c * *v;
    }
    out
}

/// `Σₖ a[k] · b[k]`, summed in order from zero: the loop `s = 0; for k { s += a[k] * b[k] }`
/// a row of a matrix product is, as one call (LLVM optimises a small function's loop before
/// inlining it, and the call then costs fewer instructions than the same loop written in
/// place; `benchmarks`, `dense_layer_4`).
#[inline]
pub fn dot<T: Scalar, const N: usize>(a: &[T; N], b: &[T; N]) -> T {
    let mut sum = T::ZERO;
    for (x, y) in a.iter().zip(b) {
        sum += *x * *y;
    }
    sum
}

/// `out ← c · row`: `scaled` written into its destination.
#[inline(always)]
pub fn scale_into<T: Scalar, const N: usize>(out: &mut [T; N], c: T, row: &[T; N]) {
    for (o, r) in out.iter_mut().zip(row) {
        *o = c * *r;
    }
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

/// Entries of a parameter's block the called function does not have: a caller that reads
/// them passes a differentiated value to a parameter its callee does not differentiate.
/// (No position type is ever `Differentiated`, so this only ever reports that mistake.)
impl<I: Differentiated> core::ops::Index<I> for NotDifferentiated {
    type Output = f64;
    fn index(&self, _: I) -> &f64 {
        &0.0
    }
}

/// Never implemented: the bound that reports a differentiated value passed to a parameter
/// the called function treats as a constant (see `NotDifferentiated`'s `Index`).
#[diagnostic::on_unimplemented(
    message = "a value that depends on the differentiated parameters is passed to a parameter the called function does not differentiate",
    label = "the called function treats this parameter as a constant",
    note = "list the parameter in the called function's `#[jacobian(wrt(…))]`, or pass a value that does not depend on the differentiated parameters"
)]
pub trait Differentiated {}

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
    add_band_rows(j.as_rows_mut(), column, width, shift, diagonal);
}

/// [`add_band`] into a block held as rows, `[[T; C]; R]`.
#[inline]
pub fn add_band_rows<T: Scalar, const R: usize, const C: usize, const L: usize>(
    rows: &mut [[T; C]; R],
    column: usize,
    width: usize,
    shift: isize,
    diagonal: &[T; L],
) {
    for r in band_rows(L.min(R), width, shift) {
        rows[r][column + r.wrapping_add_signed(shift)] += diagonal[r];
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
        rows[column + r.wrapping_add_signed(shift)][r] += diagonal[r];
    }
}

// `#[jacobian(check)]`: the unit test it generates compares `{name}_jacobian` with central
// differences of the function. Everything here is `core` only: the test runs in the user's
// crate, which may be `no_std` outside its tests.

/// How many test points `#[jacobian(check)]` tries.
pub const CHECK_POINTS: usize = 4;

/// Component `k` of test point `point` of `#[jacobian(check)]`: a fixed pseudo-random
/// sequence (SplitMix64), the same on every machine and every run. Its magnitudes lie in
/// `[0.1, 0.9) ∪ [1.1, 1.4)` with either sign: inside `[−1.5, 1.5]`, never 0 or an integer
/// (nor within 0.1 of one), where `abs`, `floor`, `round`, `sqrt` and `ln` have their kinks,
/// jumps and poles.
pub fn check_point(point: usize, k: usize) -> f64 {
    let mut z = (((point as u64) << 32) ^ k as u64).wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    let u = (z >> 11) as f64 / (1u64 << 53) as f64;
    let mut magnitude = 0.1 + 1.1 * u;
    if magnitude >= 0.9 {
        magnitude += 0.2;
    }
    if z & 1 == 1 {
        -magnitude
    } else {
        magnitude
    }
}

/// The two scalar types a `#[jacobian(check)]` test runs in, with what it needs of them.
pub trait CheckFloat: Scalar {
    /// The type's machine epsilon, as `f64`.
    const EPSILON: f64;
    /// `cbrt(EPSILON)`: the relative step of central differences that balances truncation
    /// (`h²`) against rounding (`ε / h`).
    const CBRT_EPSILON: f64;
    /// The value as `f64` (exact).
    fn to_f64(self) -> f64;
}

impl CheckFloat for f64 {
    const EPSILON: f64 = f64::EPSILON;
    const CBRT_EPSILON: f64 = 6.055_454_452_393_343e-6;
    fn to_f64(self) -> f64 {
        self
    }
}

impl CheckFloat for f32 {
    const EPSILON: f64 = f32::EPSILON as f64;
    const CBRT_EPSILON: f64 = 4.921_566_601_151_848e-3;
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
}

fn magnitude(x: f64) -> f64 {
    if x < 0.0 {
        -x
    } else {
        x
    }
}

fn all_finite<T: CheckFloat, const M: usize>(values: &[T; M]) -> bool {
    values.iter().all(|v| v.to_f64().is_finite())
}

/// A test point printed as the arguments it stands for: `x = 0.5, y = [0.25, -1.25]`.
struct Arguments<'a, T> {
    inputs: &'a [(&'a str, usize)],
    point: &'a [T],
}

impl<T: CheckFloat> core::fmt::Display for Arguments<'_, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut offset = 0;
        for (n, (name, len)) in self.inputs.iter().enumerate() {
            if n > 0 {
                f.write_str(", ")?;
            }
            let components = self.point.get(offset..offset + len).unwrap_or(&[]);
            offset += len;
            match components {
                [one] if *len == 1 => write!(f, "{name} = {one}")?,
                _ => {
                    write!(f, "{name} = [")?;
                    for (k, v) in components.iter().enumerate() {
                        write!(f, "{}{v}", if k > 0 { ", " } else { "" })?;
                    }
                    f.write_str("]")?;
                }
            }
        }
        Ok(())
    }
}

/// Input component `column` as the user names it: `y` for a scalar, `y[2]` otherwise
/// (matrices counted row-major).
struct Component<'a> {
    inputs: &'a [(&'a str, usize)],
    column: usize,
}

impl core::fmt::Display for Component<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut offset = 0;
        for (name, len) in self.inputs {
            if self.column < offset + len {
                return if *len == 1 {
                    write!(f, "{name}")
                } else {
                    write!(f, "{name}[{}]", self.column - offset)
                };
            }
            offset += len;
        }
        write!(f, "input component {}", self.column)
    }
}

/// The body of the unit test `#[jacobian(check)]` generates: compares `jacobian` (the
/// generated `{function}_jacobian`) with central differences of `value` (the function)
/// at the points of [`check_point`], and panics with the point, the entry, the generated
/// value and the difference quotient at the first entry that disagrees.
///
/// Both closures take the differentiated inputs flattened (parameter order, matrices
/// row-major) and return the outputs flattened and the Jacobian as rows. Where the function
/// is not finite at a point (outside the domain of `sqrt`, `ln`, …), the point with every
/// component made positive is tried instead; entries whose difference quotients are not
/// finite are skipped; the test fails if no entry could be checked.
///
/// Column `k` uses the step `h = cbrt(ε)·max(1, |x_k|)` (rounded so that `x_k ± h` are
/// exact) and the quotients `D(h)` and `D(2h)`. An entry agrees when
/// `|J − D(h)| ≤ |D(h) − D(2h)| + 64·ε^(2/3)·(1 + max(|J|, |D(h)|) + |f_i(x)| / max(1, |x_k|))`:
/// the first term bounds the truncation error (about `|D(h) − D(2h)| / 3`), the second the
/// rounding error of the quotient and of the generated code.
#[track_caller]
pub fn check_jacobian<T: CheckFloat, const N: usize, const M: usize>(
    function: &str,
    jacobian_name: &str,
    inputs: &[(&str, usize)],
    value: impl Fn(&[T; N]) -> [T; M],
    jacobian: impl Fn(&[T; N]) -> [[T; N]; M],
) {
    let eps23 = T::CBRT_EPSILON * T::CBRT_EPSILON;
    let mut checked = 0usize;
    for point in 0..CHECK_POINTS {
        let mut x: [T; N] = [T::ZERO; N];
        for (k, c) in x.iter_mut().enumerate() {
            *c = T::from_f64(check_point(point, k));
        }
        let mut fx = value(&x);
        if !all_finite(&fx) {
            for c in &mut x {
                *c = T::from_f64(magnitude(c.to_f64()));
            }
            fx = value(&x);
            if !all_finite(&fx) {
                continue;
            }
        }
        let j = jacobian(&x);
        for k in 0..N {
            let xk = x[k].to_f64();
            let scale = if magnitude(xk) > 1.0 { magnitude(xk) } else { 1.0 };
            let h = T::CBRT_EPSILON * scale;
            let quotients = |h: f64| {
                let (mut plus, mut minus) = (x, x);
                plus[k] = T::from_f64(xk + h);
                minus[k] = T::from_f64(xk - h);
                let step = plus[k].to_f64() - minus[k].to_f64();
                let (up, down) = (value(&plus), value(&minus));
                let mut d = [0.0; M];
                for i in 0..M {
                    d[i] = (up[i].to_f64() - down[i].to_f64()) / step;
                }
                d
            };
            let (d1, d2) = (quotients(h), quotients(2.0 * h));
            for i in 0..M {
                if !d1[i].is_finite() || !d2[i].is_finite() {
                    continue;
                }
                checked += 1;
                let generated = j[i][k].to_f64();
                let larger = if magnitude(generated) > magnitude(d1[i]) {
                    magnitude(generated)
                } else {
                    magnitude(d1[i])
                };
                let tolerance = magnitude(d1[i] - d2[i])
                    + 64.0 * eps23 * (1.0 + larger + magnitude(fx[i].to_f64()) / scale);
                let difference = magnitude(generated - d1[i]);
                if difference.is_nan() || difference > tolerance {
                    panic!(
                        "`#[jacobian(check)]`: `{jacobian_name}` disagrees with central differences of `{function}`\n  \
                         at {arguments}  (test point {number} of {CHECK_POINTS})\n  \
                         entry ({i}, {k}) = ∂{function}{row}/∂{column}\n    \
                         generated:          {generated}\n    \
                         central difference: {d1i}  (step h = {h:.3e}; with step 2h: {d2i})\n    \
                         |difference| = {difference:.3e} > tolerance {tolerance:.3e}\n  \
                         If `{function}` is not differentiable near this point (abs, min/max, floor, a branch \
                         on a differentiated value, a domain boundary), this check does not apply to it: \
                         remove `check` and test the Jacobian by hand at points you choose.",
                        arguments = Arguments { inputs, point: &x },
                        number = point + 1,
                        row = Row(if M == 1 { None } else { Some(i) }),
                        column = Component { inputs, column: k },
                        d1i = d1[i],
                        d2i = d2[i],
                    );
                }
            }
        }
    }
    assert!(
        checked > 0,
        "`#[jacobian(check)]`: none of the {CHECK_POINTS} test points is in the domain of `{function}` (at each, \
         and at its absolute values, the value or every difference quotient is NaN or infinite); remove `check` \
         and test `{jacobian_name}` by hand at points you choose"
    );
}

/// `[i]` for an output component, nothing for a scalar output.
struct Row(Option<usize>);

impl core::fmt::Display for Row {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            Some(i) => write!(f, "[{i}]"),
            None => Ok(()),
        }
    }
}

// `#[jacobian(sparse)]`: the values of a sparse Jacobian are written segment by segment,
// in the pattern's order, from what forward mode holds (diagonals, rows, blocks, entries).

/// `[T; N]` of zeros: the values of a sparse Jacobian whose size is known at compile time.
#[inline]
pub fn sparse_zeros<T: Scalar, const N: usize>() -> [T; N] {
    [T::ZERO; N]
}

/// The values of a sparse Jacobian of const-generic size, zeros.
#[cfg(feature = "alloc")]
#[inline]
pub fn sparse_zeros_vec<T: Scalar>(len: usize) -> alloc::vec::Vec<T> {
    alloc::vec![T::ZERO; len]
}

/// Writes a sparse Jacobian's values in order, one segment after another.
pub struct Fill<'a, T> {
    values: &'a mut [T],
    at: usize,
}

impl<'a, T: Scalar> Fill<'a, T> {
    #[inline]
    pub fn new(values: &'a mut [T]) -> Fill<'a, T> {
        Fill { values, at: 0 }
    }

    /// A `Segment::Entry`.
    #[inline]
    pub fn entry(&mut self, value: T) {
        self.values[self.at] = value;
        self.at += 1;
    }

    /// A `Segment::Row`.
    #[inline]
    pub fn row(&mut self, row: &[T]) {
        self.values[self.at..self.at + row.len()].copy_from_slice(row);
        self.at += row.len();
    }

    /// A `Segment::Block`, row-major.
    #[inline]
    pub fn block<const C: usize>(&mut self, rows: &[[T; C]]) {
        for row in rows {
            self.row(row);
        }
    }

    /// A `Segment::Diagonal`: `diagonal[r]` for the `r < rows` with `0 ≤ r + shift < width`.
    #[inline]
    pub fn diagonal(&mut self, diagonal: &[T], rows: usize, width: usize, shift: isize) {
        let (lo, hi) = diagonal_rows(rows.min(diagonal.len()), width, shift);
        self.row(&diagonal[lo..hi]);
    }

    /// A `Segment::Diagonal` of ones (an identity block).
    #[inline]
    pub fn ones(&mut self, rows: usize, width: usize, shift: isize) {
        let (lo, hi) = diagonal_rows(rows, width, shift);
        self.values[self.at..self.at + (hi - lo)].fill(T::ONE);
        self.at += hi - lo;
    }

    /// Checks that every value was written.
    #[inline]
    pub fn finish(self) {
        debug_assert_eq!(self.at, self.values.len(), "the values fill the pattern");
    }
}

/// The rows `lo..hi` of a diagonal inside its block (as `Segment::Diagonal` counts them).
#[inline]
fn diagonal_rows(rows: usize, width: usize, shift: isize) -> (usize, usize) {
    let lo = if shift < 0 { shift.unsigned_abs() } else { 0 };
    let hi = (width as isize - shift).clamp(0, rows as isize) as usize;
    (lo.min(hi), hi)
}

/// `Probe::<T>::DIFFERENTIABLE` (with [`NotDifferentiable`] in scope): whether the concrete
/// type `T` implements [`Differentiable`](crate::Differentiable), at compile time. The
/// inherent constant applies where `T` does; the trait's default everywhere else.
pub struct Probe<T: ?Sized>(core::marker::PhantomData<T>);

/// The fallback of [`Probe`].
pub trait NotDifferentiable {
    /// `T` does not implement `Differentiable`.
    const DIFFERENTIABLE: bool = false;
}

impl<T: ?Sized> NotDifferentiable for Probe<T> {}

impl<T: crate::Differentiable> Probe<T> {
    /// `T` implements `Differentiable`.
    pub const DIFFERENTIABLE: bool = true;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each band entry lands at `(r, column + r + shift)` (transposed: the mirror), entries
    /// whose column falls outside `0..width` are left out, and nothing else moves.
    #[test]
    fn bands_add_where_they_belong() {
        let d = [1.0, 2.0, 3.0];
        for shift in [-2isize, -1, 0, 1, 2] {
            let mut m = Matrix::<3, 5>::zeros();
            add_band(&mut m, 1, 3, shift, &d);
            let mut t = Matrix::<5, 3>::zeros();
            add_band_transposed(&mut t, 1, 3, shift, &d);
            let mut rows = [[0.0; 5]; 3];
            add_band_rows(&mut rows, 1, 3, shift, &d);
            for r in 0..3 {
                for c in 0..5 {
                    let k = r as isize + shift;
                    let expected = if (0..3).contains(&k) && c as isize == 1 + k { d[r] } else { 0.0 };
                    assert_eq!(m[(r, c)], expected, "shift {shift}, ({r}, {c})");
                    assert_eq!(t[(c, r)], expected, "transposed, shift {shift}, ({c}, {r})");
                    assert_eq!(rows[r][c], expected, "rows, shift {shift}, ({r}, {c})");
                }
            }
        }
    }
}
