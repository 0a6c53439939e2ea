//! Owns emission: an IR function becomes the Rust a person would write. Every value that
//! is used gets a `let` with a readable name (the user's, or `t`, `t_1`, …; all with
//! mixed-site hygiene, so none can clash with the user's names); literals, reads of
//! parameters and simple non-differentiated code are written where they are used; an
//! element assignment whose old value is dead updates the variable in place (`ds[k] += c`);
//! a loop's carried values are `let mut` variables that the body updates, with
//! `s = s + t` written `s += t`; branches bind their results with `let (a, b) = if …`.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::{Delimiter, Group, Ident, Literal, Span, TokenStream, TokenTree};
use quote::{quote, ToTokens};

use crate::ir::{Block, Code, Function, Inst, Op, Path, Position, Type, Value};
use crate::shape::Dim;
use crate::signature::ScalarType;

/// The body of the emitted function: its statements and its result.
pub fn body(
    function: &Function,
    scalar: &ScalarType,
    krate: &TokenStream,
    reserved: &BTreeSet<String>,
) -> TokenStream {
    // Whether a variable is updated in place is known only after its `let` is written:
    // a first pass finds out, the second writes `let mut` where it is.
    let first = emit(function, scalar, krate, reserved, BTreeSet::new());
    let body = emit(function, scalar, krate, reserved, first.1).0;
    // The statements, and a tail `Matrix::from_rows(j)` (its last few tokens) after them.
    let trees: Vec<TokenTree> = body.clone().into_iter().collect();
    let ending = quote!(#krate::Matrix::from_rows).into_iter().count() + 1;
    if trees.len() > ending {
        let (statements, tail) = trees.split_at(trees.len() - ending);
        let (statements, tail): (TokenStream, TokenStream) =
            (statements.iter().cloned().collect(), tail.iter().cloned().collect());
        if let Some(in_place) = in_place_matrix(&statements, &tail, krate) {
            return in_place;
        }
    }
    body
}

fn emit(
    function: &Function,
    scalar: &ScalarType,
    krate: &TokenStream,
    reserved: &BTreeSet<String>,
    known_mutable: BTreeSet<String>,
) -> (TokenStream, BTreeSet<String>) {
    // The user's names for their own values are printed as they are (hygiene keeps them
    // apart from the user's variables); every other user name is avoided.
    let own: BTreeSet<String> = function.values.iter().filter_map(|v| v.name.clone()).collect();
    let mut emitter = Emitter {
        f: function,
        scalar,
        krate: krate.clone(),
        reserved: reserved.difference(&own).cloned().collect(),
        counters: BTreeMap::new(),
        uses: BTreeMap::new(),
        vars: BTreeMap::new(),
        names: BTreeMap::new(),
        mutable: BTreeSet::new(),
        known_mutable,
        inline: BTreeMap::new(),
        places: BTreeSet::new(),
        updates: BTreeMap::new(),
        negations: BTreeMap::new(),
        scaled: BTreeMap::new(),
        accumulated: BTreeSet::new(),
        literals: BTreeMap::new(),
        changing: BTreeSet::new(),
        typed: typed_values(function),
    };
    changing(&function.body, &mut emitter.changing);
    emitter.count_uses(&function.body);
    for param in &function.params {
        let ident = param.ident.to_token_stream();
        let tokens = if param.by_reference { quote!((*#ident)) } else { ident };
        emitter.inline.insert(param.value, tokens);
    }
    let statements = emitter.block(&function.body);
    let result = function.body.yields[0];
    let tail = emitter.operand(result);
    // `let t = expr; t` is `expr`.
    let trees: Vec<TokenTree> = statements.clone().into_iter().collect();
    let n = trees.len();
    if let (Some(name), true) = (emitter.var_ident(result), n >= 5) {
        let let_at = trees.iter().rposition(|t| matches!(t, TokenTree::Ident(l) if l == "let")).unwrap_or(n);
        let is_binding = matches!(&trees[let_at..], [TokenTree::Ident(l), TokenTree::Ident(n2), TokenTree::Punct(eq), .., TokenTree::Punct(semi)]
            if l == "let" && *n2 == name && eq.as_char() == '=' && semi.as_char() == ';');
        if let_at < n && is_binding && emitter.uses(result) == 1 {
            let before: TokenStream = trees[..let_at].iter().cloned().collect();
            let expr: TokenStream = trees[let_at + 3..n - 1].iter().cloned().collect();
            return (quote!(#before #expr), emitter.mutable);
        }
    }
    (quote!(#statements #tail), emitter.mutable)
}

/// `let mut j = init; …j[i][k] += …; Matrix::from_rows(j)` built in the matrix it returns
/// instead (`let mut m = Matrix::from_rows(init); let j = m.as_rows_mut(); …; m`), so that
/// the result is not copied out of `j` at the end: where every use of `j` indexes it.
fn in_place_matrix(statements: &TokenStream, tail: &TokenStream, krate: &TokenStream) -> Option<TokenStream> {
    let tail_trees: Vec<TokenTree> = tail.clone().into_iter().collect();
    let (TokenTree::Group(args), head) = tail_trees.split_last()? else { return None };
    let head: TokenStream = head.iter().cloned().collect();
    if head.to_string() != quote!(#krate::Matrix::from_rows).to_string() {
        return None;
    }
    let inner: Vec<TokenTree> = args.stream().into_iter().collect();
    let [TokenTree::Ident(name)] = inner.as_slice() else { return None };
    let name = name.clone();
    let trees: Vec<TokenTree> = statements.clone().into_iter().collect();
    // The top-level `let mut name = init;`.
    let at = (0..trees.len().saturating_sub(3)).find(|&k| {
        matches!(&trees[k], TokenTree::Ident(l) if l == "let")
            && matches!(&trees[k + 1], TokenTree::Ident(m) if m == "mut")
            && matches!(&trees[k + 2], TokenTree::Ident(n) if *n == name)
            && matches!(&trees[k + 3], TokenTree::Punct(p) if p.as_char() == '=')
    })?;
    let end =
        (at + 4..trees.len()).find(|&k| matches!(&trees[k], TokenTree::Punct(p) if p.as_char() == ';'))?;
    // Every later use indexes it (`j[i]`, `&mut j[i]`) or lends it whole (`&mut j`, which
    // `j` itself is once it borrows the matrix).
    fn borrowed(trees: &[TokenTree], name: &Ident) -> Option<Vec<TokenTree>> {
        let mut out: Vec<TokenTree> = Vec::with_capacity(trees.len());
        for (k, tree) in trees.iter().enumerate() {
            match tree {
                TokenTree::Ident(i) if i == name => {
                    let indexed = matches!(trees.get(k + 1), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Bracket);
                    let lent = k >= 2
                        && matches!(&trees[k - 2], TokenTree::Punct(p) if p.as_char() == '&')
                        && matches!(&trees[k - 1], TokenTree::Ident(m) if m == "mut")
                        && matches!(trees.get(k + 1), None | Some(TokenTree::Punct(_)));
                    if lent {
                        out.truncate(out.len() - 2);
                    } else if !indexed {
                        return None;
                    }
                    out.push(tree.clone());
                }
                TokenTree::Group(g) => {
                    let inner = borrowed(&g.stream().into_iter().collect::<Vec<_>>(), name)?;
                    let mut group = Group::new(g.delimiter(), inner.into_iter().collect());
                    group.set_span(g.span());
                    out.push(TokenTree::Group(group));
                }
                other => out.push(other.clone()),
            }
        }
        Some(out)
    }
    let after = borrowed(&trees[end + 1..], &name)?;
    let before: TokenStream = trees[..at].iter().cloned().collect();
    let init: TokenStream = trees[at + 4..end].iter().cloned().collect();
    let after: TokenStream = after.into_iter().collect();
    let matrix = Ident::new("matrix", Span::mixed_site());
    Some(quote! {
        #before
        let mut #matrix = #krate::Matrix::from_rows(#init);
        let #name = #matrix.as_rows_mut();
        #after
        #matrix
    })
}

/// A variable of the emitted code, shared by values that live in it in turn (an array
/// updated in place, a loop's carried value).
type Var = usize;

struct Emitter<'a> {
    f: &'a Function,
    scalar: &'a ScalarType,
    krate: TokenStream,
    reserved: BTreeSet<String>,
    counters: BTreeMap<String, usize>,
    uses: BTreeMap<Value, usize>,
    /// The variable holding each bound value.
    vars: BTreeMap<Value, Var>,
    names: BTreeMap<Var, Ident>,
    /// Variables updated in place or reassigned (by their generated names, which are
    /// unique), found in this pass.
    mutable: BTreeSet<String>,
    /// The same, found by the first pass: these are declared `let mut`.
    known_mutable: BTreeSet<String>,
    /// Values written where they are used, with their tokens.
    inline: BTreeMap<Value, TokenStream>,
    /// Rows read where they are used (see `find_places`).
    places: BTreeSet<Value>,
    /// For each result of an update (`Set`, `Accumulate`, `Axpy`…), the aggregate updated.
    updates: BTreeMap<Value, Value>,
    /// Negations (`−a`), by result, with their operand.
    negations: BTreeMap<Value, Value>,
    /// Scaled rows written where they are used, with their factor and row.
    scaled: BTreeMap<Value, (TokenStream, TokenStream)>,
    /// Values added into an element (`a[i] += v`).
    accumulated: BTreeSet<Value>,
    /// Values whose Rust type is known where they are computed (see `typed_values`); a
    /// float method of any other is written `<T>::method(x)`.
    typed: BTreeSet<Value>,
    /// Literals, by value.
    literals: BTreeMap<Value, f64>,
    /// The user's variables that change: declared `mut` or assigned in code carried
    /// verbatim. Code reading them is written where it stands, never moved to its use.
    changing: BTreeSet<String>,
}

impl Emitter<'_> {
    fn count_uses(&mut self, block: &Block) {
        for inst in &block.insts {
            if let (
                Op::Set(_)
                | Op::Accumulate(_)
                | Op::Axpy(_)
                | Op::AddBlock { .. }
                | Op::AddBand { .. }
                | Op::AddRow { .. },
                [r],
            ) = (&inst.op, inst.results.as_slice())
            {
                self.updates.insert(*r, inst.args[0]);
            }
            match (&inst.op, inst.results.as_slice()) {
                (Op::Neg, [r]) => {
                    self.negations.insert(*r, inst.args[0]);
                }
                (Op::Accumulate(_), _) => {
                    self.accumulated.insert(inst.args[1]);
                }
                (Op::Literal(v), [r]) => {
                    self.literals.insert(*r, *v);
                }
                _ => {}
            }
            for arg in &inst.args {
                *self.uses.entry(*arg).or_insert(0) += 1;
            }
            for nested in inst.blocks() {
                self.count_uses(nested);
            }
        }
        for value in &block.yields {
            *self.uses.entry(*value).or_insert(0) += 1;
        }
    }

    fn uses(&self, value: Value) -> usize {
        self.uses.get(&value).copied().unwrap_or(0)
    }

    /// A fresh hygienic name on `base`.
    fn fresh(&mut self, base: &str) -> Ident {
        let base = base.trim_start_matches("r#");
        loop {
            let count = self.counters.entry(base.to_owned()).or_insert(0);
            let name = if *count == 0 { base.to_owned() } else { format!("{base}_{count}") };
            *count += 1;
            if !self.reserved.contains(&name) {
                self.reserved.insert(name.clone());
                return Ident::new(&name, Span::mixed_site());
            }
        }
    }

    /// A new variable for `value`, named after it.
    fn bind(&mut self, value: Value) -> Ident {
        let base = self.f.name(value).unwrap_or("t").to_owned();
        let ident = self.fresh(&base);
        let var = self.names.len();
        self.names.insert(var, ident.clone());
        self.vars.insert(value, var);
        ident
    }

    /// `name` or `mut name` for a `let`.
    fn pat(&self, ident: &Ident) -> TokenStream {
        if self.known_mutable.contains(&ident.to_string()) {
            quote!(mut #ident)
        } else {
            ident.to_token_stream()
        }
    }

    /// `value` lives in the same variable as `other`.
    fn share(&mut self, value: Value, other: Value) -> Option<Ident> {
        let var = *self.vars.get(&other)?;
        self.vars.insert(value, var);
        self.names.get(&var).cloned()
    }

    fn var_ident(&self, value: Value) -> Option<Ident> {
        self.vars.get(&value).and_then(|v| self.names.get(v)).cloned()
    }

    /// How to write `value` as an operand.
    fn operand(&self, value: Value) -> TokenStream {
        if let Some(tokens) = self.inline.get(&value) {
            return tokens.clone();
        }
        match self.var_ident(value) {
            Some(ident) => ident.to_token_stream(),
            None => {
                quote!(compile_error!("internal error in #[jacobian]: a value used before it is defined"))
            }
        }
    }

    /// The initial value of a variable: a float literal typed (a variable that starts as
    /// `0.625` would be `{float}` where a method is called on it).
    fn initial(&self, value: Value) -> TokenStream {
        match self.literals.get(&value) {
            Some(v) => self.literal(*v, true),
            None => self.operand(value),
        }
    }

    /// `operand`, parenthesized unless it binds tighter than any operator already: one
    /// token, or a name or parenthesized expression followed by indexing (`x[i]`,
    /// `(*x)[i]`).
    fn atom(&self, value: Value) -> TokenStream {
        let tokens = self.operand(value);
        let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
        let postfix = match trees.split_first() {
            None => true,
            Some((first, rest)) => {
                let head = matches!(first, TokenTree::Ident(_) | TokenTree::Literal(_))
                    || matches!(first, TokenTree::Group(g) if g.delimiter() == Delimiter::Parenthesis);
                head && rest
                    .iter()
                    .all(|t| matches!(t, TokenTree::Group(g) if g.delimiter() == Delimiter::Bracket))
            }
        };
        if postfix {
            tokens
        } else {
            quote!((#tokens))
        }
    }

    /// A literal of the scalar type; `typed` where nothing else fixes its type.
    fn literal(&self, value: f64, typed: bool) -> TokenStream {
        let ty = &self.scalar.tokens;
        if self.scalar.generic {
            let krate = &self.krate;
            let lit = Literal::f64_suffixed(value.abs());
            let sign = if value.is_sign_negative() { quote!(-) } else { quote!() };
            return quote!(<#ty as #krate::Scalar>::from_f64(#sign #lit));
        }
        let text = if value.is_finite() { format!("{:?}", value.abs()) } else { String::new() };
        if text.is_empty() {
            return if value.is_nan() {
                quote!(#ty::NAN)
            } else if value > 0.0 {
                quote!(#ty::INFINITY)
            } else {
                quote!(#ty::NEG_INFINITY)
            };
        }
        let lit: TokenStream = if typed { format!("{text}_{ty}") } else { text }.parse().unwrap_or_default();
        if value.is_sign_negative() {
            quote!((-#lit))
        } else {
            lit
        }
    }

    fn literal_of(&self, inst: &Inst) -> Option<f64> {
        match inst.op {
            Op::Literal(v) => Some(v),
            _ => None,
        }
    }

    /// Code with its holes filled and the macro's placeholders replaced.
    fn code(&self, code: &Code, args: &[Value]) -> TokenStream {
        self.fill(code.tokens.clone(), args)
    }

    fn fill(&self, tokens: TokenStream, args: &[Value]) -> TokenStream {
        tokens
            .into_iter()
            .flat_map(|tree| -> Vec<TokenTree> {
                match tree {
                    TokenTree::Ident(ident) => {
                        if let Some(k) = Code::hole_number(&ident) {
                            // (A literal in the user's code has the scalar type written:
                            // `(1.0 + 1.25_f64.powi(2))`, where the value it replaces
                            // had it.)
                            let filled = |v: &Value| match self.literals.get(v) {
                                Some(literal) => self.literal(*literal, true),
                                None => self.atom(*v),
                            };
                            return args.get(k).map(filled).unwrap_or_default().into_iter().collect();
                        }
                        if ident == "__jacobian_scalar" {
                            return self.scalar.tokens.clone().into_iter().collect();
                        }
                        vec![TokenTree::Ident(ident)]
                    }
                    TokenTree::Group(group) => {
                        let mut filled = Group::new(group.delimiter(), self.fill(group.stream(), args));
                        filled.set_span(group.span());
                        vec![TokenTree::Group(filled)]
                    }
                    other => vec![other],
                }
            })
            .collect()
    }

    fn path(&self, path: &Path, indices: &[Value], ty: &Type) -> TokenStream {
        let mut indices = indices.iter();
        let mut position = |p: &Position| match p {
            Position::Const(k) => Literal::usize_unsuffixed(*k).to_token_stream(),
            Position::Dynamic => indices.next().map(|v| self.operand(*v)).unwrap_or_default(),
        };
        if matches!(ty, Type::Matrix(..)) {
            if let [r, c] = path.0.as_slice() {
                let (r, c) = (position(r), position(c));
                return quote!([(#r, #c)]);
            }
        }
        let steps = path.0.iter().map(|p| {
            let p = position(p);
            quote!([#p])
        });
        quote!(#(#steps)*)
    }

    /// The Rust type of an aggregate, for `zeros` of a matrix.
    fn matrix_type(&self, ty: &Type) -> TokenStream {
        let (krate, scalar) = (&self.krate, &self.scalar.tokens);
        match ty {
            Type::Matrix(r, c) => {
                let (r, c) = (r.type_arg(), c.type_arg());
                quote!(#krate::Matrix::<#r, #c, #scalar>)
            }
            Type::Vector(n) => {
                let n = n.type_arg();
                quote!(#krate::Vector::<#n, #scalar>)
            }
            _ => quote!(_),
        }
    }

    fn block(&mut self, block: &Block) -> TokenStream {
        let (last_use, defined_here) = liveness(block);
        self.find_places(block);
        let mut out = TokenStream::new();
        for (i, inst) in block.insts.iter().enumerate() {
            let dead_after = |v: Value| defined_here.contains(&v) && last_use.get(&v) == Some(&i);
            out.extend(self.inst(inst, &dead_after));
        }
        out
    }

    /// Rows read out of an aggregate that can be read where they are used (`&a[i]`) instead
    /// of copied: read once, later in the same block, with no update of that aggregate's
    /// variable in between or in the reading instruction, and no branch or loop between.
    fn find_places(&mut self, block: &Block) {
        // An aggregate built only to be passed to the next instruction is written there.
        for pair in block.insts.windows(2) {
            if let (Op::Build | Op::Scale, [r]) = (&pair[0].op, pair[0].results.as_slice()) {
                if self.uses(*r) == 1 && pair[1].args.contains(r) && pair[1].blocks().is_empty() {
                    self.places.insert(*r);
                }
            }
        }
        for (i, inst) in block.insts.iter().enumerate() {
            let (Op::Get(_), [r]) = (&inst.op, inst.results.as_slice()) else { continue };
            if !matches!(self.f.ty(*r), Type::Array(..)) || self.uses(*r) != 1 || block.yields.contains(r) {
                continue;
            }
            let Some(u) = block.insts[i + 1..].iter().position(|j| j.args.contains(r)).map(|k| i + 1 + k)
            else {
                continue;
            };
            let root = self.root(inst.args[0]);
            let clear = block.insts[i + 1..=u].iter().all(|j| match &j.op {
                Op::If { .. } | Op::For { .. } => false,
                Op::Set(_)
                | Op::Accumulate(_)
                | Op::Axpy(_)
                | Op::AddBlock { .. }
                | Op::AddBand { .. }
                | Op::AddRow { .. } => self.root(j.args[0]) != root,
                _ => true,
            });
            if clear {
                self.places.insert(*r);
            }
        }
    }

    /// The value an aggregate was first built as, before the updates that lead to it (they
    /// may all live in one variable).
    fn root(&self, value: Value) -> Value {
        let mut value = value;
        while let Some(previous) = self.updates.get(&value) {
            value = *previous;
        }
        value
    }

    fn inst(&mut self, inst: &Inst, dead_after: &dyn Fn(Value) -> bool) -> TokenStream {
        let args = &inst.args;
        let result = inst.results.first().copied();
        if let Some(v) = self.literal_of(inst) {
            if let Some(r) = result {
                self.inline.insert(r, self.literal(v, false));
            }
            return TokenStream::new();
        }
        // Results nobody reads are not written (the optimiser removes them; this keeps the
        // output clean before it runs), unless the instruction has effects.
        let pure = !matches!(inst.op, Op::Code(_) | Op::If { .. } | Op::For { .. } | Op::While { .. });
        if pure && inst.results.iter().all(|r| self.uses(*r) == 0) {
            return TokenStream::new();
        }
        let expr = match &inst.op {
            // A negation only subtracted from an element is written `a[i] -= x`.
            Op::Neg if result.is_some_and(|r| self.uses(r) == 1 && self.accumulated.contains(&r)) => {
                return TokenStream::new();
            }
            Op::Neg => {
                let a = self.atom(args[0]);
                quote!(-#a)
            }
            Op::Add | Op::Sub | Op::Mul | Op::Div => {
                let (mut a, b) = (self.atom(args[0]), self.atom(args[1]));
                // Arithmetic of two literals (not folded where one is defined outside the
                // block) would be `{float}`, on which methods are ambiguous.
                if let (Some(x), Some(_)) = (self.literals.get(&args[0]), self.literals.get(&args[1])) {
                    a = self.literal(*x, true);
                }
                match inst.op {
                    Op::Add => quote!(#a + #b),
                    Op::Sub => quote!(#a - #b),
                    Op::Mul => quote!(#a * #b),
                    _ => quote!(#a / #b),
                }
            }
            Op::Call(method) => {
                let receiver = match self.f.ty(args[0]) {
                    _ if self.inline.get(&args[0]).is_some_and(is_float_literal) => {
                        let value: f64 = self.inline[&args[0]]
                            .to_string()
                            .replace(['(', ')', ' '], "")
                            .parse()
                            .unwrap_or(0.0);
                        self.literal(value, true)
                    }
                    _ => self.atom(args[0]),
                };
                let method = Ident::new(method, Span::call_site());
                let rest = args[1..].iter().map(|a| self.operand(*a));
                if self.typed.contains(&args[0]) {
                    quote!(#receiver.#method(#(#rest),*))
                } else {
                    // (A value made of float literals alone is `{float}` to rustc, whose
                    // methods are ambiguous: `let s = if c { 2.5 } else { 1.5 }; s.tanh()`.)
                    let scalar = &self.scalar.tokens;
                    quote!(<#scalar>::#method(#receiver #(, #rest)*))
                }
            }
            Op::SinCos => {
                // (A literal alone is `{float}`, whose methods are ambiguous: typed.)
                let a = match self.literals.get(&args[0]) {
                    Some(value) => self.literal(*value, true),
                    None => self.atom(args[0]),
                };
                let (s, c) = (self.bind(inst.results[0]), self.bind(inst.results[1]));
                let (s, c) = (self.pat(&s), self.pat(&c));
                return quote!(let (#s, #c) = #a.sin_cos(););
            }
            Op::Select => {
                let (c, a, b) = (self.operand(args[0]), self.operand(args[1]), self.operand(args[2]));
                quote!(if #c { #a } else { #b })
            }
            Op::FromInt => {
                let n = self.atom(args[0]);
                let ty = &self.scalar.tokens;
                if self.scalar.generic {
                    let krate = &self.krate;
                    quote!(<#ty as #krate::Scalar>::from_i32(#n))
                } else if ty.to_string() == "f64" {
                    quote!(f64::from(#n))
                } else {
                    quote!(#n as #ty)
                }
            }
            Op::Constant(code) => {
                let tokens = self.code(code, args);
                let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
                let tokens = match trees.as_slice() {
                    [TokenTree::Group(g)] if g.delimiter() == Delimiter::Parenthesis => g.stream(),
                    _ => tokens,
                };
                // Float literals alone would be `{float}`, on which methods are ambiguous.
                let scalar_result = result.is_some_and(|r| *self.f.ty(r) == Type::Scalar);
                let result_type = result.map(|r| self.f.ty(r).clone());
                if scalar_result && !self.scalar.generic && unsuffixed_float(&tokens) {
                    let ty = &self.scalar.tokens;
                    quote!(((#tokens) as #ty))
                } else if let (Some(Type::Array(elem, n)), true) =
                    (result_type, syn::parse2::<Ident>(tokens.clone()).is_ok())
                {
                    // A user's array variable (`let mut a = [0.0; 2];`) may still be
                    // `[{float}; 2]` to rustc: its type, so that methods of its elements
                    // resolve.
                    match *elem {
                        Type::Scalar => {
                            let (ty, n) = (&self.scalar.tokens, n.type_arg());
                            quote!(<[#ty; #n]>::from(#tokens))
                        }
                        _ => tokens,
                    }
                } else {
                    tokens
                }
            }
            Op::Code(code) => {
                let tokens = self.code(code, args);
                let Some(r) = result else { return tokens };
                if self.uses(r) == 0 {
                    return quote!(#tokens;);
                }
                // Written where it is used only if nothing between can change what it reads:
                // it reads no SSA value but the function's parameters.
                let reads_only_parameters = args.iter().all(|a| self.f.params.iter().any(|p| p.value == *a));
                let one_token = args.is_empty() && code.tokens.clone().into_iter().count() == 1;
                // (Nor a variable of the user's that changes: `k` read before `k = 2`.)
                let steady = !mentions(&code.tokens, &self.changing);
                if steady
                    && (one_token
                        || self.uses(r) == 1 && crate::opt::is_simple(&code.tokens) && reads_only_parameters)
                {
                    self.inline.insert(r, tokens);
                    return TokenStream::new();
                }
                tokens
            }
            Op::Build => {
                let items: Vec<TokenStream> = args.iter().map(|a| self.operand(*a)).collect();
                let ty = result.map(|r| self.f.ty(r).clone()).unwrap_or(Type::Opaque);
                let krate = &self.krate;
                let tokens = match ty {
                    Type::Matrix(_, c) => {
                        let width = c.lit().unwrap_or(1).max(1);
                        let rows = items.chunks(width).map(|row| quote!([#(#row),*]));
                        quote!(#krate::Matrix::from_rows([#(#rows),*]))
                    }
                    Type::Vector(_) => quote!(#krate::Vector::from([#(#items),*])),
                    _ => quote!([#(#items),*]),
                };
                if let Some(r) = result.filter(|r| self.places.contains(r)) {
                    self.inline.insert(r, tokens);
                    return TokenStream::new();
                }
                tokens
            }
            Op::Splat => {
                let ty = result.map(|r| self.f.ty(r).clone()).unwrap_or(Type::Opaque);
                match &ty {
                    Type::Array(_, n) => {
                        // (A literal typed: an array of literals is `[{float}; n]` to rustc
                        // until something fixes its type, and methods of its elements would
                        // be ambiguous.)
                        let item = match self.inline.get(&args[0]) {
                            Some(tokens) if !self.scalar.generic && is_float_literal(tokens) => {
                                let value: f64 =
                                    tokens.to_string().replace(['(', ')', ' '], "").parse().unwrap_or(0.0);
                                self.literal(value, true)
                            }
                            _ => self.operand(args[0]),
                        };
                        let n = n.type_arg();
                        quote!([#item; #n])
                    }
                    _ => {
                        let matrix = self.matrix_type(&ty);
                        quote!(#matrix::zeros())
                    }
                }
            }
            Op::Get(path) => {
                let base = self.atom(args[0]);
                let path = self.path(path, &args[1..], self.f.ty(args[0]));
                let tokens = quote!(#base #path);
                // A read of a parameter or of a value never updated in place reads the same
                // wherever it is written; so does a row `find_places` vouches for.
                if let Some(r) = result {
                    let parameter = self.inline.contains_key(&args[0]) && self.f.ty(r) == &Type::Scalar;
                    if (parameter || self.places.contains(&r)) && self.uses(r) == 1 {
                        self.inline.insert(r, tokens);
                        return TokenStream::new();
                    }
                }
                tokens
            }
            Op::Set(path) | Op::Accumulate(path) => {
                let (aggregate, value) = (args[0], args[1]);
                let path = self.path(path, &args[2..], self.f.ty(aggregate));
                let negated = self.negations.get(&value).filter(|_| self.uses(value) == 1).copied();
                let negative =
                    self.literals.get(&value).filter(|v| **v < 0.0).map(|v| self.literal(-v, false));
                let (assign, v) = match (&inst.op, negated, negative) {
                    (Op::Set(_), ..) => (quote!(=), self.operand(value)),
                    (_, Some(operand), _) => (quote!(-=), self.operand(operand)),
                    (_, _, Some(positive)) => (quote!(-=), positive),
                    _ => (quote!(+=), self.operand(value)),
                };
                let Some(r) = result else { return TokenStream::new() };
                // A scaled row stored into a row: written there (no temporary row copied).
                let scaled = self.scaled.get(&value).filter(|_| matches!(inst.op, Op::Set(_))).cloned();
                return match (self.in_place(r, aggregate, dead_after), scaled) {
                    // (Not from the variable it is written into: one borrow at a time.)
                    (Some(target), Some((c, row))) if !names(&row, &target) => {
                        let krate = &self.krate;
                        quote!(#krate::__private::scale_into(&mut #target #path, #c, &#row);)
                    }
                    (Some(target), _) => quote!(#target #path #assign #v;),
                    (None, _) => {
                        let source = self.operand(aggregate);
                        let target = self.bind(r);
                        self.mutable.insert(target.to_string());
                        let pat = self.pat(&target);
                        quote!(let #pat = #source; #target #path #assign #v;)
                    }
                };
            }
            Op::Axpy(_) | Op::AddBlock { .. } | Op::AddBand { .. } | Op::AddRow { .. } => {
                let Some(r) = result else { return TokenStream::new() };
                let krate = self.krate.clone();
                let rest: Vec<TokenStream> = match &inst.op {
                    Op::Axpy(_) => {
                        let (c, row) = (self.operand(args[1]), self.operand(args[2]));
                        vec![c, quote!(&#row)]
                    }
                    Op::AddBlock { offset } => {
                        let (offset, jac) = (offset.value(), self.operand(args[1]));
                        vec![offset, quote!(&#jac)]
                    }
                    Op::AddBand { offset, width, shift, .. } => {
                        let (offset, width, diagonal) =
                            (offset.value(), width.value(), self.operand(args[1]));
                        let shift = Literal::i64_unsuffixed(*shift);
                        vec![offset, width, shift.to_token_stream(), quote!(&#diagonal)]
                    }
                    Op::AddRow { offset, row } => {
                        let i = match row {
                            Position::Const(k) => Literal::usize_unsuffixed(*k).to_token_stream(),
                            Position::Dynamic => self.operand(args[3]),
                        };
                        let (c, values) = (self.operand(args[1]), self.operand(args[2]));
                        vec![i, offset.value(), c, quote!(&#values)]
                    }
                    _ => Vec::new(),
                };
                let helper = match &inst.op {
                    Op::Axpy(_) => quote!(axpy),
                    Op::AddBlock { .. } => quote!(add_block),
                    Op::AddBand { transposed, .. } => {
                        let rows = !matches!(self.f.ty(args[0]), Type::Matrix(..));
                        match (rows, transposed) {
                            (true, _) => quote!(add_band_rows),
                            (false, false) => quote!(add_band),
                            (false, true) => quote!(add_band_transposed),
                        }
                    }
                    _ => quote!(add_row),
                };
                let at = match &inst.op {
                    Op::Axpy(path) => self.path(path, &args[3..], self.f.ty(args[0])),
                    _ => TokenStream::new(),
                };
                return match self.in_place(r, args[0], dead_after) {
                    Some(target) => quote!(#krate::__private::#helper(&mut #target #at, #(#rest),*);),
                    None => {
                        let source = self.operand(args[0]);
                        let target = self.bind(r);
                        self.mutable.insert(target.to_string());
                        let pat = self.pat(&target);
                        quote!(let #pat = #source; #krate::__private::#helper(&mut #target #at, #(#rest),*);)
                    }
                };
            }
            Op::Convert => {
                let krate = &self.krate;
                let source = self.operand(args[0]);
                let (from, to) =
                    (self.f.ty(args[0]), result.map(|r| self.f.ty(r).clone()).unwrap_or(Type::Opaque));
                let scalar = &self.scalar.tokens;
                match (from, &to) {
                    (Type::Array(elem, _), Type::Matrix(..)) if **elem != Type::Scalar => {
                        quote!(#krate::Matrix::from_rows(#source))
                    }
                    (Type::Array(..), Type::Matrix(r, _)) if *r == crate::shape::Dim::Lit(1) => {
                        quote!(#krate::Matrix::from_rows([#source]))
                    }
                    (Type::Array(..), Type::Matrix(r, c)) if *c == crate::shape::Dim::Lit(1) => {
                        let _ = r;
                        quote!(#krate::Vector::from(#source))
                    }
                    (Type::Array(_, n), Type::Matrix(r, c)) => {
                        let (r, c, n) = (r.type_arg(), c.type_arg(), n.type_arg());
                        quote!(#krate::__private::unflat::<#scalar, #r, #c, #n>(&#source))
                    }
                    (Type::Array(..), Type::Vector(_)) => quote!(#krate::Vector::from(#source)),
                    (Type::Vector(_), Type::Array(..)) => quote!(#source.as_array()),
                    (Type::Matrix(r, _), Type::Vector(_)) if *r == crate::shape::Dim::Lit(1) => {
                        quote!(#source.transpose())
                    }
                    // A nested array and its flat components.
                    (Type::Array(row, r), Type::Array(elem, n))
                        if **elem == Type::Scalar && matches!(&**row, Type::Array(..)) =>
                    {
                        let Type::Array(_, c) = &**row else { unreachable!() };
                        let (c, r, n) = (c.type_arg(), r.type_arg(), n.type_arg());
                        quote!(#krate::__private::flat_rows::<#scalar, #c, #r, #n>(&#source))
                    }
                    (Type::Array(elem, n), Type::Array(row, r))
                        if **elem == Type::Scalar && matches!(&**row, Type::Array(..)) =>
                    {
                        let Type::Array(_, c) = &**row else { unreachable!() };
                        let (c, r, n) = (c.type_arg(), r.type_arg(), n.type_arg());
                        quote!(#krate::__private::unflat_rows::<#scalar, #c, #r, #n>(&#source))
                    }
                    // A tuple result from its flat components.
                    (Type::Array(..), Type::Tuple(types)) => {
                        let flat = Ident::new("flat", Span::mixed_site());
                        let mut at = 0usize;
                        let mut parts = Vec::new();
                        for ty in types {
                            let n = ty.components().and_then(|n| n.lit()).unwrap_or(1);
                            let items: Vec<TokenStream> = (at..at + n)
                                .map(|k| {
                                    let k = Literal::usize_unsuffixed(k);
                                    quote!(#flat[#k])
                                })
                                .collect();
                            at += n;
                            parts.push(match ty {
                                Type::Scalar => items[0].clone(),
                                Type::Array(..) => quote!([#(#items),*]),
                                Type::Vector(_) => quote!(#krate::Vector::from([#(#items),*])),
                                Type::Matrix(r, c) => {
                                    let (r, c) = (r.lit().unwrap_or(1), c.lit().unwrap_or(1));
                                    let rows: Vec<TokenStream> = (0..r)
                                        .map(|i| {
                                            let row = &items[i * c..(i + 1) * c];
                                            quote!([#(#row),*])
                                        })
                                        .collect();
                                    quote!(#krate::Matrix::from_rows([#(#rows),*]))
                                }
                                _ => items[0].clone(),
                            });
                        }
                        quote!({ let #flat = #source; (#(#parts),*) })
                    }
                    // A matrix's rows, read in place: a reference, written `(*rows)` where
                    // it is read (never updated in place: `in_place` skips inline values).
                    (Type::Matrix(..), Type::Array(row, _)) if matches!(&**row, Type::Array(..)) => {
                        let Some(r) = result else { return TokenStream::new() };
                        let name = self.bind(r);
                        self.inline.insert(r, quote!((*#name)));
                        return quote!(let #name = #source.as_rows(););
                    }
                    (Type::Matrix(r, c), Type::Array(_, n)) => {
                        let (r, c, n) = (r.type_arg(), c.type_arg(), n.type_arg());
                        quote!(#krate::__private::flat::<#scalar, #r, #c, #n>(&#source))
                    }
                    _ => source,
                }
            }
            Op::Scale => {
                let krate = &self.krate;
                let (c, row) = (self.operand(args[0]), self.operand(args[1]));
                let tokens = quote!(#krate::__private::scaled(#c, &#row));
                if let Some(r) = result.filter(|r| self.places.contains(r)) {
                    self.inline.insert(r, tokens);
                    self.scaled.insert(r, (c, row));
                    return TokenStream::new();
                }
                tokens
            }
            Op::Tuple => {
                let items = args.iter().map(|a| self.operand(*a));
                quote!((#(#items),*))
            }
            Op::Chain { .. } => {
                let parts = self.operand(args[0]);
                quote!(#parts.0)
            }
            Op::Literal(_) => TokenStream::new(),
            Op::If { then, otherwise } => return self.branch(inst, then, otherwise),
            Op::For { pattern, range, holes, body } => {
                return self.for_loop(inst, pattern, range, *holes, body, dead_after)
            }
            Op::While { cond, body } => return self.while_loop(inst, cond, body, dead_after),
        };
        match result {
            Some(r) => {
                let name = self.bind(r);
                let pat = self.pat(&name);
                quote!(let #pat = #expr;)
            }
            None => quote!(#expr;),
        }
    }

    /// The variable to update in place for `result = update(aggregate, …)`, when the old
    /// value is not read again and lives in a variable of this function's own.
    fn in_place(
        &mut self,
        result: Value,
        aggregate: Value,
        dead_after: &dyn Fn(Value) -> bool,
    ) -> Option<Ident> {
        if !dead_after(aggregate) || self.inline.contains_key(&aggregate) {
            return None;
        }
        let ident = self.share(result, aggregate)?;
        self.mutable.insert(ident.to_string());
        Some(ident)
    }

    fn branch(&mut self, inst: &Inst, then: &Block, otherwise: &Block) -> TokenStream {
        let condition = self.operand(inst.args[0]);
        let arm = |emitter: &mut Self, block: &Block| {
            let statements = emitter.block(block);
            let values: Vec<TokenStream> = block.yields.iter().map(|v| emitter.operand(*v)).collect();
            let value = match values.as_slice() {
                [] => TokenStream::new(),
                [one] => one.clone(),
                many => quote!((#(#many),*)),
            };
            quote!({ #statements #value })
        };
        let (then, otherwise) = (arm(self, then), arm(self, otherwise));
        let names: Vec<Ident> = inst.results.iter().map(|r| self.bind(*r)).collect();
        let names: Vec<TokenStream> = names.iter().map(|n| self.pat(n)).collect();
        match names.as_slice() {
            [] => quote!(if #condition #then else #otherwise),
            [one] => quote!(let #one = if #condition #then else #otherwise;),
            many => quote!(let (#(#many),*) = if #condition #then else #otherwise;),
        }
    }

    /// `while`: one variable per carried value (the test's parameter, the body's, the
    /// result); `while c { … }` when the test is one piece of code, else
    /// `loop { test; if !go_on { break; } body }`.
    fn while_loop(
        &mut self,
        inst: &Inst,
        cond: &Block,
        body: &Block,
        dead_after: &dyn Fn(Value) -> bool,
    ) -> TokenStream {
        let mut out = TokenStream::new();
        let mut inside = Vec::new();
        collect_uses(cond, &mut inside);
        collect_uses(body, &mut inside);
        for (k, param) in cond.params.iter().enumerate() {
            let init = inst.args[k];
            let once = inst.args.iter().filter(|v| **v == init).count() == 1;
            let reused =
                once && dead_after(init) && !self.inline.contains_key(&init) && !inside.contains(&init);
            let name = match reused.then(|| self.share(*param, init)).flatten() {
                Some(name) => name,
                None => {
                    let value = self.initial(init);
                    let name = self.bind(*param);
                    let pat = self.pat(&name);
                    out.extend(quote!(let #pat = #value;));
                    name
                }
            };
            self.mutable.insert(name.to_string());
            self.share(body.params[k], *param);
            self.share(inst.results[k], *param);
        }
        // Assignments of a block's yields to the carried variables (a yield already in its
        // variable needs none).
        let assign = |emitter: &Self, yields: &[Value]| -> TokenStream {
            let mut out = TokenStream::new();
            for (k, value) in yields.iter().enumerate() {
                let target = emitter.var_ident(cond.params[k]);
                if target.is_some() && target == emitter.var_ident(*value) {
                    continue;
                }
                let (Some(target), value) = (target, emitter.operand(*value)) else { continue };
                out.extend(quote!(#target = #value;));
            }
            out
        };
        let test = self.block(cond);
        let go_on = self.operand(cond.yields[0]);
        let passed_on = assign(self, &cond.yields[1..]);
        let statements = self.block(body);
        let next = assign(self, &body.yields);
        if test.is_empty() && passed_on.is_empty() {
            out.extend(quote!(while #go_on { #statements #next }));
        } else {
            out.extend(quote!(loop { #test #passed_on if !(#go_on) { break; } #statements #next }));
        }
        out
    }

    fn for_loop(
        &mut self,
        inst: &Inst,
        pattern: &TokenStream,
        range: &Code,
        holes: usize,
        body: &Block,
        dead_after: &dyn Fn(Value) -> bool,
    ) -> TokenStream {
        if let Some(dot) = self.dot_product(inst, pattern, range, holes, body) {
            return dot;
        }
        let range = self.code(range, &inst.args[..holes]);
        let inits = &inst.args[holes..];
        let mut out = TokenStream::new();
        // One variable per carried value: its initial value's when that is not read after
        // the loop (no copy), the body's parameter, its next value when the body computes
        // it last thing, and the loop's result.
        for (k, param) in body.params.iter().enumerate() {
            let init = inits[k];
            let once = inits.iter().filter(|v| **v == init).count() == 1;
            let mut inside = Vec::new();
            collect_uses(body, &mut inside);
            let reused =
                once && dead_after(init) && !self.inline.contains_key(&init) && !inside.contains(&init);
            let name = match reused.then(|| self.share(*param, init)).flatten() {
                Some(name) => name,
                None => {
                    let value = self.initial(init);
                    let name = self.bind(*param);
                    let pat = self.pat(&name);
                    out.extend(quote!(let #pat = #value;));
                    name
                }
            };
            self.mutable.insert(name.to_string());
            self.share(inst.results[k], *param);
        }
        let coalesced = coalescable(body);
        for (k, param) in body.params.iter().enumerate() {
            if coalesced.contains(&k) {
                self.share(body.yields[k], *param);
            }
        }
        let mut statements = self.block_with_homes(body, &coalesced);
        for (k, param) in body.params.iter().enumerate() {
            let target = self.var_ident(*param);
            let source = self.var_ident(body.yields[k]);
            if target.is_some() && target == source {
                continue;
            }
            let (Some(target), value) = (target, self.operand(body.yields[k])) else { continue };
            statements.extend(quote!(#target = #value;));
        }
        out.extend(quote!(for #pattern in #range { #statements }));
        out
    }

    /// A loop that only sums, from zero, the products of two rows' elements at its index
    /// (`s = 0; for k in 0..n { s += a[k] * b[k] }`, a row of a matrix product, over rows
    /// of length `n`): one call of the runtime's `dot` on the two rows, the same sum in the
    /// same order.
    fn dot_product(
        &mut self,
        inst: &Inst,
        pattern: &TokenStream,
        range: &Code,
        holes: usize,
        body: &Block,
    ) -> Option<TokenStream> {
        if holes != 0 || body.params.len() != 1 || self.literals.get(&inst.args[0]) != Some(&0.0) {
            return None;
        }
        let [index, first, second, product, sum] = body.insts.as_slice() else { return None };
        let k = match (&index.op, index.args.as_slice(), index.results.as_slice()) {
            (Op::Code(code), [], [k]) if code.tokens.to_string() == pattern.to_string() => *k,
            _ => return None,
        };
        // `a[…][k]` for `a` and the positions before `k` not reading `k`: `a[…]`, and its length.
        let row = |get: &Inst| -> Option<(Value, Path, Vec<Value>, Dim)> {
            let (Op::Get(path), [aggregate, indices @ ..]) = (&get.op, get.args.as_slice()) else {
                return None;
            };
            let (Position::Dynamic, prefix) = path.0.split_last()? else { return None };
            let (last, before) = indices.split_last()?;
            if *last != k || before.contains(&k) {
                return None;
            }
            let prefix = Path(prefix.to_vec());
            let Some(Type::Array(element, len)) = prefix.walk(self.f.ty(*aggregate)) else { return None };
            (*element == Type::Scalar).then(|| (*aggregate, prefix, before.to_vec(), len))
        };
        let (a, b) = (row(first)?, row(second)?);
        let of = |inst: &Inst, x: Value, y: Value| inst.args == [x, y] || inst.args == [y, x];
        let fits = matches!((&product.op, &sum.op), (Op::Mul, Op::Add))
            && of(product, first.results[0], second.results[0])
            && of(sum, body.params[0], product.results[0])
            && body.yields == sum.results
            && a.3 == b.3;
        let (len, bare) = (a.3.value(), &a.3);
        let range = range.tokens.to_string();
        if !fits || range != quote!(0..#len).to_string() && range != quote!(0..#bare).to_string() {
            return None;
        }
        let [a, b] = [a, b].map(|(aggregate, prefix, indices, _)| {
            let base = self.atom(aggregate);
            let path = self.path(&prefix, &indices, self.f.ty(aggregate));
            quote!(&#base #path)
        });
        let name = self.bind(inst.results[0]);
        let pat = self.pat(&name);
        let krate = &self.krate;
        Some(quote!(let #pat = #krate::__private::dot(#a, #b);))
    }

    /// A loop body whose coalesced yields are written into their carried variables:
    /// `s = s + t` as `s += t`.
    fn block_with_homes(&mut self, body: &Block, coalesced: &BTreeSet<usize>) -> TokenStream {
        let homes: BTreeMap<Value, usize> = coalesced.iter().map(|k| (body.yields[*k], *k)).collect();
        let saved: BTreeMap<Value, Var> =
            homes.keys().filter_map(|v| self.vars.get(v).map(|var| (*v, *var))).collect();
        // Let `inst` bind normally, then turn `let x = a op b;` for a home into an update.
        let mut out = TokenStream::new();
        let (last_use, defined_here) = liveness(body);
        self.find_places(body);
        for (i, inst) in body.insts.iter().enumerate() {
            let dead_after = |v: Value| defined_here.contains(&v) && last_use.get(&v) == Some(&i);
            let home = inst.results.first().and_then(|r| homes.get(r).map(|k| (*r, *k)));
            match home {
                Some((result, k)) if self.rewrites_as_update(inst, body.params[k]) => {
                    self.vars.remove(&result);
                    let target = self.bind_to(result, saved.get(&result).copied());
                    let other =
                        self.atom(if inst.args[0] == body.params[k] { inst.args[1] } else { inst.args[0] });
                    let op = match inst.op {
                        Op::Add => quote!(+=),
                        Op::Sub => quote!(-=),
                        Op::Mul => quote!(*=),
                        _ => quote!(/=),
                    };
                    out.extend(quote!(#target #op #other;));
                }
                Some((result, _))
                    if !matches!(
                        inst.op,
                        Op::Set(_)
                            | Op::Accumulate(_)
                            | Op::Axpy(_)
                            | Op::If { .. }
                            | Op::For { .. }
                            | Op::While { .. }
                            | Op::SinCos
                    ) =>
                {
                    // Computed last thing: assigned straight into the carried variable.
                    let statement = self.inst(inst, &dead_after);
                    let bound = self.var_ident(result);
                    self.vars.remove(&result);
                    // (A value written where it is used, such as a read `x[i]`, is assigned.)
                    let inlined = self.inline.remove(&result);
                    let target = self.bind_to(result, saved.get(&result).copied());
                    match inlined {
                        Some(value) if statement.is_empty() => out.extend(quote!(#target = #value;)),
                        inlined => {
                            if let Some(value) = inlined {
                                self.inline.insert(result, value);
                            }
                            out.extend(rebind(statement, bound.as_ref(), &target));
                        }
                    }
                }
                _ => out.extend(self.inst(inst, &dead_after)),
            }
        }
        out
    }

    /// `result = param op x` (or `x + param`, `x * param`), an update of `param` in place.
    fn rewrites_as_update(&self, inst: &Inst, param: Value) -> bool {
        match inst.op {
            Op::Add | Op::Mul => inst.args.contains(&param),
            Op::Sub | Op::Div => inst.args[0] == param && inst.args[1] != param,
            _ => false,
        }
    }

    fn bind_to(&mut self, value: Value, var: Option<Var>) -> Ident {
        match var {
            Some(var) => {
                self.vars.insert(value, var);
                self.names[&var].clone()
            }
            None => self.bind(value),
        }
    }
}

/// Turns `let name = expr;` into `target = expr;`.
fn rebind(statement: TokenStream, bound: Option<&Ident>, target: &Ident) -> TokenStream {
    let trees: Vec<TokenTree> = statement.into_iter().collect();
    match (trees.as_slice(), bound) {
        ([TokenTree::Ident(l), TokenTree::Ident(n), rest @ ..], Some(bound)) if l == "let" && n == bound => {
            let rest: TokenStream = rest.iter().cloned().collect();
            quote!(#target #rest)
        }
        _ => trees.into_iter().collect(),
    }
}

/// Carried values whose next value is computed in the body after the last read of the
/// current one: both can live in one variable.
fn coalescable(body: &Block) -> BTreeSet<usize> {
    let mut out = BTreeSet::new();
    for (k, (param, next)) in body.params.iter().zip(&body.yields).enumerate() {
        let Some(defined) = body.insts.iter().position(|i| i.results.contains(next)) else { continue };
        // The values that may live in the parameter's variable: it, and the results of a
        // nested loop or branch it flows into (a loop's carried value shares its variable).
        let mut sharing = vec![*param];
        for inst in &body.insts[..defined] {
            if !inst.blocks().is_empty() && inst.args.iter().any(|a| sharing.contains(a)) {
                sharing.extend(&inst.results);
            }
        }
        let read_later = body.insts[defined + 1..].iter().any(|inst| {
            let mut used = inst.args.clone();
            for nested in inst.blocks() {
                collect_uses(nested, &mut used);
            }
            used.iter().any(|u| sharing.contains(u))
        });
        let yielded_elsewhere =
            body.yields.iter().enumerate().any(|(j, y)| j != k && (y == param || y == next));
        if !read_later && !yielded_elsewhere {
            out.insert(k);
        }
    }
    out
}

/// For each value used in `block`, the index of the last instruction using it (its yields
/// count as the end), and the values the block defines (its parameters and results): what
/// an instruction may update in place.
fn liveness(block: &Block) -> (BTreeMap<Value, usize>, BTreeSet<Value>) {
    let mut last_use = BTreeMap::new();
    for (i, inst) in block.insts.iter().enumerate() {
        let mut used = inst.args.clone();
        for nested in inst.blocks() {
            collect_uses(nested, &mut used);
        }
        for v in used {
            last_use.insert(v, i);
        }
    }
    for v in &block.yields {
        last_use.insert(*v, block.insts.len());
    }
    let defined = block
        .params
        .iter()
        .copied()
        .chain(block.insts.iter().flat_map(|i| i.results.iter().copied()))
        .collect();
    (last_use, defined)
}

fn collect_uses(block: &Block, out: &mut Vec<Value>) {
    for inst in &block.insts {
        out.extend(&inst.args);
        for nested in inst.blocks() {
            collect_uses(nested, out);
        }
    }
    out.extend(&block.yields);
}

fn is_float_literal(tokens: &TokenStream) -> bool {
    let text = tokens.to_string().replace(['(', ')', ' '], "");
    text.parse::<f64>().is_ok() && text.contains('.')
}

/// Whether `tokens` are arithmetic of float literals without a type suffix and nothing
/// else that would give them a type (no variable, no path; method names are allowed).
fn unsuffixed_float(tokens: &TokenStream) -> bool {
    fn scan(tokens: &TokenStream, found: &mut bool) -> bool {
        let mut after_dot = false;
        for tree in tokens.clone() {
            match &tree {
                TokenTree::Literal(literal) => {
                    let text = literal.to_string();
                    if text.ends_with("f64") || text.ends_with("f32") {
                        return false;
                    }
                    *found |= text.contains('.') || text.contains('e');
                }
                TokenTree::Ident(_) if !after_dot => return false,
                TokenTree::Group(group) if !scan(&group.stream(), found) => return false,
                _ => {}
            }
            after_dot = matches!(&tree, TokenTree::Punct(p) if p.as_char() == '.');
        }
        true
    }
    let mut found = false;
    scan(tokens, &mut found) && found
}

/// The user's variables that change in `block`: those its code declares `mut` or assigns.
fn changing(block: &Block, out: &mut BTreeSet<String>) {
    fn scan(tokens: TokenStream, out: &mut BTreeSet<String>) {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        for (k, tree) in trees.iter().enumerate() {
            match tree {
                TokenTree::Ident(ident) if ident == "mut" => {
                    if let Some(TokenTree::Ident(name)) = trees.get(k + 1) {
                        out.insert(name.to_string());
                    }
                }
                // `name = …`, `name += …` (not `==`, `<=`, `>=`, `!=`, `=>`).
                TokenTree::Ident(name) => {
                    let assigned = match (trees.get(k + 1), trees.get(k + 2)) {
                        (Some(TokenTree::Punct(p)), next) if p.as_char() == '=' => {
                            !matches!(next, Some(TokenTree::Punct(q)) if q.as_char() == '=' || q.as_char() == '>')
                        }
                        (Some(TokenTree::Punct(p)), Some(TokenTree::Punct(q))) => {
                            "+-*/%&|^".contains(p.as_char()) && q.as_char() == '='
                        }
                        _ => false,
                    };
                    if assigned {
                        out.insert(name.to_string());
                    }
                }
                TokenTree::Group(group) => scan(group.stream(), out),
                _ => {}
            }
        }
    }
    for inst in &block.insts {
        if let Op::Code(code) | Op::Constant(code) = &inst.op {
            scan(code.tokens.clone(), out);
        }
        if let Op::For { pattern, .. } = &inst.op {
            scan(pattern.clone(), out);
        }
        for inner in inst.blocks() {
            changing(inner, out);
        }
    }
}

/// Whether `tokens` mention any of `names`.
fn mentions(tokens: &TokenStream, names: &BTreeSet<String>) -> bool {
    !names.is_empty()
        && tokens.clone().into_iter().any(|tree| match tree {
            TokenTree::Ident(ident) => names.contains(&ident.to_string()),
            TokenTree::Group(group) => mentions(&group.stream(), names),
            _ => false,
        })
}

/// The values whose Rust type is known where they are computed: the parameters, and what
/// is computed from a known type (an arithmetic result, a branch's or a loop's value where
/// one side is known, a method's result, the runtime's helpers). Literals, and values made
/// only of literals (`if c { 2.5 } else { 1.5 }`), are not: rustc sees `{float}`.
fn typed_values(f: &Function) -> BTreeSet<Value> {
    fn walk(block: &Block, typed: &mut BTreeSet<Value>) -> bool {
        let mut changed = false;
        for inst in &block.insts {
            let any = |args: &[Value], typed: &BTreeSet<Value>| args.iter().any(|a| typed.contains(a));
            match &inst.op {
                Op::Literal(_) | Op::Code(_) => {}
                // (User code has its own type, unless it is float literals alone.)
                Op::Constant(code) => {
                    if !unsuffixed_float(&code.tokens) && !is_float_literal(&code.tokens) {
                        for r in &inst.results {
                            changed |= typed.insert(*r);
                        }
                    }
                }
                Op::If { then, otherwise } => {
                    for b in [then, otherwise] {
                        changed |= walk(b, typed);
                    }
                    for (k, r) in inst.results.iter().enumerate() {
                        let known = [then, otherwise]
                            .iter()
                            .any(|b| b.yields.get(k).is_some_and(|y| typed.contains(y)));
                        if known {
                            changed |= typed.insert(*r);
                        }
                    }
                }
                Op::For { holes, body, .. } => {
                    let inits = &inst.args[*holes..];
                    for (k, p) in body.params.iter().enumerate() {
                        let known = inits.get(k).is_some_and(|i| typed.contains(i))
                            || body.yields.get(k).is_some_and(|y| typed.contains(y));
                        if known {
                            changed |= typed.insert(*p);
                            if let Some(r) = inst.results.get(k) {
                                changed |= typed.insert(*r);
                            }
                        }
                    }
                    changed |= walk(body, typed);
                }
                Op::While { cond, body } => {
                    // (`cond` yields whether to go on, then the carried values.)
                    for (k, p) in cond.params.iter().enumerate() {
                        let known = inst.args.get(k).is_some_and(|i| typed.contains(i))
                            || body.yields.get(k).is_some_and(|y| typed.contains(y))
                            || cond.yields.get(k + 1).is_some_and(|y| typed.contains(y));
                        if known {
                            changed |= typed.insert(*p);
                            if let Some(b) = body.params.get(k) {
                                changed |= typed.insert(*b);
                            }
                            if let Some(r) = inst.results.get(k) {
                                changed |= typed.insert(*r);
                            }
                        }
                    }
                    changed |= walk(cond, typed);
                    changed |= walk(body, typed);
                }
                Op::Add
                | Op::Sub
                | Op::Mul
                | Op::Div
                | Op::Neg
                | Op::Select
                | Op::Build
                | Op::Splat
                | Op::Get(_)
                | Op::Set(_)
                | Op::Accumulate(_)
                | Op::Tuple => {
                    if any(&inst.args, typed) {
                        for r in &inst.results {
                            changed |= typed.insert(*r);
                        }
                    }
                }
                // Methods (written typed where their receiver is not), integers as floats,
                // calls, the runtime's helpers.
                _ => {
                    for r in &inst.results {
                        changed |= typed.insert(*r);
                    }
                }
            }
        }
        changed
    }
    let mut typed: BTreeSet<Value> = f.params.iter().map(|p| p.value).collect();
    while walk(&f.body, &mut typed) {}
    typed
}

/// Whether `tokens` name `ident` anywhere.
fn names(tokens: &TokenStream, ident: &Ident) -> bool {
    tokens.clone().into_iter().any(|tree| match tree {
        TokenTree::Ident(i) => i == *ident,
        TokenTree::Group(g) => names(&g.stream(), ident),
        _ => false,
    })
}
