use jacobian::jacobian;

#[jacobian]
fn f(x: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..(x as usize) {
        s += i as f64;
    }
    s
}

fn main() {}
