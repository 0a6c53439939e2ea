//! Structs as differentiated parameters and results.

/// A struct whose fields are differentiated as one parameter or result: its components are
/// its fields' components, in field order (an array's in order, a matrix's row-major).
///
/// Derive it with `#[derive(Differentiable)]` (re-exported by the `jacobian` crate); a
/// `#[jacobian]` function then takes and returns the struct as it is, and the Jacobian's
/// columns (for a parameter) or rows (for a result) follow the fields. The derive also
/// gives the conversions to and from one column of components, for the linear algebra
/// around a Jacobian (a Newton step on a state, a covariance update). The `jacobian`
/// crate's guide has a chapter on it, with examples.
pub trait Differentiable: Sized {
    /// The scalar type of every component (`f64` or `f32`).
    type Scalar: crate::Scalar;
    /// The components as one column, `Vector<COMPONENTS, Scalar>`.
    type Components;
    /// The number of components: the columns a parameter of this type adds to a Jacobian,
    /// or the rows a result of this type gives it.
    const COMPONENTS: usize;
    /// The components, in field order.
    fn to_components(&self) -> Self::Components;
    /// The struct whose components these are (the inverse of
    /// [`to_components`](Differentiable::to_components)).
    fn from_components(components: &Self::Components) -> Self;
}
