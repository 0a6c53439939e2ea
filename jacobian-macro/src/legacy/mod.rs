//! The first pipeline: lowering that writes primal and forward-mode tangent code at once,
//! as token text. It is being replaced stage by stage by the typed IR (see
//! `ARCHITECTURE.md`); until the new pipeline handles a function, this one does.

pub mod activity;
pub mod emit;
pub mod ir;
pub mod lower;
pub mod rules;
pub mod simplify;
pub mod tangent;
