use jacobian::{jacobian, Vector};

fn scale(k: f64) -> impl Fn(f64) -> f64 {
    move |t| k * t
}

#[jacobian]
fn f(x: Vector<3>) -> Vector<3> {
    x.map(scale(2.0))
}

fn main() {}
