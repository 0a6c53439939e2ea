//! Owns tangents: the derivative of one scalar with respect to each differentiated
//! parameter, as a sparse linear combination known at compile time. A term that is not
//! there is a structural zero and costs nothing; a coefficient of one is never multiplied.

use crate::legacy::ir::{Atom, Builder};
use crate::shape::Dim;
use proc_macro2::TokenStream;
use quote::{quote, ToTokens};

/// A column index within one parameter's block of columns.
#[derive(Clone, Debug)]
pub enum Index {
    Lit(usize),
    Run(TokenStream),
}

impl Index {
    pub fn tokens(&self) -> TokenStream {
        match self {
            Index::Lit(k) => crate::shape::unsuffixed(*k).into_token_stream(),
            Index::Run(t) => t.clone(),
        }
    }
}

/// A row of partial derivatives with respect to one parameter's components.
#[derive(Clone, Debug)]
pub enum Basis {
    /// The unit row `e_k`.
    Unit(Index),
    /// A run-time `[T; n]` row.
    Row { tokens: TokenStream, mutable: bool },
}

impl Basis {
    fn key(&self) -> String {
        match self {
            Basis::Unit(Index::Lit(k)) => format!("u{k}"),
            Basis::Unit(Index::Run(t)) => format!("r{t}"),
            Basis::Row { tokens, .. } => format!("w{tokens}"),
        }
    }
}

/// `±1` when `atom` is `None`, else `±atom`.
#[derive(Clone, Debug)]
pub struct Coef {
    pub atom: Option<Atom>,
    pub negative: bool,
}

impl Coef {
    pub const ONE: Coef = Coef { atom: None, negative: false };

    pub fn of(atom: Atom) -> Coef {
        if atom.is_literal(1.0) {
            Coef::ONE
        } else if atom.is_literal(-1.0) {
            Coef { atom: None, negative: true }
        } else {
            Coef { atom: Some(atom), negative: false }
        }
    }

    pub fn is_one(&self) -> bool {
        self.atom.is_none() && !self.negative
    }

    /// The coefficient as one operand.
    pub fn realize(&self, b: &mut Builder) -> Atom {
        match (&self.atom, self.negative) {
            (None, false) => b.lit(1.0),
            (None, true) => b.lit(-1.0),
            (Some(a), false) => a.clone(),
            (Some(a), true) => b.neg(a),
        }
    }

    fn times(&self, factor: &Atom, b: &mut Builder) -> Coef {
        match &self.atom {
            None => Coef { atom: Some(factor.clone()), negative: self.negative },
            Some(a) => {
                let product = b.mul(factor, a);
                Coef { atom: Some(product), negative: self.negative }
            }
        }
    }

    fn plus(&self, other: &Coef, b: &mut Builder) -> Option<Coef> {
        match (&self.atom, &other.atom) {
            (None, None) if self.negative != other.negative => None,
            (None, None) => Some(Coef::of(b.lit(if self.negative { -2.0 } else { 2.0 }))),
            _ => {
                let x = self.atom.clone().unwrap_or_else(|| b.lit(1.0));
                let y = other.atom.clone().unwrap_or_else(|| b.lit(1.0));
                let sum = match (self.negative, other.negative) {
                    (false, false) => b.add(&x, &y),
                    (false, true) => b.sub(&x, &y),
                    (true, false) => b.sub(&y, &x),
                    (true, true) => {
                        let s = b.add(&x, &y);
                        return Some(Coef { atom: Some(s), negative: true });
                    }
                };
                if sum.is_literal(0.0) {
                    None
                } else {
                    Some(Coef::of(sum))
                }
            }
        }
    }
}

#[derive(Clone, Debug)]
pub struct Term {
    pub basis: Basis,
    pub coef: Coef,
}

/// The derivative with respect to one parameter: `Σ coef · basis`. Empty is zero.
#[derive(Clone, Debug, Default)]
pub struct Lin {
    pub terms: Vec<Term>,
}

impl Lin {
    pub fn unit(index: Index) -> Lin {
        Lin { terms: vec![Term { basis: Basis::Unit(index), coef: Coef::ONE }] }
    }

    pub fn row(tokens: TokenStream, mutable: bool) -> Lin {
        Lin { terms: vec![Term { basis: Basis::Row { tokens, mutable }, coef: Coef::ONE }] }
    }

    pub fn is_zero(&self) -> bool {
        self.terms.is_empty()
    }

    /// Refers to something that can change later.
    pub fn is_volatile(&self) -> bool {
        self.terms.iter().any(|t| {
            matches!(t.basis, Basis::Row { mutable: true, .. })
                || t.coef.atom.as_ref().is_some_and(|a| a.mutable)
        })
    }

    pub fn scale(&self, factor: &Atom, b: &mut Builder) -> Lin {
        if factor.is_literal(0.0) {
            return Lin::default();
        }
        Lin {
            terms: self
                .terms
                .iter()
                .map(|t| Term { basis: t.basis.clone(), coef: t.coef.times(factor, b) })
                .collect(),
        }
    }

    pub fn neg(&self) -> Lin {
        Lin {
            terms: self
                .terms
                .iter()
                .map(|t| Term {
                    basis: t.basis.clone(),
                    coef: Coef { atom: t.coef.atom.clone(), negative: !t.coef.negative },
                })
                .collect(),
        }
    }

    pub fn add(&self, other: &Lin, b: &mut Builder) -> Lin {
        let mut terms = self.terms.clone();
        for term in &other.terms {
            let key = term.basis.key();
            match terms.iter().position(|t| t.basis.key() == key) {
                Some(at) => match terms[at].coef.plus(&term.coef, b) {
                    Some(coef) => terms[at].coef = coef,
                    None => {
                        terms.remove(at);
                    }
                },
                None => terms.push(term.clone()),
            }
        }
        Lin { terms }
    }

    /// A `[T; len]` row holding this derivative, as an operand.
    pub fn materialize(&self, len: &Dim, b: &mut Builder, base: &str) -> Atom {
        let zero = b.typed_zero();
        if let [Term { basis: Basis::Row { tokens, mutable }, coef }] = self.terms.as_slice() {
            if coef.is_one() && !*mutable {
                return Atom::place(tokens.clone(), false);
            }
            let c = coef.realize(b);
            let scaled = b.helper("scaled");
            return b.temp(base, quote!(#scaled(#c, &#tokens)), &[&c]);
        }
        if let Some(n) = len.lit() {
            if self.terms.iter().all(|t| matches!(t.basis, Basis::Unit(Index::Lit(_)))) {
                let mut entries: Vec<TokenStream> = vec![zero.clone(); n];
                for term in &self.terms {
                    if let Basis::Unit(Index::Lit(k)) = term.basis {
                        if k < n {
                            entries[k] = term.coef.realize(b).tokens;
                        }
                    }
                }
                let name = b.fresh(base);
                b.push(crate::legacy::ir::Stmt::Temp {
                    name: name.clone(),
                    ty: None,
                    expr: quote!([#(#entries),*]),
                });
                return Atom::name(&name);
            }
        }
        let name = b.fresh(base);
        b.code(quote!(let mut #name = [#zero; #len];));
        self.accumulate_into(&quote!(#name), b);
        Atom::name(&name)
    }

    /// `target += self`, where `target` is a run-time `[T; n]` place.
    pub fn accumulate_into(&self, target: &TokenStream, b: &mut Builder) {
        for term in &self.terms {
            match &term.basis {
                Basis::Unit(index) => {
                    let k = index.tokens();
                    let statement = match (&term.coef.atom, term.coef.negative) {
                        (None, false) => {
                            let one = b.lit(1.0);
                            quote!(#target[#k] += #one;)
                        }
                        (None, true) => {
                            let one = b.lit(1.0);
                            quote!(#target[#k] -= #one;)
                        }
                        (Some(c), false) => quote!(#target[#k] += #c;),
                        (Some(c), true) => quote!(#target[#k] -= #c;),
                    };
                    b.code(statement);
                }
                Basis::Row { tokens, .. } => {
                    let c = term.coef.realize(b);
                    let axpy = b.helper("axpy");
                    b.code(quote!(#axpy(&mut #target, #c, &#tokens);));
                }
            }
        }
    }

    /// Overwrites the run-time row `target` with `self`, updating in place when `self`
    /// is `c · target + rest`.
    pub fn store_into(&self, target: &TokenStream, len: &Dim, b: &mut Builder) {
        let key = Basis::Row { tokens: target.clone(), mutable: true }.key();
        let own = self.terms.iter().position(|t| t.basis.key() == key);
        let rest = Lin {
            terms: self
                .terms
                .iter()
                .enumerate()
                .filter(|(i, _)| Some(*i) != own)
                .map(|(_, t)| t.clone())
                .collect(),
        };
        match own {
            Some(at) => {
                let coef = &self.terms[at].coef;
                if !coef.is_one() {
                    let c = coef.realize(b);
                    let scale = b.helper("scale");
                    b.code(quote!(#scale(&mut #target, #c);));
                }
                rest.accumulate_into(target, b);
            }
            None => {
                if let [Term { basis: Basis::Row { tokens, .. }, coef }] = rest.terms.as_slice() {
                    if coef.is_one() {
                        b.code(quote!(#target = #tokens;));
                        return;
                    }
                }
                let zero = b.typed_zero();
                b.code(quote!(#target = [#zero; #len];));
                rest.accumulate_into(target, b);
            }
        }
    }
}

/// Derivatives of one scalar with respect to every differentiated parameter.
#[derive(Clone, Debug)]
pub struct Tangent {
    pub blocks: Vec<Lin>,
}

impl Tangent {
    pub fn zero(blocks: usize) -> Tangent {
        Tangent { blocks: vec![Lin::default(); blocks] }
    }

    pub fn is_zero(&self) -> bool {
        self.blocks.iter().all(Lin::is_zero)
    }

    pub fn scale(&self, factor: &Atom, b: &mut Builder) -> Tangent {
        Tangent { blocks: self.blocks.iter().map(|l| l.scale(factor, b)).collect() }
    }

    pub fn neg(&self) -> Tangent {
        Tangent { blocks: self.blocks.iter().map(Lin::neg).collect() }
    }

    pub fn add(&self, other: &Tangent, b: &mut Builder) -> Tangent {
        Tangent { blocks: self.blocks.iter().zip(&other.blocks).map(|(x, y)| x.add(y, b)).collect() }
    }

    pub fn sub(&self, other: &Tangent, b: &mut Builder) -> Tangent {
        self.add(&other.neg(), b)
    }

    /// `fa · self + fb · other`, skipping structurally zero sides.
    pub fn combine(&self, fa: &Atom, other: &Tangent, fb: &Atom, b: &mut Builder) -> Tangent {
        let left = self.scale(fa, b);
        let right = other.scale(fb, b);
        left.add(&right, b)
    }
}
