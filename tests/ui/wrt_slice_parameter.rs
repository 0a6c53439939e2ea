use jacobian::jacobian;

#[jacobian(wrt(x, data))]
fn f(x: f64, data: &[f64]) -> f64 {
    x * data[0]
}

fn main() {}
