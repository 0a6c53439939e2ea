//! A module of `helper_in_another_file.rs`: a helper without the attribute.

pub fn squash(t: f64) -> f64 {
    t / (1.0 + t.abs())
}
