use jacobian::jacobian;

#[jacobian]
fn f(x: f64) -> f64 {
    let Some(y) = Some(x * 2.0) else {
        return 0.0;
    };
    y
}

fn main() {}
