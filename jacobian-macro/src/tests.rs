//! Tests of the expansion itself: its size, its determinism, and that malformed input
//! gives errors rather than panics. Numerical correctness is tested in the root
//! package against independent oracles.

use crate::expand::expand;
use proc_macro2::TokenStream;

pub fn expand_str(attr: &str, item: &str) -> String {
    let attr: TokenStream = attr.parse().expect("attribute tokens");
    let item: TokenStream = item.parse().expect("item tokens");
    expand(attr, item).to_string()
}

fn loop_residual(bound: &str) -> String {
    let item = format!(
        "fn f(x: [f64; 4], t: f64) -> f64 {{ let mut s = 0.0; for i in 0..{bound} {{ let k = i % 4; s += (x[k] * t).sin() * x[(k + 1) % 4]; }} s }}"
    );
    expand_str("", &item)
}

#[test]
fn loops_are_not_unrolled() {
    let small = loop_residual("10");
    let large = loop_residual("1000");
    assert!(small.contains("0 .. 10 "), "{small}");
    // Identical but for the bound: nothing is unrolled.
    assert_eq!(small.replace("0 .. 10 ", "0 .. BOUND "), large.replace("0 .. 1000 ", "0 .. BOUND "));
}

#[test]
fn expansion_is_deterministic() {
    let first = loop_residual("10");
    for _ in 0..5 {
        assert_eq!(first, loop_residual("10"));
    }
}

#[test]
fn expansion_size_does_not_depend_on_const_generic_sizes() {
    let item = "fn sq<const N: usize>(x: [f64; N]) -> f64 { let mut s = 0.0; for i in 0..N { s += x[i] * x[i]; } s }";
    let out = expand_str("", item);
    assert!(!out.contains("compile_error"), "{out}");
    assert!(out.len() < 3000, "{out}");
}

/// Prints an expansion for reading: `PRINT=1 cargo test -p jacobian-macro print -- --nocapture`.
#[test]
fn print() {
    if let Ok(source) = std::env::var("JACOBIAN_EXPAND") {
        let attr = std::env::var("JACOBIAN_ATTR").unwrap_or_default();
        let expansion = expand_str(&attr, &source);
        match syn::parse_file(&expansion) {
            Ok(file) => println!("{}", prettyplease::unparse(&file)),
            Err(_) => println!("{expansion}"),
        }
    }
}

/// A function of `statements` random `let`s over `x: [f64; 10]` (arithmetic, `sin`, `exp`,
/// `tanh`, `ln`), each reading two earlier values, returning the last one.
fn long_function(statements: usize) -> String {
    let mut state = 0x9E37_79B9_7F4A_7C15_u64 ^ statements as u64;
    let mut next = move |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let mut body = String::new();
    for s in 0..statements {
        let operand = |next: &mut dyn FnMut(usize) -> usize| match next(3) {
            0 if s > 0 => format!("v{}", next(s)),
            _ => format!("x[{}]", next(10)),
        };
        let (a, b) = (operand(&mut next), operand(&mut next));
        let value = match next(8) {
            0 => format!("{a} + {b}"),
            1 => format!("{a} - {b}"),
            2 => format!("{a} * {b}"),
            3 => format!("{a} / (1.5 + {b} * {b})"),
            4 => format!("({a}).sin() * {b}"),
            5 => format!("({a} * 0.1).exp() + {b}"),
            6 => format!("({a}).tanh() - {b}"),
            _ => format!("(1.0 + {a} * {a}).ln() * {b}"),
        };
        body.push_str(&format!("let v{s} = {value};\n"));
    }
    format!("fn f(x: [f64; 10]) -> f64 {{\n{body}v{}\n}}", statements - 1)
}

/// Prints the median time to expand functions of 100 to 800 statements, for the benchmark
/// suite's report (`expansion_time STATEMENTS MILLISECONDS`). Not a timing assertion: run it
/// with `cargo test -p jacobian-macro --lib -- --ignored --exact tests::expansion_time --nocapture`.
#[test]
#[ignore = "a measurement, run by the benchmark report"]
fn expansion_time() {
    for statements in [100, 200, 400, 800] {
        let item: TokenStream = long_function(statements).parse().expect("item tokens");
        let mut times: Vec<f64> = (0..5)
            .map(|_| {
                let start = std::time::Instant::now();
                let out = expand(TokenStream::new(), item.clone()).to_string();
                let elapsed = start.elapsed().as_secs_f64() * 1e3;
                assert!(!out.contains("compile_error"), "{out}");
                elapsed
            })
            .collect();
        times.sort_by(f64::total_cmp);
        println!("expansion_time {statements} {:.2}", times[2]);
    }
}

/// The Jacobian sibling's rustdoc shows what it computes: formulas for a small function,
/// the pattern for a large one, nothing where it cannot be read off (a loop).
#[test]
fn derivatives_in_the_documentation() {
    let docs =
        |item: &str| -> String { expand(TokenStream::new(), item.parse().expect("an item")).to_string() };
    let seed = docs("fn f(x: f64, y: f64) -> [f64; 2] { [x + y, x * y] }");
    for line in ["∂f[0]/∂x = 1", "∂f[0]/∂y = 1", "∂f[1]/∂x = y", "∂f[1]/∂y = x"] {
        assert!(seed.contains(line), "{line} missing from {seed}");
    }
    let helix = docs("fn helix(t: f64) -> [f64; 3] { [t.cos(), t.sin(), 0.5 * t] }");
    assert!(helix.contains("∂helix[0]/∂t = −sin(t)") && helix.contains("∂helix[2]/∂t = 0.5"), "{helix}");
    let long = docs(
        "fn g(p: [f64; 4]) -> f64 { let r2 = p[0] * p[0] + p[1] * p[1] + p[2] * p[2]; -1.0 / r2.sqrt() }",
    );
    assert!(long.contains("■■■·  g"), "{long}");
    let looped = docs("fn h(x: [f64; 3]) -> f64 { let mut s = 0.0; for i in 0..3 { s += x[i] * x[i]; } s }");
    assert!(!looped.contains("What it computes"), "{looped}");
}

/// Forward mode refuses an aggregate whose elements are arrays carrying derivatives
/// (`Forward::row_of_arrays`) rather than drop their tangents, which its scalar tangents
/// cannot hold: an `[[T; 2]; 1]` holding `x`, read back (the wrong Hessian of fuzzer seed
/// 20261130 came of such a row, a loop's tape, silently taken for a constant).
#[test]
fn forward_mode_refuses_rows_of_arrays_with_derivatives() {
    use crate::ir::{build::Builder, Function, Op, Path, Position, Type};
    use crate::shape::Dim;
    let diagnostics = crate::diagnostics::Diagnostics::default();
    let options = crate::options::parse(TokenStream::new(), &diagnostics);
    let item: syn::ItemFn = syn::parse_quote!(
        fn f(x: [f64; 2]) -> f64 {
            x[0]
        }
    );
    let signature = crate::signature::analyse(&item, &options, &diagnostics).expect("a signature");
    let primal = crate::front::lower(&item, &signature).expect("lowered");
    let x = primal.params[0].value;
    let mut b = Builder::new(Function::like(&primal));
    let rows = b.zeros(&Type::Array(Box::new(Type::array(Dim::Lit(2))), Dim::Lit(1)));
    let rows = b.update(Op::Set(Path(vec![Position::Const(0)])), rows, x, Vec::new());
    let row = b.get(rows, Path(vec![Position::Const(0)]), Vec::new());
    let y = b.get(row, Path(vec![Position::Const(1)]), Vec::new());
    let body = b.close(Vec::new(), vec![y]);
    let mut function = b.f;
    function.body = body;
    crate::ir::verify::assert_valid(&function, "building");
    let seeding = crate::forward::Seeding::default();
    let jacobian = crate::forward::with(
        &function,
        &signature,
        &quote::quote!(::jacobian),
        crate::forward::Returns::Jacobian,
        &seeding,
    );
    match jacobian {
        Err(problem) => assert!(problem.what.contains("a row of an array of arrays"), "{}", problem.what),
        Ok(jacobian) => panic!("forward mode took a row of arrays:\n{jacobian}"),
    }
}

/// A loop summing products of two rows' elements at its index from zero is written as the
/// runtime's `dot`; a sum that starts elsewhere, skips elements or pairs different indices
/// is not the same sum and stays a loop.
#[test]
fn dot_products_are_written_as_dot() {
    let sum = |init: &str, range: &str, second: &str| {
        let item = format!(
            "fn f<const N: usize>(w: &[f64; N], x: [f64; N], y: f64) -> f64 {{
                let mut s = {init};
                for i in {range} {{ s += w[i] * x[{second}]; }}
                s * y.sin()
            }}"
        );
        let out = expand_str("wrt(y)", &item);
        assert!(!out.contains("compile_error"), "{out}");
        out.contains("__private :: dot (")
    };
    assert!(sum("0.0", "0..N", "i"));
    assert!(!sum("1.0", "0..N", "i"));
    assert!(!sum("0.0", "1..N", "i"));
    assert!(!sum("0.0", "0..N", "N - 1 - i"));
}

/// `opt::sink_reads` moves a read past a call to its reader, but not past an update of the
/// array it reads (which the emitter then could not write in place).
#[test]
fn reads_sink_past_calls_but_not_past_updates() {
    let order = |body: &str| -> (usize, usize) {
        let diagnostics = crate::diagnostics::Diagnostics::default();
        let options = crate::options::parse(TokenStream::new(), &diagnostics);
        let item: syn::ItemFn =
            syn::parse_str(&format!("fn f(x: [f64; 2], y: f64) -> f64 {{ {body} }}")).expect("an item");
        let signature = crate::signature::analyse(&item, &options, &diagnostics).expect("a signature");
        let mut function = crate::front::lower(&item, &signature).expect("lowered");
        crate::opt::optimise(&mut function);
        let text = function.to_string();
        let line = |what: &str| {
            text.lines().position(|l| l.contains(what)).unwrap_or_else(|| panic!("{what} in {text}"))
        };
        (line("%v."), line("call sin"))
    };
    let (read, call) = order("let a = x; let v = a[0]; let s = y.sin(); v * s");
    assert!(read > call, "the read stays before the call");
    let (read, call) = order("let mut a = x; let v = a[0]; a[0] = 2.0; let s = y.sin(); v * s + a[1]");
    assert!(read < call, "the read moved past the update");
}
