//! Every variant of every case computes the hand-written derivative: the check the report
//! runs before counting, here so that CI runs it.

#[test]
fn every_variant_agrees_with_the_hand_written_derivative() {
    let failures: Vec<String> =
        jacobian_benchmarks::cases::all().iter().filter_map(|c| c.check().err()).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_case_has_every_variant() {
    for case in jacobian_benchmarks::cases::all() {
        for kind in jacobian_benchmarks::Kind::ALL {
            assert!(case.variant_of(kind).is_some(), "{} has no {kind} variant", case.id);
        }
    }
}
