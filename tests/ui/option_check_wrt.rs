use jacobian::jacobian;

#[jacobian(wrt(x), check)]
fn weighted(x: [f64; 2], w: [f64; 2]) -> f64 {
    w[0] * x[0] + w[1] * x[1] * x[1]
}

fn main() {}
