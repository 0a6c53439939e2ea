//! Runs the generated table: every function at several random points, the macro's
//! Jacobian against the dual twin's, and the twin's values against the original's.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::generator::Rng;
use crate::tw;

type Values = fn(&[f64], usize) -> Vec<f64>;
type Jacobian = fn(&[f64], usize) -> Vec<Vec<f64>>;
type ValuesAndJacobian = fn(&[f64], usize) -> (Vec<f64>, Vec<Vec<f64>>);

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
                continue;
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

impl Report {
    /// Functions, points, and constructs (functions using each, total uses).
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "checked {} functions at {} points ({} points skipped near a kink, {} with non-finite derivatives)",
            self.functions, self.points, self.near_kink, self.non_finite
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
