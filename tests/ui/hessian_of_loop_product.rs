use jacobian::jacobian;

// A loop whose carried value is multiplied by a differentiated one needs each step's
// value in reverse; second order does not keep them yet.
#[jacobian(hessian)]
fn f(x: [f64; 3]) -> f64 {
    let mut p = 1.0;
    for i in 0..3 {
        p *= x[i];
    }
    p
}

fn main() {}
