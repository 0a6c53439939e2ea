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
pub fn add_identity<T: Scalar, const R: usize, const C: usize>(j: &mut Matrix<R, C, T>, offset: usize, len: usize) {
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
