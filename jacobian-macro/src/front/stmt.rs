//! Statements and control flow: `let`, assignment, blocks, `if`, `for`, `while`, `loop`;
//! jumps (`break`, `continue`, `return`) in `flow`.

pub(super) mod flow;
mod patterns;
pub(super) use patterns::binding_names;

pub(super) use flow::Exit;

use quote::{quote, ToTokens};
use syn::spanned::Spanned;
use syn::{Expr, Stmt};

use super::expr::is_compound_assign;
use super::{messages, refused, replace_uses, unsupported, Front, Operand, Result, Stop, Var};
use crate::ir::{Block, Code, Op, Path, Position, Type, Value};
use flow::{jumps_in, jumps_of};

impl Front<'_> {
    /// The function's body: its statements and the value it ends with (a tail expression or
    /// a final `return`).
    pub(super) fn body(&mut self, block: &syn::Block) -> Result<Option<Operand>> {
        if flow::tail_takes(&block.stmts) {
            return self.tail(&block.stmts);
        }
        self.body_with_returns(block)
    }

    /// Statements that end the function: a final `return v;` is `v`, and a guard clause
    /// `if c { …; return v; }` is `if c { …; v } else { the rest }`.
    fn tail(&mut self, stmts: &[Stmt]) -> Result<Option<Operand>> {
        if let Some(Stmt::Expr(Expr::Return(ret), _)) = stmts.last() {
            let Some(value) = &ret.expr else { return refused(ret, messages::RETURN) };
            self.statements(&stmts[..stmts.len() - 1], false)?;
            return self.expr(value).map(Some);
        }
        let guard = stmts.iter().position(|s| match s {
            Stmt::Expr(Expr::If(i), _) => {
                i.else_branch.is_none()
                    && matches!(i.then_branch.stmts.last(), Some(Stmt::Expr(Expr::Return(r), _)) if r.expr.is_some())
            }
            _ => false,
        });
        let Some(k) = guard else { return self.statements(stmts, true) };
        let Stmt::Expr(Expr::If(guard), _) = &stmts[k] else { return self.statements(stmts, true) };
        self.statements(&stmts[..k], false)?;
        // Returns elsewhere in the guard (nested) are still refused by `statement`.
        let mut then = guard.then_branch.clone();
        if let Some(Stmt::Expr(Expr::Return(r), _)) = then.stmts.pop() {
            if let Some(value) = r.expr {
                then.stmts.push(Stmt::Expr(*value, None));
            }
        }
        let rest = &stmts[k + 1..];
        let condition = &guard.cond;
        let chain: Expr = syn::parse_quote!(if #condition #then else { #(#rest)* });
        self.if_expr(&chain, true)
    }

    /// A block expression's statements in a scope of their own (no IR region: the block's
    /// SSA values flow on; its Rust variables must not shadow outer ones, since the
    /// emitted code has no block to end their scope).
    pub(super) fn scoped_block(&mut self, block: &syn::Block, want_value: bool) -> Result<Option<Operand>> {
        let block = self.unshadowed(block);
        self.push_scope();
        let tail = self.statements(&block.stmts, want_value);
        let scope = self.pop_scope();
        for (name, var) in &scope {
            if matches!(var, Var::Rust { .. }) && self.lookup(name).is_some() {
                return unsupported(&block, "a block that shadows a variable with a `let`");
            }
        }
        tail
    }

    /// Statements in order; when `want_value`, the value of a final expression without `;`.
    /// After a statement that may have jumped (set a flag of `flow`), the rest runs only
    /// where it has not.
    fn statements(&mut self, stmts: &[Stmt], want_value: bool) -> Result<Option<Operand>> {
        for (i, stmt) in stmts.iter().enumerate() {
            let last = i + 1 == stmts.len();
            let flags = if last { Vec::new() } else { self.flags() };
            match stmt {
                Stmt::Expr(e, None) if last && want_value && !is_statement_like(e) => {
                    return self.value_expr(e).map(Some)
                }
                stmt => {
                    let depth = self.scopes.len();
                    match self.one_statement(stmt, &stmts[i + 1..]) {
                        Err(Stop::Unsupported(problem)) => {
                            self.recover(stmt, problem, depth);
                            continue;
                        }
                        done => done?,
                    }
                }
            }
            let raised = self.raised(&flags);
            if !raised.is_empty() {
                return self.guarded(&raised, &stmts[i + 1..], want_value, stmt);
            }
        }
        Ok(None)
    }

    /// After a statement the macro does not take: its problem kept for the user (unless
    /// the statement reads a variable an earlier problem left undefined: one error, not a
    /// cascade), the scopes it opened closed, the names it binds bound to nothing the
    /// macro differentiates, and on with the next statement, so that one compilation
    /// shows every problem.
    fn recover(&mut self, stmt: &Stmt, problem: super::Unsupported, depth: usize) {
        while self.scopes.len() > depth {
            self.pop_scope();
        }
        if !self.mentions_failed(&stmt.to_token_stream()) {
            self.errors.push(problem);
        }
        match stmt {
            Stmt::Local(local) => {
                for name in binding_names(&local.pat) {
                    self.failed.insert(name.to_string());
                    self.bind(name.to_string(), Var::Rust { site: None, ty: None });
                }
            }
            // (A variable it assigns keeps its old value here: later problems with it are
            // likely this one again.)
            Stmt::Expr(e, _) => {
                if let Some(root) = assigned_root(e) {
                    self.failed.insert(root.to_string());
                }
            }
            _ => {}
        }
    }

    /// Whether code names a variable whose statement the macro did not take.
    pub(super) fn mentions_failed(&self, tokens: &proc_macro2::TokenStream) -> bool {
        !self.failed.is_empty()
            && tokens.clone().into_iter().any(|tree| match tree {
                proc_macro2::TokenTree::Ident(ident) => self.failed.contains(&ident.to_string()),
                proc_macro2::TokenTree::Group(group) => self.mentions_failed(&group.stream()),
                _ => false,
            })
    }

    /// Why `let pat = init;` cannot destructure a differentiated value.
    fn pattern_problem(&self, pat: &syn::Pat, init: &Expr) -> String {
        let kind = match pat {
            syn::Pat::Tuple(_) => "a tuple pattern",
            syn::Pat::Slice(_) => "an array pattern",
            _ => "this pattern",
        };
        let value = match init {
            Expr::Path(path) => path.path.get_ident().and_then(|i| self.ssa(&i.to_string())),
            _ => None,
        };
        match value.map(|v| self.f.ty(v)) {
            Some(ty @ (Type::Vector(_) | Type::Matrix(..))) => {
                format!("cannot destructure {} with {kind}; index its components, `let a = v[0];`", messages::describe(ty))
            }
            Some(ty) => format!("cannot destructure {} with {kind}", messages::describe(ty)),
            None => format!("{kind} cannot destructure this differentiated value; bind it to a name first, or destructure a tuple or array literal"),
        }
    }

    /// One statement, not the block's value; `rest` follows it.
    fn one_statement(&mut self, stmt: &Stmt, rest: &[Stmt]) -> Result<()> {
        match stmt {
            Stmt::Local(local) => {
                self.expected_of_call = Self::call_result_type(local, rest);
                self.local(local)
            }
            Stmt::Expr(e, _) => self.statement(e),
            Stmt::Macro(mac) => self.effect(mac.to_token_stream(), mac),
            Stmt::Item(item) => match item {
                // A function defined in the body: kept as written (for calls that are not
                // differentiated), and applied like a closure where it is called.
                syn::Item::Fn(function) => {
                    if !function.sig.generics.params.is_empty() || function.sig.asyncness.is_some() {
                        return unsupported(item, "a generic or async function defined in the body");
                    }
                    if let Some(receiver) = function.sig.receiver() {
                        return unsupported(receiver, "a method defined in the body");
                    }
                    let Some(closure) = super::iter::closure_of(&function.sig, &function.block) else {
                        return unsupported(item, "this function defined in the body");
                    };
                    // (An item sees no local of the body: nothing in it is an SSA value,
                    // whatever its parameters are called.)
                    self.push(
                        Op::Code(Code { tokens: item.to_token_stream() }),
                        Vec::new(),
                        &[],
                        item.span(),
                    );
                    let closure = super::iter::Closure { expr: closure, captured: Vec::new() };
                    self.bind(function.sig.ident.to_string(), Var::Closure(Box::new(closure)));
                    Ok(())
                }
                _ => self.effect(item.to_token_stream(), item),
            },
        }
    }

    /// A statement that reads no SSA value (a loop with `break`s of its own), as it is.
    fn verbatim(&mut self, e: &Expr) {
        self.push(Op::Code(Code { tokens: quote!(#e;) }), Vec::new(), &[], e.span());
    }

    /// Code run for its effects, with holes for the SSA values it reads.
    fn effect(&mut self, tokens: proc_macro2::TokenStream, at: &dyn ToTokens) -> Result<()> {
        let (tokens, holes) = self.holes(tokens, at)?;
        self.push(Op::Code(Code { tokens }), holes, &[], at.span());
        Ok(())
    }

    /// An expression statement.
    fn statement(&mut self, e: &Expr) -> Result<()> {
        match e {
            Expr::Assign(assign) => self.assign(&assign.left, None, &assign.right, e),
            Expr::Binary(binary) if is_compound_assign(&binary.op) => {
                self.assign(&binary.left, Some(&binary.op), &binary.right, e)
            }
            Expr::If(_) => self.if_expr(e, false).map(drop),
            Expr::ForLoop(for_loop) => self.for_loop(for_loop, e),
            Expr::Block(block) if block.label.is_none() => self.scoped_block(&block.block, false).map(drop),
            Expr::Paren(p) => self.statement(&p.expr),
            Expr::Return(r) => self.return_stmt(r),
            Expr::Break(b) => self.break_stmt(b),
            Expr::Continue(c) => self.continue_stmt(c),
            // A loop of the user's code alone stays as it is, its jumps its own.
            Expr::While(_) | Expr::Loop(_) if !self.reads_ssa(e) && jumps_of(e).is_empty() => {
                self.verbatim(e);
                Ok(())
            }
            Expr::While(w) if w.label.is_none() && jumps_in(&w.body.stmts).is_empty() => {
                self.while_loop(e, &[], GoOn::While(&w.cond), &w.body.stmts, None)
            }
            Expr::Loop(l) if l.label.is_none() && jumps_of(e).is_empty() => match break_at(&l.body.stmts) {
                Some((k, condition)) if !l.body.stmts[..k].iter().any(|s| matches!(s, Stmt::Local(_))) => {
                    let (before, after) = (&l.body.stmts[..k], &l.body.stmts[k + 1..]);
                    self.while_loop(e, before, GoOn::UnlessBreak(condition), after, None)
                }
                _ => self.loop_with_jumps(e, false).map(drop),
            },
            Expr::While(_) | Expr::Loop(_) => self.loop_with_jumps(e, false).map(drop),
            Expr::Match(m) if self.reads_ssa(e) || !jumps_of(e).is_empty() => match self.match_as_if(m)? {
                chain @ Expr::If(_) => self.if_expr(&chain, false).map(drop),
                only => self.statement(&only),
            },
            _ if !self.reads_ssa(e) && jumps_of(e).is_empty() => self.effect(quote!(#e;), e),
            Expr::Match(_) | Expr::Block(_) => unsupported(e, "this control flow"),
            _ => self.expr(e).map(drop),
        }
    }

    /// `let`: an SSA variable when its value (or annotation) is differentiable, otherwise
    /// the user's own `let`, verbatim.
    fn local(&mut self, local: &syn::Local) -> Result<()> {
        let site = self.sites;
        self.sites += 1;
        let (pat, annotation) = match &local.pat {
            syn::Pat::Type(typed) => (&*typed.pat, Some(&*typed.ty)),
            pat => (pat, None),
        };
        let syn::Pat::Ident(ident) = pat else {
            if matches!(&local.init, Some(init) if init.diverge.is_some()) {
                return self.let_else(local);
            }
            if !self.local_reads_ssa(local) {
                let tokens = self.typed_tuple_let(local).unwrap_or_else(|| local.to_token_stream());
                return self.effect(tokens, local);
            }
            return match (&local.init, annotation) {
                (Some(init), None) if init.diverge.is_none() => self.destructure(pat, &init.expr),
                _ => refused(pat, "destructure a differentiated value without a type annotation, `let (a, b) = …;`, or bind it to one name with its type, `let v: Vector<2> = …;`"),
            };
        };
        if ident.by_ref.is_some() || ident.subpat.is_some() {
            return refused(pat, "this pattern is not supported for a differentiated value; bind it to a name, e.g. `let y = …`");
        }
        let Some(init) = &local.init else {
            return self.deferred_let(local, ident, annotation, site);
        };
        if init.diverge.is_some() {
            return self.let_else(local);
        }
        let name = ident.ident.to_string();
        let mutable = ident.mutability.is_some();
        // A closure: applied where it is called. One that reads no differentiated value is
        // also kept as the user wrote it, for calls that are never differentiated, if its
        // parameters are typed (an untyped one would have nothing to infer them from once
        // its differentiated calls are applied).
        if let (Expr::Closure(closure), None) = (&*init.expr, annotation) {
            let captured = self.captures(closure);
            let typed = closure.inputs.iter().all(|p| matches!(p, syn::Pat::Type(_)));
            // (It reads no SSA value: written as it is, its parameters free to reuse outer
            // names.)
            if typed && captured.iter().all(|(_, v)| v.is_none()) {
                self.push(Op::Code(Code { tokens: local.to_token_stream() }), Vec::new(), &[], local.span());
            }
            let closure = super::iter::Closure { expr: closure.clone(), captured };
            self.bind(name, Var::Closure(Box::new(closure)));
            return Ok(());
        }
        let declared = match annotation {
            Some(ty) => match crate::signature::shape_of(ty, &self.generics) {
                Some((shape, _)) => Some(self.resolved(super::type_of_shape(&shape))),
                None => {
                    if self.reads_ssa(&init.expr) {
                        return unsupported(ty, "a non-differentiable annotation on a differentiated value");
                    }
                    None
                }
            },
            None => self.promoted.get(&site).cloned(),
        };
        if annotation.is_some() && declared.is_none() {
            self.effect(local.to_token_stream(), local)?;
            self.bind(name, Var::Rust { site: Some(site), ty: None });
            return Ok(());
        }
        // (A call of another `#[jacobian]` function has the annotation's type, or the one
        // its uses show.)
        self.expected = declared.clone().or(self.expected_of_call.take());
        let value = self.value_expr(&init.expr)?;
        let value = match (declared, value) {
            (Some(ty), value) => self.operand_as(value, &ty, &init.expr)?,
            (None, Operand::Value(v)) if self.f.ty(v).is_differentiable() => v,
            (None, value) => {
                // Never differentiated: the user's `let`, with holes for what it reads.
                let (tokens, holes) = match value {
                    Operand::Code { tokens, holes } => (tokens, holes),
                    Operand::Value(v) => (Code::hole(0).to_token_stream(), vec![v]),
                };
                let attrs = &local.attrs;
                let ty = self.code_type(&init.expr, &[]);
                // A float computed from literals alone has the function's scalar type in
                // the user's function by a later use, which a sibling may not keep: written.
                let scalar = &self.signature.scalar;
                let statement = match &ty {
                    Some(Type::Scalar)
                        if !scalar.generic && Self::untyped_float(&init.expr, &mut Vec::new()) =>
                    {
                        let scalar = &scalar.tokens;
                        quote!(#(#attrs)* let #pat: #scalar = #tokens;)
                    }
                    _ => quote!(#(#attrs)* let #pat = #tokens;),
                };
                self.push(Op::Code(Code { tokens: statement }), holes, &[], local.span());
                self.bind(name, Var::Rust { site: Some(site), ty });
                return Ok(());
            }
        };
        if self.f.values[value.0 as usize].name.is_none() {
            self.f.values[value.0 as usize].name = Some(name.clone());
        }
        self.bind(name, Var::Ssa { value, mutable, reference: false });
        Ok(())
    }

    /// `let z;` (or `let z: T;`), assigned later (`if c { z = a; } else { z = b; }`): a
    /// differentiated variable from a placeholder of its type (the annotation's, or the
    /// one its first assignment showed, `promoted`), which Rust guarantees is never read;
    /// otherwise the user's own variable, until an assignment of a differentiated value
    /// promotes it.
    fn deferred_let(
        &mut self,
        local: &syn::Local,
        ident: &syn::PatIdent,
        annotation: Option<&syn::Type>,
        site: usize,
    ) -> Result<()> {
        let name = ident.ident.to_string();
        let declared = match annotation {
            Some(ty) => {
                let shape = crate::signature::shape_of(ty, &self.generics);
                shape.map(|(shape, _)| self.resolved(super::type_of_shape(&shape)))
            }
            None => self.promoted.get(&site).cloned(),
        };
        match declared {
            Some(ty) => {
                let value = self.placeholder(&ty, local)?;
                self.f.values[value.0 as usize].name = Some(name.clone());
                self.bind(name, Var::Ssa { value, mutable: true, reference: false });
            }
            None => {
                self.effect(local.to_token_stream(), local)?;
                self.bind(name, Var::Rust { site: Some(site), ty: None });
            }
        }
        Ok(())
    }

    /// `match` on a value that is never differentiated, as the `if` chain it means:
    /// `if matches!(s, P₁) { … } else if matches!(s, P₂) { … } else { … }`, the scrutinee
    /// evaluated once into a variable of the macro's. Arms may not bind names (their values
    /// would come from the pattern, which the IR does not model); the last arm is the final
    /// `else` (rustc checked the original `match` is exhaustive).
    pub(super) fn match_as_if(&mut self, m: &syn::ExprMatch) -> Result<Expr> {
        let binds = |pat: &syn::Pat| {
            struct Binder(bool);
            impl<'ast> syn::visit::Visit<'ast> for Binder {
                fn visit_pat_ident(&mut self, i: &'ast syn::PatIdent) {
                    // `None`, `MAX`: constants and variants, not bindings.
                    self.0 |= i.ident.to_string().starts_with(|c: char| c.is_lowercase() || c == '_');
                }
            }
            let mut binder = Binder(false);
            syn::visit::Visit::visit_pat(&mut binder, pat);
            binder.0
        };
        if m.arms.is_empty() {
            return unsupported(m, "an empty `match`");
        }
        let scrutinee = self.expr(&m.expr)?;
        if self.reads_scalar(&scrutinee) {
            return refused(&m.expr, "a `match` on a differentiated value is not supported; match on a value that is not differentiated (a comparison, an integer), or use `if`");
        }
        // (A name of its own: a `match` in a block after another one would shadow its
        // scrutinee, which the IR's blocks cannot scope.)
        let name =
            proc_macro2::Ident::new(&format!("scrutinee{}", self.sites), proc_macro2::Span::mixed_site());
        self.sites += 1;
        let (tokens, holes) = match scrutinee {
            Operand::Code { tokens, holes } => (tokens, holes),
            Operand::Value(v) => (Code::hole(0).to_token_stream(), vec![v]),
        };
        self.push(Op::Code(Code { tokens: quote!(let #name = #tokens;) }), holes, &[], m.span());
        self.bind(name.to_string(), Var::Rust { site: None, ty: None });
        let last = m.arms.len() - 1;
        let mut chain: Option<Expr> = None;
        for (k, arm) in m.arms.iter().enumerate().rev() {
            // An arm that binds names binds them first, from the scrutinee, under names of
            // their own where they would shadow others (`patterns`).
            let (block, pat, guard): (syn::Block, syn::Pat, _) = if binds(&arm.pat) {
                let body = arm.body.to_token_stream();
                let guard = arm.guard.as_ref().map(|(_, g)| g.to_token_stream()).unwrap_or_default();
                let (pat, renamed) = self.fresh_pattern(&arm.pat, &[body, guard]);
                let (body, guard) = (&renamed[0], &renamed[1]);
                let binding = patterns::bind_matched(&pat, &name);
                let (pat, guard) = match arm.guard {
                    Some(_) => (pat, Some(quote!(if #guard))),
                    None => (patterns::wildcards(&pat), None),
                };
                (syn::parse_quote!({ #binding #body }), pat, guard)
            } else {
                let body = &arm.body;
                let guard = arm.guard.as_ref().map(|(_, g)| quote!(if #g));
                (syn::parse_quote!({ #body }), arm.pat.clone(), guard)
            };
            chain = Some(match (k == last, chain) {
                (true, _) | (_, None) => {
                    Expr::Block(syn::ExprBlock { attrs: Vec::new(), label: None, block })
                }
                (false, Some(otherwise)) => {
                    syn::parse_quote!(if matches!(#name, #pat #guard) #block else #otherwise)
                }
            });
        }
        chain.ok_or_else(|| {
            Stop::Unsupported(super::Unsupported::at(
                m,
                "an empty `match` is not supported in a differentiated function".into(),
            ))
        })
    }

    /// `let [a, b, c] = x;` for an array of literal length, and `let (a, b) = (e, f);`: one
    /// binding per component.
    fn destructure(&mut self, pat: &syn::Pat, init: &Expr) -> Result<()> {
        let names = |elems: &syn::punctuated::Punctuated<syn::Pat, syn::Token![,]>| -> Option<Vec<Option<syn::PatIdent>>> {
            elems
                .iter()
                .map(|p| match p {
                    syn::Pat::Ident(i) if i.by_ref.is_none() && i.subpat.is_none() => Some(Some(i.clone())),
                    syn::Pat::Wild(_) => Some(None),
                    _ => None,
                })
                .collect()
        };
        let components: Vec<(Option<syn::PatIdent>, Operand)> = match (pat, init) {
            // `let [a, b] = if c { …; [p, q] } else { …; [r, s] };`: one `if` per element,
            // as for a tuple below (a branch choosing a whole array would carry a held
            // Jacobian block out of each arm).
            (syn::Pat::Slice(slice), Expr::If(branch))
                if project(&Expr::If(branch.clone()), 0, slice.elems.len()).is_some() =>
            {
                let Some(names) = names(&slice.elems) else { return refused(pat, messages::ARRAY_PATTERN) };
                // One `if` for all the elements where each arm ends in an array of scalars:
                // its arms' statements once, the elements assigned to variables of the
                // macro's (one `if` per element would compute them once per element).
                let site = self.sites;
                self.sites += 1;
                let slots: Vec<syn::Ident> =
                    (0..names.len()).map(|k| quote::format_ident!("__jacobian_element{site}_{k}")).collect();
                if let Some(assigned) = assign_elements(init, &slots) {
                    let mut statements: Vec<Stmt> =
                        slots.iter().map(|slot| syn::parse_quote!(let mut #slot = 0.0;)).collect();
                    statements.push(Stmt::Expr(assigned, Some(Default::default())));
                    self.statements(&statements, false)?;
                    for (slot, name) in slots.iter().zip(names) {
                        let Some(name) = name else { continue };
                        let Some(value) = self.ssa(&slot.to_string()) else {
                            return unsupported(init, "an element of this `if`");
                        };
                        self.f.values[value.0 as usize].name = Some(name.ident.to_string());
                        self.bind(
                            name.ident.to_string(),
                            Var::Ssa { value, mutable: name.mutability.is_some(), reference: false },
                        );
                    }
                    return Ok(());
                }
                let mut components = Vec::new();
                for (k, name) in names.into_iter().enumerate() {
                    let Some(component) = project(&Expr::If(branch.clone()), k, slice.elems.len()) else {
                        return unsupported(init, "an `if` whose arms do not each end in an array of this length after `let` statements only");
                    };
                    components.push((name, self.expr(&component)?));
                }
                components
            }
            (syn::Pat::Slice(slice), init) => {
                let Some(names) = names(&slice.elems) else { return refused(pat, messages::ARRAY_PATTERN) };
                let Operand::Value(array) = self.expr(init)? else {
                    return unsupported(init, "destructuring this value");
                };
                match self.f.ty(array).clone() {
                    Type::Array(elem, n) if *elem == Type::Scalar && n.lit() == Some(names.len()) => names
                        .into_iter()
                        .enumerate()
                        .map(|(k, name)| {
                            let path = Path(vec![Position::Const(k)]);
                            let element = self.push1(Op::Get(path), vec![array], Type::Scalar, init.span());
                            (name, Operand::Value(element))
                        })
                        .collect(),
                    _ => return refused(pat, messages::array_pattern(self.f.ty(array))),
                }
            }
            // `let (a, b) = match k { … };`: as the chain of `if`s it is.
            (syn::Pat::Tuple(_), Expr::Match(m)) => {
                let chain = self.match_as_if(m)?;
                return self.destructure(pat, &chain);
            }
            // `let (a, b) = if c { …; (p, q) } else { …; (r, s) };`: one `if` per component,
            // each arm's statements written again (they are `let`s of pure values; value
            // numbering merges the copies).
            (syn::Pat::Tuple(tuple), Expr::If(branch)) => {
                let Some(names) = names(&tuple.elems) else { return refused(pat, messages::TUPLE_PATTERN) };
                let mut components = Vec::new();
                for (k, name) in names.into_iter().enumerate() {
                    let Some(component) = project(&Expr::If(branch.clone()), k, tuple.elems.len()) else {
                        return unsupported(init, "an `if` whose arms do not each end in a tuple of this length after `let` statements only");
                    };
                    components.push((name, self.expr(&component)?));
                }
                components
            }
            // `let (a, b) = pair;` of a pair an iterator yielded.
            (syn::Pat::Tuple(_), Expr::Path(path))
                if matches!(
                    path.path.get_ident().and_then(|i| self.lookup(&i.to_string())),
                    Some(Var::Pair(_))
                ) =>
            {
                let Some(Var::Pair(item)) =
                    path.path.get_ident().and_then(|i| self.lookup(&i.to_string())).cloned()
                else {
                    return unsupported(init, "this pair");
                };
                return self.bind_item(pat, *item);
            }
            // `let (s, c) = x.sin_cos();` (or `f64::sin_cos(x)`).
            (syn::Pat::Tuple(tuple), Expr::MethodCall(_) | Expr::Call(_)) if tuple.elems.len() == 2 => {
                let Some(names) = names(&tuple.elems) else { return refused(pat, messages::TUPLE_PATTERN) };
                let Some(both) = self.sin_cos(init)? else {
                    return refused(pat, self.pattern_problem(pat, init));
                };
                names.into_iter().zip(both).map(|(name, v)| (name, Operand::Value(v))).collect()
            }
            (syn::Pat::Tuple(tuple), Expr::Tuple(values)) if tuple.elems.len() == values.elems.len() => {
                let Some(names) = names(&tuple.elems) else { return refused(pat, messages::TUPLE_PATTERN) };
                let mut components = Vec::new();
                for (name, value) in names.into_iter().zip(&values.elems) {
                    components.push((name, self.expr(value)?));
                }
                components
            }
            _ => return refused(pat, self.pattern_problem(pat, init)),
        };
        // (A component that is a float of literals alone is written with its type, as
        // `local` writes `let a: f64 = 2.0;`.)
        let untyped: Vec<bool> = match init {
            Expr::Tuple(values) if !self.signature.scalar.generic => {
                values.elems.iter().map(|e| Self::untyped_float(e, &mut Vec::new())).collect()
            }
            _ => Vec::new(),
        };
        for (k, (name, operand)) in components.into_iter().enumerate() {
            let Some(name) = name else { continue };
            match operand {
                Operand::Value(v) if self.f.ty(v).is_differentiable() => {
                    if self.f.values[v.0 as usize].name.is_none() {
                        self.f.values[v.0 as usize].name = Some(name.ident.to_string());
                    }
                    self.bind(
                        name.ident.to_string(),
                        Var::Ssa { value: v, mutable: name.mutability.is_some(), reference: false },
                    );
                }
                operand => {
                    let (tokens, holes) = match operand {
                        Operand::Code { tokens, holes } => (tokens, holes),
                        Operand::Value(v) => (Code::hole(0).to_token_stream(), vec![v]),
                    };
                    let statement = if untyped.get(k) == Some(&true) {
                        let scalar = &self.signature.scalar.tokens;
                        quote!(let #name: #scalar = #tokens;)
                    } else {
                        quote!(let #name = #tokens;)
                    };
                    self.push(Op::Code(Code { tokens: statement }), holes, &[], pat.span());
                    self.bind(name.ident.to_string(), Var::Rust { site: None, ty: None });
                }
            }
        }
        Ok(())
    }

    /// `let (a, b) = (2.0, k);` with its type written where a component is a float of
    /// literals alone (`let (a, b): (f64, _) = …`): such a float has the scalar type in the
    /// user's function by a later use, which a sibling may not keep (as `local` writes
    /// `let a: f64 = 2.0;`).
    fn typed_tuple_let(&self, local: &syn::Local) -> Option<proc_macro2::TokenStream> {
        let (syn::Pat::Tuple(pat), Some(init)) = (&local.pat, &local.init) else { return None };
        if init.diverge.is_some() || self.signature.scalar.generic {
            return None;
        }
        let ty = self.literal_tuple_type(&init.expr)?;
        let (attrs, expr) = (&local.attrs, &init.expr);
        Some(quote!(#(#attrs)* let #pat: #ty = #expr;))
    }

    /// The type of a tuple expression with the scalar type for its floats of literals alone
    /// and `_` elsewhere, if it has such a float (in nested tuples too).
    fn literal_tuple_type(&self, e: &Expr) -> Option<proc_macro2::TokenStream> {
        let Expr::Tuple(tuple) = e else { return None };
        let scalar = &self.signature.scalar.tokens;
        let mut any = false;
        let parts: Vec<proc_macro2::TokenStream> = tuple
            .elems
            .iter()
            .map(|e| {
                if Self::untyped_float(e, &mut Vec::new()) {
                    any = true;
                    quote!(#scalar)
                } else if let Some(nested) = self.literal_tuple_type(e) {
                    any = true;
                    nested
                } else {
                    quote!(_)
                }
            })
            .collect();
        any.then(|| quote!((#(#parts,)*)))
    }

    fn local_reads_ssa(&self, local: &syn::Local) -> bool {
        local.init.as_ref().is_some_and(|init| self.reads_ssa(&init.expr))
    }

    /// `place = value` and `place op= value`, for a variable or an element of one.
    fn assign(&mut self, place: &Expr, op: Option<&syn::BinOp>, value: &Expr, e: &Expr) -> Result<()> {
        // `q[i][j] = …` of a nested array: the element at two positions.
        let mut outer_index = None;
        let (root, index) = match place {
            Expr::Path(path) => (path.path.get_ident(), None),
            Expr::Index(index) => match &*index.expr {
                Expr::Path(path) => (path.path.get_ident(), Some(&*index.index)),
                Expr::Index(inner) => match &*inner.expr {
                    Expr::Path(path) => {
                        outer_index = Some(&*index.index);
                        (path.path.get_ident(), Some(&*inner.index))
                    }
                    _ => (None, None),
                },
                _ => (None, None),
            },
            Expr::Paren(p) => return self.assign(&p.expr, op, value, e),
            _ => (None, None),
        };
        let Some(root) = root else {
            if self.reads_ssa(e) {
                return unsupported(place, "assignment to this place");
            }
            return self.effect(quote!(#e;), e);
        };
        match self.lookup(&root.to_string()).cloned() {
            Some(Var::Ssa { value: current, mutable, .. }) => {
                if !mutable {
                    return unsupported(place, "assignment to an immutable variable");
                }
                let name = root.to_string();
                let new = match index {
                    None => self.updated(current, op, value, e)?,
                    Some(index) => {
                        let Some(element) = self.f.ty(current).element() else {
                            return refused(
                                place,
                                format!(
                                    "cannot assign an element of {}",
                                    messages::describe(self.f.ty(current))
                                ),
                            );
                        };
                        let ty = self.f.ty(current).clone();
                        let (mut path, mut at) = self.index_path(&ty, index)?;
                        let element = match outer_index {
                            Some(second) if super::expr::is_nested(&ty) => {
                                let (more, more_at) = self.index(second)?;
                                path.0.extend(more.0);
                                at.extend(more_at);
                                Type::Scalar
                            }
                            Some(_) => return unsupported(place, "assignment to this place"),
                            None if super::expr::is_nested(&ty) => {
                                return unsupported(place, "assignment of a whole row of a nested array; assign its elements `q[i][j] = …`")
                            }
                            None => element,
                        };
                        let old = match op {
                            Some(_) => {
                                let mut args = vec![current];
                                args.extend(&at);
                                Some(self.push1(Op::Get(path.clone()), args, element.clone(), place.span()))
                            }
                            None => None,
                        };
                        let new_element = match old {
                            Some(old) => self.updated(old, op, value, e)?,
                            None => {
                                self.expected = Some(element.clone());
                                let v = self.expr(value)?;
                                self.operand_as(v, &element, value)?
                            }
                        };
                        let mut args = vec![current, new_element];
                        args.extend(at);
                        let ty = self.f.ty(current).clone();
                        self.push1(Op::Set(path), args, ty, e.span())
                    }
                };
                if let Some(Var::Ssa { value: slot, .. }) = self.lookup_mut(&name) {
                    *slot = new;
                }
                if self.f.values[new.0 as usize].name.is_none() {
                    self.f.values[new.0 as usize].name = Some(name);
                }
                Ok(())
            }
            Some(Var::Rust { site, ty: shown }) => {
                if !self.reads_ssa(value) {
                    return self.effect(quote!(#e;), e);
                }
                // A value that reads differentiated ones but is not one itself (an integer
                // chosen by a condition on them: `i += if x[i] > 0.5 { 2 } else { 1 }`).
                let mut assigned = None;
                if index.is_none() {
                    if let Operand::Value(v) = self.expr(value)? {
                        assigned = Some(self.f.ty(v).clone());
                        if *self.f.ty(v) == Type::Opaque {
                            let hole = Code::hole(0);
                            let (place, op) =
                                (place, op.map_or_else(|| quote!(=), |op| op.to_token_stream()));
                            self.push(
                                Op::Code(Code { tokens: quote!(#place #op #hole;) }),
                                vec![v],
                                &[],
                                e.span(),
                            );
                            return Ok(());
                        }
                    }
                }
                // A differentiated value for a variable bound as non-differentiated: bind it
                // as an SSA value from its `let` on, and start again.
                let ty = match index {
                    None => shown.or(assigned).unwrap_or(Type::Scalar),
                    Some(_) => match shown {
                        Some(ty) if ty != Type::Scalar => ty,
                        _ => return refused(place, format!("`#[jacobian]` cannot tell the type of `{root}`, whose element is assigned a differentiated value; annotate it, e.g. `let mut {root}: [f64; N] = …;`")),
                    },
                };
                match site {
                    Some(site) => {
                        self.promoted.insert(site, ty);
                        Err(Stop::Restart)
                    }
                    None => unsupported(
                        place,
                        "a differentiated value assigned to a non-differentiated parameter",
                    ),
                }
            }
            Some(Var::Closure(_) | Var::Pair(_)) => unsupported(place, "assignment to this variable"),
            None => unsupported(place, "assignment to a variable the function does not bind"),
        }
    }

    /// `current op value` for compound assignment, or `value` for plain assignment, as the
    /// type of `current`.
    fn updated(&mut self, current: Value, op: Option<&syn::BinOp>, value: &Expr, e: &Expr) -> Result<Value> {
        let ty = self.f.ty(current).clone();
        // (The type a call of another `#[jacobian]` function there has: `*=`, `/=` scale.)
        let scales = matches!(op, Some(syn::BinOp::MulAssign(_) | syn::BinOp::DivAssign(_)));
        self.expected = Some(if scales { Type::Scalar } else { ty.clone() });
        let rhs = self.value_expr(value)?;
        let Some(op) = op else { return self.operand_as(rhs, &ty, value) };
        let op = match op {
            syn::BinOp::AddAssign(_) => Op::Add,
            syn::BinOp::SubAssign(_) => Op::Sub,
            syn::BinOp::MulAssign(_) => Op::Mul,
            syn::BinOp::DivAssign(_) => Op::Div,
            syn::BinOp::RemAssign(_) => {
                return refused(
                    e,
                    format!("`%=` on a differentiated value is not supported; {}", messages::REMAINDER),
                )
            }
            op => {
                return refused(
                    e,
                    format!("`{}` on a differentiated value is not supported", op.to_token_stream()),
                )
            }
        };
        if super::matrix::is_matrix(&ty) {
            let current = Operand::Value(current);
            if let Some((a, b)) = self.matrix_operands(&op, &current, &rhs, e)? {
                let result = self.matrix_arithmetic(&op, a, Some(b), e)?;
                return self.operand_as(result, &ty, e);
            }
        }
        if ty != Type::Scalar {
            return unsupported(e, "compound assignment to arrays, vectors or matrices");
        }
        let rhs = self.operand_as(rhs, &Type::Scalar, value)?;
        Ok(self.push1(op, vec![current, rhs], Type::Scalar, e.span()))
    }

    /// `if`/`else`, for its value or as a statement. Every mutable SSA variable the arms
    /// change becomes a result.
    pub(super) fn if_expr(&mut self, e: &Expr, want_value: bool) -> Result<Option<Operand>> {
        if !self.reads_ssa(e) && jumps_of(e).is_empty() {
            let operand = self.code(e)?;
            if want_value {
                return Ok(Some(operand));
            }
            let Operand::Code { tokens, holes } = operand else { return Ok(None) };
            self.push(Op::Code(Code { tokens: quote!(#tokens;) }), holes, &[], e.span());
            return Ok(None);
        }
        let Expr::If(if_expr) = e else { return unsupported(e, "this expression") };
        if let Expr::Let(test) = &*if_expr.cond {
            return self.if_let(if_expr, test, want_value);
        }
        let condition = self.expr(&if_expr.cond)?;
        if let Operand::Value(v) = &condition {
            if *self.f.ty(*v) != Type::Opaque {
                return unsupported(&if_expr.cond, "a condition that is a differentiated value");
            }
        }
        let condition = self.materialize(condition, if_expr.cond.span());
        let slots: Vec<(usize, usize)> = self.mutable_ssa().into_iter().map(|(slot, _)| slot).collect();
        let before = self.slots(&slots);

        let (mut then_insts, then_tail, then_values) =
            self.arm(|front| front.scoped_block(&if_expr.then_branch, want_value))?;
        for (slot, value) in slots.iter().zip(&before) {
            self.set_slot(*slot, *value);
        }
        let (mut else_insts, else_tail, else_values) = match &if_expr.else_branch {
            Some((_, otherwise)) => self.arm(|front| match &**otherwise {
                Expr::Block(block) => front.scoped_block(&block.block, want_value),
                nested => front.if_expr(nested, want_value),
            })?,
            None => (Vec::new(), None, before.clone()),
        };

        let mut then_yields = Vec::new();
        let mut else_yields = Vec::new();
        let mut result_types = Vec::new();
        if want_value {
            // An arm that jumps away has no value: any value of the other's type stands in.
            let else_diverges = matches!(&if_expr.else_branch, Some((_, b)) if matches!(&**b, Expr::Block(b) if flow::diverges(&b.block)));
            let tails = match (then_tail, else_tail) {
                (None, Some(other)) if flow::diverges(&if_expr.then_branch) => (None, Some(other)),
                (Some(other), None) if else_diverges => (Some(other), None),
                (Some(a), Some(b)) => (Some(a), Some(b)),
                _ => return unsupported(e, "an `if` whose arms do not both have a value"),
            };
            let ty = [&tails.0, &tails.1]
                .iter()
                .find_map(|o| match o {
                    Some(Operand::Value(v)) if self.f.ty(*v).is_differentiable() => {
                        Some(self.f.ty(*v).clone())
                    }
                    _ => None,
                })
                .unwrap_or(Type::Opaque);
            let then_tail = match tails.0 {
                Some(tail) => tail,
                None => Operand::Value(self.in_arm(&mut then_insts, |front| front.placeholder(&ty, e))?),
            };
            let else_tail = match tails.1 {
                Some(tail) => tail,
                None => Operand::Value(self.in_arm(&mut else_insts, |front| front.placeholder(&ty, e))?),
            };
            then_yields.push(
                self.in_arm(&mut then_insts, |front| front.operand_as(then_tail, &ty, &if_expr.then_branch))?,
            );
            else_yields.push(self.in_arm(&mut else_insts, |front| front.operand_as(else_tail, &ty, e))?);
            result_types.push(ty);
        }
        let mut changed = Vec::new();
        for (k, slot) in slots.iter().enumerate() {
            if then_values[k] != before[k] || else_values[k] != before[k] {
                changed.push(*slot);
                then_yields.push(then_values[k]);
                else_yields.push(else_values[k]);
                result_types.push(self.f.ty(before[k]).clone());
            }
        }
        let then = Block { params: Vec::new(), insts: then_insts, yields: then_yields };
        let otherwise = Block { params: Vec::new(), insts: else_insts, yields: else_yields };
        let results = self.push(Op::If { then, otherwise }, vec![condition], &result_types, e.span());
        let mut results = results.into_iter();
        let value = if want_value { results.next().map(Operand::Value) } else { None };
        for (slot, result) in changed.iter().zip(results) {
            let name = self.f.name(self.slots(&[*slot])[0]).map(str::to_owned);
            self.f.values[result.0 as usize].name = name;
            self.set_slot(*slot, result);
        }
        for (slot, value) in slots.iter().zip(&before) {
            if !changed.contains(slot) {
                self.set_slot(*slot, *value);
            }
        }
        Ok(value)
    }

    /// Lowers one arm in a block of its own: its instructions, its value (materialized in
    /// the arm), and the values of every mutable SSA variable at its end.
    #[allow(clippy::type_complexity)]
    fn arm(
        &mut self,
        lower: impl FnOnce(&mut Self) -> Result<Option<Operand>>,
    ) -> Result<(Vec<crate::ir::Inst>, Option<Operand>, Vec<Value>)> {
        let slots: Vec<(usize, usize)> = self.mutable_ssa().into_iter().map(|(slot, _)| slot).collect();
        self.open.push(Vec::new());
        let tail = lower(self)?;
        let tail = tail.map(|operand| match operand {
            Operand::Code { .. } => Operand::Value(self.materialize(operand, proc_macro2::Span::call_site())),
            value => value,
        });
        let insts = self.open.pop().unwrap_or_default();
        Ok((insts, tail, self.slots(&slots)))
    }

    /// Runs `f` with `insts` as the open block (to add to a finished arm).
    fn in_arm<T>(
        &mut self,
        insts: &mut Vec<crate::ir::Inst>,
        f: impl FnOnce(&mut Self) -> Result<T>,
    ) -> Result<T> {
        self.open.push(std::mem::take(insts));
        let result = f(self);
        *insts = self.open.pop().unwrap_or_default();
        result
    }

    /// A `for` statement: as a loop of the IR, or (code that jumps but reads no
    /// differentiated value) as the user's code.
    fn for_loop(&mut self, for_loop: &syn::ExprForLoop, e: &Expr) -> Result<()> {
        let body = skip_to_next(&for_loop.body.stmts);
        let jumps = jumps_in(&body);
        if jumps.is_empty() {
            return self.for_loop_with(for_loop, &body, None);
        }
        if !self.reads_ssa(e) && jumps_of(e).is_empty() {
            self.verbatim(e);
            return Ok(());
        }
        self.for_with_jumps(for_loop, body, &jumps)
    }

    /// `for pattern in a..b { body }`: every mutable SSA variable is carried; those the body
    /// leaves unchanged are pruned. `next` names the flag of `continue` (`flow`), bound anew
    /// in each iteration.
    fn for_loop_with(
        &mut self,
        for_loop: &syn::ExprForLoop,
        stmts: &[Stmt],
        next: Option<&str>,
    ) -> Result<()> {
        // `for v in x`, `for v in &x`, `for v in x.iter()` over a differentiated array: a
        // loop over its indices that reads the element.
        // `for (i, v) in x.iter().enumerate()`, `for (a, b) in x.iter().zip(&y)`…: a loop
        // over the chain's positions, its items bound in the body.
        let chain = if self.reads_ssa(&for_loop.expr) { self.loop_chain(&for_loop.expr)? } else { None };
        let elements = match chain {
            Some(_) => None,
            None => self.iterated_array(&for_loop.expr)?,
        };
        // Besides ranges: a variable of the user's code that is never differentiated (`for e
        // in a`, `&a`, `a.iter()`), which reverse mode can iterate again.
        let data = !self.reads_ssa(&for_loop.expr)
            && match &*for_loop.expr {
                Expr::Path(p) => p.path.get_ident().is_some(),
                Expr::Reference(r) => matches!(&*r.expr, Expr::Path(p) if p.path.get_ident().is_some()),
                Expr::MethodCall(call) => {
                    call.method == "iter"
                        && call.args.is_empty()
                        && matches!(&*call.receiver, Expr::Path(p) if p.path.get_ident().is_some())
                }
                _ => false,
            };
        if matches!(&*for_loop.expr, Expr::Range(_)) && self.reads_scalar_expr(&for_loop.expr) {
            return refused(
                &for_loop.expr,
                "a `for` range cannot depend on a differentiated value; compute its bounds from values that are not differentiated, or loop with `while` on a condition",
            );
        }
        if chain.is_none() && elements.is_none() && !data && !matches!(&*for_loop.expr, Expr::Range(_)) {
            return refused(
                &for_loop.expr,
                "only arrays, vectors and integer ranges can be iterated in a differentiated function, and iterator chains over them (`x.iter().zip(&y)`)",
            );
        }
        let pattern = match &*for_loop.pat {
            _ if chain.is_some() => None,
            syn::Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => Some(p.ident.to_string()),
            syn::Pat::Wild(_) => None,
            pat => return refused(pat, "iterate with a plain name, `for v in x`, or a pair of names for `enumerate` and `zip`, `for (i, v) in x.iter().enumerate()`"),
        };
        let (range, holes, loop_pattern) = match (&elements, &chain) {
            (_, Some((range, holes, loop_pattern, _))) => {
                (range.clone(), holes.clone(), loop_pattern.clone())
            }
            (elements, None) => match elements {
                Some((array, _)) => {
                    // (Of a nested array, its rows.)
                    let len = match self.f.ty(*array) {
                        Type::Array(_, rows) => Some(rows.clone()),
                        ty => ty.components(),
                    };
                    let Some(len) = len else {
                        return unsupported(&for_loop.expr, "this array");
                    };
                    let index =
                        proc_macro2::Ident::new(&format!("k{}", self.loops), proc_macro2::Span::mixed_site());
                    self.loops += 1;
                    let len = len.value();
                    (quote!(0..#len), Vec::new(), index.to_token_stream())
                }
                None => {
                    let Operand::Code { tokens: range, holes } = self.code(&for_loop.expr)? else {
                        return unsupported(&for_loop.expr, "this range");
                    };
                    (range, holes, for_loop.pat.to_token_stream())
                }
            },
        };
        let carried = self.mutable_ssa();
        let slots: Vec<(usize, usize)> = carried.iter().map(|(slot, _)| *slot).collect();
        let inits: Vec<Value> = carried.iter().map(|(_, v)| *v).collect();
        let params: Vec<Value> = inits
            .iter()
            .map(|v| {
                let (ty, name) = (self.f.ty(*v).clone(), self.f.name(*v).map(str::to_owned));
                self.f.value(ty, name)
            })
            .collect();
        for (slot, param) in slots.iter().zip(&params) {
            self.set_slot(*slot, *param);
        }
        self.open.push(Vec::new());
        self.push_scope();
        match (&elements, pattern) {
            (Some((array, by_reference)), Some(name)) => {
                let span = for_loop.span();
                let index =
                    self.push1(Op::Code(Code { tokens: loop_pattern.clone() }), vec![], Type::Opaque, span);
                let path = Path(vec![Position::Dynamic]);
                // (The rows of a nested array, `for row in &q`.)
                let element = if super::expr::is_nested(self.f.ty(*array)) {
                    self.row(*array, path, vec![index], span)?
                } else {
                    self.push1(Op::Get(path), vec![*array, index], Type::Scalar, span)
                };
                self.f.values[element.0 as usize].name = Some(name.clone());
                if *by_reference {
                    self.references.insert(element);
                }
                self.bind(name, Var::Ssa { value: element, mutable: false, reference: *by_reference });
            }
            (None, Some(name)) => self.bind(name, Var::Rust { site: None, ty: None }),
            (_, None) => {
                if let Some((_, _, _, chain)) = &chain {
                    self.bind_chain(chain, &for_loop.pat, for_loop.span())?;
                }
            }
        }
        if let Some(next) = next {
            self.new_flag(next, for_loop.span());
        }
        self.statements(stmts, false)?;
        self.pop_scope();
        let insts = self.open.pop().unwrap_or_default();
        let yields = self.slots(&slots);
        let mut body = Block { params: params.clone(), insts, yields };

        let mut kept = Vec::new();
        for (k, param) in params.iter().enumerate() {
            if body.yields[k] == *param {
                replace_uses(&mut body, *param, inits[k]);
            } else {
                kept.push(k);
            }
        }
        body.params = kept.iter().map(|&k| params[k]).collect();
        body.yields = kept.iter().map(|&k| body.yields[k]).collect();
        let types: Vec<Type> = kept.iter().map(|&k| self.f.ty(inits[k]).clone()).collect();
        let mut args = holes.clone();
        args.extend(kept.iter().map(|&k| inits[k]));
        let op = Op::For { pattern: loop_pattern, range: Code { tokens: range }, holes: holes.len(), body };
        let results = self.push(op, args, &types, for_loop.span());
        for (slot, init) in slots.iter().zip(&inits) {
            self.set_slot(*slot, *init);
        }
        for (&k, result) in kept.iter().zip(results) {
            if let Some(name) = self.f.name(inits[k]).map(str::to_owned) {
                self.f.values[result.0 as usize].name = Some(name);
            }
            self.set_slot(slots[k], result);
        }
        Ok(())
    }
}

/// When a loop goes on: while a condition holds, or until a `break` condition does.
enum GoOn<'e> {
    While(&'e Expr),
    UnlessBreak(&'e Expr),
}

/// A loop body with its top-level `if condition { continue; }` written as what it means:
/// the rest of the body under `if !(condition) { … }` (once per such guard). Other
/// `continue`s are left for the lowering to refuse.
fn skip_to_next(stmts: &[Stmt]) -> Vec<Stmt> {
    let guard = stmts.iter().position(|stmt| match stmt {
        Stmt::Expr(Expr::If(i), _) if i.else_branch.is_none() => matches!(
            i.then_branch.stmts.as_slice(),
            [Stmt::Expr(Expr::Continue(c), _)] if c.label.is_none()
        ),
        _ => false,
    });
    let Some(k) = guard else { return stmts.to_vec() };
    let Stmt::Expr(Expr::If(i), _) = &stmts[k] else { return stmts.to_vec() };
    if matches!(&*i.cond, Expr::Let(_)) {
        return stmts.to_vec();
    }
    let condition = &i.cond;
    let rest = skip_to_next(&stmts[k + 1..]);
    let mut out = stmts[..k].to_vec();
    out.push(syn::parse_quote!(if !(#condition) { #(#rest)* }));
    out
}

/// The one top-level `if condition { break; }` (no `else`, no value, no label) of a `loop`
/// body, if that is its only `break` and it has no `continue`: its position and condition.
fn break_at(stmts: &[Stmt]) -> Option<(usize, &Expr)> {
    let found: Vec<(usize, &Expr)> =
        stmts.iter().enumerate().filter_map(|(k, s)| Some((k, break_condition(s)?))).collect();
    let [(k, condition)] = found.as_slice() else { return None };
    let others = stmts.iter().enumerate().any(|(j, s)| j != *k && leaves_loop(s));
    (!others).then_some((*k, *condition))
}

/// The condition of `if condition { break; }`.
fn break_condition(stmt: &Stmt) -> Option<&Expr> {
    match stmt {
        Stmt::Expr(Expr::If(i), _) if i.else_branch.is_none() => match i.then_branch.stmts.as_slice() {
            [Stmt::Expr(Expr::Break(b), _)] if b.expr.is_none() && b.label.is_none() => Some(&*i.cond),
            _ => None,
        },
        _ => None,
    }
}

/// Does this statement contain a `break` or `continue` of the enclosing loop?
fn leaves_loop(stmt: &Stmt) -> bool {
    struct Finder(bool);
    impl<'ast> syn::visit::Visit<'ast> for Finder {
        fn visit_expr_break(&mut self, _: &'ast syn::ExprBreak) {
            self.0 = true;
        }
        fn visit_expr_continue(&mut self, _: &'ast syn::ExprContinue) {
            self.0 = true;
        }
        // Loops and closures inside have breaks of their own.
        fn visit_expr_loop(&mut self, _: &'ast syn::ExprLoop) {}
        fn visit_expr_while(&mut self, _: &'ast syn::ExprWhile) {}
        fn visit_expr_for_loop(&mut self, _: &'ast syn::ExprForLoop) {}
        fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    }
    let mut finder = Finder(false);
    syn::visit::Visit::visit_stmt(&mut finder, stmt);
    finder.0
}

impl Front<'_> {
    /// `while` and `loop … break` as a `While`: every mutable SSA variable is carried (and
    /// pruned again where unchanged); `before` runs ahead of the test, `after` behind it.
    /// `next` names the flag of `continue` (`flow`), bound anew before `before`, which
    /// then holds the whole body and may jump anywhere.
    fn while_loop(
        &mut self,
        at: &Expr,
        before: &[Stmt],
        go_on: GoOn<'_>,
        after: &[Stmt],
        next: Option<&str>,
    ) -> Result<()> {
        // (A `let` of `before` would be out of scope in `after`.)
        if !after.is_empty() && before.iter().any(|s| matches!(s, Stmt::Local(_))) {
            return unsupported(at, "a `let` before a loop's `break`");
        }
        if !after.is_empty() && before.iter().chain(after).any(leaves_loop) {
            return unsupported(at, "`break` or `continue` elsewhere in the loop");
        }
        let carried = self.mutable_ssa();
        let slots: Vec<(usize, usize)> = carried.iter().map(|(slot, _)| *slot).collect();
        let inits: Vec<Value> = carried.iter().map(|(_, v)| *v).collect();
        let fresh = |front: &mut Self| -> Vec<Value> {
            inits
                .iter()
                .map(|v| {
                    let (ty, name) = (front.f.ty(*v).clone(), front.f.name(*v).map(str::to_owned));
                    front.f.value(ty, name)
                })
                .collect()
        };
        // The test: `before`, then whether to go on.
        let cond_params = fresh(self);
        for (slot, param) in slots.iter().zip(&cond_params) {
            self.set_slot(*slot, *param);
        }
        self.open.push(Vec::new());
        self.push_scope();
        if let Some(next) = next {
            self.new_flag(next, at.span());
        }
        self.statements(before, false)?;
        let (condition, negate) = match go_on {
            GoOn::While(condition) => (condition, false),
            GoOn::UnlessBreak(condition) => (condition, true),
        };
        if matches!(condition, Expr::Let(_)) {
            return unsupported(condition, "`while let` on differentiated values");
        }
        let test = self.expr(condition)?;
        if let Operand::Value(v) = &test {
            if *self.f.ty(*v) != Type::Opaque {
                return unsupported(condition, "a condition that is a differentiated value");
            }
        }
        let go_on = match (test, negate) {
            (test, false) => self.materialize(test, condition.span()),
            (Operand::Code { tokens, holes }, true) => self.push1(
                Op::Code(Code { tokens: quote!(!(#tokens)) }),
                holes,
                Type::Opaque,
                condition.span(),
            ),
            (Operand::Value(v), true) => {
                let hole = Code::hole(0);
                self.push1(Op::Code(Code { tokens: quote!(!#hole) }), vec![v], Type::Opaque, condition.span())
            }
        };
        self.pop_scope();
        let mut cond_yields = vec![go_on];
        cond_yields.extend(self.slots(&slots));
        let mut cond = Block {
            params: cond_params.clone(),
            insts: self.open.pop().unwrap_or_default(),
            yields: cond_yields,
        };
        // The rest of the iteration.
        let body_params = fresh(self);
        for (slot, param) in slots.iter().zip(&body_params) {
            self.set_slot(*slot, *param);
        }
        self.open.push(Vec::new());
        self.push_scope();
        self.statements(after, false)?;
        self.pop_scope();
        let yields = self.slots(&slots);
        let mut body =
            Block { params: body_params.clone(), insts: self.open.pop().unwrap_or_default(), yields };

        let mut kept = Vec::new();
        for k in 0..slots.len() {
            if cond.yields[1 + k] == cond_params[k] && body.yields[k] == body_params[k] {
                replace_uses(&mut cond, cond_params[k], inits[k]);
                replace_uses(&mut body, body_params[k], inits[k]);
            } else {
                kept.push(k);
            }
        }
        cond.params = kept.iter().map(|&k| cond_params[k]).collect();
        let go_on = cond.yields[0];
        cond.yields = std::iter::once(go_on).chain(kept.iter().map(|&k| cond.yields[1 + k])).collect();
        body.params = kept.iter().map(|&k| body_params[k]).collect();
        body.yields = kept.iter().map(|&k| body.yields[k]).collect();
        let types: Vec<Type> = kept.iter().map(|&k| self.f.ty(inits[k]).clone()).collect();
        let args: Vec<Value> = kept.iter().map(|&k| inits[k]).collect();
        let results = self.push(Op::While { cond, body }, args, &types, at.span());
        for (slot, init) in slots.iter().zip(&inits) {
            self.set_slot(*slot, *init);
        }
        for (&k, result) in kept.iter().zip(results) {
            if let Some(name) = self.f.name(inits[k]).map(str::to_owned) {
                self.f.values[result.0 as usize].name = Some(name);
            }
            self.set_slot(slots[k], result);
        }
        Ok(())
    }

    /// The differentiated array a `for` loop iterates over, and whether its elements are
    /// references (`&x`, `x.iter()`).
    fn iterated_array(&self, e: &Expr) -> Result<Option<(Value, bool)>> {
        // `*x` of a reference (a parameter taken by reference): its elements by value.
        if let Expr::Unary(syn::ExprUnary { op: syn::UnOp::Deref(_), expr, .. }) = e {
            if let Some((value, _)) = self.iterated_array(expr)? {
                if matches!(&**expr, Expr::Path(p) if p.path.get_ident().is_some_and(|i| self.is_reference(&i.to_string())))
                {
                    return Ok(Some((value, false)));
                }
            }
            return Ok(None);
        }
        let (base, by_reference) = match e {
            Expr::Reference(r) if r.mutability.is_none() => (&*r.expr, true),
            Expr::MethodCall(call) if call.method == "iter" && call.args.is_empty() => {
                (&*call.receiver, true)
            }
            Expr::Paren(p) => return self.iterated_array(&p.expr),
            e => (e, false),
        };
        let Expr::Path(path) = base else { return Ok(None) };
        let Some(value) = path.path.get_ident().and_then(|i| self.ssa(&i.to_string())) else {
            return Ok(None);
        };
        // A reference (a parameter taken by reference) iterates by reference too.
        let reference = path.path.get_ident().is_some_and(|i| self.is_reference(&i.to_string()));
        match self.f.ty(value) {
            Type::Array(elem, _) if **elem == Type::Scalar || super::expr::is_nested(self.f.ty(value)) => {
                Ok(Some((value, by_reference || reference)))
            }
            // A vector's components, in order (`for v in x.iter()`).
            Type::Vector(_) if by_reference => Ok(Some((value, true))),
            _ => unsupported(e, "loops over this value"),
        }
    }
}

/// Statements that end a block without being its value (`for …{}` as the last line, a
/// jump).
fn is_statement_like(e: &Expr) -> bool {
    matches!(
        e,
        Expr::ForLoop(_)
            | Expr::While(_)
            | Expr::Assign(_)
            | Expr::Break(_)
            | Expr::Continue(_)
            | Expr::Return(_)
    ) || matches!(e, Expr::Binary(b) if is_compound_assign(&b.op))
}

/// The variable an assignment statement writes (`a` of `a[i] += …`).
fn assigned_root(e: &Expr) -> Option<&syn::Ident> {
    let mut place = match e {
        Expr::Assign(assign) => &*assign.left,
        Expr::Binary(binary) if is_compound_assign(&binary.op) => &*binary.left,
        _ => return None,
    };
    loop {
        place = match place {
            Expr::Index(index) => &index.expr,
            Expr::Field(field) => &field.base,
            Expr::Paren(paren) => &paren.expr,
            Expr::Unary(unary) => &unary.expr,
            Expr::Path(path) => return path.path.get_ident(),
            _ => return None,
        };
    }
}

/// Component `k` of a branch whose arms end in tuples (or arrays) of `n` values (`if c { (p, q) } else
/// { (r, s) }` → `if c { q } else { s }` for `k = 1`), when the arms hold nothing but
/// `let` statements before their tuples.
/// `if c { …; [a, b] } else { …; [p, q] }` as `if c { …; s0 = a; s1 = b; } else { …; s0 = p;
/// s1 = q; }` for the variables `slots`, where every arm ends in an array literal of scalars
/// (no element an array literal) after `let` statements only.
fn assign_elements(e: &Expr, slots: &[syn::Ident]) -> Option<Expr> {
    fn block(b: &syn::Block, slots: &[syn::Ident]) -> Option<syn::Block> {
        let (tail, lets) = b.stmts.split_last()?;
        if !lets.iter().all(|s| matches!(s, Stmt::Local(_))) {
            return None;
        }
        let Stmt::Expr(tail, None) = tail else { return None };
        let mut out = b.clone();
        out.stmts = lets.to_vec();
        match assign_elements(tail, slots)? {
            Expr::Block(inner) if inner.label.is_none() && inner.attrs.is_empty() => {
                out.stmts.extend(inner.block.stmts);
            }
            other => out.stmts.push(Stmt::Expr(other, Some(Default::default()))),
        }
        Some(out)
    }
    match e {
        Expr::Array(a) if a.elems.len() == slots.len() => {
            if a.elems.iter().any(|x| matches!(x, Expr::Array(_) | Expr::Repeat(_))) {
                return None;
            }
            let elems = a.elems.iter();
            Some(syn::parse_quote!({ #(#slots = #elems;)* }))
        }
        Expr::Paren(p) => assign_elements(&p.expr, slots),
        Expr::If(branch) => {
            let mut branch = branch.clone();
            branch.then_branch = block(&branch.then_branch, slots)?;
            let (token, otherwise) = branch.else_branch.take()?;
            branch.else_branch = Some((token, Box::new(assign_elements(&otherwise, slots)?)));
            Some(Expr::If(branch))
        }
        Expr::Block(b) if b.label.is_none() => {
            let mut b = b.clone();
            b.block = block(&b.block, slots)?;
            Some(Expr::Block(b))
        }
        _ => None,
    }
}

fn project(e: &Expr, k: usize, n: usize) -> Option<Expr> {
    match e {
        Expr::Tuple(t) if t.elems.len() == n => Some(t.elems[k].clone()),
        Expr::Array(a) if a.elems.len() == n => Some(a.elems[k].clone()),
        Expr::Paren(p) => project(&p.expr, k, n),
        Expr::If(branch) => {
            let mut branch = branch.clone();
            let then = project_block(&branch.then_branch, k, n)?;
            branch.then_branch = then;
            let (token, otherwise) = branch.else_branch.take()?;
            branch.else_branch = Some((token, Box::new(project(&otherwise, k, n)?)));
            Some(Expr::If(branch))
        }
        Expr::Block(block) if block.label.is_none() => {
            let mut block = block.clone();
            block.block = project_block(&block.block, k, n)?;
            Some(Expr::Block(block))
        }
        _ => None,
    }
}

fn project_block(block: &syn::Block, k: usize, n: usize) -> Option<syn::Block> {
    let (tail, lets) = block.stmts.split_last()?;
    if !lets.iter().all(|s| matches!(s, Stmt::Local(_))) {
        return None;
    }
    let Stmt::Expr(tail, None) = tail else { return None };
    let mut out = block.clone();
    out.stmts = lets.to_vec();
    out.stmts.push(Stmt::Expr(project(tail, k, n)?, None));
    Some(out)
}
