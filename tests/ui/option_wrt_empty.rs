use jacobian::jacobian;

#[jacobian(wrt())]
fn f(x: f64) -> f64 {
    x * x
}

fn main() {}
