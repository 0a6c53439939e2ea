use jacobian::jacobian;

#[jacobian]
fn f<const N: usize>(x: [f64; N], y: f64) -> f64 {
    let mut s = y;
    for i in 0..N {
        s += x[i];
    }
    s
}

fn main() {}
