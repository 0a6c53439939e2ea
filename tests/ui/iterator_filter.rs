use jacobian::jacobian;

// `filter` is not among the iterator adapters the macro differentiates: the message lists
// those it does and says to write a loop.
#[jacobian]
fn positive_sum(x: [f64; 4]) -> f64 {
    x.iter().filter(|v| **v > 0.0).sum()
}

fn main() {}
