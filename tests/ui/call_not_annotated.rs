use jacobian::jacobian;

fn square(t: f64) -> f64 {
    t * t
}

#[jacobian]
fn f(x: f64) -> f64 {
    square(x) + 1.0
}

fn main() {}
