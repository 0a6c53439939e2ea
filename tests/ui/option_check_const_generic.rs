use jacobian::jacobian;

#[jacobian(check)]
fn sum_of_squares<const N: usize>(x: [f64; N]) -> f64 {
    let mut s = 0.0;
    for v in x {
        s += v * v;
    }
    s
}

fn main() {}
