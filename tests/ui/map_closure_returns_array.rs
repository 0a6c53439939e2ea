use jacobian::{jacobian, Vector};

#[jacobian]
fn f(x: Vector<3>) -> f64 {
    let y = x.map(|t| [t, t]);
    y[0][0]
}

fn main() {}
