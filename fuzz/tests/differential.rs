//! The macro's Jacobians of randomly generated programs against the Jacobians of their
//! dual-number twins (num-dual, forward mode), at several random points per function, and
//! the `jvp`/`vjp` siblings' products with random vectors against the twin's Jacobian's;
//! for scalar outputs that second order takes, the `hessian`, `value_gradient_hessian` and
//! `hvp` siblings against the twin on second-order duals.
//! `JACOBIAN_FUZZ_SEED` and `JACOBIAN_FUZZ_COUNT` choose the programs (see build.rs);
//! `JACOBIAN_FUZZ_POINTS` the points per function (default 8). CI (`.ci/run`) runs it at
//! the generator's fixed seed and again at one taken from the commit's hash, and prints the
//! command that reproduces a failure, e.g.
//! `JACOBIAN_FUZZ_SEED=0x66cebb0dde7dd0e0 cargo test -p jacobian-fuzz --test differential`.

// Generated programs are random, not written for style: unused bindings and mutability,
// index loops, empty branches (when a function's statement budget runs out) and the like
// are what the generator makes and what the macro is fed.
// They are fuzz inputs, not code we maintain, so no lint applies to them; the macro's own
// output is linted in `tests/hygiene.rs`.
#[allow(unused, unreachable_code, clippy::all)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/generated.rs"));
}

#[test]
fn generated_jacobians_match_dual_twins() {
    let seed: u64 = env!("JACOBIAN_FUZZ_SEED_USED").parse().expect("seed");
    let points = std::env::var("JACOBIAN_FUZZ_POINTS").ok().and_then(|s| s.parse().ok()).unwrap_or(8);
    let report = jacobian_fuzz::check_all(generated::ENTRIES, seed, points);
    println!("seed {seed:#x}");
    println!("{}", report.summary());
    for f in report.twin_failures.iter().chain(&report.failures) {
        println!("{f}");
    }
    assert!(
        report.twin_failures.is_empty(),
        "{} twin/original mismatches (generator bugs)",
        report.twin_failures.len()
    );
    assert!(
        report.failures.is_empty(),
        "{} mismatches of a Jacobian, jvp, vjp, Hessian or hvp with the dual twin",
        report.failures.len()
    );
    assert!(report.points >= report.functions * points * 9 / 10, "too many points skipped near kinks");
}
