use jacobian::jacobian;

// A loop whose carried value is multiplied by a differentiated one needs each step's
// value in reverse: a tape on the stack, whose length must be known at compile time.
#[jacobian(hessian)]
fn f(x: [f64; 3], n: usize) -> f64 {
    let mut p = 1.0;
    for i in 0..n {
        p *= x[i % 3];
    }
    p
}

fn main() {}
