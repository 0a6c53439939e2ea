//! Snapshot tests of the new pipeline: for each representative function, the IR after
//! every stage, compared with `tests/snapshots/{name}.ir`. A change to a stage shows as a
//! diff of these files; after reviewing it, `JACOBIAN_BLESS=1 cargo test -p jacobian-macro
//! snapshots` writes the new text.

use std::fmt::Write as _;

use crate::diagnostics::Diagnostics;
use crate::forward::{self, Returns};
use crate::{front, ir, options, signature};

/// The pipeline's stages on `source`, as text.
fn stages(attr: &str, source: &str) -> String {
    let diagnostics = Diagnostics::default();
    let options = options::parse(attr.parse().expect("attribute tokens"), &diagnostics);
    let item: syn::ItemFn = syn::parse_str(source).expect("a function");
    let Some(signature) = signature::analyse(&item, &options, &diagnostics) else {
        return "signature refused\n".into();
    };
    let mut out = format!("#[jacobian({attr})]\n{source}\n");
    match front::lower(&item, &signature) {
        Ok(mut function) => {
            ir::verify::assert_valid(&function, "the front end");
            let _ = write!(out, "\n== front end\n{function}");
            crate::opt::optimise(&mut function);
            ir::verify::assert_valid(&function, "optimisation of the primal");
            match forward::with(
                &function,
                &signature,
                &quote::quote!(::jacobian),
                Returns::Jacobian,
                &forward::Seeding::default(),
            ) {
                Ok(mut jacobian) => {
                    ir::verify::assert_valid(&jacobian, "forward mode");
                    let _ = write!(out, "\n== forward mode\n{jacobian}");
                    crate::opt::optimise(&mut jacobian);
                    ir::verify::assert_valid(&jacobian, "optimisation");
                    let _ = write!(out, "\n== optimised\n{jacobian}");
                    let body = crate::emit::body(
                        &jacobian,
                        &signature.scalar,
                        &quote::quote!(::jacobian),
                        &crate::expand::reserved(&item),
                    );
                    let code = format!("fn jacobian() {{ {body} }}");
                    let pretty = syn::parse_file(&code).map_or(code, |file| prettyplease::unparse(&file));
                    let _ = write!(out, "\n== emitted\n{pretty}");
                }
                Err(problem) => {
                    let _ = writeln!(out, "\n== forward mode: not yet supported: {}", problem.what);
                }
            }
        }
        Err(problems) => {
            for problem in problems {
                let _ = writeln!(out, "\n== front end: not supported: {}", problem.what);
            }
            return out;
        }
    }
    if signature.rows.lit() == Some(1) {
        reverse_stages(&mut out, &item, &signature);
    }
    out
}

/// For a scalar output: the gradient by reverse mode, and the Hessian by forward mode over
/// it.
fn reverse_stages(out: &mut String, item: &syn::ItemFn, signature: &signature::Signature) {
    let mut primal = front::lower(item, signature).expect("lowered above");
    crate::opt::optimise(&mut primal);
    let gradient = match crate::reverse::function(&primal, signature, crate::reverse::Returns::Jacobian) {
        Ok(gradient) => gradient,
        Err(problem) => {
            let _ = writeln!(out, "\n== reverse mode: not supported: {}", problem.what);
            return;
        }
    };
    ir::verify::assert_valid(&gradient, "reverse mode");
    let _ = write!(out, "\n== reverse mode\n{gradient}");
    let mut optimised = gradient;
    crate::opt::optimise(&mut optimised);
    ir::verify::assert_valid(&optimised, "optimisation after reverse mode");
    let _ = write!(out, "\n== reverse mode, optimised\n{optimised}");
    let _ = write!(out, "\n== reverse mode, emitted\n{}", pretty(&optimised, item, signature));
    let gradient = crate::reverse::function(&primal, signature, crate::reverse::Returns::Gradient)
        .expect("the gradient, as above");
    let seeding = forward::Seeding { direction: None, rows: Some(signature.columns.clone()) };
    match forward::with(&gradient, signature, &quote::quote!(::jacobian), Returns::Jacobian, &seeding) {
        Ok(mut hessian) => {
            ir::verify::assert_valid(&hessian, "forward over reverse");
            crate::opt::optimise(&mut hessian);
            ir::verify::assert_valid(&hessian, "optimisation of the Hessian");
            let symmetric = crate::symmetric::symmetrise(&mut hessian);
            ir::verify::assert_valid(&hessian, "symmetrisation of the Hessian");
            crate::opt::optimise(&mut hessian);
            let _ = write!(
                out,
                "\n== Hessian (forward over reverse), emitted{}\n{}",
                if symmetric { ", symmetric by construction" } else { ", then mirrored" },
                pretty(&hessian, item, signature)
            );
        }
        Err(problem) => {
            let _ = writeln!(out, "\n== Hessian: not supported: {}", problem.what);
        }
    }
}

/// The emitted Rust of `function`, formatted.
fn pretty(function: &ir::Function, item: &syn::ItemFn, signature: &signature::Signature) -> String {
    let body = crate::emit::body(
        function,
        &signature.scalar,
        &quote::quote!(::jacobian),
        &crate::expand::reserved(item),
    );
    let code = format!("fn derivative() {{ {body} }}");
    syn::parse_file(&code).map_or(code, |file| prettyplease::unparse(&file))
}

fn check(name: &str, attr: &str, source: &str) {
    let actual = stages(attr, source.trim());
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots").join(format!("{name}.ir"));
    if std::env::var_os("JACOBIAN_BLESS").is_some() {
        std::fs::write(&path, &actual).expect("write snapshot");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        expected == actual,
        "snapshot {name} differs (review, then bless with JACOBIAN_BLESS=1):\n--- expected\n{expected}\n--- actual\n{actual}"
    );
}

macro_rules! snapshots {
    ($($name:ident: $attr:literal, $source:literal;)*) => {
        $(
            #[test]
            fn $name() {
                check(stringify!($name), $attr, $source);
            }
        )*
    };
}

snapshots! {
    seed: "", "fn f(x: f64, y: f64) -> [f64; 2] { [x + y, x * y] }";
    accumulator_loop: "", "
fn box3d(x: [f64; 3]) -> f64 {
    let mut s = 0.0;
    for i in 1..=10 {
        let t = 0.1 * i as f64;
        let r = (-t * x[0]).exp() - (-t * x[1]).exp() - x[2] * ((-t).exp() - (-10.0 * t).exp());
        s += r * r;
    }
    s
}";
    branch_on_differentiated_value: "", "
fn f(x: f64, y: f64) -> f64 {
    let mut m = x * y;
    if x > 0.0 {
        m = m.sin();
    } else {
        m -= y;
    }
    let k = if m > 1.0 { m } else { 2.0 };
    m * k
}";
    banded_map: "", "
fn banded(x: [f64; 8]) -> [f64; 8] {
    let mut out = [0.0; 8];
    for i in 0..7 {
        out[i] = x[i].sin() * x[i + 1];
    }
    out[7] = x[7].sin();
    out
}";
    planar_arm: "wrt(q)", "
fn arm(q: [f64; 3], lengths: &[f64; 3]) -> [f64; 2] {
    let mut theta = 0.0;
    let mut p = [0.0, 0.0];
    for j in 0..3 {
        theta += q[j];
        p[0] += lengths[j] * theta.cos();
        p[1] += lengths[j] * theta.sin();
    }
    p
}";
    promoted_constant: "", "
fn f(x: f64) -> f64 {
    let mut m = std::f64::consts::SQRT_2;
    for _ in 0..2 {
        m += x * m;
    }
    m
}";
    array_iteration: "wrt(x)", "
fn f(x: [f64; 3], w: &[f64; 3]) -> f64 {
    let mut s = 0.0;
    for v in x {
        s += v * v;
    }
    for v in &x {
        if *v > 0.0 {
            s += v.sin() * *v;
        }
    }
    for c in w {
        s *= *c;
    }
    s
}";
    logsumexp: "", "
fn lse(x: [f64; 4]) -> f64 {
    let mut m = x[0];
    for i in 1..4 {
        m = m.max(x[i]);
    }
    let mut s = 0.0;
    for i in 0..4 {
        s += (x[i] - m).exp();
    }
    s.ln() + m
}";
    reaction_chain: "wrt(c)", "
fn rhs(c: [f64; 4], v: &[f64; 4], k: &[f64; 4]) -> [f64; 4] {
    let mut dc = [0.0; 4];
    let mut inflow = 1.0;
    for i in 0..4 {
        let rate = v[i] * c[i] / (k[i] + c[i]);
        dc[i] = inflow - rate;
        inflow = rate;
    }
    dc
}";
    while_loops: "", "
fn newton(a: f64) -> f64 {
    let mut r = 1.0 + a;
    let mut k = 0;
    while (r * r - a).abs() > 1e-14 * a && k < 100 {
        r = 0.5 * (r + a / r);
        k += 1;
    }
    let mut v = r;
    loop {
        v *= 1.5;
        if v > 100.0 {
            break;
        }
        v += a.sin();
    }
    v
}";
    patterns_and_match: "", "
fn f(x: [f64; 3], n: usize) -> [f64; 2] {
    let [a, b, c] = x;
    let (p, q) = (a * b, c + 1.0);
    let s = match n % 3 {
        0 => p,
        1 | 2 if n > 4 => q.sin(),
        _ => p * q,
    };
    [s, a]
}";
    integer_code: "", "
fn f(x: [f64; 4], n: usize) -> f64 {
    let mut s = x[0];
    let mut k = 0;
    for i in 0..n.min(4) {
        k += 1;
        if k % 2 == 0 {
            s *= x[i].powi(k as i32);
        }
    }
    s
}";
}

snapshots! {
    reverse_branch_and_loop: "", "
fn f(x: [f64; 3], w: &[f64; 3]) -> f64 {
    let mut s = 0.0;
    for i in 0..3 {
        s += (x[i] * w[i]).sin() * x[i];
    }
    if s > 0.0 {
        s = s * s;
    }
    s
}";
}

snapshots! {
    overwritten_in_loop: "wrt(x0, x3)", "
fn f(x0: [f64; 3], x3: f64) -> [f64; 2] {
    let mut m1 = 1.0 / (1.0 + x3 * x3);
    for i in 0..4 {
        m1 = x0[i % 3];
    }
    [m1, x0[1]]
}";
}

snapshots! {
    matrix_calculus: "wrt(x)", "
fn f(x: Vector<3>, w: &Matrix<2, 3>) -> f64 {
    let y = (w * x).map(f64::tanh);
    y.norm_squared() + x.dot(&x)
}";
    matrix_vector_product: "wrt(x)", "
fn layer<const M: usize, const N: usize>(w: &Matrix<M, N>, b: &Vector<M>, x: Vector<N>) -> Vector<M> {
    (w * x + b).map(f64::tanh)
}";
}

/// Not a check: prints every stage of `JACOBIAN_STAGES` (a function) with the options
/// `JACOBIAN_ATTR`, when set (`cargo test -p jacobian-macro --lib snapshots::print_stages
/// -- --nocapture --exact`).
#[test]
fn print_stages() {
    if let Ok(source) = std::env::var("JACOBIAN_STAGES") {
        println!("{}", stages(&std::env::var("JACOBIAN_ATTR").unwrap_or_default(), &source));
    }
}
