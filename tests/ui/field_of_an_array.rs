use jacobian::jacobian;

#[jacobian]
fn f(x: [f64; 2]) -> f64 {
    x.y * 2.0
}

fn main() {}
