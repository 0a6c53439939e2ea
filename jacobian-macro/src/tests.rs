//! Tests of the expansion itself: its size, its determinism, and that malformed input
//! gives errors rather than panics. Numerical correctness is tested in the root
//! package against independent oracles.

use crate::expand::expand;
use proc_macro2::TokenStream;

pub fn expand_str(attr: &str, item: &str) -> String {
    let attr: TokenStream = attr.parse().expect("attribute tokens");
    let item: TokenStream = item.parse().expect("item tokens");
    expand(attr, item).to_string()
}

fn loop_residual(bound: &str) -> String {
    let item = format!(
        "fn f(x: [f64; 4], t: f64) -> f64 {{ let mut s = 0.0; for i in 0..{bound} {{ let k = i % 4; s += (x[k] * t).sin() * x[(k + 1) % 4]; }} s }}"
    );
    expand_str("", &item)
}

#[test]
fn loops_are_not_unrolled() {
    let small = loop_residual("10");
    let large = loop_residual("1000");
    assert!(small.contains("0 .. 10 "), "{small}");
    // Identical but for the bound: nothing is unrolled.
    assert_eq!(small.replace("0 .. 10 ", "0 .. BOUND "), large.replace("0 .. 1000 ", "0 .. BOUND "));
}

#[test]
fn expansion_is_deterministic() {
    let first = loop_residual("10");
    for _ in 0..5 {
        assert_eq!(first, loop_residual("10"));
    }
}

#[test]
fn expansion_size_does_not_depend_on_const_generic_sizes() {
    let item = "fn sq<const N: usize>(x: [f64; N]) -> f64 { let mut s = 0.0; for i in 0..N { s += x[i] * x[i]; } s }";
    let out = expand_str("", item);
    assert!(!out.contains("compile_error"), "{out}");
    assert!(out.len() < 3000, "{out}");
}

/// Prints an expansion for reading: `PRINT=1 cargo test -p jacobian-macro print -- --nocapture`.
#[test]
fn print() {
    if let Ok(source) = std::env::var("JACOBIAN_EXPAND") {
        let attr = std::env::var("JACOBIAN_ATTR").unwrap_or_default();
        println!("{}", expand_str(&attr, &source));
    }
}

#[test]
fn constant_matrix_parameter_has_a_shape() {
    let ty: syn::Type = syn::parse_quote!(Matrix<2, 3>);
    let hint = crate::lower::hint_of_type(&ty);
    assert!(format!("{hint:?}").contains("Matrix"), "{hint:?}");
}
