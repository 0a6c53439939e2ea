use jacobian::jacobian;

struct Model {
    calls: usize,
}

impl Model {
    #[jacobian]
    fn f(&mut self, x: f64) -> f64 {
        self.calls += 1;
        x * x
    }
}

fn main() {}
