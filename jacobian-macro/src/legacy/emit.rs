//! Owns the output: prints the IR as Rust and assembles the generated siblings
//! (`{name}_jacobian`, `{name}_value_and_jacobian`) around it.

use crate::legacy::ir::{Block, Stmt};
use proc_macro2::TokenStream;
use quote::quote;

pub fn block(block: &Block) -> TokenStream {
    let stmts = block.stmts.iter().map(stmt);
    quote!(#(#stmts)*)
}

fn stmt(statement: &Stmt) -> TokenStream {
    match statement {
        Stmt::Temp { name, ty: None, expr } => quote!(let #name = #expr;),
        Stmt::Temp { name, ty: Some(ty), expr } => quote!(let #name: #ty = #expr;),
        Stmt::Code(tokens) => tokens.clone(),
        Stmt::If { cond, then, otherwise } => {
            let then = block(then);
            let otherwise = otherwise.as_ref().map(|o| match o.stmts.as_slice() {
                [only @ Stmt::If { .. }] => {
                    let nested = stmt(only);
                    quote!(else #nested)
                }
                _ => {
                    let o = block(o);
                    quote!(else { #o })
                }
            });
            quote!(if #cond { #then } #otherwise)
        }
        Stmt::Loop { head, body } => {
            let body = block(body);
            quote!(#head { #body })
        }
        Stmt::Match { scrutinee, arms } => {
            let arms = arms.iter().map(|(head, body)| {
                let body = block(body);
                quote!(#head => { #body })
            });
            quote!(match #scrutinee { #(#arms)* })
        }
        Stmt::Block(b) => {
            let b = block(b);
            quote!({ #b })
        }
    }
}
