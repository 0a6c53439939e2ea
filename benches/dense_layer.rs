//! Jacobian with respect to `x` of a dense layer `y = tanh(W x + b)`, `W` square `n`×`n`:
//! the `#[jacobian]`-generated sibling against an expert's hand-written row scaling,
//! num-dual forward mode (`DualSVec64<n>`, one pass) and central finite differences.
//!
//! `cargo bench --bench dense_layer -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

mod common;
use common::*;

fn bench_size<const N: usize>(c: &mut Criterion) {
    let (w, b, x) = inputs::<N>(0x5eed + N as u64);
    check_agreement(&w, &b, x);

    let mut group = c.benchmark_group("dense_layer_jacobian");
    group.bench_function(BenchmarkId::new("generated", N), |bench| {
        bench.iter(|| layer_jacobian(black_box(&w), black_box(&b), black_box(x)))
    });
    group.bench_function(BenchmarkId::new("hand_written", N), |bench| {
        bench.iter(|| hand_layer_jacobian(black_box(&w), black_box(&b), black_box(x)))
    });
    group.bench_function(BenchmarkId::new("num_dual", N), |bench| {
        bench.iter(|| num_dual_layer_jacobian(black_box(&w), black_box(&b), black_box(x)))
    });
    group.bench_function(BenchmarkId::new("finite_differences", N), |bench| {
        bench.iter(|| fd_layer_jacobian(black_box(&w), black_box(&b), black_box(x)))
    });
    group.finish();
}

fn dense_layer(c: &mut Criterion) {
    bench_size::<16>(c);
    bench_size::<64>(c);
}

criterion_group!(benches, dense_layer);
criterion_main!(benches);
