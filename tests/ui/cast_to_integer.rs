use jacobian::jacobian;

#[jacobian]
fn f(x: f64) -> f64 {
    let n = x as i32;
    x * f64::from(n)
}

fn main() {}
