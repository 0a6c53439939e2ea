//! Lowering of statements and control flow: `let`, assignment, blocks, `if`, `match`,
//! loops, `return`. Conditions, loop heads and patterns are copied verbatim: the primal
//! values they read are always up to date, so control flow takes the same path as in the
//! user's function and the derivative is that of the path taken.

use super::value::{Array, Container, Hint, Rows, Scalar, Value};
use super::{Binding, LoopFrame, Lowerer};
use crate::legacy::ir::{Atom, Block, Stmt};
use crate::legacy::tangent::Lin;
use proc_macro2::{Ident, TokenStream};
use quote::{quote, ToTokens};
use syn::visit::Visit;
use syn::Expr;

/// What a block's final expression becomes.
#[derive(Clone, Copy, PartialEq)]
pub enum Ctx {
    /// Discarded (a statement).
    Discard,
    /// The function's result.
    Result,
    /// A value for the enclosing expression.
    Value,
}

/// How a lowered block ended.
pub enum Tail {
    Value(Box<Value>),
    Unit,
    Diverges,
}

impl Lowerer<'_> {
    pub fn block_contents(&mut self, stmts: &[syn::Stmt], ctx: Ctx) -> Tail {
        let mut diverges = false;
        for (i, stmt) in stmts.iter().enumerate() {
            let last = i + 1 == stmts.len();
            match stmt {
                syn::Stmt::Expr(expr, None) if last => {
                    return self.tail_expr(expr, ctx);
                }
                syn::Stmt::Expr(expr, _) => {
                    diverges |= is_diverging(expr);
                    self.statement_expr(expr);
                }
                syn::Stmt::Local(local) => self.local(local),
                syn::Stmt::Item(item) => self.b.code(item.to_token_stream()),
                syn::Stmt::Macro(mac) => self.b.code(mac.to_token_stream()),
            }
        }
        if diverges {
            Tail::Diverges
        } else {
            Tail::Unit
        }
    }

    fn tail_expr(&mut self, expr: &Expr, ctx: Ctx) -> Tail {
        match ctx {
            Ctx::Discard => {
                self.statement_expr(expr);
                if is_diverging(expr) {
                    Tail::Diverges
                } else {
                    Tail::Unit
                }
            }
            Ctx::Value => Tail::Value(Box::new(self.expr(expr))),
            Ctx::Result => {
                match expr {
                    Expr::Loop(_) | Expr::While(_) | Expr::ForLoop(_) => {
                        self.control(expr, Ctx::Result);
                    }
                    Expr::If(_) | Expr::Match(_) | Expr::Block(_) if self.needs_lowering(expr) => {
                        self.control(expr, Ctx::Result);
                    }
                    Expr::Return(_) => self.statement_expr(expr),
                    _ => {
                        let value = self.expr(expr);
                        let result = self.finish(value, expr);
                        self.b.code(result);
                    }
                }
                Tail::Diverges
            }
        }
    }

    /// An expression in statement position, its value discarded.
    fn statement_expr(&mut self, expr: &Expr) {
        // An assignment to a variable the lowering holds by value (`m *= 2.0` of an `m`
        // whose derivative is zero): through `assign`, so later reads see the new value.
        let target = match expr {
            Expr::Assign(assign) => Some(&*assign.left),
            Expr::Binary(binary) if crate::legacy::activity::is_compound_assign(&binary.op) => {
                Some(&*binary.left)
            }
            _ => None,
        };
        let held = target
            .and_then(crate::legacy::activity::root_name)
            .and_then(|name| self.lookup(&name))
            .is_some_and(|binding| !binding.runtime && matches!(binding.value, Value::Scalar(_)));
        if !self.needs_lowering(expr) && !held {
            self.b.code(quote!(#expr;));
            return;
        }
        match expr {
            Expr::Assign(assign) => self.assign(&assign.left, None, &assign.right, assign),
            Expr::Binary(binary) if crate::legacy::activity::is_compound_assign(&binary.op) => {
                self.assign(&binary.left, Some(&binary.op), &binary.right, binary)
            }
            Expr::If(_)
            | Expr::Match(_)
            | Expr::Block(_)
            | Expr::Loop(_)
            | Expr::While(_)
            | Expr::ForLoop(_) => {
                self.control(expr, Ctx::Discard);
            }
            Expr::Return(ret) => {
                let value = match &ret.expr {
                    Some(e) => self.expr(e),
                    None => self.unsupported(ret, "`return;` without a value in a differentiated function"),
                };
                let result = self.finish(value, ret);
                self.b.code(quote!(return #result;));
            }
            Expr::Paren(p) => self.statement_expr(&p.expr),
            Expr::Break(brk) => self.break_statement(brk),
            Expr::Continue(_) => self.b.code(quote!(#expr;)),
            _ => {
                // Evaluated for its effects only, so its derivative is never needed.
                let value = self.expr(expr);
                let primal = value.primal();
                if !matches!(value, Value::Opaque { .. }) {
                    self.b.code(quote!(let _ = #primal;));
                }
            }
        }
    }

    fn local(&mut self, local: &syn::Local) {
        let Some(init) = &local.init else {
            self.b.code(local.to_token_stream());
            let mut names = crate::legacy::activity::Names::default();
            names.visit_pat(&local.pat);
            for pat in pat_idents(&local.pat) {
                let hint = type_hint(&local.pat);
                self.bind(
                    &pat.ident,
                    Value::Opaque { atom: Atom::name(&pat.ident), hint },
                    pat.mutability.is_some(),
                );
            }
            return;
        };
        if let Some((else_token, diverge)) = &init.diverge {
            if self.needs_lowering(&init.expr) {
                self.diagnostics.error_at(
                    &local.pat,
                    "`let … else` cannot destructure a differentiated value; test it with `if`, or use `match` on a value that is not differentiated",
                );
                return;
            }
            // The `else` block diverges; lowered, so that a `return` in it returns the Jacobian.
            let stmts = match &**diverge {
                Expr::Block(b) => b.block.stmts.clone(),
                other => vec![syn::Stmt::Expr(other.clone(), None)],
            };
            let (block, _) = self.branch(&stmts, Ctx::Discard);
            let block = crate::legacy::emit::block(&block);
            let (pat, expr) = (&local.pat, &init.expr);
            self.b.code(quote!(let #pat = #expr #else_token { #block };));
            for pat in pat_idents(&local.pat) {
                let atom = Atom::place(pat.ident.to_token_stream(), pat.mutability.is_some());
                self.bind(&pat.ident, Value::Opaque { atom, hint: Hint::Unknown }, pat.mutability.is_some());
            }
            return;
        }
        if !self.needs_lowering(&init.expr) {
            let declaration = self.typed_declaration(local).unwrap_or_else(|| local.to_token_stream());
            self.b.code(declaration);
            let annotated = type_hint(&local.pat);
            let hint = match (&annotated, self.verbatim(&init.expr)) {
                (Hint::Unknown, Value::Opaque { hint, .. }) => hint,
                _ => annotated,
            };
            for pat in pat_idents(&local.pat) {
                let mutable = pat.mutability.is_some();
                let atom = match (&hint, mutable) {
                    (Hint::Float | Hint::Array(..), false) => self.stable_name(&pat.ident),
                    _ => Atom::place(pat.ident.to_token_stream(), mutable),
                };
                self.bind(&pat.ident, Value::Opaque { atom, hint: hint.clone() }, pat.mutability.is_some());
            }
            return;
        }
        let value = self.expr(&init.expr);
        self.bind_pattern(&local.pat, value);
    }

    /// `let s = 0.625;` or `let mut a = [0.0; 3];` with the scalar type written out
    /// (`let s: f64 = 0.625;`). In the user's function rustc infers the type from later
    /// uses, but the generated code calls methods on such values (`s.max(x)`, `a[0].abs()`
    /// and their derivatives) where rustc must know the type already (E0689 on
    /// `{float}`). One scalar type per function makes the annotation the user's meaning.
    fn typed_declaration(&self, local: &syn::Local) -> Option<TokenStream> {
        if self.b.scalar.generic || !local.attrs.is_empty() {
            return None;
        }
        let syn::Pat::Ident(pat) = &local.pat else { return None };
        if pat.by_ref.is_some() || pat.subpat.is_some() {
            return None;
        }
        let init = local.init.as_ref()?;
        let scalar = &self.b.scalar.tokens;
        let ty = match &*init.expr {
            Expr::Array(array) if !array.elems.is_empty() && array.elems.iter().all(untyped_float) => {
                let n = array.elems.len();
                quote!([#scalar; #n])
            }
            Expr::Repeat(repeat) if untyped_float(&repeat.expr) => {
                let len = &repeat.len;
                quote!([#scalar; #len])
            }
            expr if untyped_float(expr) => scalar.clone(),
            _ => return None,
        };
        let expr = &init.expr;
        Some(quote!(let #pat: #ty = #expr;))
    }

    fn bind_pattern(&mut self, pat: &syn::Pat, value: Value) {
        match pat {
            syn::Pat::Type(typed) => {
                let ty = &typed.ty;
                if let syn::Pat::Ident(ident) = &*typed.pat {
                    self.bind_ident(ident, value, Some(quote!(: #ty)));
                } else {
                    self.bind_pattern(&typed.pat, value);
                }
            }
            syn::Pat::Ident(ident) if ident.subpat.is_none() && ident.by_ref.is_none() => {
                self.bind_ident(ident, value, None);
            }
            syn::Pat::Tuple(tuple) => match value {
                Value::Tuple(items) if items.len() == tuple.elems.len() => {
                    for (p, v) in tuple.elems.iter().zip(items) {
                        self.bind_pattern(p, v);
                    }
                }
                other => {
                    self.diagnostics.error_at(
                        tuple,
                        format!("cannot destructure {} with a tuple pattern", other.describe()),
                    );
                }
            },
            syn::Pat::Wild(_) => {
                let primal = value.primal();
                self.b.code(quote!(let _ = #primal;));
            }
            syn::Pat::Paren(p) => self.bind_pattern(&p.pat, value),
            syn::Pat::Slice(slice) => {
                let Value::Array(mut array) = value else {
                    self.diagnostics.error_at(
                        slice,
                        format!("cannot destructure {} with an array pattern", value.describe()),
                    );
                    return;
                };
                let lens: Vec<_> = (0..self.blocks()).map(|b| self.block_len(b)).collect();
                if array.len.lit() != Some(slice.elems.len()) {
                    self.diagnostics.error_at(
                        slice,
                        "destructure an array with a pattern of one name per component, `let [a, b, c] = x;`",
                    );
                    return;
                }
                if array.elems.is_none() {
                    array.materialize(&lens, "rows", &mut self.b);
                }
                for (k, pat) in slice.elems.iter().enumerate() {
                    let element = match &array.elems {
                        Some(elems) => elems[k].clone(),
                        None => {
                            let index = crate::legacy::tangent::Index::Lit(k);
                            let place = array.primal_place(std::slice::from_ref(&index));
                            Scalar {
                                primal: Atom::place(place, array.primal.mutable),
                                tangent: array.component_tangent(&index),
                            }
                        }
                    };
                    self.bind_pattern(pat, Value::Scalar(element));
                }
            }
            other => {
                self.diagnostics.error_at(other, "this pattern is not supported for a differentiated value; bind it to a name, e.g. `let y = …`");
            }
        }
    }

    fn bind_ident(&mut self, pat: &syn::PatIdent, value: Value, ty: Option<TokenStream>) {
        let ident = &pat.ident;
        let mutable = pat.mutability.is_some();
        let value = self.freeze(value);
        // `let v: Vector<3> = f(x);` tells what a called function returns.
        let value = match (value, &ty) {
            (Value::Array(mut a), Some(ty)) if matches!(a.container, Container::Result) => {
                let ty: Option<syn::Type> = syn::parse2(ty.clone().into_iter().skip(1).collect()).ok();
                match ty.as_ref().map(super::hint_of_type) {
                    Some(Hint::Array(container, len)) => {
                        a.container = container;
                        a.len = len;
                        Value::Array(a)
                    }
                    Some(Hint::Float) => match self.scalar(Value::Array(a), pat) {
                        Some(s) => Value::Scalar(s),
                        None => self.poison(),
                    },
                    _ => Value::Array(a),
                }
            }
            (value, _) => value,
        };
        let primal = value.primal();
        let mutability = pat.mutability;
        self.b.code(quote!(let #mutability #ident #ty = #primal;));
        let named = if mutable { Atom::name(ident) } else { self.stable_name(ident) };
        let value = match value {
            Value::Scalar(s) if !mutable => Value::Scalar(Scalar { primal: named, tangent: s.tangent }),
            Value::Array(mut a) => {
                a.primal = if mutable { Atom::place(ident.to_token_stream(), true) } else { named };
                if let Some(elems) = &mut a.elems {
                    for (k, e) in elems.iter_mut().enumerate() {
                        if mutable
                            && e.primal.literal.is_none()
                            && syn::parse2::<Ident>(e.primal.tokens.clone()).is_err()
                        {
                            let k = crate::shape::unsuffixed(k);
                            e.primal = Atom::place(quote!(#ident[#k]), false);
                        }
                    }
                }
                Value::Array(a)
            }
            Value::Opaque { hint, .. } => {
                Value::Opaque { atom: Atom::place(ident.to_token_stream(), mutable), hint }
            }
            other => other,
        };
        self.bind(ident, value, mutable);
    }

    /// `place = rhs` or `place op= rhs`.
    pub fn assign(&mut self, place: &Expr, op: Option<&syn::BinOp>, rhs: &Expr, at: &dyn ToTokens) {
        let Some(name) = crate::legacy::activity::root_name(place) else {
            self.diagnostics.error_at(
                place,
                "this assignment target is not supported; assign to a variable or an element `a[i]`",
            );
            return;
        };
        let Some(binding) = self.lookup(&name).cloned() else {
            self.diagnostics.error_at(
                place,
                format!("cannot assign to `{name}`, which is not a local variable of this function"),
            );
            return;
        };
        let op_tokens = match op {
            Some(op) => op.to_token_stream(),
            None => quote!(=),
        };
        let rhs_value = self.expr(rhs);
        match place {
            Expr::Path(_) => {
                let new = match op {
                    Some(op) => {
                        let current = binding.value.clone();
                        self.arithmetic(op, current, rhs_value.clone(), at)
                    }
                    None => rhs_value.clone(),
                };
                self.store_variable(&binding, new, at);
                let ident = &binding.ident;
                let primal = rhs_value.primal();
                self.b.code(quote!(#ident #op_tokens #primal;));
                // A constant's new value is the variable as it is now, not the expression
                // assigned (which would be evaluated again later, from the variable's newer
                // value: `m = f(m)` read back as `f(f(m))`).
                let name = binding.ident.to_string();
                if let Some(Value::Opaque { hint: hint @ (Hint::Float | Hint::Unknown), .. }) =
                    self.lookup(&name).map(|b| b.value.clone())
                {
                    let snapshot = self.b.temp(&name, quote!(#ident), &[]);
                    if let Some(b) = self.lookup_mut(&name) {
                        b.value = Value::Opaque { atom: snapshot, hint };
                    }
                }
            }
            Expr::Index(index) => {
                let current = op.map(|_| self.expr(place));
                let new = match (op, current) {
                    (Some(op), Some(current)) => self.arithmetic(op, current, rhs_value.clone(), at),
                    _ => rhs_value.clone(),
                };
                self.store_element(&name, index, new, at);
                let target =
                    self.lookup(&name).map(|b| b.ident.clone()).unwrap_or_else(|| binding.ident.clone());
                let index_tokens = &index.index;
                let primal = rhs_value.primal();
                let _ = target;
                let base = &index.expr;
                self.b.code(quote!(#base[#index_tokens] #op_tokens #primal;));
            }
            _ => {
                self.diagnostics.error_at(
                    place,
                    "this assignment target is not supported; assign to a variable or an element `a[i]`",
                );
            }
        }
    }

    fn store_variable(&mut self, binding: &Binding, new: Value, at: &dyn ToTokens) {
        let name = binding.ident.to_string();
        if binding.runtime {
            match (&binding.value, &new) {
                (Value::Scalar(held), _) => {
                    let Some(new) = self.scalar(new, at) else { return };
                    for block in 0..self.blocks() {
                        let len = self.block_len(block);
                        let lin = new.tangent.blocks[block].clone();
                        match held.tangent.blocks[block].terms.first() {
                            Some(term) => {
                                if let crate::legacy::tangent::Basis::Row { tokens, .. } = &term.basis {
                                    lin.store_into(&tokens.clone(), &len, &mut self.b);
                                }
                            }
                            None if !lin.is_zero() => self.lost_track(&name, at),
                            None => {}
                        }
                    }
                }
                (Value::Array(held), Value::Array(new)) => {
                    let mut new = new.clone();
                    let lens: Vec<_> = (0..self.blocks()).map(|b| self.block_len(b)).collect();
                    new.materialize(&lens, "rows", &mut self.b);
                    for block in 0..self.blocks() {
                        match (&held.rows[block], &new.rows[block]) {
                            (Rows::Held { tokens, .. }, Rows::Zero) => {
                                let zero = self.b.typed_zero();
                                let (n, len) = (self.block_len(block), held.len.clone());
                                self.b.code(quote!(#tokens = [[#zero; #n]; #len];));
                            }
                            (Rows::Held { tokens, .. }, from) => {
                                let from = from.expr(&mut self.b);
                                self.b.code(quote!(#tokens = #from;));
                            }
                            (_, Rows::Zero) => {}
                            _ => self.lost_track(&name, at),
                        }
                    }
                }
                (_, new) if !new.is_active() => {}
                _ => self.lost_track(&name, at),
            }
            return;
        }
        if binding.depth != self.depth && new.is_active() {
            self.lost_track(&name, at);
            return;
        }
        // An assignment does not change a variable's type: a constant whose shape the
        // syntax does not tell (`m = K;`) has the shape the variable had.
        let new = match (new, &binding.value) {
            (
                Value::Opaque { atom, hint: Hint::Unknown },
                Value::Scalar(_) | Value::Opaque { hint: Hint::Float, .. },
            ) => Value::Opaque { atom, hint: Hint::Float },
            (
                Value::Opaque { atom, hint: Hint::Unknown },
                Value::Opaque { hint: hint @ Hint::Array(..), .. },
            ) => Value::Opaque { atom, hint: hint.clone() },
            (Value::Opaque { atom, hint: Hint::Unknown }, Value::Array(a))
                if !matches!(a.container, Container::Result) =>
            {
                Value::Opaque { atom, hint: Hint::Array(a.container.clone(), a.len.clone()) }
            }
            (new, _) => new,
        };
        let new = self.freeze(new);
        let new = match new {
            Value::Array(mut a) => {
                a.primal = Atom::place(binding.ident.to_token_stream(), true);
                Value::Array(a)
            }
            other => other,
        };
        if let Some(b) = self.lookup_mut(&name) {
            b.value = new;
        }
    }

    fn store_element(&mut self, name: &str, index: &syn::ExprIndex, new: Value, at: &dyn ToTokens) {
        let Some(binding) = self.lookup(name).cloned() else { return };
        let indices: Vec<&Expr> = match &*index.index {
            Expr::Tuple(t) => t.elems.iter().collect(),
            other => vec![other],
        };
        let indices: Vec<_> = indices.into_iter().map(|e| self.index_of(e)).collect();
        let array = match binding.value.clone() {
            Value::Array(a) => a,
            Value::Opaque { hint: Hint::Array(container, len), .. } if new.is_active() => {
                if binding.depth != self.depth && !binding.runtime {
                    self.lost_track(name, at);
                    return;
                }
                Array {
                    primal: Atom::place(binding.ident.to_token_stream(), true),
                    container,
                    len,
                    elems: None,
                    rows: vec![Rows::Zero; self.blocks()],
                }
            }
            Value::Opaque { .. } if !new.is_active() => return,
            Value::Opaque { .. } => {
                self.diagnostics.error_at(&binding.ident, format!("`#[jacobian]` cannot tell the type of `{name}`; annotate it, e.g. `let mut {name} = [0.0; N];`"));
                return;
            }
            other => {
                self.diagnostics.error_at(index, format!("cannot assign an element of {}", other.describe()));
                return;
            }
        };
        let krate = self.b.krate.clone();
        let Some(flat) = array.flat_index(&indices, &krate) else {
            self.diagnostics
                .error_at(index, "index a vector or an array with `v[i]` and a matrix with `m[(i, j)]`");
            return;
        };
        let Some(new) = self.scalar(new, at) else { return };
        // Compile-time elements stay at compile time for a literal index outside control flow.
        if let (Some(_), crate::legacy::tangent::Index::Lit(k), false) =
            (&array.elems, &flat, binding.runtime)
        {
            if binding.depth == self.depth {
                let frozen = match self.freeze(Value::Scalar(new)) {
                    Value::Scalar(s) => s,
                    _ => return,
                };
                if let Some(Binding { value: Value::Array(a), .. }) = self.lookup_mut(name) {
                    if let Some(elems) = &mut a.elems {
                        if let Some(slot) = elems.get_mut(*k) {
                            *slot = frozen;
                        }
                    }
                }
                return;
            }
        }
        if !binding.runtime {
            if binding.depth != self.depth {
                self.lost_track(name, at);
                return;
            }
            if let Some(b) = self.lookup_mut(name) {
                b.value = Value::Array(array);
            }
            self.make_runtime_now(name);
        }
        let Some(Binding { value: Value::Array(held), .. }) = self.lookup(name).cloned() else { return };
        for block in 0..self.blocks() {
            let mut lin = new.tangent.blocks[block].clone();
            match &held.rows[block] {
                Rows::Held { tokens, .. } => {
                    let k = flat.tokens();
                    let len = self.block_len(block);
                    let target = quote!(#tokens[#k]);
                    // `p[i] = p[i - 1] * x[i]`: read the other row before writing this one.
                    let prefix = format!("{tokens} [");
                    let reads_other_row = lin.terms.iter().any(|t| match &t.basis {
                        crate::legacy::tangent::Basis::Row { tokens: row, .. } => {
                            let row = row.to_string();
                            row.starts_with(&prefix) && row != target.to_string()
                        }
                        _ => false,
                    });
                    if reads_other_row {
                        let copy = self.snapshot(&lin, &len);
                        lin = Lin::row(copy.tokens, false);
                    }
                    lin.store_into(&target, &len, &mut self.b);
                }
                _ if lin.is_zero() => {}
                _ => self.lost_track(name, at),
            }
        }
    }

    /// Gives a binding run-time storage for every parameter, regardless of activity.
    fn make_runtime_now(&mut self, name: &str) {
        let Some(binding) = self.lookup(name).cloned() else { return };
        let all: std::collections::BTreeSet<usize> = (0..self.blocks()).collect();
        let value = self.runtime_storage(&binding.ident, binding.value, &all);
        if let Some(b) = self.lookup_mut(name) {
            b.value = value;
            b.runtime = true;
        }
    }

    fn lost_track(&mut self, name: &str, at: &dyn ToTokens) {
        self.diagnostics.error_at(
            at.to_token_stream(),
            format!("`#[jacobian]` could not follow how `{name}` comes to depend on the differentiated parameters here; declare `{name}` with `let mut` before the loop or branch with a value of its final type (`0.0`, `[0.0; N]`)"),
        );
    }

    /// A control-flow expression used for its value.
    pub fn control_value(&mut self, expr: &Expr) -> Value {
        match expr {
            Expr::Assign(_) => {
                self.statement_expr(expr);
                self.unit()
            }
            Expr::Return(_) | Expr::Break(_) | Expr::Continue(_) => {
                self.statement_expr(expr);
                self.unit()
            }
            _ => self.control(expr, Ctx::Value).unwrap_or_else(|| self.unit()),
        }
    }

    /// Lowers `if`, `match`, blocks and loops. With `Ctx::Value` returns the value, held in
    /// fresh variables assigned at the end of every branch.
    pub fn control(&mut self, expr: &Expr, ctx: Ctx) -> Option<Value> {
        let branch_ctx = if ctx == Ctx::Value { Ctx::Value } else { ctx };
        match expr {
            Expr::Block(block) if block.label.is_none() => {
                self.prepare_assigned(|a| a.visit_expr(expr), expr);
                let (body, tail) = self.branch(&block.block.stmts, branch_ctx);
                let mut branches = vec![(body, tail)];
                let value = self.join(&mut branches, ctx, expr);
                let (body, _) = branches.pop()?;
                self.b.push(Stmt::Block(body));
                value
            }
            Expr::If(_) => {
                self.prepare_assigned(|a| a.visit_expr(expr), expr);
                let mut conds = Vec::new();
                let mut branches = Vec::new();
                let mut current = expr;
                let mut has_else = false;
                loop {
                    match current {
                        Expr::If(e) => {
                            let cond = &e.cond;
                            conds.push(quote!(#cond));
                            let bound = match &*e.cond {
                                Expr::Let(l) => {
                                    if self.needs_lowering(&l.expr) && self.expr_is_differentiated(&l.expr) {
                                        self.diagnostics.error_at(&l.pat, "`if let` cannot bind parts of a differentiated value; test it with a comparison, or bind with `let` first");
                                    }
                                    pat_idents(&l.pat)
                                }
                                _ => Vec::new(),
                            };
                            branches.push(self.branch_binding(&bound, &e.then_branch.stmts, branch_ctx));
                            match &e.else_branch {
                                Some((_, next)) => current = next,
                                None => break,
                            }
                        }
                        Expr::Block(b) => {
                            has_else = true;
                            branches.push(self.branch(&b.block.stmts, branch_ctx));
                            break;
                        }
                        other => {
                            has_else = true;
                            let stmts = vec![syn::Stmt::Expr(other.clone(), None)];
                            branches.push(self.branch(&stmts, branch_ctx));
                            break;
                        }
                    }
                }
                if !has_else && ctx != Ctx::Discard {
                    // `if` without `else` has no value; lower as a statement.
                    branches.push((Block::default(), Tail::Unit));
                }
                let value = self.join(&mut branches, ctx, expr);
                let mut blocks: Vec<Block> = branches.into_iter().map(|(b, _)| b).collect();
                let otherwise = if has_else { blocks.pop() } else { None };
                let mut chain = otherwise;
                while blocks.len() > 1 {
                    let then = blocks.pop().unwrap_or_default();
                    let cond = conds.pop().unwrap_or_default();
                    chain = Some(Block { stmts: vec![Stmt::If { cond, then, otherwise: chain }] });
                }
                let then = blocks.pop().unwrap_or_default();
                let cond = conds.pop().unwrap_or_default();
                self.b.push(Stmt::If { cond, then, otherwise: chain });
                value
            }
            Expr::Match(m) => {
                self.prepare_assigned(|a| a.visit_expr(expr), expr);
                let mut heads = Vec::new();
                let mut branches = Vec::new();
                let scrutinee_active = self.needs_lowering(&m.expr) && self.expr_is_differentiated(&m.expr);
                for arm in &m.arms {
                    let pat = &arm.pat;
                    let guard = arm.guard.as_ref().map(|(i, g)| quote!(#i #g));
                    heads.push(quote!(#pat #guard));
                    let stmts = match &*arm.body {
                        Expr::Block(b) if b.label.is_none() => b.block.stmts.clone(),
                        other => vec![syn::Stmt::Expr(other.clone(), None)],
                    };
                    let bound = pat_idents(pat);
                    if scrutinee_active && !bound.is_empty() {
                        self.diagnostics.error_at(pat, "a `match` arm cannot bind parts of a differentiated value; match on a value that is not differentiated (a comparison, an integer), or bind with `let` first");
                    }
                    branches.push(self.branch_binding(&bound, &stmts, branch_ctx));
                }
                let value = self.join(&mut branches, ctx, expr);
                let scrutinee = &m.expr;
                let arms = heads.into_iter().zip(branches.into_iter().map(|(b, _)| b)).collect();
                self.b.push(Stmt::Match { scrutinee: quote!(#scrutinee), arms });
                value
            }
            Expr::While(w) => {
                self.prepare_assigned(|a| a.visit_expr(expr), expr);
                let (label, cond) = (&w.label, &w.cond);
                self.loops.push(LoopFrame { label: label_name(label), slot: None });
                let (body, _) = self.branch(&w.body.stmts, Ctx::Discard);
                self.loops.pop();
                self.b.push(Stmt::Loop { head: quote!(#label while #cond), body });
                self.loop_value(ctx, expr)
            }
            Expr::Loop(l) => {
                self.prepare_assigned(|a| a.visit_expr(expr), expr);
                let label = &l.label;
                let slot = if ctx == Ctx::Discard { None } else { self.break_slot(expr) };
                self.loops.push(LoopFrame { label: label_name(label), slot: slot.clone() });
                let (body, _) = self.branch(&l.body.stmts, Ctx::Discard);
                self.loops.pop();
                self.b.push(Stmt::Loop { head: quote!(#label loop), body });
                let (primal, slots) = slot?;
                let mut tangent = self.zero();
                for (block, slot) in slots {
                    tangent.blocks[block] = Lin::row(quote!(#slot), false);
                }
                let value = Value::Scalar(Scalar { primal: Atom::name(&primal), tangent });
                if ctx == Ctx::Result {
                    let result = self.finish(value, expr);
                    self.b.code(result);
                    return None;
                }
                Some(value)
            }
            Expr::ForLoop(f) => {
                self.prepare_assigned(|a| a.visit_expr(expr), expr);
                let label = &f.label;
                let pat = &f.pat;
                if !self.needs_lowering(&f.expr) {
                    let iter = &f.expr;
                    // the components of a constant array, vector or matrix are scalars
                    let element = match (&**pat, self.hint_of_expr(iter)) {
                        (syn::Pat::Ident(_), Hint::Array(..)) => Hint::Float,
                        _ => Hint::Unknown,
                    };
                    self.loops.push(LoopFrame { label: label_name(label), slot: None });
                    let (body, _) =
                        self.branch_binding_hinted(&pat_idents(pat), element, &f.body.stmts, Ctx::Discard);
                    self.loops.pop();
                    self.b.push(Stmt::Loop { head: quote!(#label for #pat in #iter), body });
                    return self.loop_value(ctx, expr);
                }
                // `for v in x` / `for v in &x` over a differentiated array: by index.
                // `for v in &x`, or `for v in x` with `x: &[f64; N]`: `v` is a reference.
                let by_ref = match &*f.expr {
                    Expr::Reference(_) => true,
                    Expr::Path(p) => {
                        p.path.get_ident().is_some_and(|i| self.by_reference.contains(&i.to_string()))
                    }
                    _ => false,
                };
                let iterable = self.expr(&f.expr);
                let Value::Array(mut array) = iterable else {
                    self.diagnostics.error_at(&f.expr, "only arrays, vectors and integer ranges can be iterated in a differentiated function");
                    return None;
                };
                let lens: Vec<_> = (0..self.blocks()).map(|b| self.block_len(b)).collect();
                array.materialize(&lens, "rows", &mut self.b);
                if !by_ref {
                    // `for v in a` iterates over a copy of `a`, which the body may change
                    // meanwhile (`a[1] += v`): read the components, and their rows, from a
                    // copy made before the loop
                    if array.primal.mutable {
                        let p = array.primal.tokens.clone();
                        let copy = self.b.typed_temp("items", None, p);
                        array.primal = Atom::place(copy, false);
                    }
                    for rows in &mut array.rows {
                        if let Rows::Held { tokens, mutable: true } = rows {
                            let copy = self.b.typed_temp("rows", None, tokens.clone());
                            *rows = Rows::Held { tokens: copy, mutable: false };
                        }
                    }
                }
                let k = self.b.fresh("k");
                let len = array.len.value();
                self.depth += 1;
                self.b.open();
                self.push_scope();
                let place = array.primal_place(&[crate::legacy::tangent::Index::Run(quote!(#k))]);
                let element = Scalar {
                    primal: Atom::place(place.clone(), array.primal.mutable),
                    tangent: array.component_tangent(&crate::legacy::tangent::Index::Run(quote!(#k))),
                };
                let binding_value = self.freeze(Value::Scalar(element));
                let binding = if by_ref { quote!(&#place) } else { place };
                self.b.code(quote!(let #pat = #binding;));
                if let syn::Pat::Ident(p) = &**pat {
                    let value = match binding_value {
                        Value::Scalar(s) => {
                            let primal =
                                if by_ref { Atom::place(quote!((*#p)), false) } else { Atom::name(&p.ident) };
                            Value::Scalar(Scalar { primal, tangent: s.tangent })
                        }
                        other => other,
                    };
                    self.bind(&p.ident, value, false);
                    if by_ref {
                        self.mark_reference(&p.ident);
                    }
                } else {
                    self.diagnostics.error_at(pat, "iterate with a plain name, `for v in x`");
                }
                self.loops.push(LoopFrame { label: label_name(label), slot: None });
                self.block_contents(&f.body.stmts, Ctx::Discard);
                self.loops.pop();
                self.pop_scope();
                let body = self.b.close();
                self.depth -= 1;
                self.b.push(Stmt::Loop { head: quote!(#label for #k in 0..#len), body });
                self.loop_value(ctx, expr)
            }
            Expr::Block(block) => {
                self.diagnostics.error_at(
                    &block.label,
                    "a labelled block over differentiated values is not supported; use `loop { … break value; }`, or an `if`",
                );
                None
            }
            other => {
                self.diagnostics.error_at(other, "this expression is not supported here");
                None
            }
        }
    }

    fn loop_value(&mut self, ctx: Ctx, at: &Expr) -> Option<Value> {
        if ctx == Ctx::Result {
            self.diagnostics.error_at(at, "a `for` or `while` loop has no value and cannot be the function's result; return the value after the loop");
        }
        None
    }

    /// For `loop` used as a value: the variables its `break v` statements assign, declared
    /// before the loop.
    fn break_slot(&mut self, expr: &Expr) -> Option<(Ident, Vec<(usize, Ident)>)> {
        let mut breaks = BreakValues::default();
        if let Expr::Loop(l) = expr {
            breaks.visit_block(&l.body);
        }
        if breaks.values.is_empty() {
            return None;
        }
        let mut blocks = std::collections::BTreeSet::new();
        for value in &breaks.values {
            blocks.extend(self.activity.of_expr(value));
        }
        let primal = self.b.fresh("value");
        self.b.code(quote!(let #primal;));
        let slots = self.declare_slots(&primal, blocks);
        Some((primal, slots))
    }

    /// `let dvalue_x;` for each parameter a value assigned later (in branches, at `break`)
    /// may depend on.
    fn declare_slots(
        &mut self,
        primal: &Ident,
        blocks: impl IntoIterator<Item = usize>,
    ) -> Vec<(usize, Ident)> {
        let mut slots = Vec::new();
        for block in blocks {
            let slot = self.b.fresh(&self.tangent_name(primal, block));
            self.b.code(quote!(let #slot;));
            slots.push((block, slot));
        }
        slots
    }

    /// `value = primal; dvalue_x = row;`: a scalar into the variables `declare_slots` made.
    fn assign_slots(&mut self, primal: &Ident, slots: &[(usize, Ident)], scalar: &Scalar) {
        let p = &scalar.primal;
        self.b.code(quote!(#primal = #p;));
        for (block, slot) in slots {
            let len = self.block_len(*block);
            let row = scalar.tangent.blocks[*block].materialize(&len, &mut self.b, "row");
            self.b.code(quote!(#slot = #row;));
        }
    }

    /// `break` or `break 'label value`: assigns the loop's value slot, then breaks.
    fn break_statement(&mut self, brk: &syn::ExprBreak) {
        let target = match &brk.label {
            Some(label) => {
                let name = label.ident.to_string();
                self.loops.iter().rposition(|f| f.label.as_deref() == Some(name.as_str()))
            }
            None => self.loops.len().checked_sub(1),
        };
        let slot = target.and_then(|t| self.loops[t].slot.clone());
        let (Some(value), Some((primal, slots))) = (&brk.expr, slot) else {
            self.b.code(quote!(#brk;));
            return;
        };
        let value = self.expr(value);
        let Some(scalar) = self.scalar(value, brk) else { return };
        self.assign_slots(&primal, &slots, &scalar);
        let label = &brk.label;
        self.b.code(quote!(break #label;));
    }

    /// Lowers a branch body in its own scope, one level deeper.
    fn branch(&mut self, stmts: &[syn::Stmt], ctx: Ctx) -> (Block, Tail) {
        self.branch_binding(&[], stmts, ctx)
    }

    /// A branch whose pattern binds `bound` (a `match` arm, `if let`, `for`): the names are
    /// constants in its scope and hide any outer variable of the same name.
    fn branch_binding(&mut self, bound: &[syn::PatIdent], stmts: &[syn::Stmt], ctx: Ctx) -> (Block, Tail) {
        self.branch_binding_hinted(bound, Hint::Unknown, stmts, ctx)
    }

    /// [`Self::branch_binding`], with what is known of the bound names' shape.
    fn branch_binding_hinted(
        &mut self,
        bound: &[syn::PatIdent],
        hint: Hint,
        stmts: &[syn::Stmt],
        ctx: Ctx,
    ) -> (Block, Tail) {
        self.depth += 1;
        self.b.open();
        self.push_scope();
        for pat in bound {
            let atom = Atom::place(pat.ident.to_token_stream(), pat.mutability.is_some());
            self.bind(&pat.ident, Value::Opaque { atom, hint: hint.clone() }, pat.mutability.is_some());
        }
        let tail = self.block_contents(stmts, ctx);
        self.pop_scope();
        let block = self.b.close();
        self.depth -= 1;
        (block, tail)
    }

    /// Joins the values of several branches into one: fresh variables declared before the
    /// construct and assigned at the end of every branch that does not diverge.
    fn join(&mut self, branches: &mut [(Block, Tail)], ctx: Ctx, at: &Expr) -> Option<Value> {
        if ctx != Ctx::Value {
            return None;
        }
        // A call result joined with scalars is a scalar.
        let has_scalar =
            branches.iter().any(|(_, t)| matches!(t, Tail::Value(v) if matches!(**v, Value::Scalar(_))));
        if has_scalar {
            for (_, tail) in branches.iter_mut() {
                if let Tail::Value(v) = tail {
                    if let Value::Array(a) = &**v {
                        if matches!(a.container, Container::Result) {
                            let scalar = self.scalar((**v).clone(), at);
                            if let Some(s) = scalar {
                                **v = Value::Scalar(s);
                            }
                        }
                    }
                }
            }
        }
        let values: Vec<&Value> = branches
            .iter()
            .filter_map(|(_, t)| match t {
                Tail::Value(v) => Some(&**v),
                _ => None,
            })
            .collect();
        let template = values.iter().find(|v| v.is_active()).or(values.first()).map(|v| (*v).clone())?;
        let active_blocks: Vec<usize> =
            (0..self.blocks()).filter(|&block| values.iter().any(|v| value_uses_block(v, block))).collect();
        let primal = self.b.fresh("value");
        self.b.code(quote!(let #primal;));
        match template {
            Value::Scalar(_) | Value::Opaque { hint: Hint::Float, .. }
                if !active_blocks.is_empty() || matches!(template, Value::Scalar(_)) =>
            {
                let slots = self.declare_slots(&primal, active_blocks);
                for (body, tail) in branches.iter_mut() {
                    let Tail::Value(value) = tail else { continue };
                    let value = (**value).clone();
                    self.b.open_with(std::mem::take(body));
                    let scalar = self
                        .scalar(value, at)
                        .unwrap_or(Scalar { primal: self.b.lit(0.0), tangent: self.zero() });
                    self.assign_slots(&primal, &slots, &scalar);
                    *body = self.b.close();
                }
                let mut tangent = self.zero();
                for (block, slot) in slots {
                    tangent.blocks[block] = Lin::row(quote!(#slot), false);
                }
                Some(Value::Scalar(Scalar { primal: Atom::name(&primal), tangent }))
            }
            Value::Array(template) => {
                let slots = self.declare_slots(&primal, active_blocks);
                let lens: Vec<_> = (0..self.blocks()).map(|b| self.block_len(b)).collect();
                for (body, tail) in branches.iter_mut() {
                    let Tail::Value(value) = tail else { continue };
                    let value = (**value).clone();
                    self.b.open_with(std::mem::take(body));
                    let p = value.primal();
                    self.b.code(quote!(#primal = #p;));
                    let mut array = match value {
                        Value::Array(a) => a,
                        _ => Array { rows: vec![Rows::Zero; self.blocks()], elems: None, ..template.clone() },
                    };
                    array.materialize(&lens, "rows", &mut self.b);
                    for (block, slot) in &slots {
                        let zero = self.b.typed_zero();
                        let (n, len) = (self.block_len(*block), array.len.clone());
                        let rows = array.rows[*block]
                            .expr(&mut self.b)
                            .unwrap_or_else(|| quote!([[#zero; #n]; #len]));
                        self.b.code(quote!(#slot = #rows;));
                    }
                    *body = self.b.close();
                }
                let mut rows = vec![Rows::Zero; self.blocks()];
                for (block, slot) in slots {
                    rows[block] = Rows::Held { tokens: quote!(#slot), mutable: false };
                }
                Some(Value::Array(Array {
                    primal: Atom::name(&primal),
                    container: template.container,
                    len: template.len,
                    elems: None,
                    rows,
                }))
            }
            Value::Tuple(_) => {
                self.diagnostics.error_at(at, "a branch producing a tuple of differentiated values is not supported; produce each component with its own `if`");
                None
            }
            other => {
                for (body, tail) in branches.iter_mut() {
                    let Tail::Value(value) = tail else { continue };
                    let p = value.primal();
                    body.stmts.push(Stmt::Code(quote!(#primal = #p;)));
                }
                let hint = match other {
                    Value::Opaque { hint, .. } => hint,
                    _ => Hint::Unknown,
                };
                Some(Value::Opaque { atom: Atom::name(&primal), hint })
            }
        }
    }
}

fn value_uses_block(value: &Value, block: usize) -> bool {
    match value {
        Value::Scalar(s) => !s.tangent.blocks[block].is_zero(),
        Value::Array(a) => match &a.elems {
            Some(elems) => elems.iter().any(|e| !e.tangent.blocks[block].is_zero()),
            None => !matches!(a.rows[block], Rows::Zero),
        },
        Value::Tuple(items) => items.iter().any(|v| value_uses_block(v, block)),
        Value::Opaque { .. } => false,
    }
}

/// An expression of float literals without a suffix alone (`0.5`, `-1.25`, `2.0 * 0.5`):
/// of type `{float}` until something else decides it.
pub fn untyped_float(expr: &Expr) -> bool {
    match expr {
        Expr::Lit(syn::ExprLit { lit: syn::Lit::Float(f), .. }) => f.suffix().is_empty(),
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => untyped_float(&u.expr),
        Expr::Paren(p) => untyped_float(&p.expr),
        Expr::Group(g) => untyped_float(&g.expr),
        Expr::Binary(b)
            if matches!(
                b.op,
                syn::BinOp::Add(_) | syn::BinOp::Sub(_) | syn::BinOp::Mul(_) | syn::BinOp::Div(_)
            ) =>
        {
            untyped_float(&b.left) && untyped_float(&b.right)
        }
        _ => false,
    }
}

fn is_diverging(expr: &Expr) -> bool {
    matches!(expr, Expr::Return(_) | Expr::Break(_) | Expr::Continue(_))
}

fn label_name(label: &Option<syn::Label>) -> Option<String> {
    label.as_ref().map(|l| l.name.ident.to_string())
}

/// The values of `break v` that leave a loop (not those of loops nested inside it, unless
/// labelled; closures are not entered).
#[derive(Default)]
struct BreakValues {
    values: Vec<Expr>,
    nested: usize,
}

impl<'ast> Visit<'ast> for BreakValues {
    fn visit_expr_break(&mut self, b: &'ast syn::ExprBreak) {
        if let Some(value) = &b.expr {
            if self.nested == 0 || b.label.is_some() {
                self.values.push((**value).clone());
            }
        }
        syn::visit::visit_expr_break(self, b);
    }

    fn visit_expr_loop(&mut self, l: &'ast syn::ExprLoop) {
        self.nested += 1;
        syn::visit::visit_expr_loop(self, l);
        self.nested -= 1;
    }

    fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
}

fn pat_idents(pat: &syn::Pat) -> Vec<syn::PatIdent> {
    struct Collect(Vec<syn::PatIdent>);
    impl<'ast> Visit<'ast> for Collect {
        fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
            self.0.push(p.clone());
        }
    }
    let mut c = Collect(Vec::new());
    c.visit_pat(pat);
    c.0
}

fn type_hint(pat: &syn::Pat) -> Hint {
    match pat {
        syn::Pat::Type(t) => super::hint_of_type(&t.ty),
        _ => Hint::Unknown,
    }
}

impl Lowerer<'_> {
    /// Whether an expression's value carries a derivative (lowering it in a scratch block
    /// that is thrown away).
    pub fn expr_is_differentiated(&mut self, expr: &Expr) -> bool {
        let scopes = self.save_scopes();
        self.b.open();
        let muted = self.diagnostics.mute();
        let value = self.expr(expr);
        // A value that could not be lowered may well carry a derivative: assume it does.
        let active = value.is_active() || value.is_poison() || self.diagnostics.errors_since(muted);
        self.diagnostics.unmute(muted);
        self.b.close();
        self.restore_scopes(scopes);
        active
    }
}
