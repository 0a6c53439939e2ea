//! Owns lowering: walks the user's body once, writing the primal computation into the IR
//! with named temporaries and, beside every differentiated value, its tangent (forward
//! mode). Control flow is kept as written; only what must be known at run time (a
//! variable updated in a loop or a branch, an index known at run time) gets run-time
//! tangent storage, sized by activity analysis.

mod expr;
mod matrix;
mod stmt;
pub mod value;

use crate::diagnostics::Diagnostics;
use crate::legacy::activity::{Activity, Assigned, Names};
use crate::legacy::ir::{Atom, Block, Builder, Stmt};
use crate::legacy::tangent::{Basis, Index, Lin, Tangent};
use crate::shape::{Dim, Shape};
use crate::signature::Signature;
use proc_macro2::{Ident, TokenStream};
use quote::{quote, ToTokens};
use std::collections::{BTreeMap, BTreeSet};
use value::{Array, Container, Hint, Rows, Scalar, Value};

#[derive(Clone)]
pub struct Binding {
    pub ident: Ident,
    pub value: Value,
    pub mutable: bool,
    /// Tangent lives in run-time storage (the variable is updated in a loop or branch).
    pub runtime: bool,
    /// How many loops and branches enclose the binding.
    pub depth: usize,
    /// The name is a shared reference whose value, `(*name)`, is the binding's (a
    /// parameter `x: &Vector<2>`, the `v` of `for v in &a`).
    pub reference: bool,
}

/// What the function's result is turned into.
#[derive(Clone, Copy, PartialEq)]
pub enum Output {
    Jacobian,
    ValueAndJacobian,
    /// The value and one Jacobian block per parameter (`NotDifferentiated` for constants),
    /// for callers that chain through this function without knowing its signature.
    Parts,
}

pub struct Lowerer<'a> {
    pub b: Builder,
    pub sig: &'a Signature,
    pub diagnostics: &'a Diagnostics,
    pub output: Output,
    activity: Activity,
    scopes: Vec<BTreeMap<String, Binding>>,
    depth: usize,
    block_lens: Vec<Dim>,
    /// Enclosing loops, innermost last, for `break` with a value.
    pub loops: Vec<LoopFrame>,
    /// Names bound more than once: referred to through aliases (see `rebound_names`).
    rebound: BTreeSet<String>,
    /// Differentiated parameters taken by shared reference.
    pub by_reference: BTreeSet<String>,
}

/// A loop being lowered: its label and, for `loop` used as a value, where `break v` puts
/// the value and its tangent.
pub struct LoopFrame {
    pub label: Option<String>,
    pub slot: Option<(Ident, Vec<(usize, Ident)>)>,
}

impl<'a> Lowerer<'a> {
    pub fn new(
        sig: &'a Signature,
        item: &syn::ItemFn,
        b: Builder,
        diagnostics: &'a Diagnostics,
        output: Output,
    ) -> Lowerer<'a> {
        let inputs: Vec<String> = sig.inputs.iter().map(|i| i.ident.to_string()).collect();
        let mut lowerer = Lowerer {
            b,
            sig,
            diagnostics,
            output,
            activity: Activity::analyse(&item.block, &inputs),
            scopes: vec![BTreeMap::new()],
            depth: 0,
            block_lens: sig.inputs.iter().map(|i| i.shape.len()).collect(),
            loops: Vec::new(),
            rebound: crate::legacy::activity::rebound_names(item),
            by_reference: BTreeSet::new(),
        };
        lowerer.bind_parameters(item);
        lowerer
    }

    /// Lowers a body for its value (a `map` closure), returning the statements, the value
    /// and the builder (which knows the names it handed out).
    pub fn lower_value_body(mut self, body: &syn::Block) -> (Block, Option<Value>, Builder) {
        let tail = self.block_contents(&body.stmts, stmt::Ctx::Value);
        let block = self.b.close();
        let value = match tail {
            stmt::Tail::Value(v) => Some(*v),
            _ => None,
        };
        (block, value, self.b)
    }

    /// Lowers the whole body; the returned block ends with the function's result.
    pub fn lower_body(mut self, body: &syn::Block) -> Block {
        self.block_contents(&body.stmts, stmt::Ctx::Result);
        self.b.close()
    }

    /// An operand for the current value of the user's `ident`: the name itself, or, when
    /// the function binds that name again later, an alias no later binding can shadow.
    pub fn stable_name(&mut self, ident: &Ident) -> Atom {
        if self.rebound.contains(&ident.to_string()) {
            let base = format!("{}_value", ident.to_string().trim_start_matches("r#"));
            let alias = self.b.typed_temp(&base, None, ident.to_token_stream());
            Atom::place(alias, false)
        } else {
            Atom::name(ident)
        }
    }

    pub fn is_rebound(&self, name: &str) -> bool {
        self.rebound.contains(name)
    }

    fn bind_parameters(&mut self, item: &syn::ItemFn) {
        let blocks = self.sig.inputs.len();
        let inputs: Vec<_> = self.sig.inputs.iter().map(|i| (i.ident.clone(), i.shape.clone())).collect();
        let by_reference: BTreeSet<String> = item
            .sig
            .inputs
            .iter()
            .filter_map(|arg| match arg {
                syn::FnArg::Typed(t) if matches!(&*t.ty, syn::Type::Reference(_)) => match &*t.pat {
                    syn::Pat::Ident(p) => Some(p.ident.to_string()),
                    _ => None,
                },
                _ => None,
            })
            .collect();
        self.by_reference = by_reference.clone();
        for (block, (ident, shape)) in inputs.into_iter().enumerate() {
            let mut primal = self.stable_name(&ident);
            if by_reference.contains(&ident.to_string()) {
                // `x: &f64`: the value is `*x` (a copy), wherever it is used.
                let reference = primal.tokens.clone();
                primal = Atom::place(quote!((*#reference)), false);
            }
            let input = crate::signature::Input { ident, shape, offset: Dim::Lit(0) };
            let value = match &input.shape {
                Shape::Scalar => {
                    let mut tangent = Tangent::zero(blocks);
                    tangent.blocks[block] = Lin::unit(Index::Lit(0));
                    Value::Scalar(Scalar { primal, tangent })
                }
                shape => {
                    let (container, len) = match shape {
                        Shape::Array(n) => (Container::Array, n.clone()),
                        Shape::Vector(n) => (Container::Vector, n.clone()),
                        Shape::Matrix(r, c) => (Container::Matrix(r.clone(), c.clone()), r.mul(c)),
                        // (`expand` never gives the legacy lowering nested arrays.)
                        Shape::Scalar | Shape::Nested(..) => unreachable_shape(),
                    };
                    let mut rows = vec![Rows::Zero; blocks];
                    rows[block] = Rows::Identity { len: len.clone() };
                    Value::Array(Array { primal, container, len, elems: None, rows })
                }
            };
            self.bind(&input.ident, value, false);
            if by_reference.contains(&input.ident.to_string()) {
                self.mark_reference(&input.ident);
            }
        }
        for arg in &item.sig.inputs {
            if let syn::FnArg::Typed(typed) = arg {
                if let syn::Pat::Ident(pat) = &*typed.pat {
                    if self.lookup(&pat.ident.to_string()).is_none() {
                        let hint = hint_of_type(&typed.ty);
                        let atom = match hint {
                            Hint::Float | Hint::Array(..) => self.stable_name(&pat.ident),
                            Hint::Unknown | Hint::Poison => Atom::name(&pat.ident),
                        };
                        let value = Value::Opaque { atom, hint };
                        self.bind(&pat.ident, value, false);
                    }
                }
            }
        }
    }

    pub fn blocks(&self) -> usize {
        self.sig.inputs.len()
    }

    pub fn block_len(&self, block: usize) -> Dim {
        self.block_lens[block].clone()
    }

    pub fn zero(&self) -> Tangent {
        Tangent::zero(self.blocks())
    }

    pub fn bind(&mut self, ident: &Ident, value: Value, mutable: bool) {
        if mutable {
            self.b.mark_mutable(&ident.to_string());
        }
        let binding = Binding {
            ident: ident.clone(),
            value,
            mutable,
            runtime: false,
            depth: self.depth,
            reference: false,
        };
        self.scopes.last_mut().expect("a scope is always open").insert(ident.to_string(), binding);
    }

    /// Marks the binding of `ident` as a reference (see [`Binding::reference`]).
    pub fn mark_reference(&mut self, ident: &Ident) {
        if let Some(binding) = self.lookup_mut(&ident.to_string()) {
            binding.reference = true;
        }
    }

    pub fn lookup(&self, name: &str) -> Option<&Binding> {
        self.scopes.iter().rev().find_map(|s| s.get(name))
    }

    pub fn lookup_mut(&mut self, name: &str) -> Option<&mut Binding> {
        self.scopes.iter_mut().rev().find_map(|s| s.get_mut(name))
    }

    pub fn save_scopes(&self) -> Vec<BTreeMap<String, Binding>> {
        self.scopes.clone()
    }

    pub fn restore_scopes(&mut self, scopes: Vec<BTreeMap<String, Binding>>) {
        self.scopes = scopes;
    }

    pub fn push_scope(&mut self) {
        self.scopes.push(BTreeMap::new());
    }

    pub fn pop_scope(&mut self) {
        self.scopes.pop();
    }

    /// True when an expression must be lowered rather than copied: it reads a
    /// differentiated value, or contains a `return`.
    pub fn needs_lowering(&self, expr: &syn::Expr) -> bool {
        let names = Names::of_expr(expr);
        // `break value` out of a loop whose value the lowering holds in variables.
        let breaks_into_slot = names.has_break_value && self.loops.iter().any(|f| f.slot.is_some());
        names.has_return
            || breaks_into_slot
            || names.found.iter().any(|n| self.lookup(n).is_some_and(|b| b.runtime || b.value.is_active()))
    }

    /// Before a loop or a branch: every variable it assigns that may carry a derivative
    /// gets run-time tangent storage, so all paths update the same storage.
    pub fn prepare_assigned<T: ToTokens>(&mut self, visit: impl FnOnce(&mut Assigned), at: &T) {
        let mut assigned = Assigned::default();
        visit(&mut assigned);
        for name in assigned.names {
            self.make_runtime(&name, at);
        }
    }

    pub fn make_runtime<T: ToTokens>(&mut self, name: &str, at: &T) {
        let Some(binding) = self.lookup(name).cloned() else { return };
        if binding.runtime {
            return;
        }
        let deps = self.activity.of(name);
        let active = binding.value.is_active();
        if deps.is_empty() && !active {
            return;
        }
        let ident = binding.ident.clone();
        let value = match binding.value {
            Value::Opaque { hint: Hint::Float, .. } => {
                Value::Scalar(Scalar { primal: Atom::name(&ident), tangent: self.zero() })
            }
            Value::Opaque { hint: Hint::Array(container, len), .. } => Value::Array(Array {
                primal: Atom::name(&ident),
                container,
                len,
                elems: None,
                rows: vec![Rows::Zero; self.blocks()],
            }),
            Value::Opaque { hint: Hint::Unknown, .. } => {
                self.diagnostics.error_at(
                    &ident,
                    format!("`#[jacobian]` cannot tell the type of `{name}`, which is updated with differentiated values; annotate it, e.g. `let mut {name}: f64 = …` or `let mut {name} = [0.0; N]`"),
                );
                return;
            }
            Value::Tuple(_) => {
                self.diagnostics.error_at(at, format!("the tuple `{name}` is updated inside a loop or branch with differentiated values; use one variable per component"));
                return;
            }
            other => other,
        };
        let runtime = self.runtime_storage(&ident, value, &deps);
        if let Some(binding) = self.lookup_mut(name) {
            binding.value = runtime;
            binding.runtime = true;
        }
    }

    /// Copies a value's tangent into fresh mutable run-time storage named after `ident`.
    fn runtime_storage(&mut self, ident: &Ident, value: Value, deps: &BTreeSet<usize>) -> Value {
        let place = Atom::place(ident.to_token_stream(), true);
        let zero = self.b.typed_zero();
        match value {
            Value::Scalar(s) => {
                let mut tangent = self.zero();
                for block in 0..self.blocks() {
                    let lin = &s.tangent.blocks[block];
                    if !deps.contains(&block) && lin.is_zero() {
                        continue;
                    }
                    let len = self.block_len(block);
                    let name = self.b.fresh(&self.tangent_name(ident, block));
                    let init = if lin.is_zero() {
                        quote!([#zero; #len])
                    } else {
                        lin.materialize(&len, &mut self.b, "row").tokens
                    };
                    self.b.code(quote!(let mut #name = #init;));
                    self.b.mark_mutable(&name.to_string());
                    tangent.blocks[block] = Lin::row(quote!(#name), true);
                }
                Value::Scalar(Scalar { primal: place, tangent })
            }
            Value::Array(mut a) => {
                let base = self.tangent_name(ident, 0);
                a.materialize(&self.block_lens.clone(), &base, &mut self.b);
                let len = a.len.clone();
                for block in 0..self.blocks() {
                    let rows = a.rows[block].clone();
                    if !deps.contains(&block) && matches!(rows, Rows::Zero) {
                        continue;
                    }
                    let n = self.block_len(block);
                    let name = self.b.fresh(&self.tangent_name(ident, block));
                    let init = rows.expr(&mut self.b).unwrap_or_else(|| quote!([[#zero; #n]; #len]));
                    self.b.code(quote!(let mut #name = #init;));
                    self.b.mark_mutable(&name.to_string());
                    a.rows[block] = Rows::Held { tokens: quote!(#name), mutable: true };
                }
                a.primal = place;
                Value::Array(a)
            }
            other => other,
        }
    }

    /// `dy` for one parameter, `dy_x` for several.
    pub fn tangent_name(&self, ident: &Ident, block: usize) -> String {
        let base = ident.to_string();
        let base = base.trim_start_matches("r#");
        if self.blocks() == 1 {
            format!("d{base}")
        } else {
            format!("d{base}_{}", self.sig.inputs[block].ident)
        }
    }

    /// Makes a value safe to keep: nothing in it may refer to storage that changes later.
    pub fn freeze(&mut self, value: Value) -> Value {
        match value {
            Value::Scalar(mut s) => {
                if s.primal.mutable {
                    let p = s.primal.clone();
                    s.primal = self.b.temp("v", quote!(#p), &[]);
                    s.primal.mutable = false;
                }
                for block in 0..self.blocks() {
                    if s.tangent.blocks[block].is_volatile() {
                        let len = self.block_len(block);
                        let row = self.snapshot(&s.tangent.blocks[block], &len);
                        s.tangent.blocks[block] = Lin::row(row.tokens, false);
                    }
                }
                Value::Scalar(s)
            }
            Value::Array(mut a) => {
                if let Some(elems) = a.elems.take() {
                    let elems = elems
                        .into_iter()
                        .map(|e| match self.freeze(Value::Scalar(e)) {
                            Value::Scalar(s) => s,
                            _ => unreachable_shape(),
                        })
                        .collect();
                    a.elems = Some(elems);
                }
                for rows in &mut a.rows {
                    if let Rows::Held { tokens, mutable: true } = rows {
                        let copy = self.b.fresh("rows");
                        self.b.push(Stmt::Temp { name: copy.clone(), ty: None, expr: tokens.clone() });
                        *rows = Rows::Held { tokens: quote!(#copy), mutable: false };
                    }
                }
                Value::Array(a)
            }
            Value::Tuple(items) => Value::Tuple(items.into_iter().map(|v| self.freeze(v)).collect()),
            other => other,
        }
    }

    pub fn snapshot(&mut self, lin: &Lin, len: &Dim) -> Atom {
        if let [term] = lin.terms.as_slice() {
            if let (Basis::Row { tokens, .. }, true) = (&term.basis, term.coef.is_one()) {
                return self.b.temp("row", tokens.clone(), &[]);
            }
        }
        lin.materialize(len, &mut self.b, "row")
    }

    /// A value as a scalar operand; constants get a zero tangent.
    pub fn scalar(&mut self, value: Value, at: &dyn ToTokens) -> Option<Scalar> {
        if value.is_poison() {
            return None;
        }
        match value {
            Value::Scalar(s) => Some(s),
            Value::Opaque { atom, .. } => Some(Scalar { primal: self.operand(atom), tangent: self.zero() }),
            Value::Array(a) if matches!(a.container, Container::Result) => {
                Some(Scalar { primal: a.primal.clone(), tangent: a.component_tangent(&Index::Lit(0)) })
            }
            other => {
                self.diagnostics.error_at(
                    at.to_token_stream(),
                    format!(
                        "expected a scalar here, found {}; index it (`v[i]`) or use a matrix operation",
                        other.describe()
                    ),
                );
                None
            }
        }
    }

    /// Binds a verbatim expression to a temporary unless it is already a plain name or
    /// literal, so it is evaluated once.
    pub fn operand(&mut self, atom: Atom) -> Atom {
        if let Ok(ident) = syn::parse2::<Ident>(atom.tokens.clone()) {
            // A name bound again later (`let s = …; let s = s * x;`): a coefficient that
            // says `s` would read the new value by the time it is used, so copy the value
            // it has now (never shared: the same text names another value later).
            if self.is_rebound(&ident.to_string()) && !atom.mutable {
                let base = format!("{}_value", ident.to_string().trim_start_matches("r#"));
                return Atom::place(self.b.typed_temp(&base, None, ident.to_token_stream()), false);
            }
        }
        if atom.literal.is_some() || syn::parse2::<syn::Path>(atom.tokens.clone()).is_ok() {
            return atom;
        }
        let tokens = atom.tokens.clone();
        let mutable = atom.mutable;
        let mut bound = self.b.temp("c", tokens, &[&atom]);
        bound.mutable = mutable && bound.tokens.to_string() == atom.tokens.to_string();
        bound
    }

    /// Turns the function's result into the returned expression: the Jacobian, or the
    /// value and the Jacobian.
    pub fn finish(&mut self, value: Value, at: &dyn ToTokens) -> TokenStream {
        match self.output {
            Output::Jacobian => self.assemble(&value, None, at),
            Output::ValueAndJacobian => {
                let jacobian = self.assemble(&value, None, at);
                let primal = value.primal();
                quote!((#primal, #jacobian))
            }
            Output::Parts => {
                let primal = value.primal();
                let mut parts = vec![primal];
                for position in self.sig.positions.clone() {
                    parts.push(match position {
                        Some(block) => self.assemble(&value, Some(block), at),
                        None => {
                            let krate = &self.b.krate;
                            quote!(#krate::__private::NotDifferentiated)
                        }
                    });
                }
                quote!((#(#parts),*))
            }
        }
    }

    /// The Jacobian block of `value` for one parameter, or for all of them (`None`).
    fn assemble(&mut self, value: &Value, only: Option<usize>, at: &dyn ToTokens) -> TokenStream {
        let krate = self.b.krate.clone();
        let ty = self.b.scalar.tokens.clone();
        let columns = match only {
            Some(block) => self.block_len(block),
            None => self.sig.columns.clone(),
        };
        let (rows, cols) = (self.sig.rows.type_arg(), columns.type_arg());
        let matrix = quote!(#krate::Matrix::<#rows, #cols, #ty>);
        let offset_of = |sig: &Signature, block: usize| match only {
            Some(_) => Dim::Lit(0),
            None => sig.inputs[block].offset.clone(),
        };
        let selected = |block: usize| only.is_none_or(|b| b == block);
        let components: Vec<Tangent> = match value {
            Value::Scalar(s) => vec![s.tangent.clone()],
            Value::Array(a) => match &a.elems {
                Some(elems) => elems.iter().map(|e| e.tangent.clone()).collect(),
                None => return self.assemble_rows(a, only, &matrix),
            },
            Value::Opaque { .. } => return quote!(#matrix::zeros()),
            Value::Tuple(_) => {
                self.diagnostics.error_at(at.to_token_stream(), "the result is a tuple; `#[jacobian]` differentiates a scalar, array, `Vector` or `Matrix` result");
                return quote!(#matrix::zeros());
            }
        };
        let all_literal =
            columns.lit().is_some()
                && components.iter().all(|t| {
                    t.blocks.iter().enumerate().filter(|(b, _)| selected(*b)).all(|(_, l)| {
                        l.terms.iter().all(|term| matches!(term.basis, Basis::Unit(Index::Lit(_))))
                    })
                });
        // Each row is exactly one run-time row covering all columns: the rows are the matrix.
        let blocks_selected: Vec<usize> = (0..self.blocks()).filter(|b| selected(*b)).collect();
        if let [only_block] = blocks_selected.as_slice() {
            let whole_rows: Option<Vec<TokenStream>> = components
                .iter()
                .map(|t| match t.blocks[*only_block].terms.as_slice() {
                    [term] if term.coef.is_one() => match &term.basis {
                        Basis::Row { tokens, .. } => Some(tokens.clone()),
                        Basis::Unit(_) => None,
                    },
                    _ => None,
                })
                .collect();
            let covers_all =
                only.is_some() || self.sig.inputs[*only_block].offset.lit() == Some(0) && self.blocks() == 1;
            if let (Some(rows), true) = (whole_rows, covers_all) {
                return quote!(#krate::Matrix::from_rows([#(#rows),*]));
            }
        }
        if all_literal {
            let columns = columns.lit().unwrap_or(0);
            let zero = self.b.lit(0.0);
            let mut table = Vec::new();
            for tangent in &components {
                let mut row = vec![zero.tokens.clone(); columns];
                for (block, lin) in tangent.blocks.iter().enumerate().filter(|(b, _)| selected(*b)) {
                    let offset = offset_of(self.sig, block).lit().unwrap_or(0);
                    for term in &lin.terms {
                        if let Basis::Unit(Index::Lit(k)) = term.basis {
                            if offset + k < columns {
                                row[offset + k] = term.coef.realize(&mut self.b).tokens;
                            }
                        }
                    }
                }
                table.push(quote!([#(#row),*]));
            }
            return quote!(#krate::Matrix::from_rows([#(#table),*]));
        }
        let j = self.b.fresh("jacobian");
        self.b.code(quote!(let mut #j = #matrix::zeros();));
        for (i, tangent) in components.iter().enumerate() {
            let i = crate::shape::unsuffixed(i);
            for (block, lin) in tangent.blocks.iter().enumerate().filter(|(b, _)| selected(*b)) {
                let offset = offset_of(self.sig, block);
                for term in &lin.terms {
                    let c = term.coef.realize(&mut self.b);
                    match &term.basis {
                        Basis::Unit(index) => {
                            let column = match (&offset, index) {
                                (Dim::Lit(o), Index::Lit(k)) => {
                                    crate::shape::unsuffixed(o + k).into_token_stream()
                                }
                                (Dim::Lit(0), Index::Run(k)) => k.clone(),
                                (o, k) => {
                                    let (o, k) = (o.value(), k.tokens());
                                    quote!(#o + #k)
                                }
                            };
                            self.b.code(quote!(#j[(#i, #column)] += #c;));
                        }
                        Basis::Row { tokens, .. } => {
                            let add_row = self.b.helper("add_row");
                            let o = offset.value();
                            self.b.code(quote!(#add_row(&mut #j, #i, #o, #c, &#tokens);));
                        }
                    }
                }
            }
        }
        quote!(#j)
    }

    fn assemble_rows(&mut self, a: &Array, only: Option<usize>, matrix: &TokenStream) -> TokenStream {
        // One block fills the whole Jacobian: it is the Jacobian, no zeroing and copying.
        let fills = match only {
            Some(block) => Some(block),
            None if self.blocks() == 1 => Some(0),
            None => None,
        };
        if let Some(block) = fills {
            let krate = self.b.krate.clone();
            match &a.rows[block] {
                Rows::Zero => return quote!(#matrix::zeros()),
                Rows::Identity { .. } => return quote!(#matrix::identity()),
                Rows::Diag { tokens } => {
                    return quote!(#matrix::from_diagonal(&#krate::Vector::from(#tokens)));
                }
                Rows::Held { tokens, .. } => return quote!(#krate::Matrix::from_rows(#tokens)),
            }
        }
        let j = self.b.fresh("jacobian");
        self.b.code(quote!(let mut #j = #matrix::zeros();));
        for (block, rows) in a.rows.iter().enumerate() {
            if only.is_some_and(|b| b != block) {
                continue;
            }
            let offset = match only {
                Some(_) => Dim::Lit(0).value(),
                None => self.sig.inputs[block].offset.value(),
            };
            match rows {
                Rows::Zero => {}
                Rows::Identity { .. } => {
                    let add_identity = self.b.helper("add_identity");
                    let len = a.len.value();
                    self.b.code(quote!(#add_identity(&mut #j, #offset, #len);));
                }
                other => {
                    let held = other.expr(&mut self.b);
                    let add_block = self.b.helper("add_block");
                    self.b.code(quote!(#add_block(&mut #j, #offset, &#held);));
                }
            }
        }
        quote!(#j)
    }
}

fn unreachable_shape() -> ! {
    // Shapes are matched exhaustively by their producers; reaching here is a bug in the
    // macro, reported by rustc as a failed build rather than a silent wrong answer.
    unreachable!("jacobian-macro: inconsistent shape")
}

/// What a type annotation tells about a constant's shape.
pub fn hint_of_type(ty: &syn::Type) -> Hint {
    match ty {
        syn::Type::Reference(r) => hint_of_type(&r.elem),
        syn::Type::Path(p) if p.path.is_ident("f64") || p.path.is_ident("f32") => Hint::Float,
        syn::Type::Path(p)
            if p.path.segments.len() == 1 && p.path.segments[0].ident.to_string().len() == 1 =>
        {
            // A single capital letter is the generic scalar in practice (`T`); an integer
            // type never is.
            Hint::Unknown
        }
        syn::Type::Array(a) => {
            let len = syn_dim(&a.len);
            match hint_of_type(&a.elem) {
                Hint::Float => Hint::Array(Container::Array, len),
                _ => Hint::Unknown,
            }
        }
        syn::Type::Path(p) => {
            let Some(last) = p.path.segments.last() else { return Hint::Unknown };
            let syn::PathArguments::AngleBracketed(args) = &last.arguments else { return Hint::Unknown };
            let dims: Vec<Dim> = args
                .args
                .iter()
                .filter_map(|a| match a {
                    syn::GenericArgument::Const(e) => Some(syn_dim(e)),
                    syn::GenericArgument::Type(syn::Type::Path(t))
                        if !t.path.is_ident("f64") && !t.path.is_ident("f32") =>
                    {
                        Some(Dim::Sym { tokens: t.to_token_stream(), generic: false })
                    }
                    _ => None,
                })
                .collect();
            match (last.ident.to_string().as_str(), dims.as_slice()) {
                ("Vector", [n]) => Hint::Array(Container::Vector, n.clone()),
                ("Matrix", [r, c]) => Hint::Array(Container::Matrix(r.clone(), c.clone()), r.mul(c)),
                _ => Hint::Unknown,
            }
        }
        _ => Hint::Unknown,
    }
}

pub fn syn_dim(expr: &syn::Expr) -> Dim {
    match expr {
        syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(i), .. }) => match i.base10_parse::<usize>() {
            Ok(n) => Dim::Lit(n),
            Err(_) => Dim::Sym { tokens: expr.to_token_stream(), generic: false },
        },
        _ => Dim::Sym { tokens: expr.to_token_stream(), generic: false },
    }
}
