use jacobian::jacobian;

struct Model {
    scale: f64,
}

impl Model {
    fn apply(&self, t: f64) -> f64 {
        self.scale * t
    }

    #[jacobian]
    fn f(&self, x: f64) -> f64 {
        self.apply(x)
    }
}

fn main() {}
