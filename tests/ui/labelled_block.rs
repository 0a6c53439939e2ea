use jacobian::jacobian;

#[jacobian]
fn f(x: f64) -> f64 {
    let y = 'done: {
        if x > 1.0 {
            break 'done x;
        }
        2.0 * x
    };
    y
}

fn main() {}
