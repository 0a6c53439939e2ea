use jacobian::jacobian;

#[jacobian(wrt(x))]
fn g(x: f64, k: f64) -> f64 {
    k * x * x
}

#[jacobian]
fn f(x: f64, y: f64) -> f64 {
    g(x, y)
}

fn main() {}
