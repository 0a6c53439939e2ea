use jacobian::{jacobian, Differentiable};

// A struct that a macro defines is out of the attribute's sight: its parameter would not
// be differentiated, which is a compile error rather than a Jacobian without its columns.
macro_rules! state {
    () => {
        #[derive(Clone, Copy, Differentiable)]
        pub struct Hidden {
            pub a: f64,
        }
    };
}
state!();

#[jacobian]
fn f(x: f64, h: Hidden) -> f64 {
    x * h.a
}

fn main() {}
