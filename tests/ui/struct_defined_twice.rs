use jacobian::jacobian;

#[path = "elsewhere/twin_a.rs"]
mod twin_a;
#[path = "elsewhere/twin_b.rs"]
mod twin_b;

use twin_a::Twin;

// Two structs of this name derive `Differentiable` in other files, and none in this one:
// the macro cannot tell which it is.
#[jacobian]
fn f(t: Twin, x: f64) -> f64 {
    t.v * x
}

fn main() {}
