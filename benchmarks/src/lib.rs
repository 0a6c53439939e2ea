//! The benchmark suite: a set of [`Case`]s, each a function and every way we know of to
//! get its derivative, measured in instructions per call under callgrind by the binary
//! (`cargo run --release -p jacobian-benchmarks -- report` writes `BENCHMARKS.md`).
//!
//! A case owns its inputs; a [`Variant`] is one way to compute (the function itself, the
//! `#[jacobian]` sibling, the best hand-written derivative, `num-dual`, central
//! differences). Before anything is measured, [`Case::check`] compares every variant with
//! the hand-written one, so the suite never measures code that computes something else.

pub mod cases;
pub mod differences;
pub mod duals;
pub mod random;

use std::fmt;
use std::hint::black_box;
use std::rc::Rc;

use jacobian::Matrix;

/// The ways a case is computed; the columns of `BENCHMARKS.md`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// The function itself, without derivatives: the unit of "derivative ÷ function".
    Function,
    /// The sibling `#[jacobian]` generates: `f_jacobian`, or `f_hessian` in a second-order
    /// case ([`Order::Second`]).
    Generated,
    /// The gradient of a scalar output by the `f_vjp` sibling seeded with `u = 1` (one
    /// reverse sweep where reverse mode takes the function, else Jᵀ·u from the forward
    /// Jacobian), as the same `1 × N` matrix as the other variants. Only first-order cases
    /// with a scalar output have it.
    Vjp,
    /// The best derivative an expert writes by hand: shared subexpressions, `sin_cos`,
    /// each row written once, structure exploited. For ADBench cases, ADBench's "Manual".
    HandWritten,
    /// Forward mode with `num-dual`'s vector dual numbers (static or dynamic size).
    NumDual,
    /// Central differences, `2n` evaluations of the function.
    CentralDifferences,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Function,
        Kind::Generated,
        Kind::Vjp,
        Kind::HandWritten,
        Kind::NumDual,
        Kind::CentralDifferences,
    ];

    /// The variants every case has; [`Kind::Vjp`] is the one some cases lack.
    pub const EVERY_CASE: [Kind; 5] =
        [Kind::Function, Kind::Generated, Kind::HandWritten, Kind::NumDual, Kind::CentralDifferences];

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Function => "function",
            Kind::Generated => "generated",
            Kind::Vjp => "generated_vjp",
            Kind::HandWritten => "hand_written",
            Kind::NumDual => "num_dual",
            Kind::CentralDifferences => "central_differences",
        }
    }

    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// How close this variant's derivative must be to the hand-written one, relative to
    /// the largest hand-written entry (see [`Case::check`]).
    fn tolerance(self, case: &Case) -> f64 {
        match self {
            Kind::CentralDifferences => case.differences_tolerance,
            _ => 1e-9,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A result flattened for comparison: scalars, arrays, nested arrays, `Matrix` (row-major),
/// `Vec`s and pairs of those.
pub trait Flat {
    fn flatten_into(&self, out: &mut Vec<f64>);

    fn flat(&self) -> Vec<f64> {
        let mut out = Vec::new();
        self.flatten_into(&mut out);
        out
    }
}

impl Flat for f64 {
    fn flatten_into(&self, out: &mut Vec<f64>) {
        out.push(*self);
    }
}

impl<T: Flat, const N: usize> Flat for [T; N] {
    fn flatten_into(&self, out: &mut Vec<f64>) {
        self.iter().for_each(|t| t.flatten_into(out));
    }
}

impl<T: Flat> Flat for Vec<T> {
    fn flatten_into(&self, out: &mut Vec<f64>) {
        self.iter().for_each(|t| t.flatten_into(out));
    }
}

impl<T: Flat> Flat for Box<T> {
    fn flatten_into(&self, out: &mut Vec<f64>) {
        (**self).flatten_into(out);
    }
}

impl<const R: usize, const C: usize> Flat for Matrix<R, C> {
    fn flatten_into(&self, out: &mut Vec<f64>) {
        self.as_rows().flatten_into(out);
    }
}

impl<A: Flat, B: Flat> Flat for (A, B) {
    fn flatten_into(&self, out: &mut Vec<f64>) {
        self.0.flatten_into(out);
        self.1.flatten_into(out);
    }
}

/// One way to compute a case: `run(k)` computes it `k` times on the case's inputs (read
/// through `black_box`, results kept with `black_box`, so nothing is hoisted or dropped);
/// `eval()` computes it once, flattened.
pub struct Variant {
    pub kind: Kind,
    pub run: Box<dyn Fn(u64)>,
    pub eval: Box<dyn Fn() -> Vec<f64>>,
}

/// Which derivative a case measures, and so which table of `BENCHMARKS.md` it is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// A Jacobian or a gradient.
    First,
    /// A dense Hessian (`f_hessian`).
    Second,
}

/// A goal the generated variant is held to: at most `factor` times the count of `of`.
#[derive(Clone, Copy, Debug)]
pub struct Target {
    pub of: Kind,
    pub factor: f64,
}

/// A function, its inputs, and every variant that computes it or its derivative.
pub struct Case {
    /// Command-line name: lowercase words joined by `_`, with the size (`dense_layer_16`).
    pub id: String,
    /// What it is, for the report (`dense layer tanh(W x + b)`).
    pub title: String,
    /// Its size (`n = m = 16`).
    pub size: String,
    /// The derivative measured (`Jacobian 16 × 16`, `gradient, 330 parameters`).
    pub derivative: String,
    /// Where the hand-written variant comes from, when not from us (`ADBench Manual`).
    pub note: String,
    /// Relative tolerance of central differences against the hand-written derivative.
    pub differences_tolerance: f64,
    /// First derivatives (the main tables) or second (the Hessian table).
    pub order: Order,
    /// The goal the report holds the generated variant to, if any.
    pub target: Option<Target>,
    pub variants: Vec<Variant>,
}

impl Case {
    pub fn new(id: &str, title: &str, size: &str, derivative: &str) -> Case {
        Case {
            id: id.to_owned(),
            title: title.to_owned(),
            size: size.to_owned(),
            derivative: derivative.to_owned(),
            note: String::new(),
            differences_tolerance: 1e-6,
            order: Order::First,
            target: None,
            variants: Vec::new(),
        }
    }

    /// Marks a case whose derivative is a Hessian: it goes in the report's own table.
    pub fn second_order(mut self) -> Case {
        self.order = Order::Second;
        self
    }

    /// Holds the generated variant to at most `factor` times the count of `of` (shown, met
    /// or not, in the report).
    pub fn target(mut self, of: Kind, factor: f64) -> Case {
        self.target = Some(Target { of, factor });
        self
    }

    pub fn note(mut self, note: &str) -> Case {
        self.note = note.to_owned();
        self
    }

    pub fn differences_tolerance(mut self, tolerance: f64) -> Case {
        self.differences_tolerance = tolerance;
        self
    }

    /// Adds a variant computing `f(&input)`. `input` is whatever the case's functions take
    /// (a tuple of parameters, a struct of data); it is built once, outside measurement.
    pub fn variant<I: 'static, O: Flat + 'static>(
        mut self,
        kind: Kind,
        input: I,
        f: impl Fn(&I) -> O + 'static,
    ) -> Case {
        assert!(self.variant_of(kind).is_none(), "{}: two {kind} variants", self.id);
        let shared = Rc::new((input, f));
        let for_eval = Rc::clone(&shared);
        self.variants.push(Variant {
            kind,
            run: Box::new(move |k| {
                let (input, f) = &*shared;
                for _ in 0..k {
                    // By reference: the result stays where the function wrote it.
                    let out = f(black_box(input));
                    black_box(&out);
                }
            }),
            eval: Box::new(move || {
                let (input, f) = &*for_eval;
                f(input).flat()
            }),
        });
        self
    }

    pub fn variant_of(&self, kind: Kind) -> Option<&Variant> {
        self.variants.iter().find(|v| v.kind == kind)
    }

    /// Compares every derivative variant with the hand-written one: entries may differ by
    /// at most the variant's tolerance times `1 + max |hand-written entry|` (rounding for
    /// the analytic variants, truncation and cancellation for central differences). Also
    /// refuses a hand-written derivative that is all zeros or not finite, which would make
    /// the comparison vacuous.
    pub fn check(&self) -> Result<(), String> {
        let hand = self
            .variant_of(Kind::HandWritten)
            .ok_or_else(|| format!("{}: no hand-written variant", self.id))?;
        self.variant_of(Kind::Function).ok_or_else(|| format!("{}: no function variant", self.id))?;
        let expected = (hand.eval)();
        let scale = expected.iter().fold(0.0_f64, |m, e| m.max(e.abs()));
        if !(scale > 0.0 && expected.iter().all(|e| e.is_finite())) {
            return Err(format!("{}: the hand-written derivative is zero or not finite", self.id));
        }
        for variant in &self.variants {
            if matches!(variant.kind, Kind::Function | Kind::HandWritten) {
                continue;
            }
            let got = (variant.eval)();
            if got.len() != expected.len() {
                return Err(format!(
                    "{}: {} has {} entries, the hand-written derivative {}",
                    self.id,
                    variant.kind,
                    got.len(),
                    expected.len()
                ));
            }
            let bound = variant.kind.tolerance(self) * (1.0 + scale);
            let worst = got
                .iter()
                .zip(&expected)
                .enumerate()
                .map(|(i, (g, e))| (i, (g - e).abs()))
                .fold((0, 0.0_f64), |w, d| if d.1 > w.1 || d.1.is_nan() { d } else { w });
            if worst.1.is_nan() || worst.1 > bound {
                let i = worst.0;
                return Err(format!(
                    "{}: {} differs from the hand-written derivative at entry {i}: {} vs {} (bound {bound:e})",
                    self.id, variant.kind, got[i], expected[i]
                ));
            }
        }
        Ok(())
    }
}
