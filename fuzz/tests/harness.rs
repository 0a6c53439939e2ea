//! The harness itself: hand-written entries whose `jvp`/`vjp` are right pass, and each
//! kind of wrong answer (a wrong value, J·v off in one component, Jᵀ·u computed as J·u) is
//! a failure. f(a, b) = (a·b, a + 2b, sin a) has a Jacobian that is neither square nor
//! symmetric, so that a transposition shows. The same for second order on a scalar
//! g(a, b): a right `hessian`, `value_gradient_hessian` and `hvp` pass; a wrong Hessian
//! entry, a Hessian one ulp from symmetric, a wrong value or gradient beside the Hessian,
//! and a wrong H·v fail. And for the sparse Jacobian: the right values and pattern pass;
//! a value off by one part in 10⁹, a missing non-zero, a position listed twice and a
//! pattern sibling that disagrees with the matrix's own pattern fail.

use jacobian_fuzz::{check_all, Entry};

fn value(x: &[f64], _n: usize) -> Vec<f64> {
    vec![x[0] * x[1], x[0] + 2.0 * x[1], x[0].sin()]
}

fn jacobian(x: &[f64], _n: usize) -> Vec<Vec<f64>> {
    vec![vec![x[1], x[0]], vec![1.0, 2.0], vec![x[0].cos(), 0.0]]
}

fn twin(x: &[f64], n: usize) -> (Vec<f64>, Vec<Vec<f64>>) {
    (value(x, n), jacobian(x, n))
}

fn times(j: &[Vec<f64>], v: &[f64]) -> Vec<f64> {
    j.iter().map(|row| row.iter().zip(v).map(|(a, b)| a * b).sum()).collect()
}

fn transposed_times(j: &[Vec<f64>], u: &[f64]) -> Vec<f64> {
    (0..j[0].len()).map(|k| j.iter().zip(u).map(|(row, ui)| row[k] * ui).sum()).collect()
}

fn jvp(x: &[f64], n: usize, v: &[f64]) -> (Vec<f64>, Vec<f64>) {
    (value(x, n), times(&jacobian(x, n), v))
}

fn vjp(x: &[f64], n: usize, u: &[f64]) -> (Vec<f64>, Vec<f64>) {
    (value(x, n), transposed_times(&jacobian(x, n), u))
}

fn jvp_wrong_value(x: &[f64], n: usize, v: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let (mut y, jv) = jvp(x, n, v);
    y[1] += 1e-3;
    (y, jv)
}

fn jvp_one_component_off(x: &[f64], n: usize, v: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let (y, mut jv) = jvp(x, n, v);
    jv[2] += 1e-6;
    (y, jv)
}

/// J·u padded to the length of Jᵀ·u: the same length as the right answer, wrong values.
fn vjp_untransposed(x: &[f64], n: usize, u: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let j = jacobian(x, n);
    let square: Vec<Vec<f64>> = j.iter().take(2).cloned().collect();
    (value(x, n), times(&square, &u[..2]))
}

fn vjp_too_short(x: &[f64], n: usize, u: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let (y, mut g) = vjp(x, n, u);
    g.pop();
    (y, g)
}

type Product = fn(&[f64], usize, &[f64]) -> (Vec<f64>, Vec<f64>);

fn entry(jvp: Option<Product>, vjp: Option<Product>) -> Entry {
    Entry {
        index: 0,
        name: "f",
        source: "fn f(a: f64, b: f64) -> [f64; 3] { [a * b, a + 2.0 * b, a.sin()] }",
        twin_source: "(closed form)",
        inputs: 2,
        columns: &[0, 1],
        outputs: 3,
        uses_n: false,
        callees: &[],
        constructs: &[],
        orig: value,
        jac: jacobian,
        twin,
        value_and_jac: None,
        jvp,
        vjp,
        twin2: None,
        hessian: None,
        value_gradient_hessian: None,
        hvp: None,
        sparse: None,
    }
}

fn failures(jvp: Option<Product>, vjp: Option<Product>) -> Vec<String> {
    let report = check_all(&[entry(jvp, vjp)], 7, 4);
    assert!(report.twin_failures.is_empty());
    assert_eq!(report.points, 4);
    report.failures
}

#[test]
fn right_products_pass() {
    let report = check_all(&[entry(Some(jvp), Some(vjp))], 7, 4);
    assert!(report.failures.is_empty(), "{:#?}", report.failures);
    assert_eq!((report.jvp_points, report.vjp_points), (4, 4));
}

#[test]
fn wrong_products_fail_with_their_details() {
    let f = failures(Some(jvp_wrong_value), Some(vjp));
    assert_eq!(f.len(), 4);
    assert!(f[0].contains("jvp differs") && f[0].contains("value: [1]"), "{}", f[0]);

    let f = failures(Some(jvp_one_component_off), Some(vjp));
    assert_eq!(f.len(), 4);
    assert!(f[0].contains("jvp differs") && f[0].contains("[2]: got"), "{}", f[0]);
    assert!(f[0].contains("v = [") && f[0].contains("--- source:"), "{}", f[0]);

    let f = failures(Some(jvp), Some(vjp_untransposed));
    assert_eq!(f.len(), 4);
    assert!(f[0].contains("vjp differs") && f[0].contains("u = ["), "{}", f[0]);

    let f = failures(Some(jvp), Some(vjp_too_short));
    assert_eq!(f.len(), 4);
    assert!(f[0].contains("lengths differ"), "{}", f[0]);
}

#[test]
fn products_without_the_siblings_are_not_checked() {
    let report = check_all(&[entry(None, None)], 7, 4);
    assert!(report.failures.is_empty());
    assert_eq!((report.jvp_points, report.vjp_points), (0, 0));
}

// ---------------------------------------------------------------------- second order
//
// g(a, b) = a²b + sin(a)·b³: a scalar output whose Hessian has no zero entry and distinct
// diagonal entries, so that a wrong entry, a lost mirror and a wrong product all show.

fn g_value(x: &[f64], _n: usize) -> Vec<f64> {
    let (a, b) = (x[0], x[1]);
    vec![a * a * b + a.sin() * b.powi(3)]
}

fn g_gradient(x: &[f64]) -> Vec<f64> {
    let (a, b) = (x[0], x[1]);
    vec![2.0 * a * b + a.cos() * b.powi(3), a * a + 3.0 * a.sin() * b * b]
}

fn g_hessian(x: &[f64], _n: usize) -> Vec<Vec<f64>> {
    let (a, b) = (x[0], x[1]);
    let off = 2.0 * a + 3.0 * a.cos() * b * b;
    vec![vec![2.0 * b - a.sin() * b.powi(3), off], vec![off, 6.0 * a.sin() * b]]
}

fn g_jacobian(x: &[f64], _n: usize) -> Vec<Vec<f64>> {
    vec![g_gradient(x)]
}

fn g_twin(x: &[f64], n: usize) -> (Vec<f64>, Vec<Vec<f64>>) {
    (g_value(x, n), g_jacobian(x, n))
}

fn g_twin2(x: &[f64], n: usize) -> (Vec<f64>, Vec<f64>, Vec<Vec<f64>>) {
    (g_value(x, n), g_gradient(x), g_hessian(x, n))
}

fn g_hvp(x: &[f64], n: usize, v: &[f64]) -> Vec<f64> {
    times(&g_hessian(x, n), v)
}

fn g_hessian_entry_off(x: &[f64], n: usize) -> Vec<Vec<f64>> {
    let mut h = g_hessian(x, n);
    h[1][1] += 1e-6;
    h
}

fn g_hessian_asymmetric(x: &[f64], n: usize) -> Vec<Vec<f64>> {
    let mut h = g_hessian(x, n);
    // one ulp: within any tolerance, but not the mirror image of (1, 0)
    h[0][1] = f64::from_bits(h[0][1].to_bits() + 1);
    h
}

fn g_hessian_short(x: &[f64], n: usize) -> Vec<Vec<f64>> {
    let mut h = g_hessian(x, n);
    h.pop();
    h
}

fn g_vgh(x: &[f64], n: usize) -> (Vec<f64>, Vec<f64>, Vec<Vec<f64>>) {
    g_twin2(x, n)
}

fn g_vgh_gradient_off(x: &[f64], n: usize) -> (Vec<f64>, Vec<f64>, Vec<Vec<f64>>) {
    let (y, mut g, h) = g_twin2(x, n);
    g[0] += 1e-6;
    (y, g, h)
}

fn g_vgh_value_off(x: &[f64], n: usize) -> (Vec<f64>, Vec<f64>, Vec<Vec<f64>>) {
    let (mut y, g, h) = g_twin2(x, n);
    y[0] += 1e-6;
    (y, g, h)
}

/// H·v with `v` reversed: of the right length, wrong (the Hessian's diagonal differs).
fn g_hvp_reversed(x: &[f64], n: usize, v: &[f64]) -> Vec<f64> {
    let reversed: Vec<f64> = v.iter().rev().copied().collect();
    times(&g_hessian(x, n), &reversed)
}

fn g_hvp_one_component_off(x: &[f64], n: usize, v: &[f64]) -> Vec<f64> {
    let mut hv = g_hvp(x, n, v);
    hv[0] += 1e-6;
    hv
}

/// A second-order twin whose value is not the original's (a generator bug).
fn g_twin2_wrong_value(x: &[f64], n: usize) -> (Vec<f64>, Vec<f64>, Vec<Vec<f64>>) {
    let (mut y, g, h) = g_twin2(x, n);
    y[0] += 1.0;
    (y, g, h)
}

type Hessian = fn(&[f64], usize) -> Vec<Vec<f64>>;
type ValueGradientHessian = fn(&[f64], usize) -> (Vec<f64>, Vec<f64>, Vec<Vec<f64>>);
type HessianProduct = fn(&[f64], usize, &[f64]) -> Vec<f64>;

fn second_order_entry(
    hessian: Option<Hessian>,
    value_gradient_hessian: Option<ValueGradientHessian>,
    hvp: Option<HessianProduct>,
) -> Entry {
    Entry {
        index: 1,
        name: "g",
        source: "fn g(a: f64, b: f64) -> f64 { a * a * b + a.sin() * b.powi(3) }",
        twin_source: "(closed form)",
        inputs: 2,
        columns: &[0, 1],
        outputs: 1,
        uses_n: false,
        callees: &[],
        constructs: &[],
        orig: g_value,
        jac: g_jacobian,
        twin: g_twin,
        value_and_jac: None,
        jvp: None,
        vjp: None,
        twin2: Some(g_twin2),
        hessian,
        value_gradient_hessian,
        hvp,
        sparse: None,
    }
}

fn second_order_failures(
    hessian: Option<Hessian>,
    value_gradient_hessian: Option<ValueGradientHessian>,
    hvp: Option<HessianProduct>,
) -> Vec<String> {
    let report = check_all(&[second_order_entry(hessian, value_gradient_hessian, hvp)], 7, 4);
    assert!(report.twin_failures.is_empty(), "{:#?}", report.twin_failures);
    assert_eq!(report.points, 4);
    report.failures
}

#[test]
fn right_second_order_passes() {
    let report = check_all(&[second_order_entry(Some(g_hessian), Some(g_vgh), Some(g_hvp))], 7, 4);
    assert!(report.failures.is_empty(), "{:#?}", report.failures);
    assert!(report.twin_failures.is_empty(), "{:#?}", report.twin_failures);
    assert_eq!(report.second_order_functions, 1);
    assert_eq!((report.hessian_points, report.value_gradient_hessian_points, report.hvp_points), (4, 4, 4));
}

#[test]
fn a_wrong_hessian_entry_fails() {
    let f = second_order_failures(Some(g_hessian_entry_off), None, None);
    assert_eq!(f.len(), 4);
    assert!(f[0].contains("hessian differs") && f[0].contains("(1, 1): got"), "{}", f[0]);
    assert!(!f[0].contains("(0, 0)") && !f[0].contains("(0, 1)"), "{}", f[0]);
    assert!(f[0].contains("dual twin Hessian:") && f[0].contains("--- source:"), "{}", f[0]);

    let f = second_order_failures(Some(g_hessian_short), None, None);
    assert_eq!(f.len(), 4);
    assert!(f[0].contains("shapes differ"), "{}", f[0]);
}

#[test]
fn an_asymmetric_hessian_fails_however_close() {
    let f = second_order_failures(Some(g_hessian_asymmetric), None, None);
    assert_eq!(f.len(), 4);
    assert!(f[0].contains("hessian differs") && f[0].contains("not symmetric: (0, 1)"), "{}", f[0]);
}

#[test]
fn a_wrong_value_gradient_hessian_fails() {
    let f = second_order_failures(None, Some(g_vgh_value_off), None);
    assert_eq!(f.len(), 4);
    assert!(f[0].contains("value_gradient_hessian differs") && f[0].contains("value: [0]"), "{}", f[0]);

    let f = second_order_failures(None, Some(g_vgh_gradient_off), None);
    assert_eq!(f.len(), 4);
    assert!(f[0].contains("gradient: (0, 0): got"), "{}", f[0]);

    let f = second_order_failures(
        None,
        Some(|x, n| {
            let (y, g, _) = g_twin2(x, n);
            (y, g, g_hessian_asymmetric(x, n))
        }),
        None,
    );
    assert_eq!(f.len(), 4);
    assert!(f[0].contains("Hessian: not symmetric"), "{}", f[0]);
}

#[test]
fn a_wrong_hvp_fails() {
    let f = second_order_failures(None, None, Some(g_hvp_reversed));
    assert_eq!(f.len(), 4);
    assert!(f[0].contains("hvp differs from the dual twin's H·v") && f[0].contains("v = ["), "{}", f[0]);

    let f = second_order_failures(None, None, Some(g_hvp_one_component_off));
    assert_eq!(f.len(), 4);
    assert!(f[0].contains("[0]: got") && !f[0].contains("[1]: got"), "{}", f[0]);
}

#[test]
fn a_second_order_twin_off_the_original_is_a_generator_bug() {
    let mut entry = second_order_entry(Some(g_hessian), None, None);
    entry.twin2 = Some(g_twin2_wrong_value);
    let report = check_all(&[entry], 7, 4);
    assert!(report.failures.is_empty(), "{:#?}", report.failures);
    assert_eq!(report.twin_failures.len(), 4);
    assert!(report.twin_failures[0].contains("second-order twin"), "{}", report.twin_failures[0]);
    assert_eq!(report.hessian_points, 0);
}

// ---------------------------------------------------------------------- sparse Jacobians
//
// f(a, b) = (a·b, a + 2b, sin a) again: its Jacobian's (2, 1) entry is a structural zero,
// so the right pattern lists the other five positions.

use jacobian_fuzz::harness::{sparse_mismatch, SparseParts};

const POSITIONS: [(usize, usize); 5] = [(0, 0), (0, 1), (1, 0), (1, 1), (2, 0)];

fn sparse_from(x: &[f64], positions: &[(usize, usize)]) -> SparseParts {
    let j = jacobian(x, 0);
    SparseParts {
        shape: (3, 2),
        positions: positions.to_vec(),
        values: positions.iter().map(|&(r, c)| j[r][c]).collect(),
        pattern_shape: (3, 2),
        pattern: positions.to_vec(),
    }
}

fn sparse(x: &[f64], _n: usize) -> SparseParts {
    sparse_from(x, &POSITIONS)
}

/// The value at (1, 1) one part in 10⁹ off: within the twins' tolerance, not within the
/// sparse one's.
fn sparse_value_off(x: &[f64], n: usize) -> SparseParts {
    let mut parts = sparse(x, n);
    parts.values[3] *= 1.0 + 1e-9;
    parts
}

/// Without the non-zero (2, 0): the values it lists are right.
fn sparse_missing_non_zero(x: &[f64], _n: usize) -> SparseParts {
    sparse_from(x, &POSITIONS[..4])
}

fn sparse_duplicate(x: &[f64], _n: usize) -> SparseParts {
    sparse_from(x, &[(0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (0, 1)])
}

/// The matrix's own pattern not the one `{name}_jacobian_pattern()` gives.
fn sparse_other_pattern(x: &[f64], n: usize) -> SparseParts {
    let mut parts = sparse(x, n);
    parts.pattern.swap(0, 1);
    parts
}

type Sparse = fn(&[f64], usize) -> SparseParts;

fn sparse_failures(sparse: Sparse) -> Vec<String> {
    let mut e = entry(Some(jvp), Some(vjp));
    e.sparse = Some(sparse);
    let report = check_all(&[e], 7, 4);
    assert!(report.twin_failures.is_empty());
    assert_eq!((report.sparse_functions, report.sparse_points), (1, 4));
    report.failures
}

#[test]
fn a_right_sparse_jacobian_passes() {
    let f = sparse_failures(sparse);
    assert!(f.is_empty(), "{f:#?}");
    // a pattern may list an entry that is zero at the point
    assert_eq!(sparse_mismatch(&sparse_from(&[0.0, 0.0], &POSITIONS), &jacobian(&[0.0, 0.0], 0)), None);
    let report = {
        let mut e = entry(None, None);
        e.sparse = Some(sparse);
        check_all(&[e], 7, 4)
    };
    assert_eq!((report.sparse_values, report.sparse_dense_entries), (5, 6));
}

#[test]
fn a_wrong_sparse_value_fails() {
    let f = sparse_failures(sparse_value_off);
    assert_eq!(f.len(), 4);
    assert!(f[0].contains("jacobian_sparse differs") && f[0].contains("(1, 1): sparse"), "{}", f[0]);
    assert!(!f[0].contains("(0, 0): sparse") && f[0].contains("--- source:"), "{}", f[0]);
}

#[test]
fn a_missing_non_zero_fails() {
    let f = sparse_failures(sparse_missing_non_zero);
    assert_eq!(f.len(), 4);
    assert!(f[0].contains("(2, 0): non-zero") && f[0].contains("missing from the pattern"), "{}", f[0]);
}

#[test]
fn a_duplicate_position_or_another_pattern_fails() {
    let f = sparse_failures(sparse_duplicate);
    assert_eq!(f.len(), 4);
    assert!(f[0].contains("(0, 1) twice in the pattern"), "{}", f[0]);

    let f = sparse_failures(sparse_other_pattern);
    assert_eq!(f.len(), 4);
    assert!(f[0].contains("not the pattern sibling's"), "{}", f[0]);
}
