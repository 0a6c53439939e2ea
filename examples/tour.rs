//! A tour of `#[jacobian]` through the worked examples of the texts the project grew from:
//! the Jacobian of f(x, y) = (x + y, xy), the shapes for R → Rᵐ and Rⁿ → R, and the
//! Jacobians that recur in neural networks. Run with `cargo run --example tour`.

use jacobian::{jacobian, Matrix, Vector};

/// f(x, y) = (x + y, xy).
#[jacobian]
fn f(x: f64, y: f64) -> [f64; 2] {
    [x + y, x * y]
}

/// ψ: R → R³, a helix: its Jacobian is a column.
#[jacobian]
fn helix(t: f64) -> [f64; 3] {
    [t.cos(), t.sin(), 0.5 * t]
}

/// ψ: R³ → R: its Jacobian is a row, whose transpose is the gradient.
#[jacobian]
fn potential(p: [f64; 3]) -> f64 {
    let r2 = p[0] * p[0] + p[1] * p[1] + p[2] * p[2];
    -1.0 / r2.sqrt()
}

/// W·x: the Jacobian is W.
#[jacobian(wrt(x))]
fn linear(w: &Matrix<2, 3>, x: Vector<3>) -> Vector<2> {
    w * x
}

/// ‖x‖²: the Jacobian is 2xᵀ.
#[jacobian]
fn squared_norm(x: Vector<3>) -> f64 {
    x.norm_squared()
}

/// tanh∘x: the Jacobian is diag(tanh′∘x).
#[jacobian]
fn elementwise(x: Vector<3>) -> Vector<3> {
    x.map(f64::tanh)
}

/// x ⊙ c: the Jacobian is diag(c).
#[jacobian(wrt(x))]
fn hadamard(x: Vector<3>, c: &Vector<3>) -> Vector<3> {
    x.component_mul(c)
}

/// x + c: the Jacobian is the identity.
#[jacobian(wrt(x))]
fn shift(x: Vector<3>, c: &Vector<3>) -> Vector<3> {
    x + c
}

/// g: R⁴ → R³, used below through the chain rule.
#[jacobian]
fn g(x: Vector<4>) -> Vector<3> {
    Vector::from([x[0] * x[1], x[2].sin() + x[3], x[3] * x[3] - x[0]])
}

/// A·g(x): the Jacobian is A·J_g.
#[jacobian(wrt(x))]
fn a_times_g(a: &Matrix<2, 3>, x: Vector<4>) -> Vector<2> {
    a * g(x)
}

/// A dense layer, tanh(W x + b), with its value and Jacobian in one call.
#[jacobian(wrt(x), value)]
fn layer(w: &Matrix<2, 3>, b: &Vector<2>, x: Vector<3>) -> Vector<2> {
    (w * x + b).map(f64::tanh)
}

fn section(title: &str) {
    println!("\n── {title} ──");
}

fn main() {
    section("f(x, y) = (x + y, xy) at (x, y) = (-1, 2)");
    let j = f_jacobian(-1.0, 2.0);
    println!("{j}");
    println!("determinant: {}  (area scales by 3, orientation flips)", j.determinant());

    section("R → R³: a column");
    println!("{}", helix_jacobian(0.0));

    section("R³ → R: a row; its transpose is the gradient");
    let row = potential_jacobian([1.0, 2.0, 2.0]);
    println!("Jacobian:\n{row:.6}\ngradient:\n{:.6}", row.transpose());

    let w = Matrix::from_rows([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    let x = Vector::from([0.5, -1.0, 2.0]);
    let c = Vector::from([2.0, -0.5, 3.25]);

    section("W·x: the Jacobian is W");
    println!("{}", linear_jacobian(&w, x));

    section("‖x‖²: the Jacobian is 2xᵀ, x = (0.5, -1, 2)");
    println!("{}", squared_norm_jacobian(x));

    section("tanh∘x: diag(1 − tanh²(x))");
    println!("{:.6}", elementwise_jacobian(x));

    section("x ⊙ c: diag(c)");
    println!("{}", hadamard_jacobian(x, &c));

    section("x + c: the identity");
    println!("{}", shift_jacobian(x, &c));

    section("A·g(x): A·J_g(x)");
    let a = Matrix::from_rows([[1.0, 0.0, -1.0], [2.0, 1.0, 0.5]]);
    let x4 = Vector::from([1.0, 2.0, 0.0, 3.0]);
    println!("A·J_g:\n{}", a_times_g_jacobian(&a, x4));
    println!("check, A times J_g:\n{}", a * g_jacobian(x4));

    section("a dense layer, value and Jacobian together");
    let b = Vector::from([0.1, -0.2]);
    let (y, j) = layer_value_and_jacobian(&w, &b, Vector::from([0.1, 0.2, -0.1]));
    println!("y =\n{y:.6}\nJ =\n{j:.6}");
}
