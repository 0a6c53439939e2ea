use jacobian::jacobian;

// `loop` (like `while`) runs an unknown number of times: reverse mode would need a tape of
// unknown length, so second order, which is forward mode over reverse mode, refuses it
// (the Jacobian itself is computed, by forward mode).
#[jacobian(hessian)]
fn f(x: f64) -> f64 {
    let mut y = x;
    let r = loop {
        y = y * y.cos() + 1.0;
        if y > 10.0 {
            break y * x;
        }
    };
    r + x
}

fn main() {}
