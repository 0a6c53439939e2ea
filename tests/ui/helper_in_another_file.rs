use jacobian::jacobian;

#[path = "elsewhere/plain_helpers.rs"]
mod plain_helpers;

// A helper in another file of the crate is found there: without `#[jacobian]` it has no
// derivative to chain through.
#[jacobian]
fn f(x: f64) -> f64 {
    plain_helpers::squash(x) * x
}

fn main() {}
