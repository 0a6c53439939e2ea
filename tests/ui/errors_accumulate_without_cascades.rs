use jacobian::jacobian;

/// Two problems, each reported once: not again at the later uses of `a` and `b`, which
/// they leave undefined.
#[jacobian]
fn f(x: [f64; 2]) -> f64 {
    let a = x[0] % 2.0;
    let mut b = [0.0; 2];
    b[0] = x[0].sinn();
    let c = a * x[1] + b[0];
    c * x[1].cosh()
}

fn main() {}
