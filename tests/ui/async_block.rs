use jacobian::jacobian;

#[jacobian]
fn f(x: f64) -> f64 {
    let _future = async { x * 2.0 };
    x
}

fn main() {}
