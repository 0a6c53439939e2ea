use jacobian::jacobian;

#[jacobian]
fn f(x: f64) {
    let _ = x * x;
}

fn main() {}
