//! `BENCHMARKS.md` and its chart, `benchmarks/ratios.svg`, from the counts and the
//! compile-time measurements.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use jacobian_benchmarks::{Case, Kind};

use crate::compile_time::{self, CompileTimes};
use crate::count::{self, Counts};

const CHART: &str = "benchmarks/ratios.svg";

/// Counts every case, measures compile time, writes `BENCHMARKS.md` and the chart at the
/// workspace root.
pub fn write(cases: &[&Case]) -> Result<(), String> {
    let root = workspace_root();
    let counts = count::all(cases)?;
    let compile = compile_time::measure(&root)?;
    let markdown = markdown(cases, &counts, &compile);
    std::fs::write(root.join("BENCHMARKS.md"), markdown)
        .map_err(|e| format!("writing BENCHMARKS.md: {e}"))?;
    std::fs::write(root.join(CHART), chart(cases, &counts)).map_err(|e| format!("writing {CHART}: {e}"))?;
    eprintln!("wrote BENCHMARKS.md and {CHART}");
    Ok(())
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the suite lives in the workspace").to_path_buf()
}

fn markdown(cases: &[&Case], counts: &Counts, compile: &CompileTimes) -> String {
    let get = |case: &Case, kind| counts.get(&(case.id.clone(), kind)).copied();
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# Benchmarks\n\n\
         Instructions per call, counted by callgrind (exact and repeatable on a shared, noisy\n\
         machine, unlike wall-clock time), for every case of the suite in `benchmarks/`.\n\
         Regenerate this file and `{CHART}` with\n\n\
         ```sh\n\
         cargo run --release -p jacobian-benchmarks -- report\n\
         ```\n\n\
         (needs `valgrind`; about ten minutes on two cores). Before counting, the harness checks\n\
         that every variant of every case computes the hand-written derivative (to 1e-9 relative\n\
         to its largest entry; central differences to a looser, per-case tolerance);\n\
         `cargo test -p jacobian-benchmarks` runs the same check.\n\n\
         Variants: **function** is the function itself; **generated** the `#[jacobian]`\n\
         sibling; **hand** the best derivative we could write by hand (shared subexpressions,\n\
         `sin_cos`, each row once, structure used), or ADBench's hand-derived \"Manual\" code for\n\
         the ADBench cases; **num-dual** forward mode with `num-dual`'s vector dual numbers;\n\
         **central** central differences (2n evaluations).\n\n\
         Compiled by `{}` in the `release` profile.\n",
        compile.rustc
    );
    md.push_str("## Instructions per call\n\n");
    md.push_str("| case | size | derivative | function | generated | hand | num-dual | central |\n");
    md.push_str("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |\n");
    for case in cases {
        let cell = |kind| get(case, kind).map_or_else(|| "—".to_owned(), thousands);
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            title(case),
            case.size,
            case.derivative,
            cell(Kind::Function),
            cell(Kind::Generated),
            cell(Kind::HandWritten),
            cell(Kind::NumDual),
            cell(Kind::CentralDifferences)
        );
    }
    md.push_str(
        "\n## Ratios\n\n\
         generated ÷ hand is what our users pay over an expert's code (below 1: we beat it);\n\
         num-dual ÷ generated and central ÷ generated what they save over the alternatives;\n\
         derivative ÷ function is ADBench's headline metric.\n\n",
    );
    let _ = writeln!(md, "![generated, num-dual and central differences ÷ hand-written]({CHART})\n");
    md.push_str("| case | size | generated ÷ hand | num-dual ÷ generated | central ÷ generated | generated ÷ function | hand ÷ function |\n");
    md.push_str("| --- | --- | ---: | ---: | ---: | ---: | ---: |\n");
    for case in cases {
        let ratio = |a, b| match (get(case, a), get(case, b)) {
            (Some(a), Some(b)) if b > 0 => format!("{:.2}", a as f64 / b as f64),
            _ => "—".to_owned(),
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} |",
            title(case),
            case.size,
            ratio(Kind::Generated, Kind::HandWritten),
            ratio(Kind::NumDual, Kind::Generated),
            ratio(Kind::CentralDifferences, Kind::Generated),
            ratio(Kind::Generated, Kind::Function),
            ratio(Kind::HandWritten, Kind::Function)
        );
    }
    let notes: Vec<String> = cases
        .iter()
        .filter(|c| !c.note.is_empty())
        .map(|c| format!("- {} ({}): {}", c.title, c.size, c.note))
        .collect();
    if !notes.is_empty() {
        let _ = writeln!(md, "\n## Notes on cases\n\n{}", notes.join("\n"));
    }
    md.push_str(&compile.markdown());
    md
}

fn title(case: &Case) -> String {
    format!("`{}` {}", case.id, case.title)
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A horizontal bar chart, one group per case: generated, num-dual and central differences,
/// each ÷ hand-written, on a logarithmic axis with the hand-written code at 1.
fn chart(cases: &[&Case], counts: &Counts) -> String {
    const SERIES: [(Kind, &str, &str); 3] = [
        (Kind::Generated, "#[jacobian] generated", "#2b6cb0"),
        (Kind::NumDual, "num-dual", "#dd6b20"),
        (Kind::CentralDifferences, "central differences", "#a0aec0"),
    ];
    let ratio = |case: &Case, kind| {
        let a = counts.get(&(case.id.clone(), kind))?;
        let b = counts.get(&(case.id.clone(), Kind::HandWritten))?;
        Some(*a as f64 / *b as f64)
    };
    let (label_width, plot_width, bar, gap, top) = (150.0, 600.0, 7.0, 10.0, 50.0);
    let decades = |r: f64| r.log10();
    let (lo, hi) = cases
        .iter()
        .flat_map(|c| SERIES.iter().filter_map(move |s| ratio(c, s.0)))
        .fold((0.0_f64, 1.0_f64), |(lo, hi), r| (lo.min(decades(r).floor()), hi.max(decades(r).ceil())));
    let x = |r: f64| label_width + (decades(r) - lo) / (hi - lo) * plot_width;
    let group = SERIES.len() as f64 * bar + gap;
    let height = top + cases.len() as f64 * group + 30.0;
    let width = label_width + plot_width + 50.0;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        svg,
        r#"<text x="{label_width}" y="16" font-size="13">instructions ÷ the hand-written derivative's (log scale; 1× is hand-written code)</text>"#
    );
    for (i, (_, name, colour)) in SERIES.iter().enumerate() {
        let lx = label_width + i as f64 * 170.0;
        let _ = writeln!(svg, r#"<rect x="{lx}" y="26" width="10" height="10" fill="{colour}"/>"#);
        let _ = writeln!(svg, r#"<text x="{}" y="35">{}</text>"#, lx + 14.0, name);
    }
    for d in lo as i32..=hi as i32 {
        let r = 10f64.powi(d);
        let gx = x(r);
        let stroke = if d == 0 { "#000" } else { "#ddd" };
        let _ = writeln!(
            svg,
            r#"<line x1="{gx:.1}" y1="{top}" x2="{gx:.1}" y2="{:.1}" stroke="{stroke}"/>"#,
            height - 25.0
        );
        let label = if d >= 0 { format!("{}×", 10u64.pow(d as u32)) } else { format!("{r}×") };
        let _ = writeln!(
            svg,
            r#"<text x="{gx:.1}" y="{:.1}" text-anchor="middle">{label}</text>"#,
            height - 12.0
        );
    }
    for (i, case) in cases.iter().enumerate() {
        let y0 = top + i as f64 * group;
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}<title>{} ({})</title></text>"#,
            label_width - 6.0,
            y0 + 1.5 * bar + 4.0,
            escape(&case.id),
            escape(&case.title),
            escape(&case.size)
        );
        for (j, (kind, _, colour)) in SERIES.iter().enumerate() {
            let Some(r) = ratio(case, *kind) else { continue };
            let (x1, x0) = (x(r), x(1.0));
            let _ = writeln!(
                svg,
                r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{bar}" fill="{colour}"><title>{:.2}×</title></rect>"#,
                x0.min(x1),
                y0 + j as f64 * bar,
                (x1 - x0).abs().max(1.0),
                r
            );
        }
    }
    svg.push_str("</svg>\n");
    svg
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}
