use jacobian::jacobian;

#[jacobian]
fn f(x: f64) -> f64 {
    let y = x * 2.0;
}

fn main() {}
