//! Wall-clock times of every variant of every case, with criterion, for users who want
//! times rather than instruction counts (`BENCHMARKS.md` has the counts). On a shared or
//! noisy machine, trust the counts.
//!
//! `cargo bench -p jacobian-benchmarks -- dense_layer_16` runs one case; without a filter
//! it runs all, including num-dual with 10,000 partials (seconds per call).

use criterion::{criterion_group, criterion_main, Criterion};
use std::time::Duration;

fn every_case(c: &mut Criterion) {
    for case in jacobian_benchmarks::cases::all() {
        let mut group = c.benchmark_group(case.id.as_str());
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(2));
        for variant in &case.variants {
            group.bench_function(variant.kind.name(), |b| b.iter(|| (variant.run)(1)));
        }
        group.finish();
    }
}

criterion_group!(benches, every_case);
criterion_main!(benches);
