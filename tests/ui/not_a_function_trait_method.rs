use jacobian::jacobian;

trait Model {
    #[jacobian]
    fn f(&self, x: f64) -> f64;
}

fn main() {}
