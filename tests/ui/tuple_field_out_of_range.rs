use jacobian::jacobian;

#[jacobian]
fn f(x: f64) -> f64 {
    let t = (x, 1.0);
    t.2
}

fn main() {}
