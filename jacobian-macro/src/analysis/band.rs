//! Bands: for every array, which diagonals of its Jacobian with respect to each parameter
//! block can be non-zero. Element `r` of an array whose block has offsets `S` depends only
//! on the inputs `r + s`, `s ∈ S` (`rate[i] = f(c[i])`: `{0}`; `dc[i] = rate[i − 1] −
//! rate[i]`: `{−1, 0}`; `f[i] = sin(x[i])·x[i + 1]`: `{0, 1}`). Forward mode stores such a
//! block as its few diagonals (`[T; len]` each) instead of a dense `[[T; n]; len]`: memory
//! and work grow with the length, not its square. Indices are read as a loop variable or a constant's
//! name (`N`, `LEN`) plus a literal, or a literal (`i`, `i + 1`, `N - 1`, `7`); anything
//! else, and a block with more than `MAX_BAND` diagonals, is dense (`None`).

use std::collections::{BTreeMap, BTreeSet};

use crate::ir::{Block, Code, Function, Op, Position, Type, Value};

/// More diagonals than this, and a block is held dense.
pub const MAX_BAND: usize = 5;

/// An index: a constant, or a loop variable plus a constant.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Index {
    Const(i64),
    Offset(String, i64),
}

impl Index {
    pub fn shifted(&self, by: i64) -> Index {
        match self {
            Index::Const(n) => Index::Const(n + by),
            Index::Offset(x, n) => Index::Offset(x.clone(), n + by),
        }
    }

    /// `self − other`, where both are constants or offsets of one variable.
    pub fn minus(&self, other: &Index) -> Option<i64> {
        match (self, other) {
            (Index::Const(a), Index::Const(b)) => Some(a - b),
            (Index::Offset(x, a), Index::Offset(y, b)) if x == y => Some(a - b),
            _ => None,
        }
    }

    fn mentions(&self, variable: &str) -> bool {
        matches!(self, Index::Offset(x, _) if x == variable)
    }
}

/// What a scalar depends on: for each block, the input indices (`None`: a run-time row,
/// anything at all).
type Deps = BTreeMap<usize, Option<BTreeSet<Index>>>;

/// For each block, an array's diagonals (`None`: dense).
type Diagonals = BTreeMap<usize, Option<BTreeSet<i64>>>;

pub struct Bands {
    /// The index each `Code` value stands for, where it is one.
    pub indices: BTreeMap<Value, Index>,
    scalars: BTreeMap<Value, Deps>,
    arrays: BTreeMap<Value, Diagonals>,
    /// The parameters and their blocks (identity Jacobians: diagonal `{0}`).
    inputs: BTreeMap<Value, usize>,
}

impl Bands {
    /// `inputs[k]` is the parameter value of block `k`.
    pub fn analyse(function: &Function, inputs: &[Value]) -> Bands {
        let mut bands = Bands {
            indices: BTreeMap::new(),
            scalars: BTreeMap::new(),
            arrays: BTreeMap::new(),
            inputs: inputs.iter().enumerate().map(|(k, v)| (*v, k)).collect(),
        };
        bands.indices = indices(function);
        for (input, block) in &bands.inputs {
            if matches!(function.ty(*input), Type::Array(..) | Type::Vector(_) | Type::Matrix(..)) {
                bands.arrays.insert(*input, BTreeMap::from([(*block, Some(BTreeSet::from([0])))]));
            } else {
                let unit = BTreeSet::from([Index::Const(0)]);
                bands.scalars.insert(*input, BTreeMap::from([(*block, Some(unit))]));
            }
        }
        bands.block(&function.body);
        bands
    }

    /// The diagonals of `array`'s Jacobian block `block`, if it is banded.
    pub fn diagonals(&self, array: Value, block: usize) -> Option<Vec<i64>> {
        let set = self.arrays.get(&array)?.get(&block)?.as_ref()?;
        Some(set.iter().copied().collect())
    }

    fn deps(&self, value: Value) -> Deps {
        self.scalars.get(&value).cloned().unwrap_or_default()
    }

    fn array(&self, value: Value) -> Diagonals {
        self.arrays.get(&value).cloned().unwrap_or_default()
    }

    fn index(&self, position: &Position, args: &mut std::slice::Iter<'_, Value>) -> Option<Index> {
        match position {
            Position::Const(k) => Some(Index::Const(*k as i64)),
            Position::Dynamic => self.indices.get(args.next()?).cloned(),
        }
    }

    /// The dependencies of `aggregate[position]`.
    fn read(&self, aggregate: Value, position: Option<Index>) -> Deps {
        let mut deps = Deps::new();
        for (block, diagonals) in self.array(aggregate) {
            let found = match (diagonals, &position) {
                (Some(diagonals), Some(at)) => Some(diagonals.iter().map(|s| at.shifted(*s)).collect()),
                _ => None,
            };
            deps.insert(block, found);
        }
        deps
    }

    /// `aggregate` with `written` (a scalar's dependencies) stored at `position`.
    fn write(&self, aggregate: Value, position: Option<Index>, written: &Deps) -> Diagonals {
        let mut diagonals = self.array(aggregate);
        for (block, deps) in written {
            let entry = diagonals.entry(*block).or_insert_with(|| Some(BTreeSet::new()));
            let (Some(set), Some(deps), Some(at)) = (entry.as_mut(), deps, &position) else {
                *entry = None;
                continue;
            };
            for dep in deps {
                match dep.minus(at) {
                    Some(offset) => {
                        set.insert(offset);
                    }
                    None => {
                        *entry = None;
                        break;
                    }
                }
            }
            if entry.as_ref().is_some_and(|s| s.len() > MAX_BAND) {
                *entry = None;
            }
        }
        diagonals
    }

    fn join_scalar(&mut self, into: Value, from: &Deps) -> bool {
        let entry = self.scalars.entry(into).or_default();
        let before = entry.clone();
        for (block, deps) in from {
            match (entry.get_mut(block), deps) {
                (None, deps) => {
                    entry.insert(*block, deps.clone());
                }
                (Some(Some(have)), Some(more)) => have.extend(more.iter().cloned()),
                (Some(slot), _) => *slot = None,
            }
        }
        *entry != before
    }

    fn join_array(&mut self, into: Value, from: &Diagonals) -> bool {
        let entry = self.arrays.entry(into).or_default();
        let before = entry.clone();
        for (block, diagonals) in from {
            match (entry.get_mut(block), diagonals) {
                (None, d) => {
                    entry.insert(*block, d.clone());
                }
                (Some(Some(have)), Some(more)) => {
                    have.extend(more.iter().copied());
                    if have.len() > MAX_BAND {
                        entry.insert(*block, None);
                    }
                }
                (Some(slot), _) => *slot = None,
            }
        }
        *entry != before
    }

    /// Joins `from` into `into`, whichever kind of value they are.
    fn join(&mut self, into: Value, from: Value) -> bool {
        if into == from {
            return false;
        }
        let (scalar, array) = (self.deps(from), self.array(from));
        self.join_scalar(into, &scalar) | self.join_array(into, &array)
    }

    /// What a value carried out of an iteration of a loop over `variable` depends on: its
    /// indices of the loop variable mean nothing outside the iteration.
    fn forget(&mut self, value: Value, variable: &str) {
        if let Some(deps) = self.scalars.get_mut(&value) {
            for set in deps.values_mut() {
                if set.as_ref().is_some_and(|s| s.iter().any(|i| i.mentions(variable))) {
                    *set = None;
                }
            }
        }
    }

    fn block(&mut self, block: &Block) {
        for inst in &block.insts {
            let mut args = inst.args.iter();
            match &inst.op {
                Op::Literal(_) | Op::Constant(_) | Op::Code(_) | Op::FromInt => {}
                Op::Get(path) => {
                    let aggregate = *args.next().expect("an aggregate");
                    let position = match path.0.as_slice() {
                        [position] => self.index(position, &mut args),
                        _ => None,
                    };
                    let deps = self.read(aggregate, position);
                    self.join_scalar(inst.results[0], &deps);
                }
                Op::Set(path) | Op::Accumulate(path) => {
                    let (aggregate, value) = (inst.args[0], inst.args[1]);
                    let mut rest = inst.args[2..].iter();
                    let position = match path.0.as_slice() {
                        [position] => self.index(position, &mut rest),
                        _ => None,
                    };
                    let written = self.deps(value);
                    let diagonals = self.write(aggregate, position, &written);
                    self.join_array(inst.results[0], &diagonals);
                }
                Op::Build => {
                    let mut diagonals = Diagonals::new();
                    let target = inst.results[0];
                    for (k, arg) in inst.args.iter().enumerate() {
                        let deps = self.deps(*arg);
                        self.arrays.insert(target, diagonals.clone());
                        diagonals = self.write(target, Some(Index::Const(k as i64)), &deps);
                    }
                    self.arrays.insert(target, diagonals);
                }
                Op::Splat => {
                    // The same scalar everywhere: banded only if it is not differentiated.
                    let deps = self.deps(inst.args[0]);
                    let dense: Diagonals = deps.keys().map(|block| (*block, None)).collect();
                    self.join_array(inst.results[0], &dense);
                }
                Op::Convert => {
                    let from = inst.args[0];
                    self.join(inst.results[0], from);
                }
                Op::If { then, otherwise } => {
                    self.block(then);
                    self.block(otherwise);
                    for (k, result) in inst.results.iter().enumerate() {
                        self.join(*result, then.yields[k]);
                        self.join(*result, otherwise.yields[k]);
                    }
                }
                Op::For { pattern, holes, body, .. } => {
                    let variable = pattern.to_string();
                    for (param, init) in body.params.iter().zip(&inst.args[*holes..]) {
                        self.join(*param, *init);
                    }
                    for _ in 0..16 {
                        self.block(body);
                        let mut grew = false;
                        for (param, next) in body.params.iter().zip(&body.yields) {
                            self.forget(*next, &variable);
                            grew |= self.join(*param, *next);
                        }
                        if !grew {
                            break;
                        }
                    }
                    for (result, param) in inst.results.iter().zip(&body.params) {
                        self.join(*result, *param);
                    }
                }
                Op::While { cond, body } => {
                    for (param, init) in cond.params.iter().zip(&inst.args) {
                        self.join(*param, *init);
                    }
                    for _ in 0..16 {
                        self.block(cond);
                        let mut grew = false;
                        for (param, passed) in body.params.iter().zip(&cond.yields[1..]) {
                            grew |= self.join(*param, *passed);
                        }
                        self.block(body);
                        for (param, next) in cond.params.iter().zip(&body.yields) {
                            grew |= self.join(*param, *next);
                        }
                        if !grew {
                            break;
                        }
                    }
                    for (result, passed) in inst.results.iter().zip(&cond.yields[1..]) {
                        self.join(*result, *passed);
                    }
                }
                // Arithmetic, float methods, choices: the union of the operands'.
                _ => {
                    let mut deps = Deps::new();
                    let mut dense = false;
                    for arg in &inst.args {
                        for (block, set) in self.deps(*arg) {
                            match (deps.get_mut(&block), set) {
                                (None, set) => {
                                    deps.insert(block, set);
                                }
                                (Some(Some(have)), Some(more)) => have.extend(more),
                                (Some(slot), _) => *slot = None,
                            }
                        }
                        dense |= self.arrays.get(arg).is_some_and(|a| !a.is_empty());
                    }
                    if dense {
                        for set in deps.values_mut() {
                            *set = None;
                        }
                    }
                    for result in &inst.results {
                        self.join_scalar(*result, &deps);
                    }
                }
            }
        }
    }
}

/// The index every `Code` value of `function` stands for, where it is one (see
/// [`index_of`]).
pub fn indices(function: &Function) -> BTreeMap<Value, Index> {
    let mut codes = BTreeMap::new();
    let mut loops = BTreeSet::new();
    collect(&function.body, &mut codes, &mut loops);
    codes.keys().filter_map(|value| Some((*value, index_of(*value, &codes, &loops)?))).collect()
}

/// Every `Code` instruction's tokens and arguments by its result, and every `for` pattern.
fn collect(block: &Block, codes: &mut BTreeMap<Value, (String, Vec<Value>)>, loops: &mut BTreeSet<String>) {
    for inst in &block.insts {
        match &inst.op {
            Op::Code(code) => {
                if let [result] = inst.results.as_slice() {
                    codes.insert(*result, (code.tokens.to_string(), inst.args.clone()));
                }
            }
            Op::For { pattern, .. } => {
                if let Ok(ident) = syn::parse2::<syn::Ident>(pattern.clone()) {
                    loops.insert(ident.to_string());
                }
            }
            _ => {}
        }
        for inner in inst.blocks() {
            collect(inner, codes, loops);
        }
    }
}

/// The index a `Code` value computes, when it is a loop variable plus a constant or a
/// constant: `i`, `i + 1`, `1 + i`, `i - 1`, `7`, or one of these through a hole.
fn index_of(
    value: Value,
    codes: &BTreeMap<Value, (String, Vec<Value>)>,
    loops: &BTreeSet<String>,
) -> Option<Index> {
    let (tokens, args) = codes.get(&value)?;
    let words: Vec<&str> = tokens.split_whitespace().collect();
    let name = |word: &str| -> Option<Index> {
        if let Some(k) = word.strip_prefix(Code::HOLE).and_then(|k| k.parse::<usize>().ok()) {
            return index_of(*args.get(k)?, codes, loops);
        }
        if let Some(n) = number(word) {
            return Some(Index::Const(n));
        }
        // A loop variable, or a constant (a `const` item or const-generic parameter, upper
        // case by convention): names whose value cannot change between two reads.
        let constant = word.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            && word.starts_with(|c: char| c.is_ascii_uppercase());
        (loops.contains(word) || constant).then(|| Index::Offset(word.to_owned(), 0))
    };
    match words.as_slice() {
        [word] => name(word),
        [a, "+", b] => match (number(a), number(b)) {
            (_, Some(n)) => Some(name(a)?.shifted(n)),
            (Some(n), _) => Some(name(b)?.shifted(n)),
            _ => None,
        },
        [a, "-", b] => Some(name(a)?.shifted(-number(b)?)),
        _ => None,
    }
}

fn number(word: &str) -> Option<i64> {
    word.trim_end_matches("usize").parse::<i64>().ok()
}
