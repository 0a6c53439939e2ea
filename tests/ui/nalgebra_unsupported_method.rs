use jacobian::jacobian;
use nalgebra::{SVector, Vector2};

// A nalgebra method the macro cannot differentiate gets a spanned error that lists what it
// can.
#[jacobian]
fn head(x: SVector<f64, 3>) -> Vector2<f64> {
    x.fixed_rows::<2>(0).into()
}

fn main() {}
