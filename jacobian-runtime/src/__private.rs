//! Helpers called only by code that `#[jacobian]` generates. Not public API.
