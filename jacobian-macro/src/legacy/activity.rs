//! Owns activity analysis: for every local name, the set of differentiated parameters its
//! value may depend on, over the whole body (flow-insensitive, so a superset). The lowering
//! uses it to size the run-time tangents of variables updated inside loops and branches.

use std::collections::{BTreeMap, BTreeSet};
use syn::visit::Visit;

#[derive(Default)]
pub struct Activity {
    deps: BTreeMap<String, BTreeSet<usize>>,
}

impl Activity {
    pub fn analyse(body: &syn::Block, inputs: &[String]) -> Activity {
        let mut activity = Activity::default();
        for (block, name) in inputs.iter().enumerate() {
            activity.deps.entry(name.clone()).or_default().insert(block);
        }
        loop {
            let mut pass = Pass { activity: &mut activity, changed: false };
            pass.visit_block(body);
            if !pass.changed {
                return activity;
            }
        }
    }

    pub fn of(&self, name: &str) -> BTreeSet<usize> {
        self.deps.get(name).cloned().unwrap_or_default()
    }

    pub fn of_expr(&self, expr: &syn::Expr) -> BTreeSet<usize> {
        let mut names = Names::default();
        names.visit_expr(expr);
        names.found.iter().flat_map(|n| self.of(n)).collect()
    }
}

struct Pass<'a> {
    activity: &'a mut Activity,
    changed: bool,
}

impl Pass<'_> {
    fn flow(&mut self, target: &str, from: BTreeSet<usize>) {
        let entry = self.activity.deps.entry(target.to_string()).or_default();
        for block in from {
            self.changed |= entry.insert(block);
        }
    }
}

impl<'ast> Visit<'ast> for Pass<'_> {
    fn visit_local(&mut self, local: &'ast syn::Local) {
        if let Some(init) = &local.init {
            let deps = self.activity.of_expr(&init.expr);
            let mut names = Names::default();
            names.visit_pat(&local.pat);
            for name in names.bound {
                self.flow(&name, deps.clone());
            }
        }
        syn::visit::visit_local(self, local);
    }

    fn visit_expr_assign(&mut self, assign: &'ast syn::ExprAssign) {
        if let Some(target) = root_name(&assign.left) {
            let deps = self.activity.of_expr(&assign.right);
            self.flow(&target, deps);
        }
        syn::visit::visit_expr_assign(self, assign);
    }

    fn visit_expr_binary(&mut self, binary: &'ast syn::ExprBinary) {
        if is_compound_assign(&binary.op) {
            if let Some(target) = root_name(&binary.left) {
                let deps = self.activity.of_expr(&binary.right);
                self.flow(&target, deps);
            }
        }
        syn::visit::visit_expr_binary(self, binary);
    }

    fn visit_expr_for_loop(&mut self, for_loop: &'ast syn::ExprForLoop) {
        let deps = self.activity.of_expr(&for_loop.expr);
        let mut names = Names::default();
        names.visit_pat(&for_loop.pat);
        for name in names.bound {
            self.flow(&name, deps.clone());
        }
        syn::visit::visit_expr_for_loop(self, for_loop);
    }
}

pub fn is_compound_assign(op: &syn::BinOp) -> bool {
    use syn::BinOp::*;
    matches!(
        op,
        AddAssign(_)
            | SubAssign(_)
            | MulAssign(_)
            | DivAssign(_)
            | RemAssign(_)
            | BitXorAssign(_)
            | BitAndAssign(_)
            | BitOrAssign(_)
            | ShlAssign(_)
            | ShrAssign(_)
    )
}

/// The variable an assignment writes: `x`, `a[i]`, `m[(i, j)]`, `a[i][j]`.
pub fn root_name(place: &syn::Expr) -> Option<String> {
    match place {
        syn::Expr::Path(path) => path.path.get_ident().map(ToString::to_string),
        syn::Expr::Index(index) => root_name(&index.expr),
        syn::Expr::Paren(inner) => root_name(&inner.expr),
        syn::Expr::Field(field) => root_name(&field.base),
        _ => None,
    }
}

/// Names read (single-segment paths and identifiers inside macro calls) and names bound by
/// patterns.
#[derive(Default)]
pub struct Names {
    pub found: BTreeSet<String>,
    pub bound: BTreeSet<String>,
    pub has_return: bool,
    pub has_break_value: bool,
}

impl Names {
    pub fn of_expr(expr: &syn::Expr) -> Names {
        let mut names = Names::default();
        names.visit_expr(expr);
        names
    }
}

impl<'ast> Visit<'ast> for Names {
    fn visit_expr_path(&mut self, path: &'ast syn::ExprPath) {
        if let Some(ident) = path.path.get_ident() {
            self.found.insert(ident.to_string());
        }
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        collect_idents(mac.tokens.clone(), &mut self.found);
    }

    fn visit_pat_ident(&mut self, pat: &'ast syn::PatIdent) {
        self.bound.insert(pat.ident.to_string());
        syn::visit::visit_pat_ident(self, pat);
    }

    fn visit_expr_break(&mut self, brk: &'ast syn::ExprBreak) {
        self.has_break_value |= brk.expr.is_some();
        syn::visit::visit_expr_break(self, brk);
    }

    fn visit_expr_return(&mut self, ret: &'ast syn::ExprReturn) {
        self.has_return = true;
        syn::visit::visit_expr_return(self, ret);
    }

    fn visit_expr_closure(&mut self, closure: &'ast syn::ExprClosure) {
        syn::visit::visit_expr(self, &closure.body);
    }
}

fn collect_idents(tokens: proc_macro2::TokenStream, into: &mut BTreeSet<String>) {
    for tree in tokens {
        match tree {
            proc_macro2::TokenTree::Ident(ident) => {
                into.insert(ident.to_string());
            }
            proc_macro2::TokenTree::Group(group) => collect_idents(group.stream(), into),
            _ => {}
        }
    }
}

/// Names assigned anywhere inside a statement or expression (`x = …`, `x += …`, `a[i] = …`)
/// that refer to variables declared outside it: an assignment to a name a `let` (or a
/// pattern: `for`, `match`, closure parameters, `if let`) inside the construct binds in an
/// enclosing block writes that inner variable, not the outer one of the same name.
#[derive(Default)]
pub struct Assigned {
    pub names: BTreeSet<String>,
    /// Names bound inside the construct, innermost scope last.
    scopes: Vec<BTreeSet<String>>,
}

impl Assigned {
    fn note(&mut self, place: &syn::Expr) {
        if let Some(name) = root_name(place) {
            if !self.scopes.iter().any(|scope| scope.contains(&name)) {
                self.names.insert(name);
            }
        }
    }

    fn bind(&mut self, pat: &syn::Pat) {
        let mut names = Names::default();
        names.visit_pat(pat);
        if self.scopes.is_empty() {
            self.scopes.push(BTreeSet::new());
        }
        if let Some(scope) = self.scopes.last_mut() {
            scope.extend(names.bound);
        }
    }

    fn scoped(&mut self, pat: Option<&syn::Pat>, visit: impl FnOnce(&mut Self)) {
        self.scopes.push(BTreeSet::new());
        if let Some(pat) = pat {
            self.bind(pat);
        }
        visit(self);
        self.scopes.pop();
    }
}

impl<'ast> Visit<'ast> for Assigned {
    fn visit_expr_assign(&mut self, assign: &'ast syn::ExprAssign) {
        self.note(&assign.left);
        syn::visit::visit_expr_assign(self, assign);
    }

    fn visit_expr_binary(&mut self, binary: &'ast syn::ExprBinary) {
        if is_compound_assign(&binary.op) {
            self.note(&binary.left);
        }
        syn::visit::visit_expr_binary(self, binary);
    }

    fn visit_block(&mut self, block: &'ast syn::Block) {
        self.scoped(None, |this| syn::visit::visit_block(this, block));
    }

    fn visit_local(&mut self, local: &'ast syn::Local) {
        // the initializer (and a `let … else` block) still sees the outer names
        if let Some(init) = &local.init {
            self.visit_expr(&init.expr);
            if let Some((_, diverge)) = &init.diverge {
                self.visit_expr(diverge);
            }
        }
        self.bind(&local.pat);
    }

    fn visit_expr_for_loop(&mut self, for_loop: &'ast syn::ExprForLoop) {
        self.visit_expr(&for_loop.expr);
        self.scoped(Some(&for_loop.pat), |this| this.visit_block(&for_loop.body));
    }

    fn visit_arm(&mut self, arm: &'ast syn::Arm) {
        self.scoped(Some(&arm.pat), |this| {
            if let Some((_, guard)) = &arm.guard {
                this.visit_expr(guard);
            }
            this.visit_expr(&arm.body);
        });
    }

    fn visit_expr_closure(&mut self, closure: &'ast syn::ExprClosure) {
        self.scoped(None, |this| {
            for input in &closure.inputs {
                this.bind(input);
            }
            this.visit_expr(&closure.body);
        });
    }

    fn visit_expr_if(&mut self, expr_if: &'ast syn::ExprIf) {
        match &*expr_if.cond {
            syn::Expr::Let(l) => {
                self.visit_expr(&l.expr);
                self.scoped(Some(&l.pat), |this| this.visit_block(&expr_if.then_branch));
            }
            cond => {
                self.visit_expr(cond);
                self.visit_block(&expr_if.then_branch);
            }
        }
        if let Some((_, otherwise)) = &expr_if.else_branch {
            self.visit_expr(otherwise);
        }
    }

    fn visit_expr_while(&mut self, expr_while: &'ast syn::ExprWhile) {
        match &*expr_while.cond {
            syn::Expr::Let(l) => {
                self.visit_expr(&l.expr);
                self.scoped(Some(&l.pat), |this| this.visit_block(&expr_while.body));
            }
            cond => {
                self.visit_expr(cond);
                self.visit_block(&expr_while.body);
            }
        }
    }
}

/// Names bound more than once in a function (parameters, `let`, `match` and `if let`
/// patterns; a `for` variable counts when the name is bound elsewhere too). Values that
/// refer to such a name by text could be redirected by a later shadowing binding, so the
/// lowering refers to them through aliases of its own.
pub fn rebound_names(function: &syn::ItemFn) -> BTreeSet<String> {
    #[derive(Default)]
    struct Count {
        lets: BTreeMap<String, usize>,
        loops: BTreeSet<String>,
        in_loop_pattern: bool,
    }
    impl<'ast> Visit<'ast> for Count {
        fn visit_pat_ident(&mut self, pat: &'ast syn::PatIdent) {
            let name = pat.ident.to_string();
            if self.in_loop_pattern {
                self.loops.insert(name);
            } else {
                *self.lets.entry(name).or_insert(0) += 1;
            }
            syn::visit::visit_pat_ident(self, pat);
        }
        fn visit_expr_for_loop(&mut self, f: &'ast syn::ExprForLoop) {
            self.in_loop_pattern = true;
            self.visit_pat(&f.pat);
            self.in_loop_pattern = false;
            self.visit_expr(&f.expr);
            self.visit_block(&f.body);
        }
        fn visit_expr_closure(&mut self, c: &'ast syn::ExprClosure) {
            self.visit_expr(&c.body);
        }
    }
    let mut count = Count::default();
    for input in &function.sig.inputs {
        if let syn::FnArg::Typed(t) = input {
            count.visit_pat(&t.pat);
        }
    }
    count.visit_block(&function.block);
    count
        .lets
        .iter()
        .filter(|(name, n)| **n > 1 || count.loops.contains(*name))
        .map(|(name, _)| name.clone())
        .collect()
}
