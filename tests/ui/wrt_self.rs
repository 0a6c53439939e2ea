use jacobian::jacobian;

struct Model {
    scale: f64,
}

impl Model {
    #[jacobian(wrt(self, x))]
    fn f(&self, x: f64) -> f64 {
        self.scale * x
    }
}

fn main() {}
