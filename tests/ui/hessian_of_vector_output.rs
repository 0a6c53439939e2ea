use jacobian::jacobian;

#[jacobian(hessian)]
fn f(x: f64, y: f64) -> [f64; 2] {
    [x * y, x + y]
}

fn main() {}
