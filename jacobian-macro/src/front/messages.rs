//! The texts of the front end's longer diagnostics: what is not supported and what to
//! write instead. (Each has a UI test in `tests/ui`.)

use crate::ir::Type;
use crate::rules;

pub const REMAINDER: &str = "compute the remainder with `floor` or `trunc`, e.g. `a - b * (a / b).trunc()`";

/// A type as the user would name it in a sentence: "a scalar", "a vector of 3 components".
pub fn describe(ty: &Type) -> String {
    match ty {
        Type::Scalar => "a scalar".into(),
        Type::Array(elem, n) if **elem == Type::Scalar => format!("an array of {n} scalars"),
        Type::Array(elem, n) => format!("an array of {n} of {}", describe(elem)),
        Type::Vector(n) => format!("a vector of {n} components"),
        Type::Matrix(r, c) => format!("a {r}×{c} matrix"),
        Type::Tuple(items) => format!("a tuple of {} values", items.len()),
        Type::Opaque => "a value that is not differentiated".into(),
    }
}

/// `receiver.name(…)` where `name` is no float method of the rule table.
pub fn unknown_method(name: &str) -> String {
    format!(
        "`{name}` is not a differentiable method; supported methods are {}{}",
        rules::METHODS.iter().map(|(n, _)| format!("`{n}`")).collect::<Vec<_>>().join(", "),
        suggestion(name)
    )
}

/// A method of a differentiated vector or matrix that is not supported.
pub fn unknown_matrix_method(name: &str) -> String {
    // Views and swizzles (`fixed_rows`, `xy`, `rows`): the way to write a part.
    let part = if name.starts_with("fixed_")
        || name == "rows"
        || name == "columns"
        || name.chars().all(|c| "xyzw".contains(c))
    {
        "; for part of a vector, build it from components, e.g. `Vector::from([x[0], x[1]])` (with nalgebra, `Vector2::new(x.x, x.y)`)"
    } else {
        ""
    };
    format!(
        "the method `{name}` is not supported on a differentiated vector or matrix; supported are `transpose`, `dot`, `cross`, `norm_squared`, `norm`, `normalize`, `sum`, `map`, `component_mul`, `component_div`, indexing, and `+ - *`{part}"
    )
}

/// ` (did you mean `x`?)` for a near miss of a supported method.
fn suggestion(name: &str) -> String {
    let mut best: Option<(usize, &str)> = None;
    for (candidate, _) in rules::METHODS {
        let distance = edit_distance(name, candidate);
        if distance <= 2 && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    let extra = match name {
        "log1p" => Some("ln_1p"),
        "expm1" => Some("exp_m1"),
        "pow" => Some("powf"),
        "sin_cos" => Some("sin` and `cos"),
        "square" => Some("powi"),
        _ => None,
    };
    match extra.or(best.map(|(_, c)| c)) {
        Some(c) => format!(" (did you mean `{c}`?)"),
        None => String::new(),
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            let next = (row[j + 1] + 1).min(row[j] + 1).min(previous + cost);
            previous = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

pub const ITERATOR_CHAIN: &str = "this iterator chain over a differentiated array is not supported: chains may use `map`, `zip`, `enumerate`, `rev`, `skip`, `take`, `step_by`, `copied`, and end in `sum`, `product`, `fold` or a `for` loop; other adapters (`filter`, `collect`, `max_by`, …) are not, so write a loop over the indices";

pub const ARRAY_PATTERN: &str =
    "destructure an array with a pattern of one name per component, `let [a, b, c] = x;`";

pub const TUPLE_PATTERN: &str =
    "destructure a tuple with a pattern of one name per component, `let (a, b) = t;`";

pub const FIELD: &str = "this field is not supported on differentiated values: a differentiated function reads `.0` and `.1` of a pair an iterator yields, the coordinates `x`, `y`, `z`, `w` of a vector, and the fields of a struct that derives `Differentiable`";

pub const RETURN: &str =
    "`return;` without a value in a differentiated function; return the function's result, `return value;`";

pub const ASSIGNS_OUTSIDE: &str = "a closure that assigns to a variable outside it is not supported in a differentiated function; write a `for` loop that updates the variable";

/// An expression of a kind the front end does not take on differentiated values.
pub fn expression(e: &syn::Expr) -> String {
    use syn::Expr;
    match e {
        Expr::Async(_) => "`async` code is not supported in a differentiated function".into(),
        Expr::Unsafe(_) => "`unsafe` blocks are not supported in a differentiated function".into(),
        Expr::Try(_) => "the `?` operator is not supported in a differentiated function; handle the error before calling it".into(),
        Expr::Block(b) if b.label.is_some() => "a labelled block over differentiated values is not supported; use `loop { … break value; }`, or an `if`".into(),
        Expr::Macro(m) => {
            let name = m.mac.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
            format!("the macro `{name}!` produces a value that depends on a differentiated value, and `#[jacobian]` cannot see inside macros; write the expression out")
        }
        Expr::While(_) | Expr::ForLoop(_) => "a `for` or `while` loop has no value; use `loop { … break value; }`, or assign the value to a variable in the loop".into(),
        Expr::Reference(r) if r.mutability.is_some() => "`&mut` of a differentiated value is not supported; assign to the variable or its elements directly (`y = …`, `y[i] = …`)".into(),
        Expr::Struct(_) => "a struct of differentiated values is not supported here: a struct that derives `Differentiable` may be a parameter, the result or a local (see “Structs” in the README); otherwise keep the values in variables".into(),
        Expr::Closure(_) => "a closure is not supported as a value here; call it, or pass it to `map`, `fold` or another adapter".into(),
        _ => "this expression is not supported on differentiated values; see “What a body may contain” in the README".into(),
    }
}

/// `x as T` of a differentiated scalar, to another type than the function's scalar type.
pub fn cast(ty: &syn::Type, scalar: &proc_macro2::TokenStream) -> String {
    let ty = quote::ToTokens::to_token_stream(ty).to_string();
    if ty == "f32" || ty == "f64" {
        format!("a cast of a differentiated value to `{ty}` is not supported: a differentiated function computes in one scalar type (`{scalar}` here); compute in `{scalar}`, or make the function generic over its scalar type")
    } else {
        format!("a cast of a differentiated value to `{ty}` is not supported: an integer has no derivative, and cannot depend on a differentiated value; round with `floor`, `ceil`, `round` or `trunc`, which keep it a float")
    }
}

/// `let [a, b] = x;` where `x` is not an array of that many scalars.
pub fn array_pattern(ty: &Type) -> String {
    match ty {
        Type::Scalar => "cannot destructure a scalar with an array pattern".into(),
        ty => format!(
            "cannot destructure {} with this pattern; destructure an array with a pattern of one name per component, `let [a, b, c] = x;`",
            describe(ty)
        ),
    }
}

/// `a op b` of a vector or matrix that is not supported.
pub fn matrix_arithmetic(op: &crate::ir::Op, a: &Type, b: Option<&Type>) -> String {
    use crate::ir::Op;
    match (op, b) {
        (Op::Add | Op::Sub, Some(b)) if *a == Type::Scalar || *b == Type::Scalar => "adding a scalar to a vector or matrix is not supported (there is no broadcasting); add a vector of equal components, or use `.map(|t| t + c)`".into(),
        (Op::Add | Op::Sub, Some(b)) => format!("cannot add or subtract {} and {}: their sizes differ", describe(a), describe(b)),
        (Op::Div, Some(_)) => "this operator is not supported on vectors and matrices; use `component_div` for elementwise division".into(),
        (Op::Mul, Some(b)) => format!("cannot multiply {} by {}", describe(a), describe(b)),
        _ => "this operator is not supported on vectors and matrices".into(),
    }
}
