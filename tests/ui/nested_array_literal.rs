use jacobian::jacobian;

#[jacobian]
fn f(x: f64, y: f64) -> f64 {
    let rows = [[x, y], [y, x]];
    rows[0][0] * rows[1][1] - rows[0][1] * rows[1][0]
}

fn main() {}
