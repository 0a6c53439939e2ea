use jacobian::Differentiable;

#[derive(Differentiable)]
struct Pair<T> {
    a: T,
    b: T,
}

fn main() {}
