use jacobian::jacobian;

struct Point {
    a: f64,
    b: f64,
}

#[jacobian]
fn f(x: f64, y: f64) -> f64 {
    let p = Point { a: x, b: y };
    p.a * p.b
}

fn main() {}
