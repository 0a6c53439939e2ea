use jacobian::jacobian;

#[jacobian(hessian, hvp, hessian)]
fn f(x: f64) -> f64 {
    x * x
}

fn main() {}
