use jacobian::jacobian;

#[jacobian]
fn f(x: f64) -> f64 {
    let a = x % 2.0;
    let b = x.sinn();
    a + b
}

fn main() {
    // The original function is still emitted: calling it adds no error.
    let _ = f(1.0);
}
