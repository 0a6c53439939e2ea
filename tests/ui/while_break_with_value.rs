use jacobian::jacobian;

#[jacobian]
fn f(x: f64) -> f64 {
    let mut y = x;
    let z = while y < 10.0 {
        y *= 2.0;
        if y > 5.0 {
            break y;
        }
    };
    y
}

fn main() {}
