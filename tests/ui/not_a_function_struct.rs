use jacobian::jacobian;

#[jacobian]
struct Point {
    x: f64,
    y: f64,
}

fn main() {}
