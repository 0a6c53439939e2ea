//! The attribute's options together: `crate = …` pointing generated code at the runtime
//! crate directly, `name = …` with `value`, and `wrt` in any order.

use jacobian::jacobian;

/// Generated code names the runtime through `::jacobian_runtime` instead of the facade.
#[jacobian(crate = ::jacobian_runtime)]
fn through_runtime(x: [f64; 2]) -> f64 {
    x[0] * x[1].exp()
}

#[test]
fn crate_option_points_generated_code_at_another_path() {
    let j: jacobian_runtime::Matrix<1, 2> = through_runtime_jacobian([2.0, 0.0]);
    assert_eq!(j, jacobian_runtime::Matrix::from_rows([[1.0, 2.0]]));
}

/// `name` renames the Jacobian; `value` keeps the function's own name for the pair.
#[jacobian(value, name = gradient_of_energy, wrt(v, m))]
fn energy(m: f64, v: f64, g: f64) -> f64 {
    0.5 * m * v * v + m * g
}

#[test]
fn name_value_and_wrt_together() {
    // Columns in parameter order (m, then v), whatever order `wrt` lists them in.
    let j = gradient_of_energy(2.0, 3.0, 9.81);
    assert_eq!(j, jacobian::Matrix::from_rows([[0.5 * 9.0 + 9.81, 6.0]]));
    let (e, j2) = energy_value_and_jacobian(2.0, 3.0, 9.81);
    assert_eq!(e.to_bits(), energy(2.0, 3.0, 9.81).to_bits());
    assert_eq!(j2, j);
}
