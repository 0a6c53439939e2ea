use jacobian::jacobian;

#[jacobian(wrt(x))]
fn g(x: f64, p: (f64, f64)) -> f64 {
    p.0 * x + p.1
}

#[jacobian]
fn f(x: f64, y: f64) -> f64 {
    g(x, (y, 1.0))
}

fn main() {}
