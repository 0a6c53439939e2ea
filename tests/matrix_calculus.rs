//! Functions written at the matrix level (`Vector`, `Matrix`, `w * x`, `.map`, `.dot`,
//! `.norm_squared()`, `.transpose()`, …) whose Jacobians are checked on random points
//! against hand-written dual-number twins (`num-dual`, forward mode, every direction
//! seeded at once), each twin first checked against finite differences of the original,
//! and, where there is one, against the closed form of matrix calculus.
//!
//! Differentiated matrices are flattened row-major (column `k` of a `Matrix<R, C>`
//! parameter is its entry `(k / C, k % C)`), and so are matrix outputs.

// The annotated originals are kept as written; most are reached only through their
// generated siblings here.
#![allow(dead_code)]
// Index loops are what the macro is exercised on, and the twins mirror them.
#![allow(clippy::needless_range_loop)]

mod common;

use common::{assert_jacobian_close_at, assert_jacobian_close_scaled, check_twin, dual_jacobian, Rows};
use jacobian::{jacobian, Matrix, Vector};
use num_dual::{DualNum, DualSVec, DualSVec64};
use proptest::prelude::*;

/// Macro against dual twin: relative, plus absolute scaled by the largest entry of the row
/// (sums of several terms may be added in another order).
const TOL: f64 = 1e-12;

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(96)
}

// =======================================================================================
// Helpers: conversions that use only the public surface, strategies, and the check.
// =======================================================================================

/// The components of a vector, through `v[i]`.
fn arr<const N: usize>(v: &Vector<N>) -> [f64; N] {
    std::array::from_fn(|i| v[i])
}

/// The entries of a matrix row-major, through `m[(i, j)]`.
fn flat<const R: usize, const C: usize, const L: usize>(m: &Matrix<R, C>) -> [f64; L] {
    assert_eq!(L, R * C, "flattened length");
    std::array::from_fn(|k| m[(k / C, k % C)])
}

/// The inverse of [`flat`].
fn unflat<T: Copy, const R: usize, const C: usize, const L: usize>(v: &[T; L]) -> [[T; C]; R] {
    assert_eq!(L, R * C, "flattened length");
    std::array::from_fn(|i| std::array::from_fn(|j| v[i * C + j]))
}

/// `[a, b]` as one array of `K = A + B` entries.
fn join<T: Copy + Default, const A: usize, const B: usize, const K: usize>(a: [T; A], b: [T; B]) -> [T; K] {
    assert_eq!(K, A + B, "joined length");
    std::array::from_fn(|k| if k < A { a[k] } else { b[k - A] })
}

/// The inverse of [`join`].
fn split<T: Copy, const A: usize, const B: usize, const K: usize>(v: [T; K]) -> ([T; A], [T; B]) {
    assert_eq!(K, A + B, "split length");
    (std::array::from_fn(|k| v[k]), std::array::from_fn(|k| v[A + k]))
}

/// `N` values drawn from `lo..hi`.
fn uniform<const N: usize>(lo: f64, hi: f64) -> impl Strategy<Value = [f64; N]> {
    prop::collection::vec(lo..hi, N).prop_map(|v| v.try_into().expect("strategy gives N values"))
}

/// An `R x C` matrix of values drawn from `lo..hi`, as rows.
fn matrix<const R: usize, const C: usize>(lo: f64, hi: f64) -> impl Strategy<Value = [[f64; C]; R]> {
    prop::collection::vec(uniform::<C>(lo, hi), R).prop_map(|v| v.try_into().expect("strategy gives R rows"))
}

/// Constants lifted into dual numbers.
fn lift<T: DualNum<Primitive = f64> + Copy, const N: usize>(v: &[f64; N]) -> [T; N] {
    v.map(T::from)
}

fn lift_rows<T: DualNum<Primitive = f64> + Copy, const R: usize, const C: usize>(
    m: &[[f64; C]; R],
) -> [[T; C]; R] {
    m.map(|row| row.map(T::from))
}

fn zero<T: DualNum<Primitive = f64> + Copy>() -> T {
    T::from(0.0)
}

/// `w x` on arrays.
fn matvec<T: DualNum<Primitive = f64> + Copy, const M: usize, const N: usize>(
    w: &[[T; N]; M],
    x: &[T; N],
) -> [T; M] {
    std::array::from_fn(|i| {
        let mut acc = zero::<T>();
        for k in 0..N {
            acc += w[i][k] * x[k];
        }
        acc
    })
}

fn add<T: DualNum<Primitive = f64> + Copy, const N: usize>(a: &[T; N], b: &[T; N]) -> [T; N] {
    std::array::from_fn(|i| a[i] + b[i])
}

fn sub<T: DualNum<Primitive = f64> + Copy, const N: usize>(a: &[T; N], b: &[T; N]) -> [T; N] {
    std::array::from_fn(|i| a[i] - b[i])
}

fn dot<T: DualNum<Primitive = f64> + Copy, const N: usize>(a: &[T; N], b: &[T; N]) -> T {
    let mut acc = zero::<T>();
    for i in 0..N {
        acc += a[i] * b[i];
    }
    acc
}

fn tanh_all<T: DualNum<Primitive = f64> + Copy, const N: usize>(z: &[T; N]) -> [T; N] {
    z.map(|t| t.tanh())
}

/// The Jacobian the macro generated, `actual`, against the dual twin's at `x`, after the
/// twin itself has been checked against the original (values and finite differences).
/// Returns the twin's Jacobian.
fn check<const K: usize, const M: usize>(
    x: [f64; K],
    actual: &impl Rows,
    original: impl Fn([f64; K]) -> [f64; M],
    twin: impl FnOnce([DualSVec64<K>; K]) -> [DualSVec64<K>; M],
) -> [[f64; K]; M] {
    let (values, expected) = dual_jacobian(twin, x);
    check_twin(x, original, values, &expected);
    assert_jacobian_close_scaled(&x, actual, &expected, TOL);
    expected
}

/// Every entry of `a` and `b` has the same bits.
fn assert_bits_eq<const R: usize, const C: usize>(a: &Matrix<R, C>, b: &Matrix<R, C>, what: &str) {
    for i in 0..R {
        for j in 0..C {
            assert_eq!(a[(i, j)].to_bits(), b[(i, j)].to_bits(), "{what}: entry ({i}, {j}): {a:?} vs {b:?}");
        }
    }
}

// =======================================================================================
// A dense layer tanh(W x + b): w.r.t. x, b, both (columns x then b), at 3 x 4 and 8 x 5.
// =======================================================================================

#[jacobian(wrt(x))]
fn dense_3x4_x(w: &Matrix<3, 4>, x: Vector<4>, b: Vector<3>) -> Vector<3> {
    (w * x + b).map(f64::tanh)
}

#[jacobian(wrt(b))]
fn dense_3x4_b(w: &Matrix<3, 4>, x: Vector<4>, b: Vector<3>) -> Vector<3> {
    (w * x + b).map(f64::tanh)
}

#[jacobian(wrt(x, b))]
fn dense_3x4_xb(w: &Matrix<3, 4>, x: Vector<4>, b: Vector<3>) -> Vector<3> {
    (w * x + b).map(f64::tanh)
}

/// `wrt` lists b first; the columns still follow parameter order (x, then b).
#[jacobian(wrt(b, x))]
fn dense_3x4_bx(w: &Matrix<3, 4>, x: Vector<4>, b: Vector<3>) -> Vector<3> {
    (w * x + b).map(f64::tanh)
}

#[jacobian(wrt(x))]
fn dense_8x5_x(w: &Matrix<8, 5>, x: Vector<5>, b: Vector<8>) -> Vector<8> {
    (w * x + b).map(f64::tanh)
}

#[jacobian(wrt(b))]
fn dense_8x5_b(w: &Matrix<8, 5>, x: Vector<5>, b: Vector<8>) -> Vector<8> {
    (w * x + b).map(f64::tanh)
}

#[jacobian(wrt(x, b))]
fn dense_8x5_xb(w: &Matrix<8, 5>, x: Vector<5>, b: Vector<8>) -> Vector<8> {
    (w * x + b).map(f64::tanh)
}

/// The same layer with const-generic shape, w.r.t. x.
#[jacobian(wrt(x))]
fn dense_generic<const M: usize, const N: usize>(w: &Matrix<M, N>, x: Vector<N>, b: Vector<M>) -> Vector<M> {
    (w * x + b).map(f64::tanh)
}

fn dense_twin<T: DualNum<Primitive = f64> + Copy, const M: usize, const N: usize>(
    w: &[[T; N]; M],
    x: &[T; N],
    b: &[T; M],
) -> [T; M] {
    tanh_all(&add(&matvec(w, x), b))
}

/// Closed form: `[diag(1 - y^2) W | diag(1 - y^2)]`, columns x then b.
fn dense_closed_form<const M: usize, const N: usize, const K: usize>(
    w: &[[f64; N]; M],
    x: &[f64; N],
    b: &[f64; M],
) -> [[f64; K]; M] {
    assert_eq!(K, N + M);
    std::array::from_fn(|i| {
        let z: f64 = b[i] + (0..N).map(|k| w[i][k] * x[k]).sum::<f64>();
        let slope = 1.0 - z.tanh() * z.tanh();
        std::array::from_fn(|k| {
            if k < N {
                slope * w[i][k]
            } else if k - N == i {
                slope
            } else {
                0.0
            }
        })
    })
}

/// Columns `lo..lo + L` of a row-major matrix.
fn columns<const M: usize, const K: usize, const L: usize>(m: &[[f64; K]; M], lo: usize) -> [[f64; L]; M] {
    m.map(|row| std::array::from_fn(|k| row[lo + k]))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn dense_3x4_wrt_x_b_and_both(
        w in matrix::<3, 4>(-1.5, 1.5),
        x in uniform::<4>(-2.0, 2.0),
        b in uniform::<3>(-1.0, 1.0),
    ) {
        let (wm, xv, bv) = (Matrix::from_rows(w), Vector::from(x), Vector::from(b));

        let jx: Matrix<3, 4> = dense_3x4_x_jacobian(&wm, xv, bv);
        check(x, &jx, |x| arr(&dense_3x4_x(&wm, Vector::from(x), bv)), |x| {
            dense_twin(&lift_rows(&w), &x, &lift(&b))
        });

        let jb: Matrix<3, 3> = dense_3x4_b_jacobian(&wm, xv, bv);
        check(b, &jb, |b| arr(&dense_3x4_b(&wm, xv, Vector::from(b))), |b| {
            dense_twin(&lift_rows(&w), &lift(&x), &b)
        });

        let xb: [f64; 7] = join(x, b);
        let jxb: Matrix<3, 7> = dense_3x4_xb_jacobian(&wm, xv, bv);
        let expected = check(
            xb,
            &jxb,
            |v| {
                let (x, b) = split::<_, 4, 3, 7>(v);
                arr(&dense_3x4_xb(&wm, Vector::from(x), Vector::from(b)))
            },
            |v| {
                let (x, b) = split::<_, 4, 3, 7>(v);
                dense_twin(&lift_rows(&w), &x, &b)
            },
        );
        assert_jacobian_close_scaled(&xb, &jxb, &dense_closed_form::<3, 4, 7>(&w, &x, &b), TOL);
        // the blocks of the joint Jacobian are the single-parameter ones
        assert_jacobian_close_scaled(&xb, &jx, &columns::<3, 7, 4>(&expected, 0), TOL);
        assert_jacobian_close_scaled(&xb, &jb, &columns::<3, 7, 3>(&expected, 4), TOL);
        // listing order in `wrt` does not reorder the columns
        let jbx: Matrix<3, 7> = dense_3x4_bx_jacobian(&wm, xv, bv);
        assert_eq!(jbx, jxb);
        // the const-generic layer is the same function
        let jg: Matrix<3, 4> = dense_generic_jacobian(&wm, xv, bv);
        assert_eq!(jg, jx);
    }

    #[test]
    fn dense_8x5_wrt_x_b_and_both(
        w in matrix::<8, 5>(-1.0, 1.0),
        x in uniform::<5>(-2.0, 2.0),
        b in uniform::<8>(-1.0, 1.0),
    ) {
        let (wm, xv, bv) = (Matrix::from_rows(w), Vector::from(x), Vector::from(b));

        let jx: Matrix<8, 5> = dense_8x5_x_jacobian(&wm, xv, bv);
        check(x, &jx, |x| arr(&dense_8x5_x(&wm, Vector::from(x), bv)), |x| {
            dense_twin(&lift_rows(&w), &x, &lift(&b))
        });

        let jb: Matrix<8, 8> = dense_8x5_b_jacobian(&wm, xv, bv);
        check(b, &jb, |b| arr(&dense_8x5_b(&wm, xv, Vector::from(b))), |b| {
            dense_twin(&lift_rows(&w), &lift(&x), &b)
        });

        let xb: [f64; 13] = join(x, b);
        let jxb: Matrix<8, 13> = dense_8x5_xb_jacobian(&wm, xv, bv);
        let expected = check(
            xb,
            &jxb,
            |v| {
                let (x, b) = split::<_, 5, 8, 13>(v);
                arr(&dense_8x5_xb(&wm, Vector::from(x), Vector::from(b)))
            },
            |v| {
                let (x, b) = split::<_, 5, 8, 13>(v);
                dense_twin(&lift_rows(&w), &x, &b)
            },
        );
        assert_jacobian_close_scaled(&xb, &jxb, &dense_closed_form::<8, 5, 13>(&w, &x, &b), TOL);
        assert_jacobian_close_scaled(&xb, &jx, &columns::<8, 13, 5>(&expected, 0), TOL);
        assert_jacobian_close_scaled(&xb, &jb, &columns::<8, 13, 8>(&expected, 5), TOL);
        let jg: Matrix<8, 5> = dense_generic_jacobian(&wm, xv, bv);
        assert_eq!(jg, jx);
    }
}

// =======================================================================================
// The layer w.r.t. its weights: a differentiated Matrix<2, 3>, 6 columns row-major.
// =======================================================================================

#[jacobian(wrt(w))]
fn dense_weights(w: Matrix<2, 3>, x: Vector<3>, b: Vector<2>) -> Vector<2> {
    (w * x + b).map(f64::tanh)
}

#[jacobian(wrt(w))]
fn dense_weights_by_ref(w: &Matrix<2, 3>, x: &Vector<3>, b: &Vector<2>) -> Vector<2> {
    (w * x + b).map(f64::tanh)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn dense_wrt_weights(
        w in matrix::<2, 3>(-1.5, 1.5),
        x in uniform::<3>(-2.0, 2.0),
        b in uniform::<2>(-1.0, 1.0),
    ) {
        let (wm, xv, bv) = (Matrix::from_rows(w), Vector::from(x), Vector::from(b));
        let wf: [f64; 6] = flat(&wm);
        let j: Matrix<2, 6> = dense_weights_jacobian(wm, xv, bv);
        check(
            wf,
            &j,
            |wf| arr(&dense_weights(Matrix::from_rows(unflat::<_, 2, 3, 6>(&wf)), xv, bv)),
            |wf| dense_twin(&unflat::<_, 2, 3, 6>(&wf), &lift(&x), &lift(&b)),
        );
        // closed form: d y_i / d W[(r, c)] = (1 - y_i^2) x_c when r == i, else 0
        let y = dense_weights(wm, xv, bv);
        let closed: [[f64; 6]; 2] = std::array::from_fn(|i| {
            std::array::from_fn(|k| if k / 3 == i { (1.0 - y[i] * y[i]) * x[k % 3] } else { 0.0 })
        });
        assert_jacobian_close_scaled(&wf, &j, &closed, TOL);
        for i in 0..2 {
            for k in 0..6 {
                if k / 3 != i {
                    assert_eq!(j[(i, k)], 0.0, "output {i} does not depend on W[({}, {})]", k / 3, k % 3);
                }
            }
        }
        let jr: Matrix<2, 6> = dense_weights_by_ref_jacobian(&wm, &xv, &bv);
        assert_eq!(jr, j);
    }
}

// =======================================================================================
// A two-layer MLP W2 tanh(W1 x + b1) + b2: w.r.t. x, and w.r.t. b1.
// =======================================================================================

#[jacobian(wrt(x))]
fn mlp_x(w1: &Matrix<6, 4>, b1: Vector<6>, w2: &Matrix<3, 6>, b2: Vector<3>, x: Vector<4>) -> Vector<3> {
    w2 * (w1 * x + b1).map(f64::tanh) + b2
}

#[jacobian(wrt(b1))]
fn mlp_b1(w1: &Matrix<6, 4>, b1: Vector<6>, w2: &Matrix<3, 6>, b2: Vector<3>, x: Vector<4>) -> Vector<3> {
    let hidden = (w1 * x + b1).map(|t| t.tanh());
    w2 * hidden + b2
}

fn mlp_twin<T: DualNum<Primitive = f64> + Copy>(
    w1: &[[f64; 4]; 6],
    b1: &[T; 6],
    w2: &[[f64; 6]; 3],
    b2: &[f64; 3],
    x: &[T; 4],
) -> [T; 3] {
    let hidden = dense_twin(&lift_rows(w1), x, b1);
    add(&matvec(&lift_rows(w2), &hidden), &lift(b2))
}

/// Closed form: `W2 diag(1 - h^2) W1` (w.r.t. x) and `W2 diag(1 - h^2)` (w.r.t. b1).
fn mlp_closed_form(
    w1: &[[f64; 4]; 6],
    b1: &[f64; 6],
    w2: &[[f64; 6]; 3],
    x: &[f64; 4],
) -> ([[f64; 4]; 3], [[f64; 6]; 3]) {
    let slope: [f64; 6] = std::array::from_fn(|h| {
        let z: f64 = b1[h] + (0..4).map(|k| w1[h][k] * x[k]).sum::<f64>();
        1.0 - z.tanh() * z.tanh()
    });
    let jb: [[f64; 6]; 3] = std::array::from_fn(|i| std::array::from_fn(|h| w2[i][h] * slope[h]));
    let jx = std::array::from_fn(|i| std::array::from_fn(|k| (0..6).map(|h| jb[i][h] * w1[h][k]).sum()));
    (jx, jb)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn mlp_wrt_x_and_b1(
        w1 in matrix::<6, 4>(-1.0, 1.0),
        b1 in uniform::<6>(-1.0, 1.0),
        w2 in matrix::<3, 6>(-1.0, 1.0),
        b2 in uniform::<3>(-1.0, 1.0),
        x in uniform::<4>(-2.0, 2.0),
    ) {
        let (w1m, b1v, w2m, b2v, xv) =
            (Matrix::from_rows(w1), Vector::from(b1), Matrix::from_rows(w2), Vector::from(b2), Vector::from(x));
        let (closed_x, closed_b1) = mlp_closed_form(&w1, &b1, &w2, &x);

        let jx: Matrix<3, 4> = mlp_x_jacobian(&w1m, b1v, &w2m, b2v, xv);
        check(x, &jx, |x| arr(&mlp_x(&w1m, b1v, &w2m, b2v, Vector::from(x))), |x| {
            mlp_twin(&w1, &lift(&b1), &w2, &b2, &x)
        });
        assert_jacobian_close_scaled(&x, &jx, &closed_x, TOL);

        let jb: Matrix<3, 6> = mlp_b1_jacobian(&w1m, b1v, &w2m, b2v, xv);
        check(b1, &jb, |b1| arr(&mlp_b1(&w1m, Vector::from(b1), &w2m, b2v, xv)), |b1| {
            mlp_twin(&w1, &b1, &w2, &b2, &lift(&x))
        });
        assert_jacobian_close_scaled(&b1, &jb, &closed_b1, TOL);
    }
}

// =======================================================================================
// Softmax, plain and numerically stable (max subtracted, found in a loop).
// =======================================================================================

#[jacobian]
fn softmax(x: Vector<5>) -> Vector<5> {
    let e = x.map(|t| t.exp());
    let total = e.sum();
    e.map(|t| t / total)
}

#[jacobian]
fn softmax_stable<const N: usize>(x: Vector<N>) -> Vector<N> {
    let mut m = x[0];
    for i in 1..N {
        m = m.max(x[i]);
    }
    let e = x.map(|t| (t - m).exp());
    let total = e.sum();
    e.map(|t| t / total)
}

fn softmax_twin<T: DualNum<Primitive = f64> + Copy, const N: usize>(x: [T; N]) -> [T; N] {
    let e = x.map(|t| t.exp());
    let total: T = e.iter().copied().sum();
    e.map(|t| t / total)
}

fn softmax_stable_twin<T: DualNum<Primitive = f64> + Copy, const N: usize>(x: [T; N]) -> [T; N] {
    let mut m = x[0];
    for i in 1..N {
        if x[i].re() > m.re() {
            m = x[i];
        }
    }
    let e = x.map(|t| (t - m).exp());
    let total: T = e.iter().copied().sum();
    e.map(|t| t / total)
}

/// `diag(s) - s s^T`.
fn softmax_closed_form<const N: usize>(s: &[f64; N]) -> [[f64; N]; N] {
    std::array::from_fn(|i| std::array::from_fn(|j| if i == j { s[i] - s[i] * s[j] } else { -s[i] * s[j] }))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn softmax_against_dual_and_closed_form(x in uniform::<5>(-5.0, 5.0)) {
        let j: Matrix<5, 5> = softmax_jacobian(Vector::from(x));
        check(x, &j, |x| arr(&softmax(Vector::from(x))), softmax_twin);
        let s = arr(&softmax(Vector::from(x)));
        assert_jacobian_close_scaled(&x, &j, &softmax_closed_form(&s), 1e-14);
        // every column sums to zero (the outputs sum to one)
        for k in 0..5 {
            let column: f64 = (0..5).map(|i| j[(i, k)]).sum();
            assert!(column.abs() < 1e-15, "column {k} sums to {column:e} at {x:?}");
        }
    }

    #[test]
    fn stable_softmax_against_dual_and_closed_form(x in uniform::<4>(-30.0, 30.0), y in uniform::<7>(-5.0, 5.0)) {
        let j: Matrix<4, 4> = softmax_stable_jacobian(Vector::from(x));
        check(x, &j, |x| arr(&softmax_stable(Vector::from(x))), softmax_stable_twin);
        let s = arr(&softmax_stable(Vector::from(x)));
        assert_jacobian_close_scaled(&x, &j, &softmax_closed_form(&s), 1e-14);

        let j: Matrix<7, 7> = softmax_stable_jacobian(Vector::from(y));
        check(y, &j, |y| arr(&softmax_stable(Vector::from(y))), softmax_stable_twin);
        let s = arr(&softmax_stable(Vector::from(y)));
        assert_jacobian_close_scaled(&y, &j, &softmax_closed_form(&s), 1e-14);
        // where the plain one does not overflow, both are the same function
        let y5: [f64; 5] = std::array::from_fn(|i| y[i]);
        let plain: Matrix<5, 5> = softmax_jacobian(Vector::from(y5));
        let stable: Matrix<5, 5> = softmax_stable_jacobian(Vector::from(y5));
        assert_jacobian_close_scaled(&y5, &stable, &plain, 1e-14);
    }
}

#[test]
fn stable_softmax_does_not_overflow() {
    // exp(800) overflows; the shifted form does not, and its Jacobian is the closed form.
    let x = [800.0, 799.0, 797.5];
    let j: Matrix<3, 3> = softmax_stable_jacobian(Vector::from(x));
    let e = [1.0, (-1.0f64).exp(), (-2.5f64).exp()];
    let total: f64 = e.iter().sum();
    let s = e.map(|t| t / total);
    assert_jacobian_close_scaled(&x, &j, &softmax_closed_form(&s), 1e-14);
}

// =======================================================================================
// Quadratic forms x^T A x: the Jacobian is the row x^T (A + A^T).
// =======================================================================================

#[jacobian(wrt(x))]
fn quadratic_dot_left(a: &Matrix<4, 4>, x: Vector<4>) -> f64 {
    x.dot(&(a * x))
}

#[jacobian(wrt(x))]
fn quadratic_dot_right(a: &Matrix<4, 4>, x: Vector<4>) -> f64 {
    (a * x).dot(&x)
}

#[jacobian(wrt(x))]
fn quadratic_transpose(a: &Matrix<4, 4>, x: Vector<4>) -> Matrix<1, 1> {
    x.transpose() * a * x
}

fn quadratic_twin<T: DualNum<Primitive = f64> + Copy>(a: &[[f64; 4]; 4], x: [T; 4]) -> [T; 1] {
    [dot(&x, &matvec(&lift_rows(a), &x))]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn quadratic_forms(a in matrix::<4, 4>(-2.0, 2.0), x in uniform::<4>(-3.0, 3.0)) {
        let am = Matrix::from_rows(a);
        let closed = [std::array::from_fn::<f64, 4, _>(|j| (0..4).map(|i| (a[i][j] + a[j][i]) * x[i]).sum())];

        let j1: Matrix<1, 4> = quadratic_dot_left_jacobian(&am, Vector::from(x));
        check(x, &j1, |x| [quadratic_dot_left(&am, Vector::from(x))], |x| quadratic_twin(&a, x));
        assert_jacobian_close_scaled(&x, &j1, &closed, TOL);

        let j2: Matrix<1, 4> = quadratic_dot_right_jacobian(&am, Vector::from(x));
        check(x, &j2, |x| [quadratic_dot_right(&am, Vector::from(x))], |x| quadratic_twin(&a, x));
        assert_jacobian_close_scaled(&x, &j2, &closed, TOL);

        let j3: Matrix<1, 4> = quadratic_transpose_jacobian(&am, Vector::from(x));
        check(x, &j3, |x| flat(&quadratic_transpose(&am, Vector::from(x))), |x| quadratic_twin(&a, x));
        assert_jacobian_close_scaled(&x, &j3, &closed, TOL);
    }
}

// =======================================================================================
// Least squares: r = A x - b (Jacobian A), |r|^2 (2 r^T A), |r| (r^T A / |r|).
// =======================================================================================

#[jacobian(wrt(x))]
fn residual(a: &Matrix<5, 3>, x: Vector<3>, b: Vector<5>) -> Vector<5> {
    a * x - b
}

#[jacobian(wrt(x))]
fn residual_b_by_ref(a: &Matrix<5, 3>, x: Vector<3>, b: &Vector<5>) -> Vector<5> {
    a * x - b
}

#[jacobian(wrt(x))]
fn residual_squared(a: &Matrix<5, 3>, x: Vector<3>, b: Vector<5>) -> f64 {
    (a * x - b).norm_squared()
}

#[jacobian(wrt(x))]
fn residual_norm(a: &Matrix<5, 3>, x: Vector<3>, b: Vector<5>) -> f64 {
    (a * x - b).norm()
}

fn residual_twin<T: DualNum<Primitive = f64> + Copy>(a: &[[f64; 3]; 5], x: [T; 3], b: &[f64; 5]) -> [T; 5] {
    sub(&matvec(&lift_rows(a), &x), &lift(b))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn least_squares(a in matrix::<5, 3>(-2.0, 2.0), x in uniform::<3>(-3.0, 3.0), b in uniform::<5>(-3.0, 3.0)) {
        let (am, bv) = (Matrix::from_rows(a), Vector::from(b));
        let r: [f64; 5] = std::array::from_fn(|i| (0..3).map(|k| a[i][k] * x[k]).sum::<f64>() - b[i]);
        let norm = r.iter().map(|v| v * v).sum::<f64>().sqrt();
        let rta: [f64; 3] = std::array::from_fn(|k| (0..5).map(|i| r[i] * a[i][k]).sum());

        let j: Matrix<5, 3> = residual_jacobian(&am, Vector::from(x), bv);
        check(x, &j, |x| arr(&residual(&am, Vector::from(x), bv)), |x| residual_twin(&a, x, &b));
        assert_eq!(j, am, "the Jacobian of A x - b is A, exactly");
        let j: Matrix<5, 3> = residual_b_by_ref_jacobian(&am, Vector::from(x), &bv);
        assert_eq!(j, am);

        let j: Matrix<1, 3> = residual_squared_jacobian(&am, Vector::from(x), bv);
        check(x, &j, |x| [residual_squared(&am, Vector::from(x), bv)], |x| {
            let r = residual_twin(&a, x, &b);
            [dot(&r, &r)]
        });
        assert_jacobian_close_scaled(&x, &j, &[rta.map(|v| 2.0 * v)], TOL);

        let j: Matrix<1, 3> = residual_norm_jacobian(&am, Vector::from(x), bv);
        check(x, &j, |x| [residual_norm(&am, Vector::from(x), bv)], |x| {
            let r = residual_twin(&a, x, &b);
            [dot(&r, &r).sqrt()]
        });
        assert_jacobian_close_scaled(&x, &j, &[rta.map(|v| v / norm)], TOL);
    }
}

// =======================================================================================
// Const generics: |x|^2 at N = 2 and N = 100 (2 x^T, exactly), W x at N = 3 and 17 (W).
// =======================================================================================

#[jacobian]
fn sq<const N: usize>(x: Vector<N>) -> f64 {
    x.norm_squared()
}

#[jacobian(wrt(x))]
fn lin<const N: usize>(w: &Matrix<N, N>, x: Vector<N>) -> Vector<N> {
    w * x
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn squared_norm_const_generic(x2 in uniform::<2>(-1e3, 1e3), x100 in uniform::<100>(-10.0, 10.0)) {
        let j: Matrix<1, 2> = sq_jacobian(Vector::from(x2));
        assert_eq!(j, Matrix::from_rows([x2.map(|v| 2.0 * v)]));
        check(x2, &j, |x| [sq(Vector::from(x))], |x| [dot(&x, &x)]);
        let j: Matrix<1, 100> = sq_jacobian(Vector::from(x100));
        assert_eq!(j, Matrix::from_rows([x100.map(|v| 2.0 * v)]));
        assert_eq!(j.transpose(), Vector::from(x100.map(|v| 2.0 * v)));
    }

    #[test]
    fn linear_map_const_generic(
        w3 in matrix::<3, 3>(-5.0, 5.0),
        x3 in uniform::<3>(-5.0, 5.0),
        w17 in matrix::<17, 17>(-5.0, 5.0),
        x17 in uniform::<17>(-5.0, 5.0),
    ) {
        let w = Matrix::from_rows(w3);
        let j: Matrix<3, 3> = lin_jacobian(&w, Vector::from(x3));
        assert_eq!(j.as_rows(), &w3);
        let w = Matrix::from_rows(w17);
        let j: Matrix<17, 17> = lin_jacobian(&w, Vector::from(x17));
        assert_eq!(j.as_rows(), &w17);
    }
}

// =======================================================================================
// A differentiated scalar times a vector: s x, x s, x / s (columns s, then x).
// =======================================================================================

#[jacobian]
fn scalar_times_vector(s: f64, x: Vector<3>) -> Vector<3> {
    s * x
}

#[jacobian]
fn vector_times_scalar(s: f64, x: Vector<3>) -> Vector<3> {
    x * s
}

#[jacobian]
fn vector_over_scalar(s: f64, x: Vector<3>) -> Vector<3> {
    x / s
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn scalar_and_vector(s in -4.0..4.0f64, x in uniform::<3>(-4.0, 4.0)) {
        prop_assume!(s.abs() > 0.05);
        let sx: [f64; 4] = join([s], x);
        let xv = Vector::from(x);
        // [x | s I], exactly
        let expected: [[f64; 4]; 3] =
            std::array::from_fn(|i| std::array::from_fn(|k| if k == 0 { x[i] } else if k - 1 == i { s } else { 0.0 }));

        let j: Matrix<3, 4> = scalar_times_vector_jacobian(s, xv);
        assert_eq!(j.as_rows(), &expected);
        check(
            sx,
            &j,
            |v| arr(&scalar_times_vector(v[0], Vector::from(split::<_, 1, 3, 4>(v).1))),
            |v| {
                let (s, x) = split::<_, 1, 3, 4>(v);
                x.map(|t| s[0] * t)
            },
        );

        let j: Matrix<3, 4> = vector_times_scalar_jacobian(s, xv);
        assert_eq!(j.as_rows(), &expected);

        // [-x / s^2 | I / s]
        let j: Matrix<3, 4> = vector_over_scalar_jacobian(s, xv);
        check(
            sx,
            &j,
            |v| arr(&vector_over_scalar(v[0], Vector::from(split::<_, 1, 3, 4>(v).1))),
            |v| {
                let (s, x) = split::<_, 1, 3, 4>(v);
                x.map(|t| t / s[0])
            },
        );
        let closed: [[f64; 4]; 3] = std::array::from_fn(|i| {
            std::array::from_fn(|k| if k == 0 { -x[i] / (s * s) } else if k - 1 == i { 1.0 / s } else { 0.0 })
        });
        assert_jacobian_close_scaled(&sx, &j, &closed, TOL);
    }
}

// =======================================================================================
// Operations on two differentiated values, indexing, and building from scalars.
// =======================================================================================

#[jacobian]
fn transposed(m: Matrix<2, 3>) -> Matrix<3, 2> {
    m.transpose()
}

#[jacobian]
fn hadamard(a: Vector<3>, b: Vector<3>) -> Vector<3> {
    a.component_mul(&b)
}

#[jacobian]
fn quotient(a: Vector<3>, b: Vector<3>) -> Vector<3> {
    a.component_div(&b)
}

#[jacobian]
fn total(a: Vector<4>) -> f64 {
    a.sum()
}

#[jacobian]
fn inner_product(a: Vector<3>, b: Vector<3>) -> f64 {
    a.dot(&b)
}

#[jacobian]
fn mixed_indexing(v: Vector<3>, m: Matrix<2, 3>) -> f64 {
    let mut acc = v[0] * m[(1, 2)];
    for i in 0..2 {
        for j in 0..3 {
            let u = v[(j + i) % 3];
            acc += m[(i, j)] * v[j].sin() / (1.0 + u * u);
        }
    }
    acc - m[(0, 0)].exp() * v[2]
}

fn mixed_indexing_twin<T: DualNum<Primitive = f64> + Copy>(v: [T; 3], m: [[T; 3]; 2]) -> T {
    let mut acc = v[0] * m[1][2];
    for i in 0..2 {
        for j in 0..3 {
            let u = v[(j + i) % 3];
            acc += m[i][j] * v[j].sin() / (u * u + 1.0);
        }
    }
    acc - m[0][0].exp() * v[2]
}

#[jacobian]
fn vector_from_scalars(a: f64, b: f64, c: f64) -> Vector<3> {
    Vector::from([a * b, b.sin(), c - a])
}

/// A vector built from scalars, then used at the matrix level.
#[jacobian(wrt(a, b, c))]
fn vector_from_scalars_then_multiplied(w: &Matrix<2, 3>, a: f64, b: f64, c: f64) -> Vector<2> {
    let v = Vector::from([a * b, b.sin(), c - a]);
    w * v
}

#[jacobian]
fn matrix_from_scalars(t: f64, s: f64) -> Matrix<2, 3> {
    Matrix::from_rows([[s * t.cos(), -t.sin(), s], [t.sin() * s, t * t, 1.0]])
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn transpose_of_a_differentiated_matrix(m in matrix::<2, 3>(-5.0, 5.0)) {
        let mm = Matrix::from_rows(m);
        let mf: [f64; 6] = flat(&mm);
        let j: Matrix<6, 6> = transposed_jacobian(mm);
        // output (i, j) of the 3 x 2 transpose is input (j, i): row 2 i + j, column 3 j + i
        let mut expected = [[0.0; 6]; 6];
        for i in 0..3 {
            for jj in 0..2 {
                expected[2 * i + jj][3 * jj + i] = 1.0;
            }
        }
        assert_eq!(j.as_rows(), &expected);
        check(mf, &j, |mf| flat::<3, 2, 6>(&transposed(Matrix::from_rows(unflat::<_, 2, 3, 6>(&mf)))), |mf| {
            let m = unflat::<_, 2, 3, 6>(&mf);
            std::array::from_fn(|k| m[k % 2][k / 2])
        });
    }

    #[test]
    fn two_differentiated_vectors(a in uniform::<3>(-4.0, 4.0), b in uniform::<3>(-4.0, 4.0)) {
        prop_assume!(b.iter().all(|v| v.abs() > 0.05));
        let ab: [f64; 6] = join(a, b);
        let (av, bv) = (Vector::from(a), Vector::from(b));
        let pair = |v: [f64; 6]| {
            let (a, b) = split::<_, 3, 3, 6>(v);
            (Vector::from(a), Vector::from(b))
        };

        // [diag(b) | diag(a)], exactly
        let j: Matrix<3, 6> = hadamard_jacobian(av, bv);
        let expected: [[f64; 6]; 3] = std::array::from_fn(|i| {
            std::array::from_fn(|k| if k == i { b[i] } else if k == i + 3 { a[i] } else { 0.0 })
        });
        assert_eq!(j.as_rows(), &expected);
        check(ab, &j, |v| { let (a, b) = pair(v); arr(&hadamard(a, b)) }, |v| {
            let (a, b) = split::<_, 3, 3, 6>(v);
            std::array::from_fn(|i| a[i] * b[i])
        });

        // [diag(1 / b) | diag(-a / b^2)]
        let j: Matrix<3, 6> = quotient_jacobian(av, bv);
        check(ab, &j, |v| { let (a, b) = pair(v); arr(&quotient(a, b)) }, |v| {
            let (a, b) = split::<_, 3, 3, 6>(v);
            std::array::from_fn(|i| a[i] / b[i])
        });
        let closed: [[f64; 6]; 3] = std::array::from_fn(|i| {
            std::array::from_fn(|k| {
                if k == i {
                    1.0 / b[i]
                } else if k == i + 3 {
                    -a[i] / (b[i] * b[i])
                } else {
                    0.0
                }
            })
        });
        assert_jacobian_close_scaled(&ab, &j, &closed, TOL);

        // [b^T | a^T], exactly
        let j: Matrix<1, 6> = inner_product_jacobian(av, bv);
        assert_eq!(j.as_rows(), &[join::<_, 3, 3, 6>(b, a)]);
        check(ab, &j, |v| { let (a, b) = pair(v); [inner_product(a, b)] }, |v| {
            let (a, b) = split::<_, 3, 3, 6>(v);
            [dot(&a, &b)]
        });

        // the sum: a row of ones
        let a4: [f64; 4] = join::<_, 3, 1, 4>(a, [b[0]]);
        let j: Matrix<1, 4> = total_jacobian(Vector::from(a4));
        assert_eq!(j, Matrix::from_rows([[1.0; 4]]));
    }

    #[test]
    fn indexing_mixed_into_scalar_code(v in uniform::<3>(-3.0, 3.0), m in matrix::<2, 3>(-2.0, 2.0)) {
        let mm = Matrix::from_rows(m);
        let vm: [f64; 9] = join::<_, 3, 6, 9>(v, flat(&mm));
        let j: Matrix<1, 9> = mixed_indexing_jacobian(Vector::from(v), mm);
        check(
            vm,
            &j,
            |p| {
                let (v, m) = split::<_, 3, 6, 9>(p);
                [mixed_indexing(Vector::from(v), Matrix::from_rows(unflat::<_, 2, 3, 6>(&m)))]
            },
            |p| {
                let (v, m) = split::<_, 3, 6, 9>(p);
                [mixed_indexing_twin(v, unflat::<_, 2, 3, 6>(&m))]
            },
        );
    }

    #[test]
    fn built_from_scalars(
        abc in uniform::<3>(-3.0, 3.0),
        w in matrix::<2, 3>(-2.0, 2.0),
        ts in uniform::<2>(-3.0, 3.0),
    ) {
        let [a, b, c] = abc;
        let twin = |[a, b, c]: [DualSVec64<3>; 3]| [a * b, b.sin(), c - a];

        let j: Matrix<3, 3> = vector_from_scalars_jacobian(a, b, c);
        let expected = check(abc, &j, |[a, b, c]| arr(&vector_from_scalars(a, b, c)), twin);
        assert_eq!(j.as_rows(), &[[b, a, 0.0], [0.0, b.cos(), 0.0], [-1.0, 0.0, 1.0]]);

        let wm = Matrix::from_rows(w);
        let j: Matrix<2, 3> = vector_from_scalars_then_multiplied_jacobian(&wm, a, b, c);
        let product: [[f64; 3]; 2] =
            std::array::from_fn(|i| std::array::from_fn(|k| (0..3).map(|l| w[i][l] * expected[l][k]).sum()));
        assert_jacobian_close_scaled(&abc, &j, &product, TOL);
        check(abc, &j, |[a, b, c]| arr(&vector_from_scalars_then_multiplied(&wm, a, b, c)), |v| {
            matvec(&lift_rows(&w), &twin(v))
        });

        // a matrix output: rows row-major, columns t then s
        let [t, s] = ts;
        let j: Matrix<6, 2> = matrix_from_scalars_jacobian(t, s);
        check(ts, &j, |[t, s]| flat(&matrix_from_scalars(t, s)), |[t, s]| {
            [s * t.cos(), -t.sin(), s, t.sin() * s, t * t, DualSVec64::from(1.0)]
        });
        let expected = [
            [-s * t.sin(), t.cos()],
            [-t.cos(), 0.0],
            [0.0, 1.0],
            [t.cos() * s, t.sin()],
            [2.0 * t, 0.0],
            [0.0, 0.0],
        ];
        assert_jacobian_close_at(&ts, &j, &expected, 1e-15, 0.0);
    }
}

// =======================================================================================
// Chain rule through annotated callees: a vector one, a scalar one, one with `wrt`.
// =======================================================================================

#[jacobian]
fn features(x: Vector<3>) -> Vector<4> {
    Vector::from([x[0] * x[1], x[2].sin(), x.norm_squared(), (x[0] - x[2]).exp()])
}

fn features_twin<T: DualNum<Primitive = f64> + Copy>(x: [T; 3]) -> [T; 4] {
    [x[0] * x[1], x[2].sin(), dot(&x, &x), (x[0] - x[2]).exp()]
}

#[jacobian(wrt(x))]
fn projected_features(a: &Matrix<2, 4>, x: Vector<3>) -> Vector<2> {
    a * features(x)
}

#[jacobian]
fn energy(x: Vector<3>) -> f64 {
    x.dot(&x.map(f64::sin)) + x.sum() * x[1]
}

fn energy_twin<T: DualNum<Primitive = f64> + Copy>(x: [T; 3]) -> T {
    dot(&x, &x.map(|t| t.sin())) + (x[0] + x[1] + x[2]) * x[1]
}

#[jacobian]
fn energy_caller(x: Vector<3>) -> f64 {
    2.0 * energy(x) + x[0]
}

#[jacobian(wrt(x))]
fn layer(w: &Matrix<3, 3>, b: Vector<3>, x: Vector<3>) -> Vector<3> {
    (w * x + b).map(f64::tanh)
}

#[jacobian(wrt(x))]
fn two_layers(w1: &Matrix<3, 3>, w2: &Matrix<3, 3>, b: Vector<3>, x: Vector<3>) -> Vector<3> {
    let h = layer(w1, b, x);
    layer(w2, b, h)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn chain_through_a_vector_callee(a in matrix::<2, 4>(-2.0, 2.0), x in uniform::<3>(-1.5, 1.5)) {
        let am = Matrix::from_rows(a);
        let jf: Matrix<4, 3> = features_jacobian(Vector::from(x));
        let jf_expected = check(x, &jf, |x| arr(&features(Vector::from(x))), features_twin);
        let j: Matrix<2, 3> = projected_features_jacobian(&am, Vector::from(x));
        check(x, &j, |x| arr(&projected_features(&am, Vector::from(x))), |x| {
            matvec(&lift_rows(&a), &features_twin(x))
        });
        // A J_f
        let product: [[f64; 3]; 2] =
            std::array::from_fn(|i| std::array::from_fn(|k| (0..4).map(|l| a[i][l] * jf_expected[l][k]).sum()));
        assert_jacobian_close_scaled(&x, &j, &product, TOL);
    }

    #[test]
    fn chain_through_a_scalar_callee(x in uniform::<3>(-3.0, 3.0)) {
        let jg: Matrix<1, 3> = energy_jacobian(Vector::from(x));
        let g = check(x, &jg, |x| [energy(Vector::from(x))], |x| [energy_twin(x)]);
        let j: Matrix<1, 3> = energy_caller_jacobian(Vector::from(x));
        check(x, &j, |x| [energy_caller(Vector::from(x))], |x| [energy_twin(x) * 2.0 + x[0]]);
        let closed = [[2.0 * g[0][0] + 1.0, 2.0 * g[0][1], 2.0 * g[0][2]]];
        assert_jacobian_close_scaled(&x, &j, &closed, TOL);
    }

    #[test]
    fn chain_through_a_callee_with_wrt(
        w1 in matrix::<3, 3>(-1.5, 1.5),
        w2 in matrix::<3, 3>(-1.5, 1.5),
        b in uniform::<3>(-1.0, 1.0),
        x in uniform::<3>(-2.0, 2.0),
    ) {
        let (w1m, w2m, bv) = (Matrix::from_rows(w1), Matrix::from_rows(w2), Vector::from(b));
        let j: Matrix<3, 3> = two_layers_jacobian(&w1m, &w2m, bv, Vector::from(x));
        check(x, &j, |x| arr(&two_layers(&w1m, &w2m, bv, Vector::from(x))), |x| {
            let h = dense_twin(&lift_rows(&w1), &x, &lift(&b));
            dense_twin(&lift_rows(&w2), &h, &lift(&b))
        });
        // J_2(h) J_1(x), from the callee's own sibling
        let j1: Matrix<3, 3> = layer_jacobian(&w1m, bv, Vector::from(x));
        let j2: Matrix<3, 3> = layer_jacobian(&w2m, bv, layer(&w1m, bv, Vector::from(x)));
        let product: [[f64; 3]; 3] =
            std::array::from_fn(|i| std::array::from_fn(|k| (0..3).map(|l| j2[(i, l)] * j1[(l, k)]).sum()));
        assert_jacobian_close_scaled(&x, &j, &product, TOL);
    }
}

// =======================================================================================
// `value`: the output bit for bit, the Jacobian the same as `_jacobian`.
// =======================================================================================

#[jacobian(wrt(x), value)]
fn mlp_with_value(
    w1: &Matrix<6, 4>,
    b1: Vector<6>,
    w2: &Matrix<3, 6>,
    b2: Vector<3>,
    x: Vector<4>,
) -> Vector<3> {
    w2 * (w1 * x + b1).map(f64::tanh) + b2
}

#[jacobian(value)]
fn softmax_with_value(x: Vector<5>) -> Vector<5> {
    let e = x.map(|t| t.exp());
    let total = e.sum();
    e.map(|t| t / total)
}

#[jacobian(value)]
fn rotation_with_value(t: f64, s: f64) -> Matrix<2, 2> {
    Matrix::from_rows([[s * t.cos(), -s * t.sin()], [s * t.sin(), s * t.cos()]])
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn value_and_jacobian(
        w1 in matrix::<6, 4>(-1.0, 1.0),
        b1 in uniform::<6>(-1.0, 1.0),
        w2 in matrix::<3, 6>(-1.0, 1.0),
        b2 in uniform::<3>(-1.0, 1.0),
        x in uniform::<4>(-2.0, 2.0),
        y in uniform::<5>(-5.0, 5.0),
        ts in uniform::<2>(-3.0, 3.0),
    ) {
        let (w1m, b1v, w2m, b2v, xv) =
            (Matrix::from_rows(w1), Vector::from(b1), Matrix::from_rows(w2), Vector::from(b2), Vector::from(x));
        let (value, j): (Vector<3>, Matrix<3, 4>) = mlp_with_value_value_and_jacobian(&w1m, b1v, &w2m, b2v, xv);
        assert_bits_eq(&value, &mlp_with_value(&w1m, b1v, &w2m, b2v, xv), "value");
        assert_bits_eq(&j, &mlp_with_value_jacobian(&w1m, b1v, &w2m, b2v, xv), "Jacobian");
        check(x, &j, |x| arr(&mlp_with_value(&w1m, b1v, &w2m, b2v, Vector::from(x))), |x| {
            mlp_twin(&w1, &lift(&b1), &w2, &b2, &x)
        });

        let yv = Vector::from(y);
        let (value, j): (Vector<5>, Matrix<5, 5>) = softmax_with_value_value_and_jacobian(yv);
        assert_bits_eq(&value, &softmax_with_value(yv), "value");
        assert_bits_eq(&j, &softmax_with_value_jacobian(yv), "Jacobian");
        assert_jacobian_close_scaled(&y, &j, &softmax_closed_form(&arr(&value)), 1e-14);

        let [t, s] = ts;
        let (value, j): (Matrix<2, 2>, Matrix<4, 2>) = rotation_with_value_value_and_jacobian(t, s);
        assert_bits_eq(&value, &rotation_with_value(t, s), "value");
        assert_bits_eq(&j, &rotation_with_value_jacobian(t, s), "Jacobian");
        check(ts, &j, |[t, s]| flat(&rotation_with_value(t, s)), |[t, s]| {
            [s * t.cos(), -s * t.sin(), s * t.sin(), s * t.cos()]
        });
    }
}

// =======================================================================================
// More matrix calculus: both factors differentiated, a 1 x 1 product indexed, a recurrent
// loop over a vector, normalisation, element and compound updates, chained methods, f32.
// =======================================================================================

/// Columns A row-major, then x: `d/dA_ij = x_i x_j`, `d/dx = ((A + A^T) x)^T`.
#[jacobian]
fn quadratic_in_a_and_x(a: Matrix<3, 3>, x: Vector<3>) -> f64 {
    (a * x).dot(&x)
}

#[jacobian]
fn matrix_product(a: Matrix<2, 3>, b: Matrix<3, 2>) -> Matrix<2, 2> {
    a * b
}

#[jacobian(wrt(x))]
fn quadratic_indexed(a: &Matrix<4, 4>, x: Vector<4>) -> f64 {
    (x.transpose() * a * x)[(0, 0)]
}

#[jacobian(wrt(x))]
fn recurrent(w: &Matrix<3, 3>, x: Vector<3>) -> Vector<3> {
    let mut h = x;
    for _ in 0..4 {
        h = (w * h).map(f64::tanh);
    }
    h
}

#[jacobian]
fn normalize(x: Vector<3>) -> Vector<3> {
    x / x.norm()
}

#[jacobian]
fn element_updates(x: Vector<3>, m: Matrix<2, 2>) -> Vector<4> {
    let mut v = x;
    v[1] = v[0] * v[2];
    let mut r = m;
    r[(0, 1)] = m[(1, 0)] * v[1];
    Vector::from([v[0] + r[(0, 0)], v[1], v[2] * r[(1, 1)], r[(0, 1)]])
}

fn element_updates_twin<T: DualNum<Primitive = f64> + Copy>(x: [T; 3], m: [[T; 2]; 2]) -> [T; 4] {
    let v1 = x[0] * x[2];
    let r01 = m[1][0] * v1;
    [x[0] + m[0][0], v1, x[2] * m[1][1], r01]
}

#[jacobian(wrt(x))]
fn compound_updates(w: &Matrix<3, 3>, x: Vector<3>) -> Vector<3> {
    let mut acc = x;
    acc += w * x;
    acc -= x * 0.5;
    acc
}

#[jacobian]
fn chained_methods(x: Vector<3>) -> f64 {
    x.map(f64::tanh).sum() * x.component_mul(&x).dot(&x)
}

fn chained_methods_twin<T: DualNum<Primitive = f64> + Copy>(x: [T; 3]) -> T {
    let s = x[0].tanh() + x[1].tanh() + x[2].tanh();
    let cubes = x[0] * x[0] * x[0] + x[1] * x[1] * x[1] + x[2] * x[2] * x[2];
    s * cubes
}

#[jacobian(wrt(x))]
fn dense_f32(w: &Matrix<2, 3, f32>, x: Vector<3, f32>) -> Vector<2, f32> {
    (w * x).map(f32::tanh)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn quadratic_form_in_matrix_and_vector(a in matrix::<3, 3>(-2.0, 2.0), x in uniform::<3>(-3.0, 3.0)) {
        let am = Matrix::from_rows(a);
        let ax: [f64; 12] = join::<_, 9, 3, 12>(flat(&am), x);
        let j: Matrix<1, 12> = quadratic_in_a_and_x_jacobian(am, Vector::from(x));
        check(
            ax,
            &j,
            |p| {
                let (a, x) = split::<_, 9, 3, 12>(p);
                [quadratic_in_a_and_x(Matrix::from_rows(unflat::<_, 3, 3, 9>(&a)), Vector::from(x))]
            },
            |p| {
                let (a, x) = split::<_, 9, 3, 12>(p);
                [dot(&matvec(&unflat::<_, 3, 3, 9>(&a), &x), &x)]
            },
        );
        let da: [f64; 9] = std::array::from_fn(|k| x[k / 3] * x[k % 3]);
        let dx: [f64; 3] = std::array::from_fn(|j| (0..3).map(|i| (a[i][j] + a[j][i]) * x[i]).sum());
        assert_jacobian_close_scaled(&ax, &j, &[join::<_, 9, 3, 12>(da, dx)], TOL);
    }

    #[test]
    fn product_of_two_differentiated_matrices(a in matrix::<2, 3>(-3.0, 3.0), b in matrix::<3, 2>(-3.0, 3.0)) {
        let (am, bm) = (Matrix::from_rows(a), Matrix::from_rows(b));
        let ab: [f64; 12] = join::<_, 6, 6, 12>(flat(&am), flat(&bm));
        let j: Matrix<4, 12> = matrix_product_jacobian(am, bm);
        // d C_ij / d A_il = B_lj, d C_ij / d B_lj = A_il: exactly
        let mut expected = [[0.0; 12]; 4];
        for i in 0..2 {
            for jj in 0..2 {
                for l in 0..3 {
                    expected[2 * i + jj][3 * i + l] = b[l][jj];
                    expected[2 * i + jj][6 + 2 * l + jj] = a[i][l];
                }
            }
        }
        assert_eq!(j.as_rows(), &expected);
        check(
            ab,
            &j,
            |p| {
                let (a, b) = split::<_, 6, 6, 12>(p);
                flat::<2, 2, 4>(&matrix_product(
                    Matrix::from_rows(unflat::<_, 2, 3, 6>(&a)),
                    Matrix::from_rows(unflat::<_, 3, 2, 6>(&b)),
                ))
            },
            |p| {
                let (a, b) = split::<_, 6, 6, 12>(p);
                let (a, b) = (unflat::<_, 2, 3, 6>(&a), unflat::<_, 3, 2, 6>(&b));
                std::array::from_fn(|k| {
                    let (i, jj) = (k / 2, k % 2);
                    a[i][0] * b[0][jj] + a[i][1] * b[1][jj] + a[i][2] * b[2][jj]
                })
            },
        );
    }

    #[test]
    fn quadratic_form_through_an_indexed_one_by_one(a in matrix::<4, 4>(-2.0, 2.0), x in uniform::<4>(-3.0, 3.0)) {
        let am = Matrix::from_rows(a);
        let j: Matrix<1, 4> = quadratic_indexed_jacobian(&am, Vector::from(x));
        check(x, &j, |x| [quadratic_indexed(&am, Vector::from(x))], |x| quadratic_twin(&a, x));
        let closed = [std::array::from_fn::<f64, 4, _>(|j| (0..4).map(|i| (a[i][j] + a[j][i]) * x[i]).sum())];
        assert_jacobian_close_scaled(&x, &j, &closed, TOL);
    }

    #[test]
    fn recurrent_layer_in_a_loop(w in matrix::<3, 3>(-1.5, 1.5), x in uniform::<3>(-2.0, 2.0)) {
        let wm = Matrix::from_rows(w);
        let j: Matrix<3, 3> = recurrent_jacobian(&wm, Vector::from(x));
        check(x, &j, |x| arr(&recurrent(&wm, Vector::from(x))), |x| {
            let mut h = x;
            for _ in 0..4 {
                h = tanh_all(&matvec(&lift_rows(&w), &h));
            }
            h
        });
    }

    #[test]
    fn normalisation(x in uniform::<3>(-3.0, 3.0)) {
        let norm = x.iter().map(|v| v * v).sum::<f64>().sqrt();
        prop_assume!(norm > 0.1);
        let j: Matrix<3, 3> = normalize_jacobian(Vector::from(x));
        check(x, &j, |x| arr(&normalize(Vector::from(x))), |x| {
            let n = dot(&x, &x).sqrt();
            x.map(|t| t / n)
        });
        // (I - u u^T) / |x|
        let u = x.map(|v| v / norm);
        let closed: [[f64; 3]; 3] = std::array::from_fn(|i| {
            std::array::from_fn(|k| ((if i == k { 1.0 } else { 0.0 }) - u[i] * u[k]) / norm)
        });
        assert_jacobian_close_scaled(&x, &j, &closed, TOL);
    }

    #[test]
    fn element_and_compound_updates(
        x in uniform::<3>(-3.0, 3.0),
        m in matrix::<2, 2>(-3.0, 3.0),
        w in matrix::<3, 3>(-3.0, 3.0),
    ) {
        let mm = Matrix::from_rows(m);
        let xm: [f64; 7] = join::<_, 3, 4, 7>(x, flat(&mm));
        let j: Matrix<4, 7> = element_updates_jacobian(Vector::from(x), mm);
        check(
            xm,
            &j,
            |p| {
                let (x, m) = split::<_, 3, 4, 7>(p);
                arr(&element_updates(Vector::from(x), Matrix::from_rows(unflat::<_, 2, 2, 4>(&m))))
            },
            |p| {
                let (x, m) = split::<_, 3, 4, 7>(p);
                element_updates_twin(x, unflat::<_, 2, 2, 4>(&m))
            },
        );

        // I + W - I / 2
        let wm = Matrix::from_rows(w);
        let j: Matrix<3, 3> = compound_updates_jacobian(&wm, Vector::from(x));
        let closed: [[f64; 3]; 3] =
            std::array::from_fn(|i| std::array::from_fn(|k| w[i][k] + if i == k { 0.5 } else { 0.0 }));
        assert_jacobian_close_scaled(&x, &j, &closed, TOL);
        check(x, &j, |x| arr(&compound_updates(&wm, Vector::from(x))), |x| {
            let wx = matvec(&lift_rows(&w), &x);
            std::array::from_fn(|i| x[i] + wx[i] - x[i] * 0.5)
        });
    }

    #[test]
    fn chained_vector_methods(x in uniform::<3>(-2.0, 2.0)) {
        let j: Matrix<1, 3> = chained_methods_jacobian(Vector::from(x));
        check(x, &j, |x| [chained_methods(Vector::from(x))], |x| [chained_methods_twin(x)]);
    }

    #[test]
    fn dense_layer_in_f32(w in matrix::<2, 3>(-1.5, 1.5), x in uniform::<3>(-2.0, 2.0)) {
        let w32 = w.map(|row| row.map(|v| v as f32));
        let x32 = x.map(|v| v as f32);
        let j: Matrix<2, 3, f32> = dense_f32_jacobian(&Matrix::from_rows(w32), Vector::from(x32));
        let (_, expected): ([f32; 2], [[f32; 3]; 2]) = dual_jacobian(
            |x| std::array::from_fn(|i| (0..3).map(|k| x[k] * w32[i][k]).sum::<DualSVec<f32, 3>>().tanh()),
            x32,
        );
        let expected = expected.map(|row| row.map(f64::from));
        let scale = common::scale_of(&expected);
        assert_jacobian_close_at(&x, &j, &expected, 1e-5, 1e-6 * scale);
    }
}

// =======================================================================================
// A sum of products written as a loop, const-generic: the macro writes the primal loop as
// the runtime's `dot`; the value and the derivative are those of the loop, bit for bit.
// =======================================================================================

#[jacobian(wrt(y), value)]
fn weighted_sine<const N: usize>(w: &[f64; N], x: [f64; N], y: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..N {
        s += w[i] * x[i];
    }
    s * y.sin()
}

#[test]
fn a_dot_product_loop_keeps_its_sum() {
    let w = [0.3, -1.7, 2.25, 1e-3, -0.0];
    let x = [1.5, 0.125, -4.0, 3e5, 7.0];
    let y = 0.7_f64;
    let mut s = 0.0;
    for i in 0..5 {
        s += w[i] * x[i];
    }
    let (value, jacobian) = weighted_sine_value_and_jacobian(&w, x, y);
    assert_eq!(value.to_bits(), (s * y.sin()).to_bits());
    assert_eq!(value.to_bits(), weighted_sine(&w, x, y).to_bits());
    assert_eq!(jacobian[(0, 0)].to_bits(), (s * y.cos()).to_bits());
}
