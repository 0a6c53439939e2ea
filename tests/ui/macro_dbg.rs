use jacobian::jacobian;

#[jacobian]
fn f(x: f64) -> f64 {
    let y = dbg!(x * 2.0);
    y * x
}

fn main() {}
