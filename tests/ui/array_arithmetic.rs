use jacobian::jacobian;

#[jacobian]
fn f(x: [f64; 3], y: [f64; 3]) -> [f64; 3] {
    x + y
}

fn main() {}
