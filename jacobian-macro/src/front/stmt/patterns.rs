//! Patterns that bind the user's variables from values that are never differentiated:
//! `if let`, `let … else`, `match` arms that bind names, and `let`s in a block that shadow
//! a name bound outside it (renamed, since a block of the IR is no scope of the emitted
//! code).

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{quote, ToTokens};
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{Expr, Stmt};

use super::super::{refused, unsupported, Front, Operand, Result};

/// The names a pattern binds (`Some(k)`: `k`; `None`, `MAX`: none), in order.
pub(in crate::front) fn binding_names(pat: &syn::Pat) -> Vec<syn::Ident> {
    struct Names(Vec<syn::Ident>);
    impl<'ast> Visit<'ast> for Names {
        fn visit_pat_ident(&mut self, i: &'ast syn::PatIdent) {
            // (`None`, `MAX`: constants and variants, not bindings.)
            if i.ident.to_string().starts_with(|c: char| c.is_lowercase() || c == '_')
                && !self.0.contains(&i.ident)
            {
                self.0.push(i.ident.clone());
            }
            syn::visit::visit_pat_ident(self, i);
        }
    }
    let mut names = Names(Vec::new());
    names.visit_pat(pat);
    names.0
}

/// `let (a, b,) = match s { P => (a, b,), _ => otherwise };`: the names `pat` binds, taken
/// from the variable `s`.
fn bind(pat: &syn::Pat, scrutinee: &syn::Ident, otherwise: TokenStream) -> Stmt {
    let names = binding_names(pat);
    syn::parse_quote!(
        #[allow(unreachable_patterns, clippy::match_single_binding)]
        let (#(#names,)*) = match #scrutinee { #pat => (#(#names,)*), _ => #otherwise };
    )
}

/// An arm's binding of its pattern from the scrutinee, where the arm is only taken when
/// the pattern matches.
pub(super) fn bind_matched(pat: &syn::Pat, scrutinee: &syn::Ident) -> Stmt {
    bind(pat, scrutinee, quote!(::core::unreachable!()))
}

/// Renames the binding `name` of a pattern `fresh`.
fn rebind(pat: &mut syn::Pat, name: &syn::Ident, fresh: &str) {
    struct Binder<'a>(&'a syn::Ident, &'a str);
    impl syn::visit_mut::VisitMut for Binder<'_> {
        fn visit_pat_ident_mut(&mut self, i: &mut syn::PatIdent) {
            if i.ident == *self.0 {
                i.ident = syn::Ident::new(self.1, i.ident.span());
            }
            syn::visit_mut::visit_pat_ident_mut(self, i);
        }
    }
    syn::visit_mut::VisitMut::visit_pat_mut(&mut Binder(name, fresh), pat);
}

/// `pat` with its bindings made wildcards (`Some(k)`: `Some(_)`; `k @ 1..=3`: `1..=3`): the
/// test of whether it matches, which binds nothing.
pub(super) fn wildcards(pat: &syn::Pat) -> syn::Pat {
    struct Wild;
    impl syn::visit_mut::VisitMut for Wild {
        fn visit_pat_mut(&mut self, pat: &mut syn::Pat) {
            if let syn::Pat::Ident(i) = pat {
                if i.ident.to_string().starts_with(|c: char| c.is_lowercase() || c == '_') {
                    *pat = match i.subpat.take() {
                        Some((_, sub)) => *sub,
                        None => syn::Pat::Wild(syn::PatWild {
                            attrs: Vec::new(),
                            underscore_token: Default::default(),
                        }),
                    };
                }
            }
            syn::visit_mut::visit_pat_mut(self, pat);
        }
    }
    let mut out = pat.clone();
    syn::visit_mut::VisitMut::visit_pat_mut(&mut Wild, &mut out);
    out
}

/// `tokens` with the identifier `from` made `to`, except as a field, a method or a path's
/// later segment (`s.from`, `a::from`) or a macro's name.
fn rename(tokens: TokenStream, from: &str, to: &str) -> TokenStream {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out = Vec::with_capacity(tokens.len());
    for (k, tt) in tokens.iter().enumerate() {
        let punct = |j: Option<usize>, c: char| matches!(j.and_then(|j| tokens.get(j)), Some(TokenTree::Punct(p)) if p.as_char() == c);
        // (A field or method `s.from`, a later segment `a::from`, a macro `from!`.)
        let kept = punct(k.checked_sub(1), '.')
            || (punct(k.checked_sub(1), ':') && punct(k.checked_sub(2), ':'))
            || punct(Some(k + 1), '!');
        out.push(match tt {
            TokenTree::Group(g) => {
                let mut group = proc_macro2::Group::new(g.delimiter(), rename(g.stream(), from, to));
                group.set_span(g.span());
                TokenTree::Group(group)
            }
            TokenTree::Ident(i) if i == from && !kept => TokenTree::Ident(syn::Ident::new(to, i.span())),
            other => other.clone(),
        });
    }
    out.into_iter().collect()
}

impl Front<'_> {
    /// `pat` with each name it binds that is bound already made a fresh one, and `uses`
    /// (the code in its scope) reading the fresh names.
    pub(super) fn fresh_pattern(
        &mut self,
        pat: &syn::Pat,
        uses: &[TokenStream],
    ) -> (syn::Pat, Vec<TokenStream>) {
        let mut pat = pat.clone();
        let mut uses = uses.to_vec();
        for name in binding_names(&pat) {
            if self.lookup(&name.to_string()).is_none() {
                continue;
            }
            let fresh = format!("__jacobian_{}_{name}", self.sites);
            self.sites += 1;
            rebind(&mut pat, &name, &fresh);
            for tokens in &mut uses {
                *tokens = rename(std::mem::take(tokens), &name.to_string(), &fresh);
            }
        }
        (pat, uses)
    }

    /// `block` with each `let` of the user's code (one that reads no SSA value) that
    /// binds a name bound outside the block binding a fresh name instead, and the rest of
    /// the block reading it: the IR's blocks are no scopes of the emitted code, where the
    /// `let` would otherwise shadow the outer name after the block too.
    pub(super) fn unshadowed(&mut self, block: &syn::Block) -> syn::Block {
        let mut out = block.clone();
        for k in 0..out.stmts.len() {
            let Stmt::Local(local) = &out.stmts[k] else { continue };
            if self.local_reads_ssa(local)
                || matches!(&local.init, Some(init) if matches!(&*init.expr, Expr::Closure(_)))
            {
                continue;
            }
            for name in binding_names(&local.pat) {
                if self.lookup(&name.to_string()).is_none() {
                    continue;
                }
                let fresh = format!("__jacobian_{}_{name}", self.sites);
                self.sites += 1;
                let Stmt::Local(local) = &mut out.stmts[k] else { continue };
                rebind(&mut local.pat, &name, &fresh);
                let rest = &out.stmts[k + 1..];
                let renamed = rename(quote!({ #(#rest)* }), &name.to_string(), &fresh);
                match syn::parse2::<syn::Block>(renamed) {
                    Ok(renamed) => {
                        out.stmts.truncate(k + 1);
                        out.stmts.extend(renamed.stmts);
                    }
                    // (Left as it is: the shadowing is refused after the block.)
                    Err(_) => return block.clone(),
                }
            }
        }
        out
    }

    /// `if let P = e { A } else { B }` on a value `e` that is never differentiated:
    /// `let s = e; if matches!(&s, P) { let (names…) = match s { P => (names…), … }; A }
    /// else { B }`.
    pub(super) fn if_let(
        &mut self,
        if_expr: &syn::ExprIf,
        test: &syn::ExprLet,
        want_value: bool,
    ) -> Result<Option<Operand>> {
        if self.reads_ssa(&test.expr) {
            return refused(test, "`if let` cannot bind parts of a differentiated value; test it with a comparison, or bind with `let` first");
        }
        let scrutinee = syn::Ident::new(&format!("__jacobian_let{}", self.sites), Span::mixed_site());
        self.sites += 1;
        let value = &test.expr;
        let evaluated: Stmt = syn::parse_quote!(let #scrutinee = #value;);
        let Stmt::Local(evaluated) = evaluated else { return unsupported(value, "this value") };
        self.local(&evaluated)?;
        let then = if_expr.then_branch.to_token_stream();
        let (pat, then) = self.fresh_pattern(&test.pat, &[then]);
        let then: syn::Block = match syn::parse2(then[0].clone()) {
            Ok(block) => block,
            Err(_) => return unsupported(&if_expr.then_branch, "this block"),
        };
        let binding = bind_matched(&pat, &scrutinee);
        let test = wildcards(&pat);
        let then = &then.stmts;
        let otherwise = match &if_expr.else_branch {
            Some((_, otherwise)) => otherwise.to_token_stream(),
            None => quote!({}),
        };
        let chain: Expr = syn::parse_quote_spanned!(if_expr.span()=>
            if ::core::matches!(&#scrutinee, #test) { #binding #(#then)* } else #otherwise
        );
        self.if_expr(&chain, want_value)
    }

    /// `let P = e else { … };` on a value `e` that is never differentiated: `let s = e;
    /// if !matches!(&s, P) { … }` (its jump sets a flag of `flow`; the code after runs
    /// only where none is set), then the names bound from `s` (defaults where the pattern
    /// did not match: never read).
    pub(super) fn let_else(&mut self, local: &syn::Local) -> Result<()> {
        let Some(init) = &local.init else { return unsupported(local, "a `let` without a value") };
        let Some((_, diverge)) = &init.diverge else { return unsupported(local, "this `let`") };
        if self.reads_ssa(&init.expr) {
            return refused(local, "`let … else` cannot destructure a differentiated value; test it with `if`, or use `match` on a value that is not differentiated");
        }
        let scrutinee = syn::Ident::new(&format!("__jacobian_let{}", self.sites), Span::mixed_site());
        self.sites += 1;
        let value = &init.expr;
        let evaluated: Stmt = syn::parse_quote!(let #scrutinee = #value;);
        let Stmt::Local(evaluated) = evaluated else { return unsupported(value, "this value") };
        self.local(&evaluated)?;
        let pat = match &local.pat {
            syn::Pat::Type(typed) => &*typed.pat,
            pat => pat,
        };
        let wild = wildcards(pat);
        let test: Expr =
            syn::parse_quote_spanned!(local.span()=> if !::core::matches!(&#scrutinee, #wild) #diverge);
        self.statement(&test)?;
        let defaults = binding_names(pat).into_iter().map(|_| quote!(::core::default::Default::default()));
        let binding = bind(pat, &scrutinee, quote!((#(#defaults,)*)));
        match binding {
            Stmt::Local(binding) => self.local(&binding),
            _ => unsupported(local, "this `let … else`"),
        }
    }
}
