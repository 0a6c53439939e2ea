use jacobian::jacobian;

#[jacobian]
fn square(x: f64) -> f64 {
    x * x
}

// Second order does not go through calls of other annotated functions yet.
#[jacobian(hessian)]
fn f(x: f64, y: f64) -> f64 {
    square(x) * y
}

fn main() {}
