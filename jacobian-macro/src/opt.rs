//! Owns optimisation: passes over the IR that make the derivative code what an expert
//! writes, each exact in IEEE arithmetic (no reassociation, no `0 · x → 0`).
//!
//! - value numbering: an instruction that repeats an available one (same operation, same
//!   operands; in this block or an enclosing one) is dropped for it, across the versions
//!   of mutable variables too, since versions are distinct SSA values;
//! - algebraic identities: `x + x → 2 · x`, `−(−x) → x`;
//! - `sin` and `cos` of one argument become one `sin_cos`;
//! - dead code: instructions, branch results and loop-carried values whose results
//!   nothing live reads;
//! - a scalar read from an array moves past calls to just before its first reader.
//!
//! User code carried verbatim (`Code`) is numbered only when it is a simple read (no
//! calls, macros or blocks) and no code with effects ran in between.

use std::collections::{BTreeMap, BTreeSet};

use crate::ir::{Block, Function, Inst, Op, Type, Value};

/// Runs every pass, in order.
pub fn optimise(function: &mut Function) {
    let mut body = std::mem::take(&mut function.body);
    let mut numbering = Numbering {
        available: vec![BTreeMap::new()],
        replaced: BTreeMap::new(),
        epoch: 0,
        unnamed: BTreeSet::new(),
    };
    numbering.block(&mut body, function);
    for value in &numbering.unnamed {
        function.values[value.0 as usize].name = None;
    }
    identities(&mut body, function);
    // Dead code first, so that a `sin` nobody reads does not make its `cos` a `sin_cos`.
    eliminate_dead_code(&mut body);
    fuse_sin_cos(&mut body);
    sink_reads(&mut body, function);
    function.body = body;
}

/// An instruction's identity for value numbering.
type Key = (String, Vec<Value>);

struct Numbering {
    /// Keys to the results of the instruction computing them, one map per open block.
    available: Vec<BTreeMap<Key, Vec<Value>>>,
    replaced: BTreeMap<Value, Value>,
    /// Bumped by every instruction that may have effects, so that user code reading
    /// variables the effects may change is not merged across them.
    epoch: usize,
    /// Values that now stand for values of other names.
    unnamed: BTreeSet<Value>,
}

impl Numbering {
    fn resolve(&self, value: Value) -> Value {
        let mut value = value;
        while let Some(next) = self.replaced.get(&value) {
            value = *next;
        }
        value
    }

    fn key(&self, inst: &Inst, function: &Function) -> Option<Key> {
        let mut args = inst.args.clone();
        let name = match &inst.op {
            Op::Literal(v) => format!("literal {:?}", v.to_bits()),
            Op::Add | Op::Mul => {
                args.sort();
                format!("{:?}", inst.op)
            }
            Op::Neg
            | Op::Sub
            | Op::Div
            | Op::SinCos
            | Op::Select
            | Op::FromInt
            | Op::Build
            | Op::Splat
            | Op::Convert
            | Op::Scale => {
                format!("{:?}", inst.op)
            }
            Op::Call(method) => format!("call {method}"),
            Op::Get(path) => format!("get {path:?}"),
            Op::Constant(code) => {
                format!("constant {} {} @{}", code.tokens, function.ty(inst.results[0]), self.epoch)
            }
            Op::Code(code) if inst.results.len() == 1 && is_simple(&code.tokens) => {
                format!("code {} @{}", code.tokens, self.epoch)
            }
            _ => return None,
        };
        // Operations such as `splat` give values of different types from the same operands.
        let types: Vec<String> = inst.results.iter().map(|r| function.ty(*r).to_string()).collect();
        Some((format!("{name}: {}", types.join(", ")), args))
    }

    fn block(&mut self, block: &mut Block, function: &Function) {
        let mut kept = Vec::with_capacity(block.insts.len());
        for mut inst in std::mem::take(&mut block.insts) {
            for arg in &mut inst.args {
                *arg = self.resolve(*arg);
            }
            if matches!(&inst.op, Op::If { .. } | Op::For { .. } | Op::While { .. }) {
                self.epoch += 1;
                for nested in inst.blocks_mut() {
                    self.available.push(BTreeMap::new());
                    self.block(nested, function);
                    self.available.pop();
                }
                self.epoch += 1;
                kept.push(inst);
                continue;
            }
            if let Op::Code(code) = &inst.op {
                if inst.results.is_empty() || !is_simple(&code.tokens) {
                    self.epoch += 1;
                }
            }
            let Some(key) = self.key(&inst, function) else {
                kept.push(inst);
                continue;
            };
            let earlier = self.available.iter().rev().find_map(|scope| scope.get(&key)).cloned();
            match earlier {
                Some(results) => {
                    for (mine, theirs) in inst.results.iter().zip(results) {
                        self.replaced.insert(*mine, theirs);
                        // One value standing for differently named ones has no one name.
                        if function.name(*mine) != function.name(theirs) {
                            self.unnamed.insert(theirs);
                        }
                    }
                }
                None => {
                    self.available.last_mut().expect("a scope is open").insert(key, inst.results.clone());
                    kept.push(inst);
                }
            }
        }
        block.insts = kept;
        for value in &mut block.yields {
            *value = self.resolve(*value);
        }
    }
}

/// Code that only reads: no calls of functions or macros, no blocks, no assignment.
pub fn is_simple(tokens: &proc_macro2::TokenStream) -> bool {
    use proc_macro2::{Delimiter, TokenTree};
    let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
    trees.iter().enumerate().all(|(k, tree)| match tree {
        TokenTree::Punct(p) => {
            let assigns = p.as_char() == '='
                && !matches!(trees.get(k + 1), Some(TokenTree::Punct(q)) if q.as_char() == '=')
                && !matches!(trees.get(k.wrapping_sub(1)), Some(TokenTree::Punct(q)) if "=!<>".contains(q.as_char()));
            p.as_char() != '!' && p.as_char() != ';' && !assigns
        }
        TokenTree::Ident(ident) => ident != "let" && ident != "loop" && ident != "while" && ident != "for",
        TokenTree::Group(g) => {
            let call = g.delimiter() == Delimiter::Parenthesis
                && k > 0
                && matches!(&trees[k - 1], TokenTree::Ident(_))
                && !(k > 1 && matches!(&trees[k - 2], TokenTree::Punct(p) if p.as_char() == '.'));
            !call && g.delimiter() != Delimiter::Brace && is_simple(&g.stream())
        }
        TokenTree::Literal(_) => true,
    })
}

/// `x + x → 2 · x`; `−(−x) → x`; `[a, b, c][1] → b`; arithmetic of literals folded (IEEE
/// arithmetic done now gives what it would give at run time, for `f32` too: one rounding of
/// an `f64` result that holds the exact one).
fn identities(block: &mut Block, function: &mut Function) {
    let mut negated: BTreeMap<Value, Value> = BTreeMap::new();
    let mut literals: BTreeMap<Value, f64> = BTreeMap::new();
    let mut built: BTreeMap<Value, Vec<Value>> = BTreeMap::new();
    let mut replaced: BTreeMap<Value, Value> = BTreeMap::new();
    // Elements read: the array, the path and its indices (`a[i] = a[i]` is `a`).
    let mut loaded: BTreeMap<Value, (Value, crate::ir::Path, Vec<Value>)> = BTreeMap::new();
    let mut out = Vec::with_capacity(block.insts.len());
    for mut inst in std::mem::take(&mut block.insts) {
        for arg in &mut inst.args {
            if let Some(r) = replaced.get(arg) {
                *arg = *r;
            }
        }
        for nested in inst.blocks_mut() {
            substitute(nested, &replaced);
            identities(nested, function);
        }
        // A loop that copies an array whole (`for k in 0..n { a[k] = b[k] }`): `a` is `b`
        // after it.
        for (k, result) in inst.results.iter().enumerate() {
            if let Some(source) = copied(&inst, k, function) {
                replaced.insert(*result, source);
            }
        }
        let operands: Option<Vec<f64>> = inst.args.iter().map(|a| literals.get(a).copied()).collect();
        let folded = match (&inst.op, operands.as_deref()) {
            (Op::Add, Some([a, b])) => Some(a + b),
            (Op::Sub, Some([a, b])) => Some(a - b),
            (Op::Mul, Some([a, b])) => Some(a * b),
            (Op::Div, Some([a, b])) => Some(a / b),
            (Op::Neg, Some([a])) => Some(-a),
            _ => None,
        };
        if let Some(value) = folded.filter(|v| v.is_finite()) {
            inst.op = Op::Literal(value);
            inst.args.clear();
        }
        if let Op::Literal(value) = inst.op {
            literals.insert(inst.results[0], value);
        }
        // Signs moved into the operation: `a + (−b)` → `a − b`, `a − (−b)` → `a + b`,
        // `(−a)·(−b)` → `a·b` (exact: a negation flips the sign bit, and IEEE arithmetic is
        // symmetric in signs). (Not `−((−a)·b)` → `a·b`: measured, it made bundle
        // adjustment's Jacobian dearer, 955 → 976 instructions, as rustc then schedules
        // its products worse.)
        let sign_of = |v: &Value| negated.get(v).copied();
        match (&inst.op, inst.args.as_slice()) {
            (Op::Add, [a, b]) => match (sign_of(a), sign_of(b)) {
                (_, Some(b)) => (inst.op, inst.args) = (Op::Sub, vec![*a, b]),
                (Some(a), None) => (inst.op, inst.args) = (Op::Sub, vec![*b, a]),
                (None, None) => {}
            },
            (Op::Sub, [a, b]) => {
                if let Some(b) = sign_of(b) {
                    (inst.op, inst.args) = (Op::Add, vec![*a, b]);
                }
            }
            (Op::Mul, [a, b]) => {
                if let (Some(a), Some(b)) = (sign_of(a), sign_of(b)) {
                    inst.args = vec![a, b];
                }
            }
            _ => {}
        }
        match inst.op {
            Op::Add if inst.args[0] == inst.args[1] => {
                let two = function.value(Type::Scalar, None);
                out.push(Inst { op: Op::Literal(2.0), args: vec![], results: vec![two], span: inst.span });
                inst.op = Op::Mul;
                inst.args = vec![two, inst.args[0]];
            }
            Op::Build => {
                built.insert(inst.results[0], inst.args.clone());
            }
            Op::Get(ref path) => {
                if let ([crate::ir::Position::Const(k)], Some(items)) =
                    (path.0.as_slice(), built.get(&inst.args[0]))
                {
                    if let Some(item) = items.get(*k) {
                        replaced.insert(inst.results[0], *item);
                        continue;
                    }
                }
                loaded.insert(inst.results[0], (inst.args[0], path.clone(), inst.args[1..].to_vec()));
            }
            // Storing an element just read from the same array at the same place.
            Op::Set(ref path)
                if loaded.get(&inst.args[1])
                    == Some(&(inst.args[0], path.clone(), inst.args[2..].to_vec())) =>
            {
                replaced.insert(inst.results[0], inst.args[0]);
                continue;
            }
            Op::Neg => match negated.get(&inst.args[0]) {
                Some(original) => {
                    replaced.insert(inst.results[0], *original);
                    continue;
                }
                None => {
                    negated.insert(inst.results[0], inst.args[0]);
                }
            },
            _ => {}
        }
        out.push(inst);
    }
    block.insts = out;
    for value in &mut block.yields {
        if let Some(r) = replaced.get(value) {
            *value = *r;
        }
    }
}

/// The array that carried value `k` of a `for` loop is after it, when the loop overwrites
/// it whole with another's elements: `for i in 0..n { a[i] = b[i] }` over `a: [_; n]`, the
/// body reading `a` nowhere else and `b` defined before the loop, of the same type.
fn copied(inst: &Inst, k: usize, function: &Function) -> Option<Value> {
    use crate::ir::Position;
    let Op::For { pattern, range, holes: 0, body } = &inst.op else { return None };
    let (param, next) = (*body.params.get(k)?, *body.yields.get(k)?);
    let Type::Array(_, len) = function.ty(param) else { return None };
    let len = len.value();
    if range.tokens.to_string() != quote::quote!(0..#len).to_string() {
        return None;
    }
    let defined = |v: Value| body.insts.iter().find(|i| i.results.contains(&v));
    let set = defined(next)?;
    let ([a, element, index], Op::Set(path)) = (&set.args[..], &set.op) else { return None };
    let get = defined(*element)?;
    let ([b, at], Op::Get(from)) = (&get.args[..], &get.op) else { return None };
    let counter = defined(*index)?;
    let counts = matches!(&counter.op, Op::Code(code)
        if counter.args.is_empty() && code.tokens.to_string() == pattern.to_string());
    let whole = path.0 == [Position::Dynamic] && from.0 == [Position::Dynamic];
    let fits = *a == param && at == index && reads(body, param) == 1 && defined(*b).is_none();
    (counts && whole && fits && function.ty(*b) == function.ty(param) && *b != param).then_some(*b)
}

/// How many times `block` (nested blocks too) reads `value`.
fn reads(block: &Block, value: Value) -> usize {
    let mut n = block.yields.iter().filter(|y| **y == value).count();
    for inst in &block.insts {
        n += inst.args.iter().filter(|a| **a == value).count();
        n += inst.blocks().into_iter().map(|b| reads(b, value)).sum::<usize>();
    }
    n
}

fn substitute(block: &mut Block, replaced: &BTreeMap<Value, Value>) {
    if replaced.is_empty() {
        return;
    }
    for inst in &mut block.insts {
        for arg in &mut inst.args {
            if let Some(r) = replaced.get(arg) {
                *arg = *r;
            }
        }
        for nested in inst.blocks_mut() {
            substitute(nested, replaced);
        }
    }
    for value in &mut block.yields {
        if let Some(r) = replaced.get(value) {
            *value = *r;
        }
    }
}

/// `a.sin()` and `a.cos()` in one block become one `a.sin_cos()`, where the first was.
fn fuse_sin_cos(block: &mut Block) {
    for inst in &mut block.insts {
        for nested in inst.blocks_mut() {
            fuse_sin_cos(nested);
        }
    }
    let calls = |name: &str| -> BTreeMap<Value, usize> {
        block
            .insts
            .iter()
            .enumerate()
            .filter(|(_, i)| matches!(i.op, Op::Call(m) if m == name))
            .map(|(k, i)| (i.args[0], k))
            .collect()
    };
    let (sines, cosines) = (calls("sin"), calls("cos"));
    let mut remove = BTreeSet::new();
    for (argument, &s) in &sines {
        let Some(&c) = cosines.get(argument) else { continue };
        let (first, second) = (s.min(c), s.max(c));
        let (sine, cosine) = (block.insts[s].results[0], block.insts[c].results[0]);
        let span = block.insts[first].span;
        block.insts[first] =
            Inst { op: Op::SinCos, args: vec![*argument], results: vec![sine, cosine], span };
        remove.insert(second);
    }
    let mut k = 0;
    block.insts.retain(|_| {
        k += 1;
        !remove.contains(&(k - 1))
    });
}

/// A scalar read from an aggregate moves down to just before the first instruction that
/// reads it, when a call of a mathematical function lies between: a value loaded before
/// `sin` lives across the call (in a callee-saved register, or spilled), one loaded after
/// it does not. It does not move past another use of the aggregate than a read, so that an
/// update the emitter writes in place (the old version dead after it) stays in place.
fn sink_reads(block: &mut Block, function: &Function) {
    for inst in &mut block.insts {
        for nested in inst.blocks_mut() {
            sink_reads(nested, function);
        }
    }
    let mut k = 0;
    while k < block.insts.len() {
        let inst = &block.insts[k];
        let read = match (&inst.op, inst.args.first(), inst.results.as_slice()) {
            (Op::Get(_), Some(aggregate), [value]) if *function.ty(*value) == Type::Scalar => {
                Some((*aggregate, *value))
            }
            _ => None,
        };
        let uses = |inst: &Inst, value: Value| {
            inst.args.contains(&value) || inst.blocks().into_iter().any(|b| reads(b, value) > 0)
        };
        let reader =
            read.and_then(|(_, value)| (k + 1..block.insts.len()).find(|&j| uses(&block.insts[j], value)));
        let call = |j: usize| matches!(block.insts[j].op, Op::Call(_) | Op::SinCos);
        let updated = |j: usize, aggregate: Value| {
            !matches!(block.insts[j].op, Op::Get(_)) && uses(&block.insts[j], aggregate)
        };
        match (read, reader) {
            (Some((aggregate, _)), Some(j))
                if (k + 1..j).any(call) && !(k + 1..j).any(|j| updated(j, aggregate)) =>
            {
                let inst = block.insts.remove(k);
                block.insts.insert(j - 1, inst);
            }
            _ => k += 1,
        }
    }
}

/// Removes what nothing live reads: pure instructions, `if` results, loop-carried values.
/// Live are the function's result, code with effects, and what they read, transitively.
fn eliminate_dead_code(body: &mut Block) {
    let mut live: BTreeSet<Value> = body.yields.iter().copied().collect();
    // Liveness only grows, so this ends.
    loop {
        let before = live.len();
        mark_live(body, &mut live);
        if live.len() == before {
            break;
        }
    }
    sweep(body, &live);
}

fn has_effects(inst: &Inst) -> bool {
    match &inst.op {
        Op::Code(code) => inst.results.is_empty() || !is_simple(&code.tokens),
        Op::If { then, otherwise } => block_has_effects(then) || block_has_effects(otherwise),
        Op::For { body, .. } => block_has_effects(body),
        Op::While { cond, body } => block_has_effects(cond) || block_has_effects(body),
        _ => false,
    }
}

fn block_has_effects(block: &Block) -> bool {
    block.insts.iter().any(has_effects)
}

fn mark_live(block: &Block, live: &mut BTreeSet<Value>) {
    for inst in block.insts.iter().rev() {
        let effects = has_effects(inst);
        match &inst.op {
            Op::If { then, otherwise } => {
                for (k, result) in inst.results.iter().enumerate() {
                    if live.contains(result) {
                        live.insert(then.yields[k]);
                        live.insert(otherwise.yields[k]);
                    }
                }
                let used = effects || inst.results.iter().any(|r| live.contains(r));
                if used {
                    live.insert(inst.args[0]);
                    mark_live(then, live);
                    mark_live(otherwise, live);
                }
            }
            // A loop's test always runs; a carried value is live if anything live reads it.
            Op::While { cond, body } => {
                live.insert(cond.yields[0]);
                for k in 0..inst.results.len() {
                    let read =
                        [inst.results[k], cond.params[k], body.params[k]].iter().any(|v| live.contains(v));
                    if read {
                        live.extend([
                            cond.params[k],
                            body.params[k],
                            cond.yields[1 + k],
                            body.yields[k],
                            inst.args[k],
                        ]);
                    }
                }
                mark_live(cond, live);
                mark_live(body, live);
            }
            Op::For { holes, body, .. } => {
                for (k, result) in inst.results.iter().enumerate() {
                    if live.contains(result) || live.contains(&body.params[k]) {
                        live.insert(body.params[k]);
                        live.insert(body.yields[k]);
                        live.insert(inst.args[holes + k]);
                    }
                }
                let used = effects || inst.results.iter().chain(&body.params).any(|r| live.contains(r));
                if used {
                    live.extend(&inst.args[..*holes]);
                    mark_live(body, live);
                }
            }
            _ => {
                if effects || inst.results.iter().any(|r| live.contains(r)) {
                    live.extend(&inst.args);
                }
            }
        }
    }
}

fn sweep(block: &mut Block, live: &BTreeSet<Value>) {
    block.insts.retain_mut(|inst| {
        let effects = has_effects(inst);
        match &mut inst.op {
            Op::If { then, otherwise } => {
                let keep: Vec<usize> =
                    (0..inst.results.len()).filter(|k| live.contains(&inst.results[*k])).collect();
                if keep.is_empty() && !effects {
                    return false;
                }
                for arm in [&mut *then, &mut *otherwise] {
                    arm.yields = keep.iter().map(|k| arm.yields[*k]).collect();
                    sweep(arm, live);
                }
                inst.results = keep.iter().map(|k| inst.results[*k]).collect();
                true
            }
            Op::While { cond, body } => {
                let keep: Vec<usize> = (0..inst.results.len())
                    .filter(|k| {
                        [inst.results[*k], cond.params[*k], body.params[*k]].iter().any(|v| live.contains(v))
                    })
                    .collect();
                cond.params = keep.iter().map(|k| cond.params[*k]).collect();
                let go_on = cond.yields[0];
                cond.yields =
                    std::iter::once(go_on).chain(keep.iter().map(|k| cond.yields[1 + *k])).collect();
                body.params = keep.iter().map(|k| body.params[*k]).collect();
                body.yields = keep.iter().map(|k| body.yields[*k]).collect();
                sweep(cond, live);
                sweep(body, live);
                inst.args = keep.iter().map(|k| inst.args[*k]).collect();
                inst.results = keep.iter().map(|k| inst.results[*k]).collect();
                true
            }
            Op::For { holes, body, .. } => {
                let holes = *holes;
                let keep: Vec<usize> = (0..inst.results.len())
                    .filter(|k| live.contains(&inst.results[*k]) || live.contains(&body.params[*k]))
                    .collect();
                if keep.is_empty() && !effects {
                    return false;
                }
                body.params = keep.iter().map(|k| body.params[*k]).collect();
                body.yields = keep.iter().map(|k| body.yields[*k]).collect();
                sweep(body, live);
                let mut args = inst.args[..holes].to_vec();
                args.extend(keep.iter().map(|k| inst.args[holes + k]));
                inst.args = args;
                inst.results = keep.iter().map(|k| inst.results[*k]).collect();
                true
            }
            _ => effects || inst.results.iter().any(|r| live.contains(r)),
        }
    });
}
