use jacobian::jacobian;

#[jacobian]
fn f(x: f64) -> String {
    format!("{x}")
}

fn main() {}
