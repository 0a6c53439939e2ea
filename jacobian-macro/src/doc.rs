//! Owns the derivatives a person reads: the rustdoc of `{name}_jacobian` shows the Jacobian
//! it computes, entry by entry in readable mathematics (`∂f[1]/∂x = y`), read off the
//! optimised forward-mode IR of a function without loops or branches; a Jacobian with many
//! entries shows its sparsity pattern as a grid instead. Where neither can be read off (loops,
//! branches, run-time indices), nothing is added.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::ir::{Function, Op, Position, Type, Value};
use crate::shape::Shape;
use crate::signature::Signature;

/// Longest formula written out; beyond it, or beyond `MAX_ENTRIES` entries, the pattern.
const MAX_FORMULA: usize = 72;
const MAX_ENTRIES: usize = 48;

/// The rustdoc section describing the Jacobian of `name` that `jacobian` (forward mode's
/// optimised IR) computes, if it can be read off.
pub fn describe(jacobian: &Function, signature: &Signature, name: &str) -> Option<String> {
    let (rows, columns) = (signature.rows.lit()?, signature.columns.lit()?);
    let top = &jacobian.body;
    let defs: BTreeMap<Value, usize> = top
        .insts
        .iter()
        .enumerate()
        .flat_map(|(k, inst)| inst.results.iter().map(move |r| (*r, k)))
        .collect();
    let result = *top.yields.first()?;
    let inst = &top.insts[*defs.get(&result)?];
    // The entries: a matrix literal, or zeros with literal entries added.
    let mut entries: BTreeMap<(usize, usize), Vec<Value>> = BTreeMap::new();
    match (&inst.op, jacobian.ty(result)) {
        (Op::Build, Type::Matrix(..)) if inst.args.len() == rows * columns => {
            for (k, arg) in inst.args.iter().enumerate() {
                entries.entry((k / columns, k % columns)).or_default().push(*arg);
            }
        }
        _ => {
            let mut value = result;
            loop {
                let inst = &top.insts[*defs.get(&value)?];
                match (&inst.op, inst.args.as_slice()) {
                    (Op::Accumulate(path), [matrix, added]) => match path.0.as_slice() {
                        [Position::Const(i), Position::Const(k)] => {
                            entries.entry((*i, *k)).or_default().push(*added);
                            value = *matrix;
                        }
                        _ => return None,
                    },
                    (Op::Splat, _) => break,
                    _ => return None,
                }
            }
        }
    }
    let reader = Reader { f: jacobian, defs: &defs, signature };
    let mut formulas = Vec::new();
    let mut pattern = vec![vec![false; columns]; rows];
    for ((i, k), values) in &entries {
        let terms: Option<Vec<String>> = values.iter().map(|v| reader.expr(*v, 0).map(|(s, _)| s)).collect();
        let nonzero = |s: &String| s != "0";
        let terms: Vec<String> = terms?.into_iter().filter(nonzero).collect();
        if terms.is_empty() {
            continue;
        }
        pattern[*i][*k] = true;
        formulas.push((*i, *k, terms.join(" + ")));
    }
    let row_names: Vec<String> = (0..rows).map(|i| output_name(signature, name, i)).collect();
    let column_names: Vec<String> = (0..columns).map(|k| input_name(signature, k)).collect::<Option<_>>()?;
    let mut out = String::from("\n\n# What it computes\n\n");
    let written =
        formulas.len() <= MAX_ENTRIES && formulas.iter().all(|(_, _, s)| s.chars().count() <= MAX_FORMULA);
    if written {
        out.push_str("Every entry that is not zero, as the generated code computes it:\n\n```text\n");
        for (i, k, formula) in &formulas {
            let _ = writeln!(out, "∂{}/∂{} = {formula}", row_names[*i], column_names[*k]);
        }
    } else {
        out.push_str("The entries that are not zero (■), rows the output's components, columns the inputs':\n\n```text\n");
        for (i, row) in pattern.iter().enumerate() {
            let cells: String = row.iter().map(|&on| if on { '■' } else { '·' }).collect();
            let _ = writeln!(out, "{cells}  {}", row_names[i]);
        }
    }
    out.push_str("```");
    Some(out)
}

/// `f`, `f[i]`, `f[(i, j)]`: output component `i`.
fn output_name(signature: &Signature, name: &str, i: usize) -> String {
    if signature.rows.lit() == Some(1) && signature.tuple_output.is_none() {
        return name.to_owned();
    }
    format!("{name}[{i}]")
}

/// `x`, `x[k]`, `m[(i, j)]`: input column `k`.
fn input_name(signature: &Signature, column: usize) -> Option<String> {
    for input in &signature.inputs {
        let (offset, len) = (input.offset.lit()?, input.shape.len().lit()?);
        if column < offset || column >= offset + len {
            continue;
        }
        let (k, name) = (column - offset, &input.ident);
        return Some(match &input.shape {
            Shape::Scalar => name.to_string(),
            Shape::Array(_) | Shape::Vector(_) => format!("{name}[{k}]"),
            Shape::Matrix(_, c) => format!("{name}[({}, {})]", k / c.lit()?, k % c.lit()?),
            Shape::Nested(_, c) => format!("{name}[{}][{}]", k / c.lit()?, k % c.lit()?),
        });
    }
    None
}

struct Reader<'a> {
    f: &'a Function,
    defs: &'a BTreeMap<Value, usize>,
    signature: &'a Signature,
}

/// Binding strength: sums, products, prefix minus, atoms.
const SUM: u8 = 1;
const PRODUCT: u8 = 2;
const PREFIX: u8 = 3;
const ATOM: u8 = 4;

impl Reader<'_> {
    /// `value` as a formula and its binding strength; `None` where it cannot be read off.
    fn expr(&self, value: Value, depth: usize) -> Option<(String, u8)> {
        if depth > 24 {
            return None;
        }
        if let Some(param) = self.f.params.iter().find(|p| p.value == value) {
            return Some((param.ident.to_string(), ATOM));
        }
        let inst = &self.f.body.insts[*self.defs.get(&value)?];
        let arg = |k: usize, strength: u8| -> Option<String> {
            let (s, own) = self.expr(inst.args[k], depth + 1)?;
            Some(if own < strength { format!("({s})") } else { s })
        };
        Some(match &inst.op {
            Op::Literal(v) => (number(*v), if *v < 0.0 { PREFIX } else { ATOM }),
            Op::Neg => (format!("−{}", arg(0, PREFIX)?), PREFIX),
            Op::Add => (format!("{} + {}", arg(0, SUM)?, arg(1, SUM)?), SUM),
            Op::Sub => (format!("{} − {}", arg(0, SUM)?, arg(1, PRODUCT)?), SUM),
            Op::Mul => (format!("{}·{}", arg(0, PRODUCT)?, arg(1, PREFIX)?), PRODUCT),
            Op::Div => (format!("{}/{}", arg(0, PRODUCT)?, arg(1, PREFIX)?), PRODUCT),
            Op::Call("powi") => {
                let exponent = self.code(inst.args[1])?;
                (format!("{}^{exponent}", arg(0, ATOM)?), ATOM)
            }
            Op::Call(method) => {
                let args: Option<Vec<String>> = (0..inst.args.len())
                    .map(|k| self.expr(inst.args[k], depth + 1).map(|(s, _)| s))
                    .collect();
                (format!("{method}({})", args?.join(", ")), ATOM)
            }
            Op::SinCos => {
                let which = if inst.results.first() == Some(&value) { "sin" } else { "cos" };
                (format!("{which}({})", self.expr(inst.args[0], depth + 1)?.0), ATOM)
            }
            Op::Get(path) => {
                // (A vector or matrix parameter is read through its flat copy.)
                let mut array = inst.args[0];
                if let Some(def) = self.defs.get(&array).map(|k| &self.f.body.insts[*k]) {
                    if matches!(def.op, Op::Convert) {
                        array = def.args[0];
                    }
                }
                let base = self.f.params.iter().find(|p| p.value == array)?;
                let input = self.signature.inputs.iter().find(|i| i.ident == base.ident);
                let positions = path.constant()?;
                let name = &base.ident;
                let text = match (input.map(|i| &i.shape), positions.as_slice()) {
                    (Some(Shape::Matrix(_, c)), [k]) => {
                        format!("{name}[({}, {})]", k / c.lit()?, k % c.lit()?)
                    }
                    (Some(Shape::Nested(_, c)), [k]) => format!("{name}[{}][{}]", k / c.lit()?, k % c.lit()?),
                    (_, [k]) => format!("{name}[{k}]"),
                    (_, [i, j]) => format!("{name}[({i}, {j})]"),
                    _ => return None,
                };
                (text, ATOM)
            }
            Op::Constant(_) | Op::Code(_) if inst.args.is_empty() => {
                let text = self.code(value)?;
                let atom = text.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.');
                (text, if atom { ATOM } else { SUM })
            }
            _ => return None,
        })
    }

    /// The user's code a value stands for, as written (`2`, `k.b`).
    fn code(&self, value: Value) -> Option<String> {
        let inst = &self.f.body.insts[*self.defs.get(&value)?];
        match &inst.op {
            Op::Code(code) | Op::Constant(code) if inst.args.is_empty() => {
                let text = code.tokens.to_string();
                Some(text.replace(" . ", ".").replace("( ", "(").replace(" )", ")").replace(" ,", ","))
            }
            _ => None,
        }
    }
}

/// A literal as a person writes it: `2`, `0.5`, `−1`.
fn number(v: f64) -> String {
    let text = if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v.abs() as i64)
    } else {
        format!("{}", v.abs())
    };
    if v < 0.0 {
        format!("−{text}")
    } else {
        text
    }
}
