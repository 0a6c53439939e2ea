use jacobian::jacobian;

struct Spring {
    k: f64,
}

impl Spring {
    #[jacobian(check)]
    fn energy(&self, x: f64) -> f64 {
        0.5 * self.k * x * x
    }
}

fn main() {}
