//! The suite's command line.
//!
//! ```text
//! jacobian-benchmarks list                    the cases and their variants
//! jacobian-benchmarks check                   every variant against the hand-written derivative
//! jacobian-benchmarks run CASE VARIANT K      one warm-up call, then K calls (what callgrind counts)
//! jacobian-benchmarks run CASE VARIANT K cold K calls, no warm-up (for very slow variants)
//! jacobian-benchmarks report [CASE...]        check, count, time the build, write BENCHMARKS.md
//! ```
//!
//! `report` is the documented way to regenerate `BENCHMARKS.md`:
//! `cargo run --release -p jacobian-benchmarks -- report`.

use std::process::ExitCode;

use jacobian_benchmarks::{cases, Case, Kind};

mod compile_time;
mod count;
mod report;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["list"] => {
            for case in cases::all() {
                let kinds: Vec<&str> = case.variants.iter().map(|v| v.kind.name()).collect();
                println!("{:<28} {}", case.id, kinds.join(" "));
            }
            ExitCode::SUCCESS
        }
        ["check"] => match check(&cases::all()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(()) => ExitCode::FAILURE,
        },
        ["run", case, kind, k, rest @ ..] if rest.is_empty() || rest == ["cold"] => {
            let Some(kind) = Kind::from_name(kind) else { return usage(&format!("no variant {kind:?}")) };
            let Ok(k) = k.parse::<u64>() else { return usage(&format!("K must be a count, not {k:?}")) };
            let all = cases::all();
            let Some(case) = all.iter().find(|c| c.id == *case) else {
                return usage(&format!("no case {case:?} (see `list`)"));
            };
            let Some(variant) = case.variant_of(kind) else {
                return usage(&format!("{} has no {kind} variant", case.id));
            };
            // The warm-up call resolves lazily bound symbols (libm's `exp`, allocator set-up)
            // in every run, so the difference between two runs is K calls exactly. A `cold`
            // run skips it: for variants so slow (num-dual with 10,000 partials) that those
            // one-time costs are lost in one call, and a second call under callgrind would
            // take minutes.
            if rest.is_empty() {
                (variant.run)(1);
            }
            (variant.run)(k);
            ExitCode::SUCCESS
        }
        ["report", filters @ ..] => {
            let all = cases::all();
            let selected: Vec<&Case> = all
                .iter()
                .filter(|c| filters.is_empty() || filters.iter().any(|f| c.id.contains(f)))
                .collect();
            if selected.is_empty() {
                return usage("no case matches");
            }
            if check(&all).is_err() {
                return ExitCode::FAILURE;
            }
            match report::write(&selected) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        _ => usage("unknown command"),
    }
}

/// Checks every case, printing each failure; fails if any does.
fn check(all: &[Case]) -> Result<(), ()> {
    let failures: Vec<String> = all.iter().filter_map(|c| c.check().err()).collect();
    for failure in &failures {
        eprintln!("disagreement: {failure}");
    }
    if failures.is_empty() {
        eprintln!("{} cases: every variant agrees with the hand-written derivative", all.len());
        Ok(())
    } else {
        Err(())
    }
}

fn usage(problem: &str) -> ExitCode {
    eprintln!(
        "{problem}\nusage: jacobian-benchmarks list | check | run CASE VARIANT K [cold] | report [CASE...]"
    );
    ExitCode::from(2)
}
