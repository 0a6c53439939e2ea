//! Every variant of every case computes the hand-written derivative: the check the report
//! runs before counting, here so that CI runs it.

/// Runs `f` on a thread with a stack as large as a release binary's main thread could
/// need: the large cases keep n × n matrices and dual numbers on the stack, which an
/// unoptimised build spills generously.
fn with_large_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("the check panicked");
}

#[test]
fn every_variant_agrees_with_the_hand_written_derivative() {
    with_large_stack(|| {
        let failures: Vec<String> =
            jacobian_benchmarks::cases::all().iter().filter_map(|c| c.check().err()).collect();
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    });
}

#[test]
fn every_case_has_every_variant() {
    with_large_stack(|| {
        for case in jacobian_benchmarks::cases::all() {
            for kind in jacobian_benchmarks::Kind::EVERY_CASE {
                assert!(case.variant_of(kind).is_some(), "{} has no {kind} variant", case.id);
            }
        }
    });
}

/// The gradient by the `vjp` sibling: in every first-order case with a scalar output, and
/// only there.
#[test]
fn the_scalar_output_cases_have_a_vjp_variant() {
    use jacobian_benchmarks::{Kind, Order};
    const SCALAR_OUTPUT: [&str; 6] = [
        "rosenbrock_100",
        "rosenbrock_10000",
        "logistic_regression",
        "softmax_cross_entropy",
        "gmm_d2_k5",
        "gmm_d10_k5",
    ];
    with_large_stack(|| {
        for case in jacobian_benchmarks::cases::all() {
            let expected = case.order == Order::First && SCALAR_OUTPUT.contains(&case.id.as_str());
            assert_eq!(case.variant_of(Kind::Vjp).is_some(), expected, "{}: generated_vjp", case.id);
        }
    });
}
