use jacobian::jacobian;

#[jacobian]
fn f(x: [f64; 3]) -> f64 {
    x.iter().sum()
}

fn main() {}
