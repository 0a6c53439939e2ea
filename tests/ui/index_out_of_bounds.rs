use jacobian::jacobian;

#[jacobian]
fn f(x: f64, y: f64) -> f64 {
    let a = [x, y];
    a[2]
}

fn main() {}
