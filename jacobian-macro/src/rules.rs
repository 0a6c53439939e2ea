//! Owns the derivative rules of the new pipeline: one line per primitive, as JAX's `defjvp`
//! table. A rule receives the primal operands (receiver first, as IR values) and the
//! primal answer (so that `exp`, `tanh`, `sqrt` reuse it), writes what it needs with the
//! folding builder, and returns the partial derivative with respect to each operand
//! (`None` where it is structurally zero). Forward mode scales tangents by these partials;
//! reverse mode will scale adjoints by the same ones. Where a derivative is undefined the
//! rule takes the one-sided convention noted beside it (README, "Conventions").

use quote::quote;

use crate::ir::build::Builder;
use crate::ir::{Code, Value};

/// Every differentiable method: name and number of operands including the receiver.
/// `powi`'s exponent is an integer and never differentiated.
pub const METHODS: &[(&str, usize)] = &[
    ("sin", 1),
    ("cos", 1),
    ("tan", 1),
    ("asin", 1),
    ("acos", 1),
    ("atan", 1),
    ("atan2", 2),
    ("sinh", 1),
    ("cosh", 1),
    ("tanh", 1),
    ("asinh", 1),
    ("acosh", 1),
    ("atanh", 1),
    ("exp", 1),
    ("exp2", 1),
    ("exp_m1", 1),
    ("ln", 1),
    ("ln_1p", 1),
    ("log", 2),
    ("log2", 1),
    ("log10", 1),
    ("sqrt", 1),
    ("cbrt", 1),
    ("powi", 2),
    ("powf", 2),
    ("hypot", 2),
    ("recip", 1),
    ("mul_add", 3),
    ("abs", 1),
    ("min", 2),
    ("max", 2),
    ("clamp", 3),
    ("signum", 1),
    ("floor", 1),
    ("ceil", 1),
    ("round", 1),
    ("trunc", 1),
    ("to_degrees", 1),
    ("to_radians", 1),
];

pub fn arity(name: &str) -> Option<usize> {
    METHODS.iter().find(|(n, _)| *n == name).map(|(_, a)| *a)
}

/// Operands that are integers, never differentiated.
pub fn is_integer_operand(name: &str, position: usize) -> bool {
    name == "powi" && position == 1
}

/// Partial derivatives of `ans = x[0].name(x[1..])` with respect to each operand.
// One arm per primitive, kept on one line where it fits, so the table reads at a glance.
#[rustfmt::skip]
pub fn partials(name: &str, x: &[Value], ans: Value, b: &mut Builder) -> Vec<Option<Value>> {
    let a = x[0];
    let one = b.lit(1.0);
    let only = |d: Value| vec![Some(d)];
    match name {
        "sin" => only(b.call("cos", vec![a])),
        "cos" => { let s = b.call("sin", vec![a]); only(b.neg(s)) }
        "tan" => { let sq = b.mul(ans, ans); only(b.add(one, sq)) }
        "asin" => { let r = sqrt_one_minus_square(a, b); only(b.div(one, r)) }
        "acos" => { let r = sqrt_one_minus_square(a, b); let d = b.div(one, r); only(b.neg(d)) }
        "atan" => { let sq = b.mul(a, a); let d = b.add(one, sq); only(b.div(one, d)) }
        "sinh" => only(b.call("cosh", vec![a])),
        "cosh" => only(b.call("sinh", vec![a])),
        "tanh" => { let sq = b.mul(ans, ans); only(b.sub(one, sq)) }
        "asinh" => { let sq = b.mul(a, a); let s = b.add(sq, one); let r = b.call("sqrt", vec![s]); only(b.div(one, r)) }
        "acosh" => { let sq = b.mul(a, a); let s = b.sub(sq, one); let r = b.call("sqrt", vec![s]); only(b.div(one, r)) }
        "atanh" => { let sq = b.mul(a, a); let s = b.sub(one, sq); only(b.div(one, s)) }
        "exp" => only(ans),
        "exp2" => { let ln2 = b.lit(std::f64::consts::LN_2); only(b.mul(ans, ln2)) }
        "exp_m1" => only(b.add(ans, one)),
        "ln" => only(b.div(one, a)),
        "ln_1p" => { let s = b.add(one, a); only(b.div(one, s)) }
        "log2" => { let ln2 = b.lit(std::f64::consts::LN_2); let s = b.mul(a, ln2); only(b.div(one, s)) }
        "log10" => { let ln10 = b.lit(std::f64::consts::LN_10); let s = b.mul(a, ln10); only(b.div(one, s)) }
        // log_c(a) = ln a / ln c.
        "log" => {
            let ln_c = b.call("ln", vec![x[1]]);
            let da = { let d = b.mul(a, ln_c); b.div(one, d) };
            let dc = { let d = b.mul(x[1], ln_c); let q = b.div(ans, d); b.neg(q) };
            vec![Some(da), Some(dc)]
        }
        // At 0: +inf, the one-sided limit from the right.
        "sqrt" => { let half = b.lit(0.5); only(b.div(half, ans)) }
        "cbrt" => { let sq = b.mul(ans, ans); let three = b.lit(3.0); let d = b.mul(three, sq); only(b.div(one, d)) }
        "powi" => vec![Some(powi_derivative(a, x[1], b)), None],
        // d/da a^p = p·a^(p−1); d/dp a^p = a^p·ln a, taken as 0 where a^p is 0.
        "powf" => {
            let p = x[1];
            let p1 = b.sub(p, one);
            let pow = b.call("powf", vec![a, p1]);
            let da = b.mul(p, pow);
            let ln = b.call("ln", vec![a]);
            let zero = b.lit(0.0);
            let at_zero = equal(ans, zero, b);
            let product = b.mul(ans, ln);
            vec![Some(da), Some(b.select(at_zero, zero, product))]
        }
        // a.atan2(c) = atan(a / c); NaN at the origin.
        "atan2" => {
            let c = x[1];
            let (aa, cc) = (b.mul(a, a), b.mul(c, c));
            let r2 = b.add(aa, cc);
            let da = b.div(c, r2);
            let dc = { let q = b.div(a, r2); b.neg(q) };
            vec![Some(da), Some(dc)]
        }
        "hypot" => vec![Some(b.div(a, ans)), Some(b.div(x[1], ans))],
        "recip" => { let sq = b.mul(ans, ans); only(b.neg(sq)) }
        "mul_add" => vec![Some(x[1]), Some(a), Some(one)],
        // sign(a): at 0, that of the zero's sign (+1 at +0.0, -1 at -0.0).
        "abs" => only(b.call("signum", vec![a])),
        // The derivative of the operand returned (the first on a tie).
        "min" | "max" => {
            let zero = b.lit(0.0);
            let first = equal(ans, a, b);
            let d_first = b.select(first, one, zero);
            vec![Some(d_first), Some(b.sub(one, d_first))]
        }
        // The derivative of what is returned: `x` inside the bounds (and on them), else
        // the bound.
        "clamp" => {
            let zero = b.lit(0.0);
            let inside = equal(ans, a, b);
            let d_x = b.select(inside, one, zero);
            let at_low = equal(ans, x[1], b);
            let d_low_if_outside = b.select(at_low, one, zero);
            let d_low = b.select(inside, zero, d_low_if_outside);
            let not_x = b.sub(one, d_x);
            let d_high = b.sub(not_x, d_low);
            vec![Some(d_x), Some(d_low), Some(d_high)]
        }
        // Piecewise constant: 0 wherever the derivative exists.
        "signum" | "floor" | "ceil" | "round" | "trunc" => vec![None],
        "to_degrees" => only(b.lit(180.0 / std::f64::consts::PI)),
        "to_radians" => only(b.lit(std::f64::consts::PI / 180.0)),
        _ => vec![None; x.len()],
    }
}

/// `sqrt(1 − a²)`.
fn sqrt_one_minus_square(a: Value, b: &mut Builder) -> Value {
    let one = b.lit(1.0);
    let sq = b.mul(a, a);
    let s = b.sub(one, sq);
    b.call("sqrt", vec![s])
}

/// The condition `p == q` on two scalars.
fn equal(p: Value, q: Value, b: &mut Builder) -> Value {
    let (h0, h1) = (Code::hole(0), Code::hole(1));
    b.code(quote!(#h0 == #h1), vec![p, q])
}

/// n · a^(n−1), folding literal exponents (a^0 → 0, a^1 → 1, a^2 → 2a); 0 for n = 0
/// whatever `a` (where a^(n−1) may be infinite), and no overflow of `n − 1`.
fn powi_derivative(a: Value, n: Value, b: &mut Builder) -> Value {
    let literal = b.code_of(n).and_then(|t| t.to_string().replace(' ', "").parse::<i32>().ok());
    match literal {
        Some(0) => b.lit(0.0),
        Some(1) => b.lit(1.0),
        Some(2) => {
            let two = b.lit(2.0);
            b.mul(two, a)
        }
        Some(k) => {
            let m = proc_macro2::Literal::i32_unsuffixed(k - 1);
            let exponent = b.code(quote!(#m), vec![]);
            let pow = b.call("powi", vec![a, exponent]);
            let coefficient = b.lit(f64::from(k));
            b.mul(coefficient, pow)
        }
        None => {
            let h0 = Code::hole(0);
            let exponent = b.code(quote!(i32::saturating_sub(#h0, 1)), vec![n]);
            let pow = b.call("powi", vec![a, exponent]);
            let factor = b.push1(crate::ir::Op::FromInt, vec![n], crate::ir::Type::Scalar);
            let derivative = b.mul(factor, pow);
            let zero = b.lit(0.0);
            let is_zero = b.code(quote!(#h0 == 0), vec![n]);
            b.select(is_zero, zero, derivative)
        }
    }
}

/// The partial derivative of component `i` of a call's value with respect to component `l`
/// of the argument whose Jacobian block is field `field` of `parts`, the tuple the callee's
/// hidden parts sibling returned (`Op::Chain`): the callee computed it.
pub fn chain_partial(parts: Value, field: usize, i: usize, l: usize, b: &mut Builder) -> Value {
    let h0 = crate::ir::Code::hole(0);
    let field = syn::Index::from(field);
    let (i, l) = (proc_macro2::Literal::usize_unsuffixed(i), proc_macro2::Literal::usize_unsuffixed(l));
    b.constant(quote::quote!(#h0.#field[(#i, #l)]), vec![parts], crate::ir::Type::Scalar)
}
