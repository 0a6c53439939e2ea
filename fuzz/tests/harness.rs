//! The harness itself: hand-written entries whose `jvp`/`vjp` are right pass, and each
//! kind of wrong answer (a wrong value, J·v off in one component, Jᵀ·u computed as J·u) is
//! a failure. f(a, b) = (a·b, a + 2b, sin a) has a Jacobian that is neither square nor
//! symmetric, so that a transposition shows.

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
