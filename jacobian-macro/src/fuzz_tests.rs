//! The expansion function fuzzed with arbitrary and mutated token streams: whatever it is
//! given, it returns code or `compile_error!`, and never panics. `JACOBIAN_FUZZ_CASES`
//! raises the number of cases per property (default 512).

use crate::expand::expand;
use proc_macro2::{TokenStream, TokenTree};
use proptest::prelude::*;

/// Valid functions covering the supported grammar; mutations of these reach deep into
/// the lowering, where token soup alone would stop at the parser.
const CORPUS: &[(&str, &str)] = &[
    ("", "fn f(x: f64, y: f64) -> [f64; 2] { [x + y, x * y] }"),
    ("wrt(x)", "fn g(w: [[f64; 3]; 2], x: [f64; 3]) -> [f64; 2] { let mut y = [0.0; 2]; for i in 0..2 { for j in 0..3 { y[i] += w[i][j] * x[j]; } } y }"),
    ("value", "fn h(x: [f64; 3]) -> f64 { let mut s = 0.0; for v in &x { s += v.sin() * *v; } if s > 1.0 { return s.sqrt(); } s }"),
    ("", "fn k(t: f64) -> [f64; 3] { let a = t.exp(); let b = a.atan2(t); let mut c = 0.0; while c < 3.0 { c += 1.0; } [a, b * c, t.powi(3)] }"),
    ("wrt(x)", "fn l(w: &Matrix<2, 3>, b: &Vector<2>, x: Vector<3>) -> Vector<2> { (w * x + b).map(f64::tanh) }"),
    ("", "fn m(x: Vector<3>) -> Vector<3> { let e = x.map(|t| t.exp()); let total = e.sum(); e.map(|t| t / total) }"),
    ("name = grad", "fn n<const N: usize>(x: [f64; N]) -> f64 { let mut s = 0.0; let mut i = 0; loop { if i == N { break; } s += x[i] * x[i]; i += 1; } s }"),
    ("", "fn o(x: f64, n: i32) -> f64 { let r = loop { if x > 0.0 { break x.ln(); } break 0.0; }; match n { 0 => r, 1 => r * x, _ => other(r) } }"),
    ("", "fn p(q: [f64; 2]) -> [f64; 2] { let [a, b] = q; let (c, d) = (a.cos(), b.sin()); let a = c * d; [a, self.model(q)] }"),
];

fn tokens(source: &str) -> Vec<String> {
    fn flatten(stream: TokenStream, out: &mut Vec<String>) {
        for tree in stream {
            match tree {
                TokenTree::Group(group) => {
                    let (open, close) = match group.delimiter() {
                        proc_macro2::Delimiter::Parenthesis => ("(", ")"),
                        proc_macro2::Delimiter::Brace => ("{", "}"),
                        proc_macro2::Delimiter::Bracket => ("[", "]"),
                        proc_macro2::Delimiter::None => ("", ""),
                    };
                    out.push(open.to_string());
                    flatten(group.stream(), out);
                    out.push(close.to_string());
                }
                other => out.push(other.to_string()),
            }
        }
    }
    let mut out = Vec::new();
    flatten(source.parse().unwrap_or_default(), &mut out);
    out
}

const VOCABULARY: &[&str] = &[
    "x",
    "y",
    "t",
    "self",
    "f64",
    "f32",
    "T",
    "N",
    "Vector",
    "Matrix",
    "let",
    "mut",
    "fn",
    "if",
    "else",
    "for",
    "in",
    "while",
    "loop",
    "break",
    "continue",
    "return",
    "match",
    "=>",
    "_",
    "0",
    "1",
    "2.0",
    "0..3",
    "+",
    "-",
    "*",
    "/",
    "%",
    "=",
    "+=",
    "*=",
    "==",
    "<",
    ">",
    "&",
    "&mut",
    "!",
    "?",
    ",",
    ";",
    ":",
    "::",
    ".",
    "sin",
    "powi",
    "map",
    "dot",
    "|",
    "||",
    "as",
    "usize",
    "i32",
    "'a",
    "'l:",
    "async",
    "unsafe",
    "const",
    "where",
    "impl",
    "struct",
    "#",
    "[",
    "]",
    "(",
    ")",
    "{",
    "}",
    "wrt",
    "value",
    "name",
    "crate",
    "jacobian",
    "&self",
    "transpose",
    "norm",
    "from",
    "from_rows",
    "sum",
    "todo!()",
    "[0.0; 3]",
];

#[derive(Clone, Debug)]
enum Mutation {
    Delete(usize),
    Duplicate(usize),
    Swap(usize, usize),
    Replace(usize, usize),
    Insert(usize, usize),
}

fn apply(mut tokens: Vec<String>, mutations: &[Mutation]) -> String {
    for mutation in mutations {
        if tokens.is_empty() {
            break;
        }
        let n = tokens.len();
        match *mutation {
            Mutation::Delete(i) => {
                tokens.remove(i % n);
            }
            Mutation::Duplicate(i) => {
                let token = tokens[i % n].clone();
                tokens.insert(i % n, token);
            }
            Mutation::Swap(i, j) => tokens.swap(i % n, j % n),
            Mutation::Replace(i, w) => tokens[i % n] = VOCABULARY[w % VOCABULARY.len()].to_string(),
            Mutation::Insert(i, w) => tokens.insert(i % n, VOCABULARY[w % VOCABULARY.len()].to_string()),
        }
    }
    tokens.join(" ")
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Delete),
        any::<usize>().prop_map(Mutation::Duplicate),
        (any::<usize>(), any::<usize>()).prop_map(|(i, j)| Mutation::Swap(i, j)),
        (any::<usize>(), any::<usize>()).prop_map(|(i, w)| Mutation::Replace(i, w)),
        (any::<usize>(), any::<usize>()).prop_map(|(i, w)| Mutation::Insert(i, w)),
    ]
}

fn config() -> ProptestConfig {
    let cases = std::env::var("JACOBIAN_FUZZ_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(512);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

/// Expands, and checks the answer is code: the user's function and siblings, or errors.
fn expands_without_panic(attr: &str, item: &str) {
    let (Ok(attr), Ok(item)) = (attr.parse::<TokenStream>(), item.parse::<TokenStream>()) else {
        return;
    };
    let is_function = syn::parse2::<syn::ItemFn>(item.clone()).is_ok();
    let out = expand(attr, item).to_string();
    if is_function {
        // The user's function always comes back; with a sibling, or with errors.
        assert!(out.contains("fn "), "{out}");
        assert!(out.contains("_jacobian") || out.contains("compile_error"), "{out}");
    } else {
        assert!(out.contains("compile_error"), "{out}");
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn mutated_functions_never_panic(
        which in 0..CORPUS.len(),
        mutations in prop::collection::vec(mutation(), 1..6),
        attr_mutations in prop::collection::vec(mutation(), 0..2),
    ) {
        let (attr, item) = CORPUS[which];
        let item = apply(tokens(item), &mutations);
        let attr = if attr_mutations.is_empty() { attr.to_string() } else { apply(tokens(attr), &attr_mutations) };
        expands_without_panic(&attr, &item);
    }

    #[test]
    fn token_soup_never_panics(
        words in prop::collection::vec(0..VOCABULARY.len(), 0..40),
        attr in prop::collection::vec(0..VOCABULARY.len(), 0..4),
    ) {
        let soup: Vec<&str> = words.iter().map(|&w| VOCABULARY[w]).collect();
        let item = format!("fn f(x: f64) -> f64 {{ {} }}", soup.join(" "));
        let attr: Vec<&str> = attr.iter().map(|&w| VOCABULARY[w]).collect();
        expands_without_panic(&attr.join(" "), &item);
        expands_without_panic("", &soup.join(" "));
    }
}
