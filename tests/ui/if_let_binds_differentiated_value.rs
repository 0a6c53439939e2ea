use jacobian::jacobian;

#[jacobian]
fn f(x: [f64; 2]) -> f64 {
    let mut s = 0.0;
    if let Some(a) = Some(x[0]) {
        s += a * x[1];
    }
    s
}

fn main() {}
