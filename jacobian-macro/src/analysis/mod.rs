//! Analyses of the IR that transformations consult: which values carry derivatives
//! (`activity`), which Jacobian blocks are banded (`band`), and what a function costs to run
//! (`cost`, which picks the mode).

pub mod activity;
pub mod band;
pub mod cost;
