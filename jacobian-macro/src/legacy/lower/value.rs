//! Owns the lowering's view of a value: its primal operand and, for differentiated values,
//! its tangent, either known element by element at compile time or held in run-time rows.

use crate::legacy::ir::{Atom, Builder, Stmt};
use crate::legacy::tangent::{Basis, Coef, Index, Lin, Tangent, Term};
use crate::shape::Dim;
use proc_macro2::TokenStream;
use quote::quote;

#[derive(Clone, Debug)]
pub struct Scalar {
    pub primal: Atom,
    pub tangent: Tangent,
}

/// What kind of container an array-like value is, which decides how it is built and indexed.
#[derive(Clone, Debug)]
pub enum Container {
    Array,
    Vector,
    /// Rows and columns; components are numbered row-major.
    Matrix(Dim, Dim),
    /// The result of a call to another `#[jacobian]` function: a scalar (one row of
    /// derivatives) or an array, whichever the callee returns.
    Result,
}

/// The Jacobian of an array-like value with respect to one parameter, held at run time.
#[derive(Clone, Debug)]
pub enum Rows {
    Zero,
    /// The value is the parameter itself (of `len` components).
    Identity {
        len: Dim,
    },
    /// `diag(d)` for a run-time `[T; len]` (an elementwise function of the parameter).
    Diag {
        tokens: TokenStream,
    },
    /// A run-time `[[T; n_param]; len]`.
    Held {
        tokens: TokenStream,
        mutable: bool,
    },
}

#[derive(Clone, Debug)]
pub struct Array {
    pub primal: Atom,
    pub container: Container,
    pub len: Dim,
    /// Elements known at compile time (literal length), each with its own tangent.
    pub elems: Option<Vec<Scalar>>,
    /// Run-time Jacobian rows per parameter, used when `elems` is `None`.
    pub rows: Vec<Rows>,
}

impl Rows {
    /// The rows as a run-time `[[T; n]; len]` expression; `None` for zero.
    pub fn expr(&self, b: &mut Builder) -> Option<TokenStream> {
        match self {
            Rows::Zero => None,
            Rows::Identity { len } => {
                let identity = b.helper("identity_rows");
                let ty = &b.scalar.tokens;
                Some(quote!(#identity::<#ty, #len>()))
            }
            Rows::Diag { tokens } => {
                let diag = b.helper("diag_rows");
                Some(quote!(#diag(&#tokens)))
            }
            Rows::Held { tokens, .. } => Some(tokens.clone()),
        }
    }
}

/// What is known of a value that is not differentiated, to give it a shape if it later
/// becomes differentiated (`let mut s = 0.0;` then `s += x` in a loop).
#[derive(Clone, Debug)]
pub enum Hint {
    Float,
    Array(Container, Dim),
    Unknown,
    /// Stands in for a value whose lowering failed (already reported): operations on it
    /// report nothing more.
    Poison,
}

#[derive(Clone, Debug)]
pub enum Value {
    Scalar(Scalar),
    Array(Array),
    Tuple(Vec<Value>),
    /// Not differentiated: evaluated exactly as the user wrote it.
    Opaque {
        atom: Atom,
        hint: Hint,
    },
}

impl Value {
    pub fn is_poison(&self) -> bool {
        matches!(self, Value::Opaque { hint: Hint::Poison, .. })
    }

    pub fn is_active(&self) -> bool {
        match self {
            Value::Scalar(s) => !s.tangent.is_zero(),
            Value::Array(a) => a.is_active(),
            Value::Tuple(items) => items.iter().any(Value::is_active),
            Value::Opaque { .. } => false,
        }
    }

    pub fn primal(&self) -> TokenStream {
        match self {
            Value::Scalar(s) => s.primal.tokens.clone(),
            Value::Array(a) => a.primal.tokens.clone(),
            Value::Opaque { atom, .. } => atom.tokens.clone(),
            Value::Tuple(items) => {
                let items = items.iter().map(Value::primal);
                quote!((#(#items,)*))
            }
        }
    }

    pub fn describe(&self) -> &'static str {
        match self {
            Value::Scalar(_) => "a scalar",
            Value::Array(a) => match a.container {
                Container::Array => "an array",
                Container::Vector => "a vector",
                Container::Matrix(..) => "a matrix",
                Container::Result => "a function result",
            },
            Value::Tuple(_) => "a tuple",
            Value::Opaque { .. } => "a constant",
        }
    }
}

impl Array {
    pub fn is_active(&self) -> bool {
        match &self.elems {
            Some(elems) => elems.iter().any(|e| !e.tangent.is_zero()),
            None => self.rows.iter().any(|r| !matches!(r, Rows::Zero)),
        }
    }

    /// Flat component index of `a[i]` or `m[(i, j)]`.
    pub fn flat_index(&self, index: &[Index], krate: &TokenStream) -> Option<Index> {
        match (&self.container, index) {
            (Container::Matrix(_, cols), [Index::Lit(i), Index::Lit(j)]) if cols.lit().is_some() => {
                Some(Index::Lit(i * cols.lit().unwrap_or(0) + j))
            }
            (Container::Matrix(_, cols), [i, j]) => {
                let (i, j) = (i.tokens(), j.tokens());
                let cols = cols.value();
                Some(Index::Run(quote!(#i * #cols + #j)))
            }
            // A matrix returned by another function: its column count is known to rustc.
            (Container::Result, [i, j]) => {
                let (i, j) = (i.tokens(), j.tokens());
                let primal = &self.primal;
                Some(Index::Run(quote!(#i * #krate::__private::cols(&#primal) + #j)))
            }
            (Container::Array | Container::Vector | Container::Result, [i]) => Some(i.clone()),
            // A vector is a one-column matrix: `v[(i, 0)]`.
            (Container::Vector, [Index::Lit(i), Index::Lit(j)]) => Some(Index::Lit(i + j)),
            (Container::Vector, [i, j]) => {
                let (i, j) = (i.tokens(), j.tokens());
                Some(Index::Run(quote!(#i + #j)))
            }
            _ => None,
        }
    }

    /// The primal place of a component.
    pub fn primal_place(&self, index: &[Index]) -> TokenStream {
        let base = &self.primal.tokens;
        match index {
            [i] => {
                let i = i.tokens();
                quote!(#base[#i])
            }
            [i, j] => {
                let (i, j) = (i.tokens(), j.tokens());
                quote!(#base[(#i, #j)])
            }
            _ => base.clone(),
        }
    }

    /// The tangent of the component at `flat`, from run-time rows.
    pub fn component_tangent(&self, flat: &Index) -> Tangent {
        Tangent {
            blocks: self
                .rows
                .iter()
                .map(|rows| match rows {
                    Rows::Zero => Lin::default(),
                    Rows::Identity { .. } => Lin::unit(flat.clone()),
                    Rows::Diag { tokens } => {
                        let k = flat.tokens();
                        let coef = Atom::place(quote!(#tokens[#k]), false);
                        Lin { terms: vec![Term { basis: Basis::Unit(flat.clone()), coef: Coef::of(coef) }] }
                    }
                    Rows::Held { tokens, mutable } => {
                        let k = flat.tokens();
                        Lin::row(quote!(#tokens[#k]), *mutable)
                    }
                })
                .collect(),
        }
    }

    /// Moves compile-time elements into run-time rows (`[[T; n]; len]`), so the array can
    /// be indexed at run time or updated inside a loop.
    pub fn materialize(&mut self, block_lens: &[Dim], base: &str, b: &mut Builder) {
        let Some(elems) = self.elems.take() else { return };
        self.rows = block_lens
            .iter()
            .enumerate()
            .map(|(block, len)| {
                if elems.iter().all(|e| e.tangent.blocks[block].is_zero()) {
                    return Rows::Zero;
                }
                let rows: Vec<Atom> =
                    elems.iter().map(|e| e.tangent.blocks[block].materialize(len, b, "row")).collect();
                let name = b.fresh(base);
                b.push(Stmt::Temp { name: name.clone(), ty: None, expr: quote!([#(#rows),*]) });
                Rows::Held { tokens: quote!(#name), mutable: false }
            })
            .collect();
    }
}
