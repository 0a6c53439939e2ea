use jacobian::{jacobian, Vector};

macro_rules! double {
    ($e:expr) => {
        2.0 * $e
    };
}

#[jacobian]
fn f(x: Vector<3>) -> Vector<3> {
    x.map(|t| double! { t })
}

fn main() {}
