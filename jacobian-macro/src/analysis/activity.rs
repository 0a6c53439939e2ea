//! Activity: which differentiated parameters each value depends on ("varied" in AD
//! terms). A value that depends on none has no derivative and costs nothing; a loop-carried
//! value depends on what its initial value and every iteration's update depend on (a
//! fixpoint). Conditions and indices are never differentiated, so they carry no
//! dependence: the derivative is that of the path taken.

use std::collections::BTreeSet;

use crate::ir::{Block, Function, Op, Value};

/// For every value of a function, the set of differentiated parameter blocks (indices
/// into the signature's inputs) it depends on.
pub struct Activity {
    deps: Vec<BTreeSet<usize>>,
}

impl Activity {
    /// `inputs[k]` is the parameter value of block `k`.
    pub fn analyse(function: &Function, inputs: &[Value]) -> Activity {
        let mut activity = Activity { deps: vec![BTreeSet::new(); function.values.len()] };
        for (block, input) in inputs.iter().enumerate() {
            activity.deps[input.0 as usize].insert(block);
        }
        activity.block(&function.body);
        activity
    }

    /// As `analyse`, with the block of each input given (several inputs may share one).
    pub fn analyse_blocks(function: &Function, inputs: &[(Value, usize)]) -> Activity {
        let mut activity = Activity { deps: vec![BTreeSet::new(); function.values.len()] };
        for (input, block) in inputs {
            activity.deps[input.0 as usize].insert(*block);
        }
        activity.block(&function.body);
        activity
    }

    pub fn of(&self, value: Value) -> &BTreeSet<usize> {
        &self.deps[value.0 as usize]
    }

    pub fn is_active(&self, value: Value) -> bool {
        !self.of(value).is_empty()
    }

    fn join(&mut self, into: Value, from: Value) -> bool {
        if into == from {
            return false;
        }
        let extra: Vec<usize> = self.of(from).difference(self.of(into)).copied().collect();
        let grew = !extra.is_empty();
        self.deps[into.0 as usize].extend(extra);
        grew
    }

    fn block(&mut self, block: &Block) {
        for inst in &block.insts {
            match &inst.op {
                // Non-differentiated code and constants carry no derivative.
                Op::Literal(_) | Op::Constant(_) | Op::Code(_) => {}
                Op::If { then, otherwise } => {
                    self.block(then);
                    self.block(otherwise);
                    for (k, result) in inst.results.iter().enumerate() {
                        self.join(*result, then.yields[k]);
                        self.join(*result, otherwise.yields[k]);
                    }
                }
                Op::While { cond, body } => {
                    for (param, init) in cond.params.iter().zip(&inst.args) {
                        self.join(*param, *init);
                    }
                    // Each round can only add blocks, so this ends.
                    loop {
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
                Op::For { holes, body, .. } => {
                    let inits = &inst.args[*holes..];
                    for (param, init) in body.params.iter().zip(inits) {
                        self.join(*param, *init);
                    }
                    // Each round can only add blocks, so this ends.
                    loop {
                        self.block(body);
                        let mut grew = false;
                        for (param, next) in body.params.iter().zip(&body.yields) {
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
                // Everything else depends on its operands (indices are opaque: no blocks).
                _ => {
                    for result in &inst.results {
                        for arg in &inst.args {
                            self.join(*result, *arg);
                        }
                    }
                }
            }
        }
    }
}
