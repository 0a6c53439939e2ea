use jacobian::jacobian;

fn zeros() -> [f64; 2] {
    [0.0; 2]
}

#[jacobian]
fn f(x: f64, y: f64) -> [f64; 2] {
    let mut a = zeros();
    a[0] = x * y;
    a[1] = x + y;
    a
}

fn main() {}
