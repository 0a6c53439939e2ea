//! Instructions per call under callgrind.
//!
//! Each variant is run twice under `valgrind --tool=callgrind`, as `run CASE VARIANT 0`
//! and `run CASE VARIANT K`; set-up, the warm-up call and process start are the same in
//! both, so the difference divided by K is the count of one call, exactly and repeatably
//! (instruction counts do not depend on the machine's load, wall-clock times do). K is
//! chosen by timing the variant natively, so that each valgrind run takes about a second.
//!
//! glibc's `memcpy`/`memset` switch to `rep movsb`/`rep stosb` above a few KiB, and
//! valgrind counts every byte those move as one instruction; `GLIBC_TUNABLES` moves the
//! thresholds out of reach so that large copies (a 64 × 64 Jacobian) use the vector loops
//! and count as what they cost.

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use jacobian_benchmarks::{Case, Kind};

const NATIVE_TARGET: Duration = Duration::from_millis(8);

/// Instructions per call, by case id and variant.
pub type Counts = BTreeMap<(String, Kind), u64>;

/// Counts every variant of every case, two valgrind processes at a time.
pub fn all(cases: &[&Case]) -> Result<Counts, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this executable: {e}"))?;
    let version = Command::new("valgrind").arg("--version").output();
    if !matches!(&version, Ok(o) if o.status.success()) {
        return Err("valgrind is not installed (Debian: `apt-get install valgrind`)".into());
    }
    let jobs: Vec<(String, Kind, Calls)> = cases
        .iter()
        .flat_map(|case| case.variants.iter().map(move |v| (case.id.clone(), v.kind, calls_for(&*v.run))))
        .collect();
    let queue = Mutex::new(jobs.into_iter());
    let counts = Mutex::new(Counts::new());
    let failure = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| loop {
                let Some((id, kind, calls)) = queue.lock().unwrap().next() else { break };
                match per_call(&exe, &id, kind, calls) {
                    Ok(n) => {
                        let k = calls.k;
                        eprintln!("{id:<28} {:<20} {n:>14} instructions/call (K = {k})", kind.name());
                        counts.lock().unwrap().insert((id, kind), n);
                    }
                    Err(e) => *failure.lock().unwrap() = Some(e),
                }
            });
        }
    });
    match failure.into_inner().unwrap() {
        Some(e) => Err(e),
        None => Ok(counts.into_inner().unwrap()),
    }
}

/// How to count a variant: `k` calls per run, and whether without a warm-up call.
#[derive(Clone, Copy)]
struct Calls {
    k: u64,
    cold: bool,
}

/// The number of calls that take about [`NATIVE_TARGET`] natively (at least one); cold
/// when one call alone takes much longer (see `run … cold`).
fn calls_for(run: &dyn Fn(u64)) -> Calls {
    let start = Instant::now();
    run(1);
    if start.elapsed() > 10 * NATIVE_TARGET {
        return Calls { k: 1, cold: true };
    }
    let mut k = 1;
    loop {
        let start = Instant::now();
        run(k);
        let elapsed = start.elapsed();
        if elapsed >= NATIVE_TARGET || k >= 1 << 24 {
            let scaled = k as f64 * NATIVE_TARGET.as_secs_f64() / elapsed.as_secs_f64().max(1e-9);
            return Calls { k: (scaled as u64).clamp(1, k), cold: false };
        }
        k *= 4;
    }
}

fn per_call(exe: &std::path::Path, id: &str, kind: Kind, calls: Calls) -> Result<u64, String> {
    let k = calls.k;
    let base = instructions(exe, id, kind, 0, calls.cold)?;
    let measured = instructions(exe, id, kind, k, calls.cold)?;
    if measured < base {
        return Err(format!("{id} {kind}: {k} calls counted fewer instructions than none"));
    }
    Ok(((measured - base) as f64 / k as f64).round() as u64)
}

/// All instructions one `run` process executes.
fn instructions(exe: &std::path::Path, id: &str, kind: Kind, k: u64, cold: bool) -> Result<u64, String> {
    let output = Command::new("valgrind")
        .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
        .arg(exe)
        .args(["run", id, kind.name(), &k.to_string()])
        .args(cold.then_some("cold"))
        .env(
            "GLIBC_TUNABLES",
            "glibc.cpu.x86_rep_movsb_threshold=1073741824:glibc.cpu.x86_rep_stosb_threshold=1073741824",
        )
        .output()
        .map_err(|e| format!("cannot run valgrind: {e}"))?;
    let log = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!("{id} {kind} under valgrind failed:\n{log}"));
    }
    log.lines()
        .find_map(|line| line.split("Collected :").nth(1))
        .and_then(|n| n.trim().parse().ok())
        .ok_or_else(|| format!("{id} {kind}: no instruction count in valgrind's output:\n{log}"))
}
