use jacobian::jacobian;

#[jacobian]
fn f(x: f64, calls: &mut usize) -> f64 {
    *calls += 1;
    x * x
}

fn main() {}
