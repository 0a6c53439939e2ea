//! Compile-fail tests: every diagnostic of `#[jacobian]`, with its message and span.
//! Regenerate the snapshots with `TRYBUILD=overwrite cargo test --test ui`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
