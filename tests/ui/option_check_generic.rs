use jacobian::{jacobian, Real};

#[jacobian(check)]
fn f<T: Real>(x: T) -> T {
    x * x
}

fn main() {}
