//! `break`, `continue` (labelled or not) and `return` anywhere in the body, and `loop` as a
//! value, lowered to the IR's structured control flow with flags.
//!
//! Every jump target (the function, a loop) has a flag that a jump to it sets (`return` or
//! `break`: the target is left; `continue`: the iteration is). The flags are `Opaque` SSA
//! variables of the macro's, bound in the scopes like the user's mutable variables, so that
//! branches and loops thread them as results and carried values, and reverse mode
//! recomputes them as it recomputes any value that is never differentiated. After a
//! statement that may have set one, the rest of its block runs only where none is set; a
//! loop stops (a `for` skips its remaining iterations) once one of the flags it may set is;
//! the value a jump leaves with (`return v`, `break v`) is kept in a variable of the
//! macro's too, and a `loop` is a `While` whose test is its whole body.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{Expr, Stmt};

use super::super::{messages, refused, unsupported, Front, Operand, Result, Stop, Var};
use super::{is_statement_like, GoOn};
use crate::ir::{Code, Op, Type, Value};

/// Something `break`, `continue` or `return` leaves.
#[derive(Clone, Debug)]
pub(in crate::front) struct Exit {
    /// `None`: the function; `Some(label)`: a loop, with its label if it has one.
    target: Option<Option<String>>,
    /// The flag `return` or `break` sets (if the code ever does).
    leave: Option<String>,
    /// The flag `continue` sets, until the iteration ends (loops).
    next: Option<String>,
    /// The variable the value left with is kept in (`return v`, `break v`), and the site
    /// under which its type is remembered from one lowering round to the next.
    value: Option<(String, usize)>,
}

/// A jump out of some code.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Jump {
    Break { label: Option<String>, value: bool },
    Continue { label: Option<String> },
    Return,
}

/// The jumps in `stmts` that leave them: `return`, and `break`/`continue` of no loop
/// inside them (closures and items have jumps of their own).
pub(super) fn jumps_in(stmts: &[Stmt]) -> Vec<Jump> {
    let mut finder = Jumps::default();
    for stmt in stmts {
        finder.visit_stmt(stmt);
    }
    finder.found
}

/// The jumps that leave `e` (a loop's own `break`s do not leave it).
pub(super) fn jumps_of(e: &Expr) -> Vec<Jump> {
    let mut finder = Jumps::default();
    finder.visit_expr(e);
    finder.found
}

/// The values a `loop` leaves with: those of the `break`s that leave its body unlabelled or
/// naming its label.
pub(in crate::front) fn loop_values(l: &syn::ExprLoop) -> Vec<Expr> {
    let mut finder = Jumps::default();
    finder.visit_block(&l.body);
    let own = l.label.as_ref().map(|l| l.name.ident.to_string());
    finder.values.into_iter().filter(|(label, _)| label.is_none() || *label == own).map(|(_, v)| v).collect()
}

#[derive(Default)]
struct Jumps {
    /// The loops around the code being visited, inside the code searched, by label.
    loops: Vec<Option<String>>,
    /// Labelled blocks likewise (`'a: { … break 'a; … }`).
    blocks: Vec<String>,
    found: Vec<Jump>,
    /// The values of the `break`s found, by label.
    values: Vec<(Option<String>, Expr)>,
}

impl Jumps {
    fn leaves(&self, label: Option<&syn::Lifetime>) -> Option<Option<String>> {
        match label.map(|l| l.ident.to_string()) {
            None if self.loops.is_empty() => Some(None),
            None => None,
            Some(l) if self.loops.contains(&Some(l.clone())) || self.blocks.contains(&l) => None,
            Some(l) => Some(Some(l)),
        }
    }
}

impl<'ast> Visit<'ast> for Jumps {
    fn visit_expr_break(&mut self, b: &'ast syn::ExprBreak) {
        if let Some(label) = self.leaves(b.label.as_ref()) {
            if let Some(value) = &b.expr {
                self.values.push((label.clone(), (**value).clone()));
            }
            self.found.push(Jump::Break { label, value: b.expr.is_some() });
        }
        syn::visit::visit_expr_break(self, b);
    }
    fn visit_expr_continue(&mut self, c: &'ast syn::ExprContinue) {
        if let Some(label) = self.leaves(c.label.as_ref()) {
            self.found.push(Jump::Continue { label });
        }
    }
    fn visit_expr_return(&mut self, r: &'ast syn::ExprReturn) {
        self.found.push(Jump::Return);
        syn::visit::visit_expr_return(self, r);
    }
    fn visit_expr_loop(&mut self, l: &'ast syn::ExprLoop) {
        self.loops.push(l.label.as_ref().map(|l| l.name.ident.to_string()));
        syn::visit::visit_expr_loop(self, l);
        self.loops.pop();
    }
    fn visit_expr_while(&mut self, w: &'ast syn::ExprWhile) {
        self.loops.push(w.label.as_ref().map(|l| l.name.ident.to_string()));
        syn::visit::visit_expr_while(self, w);
        self.loops.pop();
    }
    fn visit_expr_for_loop(&mut self, f: &'ast syn::ExprForLoop) {
        // (The iterated expression is outside the loop.)
        self.visit_expr(&f.expr);
        self.loops.push(f.label.as_ref().map(|l| l.name.ident.to_string()));
        self.visit_block(&f.body);
        self.loops.pop();
    }
    fn visit_expr_block(&mut self, b: &'ast syn::ExprBlock) {
        match &b.label {
            Some(label) => {
                self.blocks.push(label.name.ident.to_string());
                syn::visit::visit_expr_block(self, b);
                self.blocks.pop();
            }
            None => syn::visit::visit_expr_block(self, b),
        }
    }
    fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    fn visit_expr_async(&mut self, _: &'ast syn::ExprAsync) {}
    fn visit_item(&mut self, _: &'ast syn::Item) {}
}

/// Does a closure or a function defined in the body `return`? (Applied where it is called,
/// its `return` would be taken for the function's.)
fn closures_return(stmts: &[Stmt]) -> bool {
    struct Finder(bool);
    impl<'ast> Visit<'ast> for Finder {
        fn visit_expr_closure(&mut self, c: &'ast syn::ExprClosure) {
            self.0 |= jumps_of(&c.body).contains(&Jump::Return);
            syn::visit::visit_expr_closure(self, c);
        }
        fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
            self.0 |= jumps_in(&f.block.stmts).contains(&Jump::Return);
        }
    }
    let mut finder = Finder(false);
    for stmt in stmts {
        finder.visit_stmt(stmt);
    }
    finder.0
}

fn returns(stmts: &[Stmt]) -> usize {
    jumps_in(stmts).iter().filter(|j| **j == Jump::Return).count()
}

/// Does `Front::tail` take every `return` of the body: none, a final `return v;`, or one
/// guard clause `if c { …; return v; }` with no other `return`?
pub(super) fn tail_takes(stmts: &[Stmt]) -> bool {
    let all = returns(stmts);
    if all == 0 || closures_return(stmts) {
        return true;
    }
    if let Some(Stmt::Expr(Expr::Return(_), _)) = stmts.last() {
        return all == 1;
    }
    let guard = stmts.iter().position(|s| match s {
        Stmt::Expr(Expr::If(i), _) => {
            i.else_branch.is_none()
                && matches!(i.then_branch.stmts.last(), Some(Stmt::Expr(Expr::Return(r), _)) if r.expr.is_some())
        }
        _ => false,
    });
    match guard {
        Some(k) => {
            let Stmt::Expr(Expr::If(i), _) = &stmts[k] else { return false };
            returns(&i.then_branch.stmts) == 1 && all == 1 && jumps_of(&i.cond).is_empty()
        }
        None => false,
    }
}

/// Does this arm end by jumping away (so that it has no value)?
pub(super) fn diverges(block: &syn::Block) -> bool {
    matches!(block.stmts.last(), Some(Stmt::Expr(Expr::Break(_) | Expr::Continue(_) | Expr::Return(_), _)))
}

/// `a || b || …` of flags, by name.
fn any(flags: &[String]) -> TokenStream {
    let mut names = flags.iter().map(|f| syn::Ident::new(f, Span::call_site()));
    let first = names.next().map(|n| quote!(#n)).unwrap_or_else(|| quote!(false));
    names.fold(first, |all, n| quote!(#all || #n))
}

impl Front<'_> {
    /// The flags of every exit, with their current values.
    pub(super) fn flags(&self) -> Vec<(String, Value)> {
        let mut out = Vec::new();
        for exit in &self.exits {
            for name in exit.leave.iter().chain(&exit.next) {
                if let Some(value) = self.ssa(name) {
                    out.push((name.clone(), value));
                }
            }
        }
        out
    }

    /// The flags of `before` that have changed since.
    pub(super) fn raised(&self, before: &[(String, Value)]) -> Vec<String> {
        before
            .iter()
            .filter(|(name, value)| self.ssa(name) != Some(*value))
            .map(|(name, _)| name.clone())
            .collect()
    }

    pub(super) fn new_flag(&mut self, name: &str, span: Span) {
        let value = self.push1(Op::Code(Code { tokens: quote!(false) }), Vec::new(), Type::Opaque, span);
        self.bind(name.to_owned(), Var::Ssa { value, mutable: true, reference: false });
    }

    fn set(&mut self, name: &str, value: Value, at: &dyn ToTokens) -> Result<()> {
        match self.lookup_mut(name) {
            Some(Var::Ssa { value: slot, .. }) => {
                *slot = value;
                Ok(())
            }
            _ => unsupported(at, "this jump"),
        }
    }

    fn raise(&mut self, name: &str, at: &dyn ToTokens) -> Result<()> {
        let value = self.push1(Op::Code(Code { tokens: quote!(true) }), Vec::new(), Type::Opaque, at.span());
        self.set(name, value, at)
    }

    /// A value of type `ty` that is never read: the value of a path that jumps away.
    pub(super) fn placeholder(&mut self, ty: &Type, at: &dyn ToTokens) -> Result<Value> {
        let span = at.span();
        Ok(match ty {
            // (A method call, not `Default::default()`: `opt` takes it for code without
            // effects and removes it where nothing reads it, where its type would be
            // unknown.)
            Type::Opaque => self.push1(
                Op::Code(Code { tokens: quote!(::core::option::Option::None.unwrap_or_default()) }),
                Vec::new(),
                Type::Opaque,
                span,
            ),
            Type::Scalar => self.push1(Op::Literal(0.0), Vec::new(), Type::Scalar, span),
            Type::Array(elem, _) => {
                let inner = self.placeholder(elem, at)?;
                self.push1(Op::Splat, vec![inner], ty.clone(), span)
            }
            Type::Vector(_) | Type::Matrix(..) => {
                let zero = self.push1(Op::Literal(0.0), Vec::new(), Type::Scalar, span);
                self.push1(Op::Splat, vec![zero], ty.clone(), span)
            }
            Type::Tuple(_) => {
                return unsupported(
                    at,
                    "a tuple left with by `return` or `break` from inside a loop or branch",
                )
            }
        })
    }

    /// The statements after one that may have set `flags`: run only where none is set.
    pub(super) fn guarded(
        &mut self,
        flags: &[String],
        rest: &[Stmt],
        want_value: bool,
        at: &Stmt,
    ) -> Result<Option<Operand>> {
        if want_value && matches!(rest.last(), Some(Stmt::Expr(e, None)) if !is_statement_like(e)) {
            return unsupported(
                at,
                "a jump (`break`, `continue`, `return`) in a block that has a value; move it out of the block",
            );
        }
        let condition = any(flags);
        let guard: Expr = syn::parse_quote!(if !(#condition) { #(#rest)* });
        self.if_expr(&guard, false)?;
        Ok(None)
    }

    /// The innermost loop a `break` or `continue` with this label leaves.
    fn target(&self, label: Option<&syn::Lifetime>, at: &dyn ToTokens) -> Result<usize> {
        let label = label.map(|l| l.ident.to_string());
        let found = self.exits.iter().rposition(|exit| match (&exit.target, &label) {
            (Some(_), None) => true,
            (Some(Some(own)), Some(wanted)) => own == wanted,
            _ => false,
        });
        match found {
            Some(k) => Ok(k),
            None => unsupported(at, "this jump"),
        }
    }

    pub(super) fn break_stmt(&mut self, b: &syn::ExprBreak) -> Result<()> {
        let k = self.target(b.label.as_ref(), b)?;
        if let Some(value) = &b.expr {
            self.leave_with(k, value, b)?;
        }
        let Some(leave) = self.exits[k].leave.clone() else { return unsupported(b, "this `break`") };
        self.raise(&leave, b)
    }

    pub(super) fn continue_stmt(&mut self, c: &syn::ExprContinue) -> Result<()> {
        let k = self.target(c.label.as_ref(), c)?;
        let Some(next) = self.exits[k].next.clone() else { return unsupported(c, "this `continue`") };
        self.raise(&next, c)
    }

    pub(super) fn return_stmt(&mut self, r: &syn::ExprReturn) -> Result<()> {
        let Some(k) = self.exits.iter().position(|exit| exit.target.is_none()) else {
            return unsupported(r, "an early `return`");
        };
        let Some(value) = &r.expr else { return refused(r, messages::RETURN) };
        self.leave_with(k, value, r)?;
        let Some(leave) = self.exits[k].leave.clone() else { return unsupported(r, "this `return`") };
        self.raise(&leave, r)
    }

    /// Keeps the value a `break` or `return` leaves exit `k` with. The variable it goes in
    /// is bound before the loop (or the body), as the type of a value left with: until one
    /// has been lowered, the type is unknown, and the function is lowered again.
    fn leave_with(&mut self, k: usize, value: &Expr, at: &dyn ToTokens) -> Result<()> {
        let Some((slot, site)) = self.exits[k].value.clone() else {
            return unsupported(value, "`break` with a value out of a `for` or `while` loop");
        };
        let operand = self.value_expr(value)?;
        let ty = match &operand {
            Operand::Value(v) => self.f.ty(*v).clone(),
            Operand::Code { .. } => Type::Opaque,
        };
        let current = self.ssa(&slot).map(|v| self.f.ty(v).clone());
        match current {
            None => {
                self.promoted.insert(site, ty);
                Err(Stop::Restart)
            }
            Some(Type::Opaque) if ty.is_differentiable() => {
                self.promoted.insert(site, ty);
                Err(Stop::Restart)
            }
            Some(slot_type) => {
                let v = self.operand_as(operand, &slot_type, value)?;
                self.set(&slot, v, at)
            }
        }
    }

    /// An expression for its value; a `loop` (or `while`) that reads differentiated values
    /// or jumps out is lowered here (`let s = loop { … break v; };`).
    pub(super) fn value_expr(&mut self, e: &Expr) -> Result<Operand> {
        match e {
            Expr::Loop(_) if self.reads_ssa(e) || !jumps_of(e).is_empty() => {
                // (The context's type is for a call, not for what the loop contains.)
                self.expected = None;
                match self.loop_with_jumps(e, true)? {
                    Some(value) => Ok(value),
                    None => unsupported(e, "a `loop` without a value where a value is needed"),
                }
            }
            _ => self.expr(e),
        }
    }

    /// The function's body when it has `return`s other than those `tail` takes: every
    /// `return v` (and the tail expression) keeps `v` in the result variable and sets the
    /// function's flag, and the code after runs only where it is not set.
    pub(super) fn body_with_returns(&mut self, block: &syn::Block) -> Result<Option<Operand>> {
        let site = self.sites;
        self.sites += 1;
        let leave = format!("__jacobian_flow_return{site}");
        let slot = format!("__jacobian_flow_result{site}");
        self.new_flag(&leave, block.span());
        if let Some(ty) = self.promoted.get(&site).cloned() {
            let value = self.placeholder(&ty, block)?;
            self.bind(slot.clone(), Var::Ssa { value, mutable: true, reference: false });
        }
        self.exits.push(Exit {
            target: None,
            leave: Some(leave),
            next: None,
            value: Some((slot.clone(), site)),
        });
        let mut stmts = block.stmts.clone();
        if let Some(Stmt::Expr(tail, None)) = stmts.last().cloned() {
            if !is_statement_like(&tail) {
                stmts.pop();
                stmts.extend(returned(&tail)?);
            }
        }
        self.statements(&stmts, false)?;
        self.exits.pop();
        Ok(self.ssa(&slot).map(Operand::Value))
    }

    /// A `for` loop whose body jumps (`jumps`, after `skip_to_next`): its flags are
    /// bound, and its body runs only while none of those it may set is.
    pub(super) fn for_with_jumps(
        &mut self,
        for_loop: &syn::ExprForLoop,
        body: Vec<Stmt>,
        jumps: &[Jump],
    ) -> Result<()> {
        if let Expr::Range(range) = &*for_loop.expr {
            if range.end.is_none() {
                return unsupported(
                    &for_loop.expr,
                    "a `for` loop over an unbounded range that jumps out; write it as `loop`",
                );
            }
        }
        let label = for_loop.label.as_ref().map(|l| l.name.ident.to_string());
        let (exit, stop) = self.enter_loop(label, jumps, for_loop)?;
        let body = match stop {
            Some(stop) => vec![syn::parse_quote!(if !(#stop) { #(#body)* })],
            None => body,
        };
        let next = exit.next.clone();
        self.exits.push(exit);
        self.for_loop_with(for_loop, &body, next.as_deref())?;
        self.exits.pop();
        Ok(())
    }

    /// `loop` and `while` with jumps anywhere in them, or a `loop` for its value: a
    /// `While` whose test runs the whole body (a `while`'s condition first) and goes on
    /// while no flag that stops the loop is set.
    pub(super) fn loop_with_jumps(&mut self, e: &Expr, want_value: bool) -> Result<Option<Operand>> {
        let (label, body, condition) = match e {
            Expr::Loop(l) => (&l.label, &l.body.stmts, None),
            Expr::While(w) => (&w.label, &w.body.stmts, Some(&*w.cond)),
            _ => return unsupported(e, "this loop"),
        };
        if let Some(condition @ Expr::Let(_)) = condition {
            return unsupported(condition, "`while let` on differentiated values");
        }
        let label = label.as_ref().map(|l| l.name.ident.to_string());
        let mut jumps = jumps_in(body);
        let mut stmts = body.clone();
        if let Some(condition) = condition {
            jumps.push(Jump::Break { label: None, value: false });
            stmts = vec![syn::parse_quote!(if #condition { #(#body)* } else { break; })];
        }
        let (exit, stop) = self.enter_loop(label, &jumps, e)?;
        let Some(stop) = stop else {
            return unsupported(e, "a `loop` that never ends");
        };
        let stop: Expr = syn::parse_quote!(#stop);
        let (next, value) = (exit.next.clone(), exit.value.clone());
        self.exits.push(exit);
        self.while_loop(e, &stmts, GoOn::UnlessBreak(&stop), &[], next.as_deref())?;
        self.exits.pop();
        if !want_value {
            return Ok(None);
        }
        match value.and_then(|(slot, _)| self.ssa(&slot)) {
            Some(v) => Ok(Some(Operand::Value(v))),
            None => unsupported(e, "a `loop` as a value with no `break` with a value"),
        }
    }

    /// Binds the flags (and the value's variable) of a loop whose body has `jumps`, and
    /// returns its exit and the condition that stops it (none if nothing does).
    fn enter_loop(
        &mut self,
        label: Option<String>,
        jumps: &[Jump],
        at: &dyn ToTokens,
    ) -> Result<(Exit, Option<TokenStream>)> {
        let site = self.sites;
        self.sites += 1;
        let own = |l: &Option<String>| l.is_none() || *l == label;
        let breaks = jumps.iter().any(|j| matches!(j, Jump::Break { label: l, .. } if own(l)));
        let continues = jumps.iter().any(|j| matches!(j, Jump::Continue { label: l } if own(l)));
        let valued = jumps.iter().any(|j| matches!(j, Jump::Break { label: l, value: true } if own(l)));
        let leave = breaks.then(|| format!("__jacobian_flow_break{site}"));
        if let Some(leave) = &leave {
            self.new_flag(leave, at.span());
        }
        let next = continues.then(|| format!("__jacobian_flow_continue{site}"));
        let value = if valued {
            let slot = format!("__jacobian_flow_value{site}");
            if let Some(ty) = self.promoted.get(&site).cloned() {
                let value = self.placeholder(&ty, at)?;
                self.bind(slot.clone(), Var::Ssa { value, mutable: true, reference: false });
            }
            Some((slot, site))
        } else {
            None
        };
        let mut stop: Vec<String> = leave.iter().cloned().collect();
        for jump in jumps {
            let flag = match jump {
                Jump::Break { label: l, .. } | Jump::Continue { label: l } if own(l) => continue,
                Jump::Return => self.exits.iter().find(|e| e.target.is_none()).and_then(|e| e.leave.clone()),
                Jump::Break { label: Some(l), .. } => self
                    .exits
                    .iter()
                    .rev()
                    .find(|e| e.target == Some(Some(l.clone())))
                    .and_then(|e| e.leave.clone()),
                Jump::Continue { label: Some(l) } => self
                    .exits
                    .iter()
                    .rev()
                    .find(|e| e.target == Some(Some(l.clone())))
                    .and_then(|e| e.next.clone()),
                _ => None,
            };
            let Some(flag) = flag else {
                return unsupported(at, "a jump out of this loop to where the macro cannot follow it");
            };
            if !stop.contains(&flag) {
                stop.push(flag);
            }
        }
        let exit = Exit { target: Some(label), leave, next, value };
        Ok((exit, (!stop.is_empty()).then(|| any(&stop))))
    }
}

/// The tail expression of a body with `return`s, as statements that return its value:
/// `return e;`, or, where `e` itself returns, the `return` moved into its branches.
fn returned(e: &Expr) -> Result<Vec<Stmt>> {
    if !jumps_of(e).contains(&Jump::Return) {
        return Ok(vec![syn::parse_quote!(return #e;)]);
    }
    let block = |b: &syn::Block| -> Result<syn::Block> {
        let mut out = b.clone();
        if let Some(Stmt::Expr(tail, None)) = out.stmts.last().cloned() {
            if !is_statement_like(&tail) {
                out.stmts.pop();
                out.stmts.extend(returned(&tail)?);
            }
        }
        Ok(out)
    };
    match e {
        Expr::Paren(p) => returned(&p.expr),
        Expr::Return(_) => Ok(vec![Stmt::Expr(e.clone(), Some(Default::default()))]),
        Expr::Block(b) if b.label.is_none() => {
            let inner = block(&b.block)?;
            Ok(vec![syn::parse_quote!(#inner)])
        }
        Expr::If(i) => {
            let Some((_, otherwise)) = &i.else_branch else {
                return unsupported(e, "an `if` without `else` as the body's value");
            };
            let condition = &i.cond;
            let then = block(&i.then_branch)?;
            let otherwise = returned(otherwise)?;
            Ok(vec![syn::parse_quote!(if #condition #then else { #(#otherwise)* })])
        }
        Expr::Match(m) => {
            let mut m = m.clone();
            for arm in &mut m.arms {
                let body = returned(&arm.body)?;
                *arm.body = syn::parse_quote!({ #(#body)* });
                arm.comma = Some(Default::default());
            }
            Ok(vec![Stmt::Expr(Expr::Match(m), None)])
        }
        _ => unsupported(e, "a `return` inside this expression"),
    }
}
