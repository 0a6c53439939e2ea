use jacobian::jacobian;

#[jacobian]
fn cube(x: f64) -> f64 {
    let mut y = x;
    y *= x * x;
    y
}

// Second order goes through calls of annotated functions by writing their bodies out in
// place, which it does not do for a body that assigns to variables.
#[jacobian(hessian)]
fn f(x: f64, y: f64) -> f64 {
    cube(x) * y
}

fn main() {}
