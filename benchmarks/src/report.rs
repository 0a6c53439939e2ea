//! `BENCHMARKS.md` and its chart, `benchmarks/ratios.svg`, from the counts and the
//! compile-time measurements.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use jacobian_benchmarks::{Case, Kind, Order};

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
    let first_order: Vec<&Case> = cases.iter().copied().filter(|c| c.order == Order::First).collect();
    std::fs::write(root.join(CHART), chart(&first_order, &counts))
        .map_err(|e| format!("writing {CHART}: {e}"))?;
    eprintln!("wrote BENCHMARKS.md and {CHART}");
    Ok(())
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the suite lives in the workspace").to_path_buf()
}

fn markdown(all: &[&Case], counts: &Counts, compile: &CompileTimes) -> String {
    let get = |case: &Case, kind| counts.get(&(case.id.clone(), kind)).copied();
    let (cases, second_order): (Vec<&Case>, Vec<&Case>) =
        all.iter().copied().partition(|c| c.order == Order::First);
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
         sibling; **generated vjp** (scalar outputs) the gradient from the `vjp` sibling seeded\n\
         with u = 1, which returns the value too: one reverse sweep where reverse mode takes\n\
         the function, else Jᵀu from the forward-mode Jacobian (see the notes on cases);\n\
         **hand** the best derivative we could write by hand (shared subexpressions, `sin_cos`,\n\
         each row once, structure used), or ADBench's hand-derived \"Manual\" code for the\n\
         ADBench cases; **num-dual** forward mode with `num-dual`'s vector dual numbers;\n\
         **central** central differences (2n evaluations). Hessians have\n\
         [a table of their own](#hessians).\n\n\
         Compiled by `{}` in the `release` profile.\n",
        compile.rustc
    );
    md.push_str("## Instructions per call\n\n");
    md.push_str(
        "| case | size | derivative | function | generated | generated vjp | hand | num-dual | central |\n",
    );
    md.push_str("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for &case in &cases {
        let cell = |kind| get(case, kind).map_or_else(|| "—".to_owned(), thousands);
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            title(case),
            case.size,
            case.derivative,
            cell(Kind::Function),
            cell(Kind::Generated),
            cell(Kind::Vjp),
            cell(Kind::HandWritten),
            cell(Kind::NumDual),
            cell(Kind::CentralDifferences)
        );
    }
    md.push_str(
        "\n## Ratios\n\n\
         generated ÷ hand is what our users pay over an expert's code (below 1: we beat it);\n\
         num-dual ÷ generated and central ÷ generated what they save over the alternatives;\n\
         derivative ÷ function is ADBench's headline metric (vjp ÷ function: the gradient by\n\
         the `vjp` sibling).\n\n",
    );
    let _ = writeln!(md, "![generated, num-dual and central differences ÷ hand-written]({CHART})\n");
    md.push_str("| case | size | generated ÷ hand | num-dual ÷ generated | central ÷ generated | generated ÷ function | vjp ÷ function | hand ÷ function |\n");
    md.push_str("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for &case in &cases {
        let ratio = |a, b| ratio(get(case, a), get(case, b));
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            title(case),
            case.size,
            ratio(Kind::Generated, Kind::HandWritten),
            ratio(Kind::NumDual, Kind::Generated),
            ratio(Kind::CentralDifferences, Kind::Generated),
            ratio(Kind::Generated, Kind::Function),
            ratio(Kind::Vjp, Kind::Function),
            ratio(Kind::HandWritten, Kind::Function)
        );
    }
    if !second_order.is_empty() {
        hessians(&mut md, &second_order, counts);
    }
    let notes: Vec<String> = all
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

/// The Hessian table: second derivatives, a different measurement from the Jacobians, so
/// counts and ratios in one table of their own, with each case's target.
fn hessians(md: &mut String, cases: &[&Case], counts: &Counts) {
    let get = |case: &Case, kind| counts.get(&(case.id.clone(), kind)).copied();
    md.push_str(
        "\n## Hessians\n\n\
         Dense Hessians of scalar functions, in instructions per call: **generated** is the\n\
         `hessian` sibling (`{name}_hessian`: forward mode over the reverse sweep, exactly\n\
         symmetric); **hand** the closed form; **num-dual** forward mode with `num-dual`'s\n\
         second-order vector duals (value, gradient and dense Hessian carried through every\n\
         operation; static or dynamic size, whichever is faster); **central** central\n\
         differences of the hand-written gradient (2n gradients). The same check as above\n\
         holds every variant to the closed form. **target** is the goal set for each case (the\n\
         Rosenbrock Hessian at most 10× the function; the dense Hessians within 1.5× of their\n\
         closed forms), **met** whether the counts above meet it.\n\n",
    );
    md.push_str("| case | size | derivative | function | generated | hand | num-dual | central |\n");
    md.push_str("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |\n");
    for &case in cases {
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
    md.push('\n');
    md.push_str("| case | size | generated ÷ function | generated ÷ hand | num-dual ÷ generated | central ÷ generated | target | met |\n");
    md.push_str("| --- | --- | ---: | ---: | ---: | ---: | --- | --- |\n");
    for &case in cases {
        let ratio = |a, b| ratio(get(case, a), get(case, b));
        let (target, met) = match case.target {
            Some(t) => {
                let label = match t.of {
                    Kind::Function => "function".to_owned(),
                    Kind::HandWritten => "hand".to_owned(),
                    other => other.name().to_owned(),
                };
                let met = match (get(case, Kind::Generated), get(case, t.of)) {
                    (Some(g), Some(o)) if o > 0 => {
                        if g as f64 <= t.factor * o as f64 {
                            "yes"
                        } else {
                            "no"
                        }
                    }
                    _ => "—",
                };
                (format!("generated ≤ {}× {label}", t.factor), met)
            }
            None => ("—".to_owned(), "—"),
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            title(case),
            case.size,
            ratio(Kind::Generated, Kind::Function),
            ratio(Kind::Generated, Kind::HandWritten),
            ratio(Kind::NumDual, Kind::Generated),
            ratio(Kind::CentralDifferences, Kind::Generated),
            target,
            met
        );
    }
}

/// `a ÷ b` to two decimals, or a dash where either is missing.
fn ratio(a: Option<u64>, b: Option<u64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0 => format!("{:.2}", a as f64 / b as f64),
        _ => "—".to_owned(),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The report's layout from made-up counts (no valgrind): every table row has its
    /// header's number of cells, the vjp column is filled exactly where a case has the
    /// variant, and the Hessians are in their own table, not the Jacobians'.
    #[test]
    fn tables_are_well_formed() {
        std::thread::Builder::new()
            .stack_size(64 << 20)
            .spawn(|| {
                let all = jacobian_benchmarks::cases::all();
                let cases: Vec<&Case> = all.iter().collect();
                let mut counts = Counts::new();
                for (i, case) in all.iter().enumerate() {
                    for (j, variant) in case.variants.iter().enumerate() {
                        counts.insert((case.id.clone(), variant.kind), 1000 + 100 * i as u64 + j as u64);
                    }
                }
                let compile =
                    CompileTimes { rustc: "rustc".into(), expansion: vec![(100, 1.0)], build: (2.0, 1.0) };
                let md = markdown(&cases, &counts, &compile);
                let section = |title: &str| {
                    let start = md.find(title).unwrap_or_else(|| panic!("no {title} in\n{md}"));
                    let rest = &md[start + title.len()..];
                    rest[..rest.find("\n## ").unwrap_or(rest.len())].to_owned()
                };
                let rows = |text: &str| -> Vec<Vec<String>> {
                    text.lines()
                        .filter(|l| l.starts_with('|'))
                        .map(|l| l.trim_matches('|').split(" | ").map(|c| c.trim().to_owned()).collect())
                        .collect()
                };
                let jacobians = section("## Instructions per call");
                let hessians = section("## Hessians");
                for table in [&jacobians, &section("## Ratios"), &hessians] {
                    let rows = rows(table);
                    assert!(rows.len() > 2, "{table}");
                    let width = rows[0].len();
                    assert!(rows.iter().all(|r| r.len() == width), "{table}");
                }
                let header = &rows(&jacobians)[0];
                let vjp = header.iter().position(|c| c == "generated vjp").expect("a vjp column");
                for case in &all {
                    let title = title(case);
                    let in_jacobians = rows(&jacobians).into_iter().find(|r| r[0] == title);
                    let in_hessians = rows(&hessians).into_iter().any(|r| r[0] == title);
                    match case.order {
                        Order::First => {
                            let row = in_jacobians.unwrap_or_else(|| panic!("{} not in the table", case.id));
                            assert!(!in_hessians, "{} among the Hessians", case.id);
                            assert_eq!(row[vjp] != "—", case.variant_of(Kind::Vjp).is_some(), "{}", case.id);
                        }
                        Order::Second => {
                            assert!(in_jacobians.is_none(), "{} among the Jacobians", case.id);
                            assert!(in_hessians, "{} not among the Hessians", case.id);
                        }
                    }
                }
            })
            .expect("spawn")
            .join()
            .expect("the layout test panicked");
    }
}
