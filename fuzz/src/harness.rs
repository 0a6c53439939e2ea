//! Runs the generated table: every function at several random points, the macro's
//! Jacobian against the dual twin's, and the twin's values against the original's; at each
//! point also the `jvp` sibling's J·v for a random direction `v` and the `vjp` sibling's
//! Jᵀ·u for random weights `u` against the products with the twin's Jacobian. For scalar
//! outputs with second-order siblings, the twin runs again on second-order duals: the
//! `hessian` sibling must be exactly symmetric and match the twin's Hessian entry by entry,
//! `value_gradient_hessian` must match the value, the twin's gradient and Hessian, and
//! `hvp` the twin's H·v for a random `v`. For functions with the `sparse` option, the
//! values of `{name}_jacobian_sparse` must be the macro's dense Jacobian's entries at the
//! pattern's positions (to rounding: the same derivatives, by forward mode where the dense
//! one may be by reverse mode), the pattern must list no position twice and every non-zero
//! entry of the dense Jacobian, and be the one `{name}_jacobian_pattern()` gives.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::generator::Rng;
use crate::tw;

type Values = fn(&[f64], usize) -> Vec<f64>;
type Jacobian = fn(&[f64], usize) -> Vec<Vec<f64>>;
type ValuesAndJacobian = fn(&[f64], usize) -> (Vec<f64>, Vec<Vec<f64>>);
/// A `jvp` or `vjp` sibling: inputs, `n`, and the vector it multiplies (`v` or `u`), to the
/// output and the product, flattened.
type Product = fn(&[f64], usize, &[f64]) -> (Vec<f64>, Vec<f64>);
/// Value, gradient and Hessian (rows), of the second-order twin or of
/// `{name}_value_gradient_hessian`.
type ValueGradientHessian = fn(&[f64], usize) -> (Vec<f64>, Vec<f64>, Vec<Vec<f64>>);
/// `{name}_hvp`: inputs, `n` and `v` to H·v.
type HessianProduct = fn(&[f64], usize, &[f64]) -> Vec<f64>;
/// `{name}_jacobian_sparse` at the inputs and `n`, with `{name}_jacobian_pattern()`.
type SparseJacobian = fn(&[f64], usize) -> SparseParts;

/// A sparse Jacobian as the harness reads it (`crate::sparse_parts`).
#[derive(Clone, Debug, Default)]
pub struct SparseParts {
    /// Rows and columns of the sparse matrix.
    pub shape: (usize, usize),
    /// The `(row, column)` of each value, from the matrix's own pattern.
    pub positions: Vec<(usize, usize)>,
    pub values: Vec<f64>,
    /// `{name}_jacobian_pattern()`: its shape and positions.
    pub pattern_shape: (usize, usize),
    pub pattern: Vec<(usize, usize)>,
}

/// One generated function, as the generated table lists it.
pub struct Entry {
    pub index: usize,
    pub name: &'static str,
    /// The annotated function as generated.
    pub source: &'static str,
    /// Its dual-number twin.
    pub twin_source: &'static str,
    /// Number of `f64` input components (all parameters, flattened in order).
    pub inputs: usize,
    /// The flat input components that are differentiated (the Jacobian's columns).
    pub columns: &'static [usize],
    pub outputs: usize,
    /// Whether the function takes the integer `n`.
    pub uses_n: bool,
    /// Indices of the generated functions it calls.
    pub callees: &'static [usize],
    /// Constructs the generator used, with how often.
    pub constructs: &'static [(&'static str, usize)],
    /// The original, its outputs flattened.
    pub orig: Values,
    /// The macro's Jacobian.
    pub jac: Jacobian,
    /// Values and Jacobian of the dual twin.
    pub twin: ValuesAndJacobian,
    /// `{name}_value_and_jacobian`, when the function has the `value` option.
    pub value_and_jac: Option<ValuesAndJacobian>,
    /// `{name}_jvp` (value and J·v, `v` of length `columns.len()`), with the `jvp` option.
    pub jvp: Option<Product>,
    /// `{name}_vjp` (value and Jᵀ·u, `u` of length `outputs`), with the `vjp` option.
    pub vjp: Option<Product>,
    /// The dual twin on second-order duals: value, gradient, Hessian. Present with any of
    /// the second-order siblings.
    pub twin2: Option<ValueGradientHessian>,
    /// `{name}_hessian`, with the `hessian` option.
    pub hessian: Option<Jacobian>,
    /// `{name}_value_gradient_hessian`, with the `hessian` and `value` options.
    pub value_gradient_hessian: Option<ValueGradientHessian>,
    /// `{name}_hvp` (H·v, `v` of length `columns.len()`), with the `hvp` option.
    pub hvp: Option<HessianProduct>,
    /// `{name}_jacobian_sparse` and `{name}_jacobian_pattern()`, with the `sparse` option.
    pub sparse: Option<SparseJacobian>,
}

/// The outcome of [`check_all`].
#[derive(Default, Debug)]
pub struct Report {
    pub functions: usize,
    pub points: usize,
    /// Points drawn but skipped because a branch was within 1e-8 of its kink.
    pub near_kink: usize,
    /// Checked points where the twin's Jacobian had a non-finite entry.
    pub non_finite: usize,
    /// Points at which `jvp` and `vjp` were checked.
    pub jvp_points: usize,
    pub vjp_points: usize,
    /// Components of J·v and Jᵀ·u not compared because a term's entry of the twin's
    /// Jacobian was not finite.
    pub product_non_finite: usize,
    /// Functions with second-order siblings.
    pub second_order_functions: usize,
    /// Functions with an `f64` output (the generator's construct `return_scalar`): those
    /// second order may take.
    pub scalar_output_functions: usize,
    /// Functions with second-order siblings that call other generated functions (whose
    /// bodies second order writes out in place).
    pub second_order_with_calls: usize,
    /// Points at which second order was checked (the twin's Hessian against `hessian`,
    /// `value_gradient_hessian` where it exists, and `hvp`'s H·v where it exists).
    pub hessian_points: usize,
    pub value_gradient_hessian_points: usize,
    pub hvp_points: usize,
    /// Checked points where second order was not: the second-order twin made a decision
    /// near its kink that the first-order one did not count (on a value whose gradient
    /// vanishes there but whose Hessian does not).
    pub hessian_near_kink: usize,
    /// Checked points where the twin's Hessian had a non-finite entry.
    pub hessian_non_finite: usize,
    /// Functions with the `sparse` option, the points at which their sparse Jacobian was
    /// checked, and, summed over those functions, the values their patterns hold and the
    /// entries of their dense Jacobians.
    pub sparse_functions: usize,
    pub sparse_points: usize,
    pub sparse_values: usize,
    pub sparse_dense_entries: usize,
    pub constructs: BTreeMap<&'static str, (usize, usize)>,
    /// Functions checked at fewer points than asked, with the number of points checked and
    /// the last near-kink decision (distance, scale).
    pub short: Vec<(usize, usize, (f64, f64))>,
    /// Mismatches between the macro's Jacobian (or value) and the twin's.
    pub failures: Vec<String>,
    /// Mismatches between the twin's values and the original's: generator bugs.
    pub twin_failures: Vec<String>,
}

/// Relative tolerance of the comparison.
pub const TOL: f64 = 1e-9;

/// Relative tolerance of a sparse Jacobian's values against the dense Jacobian's entries:
/// the same derivatives, computed by forward mode for the sparse one and by forward or
/// reverse mode for the dense one, so equal to rounding.
pub const SPARSE_TOL: f64 = 1e-12;

/// `|a - b| <= TOL * (1 + |b| + scale)`, NaN only matching NaN, infinities only themselves.
pub fn close(a: f64, b: f64, scale: f64) -> bool {
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    if a == b {
        return true;
    }
    (a - b).abs() <= TOL * (1.0 + b.abs() + scale)
}

fn row_scale(row: &[f64]) -> f64 {
    row.iter().filter(|v| v.is_finite()).fold(0.0f64, |s, v| s.max(v.abs()))
}

fn fmt_rows(rows: &[Vec<f64>]) -> String {
    let mut out = String::new();
    for row in rows {
        let items: Vec<String> = row.iter().map(|v| format!("{v:>24.16e}")).collect();
        let _ = writeln!(out, "    [{}]", items.join(", "));
    }
    out
}

/// Entries of `got` that are off from `want`, row scale taken from `want`.
fn jac_mismatch(got: &[Vec<f64>], want: &[Vec<f64>]) -> Option<String> {
    if got.len() != want.len() || got.iter().zip(want).any(|(a, b)| a.len() != b.len()) {
        return Some("shapes differ".into());
    }
    let mut bad = Vec::new();
    for (i, (ra, rb)) in got.iter().zip(want).enumerate() {
        let scale = row_scale(rb);
        for (k, (&a, &b)) in ra.iter().zip(rb).enumerate() {
            if !close(a, b, scale) {
                bad.push(format!("({i}, {k}): got {a:e}, expected {b:e}, diff {:e}", (a - b).abs()));
            }
        }
    }
    if bad.is_empty() {
        None
    } else {
        Some(bad.join("; "))
    }
}

fn value_mismatch(got: &[f64], want: &[f64]) -> Option<String> {
    if got.len() != want.len() {
        return Some("lengths differ".into());
    }
    let scale = row_scale(want);
    let bad: Vec<String> = got
        .iter()
        .zip(want)
        .enumerate()
        .filter(|(_, (&a, &b))| !close(a, b, scale))
        .map(|(i, (a, b))| format!("[{i}]: {a:e} vs {b:e}"))
        .collect();
    if bad.is_empty() {
        None
    } else {
        Some(bad.join("; "))
    }
}

/// The products of the twin's Jacobian `j` (rows: outputs) with `d`: J·d, or Jᵀ·d with
/// `transpose`. Each component comes with its scale `Σ |J_ik d_k|` (the magnitudes it is
/// summed from), or is `None` where a term's entry of `j` is not finite.
fn product(j: &[Vec<f64>], d: &[f64], transpose: bool) -> Vec<Option<(f64, f64)>> {
    let (rows, cols) = (j.len(), j.first().map_or(0, Vec::len));
    let (len, terms) = if transpose { (cols, rows) } else { (rows, cols) };
    (0..len)
        .map(|a| {
            let (mut sum, mut scale) = (0.0, 0.0);
            for b in 0..terms {
                let entry = if transpose { j[b][a] } else { j[a][b] };
                if !entry.is_finite() {
                    return None;
                }
                sum += entry * d[b];
                scale += (entry * d[b]).abs();
            }
            Some((sum, scale))
        })
        .collect()
}

/// Components of `got` that are off from the expected product, each with its own scale.
fn product_mismatch(got: &[f64], want: &[Option<(f64, f64)>]) -> Option<String> {
    if got.len() != want.len() {
        return Some(format!("lengths differ: {} against {}", got.len(), want.len()));
    }
    let bad: Vec<String> = got
        .iter()
        .zip(want)
        .enumerate()
        .filter_map(|(i, (&a, w))| {
            let &(b, scale) = w.as_ref()?;
            (!close(a, b, scale)).then(|| {
                format!("[{i}]: got {a:e}, expected {b:e}, diff {:e}, scale {scale:e}", (a - b).abs())
            })
        })
        .collect();
    if bad.is_empty() {
        None
    } else {
        Some(bad.join("; "))
    }
}

/// Entries of a Hessian `got` that are not exactly symmetric (bit for bit, NaN matching NaN).
fn asymmetry(got: &[Vec<f64>]) -> Option<String> {
    let same = |a: f64, b: f64| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan());
    let mut bad = Vec::new();
    for (i, row) in got.iter().enumerate() {
        for (k, mirror) in got.iter().enumerate().skip(i + 1) {
            if !same(row[k], mirror[i]) {
                bad.push(format!("({i}, {k}) is {:e} but ({k}, {i}) is {:e}", row[k], mirror[i]));
            }
        }
    }
    if bad.is_empty() {
        None
    } else {
        Some(format!("not symmetric: {}", bad.join("; ")))
    }
}

/// A Hessian `got` against the twin's `want`: square of the right size, exactly symmetric,
/// and each entry `(i, k)` within [`close`] on the scale of the larger of rows `i` and `k`
/// of `want` (a symmetric scale, so that an entry and its mirror are held alike).
pub fn hessian_mismatch(got: &[Vec<f64>], want: &[Vec<f64>]) -> Option<String> {
    let n = want.len();
    if got.len() != n || got.iter().any(|row| row.len() != n) {
        return Some(format!("shapes differ: expected {n} × {n}"));
    }
    if let Some(off) = asymmetry(got) {
        return Some(off);
    }
    let scales: Vec<f64> = want.iter().map(|row| row_scale(row)).collect();
    let mut bad = Vec::new();
    for (i, (ra, rb)) in got.iter().zip(want).enumerate() {
        for (k, (&a, &b)) in ra.iter().zip(rb).enumerate() {
            if !close(a, b, scales[i].max(scales[k])) {
                bad.push(format!("({i}, {k}): got {a:e}, expected {b:e}, diff {:e}", (a - b).abs()));
            }
        }
    }
    if bad.is_empty() {
        None
    } else {
        Some(bad.join("; "))
    }
}

/// A sparse Jacobian against the dense one `dense` (rows: outputs): its shape and its
/// pattern's are the dense one's, it has one value per position and `{name}_jacobian_pattern()`'s
/// positions, no position twice or outside the matrix, each value within [`SPARSE_TOL`] of
/// the dense entry at its position (on the scale of the entry's row), and every non-zero
/// entry of the dense Jacobian is in the pattern.
pub fn sparse_mismatch(sparse: &SparseParts, dense: &[Vec<f64>]) -> Option<String> {
    let shape = (dense.len(), dense.first().map_or(0, Vec::len));
    if sparse.shape != shape || sparse.pattern_shape != shape {
        return Some(format!(
            "shapes differ: sparse {:?}, pattern {:?}, dense {shape:?}",
            sparse.shape, sparse.pattern_shape
        ));
    }
    if sparse.values.len() != sparse.positions.len() {
        return Some(format!("{} values for {} positions", sparse.values.len(), sparse.positions.len()));
    }
    if sparse.positions != sparse.pattern {
        return Some(format!("the matrix's pattern is not the pattern sibling's {:?}", sparse.pattern));
    }
    let mut bad = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (&(r, c), &value) in sparse.positions.iter().zip(&sparse.values) {
        if r >= shape.0 || c >= shape.1 {
            bad.push(format!("({r}, {c}) outside the matrix"));
            continue;
        }
        if !seen.insert((r, c)) {
            bad.push(format!("({r}, {c}) twice in the pattern"));
            continue;
        }
        let want = dense[r][c];
        let near = if value.is_nan() || want.is_nan() {
            value.is_nan() && want.is_nan()
        } else {
            value == want || (value - want).abs() <= SPARSE_TOL * (1.0 + want.abs() + row_scale(&dense[r]))
        };
        if !near {
            bad.push(format!(
                "({r}, {c}): sparse {value:e}, dense {want:e}, diff {:e}",
                (value - want).abs()
            ));
        }
    }
    for (r, row) in dense.iter().enumerate() {
        for (c, &entry) in row.iter().enumerate() {
            if entry != 0.0 && !seen.contains(&(r, c)) {
                bad.push(format!("({r}, {c}): non-zero {entry:e} missing from the pattern"));
            }
        }
    }
    if bad.is_empty() {
        None
    } else {
        Some(bad.join("; "))
    }
}

fn fmt_product(want: &[Option<(f64, f64)>]) -> String {
    let items: Vec<String> =
        want.iter().map(|w| w.map_or("(not finite)".into(), |(b, _)| format!("{b:e}"))).collect();
    format!("[{}]", items.join(", "))
}

fn describe(entries: &[Entry], e: &Entry, x: &[f64], n: usize, what: &str, detail: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "=== function #{} `{}`: {what}", e.index, e.name);
    let _ = writeln!(s, "point x = {x:?}, n = {n}");
    let _ = writeln!(s, "{detail}");
    let _ = writeln!(s, "--- source:\n{}", e.source);
    for &c in e.callees {
        if let Some(callee) = entries.iter().find(|f| f.index == c) {
            let _ = writeln!(s, "--- callee:\n{}", callee.source);
        }
    }
    let _ = writeln!(s, "--- twin:\n{}", e.twin_source);
    s
}

/// Checks every entry at `points` random points (inputs uniform in [-2, 2], `n` in 0..=4).
/// A point where a branch of the twin is within 1e-8 of its kink is replaced by another.
pub fn check_all(entries: &[Entry], seed: u64, points: usize) -> Report {
    let mut report = Report::default();
    for e in entries {
        report.functions += 1;
        let mut rng = Rng::new(seed ^ (e.index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1FF);
        // the vectors of jvp and vjp from a stream of their own: the points stay as they were
        let mut directions = Rng::new(seed ^ (e.index as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F) ^ 0x0D1C);
        // and those of hvp from another
        let mut curvatures = Rng::new(seed ^ (e.index as u64).wrapping_mul(0x1656_67B1_9E37_79F9) ^ 0x4E55);
        if e.sparse.is_some() {
            report.sparse_functions += 1;
        }
        let mut sparse_counted = false;
        if e.twin2.is_some() {
            report.second_order_functions += 1;
            report.second_order_with_calls += usize::from(!e.callees.is_empty());
        }
        report.scalar_output_functions +=
            usize::from(e.constructs.iter().any(|&(c, _)| c == "return_scalar"));
        let mut checked = 0;
        let mut attempts = 0;
        while checked < points && attempts < points * 20 {
            attempts += 1;
            let x: Vec<f64> = (0..e.inputs).map(|_| rng.uniform(-2.0, 2.0)).collect();
            let n = rng.range(0, 4);
            tw::reset_near_kink();
            let (tv, tj) = (e.twin)(&x, n);
            if tw::take_near_kink() {
                report.near_kink += 1;
                continue;
            }
            checked += 1;
            report.points += 1;
            if tj.iter().flatten().any(|v| !v.is_finite()) {
                report.non_finite += 1;
            }
            let ov = (e.orig)(&x, n);
            if let Some(d) = value_mismatch(&tv, &ov) {
                let detail = format!("twin values {tv:?}\noriginal values {ov:?}\n{d}");
                report.twin_failures.push(describe(
                    entries,
                    e,
                    &x,
                    n,
                    "the twin is not the original (generator bug)",
                    &detail,
                ));
                continue;
            }
            let j = (e.jac)(&x, n);
            if let Some(d) = jac_mismatch(&j, &tj) {
                let detail = format!(
                    "macro Jacobian:\n{}dual twin Jacobian:\n{}off: {d}",
                    fmt_rows(&j),
                    fmt_rows(&tj)
                );
                report.failures.push(describe(
                    entries,
                    e,
                    &x,
                    n,
                    "Jacobian differs from the dual twin",
                    &detail,
                ));
            }
            if let Some(vj) = e.value_and_jac {
                let (v, j2) = vj(&x, n);
                if let Some(d) = value_mismatch(&v, &ov).or_else(|| jac_mismatch(&j2, &tj)) {
                    let detail = format!(
                        "value_and_jacobian value {v:?}\noriginal {ov:?}\nits Jacobian:\n{}dual twin Jacobian:\n{}off: {d}",
                        fmt_rows(&j2),
                        fmt_rows(&tj)
                    );
                    report.failures.push(describe(entries, e, &x, n, "value_and_jacobian differs", &detail));
                }
            }
            // drawn whether or not the siblings exist, so that each keeps its vectors
            let v: Vec<f64> = (0..e.columns.len()).map(|_| directions.uniform(-1.0, 1.0)).collect();
            let u: Vec<f64> = (0..e.outputs).map(|_| directions.uniform(-1.0, 1.0)).collect();
            for (sibling, f, d, transpose) in [("jvp", e.jvp, &v, false), ("vjp", e.vjp, &u, true)] {
                let Some(f) = f else { continue };
                if transpose {
                    report.vjp_points += 1;
                } else {
                    report.jvp_points += 1;
                }
                let (value, got) = f(&x, n, d);
                let want = product(&tj, d, transpose);
                report.product_non_finite += want.iter().filter(|w| w.is_none()).count();
                let off = value_mismatch(&value, &ov)
                    .map(|m| format!("value: {m}"))
                    .or_else(|| product_mismatch(&got, &want));
                if let Some(off) = off {
                    let (arg, what) = if transpose { ("u", "Jᵀ·u") } else { ("v", "J·v") };
                    let detail = format!(
                        "{arg} = {d:?}\n{sibling} value {value:?}\noriginal {ov:?}\n{sibling} {what} = {got:?}\ndual twin {what} = {}\ndual twin Jacobian:\n{}off: {off}",
                        fmt_product(&want),
                        fmt_rows(&tj)
                    );
                    report.failures.push(describe(
                        entries,
                        e,
                        &x,
                        n,
                        &format!("{sibling} differs from the dual twin's {what}"),
                        &detail,
                    ));
                }
            }
            if let Some(sparse) = e.sparse {
                let parts = sparse(&x, n);
                report.sparse_points += 1;
                if !sparse_counted {
                    sparse_counted = true;
                    report.sparse_values += parts.values.len();
                    report.sparse_dense_entries += e.outputs * e.columns.len();
                }
                if let Some(off) = sparse_mismatch(&parts, &j) {
                    let detail = format!(
                        "sparse positions {:?}\nsparse values {:?}\nmacro dense Jacobian:\n{}off: {off}",
                        parts.positions,
                        parts.values,
                        fmt_rows(&j)
                    );
                    report.failures.push(describe(
                        entries,
                        e,
                        &x,
                        n,
                        "jacobian_sparse differs from the dense Jacobian",
                        &detail,
                    ));
                }
            }
            let v: Vec<f64> = (0..e.columns.len()).map(|_| curvatures.uniform(-1.0, 1.0)).collect();
            if let Some(twin2) = e.twin2 {
                check_second_order(entries, e, twin2, &x, n, &v, (&ov, &tj), &mut report);
            }
        }
        if checked < points {
            report.short.push((e.index, checked, tw::last_near_kink()));
        }
        for &(name, count) in e.constructs {
            let slot = report.constructs.entry(name).or_insert((0, 0));
            slot.0 += 1;
            slot.1 += count;
        }
    }
    report
}

/// The second-order siblings of `e` at `(x, n)` against the second-order twin, whose value
/// and gradient must first be the original's and the first-order twin's (`want`).
#[allow(clippy::too_many_arguments)]
fn check_second_order(
    entries: &[Entry],
    e: &Entry,
    twin2: ValueGradientHessian,
    x: &[f64],
    n: usize,
    v: &[f64],
    (ov, tj): (&[f64], &[Vec<f64>]),
    report: &mut Report,
) {
    tw::reset_near_kink();
    let (tv, tg, th) = twin2(x, n);
    if tw::take_near_kink() {
        report.hessian_near_kink += 1;
        return;
    }
    if let Some(d) = value_mismatch(&tv, ov).or_else(|| jac_mismatch(std::slice::from_ref(&tg), tj)) {
        let detail = format!(
            "second-order twin value {tv:?}, gradient {tg:?}\noriginal values {ov:?}\nfirst-order twin Jacobian:\n{}off: {d}",
            fmt_rows(tj)
        );
        report.twin_failures.push(describe(
            entries,
            e,
            x,
            n,
            "the second-order twin is not the first-order one (generator bug)",
            &detail,
        ));
        return;
    }
    if th.iter().flatten().any(|h| !h.is_finite()) {
        report.hessian_non_finite += 1;
    }
    let mut fail =
        |what: &str, detail: String| report.failures.push(describe(entries, e, x, n, what, &detail));
    if let Some(hessian) = e.hessian {
        let h = hessian(x, n);
        if let Some(d) = hessian_mismatch(&h, &th) {
            fail(
                "hessian differs from the dual twin's",
                format!("macro Hessian:\n{}dual twin Hessian:\n{}off: {d}", fmt_rows(&h), fmt_rows(&th)),
            );
        }
    }
    if let Some(vgh) = e.value_gradient_hessian {
        let (value, g, h) = vgh(x, n);
        let off = value_mismatch(&value, ov)
            .map(|m| format!("value: {m}"))
            .or_else(|| jac_mismatch(std::slice::from_ref(&g), tj).map(|m| format!("gradient: {m}")))
            .or_else(|| hessian_mismatch(&h, &th).map(|m| format!("Hessian: {m}")));
        if let Some(off) = off {
            fail(
                "value_gradient_hessian differs",
                format!(
                    "its value {value:?}\noriginal {ov:?}\nits gradient {g:?}\ndual twin Jacobian:\n{}its Hessian:\n{}dual twin Hessian:\n{}off: {off}",
                    fmt_rows(tj),
                    fmt_rows(&h),
                    fmt_rows(&th)
                ),
            );
        }
    }
    if let Some(hvp) = e.hvp {
        let got = hvp(x, n, v);
        let want = product(&th, v, false);
        report.product_non_finite += want.iter().filter(|w| w.is_none()).count();
        if let Some(off) = product_mismatch(&got, &want) {
            fail(
                "hvp differs from the dual twin's H·v",
                format!(
                    "v = {v:?}\nhvp H·v = {got:?}\ndual twin H·v = {}\ndual twin Hessian:\n{}off: {off}",
                    fmt_product(&want),
                    fmt_rows(&th)
                ),
            );
        }
    }
    report.hessian_points += usize::from(e.hessian.is_some());
    report.value_gradient_hessian_points += usize::from(e.value_gradient_hessian.is_some());
    report.hvp_points += usize::from(e.hvp.is_some());
}

impl Report {
    /// Functions, points, and constructs (functions using each, total uses).
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "checked {} functions at {} points ({} points skipped near a kink, {} with non-finite derivatives)",
            self.functions, self.points, self.near_kink, self.non_finite
        );
        let _ = writeln!(
            s,
            "jvp checked at {} points, vjp at {} ({} product components skipped: non-finite twin Jacobian)",
            self.jvp_points, self.vjp_points, self.product_non_finite
        );
        let _ = writeln!(
            s,
            "second order for {} functions ({} with calls; {} functions have an f64 output): hessian checked at {} points, value_gradient_hessian at {}, hvp at {} ({} points skipped near a kink of the second-order twin, {} with a non-finite Hessian)",
            self.second_order_functions,
            self.second_order_with_calls,
            self.scalar_output_functions,
            self.hessian_points,
            self.value_gradient_hessian_points,
            self.hvp_points,
            self.hessian_near_kink,
            self.hessian_non_finite
        );
        let _ = writeln!(
            s,
            "sparse Jacobians of {} functions checked at {} points ({} values stored for {} dense entries)",
            self.sparse_functions, self.sparse_points, self.sparse_values, self.sparse_dense_entries
        );
        if !self.short.is_empty() {
            let list: Vec<String> = self
                .short
                .iter()
                .map(|(i, n, (d, sc))| format!("f{i} ({n} points; last kink at {d:e} on {sc:e})"))
                .collect();
            let _ = writeln!(
                s,
                "functions checked at fewer points (nearly always at a kink): {}",
                list.join(", ")
            );
        }
        let _ = writeln!(s, "constructs (functions using it / total uses):");
        for (name, (f, n)) in &self.constructs {
            let _ = writeln!(s, "  {name:<32} {f:>5} {n:>6}");
        }
        s
    }
}
