//! Owns the intermediate representation the lowering writes and the emitter prints:
//! structured statements over named temporaries, with the builder that hands out fresh
//! hygienic names and shares common subexpressions.

use crate::signature::ScalarType;
use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, ToTokens};
use std::collections::BTreeMap;

/// A cheap operand: a name, a literal, or a place such as `a[i]`. `mutable` marks operands
/// whose value can change later (a user's `let mut`, a run-time tangent row), so that
/// nothing long-lived keeps pointing at them.
#[derive(Clone, Debug)]
pub struct Atom {
    pub tokens: TokenStream,
    pub mutable: bool,
    pub literal: Option<f64>,
}

impl Atom {
    pub fn name(ident: &Ident) -> Atom {
        Atom { tokens: ident.to_token_stream(), mutable: false, literal: None }
    }

    pub fn place(tokens: TokenStream, mutable: bool) -> Atom {
        Atom { tokens, mutable, literal: None }
    }

    pub fn is_literal(&self, value: f64) -> bool {
        self.literal == Some(value)
    }
}

impl ToTokens for Atom {
    fn to_tokens(&self, out: &mut TokenStream) {
        self.tokens.to_tokens(out)
    }
}

#[derive(Clone, Debug)]
pub enum Stmt {
    /// `let name: ty = expr;` written by the macro: pure, removed when unused.
    Temp {
        name: Ident,
        ty: Option<TokenStream>,
        expr: TokenStream,
    },
    /// Any other statement, printed as it is.
    Code(TokenStream),
    If {
        cond: TokenStream,
        then: Block,
        otherwise: Option<Block>,
    },
    /// `head { body }`: `for i in a..b`, `while c`, `'label: loop`.
    Loop {
        head: TokenStream,
        body: Block,
    },
    Match {
        scrutinee: TokenStream,
        arms: Vec<(TokenStream, Block)>,
    },
    Block(Block),
}

#[derive(Clone, Debug, Default)]
pub struct Block {
    pub stmts: Vec<Stmt>,
}

pub struct Builder {
    pub scalar: ScalarType,
    pub krate: TokenStream,
    blocks: Vec<Block>,
    /// Common subexpressions per open block: expression text to the temporary holding it.
    shared: Vec<BTreeMap<String, Atom>>,
    used_names: BTreeMap<String, usize>,
    taken: std::collections::BTreeSet<String>,
    /// Names whose value can change (a user's `let mut`, run-time derivative rows): an
    /// expression mentioning one is never shared, since its value depends on when it runs.
    mutable_names: std::collections::BTreeSet<String>,
}

impl Builder {
    pub fn new(scalar: ScalarType, krate: TokenStream) -> Builder {
        Builder {
            scalar,
            krate,
            blocks: vec![Block::default()],
            shared: vec![BTreeMap::new()],
            used_names: BTreeMap::new(),
            taken: std::collections::BTreeSet::new(),
            mutable_names: std::collections::BTreeSet::new(),
        }
    }

    /// Marks every identifier in `tokens` as taken, so generated names never print the
    /// same as a user's (hygiene keeps them apart for rustc; this keeps them apart for the
    /// reader and for the macro's own bookkeeping, which compares names as text).
    pub fn reserve(&mut self, tokens: TokenStream) {
        for tree in tokens {
            match tree {
                proc_macro2::TokenTree::Ident(ident) => {
                    self.taken.insert(ident.to_string());
                }
                proc_macro2::TokenTree::Group(group) => self.reserve(group.stream()),
                _ => {}
            }
        }
    }

    /// A name no user code can see or clash with (mixed-site hygiene), readable in
    /// `cargo expand`: `base`, then `base_1`, `base_2`, …
    pub fn fresh(&mut self, base: &str) -> Ident {
        let base = if base.is_empty() { "t" } else { base };
        loop {
            let count = self.used_names.entry(base.to_string()).or_insert(0);
            let name = if *count == 0 { base.to_string() } else { format!("{base}_{count}") };
            *count += 1;
            if self.taken.insert(name.clone()) {
                return Ident::new(&name, Span::mixed_site());
            }
        }
    }

    pub fn push(&mut self, stmt: Stmt) {
        self.blocks.last_mut().expect("builder always has a block").stmts.push(stmt);
    }

    pub fn code(&mut self, tokens: TokenStream) {
        self.push(Stmt::Code(tokens));
    }

    pub fn open(&mut self) {
        self.blocks.push(Block::default());
        self.shared.push(BTreeMap::new());
    }

    /// Reopens a finished block to append to it.
    pub fn open_with(&mut self, block: Block) {
        self.blocks.push(block);
        self.shared.push(BTreeMap::new());
    }

    pub fn close(&mut self) -> Block {
        self.shared.pop();
        self.blocks.pop().unwrap_or_default()
    }

    /// Binds `expr` to a fresh temporary, reusing an earlier one for the same expression
    /// when every operand is immutable.
    pub fn mark_mutable(&mut self, name: &str) {
        self.mutable_names.insert(name.to_string());
    }

    fn mentions_mutable(&self, tokens: &TokenStream) -> bool {
        tokens.clone().into_iter().any(|tree| match tree {
            proc_macro2::TokenTree::Ident(ident) => self.mutable_names.contains(&ident.to_string()),
            proc_macro2::TokenTree::Group(group) => self.mentions_mutable(&group.stream()),
            _ => false,
        })
    }

    pub fn temp(&mut self, base: &str, expr: TokenStream, operands: &[&Atom]) -> Atom {
        let shareable = operands.iter().all(|a| !a.mutable) && !self.mentions_mutable(&expr);
        let key = expr.to_string();
        if shareable {
            for scope in self.shared.iter().rev() {
                if let Some(atom) = scope.get(&key) {
                    return atom.clone();
                }
            }
        }
        let name = self.fresh(base);
        self.push(Stmt::Temp { name: name.clone(), ty: None, expr });
        let atom = Atom::name(&name);
        if shareable {
            self.shared.last_mut().expect("builder always has a scope").insert(key, atom.clone());
        }
        atom
    }

    /// Like `temp`, with the type written out (for helpers whose result size rustc cannot
    /// infer from their arguments). Never shared: the type is part of the meaning.
    pub fn typed_temp(&mut self, base: &str, ty: Option<TokenStream>, expr: TokenStream) -> TokenStream {
        let name = self.fresh(base);
        self.push(Stmt::Temp { name: name.clone(), ty, expr });
        name.to_token_stream()
    }

    /// A builder for a nested function body (a `map` closure) whose names never clash
    /// with this one's.
    pub fn child(&self) -> Builder {
        Builder {
            scalar: self.scalar.clone(),
            krate: self.krate.clone(),
            blocks: vec![Block::default()],
            shared: vec![BTreeMap::new()],
            used_names: self.used_names.clone(),
            taken: self.taken.clone(),
            mutable_names: self.mutable_names.clone(),
        }
    }

    /// Takes over the names a child builder handed out.
    pub fn adopt_names(&mut self, child: &Builder) {
        self.used_names = child.used_names.clone();
        self.taken = child.taken.clone();
    }

    /// A constant of the scalar type.
    pub fn lit(&self, value: f64) -> Atom {
        let tokens = if self.scalar.generic {
            let ty = &self.scalar.tokens;
            let krate = &self.krate;
            let lit = proc_macro2::Literal::f64_suffixed(value.abs());
            let sign = if value < 0.0 { quote!(-) } else { quote!() };
            quote!(<#ty as #krate::Scalar>::from_f64(#sign #lit))
        } else {
            let lit = proc_macro2::Literal::f64_unsuffixed(value.abs());
            if value < 0.0 || (value == 0.0 && value.is_sign_negative()) {
                quote!((-#lit))
            } else {
                quote!(#lit)
            }
        };
        Atom { tokens, mutable: false, literal: Some(value) }
    }

    /// A constant with its type written out (`2.0_f64`), for method receivers.
    pub fn typed_lit(&self, value: f64) -> Atom {
        if self.scalar.generic {
            return self.lit(value);
        }
        let ty = &self.scalar.tokens;
        let text = format!("{:?}_{}", value.abs(), ty);
        let tokens = match syn::parse_str::<syn::LitFloat>(&text) {
            Ok(lit) if value < 0.0 => quote!((-#lit)),
            Ok(lit) => quote!(#lit),
            Err(_) => self.lit(value).tokens,
        };
        Atom { tokens, mutable: false, literal: Some(value) }
    }

    /// Zero with its type written out, for contexts with nothing to infer it from.
    pub fn typed_zero(&self) -> TokenStream {
        let ty = &self.scalar.tokens;
        let krate = &self.krate;
        if self.scalar.generic {
            quote!(<#ty as #krate::Scalar>::ZERO)
        } else {
            let lit = syn::LitFloat::new(&format!("0.0_{}", ty), Span::call_site());
            quote!(#lit)
        }
    }

    pub fn mul(&mut self, a: &Atom, b: &Atom) -> Atom {
        match (a.literal, b.literal) {
            (Some(x), Some(y)) => self.lit(x * y),
            (Some(1.0), _) => b.clone(),
            (_, Some(1.0)) => a.clone(),
            (Some(-1.0), _) => self.neg(b),
            (_, Some(-1.0)) => self.neg(a),
            _ => self.temp("t", quote!(#a * #b), &[a, b]),
        }
    }

    pub fn div(&mut self, a: &Atom, b: &Atom) -> Atom {
        match (a.literal, b.literal) {
            (Some(x), Some(y)) if y != 0.0 => self.lit(x / y),
            (_, Some(1.0)) => a.clone(),
            _ => self.temp("t", quote!(#a / #b), &[a, b]),
        }
    }

    pub fn add(&mut self, a: &Atom, b: &Atom) -> Atom {
        match (a.literal, b.literal) {
            (Some(x), Some(y)) => self.lit(x + y),
            (Some(0.0), _) => b.clone(),
            (_, Some(0.0)) => a.clone(),
            _ => self.temp("t", quote!(#a + #b), &[a, b]),
        }
    }

    pub fn sub(&mut self, a: &Atom, b: &Atom) -> Atom {
        match (a.literal, b.literal) {
            (Some(x), Some(y)) => self.lit(x - y),
            (_, Some(0.0)) => a.clone(),
            (Some(0.0), _) => self.neg(b),
            _ => self.temp("t", quote!(#a - #b), &[a, b]),
        }
    }

    pub fn neg(&mut self, a: &Atom) -> Atom {
        match a.literal {
            Some(x) => self.lit(-x),
            None => self.temp("t", quote!(-#a), &[a]),
        }
    }

    /// `a.method(args…)` bound to a temporary.
    pub fn method(&mut self, base: &str, a: &Atom, method: &str, args: &[&Atom]) -> Atom {
        // `3.0.ln()` does not compile (the literal's type is ambiguous): write it typed.
        let typed;
        let a = match a.literal {
            Some(value) => {
                typed = self.typed_lit(value);
                &typed
            }
            None => a,
        };
        let method = Ident::new(method, Span::call_site());
        let mut operands = vec![a];
        operands.extend_from_slice(args);
        self.temp(base, quote!(#a.#method(#(#args),*)), &operands)
    }

    /// A private runtime helper path, `::jacobian::__private::name`.
    pub fn helper(&self, name: &str) -> TokenStream {
        let krate = &self.krate;
        let name = Ident::new(name, Span::call_site());
        quote!(#krate::__private::#name)
    }
}
