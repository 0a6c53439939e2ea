use jacobian::jacobian;

#[jacobian]
fn cube<const N: usize>(x: [f64; N]) -> f64 {
    let mut y = 1.0;
    for v in x {
        y *= v * v * v;
    }
    y
}

// Second order goes through calls of annotated functions by writing their bodies out in
// place, which it does not do for a generic function.
#[jacobian(hessian)]
fn f(x: f64, y: f64) -> f64 {
    cube([x, y]) * y
}

fn main() {}
