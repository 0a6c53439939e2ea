//! Owns exact symmetry of Hessians by construction. Forward mode over the reverse sweep
//! writes the Hessian as a zero matrix (or a literal) and a sequence of entry updates
//! `H[r][c] += v` (or `= v`); the two updates of a symmetric pair come from different
//! expressions and may differ in the last bit. Where the position of every update relative
//! to the diagonal is known at compile time (literal indices, or indices such as `i` and
//! `i + 1` of one loop variable), this pass keeps the updates on and above the diagonal,
//! writes each one above also to its mirror position below, and drops the updates below
//! (whose computations dead-code removal then deletes): each symmetric pair is computed
//! once, the result is the upper triangle mirrored, bit for bit, and no pass over the
//! whole matrix is needed. Updates that already come as a transposed pair of one value
//! (`H[i][j] += v; H[j][i] += v`) are symmetric as they are. Anything else (whole rows of
//! derivatives, indices whose order is known only at run time) leaves the function
//! unchanged, and the caller mirrors the matrix instead.

use crate::analysis::band::{indices, Index};
use crate::ir::{Block, Function, Inst, Op, Path, Position, Type, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Rewrites the Hessian that `function` yields (alone, or last in a tuple) to be symmetric
/// by construction; `false`, with the function unchanged, where it cannot.
pub fn symmetrise(function: &mut Function) -> bool {
    let Some(&result) = function.body.yields.first() else { return false };
    let indices = indices(function);
    let hessian = match defining(&function.body, result).map(|inst| (&inst.op, &inst.args)) {
        Some((Op::Tuple, args)) => match args.last() {
            Some(&last) => last,
            None => return false,
        },
        _ => result,
    };
    let analysis = Analysis { indices: &indices, f: function };
    let mut plan = Vec::new();
    if !analysis.trace(&function.body, &mut vec![], BTreeSet::from([hessian]), &mut plan) {
        return false;
    }
    // Apply from the last address to the first, so that inserting or removing an
    // instruction never moves one still to be rewritten.
    plan.sort_by(|a, b| b.0.cmp(&a.0));
    for (address, change) in plan {
        apply(function, &address, change);
    }
    true
}

/// What to do with one update.
#[derive(Clone, Debug)]
enum Change {
    /// On the diagonal, or half of a transposed pair: keep.
    Keep,
    /// Above the diagonal: also write the mirror position.
    Mirror,
    /// Below the diagonal: drop.
    Drop,
    /// A literal `n × n` matrix: copy each entry above the diagonal below it.
    Literal(usize),
}

struct Analysis<'a> {
    /// What each index value is: a constant, or a loop variable or constant plus a literal
    /// (`analysis::band`).
    indices: &'a BTreeMap<Value, Index>,
    f: &'a Function,
}

impl Analysis<'_> {
    /// Follows the values in `tracked` (versions of the Hessian) back through `block`,
    /// adding each update to `plan`; `false` where something else makes them.
    fn trace(
        &self,
        block: &Block,
        address: &mut Vec<usize>,
        mut tracked: BTreeSet<Value>,
        plan: &mut Vec<(Vec<usize>, Change)>,
    ) -> bool {
        for (k, inst) in block.insts.iter().enumerate().rev() {
            let mine: Vec<usize> =
                (0..inst.results.len()).filter(|r| tracked.contains(&inst.results[*r])).collect();
            if mine.is_empty() {
                continue;
            }
            address.push(k);
            let ok = match &inst.op {
                Op::Convert => {
                    tracked.insert(inst.args[0]);
                    true
                }
                Op::Accumulate(path) | Op::Set(path) => match self.classify(block, k, path) {
                    Some(change) => {
                        plan.push((address.clone(), change));
                        tracked.insert(inst.args[0]);
                        true
                    }
                    None => false,
                },
                // One diagonal of a banded block: on, above or below the diagonal as a whole.
                Op::AddBand { offset, shift, transposed: false, .. } => match offset.lit() {
                    Some(column) => {
                        let side = column as i64 + shift;
                        let change = match side.cmp(&0) {
                            std::cmp::Ordering::Equal => Change::Keep,
                            // (Mirrored only in a matrix: `add_band_transposed`.)
                            std::cmp::Ordering::Greater
                                if matches!(self.f.ty(inst.results[0]), Type::Matrix(..)) =>
                            {
                                Change::Mirror
                            }
                            std::cmp::Ordering::Greater => return false,
                            std::cmp::Ordering::Less => Change::Drop,
                        };
                        plan.push((address.clone(), change));
                        tracked.insert(inst.args[0]);
                        true
                    }
                    None => false,
                },
                Op::Splat => true,

                Op::Build => match self.f.ty(inst.results[0]) {
                    Type::Matrix(r, c) if r == c && r.lit().is_some_and(|n| n * n == inst.args.len()) => {
                        plan.push((address.clone(), Change::Literal(r.lit().unwrap_or(0))));
                        true
                    }
                    _ => false,
                },
                Op::For { holes, body, .. } => mine.iter().all(|&r| {
                    tracked.insert(inst.args[holes + r]);
                    address.push(0);
                    let ok = self.trace(body, address, BTreeSet::from([body.yields[r]]), plan);
                    address.pop();
                    ok
                }),
                Op::If { then, otherwise } => mine.iter().all(|&r| {
                    [then, otherwise].into_iter().enumerate().all(|(b, arm)| {
                        address.push(b);
                        let ok = self.trace(arm, address, BTreeSet::from([arm.yields[r]]), plan);
                        address.pop();
                        ok
                    })
                }),
                _ => false,
            };
            address.pop();
            if !ok {
                return false;
            }
            for r in mine {
                tracked.remove(&inst.results[r]);
            }
        }
        // What is left must come from outside: the loop's carried parameters.
        tracked.iter().all(|v| block.params.contains(v))
    }

    /// Where the update `block.insts[k]` writes, relative to the diagonal.
    fn classify(&self, block: &Block, k: usize, path: &Path) -> Option<Change> {
        let inst = &block.insts[k];
        let (r, c) = self.position(inst, path)?;
        if r == c {
            return Some(Change::Keep);
        }
        // Half of a transposed pair of one value, `H[r][c] op v; H[c][r] op v`.
        let partner = |other: &Inst, first: bool| {
            let (a, b) = if first { (inst, other) } else { (other, inst) };
            std::mem::discriminant(&a.op) == std::mem::discriminant(&b.op)
                && b.args[0] == a.results[0]
                && a.args[1] == b.args[1]
                && matches!(&other.op, Op::Accumulate(p) | Op::Set(p)
                    if self.position(other, p).is_some_and(|q| q == (c.clone(), r.clone())))
        };
        if block.insts.get(k + 1).is_some_and(|next| partner(next, true))
            || k.checked_sub(1).is_some_and(|before| partner(&block.insts[before], false))
        {
            return Some(Change::Keep);
        }
        Some(if c.minus(&r)? > 0 { Change::Mirror } else { Change::Drop })
    }

    /// The row and column an update writes, when both are known as indices.
    fn position(&self, inst: &Inst, path: &Path) -> Option<(Index, Index)> {
        let [first, second] = path.0.as_slice() else { return None };
        let mut dynamic = inst.args[2..].iter();
        let mut index = |p: &Position| match p {
            Position::Const(k) => Some(Index::Const(*k as i64)),
            Position::Dynamic => self.indices.get(dynamic.next()?).cloned(),
        };
        Some((index(first)?, index(second)?))
    }
}

/// The instruction of `block` (not nested) that defines `value`.
fn defining(block: &Block, value: Value) -> Option<&Inst> {
    block.insts.iter().find(|inst| inst.results.contains(&value))
}

/// The block an address leads to (instruction, block, instruction, block, …) and the
/// instruction's index in it.
fn locate<'a>(mut block: &'a mut Block, address: &[usize]) -> (&'a mut Block, usize) {
    let (last, rest) = address.split_last().expect("an address");
    for pair in rest.chunks(2) {
        let inst = &mut block.insts[pair[0]];
        block = inst.blocks_mut().into_iter().nth(pair[1]).expect("a block on the address");
    }
    (block, *last)
}

fn apply(function: &mut Function, address: &[usize], change: Change) {
    let mut body = std::mem::take(&mut function.body);
    let (block, k) = locate(&mut body, address);
    match change {
        Change::Keep => {}
        Change::Literal(n) => {
            let args = &mut block.insts[k].args;
            for r in 0..n {
                for c in r + 1..n {
                    args[c * n + r] = args[r * n + c];
                }
            }
        }
        Change::Mirror if matches!(block.insts[k].op, Op::AddBand { .. }) => {
            let inst = &block.insts[k];
            let result = inst.results[0];
            let above = function.value(function.ty(result).clone(), None);
            let Op::AddBand { offset, width, shift, .. } = inst.op.clone() else { unreachable!("a band") };
            let mirror = Inst {
                op: Op::AddBand { offset, width, shift, transposed: true },
                args: vec![above, inst.args[1]],
                results: vec![result],
                span: inst.span,
            };
            block.insts[k].results[0] = above;
            block.insts.insert(k + 1, mirror);
        }
        Change::Mirror => {
            let inst = &block.insts[k];
            let result = inst.results[0];
            let above = function.value(function.ty(result).clone(), None);
            let (Op::Accumulate(path) | Op::Set(path)) = &inst.op else { unreachable!("an update") };
            // The mirror: positions swapped, their run-time indices with them.
            let mut dynamic = inst.args[2..].iter().copied();
            let indices: Vec<Option<Value>> = path
                .0
                .iter()
                .map(|p| matches!(p, Position::Dynamic).then(|| dynamic.next()).flatten())
                .collect();
            let swapped = Path(vec![path.0[1].clone(), path.0[0].clone()]);
            let mut args = vec![above, inst.args[1]];
            args.extend([indices[1], indices[0]].into_iter().flatten());
            let op = match &inst.op {
                Op::Set(_) => Op::Set(swapped),
                _ => Op::Accumulate(swapped),
            };
            let mirror = Inst { op, args, results: vec![result], span: inst.span };
            block.insts[k].results[0] = above;
            block.insts.insert(k + 1, mirror);
        }
        Change::Drop => {
            let inst = block.insts.remove(k);
            let (before, after) = (inst.args[0], inst.results[0]);
            function.body = body;
            replace(&mut function.body, after, before);
            return;
        }
    }
    function.body = body;
}

/// Replaces every use of `from` by `to`.
fn replace(block: &mut Block, from: Value, to: Value) {
    for inst in &mut block.insts {
        for arg in &mut inst.args {
            if *arg == from {
                *arg = to;
            }
        }
        for inner in inst.blocks_mut() {
            replace(inner, from, to);
        }
    }
    for value in &mut block.yields {
        if *value == from {
            *value = to;
        }
    }
}
