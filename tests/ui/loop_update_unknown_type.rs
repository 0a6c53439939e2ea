use jacobian::jacobian;

fn lowest() -> f64 {
    f64::NEG_INFINITY
}

#[jacobian]
fn f(x: [f64; 3]) -> f64 {
    let mut best = lowest();
    for i in 0..3 {
        if x[i] > best {
            best = x[i];
        }
    }
    best
}

fn main() {}
