use jacobian::jacobian;

#[jacobian]
fn f(x: f64) -> f64 {
    let mut y = 0.0;
    let r = &mut y;
    *r = x;
    y
}

fn main() {}
