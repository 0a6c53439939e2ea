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
