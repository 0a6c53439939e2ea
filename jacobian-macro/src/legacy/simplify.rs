//! Owns clean-up of the lowered IR: temporaries nobody reads are dropped (the primal
//! results the Jacobian does not need, coefficients of terms that cancelled), repeatedly,
//! so the printed code has no dead statements.

use crate::legacy::ir::{Block, Stmt};
use proc_macro2::{TokenStream, TokenTree};
use std::collections::BTreeMap;

pub fn remove_dead_temporaries(block: &mut Block) {
    loop {
        let mut uses = BTreeMap::new();
        count_block(block, &mut uses);
        if !prune(block, &uses) {
            return;
        }
    }
}

fn count_block(block: &Block, uses: &mut BTreeMap<String, usize>) {
    for stmt in &block.stmts {
        match stmt {
            Stmt::Temp { expr, .. } => count_tokens(expr, uses),
            Stmt::Code(tokens) => count_tokens(tokens, uses),
            Stmt::If { cond, then, otherwise } => {
                count_tokens(cond, uses);
                count_block(then, uses);
                if let Some(b) = otherwise {
                    count_block(b, uses);
                }
            }
            Stmt::Loop { head, body } => {
                count_tokens(head, uses);
                count_block(body, uses);
            }
            Stmt::Match { scrutinee, arms } => {
                count_tokens(scrutinee, uses);
                for (head, body) in arms {
                    count_tokens(head, uses);
                    count_block(body, uses);
                }
            }
            Stmt::Block(b) => count_block(b, uses),
        }
    }
}

fn count_tokens(tokens: &TokenStream, uses: &mut BTreeMap<String, usize>) {
    for tree in tokens.clone() {
        match tree {
            TokenTree::Ident(ident) => *uses.entry(ident.to_string()).or_insert(0) += 1,
            TokenTree::Group(group) => count_tokens(&group.stream(), uses),
            _ => {}
        }
    }
}

fn prune(block: &mut Block, uses: &BTreeMap<String, usize>) -> bool {
    let before = block.stmts.len();
    block.stmts.retain(|stmt| match stmt {
        Stmt::Temp { name, .. } => uses.get(&name.to_string()).copied().unwrap_or(0) > 0,
        _ => true,
    });
    let mut changed = block.stmts.len() != before;
    for stmt in &mut block.stmts {
        changed |= match stmt {
            Stmt::If { then, otherwise, .. } => {
                let a = prune(then, uses);
                let b = otherwise.as_mut().is_some_and(|o| prune(o, uses));
                a || b
            }
            Stmt::Loop { body, .. } => prune(body, uses),
            Stmt::Match { arms, .. } => arms.iter_mut().fold(false, |c, (_, b)| prune(b, uses) || c),
            Stmt::Block(b) => prune(b, uses),
            _ => false,
        };
    }
    changed
}
