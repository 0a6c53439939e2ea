//! Owns the front end: the user's `syn` function becomes a primal-only IR function.
//!
//! Values that can carry derivatives (scalars of the function's type, arrays of them) become
//! SSA values; everything else (integers, conditions, calls of plain functions, statement
//! macros) stays the user's code, carried as [`Code`] with the SSA values it reads as holes,
//! and printed back verbatim. Variables that hold non-differentiable values stay Rust
//! variables of the user's own name.
//!
//! A mutable variable is one SSA value per assignment. Branches and loops are lowered with
//! every mutable variable in scope threaded through them (as `if` results, as loop-carried
//! values); those a branch or loop leaves unchanged are pruned again.
//!
//! Whether a variable is differentiable is decided where it is bound, from its initial
//! value or annotation. When a later assignment gives a non-differentiable variable a
//! differentiable value (`let mut m = K; … m += x;`), the binding is marked and the
//! function lowered again, with `m` an SSA value from its `let` on.
//!
//! Every diagnostic for unsupported code is made here, at the code's span, with what to
//! write instead (the longer texts are in `messages`): an [`Unsupported`]. After a
//! statement it does not take, the front end records the problem and goes on with the
//! next (`stmt::recover`), so one compilation reports every problem, not the first.

mod code_type;
mod expr;
mod flatten;

pub(crate) use expr::is_compound_assign;
mod iter;
mod matrix;
mod messages;
mod stmt;

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::spanned::Spanned;

use crate::ir::{Block, Code, Function, Inst, Op, Param, Path, Position, Type, Value};
use crate::shape::{Dim, Shape};
use crate::signature::Signature;

/// Code the macro does not take: `what` at the code from `span` to `end`. The front end's
/// problems are the user's (`error` gives the message); a later stage's name what it
/// could not do, at the call site.
#[derive(Debug)]
pub struct Unsupported {
    pub span: Span,
    pub end: Span,
    pub what: String,
}

/// Why lowering stopped before the end.
#[derive(Debug)]
enum Stop {
    Unsupported(Unsupported),
    /// A binding was found to need an SSA value: lower again from the start.
    Restart,
}

type Result<T> = std::result::Result<T, Stop>;

/// The code `at` is not supported: `what` is the construct ("`%` of a differentiated
/// value"), which the message to the user says is not supported.
fn unsupported<T>(at: &dyn ToTokens, what: impl Into<String>) -> Result<T> {
    let what = what.into();
    refused(at, format!("{what} is not supported in a differentiated function; see “What a body may contain” in the README"))
}

/// Code the macro does not take: `message` is the user's error at `at`, whole.
fn refused<T>(at: &dyn ToTokens, message: impl std::fmt::Display) -> Result<T> {
    Err(Stop::Unsupported(Unsupported::at(at, message.to_string())))
}

impl Unsupported {
    /// The problem `what` with the code `at`, spanning all of it.
    pub fn at(at: &dyn ToTokens, what: String) -> Unsupported {
        let tokens = at.to_token_stream();
        let span = tokens.clone().into_iter().next().map_or_else(Span::call_site, |t| t.span());
        let end = tokens.into_iter().last().map_or(span, |t| t.span());
        Unsupported { span, end, what }
    }

    /// A later stage's problem `what`, at no particular code.
    pub fn here(what: String) -> Unsupported {
        Unsupported { span: Span::call_site(), end: Span::call_site(), what }
    }

    /// The error to show the user.
    pub fn error(&self) -> syn::Error {
        let start = quote::quote_spanned!(self.span=> _);
        let end = quote::quote_spanned!(self.end=> _);
        syn::Error::new_spanned(quote::quote!(#start #end), &self.what)
    }
}

/// Lowers `item` (whose signature has been analysed) to IR.
pub fn lower(item: &syn::ItemFn, signature: &Signature) -> std::result::Result<Function, Vec<Unsupported>> {
    lower_with(item, signature, false)
}

/// Lowers `item`; with `inline`, calls of annotated functions of the same module are
/// written out in place (`callees::Callees::inlinable`) where they can be, instead of
/// chained through their parts siblings: second derivatives need the callee's body.
pub fn lower_with(
    item: &syn::ItemFn,
    signature: &Signature,
    inline: bool,
) -> std::result::Result<Function, Vec<Unsupported>> {
    let mut promoted = BTreeMap::new();
    // Each round either finishes or marks one more binding as differentiable, so this ends
    // within one round per `let`.
    loop {
        let mut front = Front::new(signature, promoted);
        front.inline = inline.then(Vec::new);
        match front.function(item) {
            Ok(function) if front.errors.is_empty() => return Ok(function),
            Ok(_) => return Err(front.errors),
            Err(Stop::Unsupported(problem)) => {
                // (The last problem, unless it comes of an earlier one.)
                let tail = item.block.stmts.last().map(|s| s.to_token_stream()).unwrap_or_default();
                let cascade = front.mentions_failed(&tail);
                let mut errors = front.errors;
                if errors.is_empty() || !cascade {
                    errors.push(problem);
                }
                return Err(errors);
            }
            Err(Stop::Restart) => promoted = front.promoted,
        }
    }
}

/// A variable in scope.
#[derive(Clone, Debug)]
enum Var {
    /// Holds an SSA value (its current one); a `reference` name denotes a reference to it
    /// (`*name` is the value).
    Ssa { value: Value, mutable: bool, reference: bool },
    /// A Rust variable of the user's, never differentiated, read and written by its name
    /// in verbatim code. `site` is its `let` (for promotion), `None` for parameters and
    /// pattern bindings; `ty` the type its initializer shows (`code_type`): the constant's
    /// shape in arithmetic, the array an element assignment would promote (`[K; 3]`).
    Rust { site: Option<usize>, ty: Option<Type> },
    /// A closure bound by a `let`, applied where it is called.
    Closure(Box<iter::Closure>),
    /// A pair an iterator yields (`zip`, `enumerate`), bound to one name.
    Pair(Box<iter::Item>),
}

/// What an expression lowered to: an SSA value, or non-differentiated code not yet bound
/// to an instruction (so that `i + 1` stays one piece of code), reading `holes`.
#[derive(Clone, Debug)]
enum Operand {
    Value(Value),
    Code { tokens: TokenStream, holes: Vec<Value> },
}

struct Front<'a> {
    f: Function,
    signature: &'a Signature,
    generics: syn::Generics,
    scopes: Vec<Vec<(String, Var)>>,
    /// For each name, the positions in `scopes` that bind it, innermost last: lookups cost
    /// a map access, not a walk over every binding (which made long functions quadratic).
    bound: BTreeMap<String, Vec<(usize, usize)>>,
    /// Instructions of the open blocks, innermost last.
    open: Vec<Vec<Inst>>,
    /// `let` sites (numbered in order) that must bind SSA values of these types.
    promoted: BTreeMap<usize, Type>,
    /// The type the context gives the next expression lowered, if it is a call of another
    /// `#[jacobian]` function (whose result type the macro cannot see): a `let`
    /// annotation's, the function result's.
    expected: Option<Type>,
    /// The type the uses of a `let` bound to a call show (`Front::call_result_type`).
    expected_of_call: Option<Type>,
    /// The annotated functions of the source file, read when a call first needs them.
    callees: Option<crate::callees::Callees>,
    /// Where the function is (its name), for `callees`.
    at: Span,
    /// Whether calls are inlined (`lower_with`), and the callees being inlined now,
    /// innermost last (a function does not inline itself).
    inline: Option<Vec<String>>,
    /// The function's name.
    name: String,
    /// The function's result expression, and its type: the context of a call there.
    result: Option<(*const syn::Expr, Type)>,
    sites: usize,
    /// Loops over arrays lowered so far (for their index variables' names).
    loops: usize,
    /// Values the user's code holds by reference (`v` of `for v in &x`): `*v` is the value.
    references: BTreeSet<Value>,
    /// What `break`, `continue` and `return` leave, innermost last (`stmt::flow`).
    exits: Vec<stmt::Exit>,
    /// The problems of statements the front end did not take, and the names those bind
    /// (`stmt::recover`).
    errors: Vec<Unsupported>,
    failed: BTreeSet<String>,
    /// The function's signature, as written, for `callees`.
    signature_of_item: syn::Signature,
}

impl<'a> Front<'a> {
    fn new(signature: &'a Signature, promoted: BTreeMap<usize, Type>) -> Front<'a> {
        Front {
            f: Function::new(),
            signature,
            generics: syn::Generics::default(),
            scopes: vec![Vec::new()],
            bound: BTreeMap::new(),
            open: vec![Vec::new()],
            promoted,
            expected: None,
            expected_of_call: None,
            callees: None,
            at: Span::call_site(),
            inline: None,
            name: String::new(),
            result: None,
            sites: 0,
            loops: 0,
            references: BTreeSet::new(),
            exits: Vec::new(),
            errors: Vec::new(),
            failed: BTreeSet::new(),
            signature_of_item: syn::parse_quote!(fn f()),
        }
    }

    fn function(&mut self, item: &syn::ItemFn) -> Result<Function> {
        self.generics = item.sig.generics.clone();
        self.at = item.sig.ident.span();
        self.name = item.sig.ident.to_string();
        self.signature_of_item = item.sig.clone();
        self.parameters(item)?;
        let output = match (&item.sig.output, &self.signature.tuple_output) {
            (_, Some(parts)) => Some(Type::Tuple(parts.iter().map(type_of_shape).collect())),
            (syn::ReturnType::Type(_, ty), None) => {
                crate::signature::shape_of(ty, &item.sig.generics).map(|(shape, _)| type_of_shape(&shape))
            }
            (syn::ReturnType::Default, None) => None,
        };
        let output = output.map(|ty| self.resolved(ty));
        let Some(output) = output else { return unsupported(&item.sig.output, "this result type") };
        let last = match item.block.stmts.last() {
            Some(syn::Stmt::Expr(syn::Expr::Return(ret), _)) => ret.expr.as_deref(),
            Some(syn::Stmt::Expr(e, None)) => Some(e),
            _ => None,
        };
        self.result = last.map(|e| (e as *const syn::Expr, output.clone()));
        let result = self.body(&item.block)?;
        let Some(result) = result else {
            return match item.block.stmts.last() {
                Some(syn::Stmt::Expr(last @ (syn::Expr::ForLoop(_) | syn::Expr::While(_)), _)) => refused(
                    last,
                    "a `for` or `while` loop has no value and cannot be the function's result; return the value after the loop",
                ),
                _ => refused(
                    &item.block,
                    "the body of a differentiated function must end in its result: an expression without `;`, or `return value;`",
                ),
            };
        };
        let at: &dyn ToTokens = match last {
            Some(last) => last,
            None => &item.block,
        };
        let result = match &output {
            Type::Tuple(_) => self.tuple_result(result, &output, at)?,
            _ => self.operand_as(result, &output, at)?,
        };
        if *self.f.ty(result) != output {
            return unsupported(&item.block, "a result whose type differs from the signature's");
        }
        self.f.body =
            Block { params: Vec::new(), insts: self.open.pop().unwrap_or_default(), yields: vec![result] };
        let mut function = std::mem::replace(&mut self.f, Function::new());
        let differentiated: BTreeSet<Value> = function
            .params
            .iter()
            .filter(|p| self.signature.inputs.iter().any(|i| i.ident == p.ident))
            .map(|p| p.value)
            .collect();
        for param in &function.params {
            let ty = function.ty(param.value);
            let generic = |d: &Dim| d.is_generic();
            if let (true, Type::Array(elem, r)) = (differentiated.contains(&param.value), ty) {
                if let Type::Array(_, c) = &**elem {
                    if generic(r) || generic(c) {
                        return unsupported(&item.sig, "a differentiated nested array of generic size");
                    }
                }
            }
        }
        function.flattened = flatten::flatten(&mut function, &differentiated).map_err(Stop::Unsupported)?;
        Ok(function)
    }

    /// The components of a tuple value built in an open block (`let t = (a, b);`); `None`
    /// for one that a loop or branch carries.
    fn tuple_components(&self, tuple: Value) -> Option<Vec<Value>> {
        self.open.iter().rev().find_map(|insts| {
            let inst =
                insts.iter().find(|i| i.results.first() == Some(&tuple) && matches!(i.op, Op::Tuple))?;
            Some(inst.args.clone())
        })
    }

    /// A tuple result as one flat array of its components (what the derivative sees),
    /// converted back to the tuple (what the function returns).
    fn tuple_result(&mut self, result: Operand, output: &Type, at: &dyn ToTokens) -> Result<Value> {
        let Operand::Value(tuple) = result else {
            return unsupported(at, "a tuple result that is not a tuple");
        };
        let Type::Tuple(types) = output else { return unsupported(at, "this result type") };
        let Some(parts) = self.tuple_components(tuple) else {
            return unsupported(at, "a tuple result that is not a tuple expression at the end of the body");
        };
        let mut components = Vec::new();
        for (value, ty) in parts.iter().zip(types) {
            let value = self.coerce(*value, ty, at)?;
            match ty {
                Type::Scalar => components.push(value),
                _ => {
                    let Some(n) = ty.components().and_then(|n| n.lit()) else {
                        return unsupported(at, "a tuple result with a component of symbolic size");
                    };
                    let columns = match ty {
                        Type::Matrix(_, c) => Some(c.lit().unwrap_or(1)),
                        _ => None,
                    };
                    components.extend(self.scalar_components(value, n, columns, at.span()));
                }
            }
        }
        let flat = Type::array(Dim::Lit(components.len()));
        let flat = self.push1(Op::Build, components, flat, at.span());
        Ok(self.push1(Op::Convert, vec![flat], output.clone(), at.span()))
    }

    fn parameters(&mut self, item: &syn::ItemFn) -> Result<()> {
        for arg in &item.sig.inputs {
            // `&self`: a constant, read by the user's code as it is.
            let syn::FnArg::Typed(typed) = arg else {
                self.bind("self".to_owned(), Var::Rust { site: None, ty: None });
                continue;
            };
            let syn::Pat::Ident(pat) = &*typed.pat else {
                return unsupported(&typed.pat, "parameter patterns");
            };
            let name = pat.ident.to_string();
            let shape = crate::signature::shape_of(&typed.ty, &item.sig.generics);
            // A nested array that is not differentiated stays the user's variable, read by
            // the user's code as written (as before nested arrays could be differentiated).
            let differentiated = self.signature.inputs.iter().any(|i| i.ident == pat.ident);
            let shape = shape.filter(|(s, _)| differentiated || !matches!(s, Shape::Nested(..)));
            match shape {
                Some((shape, _)) => {
                    let by_reference = matches!(&*typed.ty, syn::Type::Reference(_));
                    let ty = self.resolved(type_of_shape(&shape));
                    if let Type::Matrix(r, c) = &ty {
                        // Its flat form `[T; R * C]` must be a type stable Rust can write.
                        // (One never differentiated needs none: `flatten` reads it in place.)
                        let generic =
                            (r.is_generic() || c.is_generic()) && r.lit() != Some(1) && c.lit() != Some(1);
                        if generic && differentiated {
                            return unsupported(&typed.ty, "a matrix parameter of generic size");
                        }
                    }
                    let value = self.f.value(ty, Some(name.clone()));
                    self.f.params.push(Param { ident: pat.ident.clone(), value, by_reference });
                    self.bind(
                        name,
                        Var::Ssa { value, mutable: pat.mutability.is_some(), reference: by_reference },
                    );
                }
                None => self.bind(name, Var::Rust { site: None, ty: None }),
            }
        }
        let differentiated: BTreeSet<String> =
            self.signature.inputs.iter().map(|i| i.ident.to_string()).collect();
        for input in &differentiated {
            if !self.f.params.iter().any(|p| p.ident == input) {
                return unsupported(&item.sig, "a differentiated parameter of this type");
            }
        }
        Ok(())
    }

    // ---- scopes ----

    fn bind(&mut self, name: String, var: Var) {
        let s = self.scopes.len() - 1;
        let p = self.scopes[s].len();
        self.bound.entry(name.clone()).or_default().push((s, p));
        self.scopes[s].push((name, var));
    }

    fn push_scope(&mut self) {
        self.scopes.push(Vec::new());
    }

    /// Closes the innermost scope, returning its bindings.
    fn pop_scope(&mut self) -> Vec<(String, Var)> {
        let scope = self.scopes.pop().unwrap_or_default();
        for (name, _) in &scope {
            if let Some(positions) = self.bound.get_mut(name) {
                positions.pop();
            }
        }
        scope
    }

    fn lookup(&self, name: &str) -> Option<&Var> {
        let &(s, p) = self.bound.get(name)?.last()?;
        Some(&self.scopes[s][p].1)
    }

    fn lookup_mut(&mut self, name: &str) -> Option<&mut Var> {
        let &(s, p) = self.bound.get(name)?.last()?;
        Some(&mut self.scopes[s][p].1)
    }

    /// Whether a name denotes a reference to its SSA value (a parameter taken by
    /// reference, `v` of `for v in &x`, an inlined function's reference parameter): `*name`
    /// is the value.
    fn is_reference(&self, name: &str) -> bool {
        matches!(self.lookup(name), Some(Var::Ssa { reference: true, .. }))
    }

    /// The SSA value a name holds now, if it is an SSA variable.
    fn ssa(&self, name: &str) -> Option<Value> {
        match self.lookup(name) {
            Some(Var::Ssa { value, .. }) => Some(*value),
            _ => None,
        }
    }

    // ---- instructions ----

    fn push(&mut self, op: Op, args: Vec<Value>, results: &[Type], span: Span) -> Vec<Value> {
        let results: Vec<Value> = results.iter().map(|t| self.f.value(t.clone(), None)).collect();
        self.open.last_mut().expect("a block is open").push(Inst {
            op,
            args,
            results: results.clone(),
            span,
        });
        results
    }

    fn push1(&mut self, op: Op, args: Vec<Value>, ty: Type, span: Span) -> Value {
        self.push(op, args, &[ty], span)[0]
    }

    /// Binds deferred code to an instruction with one opaque result.
    fn materialize(&mut self, operand: Operand, span: Span) -> Value {
        match operand {
            Operand::Value(v) => v,
            Operand::Code { tokens, holes } => {
                self.push1(Op::Code(Code { tokens }), holes, Type::Opaque, span)
            }
        }
    }

    /// `value` as type `ty`: non-differentiated values of a differentiable type become
    /// constants of it.
    fn coerce(&mut self, value: Value, ty: &Type, at: &dyn ToTokens) -> Result<Value> {
        let current = self.f.ty(value).clone();
        if current == *ty {
            return Ok(value);
        }
        if current == Type::Opaque && ty.is_differentiable() {
            let hole = Code::hole(0);
            return Ok(self.push1(
                Op::Constant(Code { tokens: hole.to_token_stream() }),
                vec![value],
                ty.clone(),
                at.span(),
            ));
        }
        // `Vector<N>` is `Matrix<N, 1>` (a type alias): the same value, named either way.
        let column = |ty: &Type| match ty {
            Type::Vector(n) => Some(n.clone()),
            Type::Matrix(n, c) if *c == Dim::Lit(1) => Some(n.clone()),
            _ => None,
        };
        if column(&current).is_some() && column(&current) == column(ty) {
            return Ok(self.push1(Op::Convert, vec![value], ty.clone(), at.span()));
        }
        // A size written as a literal where the other is a `const` item's (`[T; 3]` for
        // `[T; L3]`): rustc checks the user's own function, so they are equal; the value
        // is rebuilt, component by component, with the expected type.
        if let Some((n, columns)) = same_but_for_a_const_size(&current, ty) {
            let parts = self.scalar_components(value, n, columns, at.span());
            return Ok(self.push1(Op::Build, parts, ty.clone(), at.span()));
        }
        refused(
            at,
            format!("expected {} here, found {}", messages::describe(ty), messages::describe(&current)),
        )
    }

    /// The first `n` scalar components of an array, vector or matrix value, row-major
    /// (`columns`: a matrix's number of columns, read by `(i, j)`).
    fn scalar_components(
        &mut self,
        value: Value,
        n: usize,
        columns: Option<usize>,
        span: Span,
    ) -> Vec<Value> {
        (0..n)
            .map(|k| {
                let path = match columns {
                    Some(c) => Path(vec![Position::Const(k / c), Position::Const(k % c)]),
                    None => Path(vec![Position::Const(k)]),
                };
                self.push1(Op::Get(path), vec![value], Type::Scalar, span)
            })
            .collect()
    }

    /// An operand as a value of type `ty` (see `coerce`).
    fn operand_as(&mut self, operand: Operand, ty: &Type, at: &dyn ToTokens) -> Result<Value> {
        match operand {
            Operand::Code { tokens, holes } if ty.is_differentiable() => {
                // (A vector or matrix of a size nothing shows is not a scalar.)
                let unsized_matrix = || {
                    syn::parse2::<syn::Expr>(tokens.clone())
                        .ok()
                        .and_then(|code| matrix::unsized_constructor(&code))
                };
                if let Some(problem) = (*ty == Type::Scalar).then(unsized_matrix).flatten() {
                    return refused(&tokens, problem);
                }
                Ok(self.push1(Op::Constant(Code { tokens }), holes, ty.clone(), at.span()))
            }
            operand => {
                let value = self.materialize(operand, at.span());
                self.coerce(value, ty, at)
            }
        }
    }

    /// The mutable SSA variables in scope, as (scope, position) with their values.
    fn mutable_ssa(&self) -> Vec<((usize, usize), Value)> {
        let mut out = Vec::new();
        for (s, scope) in self.scopes.iter().enumerate() {
            for (p, (_, var)) in scope.iter().enumerate() {
                if let Var::Ssa { value, mutable: true, .. } = var {
                    out.push(((s, p), *value));
                }
            }
        }
        out
    }

    /// Slots are positions `mutable_ssa` listed; scopes below the current one keep their
    /// positions while a nested block is lowered.
    fn set_slot(&mut self, (s, p): (usize, usize), value: Value) {
        if let Var::Ssa { value: v, .. } = &mut self.scopes[s][p].1 {
            *v = value;
        }
    }

    fn slots(&self, slots: &[(usize, usize)]) -> Vec<Value> {
        slots
            .iter()
            .filter_map(|&(s, p)| match &self.scopes[s][p].1 {
                Var::Ssa { value, .. } => Some(*value),
                Var::Rust { .. } | Var::Closure(_) | Var::Pair(_) => None,
            })
            .collect()
    }
}

/// The IR type of a differentiable shape.
pub fn type_of_shape(shape: &Shape) -> Type {
    match shape {
        Shape::Scalar => Type::Scalar,
        Shape::Array(n) => Type::array(n.clone()),
        Shape::Vector(n) => Type::Vector(n.clone()),
        Shape::Matrix(r, c) => Type::Matrix(r.clone(), c.clone()),
        Shape::Nested(r, c) => Type::Array(Box::new(Type::array(c.clone())), r.clone()),
    }
}

/// A literal array length or a symbolic one (`N`, `LEN`, `2 * N`).
fn dim_of(len: &syn::Expr) -> Dim {
    match len {
        syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(n), .. }) => match n.base10_parse() {
            Ok(n) => Dim::Lit(n),
            Err(_) => Dim::Sym { tokens: len.to_token_stream(), generic: true },
        },
        _ => Dim::Sym { tokens: len.to_token_stream(), generic: true },
    }
}

/// Replaces every use of `from` in `block` (recursively) by `to`.
fn replace_uses(block: &mut Block, from: Value, to: Value) {
    let swap = |v: &mut Value| {
        if *v == from {
            *v = to;
        }
    };
    for inst in &mut block.insts {
        inst.args.iter_mut().for_each(swap);
        for nested in inst.blocks_mut() {
            replace_uses(nested, from, to);
        }
    }
    block.yields.iter_mut().for_each(swap);
}

/// The number of components of two types of the same kind (arrays of scalars, vectors,
/// matrices) whose sizes differ only where one is a literal and the other a `const` item
/// (not a generic parameter), taken from the literal; and a matrix's number of columns.
fn same_but_for_a_const_size(a: &Type, b: &Type) -> Option<(usize, Option<usize>)> {
    let pair = |x: &Dim, y: &Dim| -> Option<usize> {
        match (x.lit(), y.lit()) {
            (Some(n), Some(m)) => (n == m).then_some(n),
            (Some(n), None) if !y.is_generic() => Some(n),
            (None, Some(m)) if !x.is_generic() => Some(m),
            _ => None,
        }
    };
    match (a, b) {
        (Type::Array(e1, n1), Type::Array(e2, n2)) if **e1 == Type::Scalar && **e2 == Type::Scalar => {
            Some((pair(n1, n2)?, None))
        }
        (Type::Vector(n1), Type::Vector(n2)) => Some((pair(n1, n2)?, None)),
        (Type::Matrix(r1, c1), Type::Matrix(r2, c2)) => {
            let c = pair(c1, c2)?;
            Some((pair(r1, r2)? * c, Some(c)))
        }
        _ => None,
    }
}
