use jacobian::jacobian;

#[jacobian]
fn f<const N: usize>(x: [f64; N]) -> [f64; N] {
    [x[0]; N]
}

fn main() {}
