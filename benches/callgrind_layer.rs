//! Driver for `scripts/callgrind.sh`, no criterion: `callgrind_layer VARIANT N K` computes
//! the dense-layer Jacobian `K` times with one variant (`generated`, `hand_written`,
//! `num_dual`, `finite_differences`) at size `N` (16 or 64). Setup (inputs, agreement
//! check) is the same whatever `K`, so the script subtracts a `K = 0` run to get
//! instructions per call.

use std::hint::black_box;

mod common;
use common::*;

fn run<const N: usize>(variant: &str, k: u64) {
    let (w, b, x) = inputs::<N>(0x5eed + N as u64);
    check_agreement(&w, &b, x);
    let f: fn(&jacobian::Matrix<N, N>, &jacobian::Vector<N>, jacobian::Vector<N>) -> jacobian::Matrix<N, N> =
        match variant {
            "generated" => layer_jacobian::<N>,
            "hand_written" => hand_layer_jacobian::<N>,
            "num_dual" => num_dual_layer_jacobian::<N>,
            "finite_differences" => fd_layer_jacobian::<N>,
            _ => panic!("unknown variant {variant:?}"),
        };
    let f = black_box(f);
    // The driver copies each result once (the same for every variant); the script's
    // "in function" column leaves that copy out.
    let mut out;
    for _ in 0..k {
        out = f(black_box(&w), black_box(&b), black_box(x));
        black_box(&mut out);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let [variant, n, k] = args.as_slice() else {
        eprintln!("usage: callgrind_layer VARIANT N K   (VARIANT: generated | hand_written | num_dual | finite_differences; N: 16 | 64)");
        std::process::exit(2);
    };
    let k: u64 = k.parse().expect("K is a count");
    match n.as_str() {
        "16" => run::<16>(variant, k),
        "64" => run::<64>(variant, k),
        _ => panic!("unsupported size {n}: 16 or 64"),
    }
}
