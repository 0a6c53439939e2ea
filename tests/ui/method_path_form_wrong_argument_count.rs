use jacobian::jacobian;

#[jacobian]
fn f(x: f64) -> f64 {
    f64::powf(x)
}

fn main() {}
