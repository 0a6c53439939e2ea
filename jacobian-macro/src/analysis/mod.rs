//! Analyses of the IR that transformations consult: which values carry derivatives.

pub mod activity;
