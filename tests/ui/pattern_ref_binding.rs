use jacobian::jacobian;

#[jacobian]
fn f(x: f64) -> f64 {
    let ref y = x * 2.0;
    *y
}

fn main() {}
