//! Owns shapes: what a differentiated value looks like (scalar, array, vector, matrix)
//! and its sizes, literal or symbolic (`const` items and const-generic parameters).

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};

/// A size: a literal known now, or an expression only the compiler can evaluate.
#[derive(Clone, Debug)]
pub enum Dim {
    Lit(usize),
    /// An expression of `const` items and const-generic parameters; `generic` is true when
    /// it names a const-generic parameter (then it cannot appear in a type-level sum).
    Sym {
        tokens: TokenStream,
        generic: bool,
    },
}

impl Dim {
    pub fn lit(&self) -> Option<usize> {
        match self {
            Dim::Lit(n) => Some(*n),
            Dim::Sym { .. } => None,
        }
    }

    pub fn is_generic(&self) -> bool {
        matches!(self, Dim::Sym { generic: true, .. })
    }

    /// As a value expression (`usize`), for indexing and loop bounds.
    pub fn value(&self) -> TokenStream {
        match self {
            Dim::Lit(n) => unsuffixed(*n).into_token_stream(),
            Dim::Sym { tokens, .. } => quote!((#tokens)),
        }
    }

    /// Form usable as a const-generic argument in a type.
    pub fn type_arg(&self) -> TokenStream {
        match self {
            Dim::Lit(n) => unsuffixed(*n).into_token_stream(),
            Dim::Sym { tokens, .. } => {
                if syn::parse2::<syn::Ident>(tokens.clone()).is_ok() {
                    tokens.clone()
                } else {
                    quote!({ #tokens })
                }
            }
        }
    }

    pub fn add(&self, other: &Dim) -> Dim {
        match (self, other) {
            (Dim::Lit(a), Dim::Lit(b)) => Dim::Lit(a + b),
            (Dim::Lit(0), d) | (d, Dim::Lit(0)) => d.clone(),
            _ => {
                Dim::Sym { tokens: quote!(#self + #other), generic: self.is_generic() || other.is_generic() }
            }
        }
    }

    pub fn mul(&self, other: &Dim) -> Dim {
        match (self, other) {
            (Dim::Lit(a), Dim::Lit(b)) => Dim::Lit(a * b),
            (Dim::Lit(1), d) | (d, Dim::Lit(1)) => d.clone(),
            _ => {
                Dim::Sym { tokens: quote!(#self * #other), generic: self.is_generic() || other.is_generic() }
            }
        }
    }
}

impl PartialEq for Dim {
    /// Literal sizes by value, symbolic ones by their tokens (`N` = `N`).
    fn eq(&self, other: &Dim) -> bool {
        match (self, other) {
            (Dim::Lit(a), Dim::Lit(b)) => a == b,
            (Dim::Sym { tokens: a, .. }, Dim::Sym { tokens: b, .. }) => a.to_string() == b.to_string(),
            _ => false,
        }
    }
}

impl ToTokens for Dim {
    fn to_tokens(&self, out: &mut TokenStream) {
        match self {
            Dim::Lit(n) => unsuffixed(*n).to_tokens(out),
            Dim::Sym { tokens, .. } => {
                if syn::parse2::<syn::Ident>(tokens.clone()).is_ok() {
                    tokens.to_tokens(out)
                } else {
                    out.extend(quote!((#tokens)))
                }
            }
        }
    }
}

impl std::fmt::Display for Dim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dim::Lit(n) => write!(f, "{n}"),
            Dim::Sym { tokens, .. } => write!(f, "{tokens}"),
        }
    }
}

/// The shape of a differentiable parameter or result. The scalar type is one per function.
#[derive(Clone, Debug)]
pub enum Shape {
    Scalar,
    /// `[T; N]`.
    Array(Dim),
    /// `Vector<N, T>`, the column `Matrix<N, 1, T>`.
    Vector(Dim),
    /// `Matrix<R, C, T>`, components numbered row-major.
    Matrix(Dim, Dim),
    /// `[[T; C]; R]` (rows, columns), components numbered row-major like a matrix's.
    Nested(Dim, Dim),
}

impl Shape {
    /// Number of scalar components.
    pub fn len(&self) -> Dim {
        match self {
            Shape::Scalar => Dim::Lit(1),
            Shape::Array(n) | Shape::Vector(n) => n.clone(),
            Shape::Matrix(r, c) | Shape::Nested(r, c) => r.mul(c),
        }
    }
}

/// `3`, not `3usize`: the type is always clear from context.
pub fn unsuffixed(n: usize) -> proc_macro2::Literal {
    proc_macro2::Literal::usize_unsuffixed(n)
}
