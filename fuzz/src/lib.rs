//! Differential fuzzing of `#[jacobian]`.
//!
//! [`generator`] writes random programs over the grammar of API.md, each twice: the
//! annotated `f64` function and a dual-number twin generic over num-dual's `DualNum`.
//! The build script runs it (seed `JACOBIAN_FUZZ_SEED`, count `JACOBIAN_FUZZ_COUNT`)
//! into `$OUT_DIR/generated.rs`, which `tests/differential.rs` includes and checks with
//! [`harness::check_all`]: at random points, the macro's Jacobian against the twin's,
//! and the twin's values against the original's (a check on the generator itself); the
//! `jvp` and `vjp` siblings' products with random vectors against the twin's Jacobian's;
//! for scalar outputs that second order takes, the `hessian`, `value_gradient_hessian`
//! and `hvp` siblings against the twin run on second-order duals (`Dual2SVec64`); for
//! functions with the `sparse` option, `{name}_jacobian_sparse` and
//! `{name}_jacobian_pattern()` against the dense Jacobian.
//!
//! [`tw`] holds what the twins call where num-dual has no method of the same meaning
//! (`abs`, `min`, `floor`, `hypot`, …) and the vector and matrix operations on arrays.

pub mod generator;
pub mod harness;
pub mod tw;

use num_dual::{Dual2SVec64, DualNum, DualSVec64};

pub use harness::{check_all, Entry, Report};

/// Anything read as a flat, row-major list of `f64`.
pub trait Flat {
    fn flat(&self) -> Vec<f64>;
}

impl Flat for f64 {
    fn flat(&self) -> Vec<f64> {
        vec![*self]
    }
}

impl<const N: usize> Flat for [f64; N] {
    fn flat(&self) -> Vec<f64> {
        self.to_vec()
    }
}

impl<const R: usize, const C: usize> Flat for jacobian::Matrix<R, C, f64> {
    fn flat(&self) -> Vec<f64> {
        (0..R).flat_map(|i| (0..C).map(move |j| (i, j))).map(|ij| self[ij]).collect()
    }
}

/// A differentiable struct's components, flattened: the `Flat` impl of the generated
/// structs (see `generator_structs.rs`).
pub fn components<S: jacobian::Differentiable>(s: &S) -> Vec<f64>
where
    S::Components: Flat,
{
    s.to_components().flat()
}

/// The struct whose components are the first `N` of `x` (a struct argument of a wrapper).
pub fn structure<S, const N: usize>(x: &[f64]) -> S
where
    S: jacobian::Differentiable<Components = jacobian::Vector<N, f64>>,
{
    S::from_components(&vector::<N>(x))
}

/// A `jvp`/`vjp` sibling's `(output, product)`, both flattened.
pub fn flat_pair<A: Flat, B: Flat>((a, b): (A, B)) -> (Vec<f64>, Vec<f64>) {
    (a.flat(), b.flat())
}

/// The `Vector<N>` a `jvp`/`vjp` sibling takes, from the first `N` components of `d`.
pub fn vector<const N: usize>(d: &[f64]) -> jacobian::Vector<N, f64> {
    let components: [f64; N] = std::array::from_fn(|k| d[k]);
    jacobian::Vector::from(components)
}

/// A twin's output as a flat, row-major list of dual numbers.
pub trait FlatD<D> {
    fn flat_d(&self) -> Vec<D>;
}

impl<const K: usize> FlatD<DualSVec64<K>> for DualSVec64<K> {
    fn flat_d(&self) -> Vec<DualSVec64<K>> {
        vec![*self]
    }
}

impl<const K: usize, const N: usize> FlatD<DualSVec64<K>> for [DualSVec64<K>; N] {
    fn flat_d(&self) -> Vec<DualSVec64<K>> {
        self.to_vec()
    }
}

impl<const K: usize, const R: usize, const C: usize> FlatD<DualSVec64<K>> for [[DualSVec64<K>; C]; R] {
    fn flat_d(&self) -> Vec<DualSVec64<K>> {
        self.iter().flatten().copied().collect()
    }
}

impl<const K: usize> FlatD<Dual2SVec64<K>> for Dual2SVec64<K> {
    fn flat_d(&self) -> Vec<Dual2SVec64<K>> {
        vec![*self]
    }
}

impl<const K: usize> FlatD<Dual2SVec64<K>> for [Dual2SVec64<K>; 1] {
    fn flat_d(&self) -> Vec<Dual2SVec64<K>> {
        self.to_vec()
    }
}

/// A `{name}_value_gradient_hessian` sibling's result: the output flattened, the gradient
/// and the Hessian as rows.
pub fn flat_triple<A: Flat, const N: usize>(
    (a, g, h): (A, jacobian::Matrix<1, N, f64>, jacobian::Matrix<N, N, f64>),
) -> (Vec<f64>, Vec<f64>, Vec<Vec<f64>>) {
    (a.flat(), g.flat(), rows(&h))
}

/// A `{name}_jacobian_sparse` result and `{name}_jacobian_pattern()`, read for the harness
/// (see [`harness::SparseParts`]).
pub fn sparse_parts<V: jacobian::Values<Scalar = f64>>(
    sparse: &jacobian::Sparse<V>,
    pattern: jacobian::Pattern,
) -> harness::SparseParts {
    harness::SparseParts {
        shape: (sparse.rows(), sparse.cols()),
        positions: sparse.pattern().iter().collect(),
        values: sparse.values().to_vec(),
        pattern_shape: (pattern.rows(), pattern.cols()),
        pattern: pattern.iter().collect(),
    }
}

/// A Jacobian as rows of `f64`.
pub fn rows<const M: usize, const N: usize>(j: &jacobian::Matrix<M, N, f64>) -> Vec<Vec<f64>> {
    (0..M).map(|i| (0..N).map(|k| j[(i, k)]).collect()).collect()
}

/// `N` variables seeded for forward mode: variable `k` carries the `k`-th unit vector.
pub fn seed<const N: usize>(x: [f64; N]) -> [DualSVec64<N>; N] {
    std::array::from_fn(|k| DualSVec64::<N>::from_re(x[k]).derivative(k))
}

/// A constant (an input that is not differentiated), of the dual type of the variables.
pub fn cst<D: DualNum<Primitive = f64>>(v: f64) -> D {
    D::from(v)
}

/// `N` variables seeded for second order: variable `k` carries the `k`-th unit gradient.
pub fn seed2<const N: usize>(x: [f64; N]) -> [Dual2SVec64<N>; N] {
    std::array::from_fn(|k| Dual2SVec64::<N>::from_re(x[k]).derivative(k))
}

/// Value, gradient and Hessian of a scalar second-order dual output.
pub fn unseed2<const N: usize>(ys: &[Dual2SVec64<N>]) -> (Vec<f64>, Vec<f64>, Vec<Vec<f64>>) {
    let y = &ys[0];
    let gradient = (0..N).map(|k| y.v1.0.as_ref().map_or(0.0, |g| g[k])).collect();
    let hessian =
        (0..N).map(|i| (0..N).map(|k| y.v2.0.as_ref().map_or(0.0, |h| h[(i, k)])).collect()).collect();
    (vec![y.re], gradient, hessian)
}

/// Values and Jacobian (rows: outputs, columns: seeded variables) of dual outputs.
pub fn unseed<const N: usize>(ys: &[DualSVec64<N>]) -> (Vec<f64>, Vec<Vec<f64>>) {
    let values = ys.iter().map(|y| y.re).collect();
    let jac = ys.iter().map(|y| (0..N).map(|k| y.eps.0.as_ref().map_or(0.0, |e| e[k])).collect()).collect();
    (values, jac)
}
