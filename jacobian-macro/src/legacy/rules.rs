//! Owns the derivative rules: one line per primitive, the whole supported set visible at a
//! glance, as JAX's `defjvp` table. A rule receives the primal operands (receiver first)
//! and the primal answer, and returns the partial derivative with respect to each operand
//! (`None` where it is structurally zero). Where a derivative is undefined the rule takes
//! a one-sided convention, noted beside it.

use crate::legacy::ir::{Atom, Builder};
use quote::quote;

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

/// Partial derivatives of `ans = x.name(rest…)` with respect to each operand.
pub fn partials(name: &str, x: &[Atom], ans: &Atom, b: &mut Builder) -> Vec<Option<Atom>> {
    let one = b.lit(1.0);
    let a = &x[0];
    let only = |d: Atom| vec![Some(d)];
    match name {
        "sin" => only(b.method("cos", a, "cos", &[])),
        "cos" => {
            let s = b.method("sin", a, "sin", &[]);
            only(b.neg(&s))
        }
        "tan" => {
            let sq = b.mul(ans, ans);
            only(b.add(&one, &sq))
        }
        "asin" => only(inv_sqrt_one_minus_sq(a, b, false)),
        "acos" => only(inv_sqrt_one_minus_sq(a, b, true)),
        "atan" => {
            let sq = b.mul(a, a);
            let d = b.add(&one, &sq);
            only(b.div(&one, &d))
        }
        "sinh" => only(b.method("cosh", a, "cosh", &[])),
        "cosh" => only(b.method("sinh", a, "sinh", &[])),
        "tanh" => {
            let sq = b.mul(ans, ans);
            only(b.sub(&one, &sq))
        }
        "asinh" => {
            let sq = b.mul(a, a);
            let s = b.add(&sq, &one);
            let r = b.method("r", &s, "sqrt", &[]);
            only(b.div(&one, &r))
        }
        "acosh" => {
            let sq = b.mul(a, a);
            let s = b.sub(&sq, &one);
            let r = b.method("r", &s, "sqrt", &[]);
            only(b.div(&one, &r))
        }
        "atanh" => {
            let sq = b.mul(a, a);
            let s = b.sub(&one, &sq);
            only(b.div(&one, &s))
        }
        "exp" => only(ans.clone()),
        "exp2" => {
            let ln2 = consts(b, "LN_2");
            only(b.mul(ans, &ln2))
        }
        "exp_m1" => only(b.add(ans, &one)),
        "ln" => only(b.div(&one, a)),
        "ln_1p" => {
            let s = b.add(&one, a);
            only(b.div(&one, &s))
        }
        "log2" => {
            let ln2 = consts(b, "LN_2");
            let s = b.mul(a, &ln2);
            only(b.div(&one, &s))
        }
        "log10" => {
            let ln10 = consts(b, "LN_10");
            let s = b.mul(a, &ln10);
            only(b.div(&one, &s))
        }
        // log_b(a) = ln a / ln b.
        "log" => {
            let ln_base = b.method("ln_base", &x[1], "ln", &[]);
            let da_den = b.mul(a, &ln_base);
            let da = b.div(&one, &da_den);
            let db_den = b.mul(&x[1], &ln_base);
            let db = b.div(ans, &db_den);
            vec![Some(da), Some(b.neg(&db))]
        }
        // At 0 the derivative is +inf, as the one-sided limit from the right.
        "sqrt" => {
            let half = b.lit(0.5);
            only(b.div(&half, ans))
        }
        "cbrt" => {
            let sq = b.mul(ans, ans);
            let three = b.lit(3.0);
            let d = b.mul(&three, &sq);
            only(b.div(&one, &d))
        }
        "powi" => vec![Some(powi_derivative(a, &x[1], b)), None],
        // d/da a^p = p·a^(p−1); d/dp a^p = a^p·ln a, taken as 0 where a^p is 0 (a = 0, p > 0).
        "powf" => {
            let p = &x[1];
            let p1 = b.sub(p, &one);
            let pow = b.method("pow", a, "powf", &[&p1]);
            let da = b.mul(p, &pow);
            let ln = b.method("ln_a", a, "ln", &[]);
            let zero = b.lit(0.0);
            let dp = b.temp("dp", quote!(if #ans == #zero { #zero } else { #ans * #ln }), &[ans, &ln]);
            vec![Some(da), Some(dp)]
        }
        // a.atan2(c) = atan(a / c).
        "atan2" => {
            let c = &x[1];
            let aa = b.mul(a, a);
            let cc = b.mul(c, c);
            let r2 = b.add(&aa, &cc);
            let da = b.div(c, &r2);
            let dc_pos = b.div(a, &r2);
            vec![Some(da), Some(b.neg(&dc_pos))]
        }
        "hypot" => vec![Some(b.div(a, ans)), Some(b.div(&x[1], ans))],
        "recip" => {
            let sq = b.mul(ans, ans);
            only(b.neg(&sq))
        }
        "mul_add" => vec![Some(x[1].clone()), Some(a.clone()), Some(one)],
        // sign(a); at 0 the derivative of `abs` is that of +0.0's sign, i.e. +1 (or -1 for -0.0).
        "abs" => only(b.method("sign", a, "signum", &[])),
        // The derivative of the operand `min`/`max` returns (the first on a tie).
        "min" | "max" => {
            let zero = b.lit(0.0);
            let first = b.temp("pick", quote!(if #ans == #a { #one } else { #zero }), &[ans, a]);
            let second = b.sub(&one, &first);
            vec![Some(first), Some(second)]
        }
        // Piecewise constant: derivative 0 everywhere it exists.
        "signum" | "floor" | "ceil" | "round" | "trunc" => vec![None],
        "to_degrees" => {
            let f = b.lit(180.0_f64 / std::f64::consts::PI);
            only(f)
        }
        "to_radians" => {
            let f = b.lit(std::f64::consts::PI / 180.0);
            only(f)
        }
        _ => vec![None; x.len()],
    }
}

fn inv_sqrt_one_minus_sq(a: &Atom, b: &mut Builder, negative: bool) -> Atom {
    let one = b.lit(1.0);
    let sq = b.mul(a, a);
    let s = b.sub(&one, &sq);
    let r = b.method("r", &s, "sqrt", &[]);
    let numerator = b.lit(if negative { -1.0 } else { 1.0 });
    b.div(&numerator, &r)
}

/// n · a^(n−1), folding literal exponents: a^0 → 0, a^1 → 1, a^2 → 2a.
fn powi_derivative(a: &Atom, n: &Atom, b: &mut Builder) -> Atom {
    let literal = n.tokens.to_string().replace(' ', "").parse::<i32>().ok();
    match literal {
        Some(0) => b.lit(0.0),
        Some(1) => b.lit(1.0),
        Some(2) => {
            let two = b.lit(2.0);
            b.mul(&two, a)
        }
        Some(k) => {
            let m = proc_macro2::Literal::i32_unsuffixed(k - 1);
            let pow = b.temp("pow", quote!(#a.powi(#m)), &[a]);
            let coef = b.lit(f64::from(k));
            b.mul(&coef, &pow)
        }
        None => {
            let ty = b.scalar.tokens.clone();
            let cast = if b.scalar.generic {
                let krate = &b.krate;
                quote!(<#ty as #krate::Scalar>::from_i32(#n))
            } else {
                quote!(f64::from(#n) as #ty)
            };
            // n·a^(n−1), and 0 for n = 0 (where a^(n−1) may be infinite).
            let zero = b.lit(0.0);
            b.temp(
                "dpow",
                quote!(if #n == 0 { #zero } else { #cast * #a.powi(i32::saturating_sub(#n, 1)) }),
                &[a, n],
            )
        }
    }
}

fn consts(b: &mut Builder, name: &str) -> Atom {
    let value = match name {
        "LN_2" => std::f64::consts::LN_2,
        _ => std::f64::consts::LN_10,
    };
    b.lit(value)
}
