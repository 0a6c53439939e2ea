//! Every case of the suite, in the order of `BENCHMARKS.md`. Each module holds one function
//! (or family of sizes): the annotated function, its hand-written derivative, its
//! `num-dual` twin, and `cases()` building the [`Case`]s with their inputs.

use crate::Case;

mod arm;
mod banded;
mod bundle_adjustment;
mod dense_layer;
mod gmm;
mod hessians;
mod logistic;
mod osborne;
mod reaction;
mod rosenbrock;
mod seed;
mod softmax;
mod sparse_banded;

/// All cases, in report order: Jacobians, then gradients, then ADBench, then Hessians (a
/// table of their own).
pub fn all() -> Vec<Case> {
    [
        seed::cases(),
        osborne::cases(),
        arm::cases(),
        dense_layer::cases(),
        banded::cases(),
        sparse_banded::cases(),
        reaction::cases(),
        rosenbrock::cases(),
        logistic::cases(),
        softmax::cases(),
        gmm::cases(),
        bundle_adjustment::cases(),
        hessians::cases(),
    ]
    .into_iter()
    .flatten()
    .collect()
}
