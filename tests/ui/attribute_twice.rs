use jacobian::jacobian;

// Two attributes would write every sibling twice.
#[jacobian(mode = forward)]
#[jacobian(mode = reverse, name = g_reverse)]
fn g(x: f64) -> f64 {
    x * x
}

fn main() {}
