use jacobian::jacobian;

#[jacobian(name = "grad_f")]
fn f(x: f64) -> f64 {
    x * x
}

fn main() {}
