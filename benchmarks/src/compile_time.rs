//! What the macro costs at compile time: the expansion of long functions (the macro's own
//! unit test `expansion_time`, built without optimisation: cargo builds proc macros at
//! `opt-level = 0` in both the dev and the release profile unless a user overrides it), and a release build of
//! the suite's crate with and without its `#[jacobian]` annotations (feature
//! `annotations`). Wall-clock, so each figure is the median of several runs.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

const BUILDS: usize = 3;

pub struct CompileTimes {
    pub rustc: String,
    /// (statements, milliseconds) per expanded function.
    pub expansion: Vec<(usize, f64)>,
    /// Release build of the suite's library, seconds: with annotations, without.
    pub build: (f64, f64),
}

pub fn measure(root: &Path) -> Result<CompileTimes, String> {
    let rustc = run(root, Command::new("rustc").arg("--version"))?.trim().to_owned();
    eprintln!("timing the expansion of long functions");
    let output = run(
        root,
        Command::new("cargo").args([
            "test",
            "-p",
            "jacobian-macro",
            "--lib",
            "--",
            "--ignored",
            "--exact",
            "tests::expansion_time",
            "--nocapture",
        ]),
    )?;
    let expansion: Vec<(usize, f64)> = output
        .lines()
        .filter_map(|line| {
            let mut words = line.strip_prefix("expansion_time ")?.split_whitespace();
            Some((words.next()?.parse().ok()?, words.next()?.parse().ok()?))
        })
        .collect();
    if expansion.is_empty() {
        return Err(format!("the expansion_time test printed no measurement:\n{output}"));
    }
    // A target directory of its own, so that touching the suite's sources does not make the
    // running report rebuild, and the dependencies are built once.
    let target = root.join("target/compile-time");
    let build = |annotations: bool| -> Result<f64, String> {
        let mut times = Vec::new();
        for _ in 0..=BUILDS {
            touch(&root.join("benchmarks/src/lib.rs"))?;
            let mut command = Command::new("cargo");
            command
                .args(["build", "--release", "-p", "jacobian-benchmarks", "--lib", "--target-dir"])
                .arg(&target);
            if !annotations {
                command.arg("--no-default-features");
            }
            let start = Instant::now();
            run(root, &mut command)?;
            times.push(start.elapsed().as_secs_f64());
        }
        // The first build also builds the dependencies (or the other feature set's).
        times.remove(0);
        times.sort_by(f64::total_cmp);
        Ok(times[times.len() / 2])
    };
    eprintln!("timing release builds of the suite's crate");
    let build = (build(true)?, build(false)?);
    Ok(CompileTimes { rustc, expansion, build })
}

impl CompileTimes {
    pub fn markdown(&self) -> String {
        let mut md = String::from(
            "\n## Compile time\n\n\
             Expansion of one function of `let` statements over `[f64; 10]` (arithmetic, `sin`,\n\
             `exp`, `tanh`, `ln`), the macro alone (parsing, differentiation, printing; median of\n\
             five; the macro built at `opt-level = 0`, as cargo builds proc macros by default in\n\
             both profiles):\n\n\
             | statements | expansion |\n| ---: | ---: |\n",
        );
        for (statements, ms) in &self.expansion {
            let _ = writeln!(md, "| {statements} | {ms:.1} ms |");
        }
        let (with, without) = self.build;
        let _ = writeln!(
            md,
            "\n`cargo build --release` of the suite's library (median of {BUILDS}, wall-clock):\n\
             {with:.1} s with its `#[jacobian]` annotations, {without:.1} s without (feature\n\
             `annotations` off: the same functions, hand-written, num-dual and central-difference\n\
             variants, no generated siblings); the annotations add {:.0} %.",
            (with / without - 1.0) * 100.0
        );
        md
    }
}

fn run(root: &Path, command: &mut Command) -> Result<String, String> {
    let output = command.current_dir(root).output().map_err(|e| format!("cannot run {command:?}: {e}"))?;
    if !output.status.success() {
        return Err(format!("{command:?} failed:\n{}", String::from_utf8_lossy(&output.stderr)));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Marks a file as modified, so that cargo rebuilds its crate.
fn touch(path: &Path) -> Result<(), String> {
    let file =
        std::fs::File::options().append(true).open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    file.set_modified(std::time::SystemTime::now()).map_err(|e| format!("{}: {e}", path.display()))
}
