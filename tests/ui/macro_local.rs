use jacobian::jacobian;

macro_rules! double {
    ($e:expr) => {
        2.0 * $e
    };
}

#[jacobian]
fn f(x: f64) -> f64 {
    let y = double!(x);
    y * x
}

fn main() {}
