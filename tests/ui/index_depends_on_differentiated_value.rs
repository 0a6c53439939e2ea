use jacobian::jacobian;

#[jacobian]
fn f(x: [f64; 3]) -> f64 {
    x[x[0] as usize]
}

fn main() {}
