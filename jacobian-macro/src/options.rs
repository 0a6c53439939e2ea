//! Owns the attribute's options: `wrt(a, b)`, `value`, `name = ident`, `crate = path`,
//! `jvp`, `vjp`, `hessian`, `hvp`, `sparse`, `mode = forward | reverse`, `check`.

use crate::diagnostics::Diagnostics;
use proc_macro2::TokenStream;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Ident, Path, Token};

const WRT: &str = "wrt";
const VALUE: &str = "value";
const NAME: &str = "name";
const CRATE: &str = "crate";
const MODE: &str = "mode";
const CHECK: &str = "check";
/// Options that are a bare word adding siblings.
const FLAGS: &[&str] = &["jvp", "vjp", "hessian", "hvp", "sparse"];

/// How the Jacobian is computed (`mode = …`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    Forward,
    Reverse,
}

#[derive(Default)]
pub struct Options {
    pub wrt: Option<Vec<Ident>>,
    pub value: bool,
    pub name: Option<Ident>,
    pub krate: Option<Path>,
    pub jvp: bool,
    pub vjp: bool,
    pub hessian: bool,
    pub hvp: bool,
    /// `sparse`: `{name}_jacobian_sparse` and `{name}_jacobian_pattern` (`crate::sparse`).
    pub sparse: bool,
    pub mode: Option<Mode>,
    /// `check`: the option's own token, where the refusals of `check::test` point.
    pub check: Option<Ident>,
}

enum Item {
    Wrt(Ident, Vec<Ident>),
    Value(Ident),
    Name(Ident, Ident),
    Crate(Ident, Path),
    Flag(Ident),
    Mode(Ident, Mode),
    Check(Ident),
}

impl Parse for Item {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let key: Ident = if input.peek(Token![crate]) {
            let token: Token![crate] = input.parse()?;
            Ident::new(CRATE, token.span)
        } else {
            input.parse()?
        };
        match key.to_string().as_str() {
            WRT => {
                let content;
                syn::parenthesized!(content in input);
                let names = Punctuated::<Ident, Token![,]>::parse_terminated(&content)?;
                if names.is_empty() {
                    return Err(syn::Error::new(
                        key.span(),
                        "`wrt()` lists no parameter; name the parameters to differentiate, e.g. `wrt(x)`",
                    ));
                }
                Ok(Item::Wrt(key, names.into_iter().collect()))
            }
            VALUE => Ok(Item::Value(key)),
            CHECK => {
                if input.peek(syn::token::Paren) {
                    let content;
                    let parens = syn::parenthesized!(content in input);
                    let _: TokenStream = content.parse()?;
                    return Err(syn::Error::new(
                        parens.span.join(),
                        "`check` takes no arguments: it chooses its test points itself, and every parameter must be differentiated; write `check`, or remove it and test the Jacobian by hand at values you choose",
                    ));
                }
                Ok(Item::Check(key))
            }
            "sparse" if input.peek(syn::token::Paren) => {
                let content;
                let parens = syn::parenthesized!(content in input);
                let _: TokenStream = content.parse()?;
                Err(syn::Error::new(
                    parens.span.join(),
                    "`sparse` takes no arguments: the pattern is the one forward mode finds, and the values are an array or a `Vec` as the sizes allow; convert with `Sparse::to_csc`, `to_csr` or `to_coo` (feature `nalgebra-sparse`), or refill your own matrix with `Pattern::csc_order`",
                ))
            }
            flag if FLAGS.contains(&flag) => Ok(Item::Flag(key)),
            MODE => {
                input.parse::<Token![=]>()?;
                if input.peek(syn::LitStr) {
                    let lit: syn::LitStr = input.parse()?;
                    return Err(syn::Error::new(
                        lit.span(),
                        format!("write the mode unquoted: `mode = {}`", lit.value()),
                    ));
                }
                let mode: Ident = input.parse()?;
                match mode.to_string().as_str() {
                    "forward" => Ok(Item::Mode(key, Mode::Forward)),
                    "reverse" => Ok(Item::Mode(key, Mode::Reverse)),
                    other => Err(syn::Error::new(
                        mode.span(),
                        format!("unknown mode `{other}`; write `mode = forward` or `mode = reverse`"),
                    )),
                }
            }
            NAME => {
                input.parse::<Token![=]>()?;
                if input.peek(syn::LitStr) {
                    let lit: syn::LitStr = input.parse()?;
                    return Err(syn::Error::new(
                        lit.span(),
                        format!("write the name unquoted: `name = {}`", lit.value()),
                    ));
                }
                Ok(Item::Name(key, input.parse()?))
            }
            CRATE => {
                input.parse::<Token![=]>()?;
                if input.peek(syn::LitStr) {
                    let lit: syn::LitStr = input.parse()?;
                    return Err(syn::Error::new(
                        lit.span(),
                        format!("write the path unquoted: `crate = {}`", lit.value()),
                    ));
                }
                Ok(Item::Crate(key, Path::parse_mod_style(input)?))
            }
            other => Err(syn::Error::new(
                key.span(),
                format!(
                    "unknown option `{other}`; `#[jacobian]` takes `wrt(a, b)`, `value`, `name = new_name`, `crate = path`, `jvp`, `vjp`, `hessian`, `hvp`, `sparse`, `check` and `mode = forward` or `mode = reverse`"
                ),
            )),
        }
    }
}

pub fn parse(tokens: TokenStream, diagnostics: &Diagnostics) -> Options {
    let mut options = Options::default();
    let items = match syn::parse::Parser::parse2(Punctuated::<Item, Token![,]>::parse_terminated, tokens) {
        Ok(items) => items,
        Err(error) => {
            diagnostics.push(error);
            return options;
        }
    };
    for item in items {
        match item {
            Item::Wrt(key, names) => {
                if options.wrt.is_some() {
                    diagnostics.error_at(&key, "`wrt` is given twice; list every parameter in one `wrt(…)`");
                }
                options.wrt = Some(names);
            }
            Item::Value(key) => {
                if options.value {
                    diagnostics.error_at(&key, "`value` is given twice");
                }
                options.value = true;
            }
            Item::Name(key, name) => {
                if options.name.is_some() {
                    diagnostics.error_at(&key, "`name` is given twice");
                }
                options.name = Some(name);
            }
            Item::Flag(key) => {
                let flag = match key.to_string().as_str() {
                    "jvp" => &mut options.jvp,
                    "vjp" => &mut options.vjp,
                    "hessian" => &mut options.hessian,
                    "sparse" => &mut options.sparse,
                    _ => &mut options.hvp,
                };
                if *flag {
                    diagnostics.error_at(&key, format!("`{key}` is given twice"));
                }
                *flag = true;
            }
            Item::Mode(key, mode) => {
                if options.mode.is_some() {
                    diagnostics.error_at(&key, "`mode` is given twice");
                }
                options.mode = Some(mode);
            }
            Item::Check(key) => {
                if options.check.is_some() {
                    diagnostics.error_at(&key, "`check` is given twice");
                }
                options.check = Some(key);
            }
            Item::Crate(key, path) => {
                if options.krate.is_some() {
                    diagnostics.error_at(&key, "`crate` is given twice");
                }
                options.krate = Some(path);
            }
        }
    }
    options
}
