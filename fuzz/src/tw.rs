//! What the dual twins call: branches on real parts (noting how close each decision
//! was), float methods whose num-dual counterpart is missing or means something else,
//! and the `Vector`/`Matrix` operations of the originals on plain arrays.
//!
//! The twins run on first-order duals (`DualSVec64`, the Jacobian) and on second-order ones
//! (`Dual2SVec64`, the Hessian): the functions here that apply a chain rule on real parts
//! add the second-order terms where [`Tangent::SECOND`] says the number has them.
//!
//! Every decision goes through [`note`]: when the two sides of a comparison, the
//! argument of `abs`/`signum`, or the argument of `floor` and its kin are within a
//! relative 1e-8 of the kink, [`take_near_kink`] reports it and the tests skip that
//! point: there the original and the macro's Jacobian may round to different sides.

use std::cell::Cell;

use num_dual::{Dual2SVec64, DualNum, DualSVec64, DualStruct};

/// The scalar type of a twin: a num-dual number that can tell whether it carries any
/// derivative at all.
pub trait Real: DualNum<Primitive = f64> + Copy + Tangent {}

impl<D: DualNum<Primitive = f64> + Copy + Tangent> Real for D {}

/// Whether a value is constant: no derivative part, or a zero one. A decision on
/// constants is taken the same way by the original and by its Jacobian (both compute
/// them with the same operations), and by the twin (whose real parts are the original's
/// to the last bit, see `div`), so it never makes a point doubtful.
pub trait Tangent {
    /// Whether the number carries second derivatives (whose chain rules then need the
    /// second-order terms).
    const SECOND: bool = false;
    fn is_constant(&self) -> bool;
}

impl<const N: usize> Tangent for DualSVec64<N> {
    fn is_constant(&self) -> bool {
        self.eps.0.as_ref().is_none_or(|e| e.iter().all(|&v| v == 0.0))
    }
}

/// Constant: neither a gradient nor a Hessian part (a value whose gradient vanishes at the
/// point but whose Hessian does not still moves).
impl<const N: usize> Tangent for Dual2SVec64<N> {
    const SECOND: bool = true;
    fn is_constant(&self) -> bool {
        self.v1.0.as_ref().is_none_or(|e| e.iter().all(|&v| v == 0.0))
            && self.v2.0.as_ref().is_none_or(|e| e.iter().all(|&v| v == 0.0))
    }
}

impl Tangent for f64 {
    fn is_constant(&self) -> bool {
        true
    }
}

thread_local! {
    static NEAR_KINK: Cell<bool> = const { Cell::new(false) };
    static LAST_NEAR: Cell<(f64, f64)> = const { Cell::new((0.0, 0.0)) };
}

/// Records a decision at distance `d` from its kink, on values of size `scale`.
pub fn note(d: f64, scale: f64) {
    if d.abs().partial_cmp(&(1e-8 * (1.0 + scale.abs()))) != Some(std::cmp::Ordering::Greater) {
        NEAR_KINK.with(|c| c.set(true));
        LAST_NEAR.with(|c| c.set((d, scale)));
    }
}

/// The distance and scale of the last decision found near its kink.
pub fn last_near_kink() -> (f64, f64) {
    LAST_NEAR.with(|c| c.get())
}

/// Clears the near-kink flag.
pub fn reset_near_kink() {
    NEAR_KINK.with(|c| c.set(false));
}

/// Whether a decision since the last reset was close to its kink (and clears the flag).
pub fn take_near_kink() -> bool {
    NEAR_KINK.with(|c| c.replace(false))
}

fn re<D: Real>(a: &D) -> f64 {
    DualStruct::re(a)
}

fn decide<D: Real>(a: &D, b: &D) -> (f64, f64) {
    let (x, y) = (re(a), re(b));
    // An exact tie is no doubt: it comes from the same value reaching both sides (such as
    // `x.max(x)` after a call), and the original decides it as the twin does (the first
    // operand of `min`/`max`; `<` false, `<=` true).
    if !(a.is_constant() && b.is_constant()) && x != y {
        note(x - y, x.abs().max(y.abs()));
    }
    (x, y)
}

/// Notes the distance `d` of a decision on `a` unless `a` is constant.
fn note_on<D: Real>(a: &D, d: f64, scale: f64) {
    if !a.is_constant() {
        note(d, scale);
    }
}

pub fn lt<D: Real>(a: D, b: D) -> bool {
    let (x, y) = decide(&a, &b);
    x < y
}

pub fn gt<D: Real>(a: D, b: D) -> bool {
    let (x, y) = decide(&a, &b);
    x > y
}

pub fn le<D: Real>(a: D, b: D) -> bool {
    let (x, y) = decide(&a, &b);
    x <= y
}

pub fn ge<D: Real>(a: D, b: D) -> bool {
    let (x, y) = decide(&a, &b);
    x >= y
}

/// `|a|` with the derivative `signum(a)` (+1 at `+0.0`, -1 at `-0.0`).
pub fn abs<D: Real>(a: D) -> D {
    let x = re(&a);
    note_on(&a, x, 0.0);
    if x.is_sign_positive() {
        a
    } else {
        -a
    }
}

/// `a.min(b)`: the operand returned, the first one on a tie.
pub fn min<D: Real>(a: D, b: D) -> D {
    let (x, y) = decide(&a, &b);
    if y < x {
        b
    } else {
        a
    }
}

/// `a.max(b)`: the operand returned, the first one on a tie.
pub fn max<D: Real>(a: D, b: D) -> D {
    let (x, y) = decide(&a, &b);
    if y > x {
        b
    } else {
        a
    }
}

/// Piecewise constant: the value of `f64::signum`, derivative 0.
pub fn signum<D: Real>(a: D) -> D {
    let x = re(&a);
    note_on(&a, x, 0.0);
    D::from(x.signum())
}

fn near_integer<D: Real>(a: &D, x: f64) {
    note_on(a, x - x.round(), x.abs());
}

pub fn floor<D: Real>(a: D) -> D {
    let x = re(&a);
    near_integer(&a, x);
    D::from(x.floor())
}

pub fn ceil<D: Real>(a: D) -> D {
    let x = re(&a);
    near_integer(&a, x);
    D::from(x.ceil())
}

pub fn trunc<D: Real>(a: D) -> D {
    let x = re(&a);
    near_integer(&a, x);
    D::from(x.trunc())
}

/// `round` jumps at the half-integers.
pub fn round<D: Real>(a: D) -> D {
    let x = re(&a);
    note_on(&a, x - x.floor() - 0.5, x.abs());
    D::from(x.round())
}

/// The second-order term `½ f'' da²` of a function of one argument at a derivative part
/// `da` (what `a - re(a)` is): only for second-order duals, where `da²` is not zero.
fn curvature<D: Real>(da: D, f2: f64) -> D {
    da * da * D::from(0.5 * f2)
}

/// `½ f_aa da² + f_ab da db + ½ f_bb db²` for a function of two arguments.
fn curvature2<D: Real>(da: D, db: D, faa: f64, fab: f64, fbb: f64) -> D {
    curvature(da, faa) + da * db * D::from(fab) + curvature(db, fbb)
}

/// `tanh` by the chain rule on the real part: num-dual's `tanh` is `sinh / cosh`, which
/// is NaN beyond |x| ≈ 710 where the true derivative underflows to 0.
pub fn tanh<D: Real>(a: D) -> D {
    let x = re(&a);
    let t = x.tanh();
    // `a - x` is `a`'s derivative part alone
    let da = a - D::from(x);
    let s = 1.0 - t * t;
    let mut d = da * D::from(s);
    if D::SECOND {
        d += curvature(da, -2.0 * t * s);
    }
    with_value(t, d)
}

/// `value + d` for a derivative part `d` (a dual whose real part is a zero), with `value`
/// as the real part exactly: `-0.0 + 0.0` is `+0.0`, and a later `signum` would see the
/// other sign than the original's (`tanh(-0.0)` is `-0.0`).
fn with_value<D: Real>(value: f64, d: D) -> D {
    // `0.0 - d` has the real part `+0.0` whatever the sign of `d`'s zero, and
    // `value - (+0.0)` is `value`, signed zeros included
    D::from(value) - (D::from(0.0) - d)
}

/// `y.atan2(x)` by the chain rule on the real parts: num-dual's `atan2` goes through
/// `(y / x).atan()`, which is NaN at `x = 0` where the derivative is finite.
pub fn atan2<D: Real>(y: D, x: D) -> D {
    let (yr, xr) = (re(&y), re(&x));
    let r2 = xr * xr + yr * yr;
    let (dy, dx) = (y - D::from(yr), x - D::from(xr));
    let mut d = dy * D::from(xr / r2) - dx * D::from(yr / r2);
    if D::SECOND {
        let r4 = r2 * r2;
        d += curvature2(dy, dx, -2.0 * xr * yr / r4, (yr * yr - xr * xr) / r4, 2.0 * xr * yr / r4);
    }
    with_value(yr.atan2(xr), d)
}

// The functions below compute the real part with the `f64` method the original calls, and
// the derivative part by the chain rule, so that the twin's values are the original's to
// the last bit: num-dual's own `/` multiplies by the reciprocal, its `powi`, `powf`, `tan`
// go other ways, and a constant that is zero in exact arithmetic, rounded differently,
// would reach `floor` or a comparison on the other side (seed 0xBADC0DE, count 600).

/// `a / b` (num-dual computes `re(a) * (1 / re(b))`).
pub fn div<D: Real>(a: D, b: D) -> D {
    let (x, y) = (re(&a), re(&b));
    let q = x / y;
    let (da, db) = (a - D::from(x), b - D::from(y));
    let mut d = (da - db * D::from(q)) * D::from(1.0 / y);
    if D::SECOND {
        d += curvature2(da, db, 0.0, -1.0 / (y * y), 2.0 * q / (y * y));
    }
    with_value(q, d)
}

pub fn powi<D: Real>(a: D, n: i32) -> D {
    let x = re(&a);
    if n == 0 {
        return D::from(1.0);
    }
    let da = a - D::from(x);
    let mut d = da * D::from(f64::from(n) * x.powi(n - 1));
    if D::SECOND && n != 1 {
        d += curvature(da, f64::from(n) * f64::from(n - 1) * x.powi(n - 2));
    }
    with_value(x.powi(n), d)
}

pub fn tan<D: Real>(a: D) -> D {
    let x = re(&a);
    let t = x.tan();
    let da = a - D::from(x);
    let mut d = da * D::from(1.0 + t * t);
    if D::SECOND {
        d += curvature(da, 2.0 * t * (1.0 + t * t));
    }
    with_value(t, d)
}

pub fn to_degrees<D: Real>(a: D) -> D {
    let x = re(&a);
    with_value(x.to_degrees(), (a - D::from(x)) * D::from(180.0f64 / std::f64::consts::PI))
}

pub fn to_radians<D: Real>(a: D) -> D {
    let x = re(&a);
    with_value(x.to_radians(), (a - D::from(x)) * D::from(std::f64::consts::PI / 180.0))
}

pub fn hypot<D: Real>(a: D, b: D) -> D {
    let (x, y) = (re(&a), re(&b));
    let h = x.hypot(y);
    let (da, db) = (a - D::from(x), b - D::from(y));
    let mut d = (da * D::from(x) + db * D::from(y)) * D::from(1.0 / h);
    if D::SECOND {
        let h3 = h * h * h;
        d += curvature2(da, db, y * y / h3, -x * y / h3, x * x / h3);
    }
    with_value(h, d)
}

/// `a.log(base)` with a base that may itself be differentiated.
pub fn log<D: Real>(a: D, base: D) -> D {
    let (x, b) = (re(&a), re(&base));
    let v = x.log(b);
    let ln_b = b.ln();
    let (da, db) = (a - D::from(x), base - D::from(b));
    let mut d = da * D::from(1.0 / (x * ln_b)) - db * D::from(v / (b * ln_b));
    if D::SECOND {
        // v = ln x / ln b
        let faa = -1.0 / (x * x * ln_b);
        let fab = -1.0 / (x * b * ln_b * ln_b);
        let fbb = v * (ln_b + 2.0) / (b * b * ln_b * ln_b);
        d += curvature2(da, db, faa, fab, fbb);
    }
    with_value(v, d)
}

/// `a.powf(p)` with an exponent that may itself be differentiated (`a > 0`).
pub fn powf<D: Real>(a: D, p: D) -> D {
    let (x, q) = (re(&a), re(&p));
    let v = x.powf(q);
    let (da, dp) = (a - D::from(x), p - D::from(q));
    let mut d = da * D::from(q * x.powf(q - 1.0)) + dp * D::from(v * x.ln());
    if D::SECOND {
        let ln_x = x.ln();
        let faa = q * (q - 1.0) * x.powf(q - 2.0);
        let fap = x.powf(q - 1.0) * (1.0 + q * ln_x);
        d += curvature2(da, dp, faa, fap, v * ln_x * ln_x);
    }
    with_value(v, d)
}

/// `a.mul_add(b, c)`, fused as the original's.
pub fn mul_add<D: Real>(a: D, b: D, c: D) -> D {
    let (x, y, z) = (re(&a), re(&b), re(&c));
    let (da, db) = (a - D::from(x), b - D::from(y));
    let mut d = da * D::from(y) + db * D::from(x) + (c - D::from(z));
    if D::SECOND {
        d += da * db;
    }
    with_value(x.mul_add(y, z), d)
}

// ------------------------------------------------------------------ vectors as arrays

pub fn vadd<D: Real, const N: usize>(a: [D; N], b: [D; N]) -> [D; N] {
    std::array::from_fn(|i| a[i] + b[i])
}

pub fn vsub<D: Real, const N: usize>(a: [D; N], b: [D; N]) -> [D; N] {
    std::array::from_fn(|i| a[i] - b[i])
}

pub fn vneg<D: Real, const N: usize>(a: [D; N]) -> [D; N] {
    a.map(|x| -x)
}

pub fn vscale<D: Real, const N: usize>(s: D, a: [D; N]) -> [D; N] {
    a.map(|x| x * s)
}

pub fn vdiv<D: Real, const N: usize>(a: [D; N], s: D) -> [D; N] {
    a.map(|x| div(x, s))
}

pub fn dot<D: Real, const N: usize>(a: [D; N], b: [D; N]) -> D {
    let mut total = D::from(0.0);
    for i in 0..N {
        total += a[i] * b[i];
    }
    total
}

pub fn norm_squared<D: Real, const N: usize>(a: [D; N]) -> D {
    dot(a, a)
}

/// `‖a‖`, with the macro's convention at the zero vector: the derivative 0 (where `a`
/// stays zero it is the derivative; where it does not, a kink, and the point is skipped).
/// The dual `sqrt` would give 0 or NaN there, depending on whether num-dual holds the
/// derivative of `a` as structurally zero.
pub fn norm<D: Real, const N: usize>(a: [D; N]) -> D {
    let s = norm_squared(a);
    if re(&s) == 0.0 {
        // (`s` itself has a zero derivative there, whatever `a`'s)
        if a.iter().any(|x| !x.is_constant()) {
            note(0.0, 0.0);
        }
        return D::from(0.0);
    }
    s.sqrt()
}

pub fn sum<D: Real, const N: usize>(a: [D; N]) -> D {
    let mut total = D::from(0.0);
    for x in a {
        total += x;
    }
    total
}

pub fn cmul<D: Real, const N: usize>(a: [D; N], b: [D; N]) -> [D; N] {
    std::array::from_fn(|i| a[i] * b[i])
}

pub fn cdiv<D: Real, const N: usize>(a: [D; N], b: [D; N]) -> [D; N] {
    std::array::from_fn(|i| div(a[i], b[i]))
}

// ------------------------------------------------------------------ matrices as arrays

pub fn matvec<D: Real, const R: usize, const C: usize>(w: [[D; C]; R], x: [D; C]) -> [D; R] {
    std::array::from_fn(|i| {
        let mut total = D::from(0.0);
        for j in 0..C {
            total += w[i][j] * x[j];
        }
        total
    })
}

pub fn matmul<D: Real, const R: usize, const K: usize, const C: usize>(
    a: [[D; K]; R],
    b: [[D; C]; K],
) -> [[D; C]; R] {
    std::array::from_fn(|i| {
        std::array::from_fn(|j| {
            let mut total = D::from(0.0);
            for k in 0..K {
                total += a[i][k] * b[k][j];
            }
            total
        })
    })
}

pub fn transpose<D: Real, const R: usize, const C: usize>(a: [[D; C]; R]) -> [[D; R]; C] {
    std::array::from_fn(|j| std::array::from_fn(|i| a[i][j]))
}

pub fn madd<D: Real, const R: usize, const C: usize>(a: [[D; C]; R], b: [[D; C]; R]) -> [[D; C]; R] {
    std::array::from_fn(|i| vadd(a[i], b[i]))
}

pub fn msub<D: Real, const R: usize, const C: usize>(a: [[D; C]; R], b: [[D; C]; R]) -> [[D; C]; R] {
    std::array::from_fn(|i| vsub(a[i], b[i]))
}

pub fn mscale<D: Real, const R: usize, const C: usize>(s: D, a: [[D; C]; R]) -> [[D; C]; R] {
    a.map(|row| vscale(s, row))
}

pub fn mmap<D: Real, const R: usize, const C: usize>(a: [[D; C]; R], f: impl Fn(D) -> D) -> [[D; C]; R] {
    a.map(|row| row.map(&f))
}
