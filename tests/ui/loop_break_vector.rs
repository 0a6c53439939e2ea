use jacobian::{jacobian, Vector};

#[jacobian]
fn f(x: Vector<2>) -> Vector<2> {
    let y = loop {
        break x * 2.0;
    };
    y
}

fn main() {}
