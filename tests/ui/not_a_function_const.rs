use jacobian::jacobian;

#[jacobian]
const SCALE: f64 = 2.0;

fn main() {}
