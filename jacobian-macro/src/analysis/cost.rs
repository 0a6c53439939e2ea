//! A static estimate of what an IR function costs to run, used to choose between forward
//! and reverse mode for a scalar output: both are built and the cheaper is emitted.
//!
//! The unit is roughly one machine instruction, calibrated on the benchmark suite's
//! logistic regression (reverse mode wins) and Rosenbrock chain (forward mode wins). A float
//! method counts as many (its libm call); an operation on a row of derivatives counts a few
//! per component; a loop counts its
//! body times its trip count when the range is written with literal bounds, and
//! `UNKNOWN_TRIPS` times otherwise (both candidates are weighed alike, so only the ratio
//! matters); a branch counts the mean of its arms.

use crate::ir::{Block, Function, Op, Type};

/// Trips assumed for a loop whose bounds are not literals.
const UNKNOWN_TRIPS: f64 = 16.0;
/// Components assumed for an aggregate of symbolic size.
const UNKNOWN_LENGTH: f64 = 16.0;
/// A call of a float method (`sin`, `exp`, `ln`…).
const METHOD: f64 = 20.0;

pub fn estimate(function: &Function) -> f64 {
    block(function, &function.body)
}

/// Whether forward mode works on whole rows of derivatives (`Axpy`, `Scale`, `AddRow`,
/// `AddBlock`) inside a loop: then its cost per iteration grows with the
/// number of inputs, where reverse mode's does not.
pub fn rows_in_loops(function: &Function) -> bool {
    fn any(block: &Block, in_loop: bool) -> bool {
        block.insts.iter().any(|inst| {
            let row = matches!(inst.op, Op::Axpy(_) | Op::AddRow { .. } | Op::Scale | Op::AddBlock { .. });
            let looping = in_loop || matches!(inst.op, Op::For { .. } | Op::While { .. });
            (row && in_loop) || inst.blocks().into_iter().any(|b| any(b, looping))
        })
    }
    any(&function.body, false)
}

/// Whether reverse mode should compute a scalar output's gradient rather than forward
/// mode, from both candidates: when forward mode works on dense rows inside loops (the
/// logistic regression: a row of 100 per data point; reverse mode runs 1.6 times faster),
/// or when the static estimate of reverse mode is clearly lower (straight-line code whose
/// forward tangents keep many terms). Where forward mode's tangents stay compile-time
/// sparse in loops (the Rosenbrock chain: two unit columns a term), forward mode keeps the
/// function: the estimates are close there, and its loops vectorise better.
pub fn prefer_reverse(forward: &Function, reverse: &Function) -> bool {
    rows_in_loops(forward) || estimate(reverse) < 0.8 * estimate(forward)
}

fn length(ty: &Type) -> f64 {
    ty.components().and_then(|n| n.lit()).map_or(UNKNOWN_LENGTH, |n| n as f64)
}

fn block(function: &Function, block_: &Block) -> f64 {
    let mut total = 0.0;
    for inst in &block_.insts {
        let result_length = inst.results.first().map_or(1.0, |r| length(function.ty(*r)));
        let cost = match &inst.op {
            // Loop variables and indices are registers.
            Op::Literal(_) | Op::Tuple | Op::FromInt | Op::Code(_) => 0.0,
            Op::Constant(_) => result_length,
            Op::Neg | Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Select | Op::Get(_) | Op::Set(_) => 1.0,
            // A load, an add and a store.
            Op::Accumulate(_) => 2.0,
            Op::Call(_) => METHOD,
            // (The callee's work is in the parts call, `Code`, the same in both modes.)
            Op::Chain { .. } => result_length,
            Op::SinCos => 1.5 * METHOD,
            Op::Build => inst.args.len() as f64,
            Op::Splat => result_length,
            Op::Convert => result_length / 2.0,
            // Rows of derivatives: a load, a multiply, an add and a store per component.
            Op::Axpy(_) | Op::AddRow { .. } => 3.0 * length(function.ty(inst.args[2])),
            Op::Scale => 2.0 * length(function.ty(inst.args[1])),
            Op::AddBlock { .. } => 2.0 * length(function.ty(inst.args[1])),
            Op::AddBand { .. } => 3.0 * length(function.ty(inst.args[1])),
            Op::If { then, otherwise } => 1.0 + (block(function, then) + block(function, otherwise)) / 2.0,
            Op::For { range, body, .. } => trips(&range.tokens) * (1.0 + block(function, body)),
            Op::While { cond, body } => UNKNOWN_TRIPS * (block(function, cond) + block(function, body)),
        };
        total += cost;
    }
    total
}

/// The trip count of `a..b` or `a..=b` with literal bounds.
fn trips(range: &proc_macro2::TokenStream) -> f64 {
    let Ok(syn::Expr::Range(range)) = syn::parse2::<syn::Expr>(range.clone()) else { return UNKNOWN_TRIPS };
    let literal = |e: &Option<Box<syn::Expr>>| match e.as_deref() {
        Some(syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(i), .. })) => i.base10_parse::<u64>().ok(),
        _ => None,
    };
    match (literal(&range.start), literal(&range.end)) {
        (Some(a), Some(b)) => {
            let inclusive = matches!(range.limits, syn::RangeLimits::Closed(_));
            (b + u64::from(inclusive)).saturating_sub(a) as f64
        }
        _ => UNKNOWN_TRIPS,
    }
}
