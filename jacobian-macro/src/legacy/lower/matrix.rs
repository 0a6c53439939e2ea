//! Lowering of `Vector`/`Matrix` operations by matrix-calculus rules. Each value's
//! Jacobian block per parameter keeps its structure known at compile time (zero, identity,
//! diagonal, dense rows) and the rules use it: the block of `W·x` with respect to `x` is
//! `W` itself, `diag(g′)·W` is a row scaling, and nothing dense is built that need not be.

use super::value::{Array, Container, Hint, Rows, Scalar, Value};
use super::Lowerer;
use crate::legacy::ir::Atom;
use crate::legacy::tangent::{Lin, Tangent};
use crate::shape::Dim;
use crate::signature::{Input, ScalarType, Signature};
use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::{BinOp, Expr};

impl Lowerer<'_> {
    /// A value as an array-like operand of a matrix operation. Constants need their shape
    /// known (a typed parameter or `let`), since `2.0 * x` and `w * x` differ.
    pub fn array_operand(&mut self, value: Value, at: &dyn ToTokens) -> Option<Array> {
        if value.is_poison() {
            return None;
        }
        match value {
            Value::Array(mut a) => {
                let lens: Vec<Dim> = (0..self.blocks()).map(|b| self.block_len(b)).collect();
                a.materialize(&lens, "rows", &mut self.b);
                Some(a)
            }
            Value::Opaque { atom, hint: Hint::Array(container, len) } => Some(Array {
                primal: self.operand(atom),
                container,
                len,
                elems: None,
                rows: vec![Rows::Zero; self.blocks()],
            }),
            Value::Opaque { atom, .. } => Some(Array {
                primal: self.operand(atom),
                container: Container::Result,
                len: Dim::Sym { tokens: quote!(_), generic: false },
                elems: None,
                rows: vec![Rows::Zero; self.blocks()],
            }),
            other => {
                self.diagnostics.error_at(
                    at.to_token_stream(),
                    format!("expected a vector or matrix here, found {}", other.describe()),
                );
                None
            }
        }
    }

    fn is_scalar_like(&self, value: &Value) -> bool {
        match value {
            Value::Scalar(_) => true,
            Value::Opaque { hint: Hint::Float, .. } => true,
            Value::Opaque { atom, .. } => atom.literal.is_some(),
            _ => false,
        }
    }

    /// `+ - * /` where at least one side is a vector or matrix.
    pub fn array_arithmetic(&mut self, op: &BinOp, left: Value, right: Value, at: &dyn ToTokens) -> Value {
        let left_scalar = self.is_scalar_like(&left);
        let right_scalar = self.is_scalar_like(&right);
        match op {
            BinOp::Mul(_) | BinOp::MulAssign(_) if left_scalar || right_scalar => {
                let (s, v, scalar_first) =
                    if left_scalar { (left, right, true) } else { (right, left, false) };
                let (Some(s), Some(v)) = (self.scalar(s, at), self.array_operand(v, at)) else {
                    return self.poison();
                };
                self.scale_array(&s, &v, scalar_first)
            }
            // There is no division by a matrix: whatever divides is a scalar (a `const` item,
            // a call's result).
            BinOp::Div(_) | BinOp::DivAssign(_)
                if right_scalar
                    || !matches!(
                        right,
                        Value::Opaque { hint: Hint::Array(..), .. }
                            | Value::Array(Array { container: Container::Array | Container::Vector | Container::Matrix(..), .. })
                    ) =>
            {
                let (Some(v), Some(s)) = (self.array_operand(left, at), self.scalar(right, at)) else {
                    return self.poison();
                };
                // v / s = (1/s)·v
                let one = self.b.lit(1.0);
                let inv_primal = self.b.div(&one, &s.primal);
                let inv_tangent = if s.tangent.is_zero() {
                    s.tangent.clone()
                } else {
                    let sq = self.b.mul(&inv_primal, &inv_primal);
                    let minus = self.b.neg(&sq);
                    s.tangent.scale(&minus, &mut self.b)
                };
                let inv = Scalar { primal: inv_primal, tangent: inv_tangent };
                self.scale_array(&inv, &v, false)
            }
            BinOp::Add(_) | BinOp::Sub(_) | BinOp::AddAssign(_) | BinOp::SubAssign(_) => {
                if left_scalar || right_scalar {
                    return self.unsupported(at, "adding a scalar to a vector or matrix is not supported (there is no broadcasting); add a vector of equal components, or use `.map(|t| t + c)`");
                }
                let (Some(mut a), Some(mut c)) = (self.array_operand(left, at), self.array_operand(right, at))
                else {
                    return self.poison();
                };
                same_shape(&mut a, &mut c);
                let negate = matches!(op, BinOp::Sub(_) | BinOp::SubAssign(_));
                let (pa, pc) = (&a.primal, &c.primal);
                let primal = if negate {
                    self.b.temp("v", quote!(#pa - #pc), &[pa, pc])
                } else {
                    self.b.temp("v", quote!(#pa + #pc), &[pa, pc])
                };
                let (container, len) = known_shape(&a, &c);
                let mut rows = Vec::new();
                for block in 0..self.blocks() {
                    let right_rows = if negate { self.rows_neg(&c.rows[block], &len, block) } else { c.rows[block].clone() };
                    rows.push(self.rows_add(&a.rows[block], &right_rows, &len, block));
                }
                Value::Array(Array { primal, container, len, elems: None, rows })
            }
            BinOp::Mul(_) | BinOp::MulAssign(_) => {
                let (Some(a), Some(c)) = (self.array_operand(left, at), self.array_operand(right, at)) else {
                    return self.poison();
                };
                self.product(&a, &c, at)
            }
            _ => self.unsupported(at, "this operator is not supported on vectors and matrices; use `component_div` for elementwise division"),
        }
    }

    /// `s · v` (or `v · s`): `d = s·dv + v ⊗ ds`.
    fn scale_array(&mut self, s: &Scalar, v: &Array, scalar_first: bool) -> Value {
        let (ps, pv) = (&s.primal, &v.primal);
        let primal = if scalar_first && !self.b.scalar.generic {
            self.b.temp("v", quote!(#ps * #pv), &[ps, pv])
        } else {
            self.b.temp("v", quote!(#pv * #ps), &[ps, pv])
        };
        let flat = if s.tangent.is_zero() { None } else { Some(self.flat(v)) };
        let mut rows = Vec::new();
        for block in 0..self.blocks() {
            let scaled = self.rows_scale(&s.primal, &v.rows[block], &v.len, block);
            let lin = &s.tangent.blocks[block];
            let outer = match (&flat, lin.is_zero()) {
                (Some(flat), false) => {
                    let n = self.block_len(block);
                    let row = lin.materialize(&n, &mut self.b, "row");
                    let helper = self.b.helper("outer");
                    let ty = self.rows_type(&v.len, block);
                    let held = self.b.typed_temp("rows", ty, quote!(#helper(&#flat, &#row)));
                    Rows::Held { tokens: held, mutable: false }
                }
                _ => Rows::Zero,
            };
            rows.push(self.rows_add(&scaled, &outer, &v.len, block));
        }
        Value::Array(Array { primal, container: v.container.clone(), len: v.len.clone(), elems: None, rows })
    }

    /// `A · B`, matrix times matrix or vector: `d = dA·B + A·dB`.
    fn product(&mut self, a: &Array, c: &Array, at: &dyn ToTokens) -> Value {
        let inner_left = match &a.container {
            Container::Matrix(_, k) => k.lit(),
            Container::Vector => Some(1),
            _ => None,
        };
        let (inner_right, right_shape) = match &c.container {
            Container::Vector => (c.len.lit(), format!("a vector of {} components", c.len)),
            Container::Matrix(r, k) => (r.lit(), format!("a {r}×{k} matrix")),
            _ => (None, String::new()),
        };
        if let (Some(k), Some(r)) = (inner_left, inner_right) {
            if k != r {
                let left_shape = match &a.container {
                    Container::Matrix(r, k) => format!("a {r}×{k} matrix"),
                    _ => format!("a vector of {} components", a.len),
                };
                return self.unsupported(
                    at,
                    &format!("cannot multiply {left_shape} by {right_shape}: the left operand has {k} columns, the right {r} rows"),
                );
            }
        }
        let (pa, pc) = (&a.primal, &c.primal);
        let primal = self.b.temp("v", quote!(#pa * #pc), &[pa, pc]);
        let a_rows = match &a.container {
            Container::Matrix(r, _) => Some(r.clone()),
            Container::Vector | Container::Array => Some(a.len.clone()),
            Container::Result => None,
        };
        let (container, len) = match (&c.container, a_rows) {
            // A function result on the right is taken as a vector: `A · f(x)`.
            (Container::Vector | Container::Result, Some(r)) => (Container::Vector, r),
            (Container::Matrix(_, cols), Some(r)) if cols.lit() == Some(1) => (Container::Vector, r),
            (Container::Matrix(_, cols), Some(r)) => {
                (Container::Matrix(r.clone(), cols.clone()), r.mul(cols))
            }
            _ => (Container::Result, Dim::Sym { tokens: quote!(_), generic: false }),
        };
        let right_is_vector = matches!(c.container, Container::Vector | Container::Result)
            || matches!(&c.container, Container::Matrix(_, cols) if cols.lit() == Some(1));
        let mut rows = Vec::new();
        for block in 0..self.blocks() {
            let ty = self.rows_type(&len, block);
            // A · dB
            let left_term = match &c.rows[block] {
                Rows::Zero => Rows::Zero,
                Rows::Identity { .. } if right_is_vector => {
                    // The Jacobian of W·x with respect to x is W itself.
                    let held = self.b.typed_temp("rows", ty.clone(), quote!(#pa.into_rows()));
                    Rows::Held { tokens: held, mutable: false }
                }
                Rows::Identity { .. } => {
                    let helper = self.b.helper("mul_identity");
                    let held = self.b.typed_temp("rows", ty.clone(), quote!(#helper(&#pa)));
                    Rows::Held { tokens: held, mutable: false }
                }
                Rows::Diag { tokens } if right_is_vector => {
                    let helper = self.b.helper("mul_diag");
                    let held = self.b.typed_temp("rows", ty.clone(), quote!(#helper(&#pa, &#tokens)));
                    Rows::Held { tokens: held, mutable: false }
                }
                other => {
                    let rb = other.expr(&mut self.b);
                    let helper = self.b.helper("mul_rows");
                    let held = self.b.typed_temp("rows", ty.clone(), quote!(#helper(&#pa, &#rb)));
                    Rows::Held { tokens: held, mutable: false }
                }
            };
            // dA · B
            let right_term = match &a.rows[block] {
                Rows::Zero => Rows::Zero,
                Rows::Identity { .. } => {
                    let helper = self.b.helper("identity_mul");
                    let held = self.b.typed_temp("rows", ty.clone(), quote!(#helper(&#pc)));
                    Rows::Held { tokens: held, mutable: false }
                }
                other => {
                    let ra = other.expr(&mut self.b);
                    let helper = self.b.helper("rows_mul");
                    let held = self.b.typed_temp("rows", ty.clone(), quote!(#helper(&#ra, &#pc)));
                    Rows::Held { tokens: held, mutable: false }
                }
            };
            rows.push(self.rows_add(&left_term, &right_term, &len, block));
        }
        if matches!(container, Container::Result) && rows.iter().any(|r| !matches!(r, Rows::Zero)) {
            self.diagnostics.error_at(
                at.to_token_stream(),
                "`#[jacobian]` cannot tell the size of this product's left operand; give it a type, e.g. `let w: Matrix<2, 3> = …;` or a typed parameter",
            );
        }
        Value::Array(Array { primal, container, len, elems: None, rows })
    }

    /// Methods of vectors and matrices.
    pub fn array_method(&mut self, name: &str, receiver: Value, args: &[&Expr], at: &dyn ToTokens) -> Value {
        let Some(a) = self.array_operand(receiver, at) else { return self.poison() };
        let arity = match name {
            "transpose" | "norm_squared" | "norm" | "sum" => 0,
            "dot" | "component_mul" | "component_div" | "map" => 1,
            _ => {
                // Views and swizzles (`fixed_rows`, `xy`, `rows`): the way to write a part.
                let part = if name.starts_with("fixed_")
                    || name == "rows"
                    || name == "columns"
                    || name.chars().all(|c| "xyzw".contains(c))
                {
                    "; for part of a vector, build it from components, e.g. `Vector::from([x[0], x[1]])` (with nalgebra, `Vector2::new(x.x, x.y)`)"
                } else {
                    ""
                };
                return self.unsupported(at, &format!(
                    "the method `{name}` is not supported on a differentiated vector or matrix; supported are `transpose`, `dot`, `cross`, `norm_squared`, `norm`, `normalize`, `sum`, `map`, `component_mul`, `component_div`, indexing, and `+ - *`{part}"
                ));
            }
        };
        if args.len() != arity {
            return self.unsupported(at, &format!("`{name}` takes {arity} argument(s)"));
        }
        let pa = a.primal.clone();
        match name {
            "transpose" => {
                let primal = self.b.temp("v", quote!(#pa.transpose()), &[&pa]);
                let (container, dims) = match &a.container {
                    Container::Vector | Container::Array => {
                        (Container::Matrix(Dim::Lit(1), a.len.clone()), None)
                    }
                    Container::Matrix(r, c) if c.lit() == Some(1) => {
                        (Container::Matrix(c.clone(), r.clone()), None)
                    }
                    Container::Matrix(r, c) if r.lit() == Some(1) => (Container::Vector, None),
                    Container::Matrix(r, c) => {
                        (Container::Matrix(c.clone(), r.clone()), Some((r.clone(), c.clone())))
                    }
                    Container::Result => {
                        return self.unsupported(at, "`#[jacobian]` cannot tell the shape of this function's result to transpose it; bind it with its type first, e.g. `let m: Matrix<2, 2> = rotation(t);`");
                    }
                };
                let mut rows = Vec::new();
                for block in 0..self.blocks() {
                    rows.push(match (&a.rows[block], &dims) {
                        // A vector's components keep their order when transposed.
                        (r, None) => r.clone(),
                        (Rows::Zero, _) => Rows::Zero,
                        (other, Some((r, c))) => {
                            let held = other.expr(&mut self.b);
                            let helper = self.b.helper("transpose_rows");
                            let ty = self.rows_type(&a.len, block);
                            let (r, c) = (r.value(), c.value());
                            let held = self.b.typed_temp("rows", ty, quote!(#helper(&#held, #r, #c)));
                            Rows::Held { tokens: held, mutable: false }
                        }
                    });
                }
                Value::Array(Array { primal, container, len: a.len.clone(), elems: None, rows })
            }
            "dot" => {
                let other = self.expr(args[0]);
                let Some(mut c) = self.array_operand(other, args[0]) else { return self.poison() };
                let mut a = a;
                same_shape(&mut a, &mut c);
                let pc = &c.primal;
                let primal = self.b.temp("dot", quote!(#pa.dot(&#pc)), &[&pa, pc]);
                let mut tangent = self.zero();
                for block in 0..self.blocks() {
                    let first = self.contract(&c, &a.rows[block], block);
                    let second = self.contract(&a, &c.rows[block], block);
                    tangent.blocks[block] = first.add(&second, &mut self.b);
                }
                Value::Scalar(Scalar { primal, tangent })
            }
            "norm_squared" | "norm" => {
                let method = syn::Ident::new(name, proc_macro2::Span::call_site());
                let primal = self.b.temp(name, quote!(#pa.#method()), &[&pa]);
                // d‖a‖² = 2 aᵀ da; d‖a‖ = aᵀ da / ‖a‖, and 0 at the zero vector (where
                // aᵀ da is 0: the derivative where `a` stays zero, the smallest subgradient
                // where it does not), not 0 / 0.
                let factor = if name == "norm" {
                    let (one, zero) = (self.b.lit(1.0), self.b.lit(0.0));
                    self.b.temp(
                        "inv_norm",
                        quote!(if #primal == #zero { #zero } else { #one / #primal }),
                        &[&primal],
                    )
                } else {
                    self.b.lit(2.0)
                };
                let mut tangent = self.zero();
                for block in 0..self.blocks() {
                    let lin = self.contract(&a, &a.rows[block], block);
                    tangent.blocks[block] = lin.scale(&factor, &mut self.b);
                }
                Value::Scalar(Scalar { primal, tangent })
            }
            "sum" => {
                let primal = self.b.temp("sum", quote!(#pa.sum()), &[&pa]);
                let mut tangent = self.zero();
                for block in 0..self.blocks() {
                    tangent.blocks[block] = match &a.rows[block] {
                        Rows::Zero => Lin::default(),
                        Rows::Identity { .. } => {
                            let helper = self.b.helper("ones");
                            let ty = self.flat_type(&a.len);
                            Lin::row(self.b.typed_temp("ones", ty, quote!(#helper())), false)
                        }
                        Rows::Diag { tokens } => Lin::row(tokens.clone(), false),
                        Rows::Held { tokens, .. } => {
                            let helper = self.b.helper("sum_rows");
                            let row = self.b.temp("row", quote!(#helper(&#tokens)), &[]);
                            Lin::row(row.tokens, false)
                        }
                    };
                }
                Value::Scalar(Scalar { primal, tangent })
            }
            "component_mul" | "component_div" => {
                let other = self.expr(args[0]);
                let Some(mut c) = self.array_operand(other, args[0]) else { return self.poison() };
                let mut a = a;
                same_shape(&mut a, &mut c);
                let pa = a.primal.clone();
                let pc = &c.primal;
                let method = syn::Ident::new(name, proc_macro2::Span::call_site());
                let primal = self.b.temp("v", quote!(#pa.#method(&#pc)), &[&pa, pc]);
                // d(a⊙c) = diag(c)·da + diag(a)·dc; d(a⊘c) = diag(1/c)·da − diag(a⊘c²)·dc.
                let (ga, gc) = if name == "component_mul" {
                    (self.flat(&c), self.flat(&a))
                } else {
                    let fc = self.flat(&c);
                    let fr = self.flat_of(&primal, &a.len);
                    let ty = self.flat_type(&a.len);
                    let div = self.b.helper("div_flat");
                    let neg_quotient = self.b.helper("neg_div_flat");
                    let inv = self.b.typed_temp("inv", ty.clone(), quote!(#div(&#fc)));
                    let g = self.b.typed_temp("g", ty, quote!(#neg_quotient(&#fr, &#fc)));
                    (inv, g)
                };
                let mut rows = Vec::new();
                for block in 0..self.blocks() {
                    let left = self.rows_scale_diag(&ga, &a.rows[block], &a.len, block);
                    let right = self.rows_scale_diag(&gc, &c.rows[block], &a.len, block);
                    rows.push(self.rows_add(&left, &right, &a.len, block));
                }
                Value::Array(Array {
                    primal,
                    container: a.container.clone(),
                    len: a.len.clone(),
                    elems: None,
                    rows,
                })
            }
            "map" => self.map(&a, args[0]),
            _ => self.poison(),
        }
    }

    /// `a.map(f)`: `f` is lowered on its own, as a scalar function of its argument and of
    /// every differentiated scalar it captures; then `d = diag(f′(a))·da + Σ ∂f/∂c ⊗ dc`.
    fn map(&mut self, a: &Array, f: &Expr) -> Value {
        let ty = self.b.scalar.tokens.clone();
        let (param, body): (syn::Ident, Expr) = match f {
            Expr::Closure(closure) if closure.inputs.len() == 1 => {
                let param = match &closure.inputs[0] {
                    syn::Pat::Ident(p) => Some(p.ident.clone()),
                    syn::Pat::Type(t) => match &*t.pat {
                        syn::Pat::Ident(p) => Some(p.ident.clone()),
                        _ => None,
                    },
                    _ => None,
                };
                let Some(param) = param else {
                    return self.unsupported(
                        &closure.inputs[0],
                        "write the closure's parameter as a plain name, `|t| …`",
                    );
                };
                (param, (*closure.body).clone())
            }
            Expr::Path(path) => {
                let param = syn::Ident::new("component", proc_macro2::Span::mixed_site());
                (param.clone(), syn::parse_quote!(#path(#param)))
            }
            other => {
                return self.unsupported(
                    other,
                    "`map` takes a closure of one argument, `|t| …`, or a path such as `f64::tanh`",
                );
            }
        };
        let names = crate::legacy::activity::Names::of_expr(&body);
        let mut captured: Vec<(syn::Ident, Scalar)> = Vec::new();
        for name in &names.found {
            if param == name {
                continue;
            }
            let Some(binding) = self.lookup(name).cloned() else { continue };
            if !(binding.runtime || binding.value.is_active()) {
                continue;
            }
            match self.scalar(binding.value.clone(), f) {
                Some(s) => captured.push((binding.ident.clone(), s)),
                None => return self.poison(),
            }
        }
        let inner_params: Vec<&syn::Ident> =
            std::iter::once(&param).chain(captured.iter().map(|(i, _)| i)).collect();
        let item: syn::ItemFn = syn::parse_quote! {
            fn map_component(#(#inner_params: #ty),*) -> #ty { #body }
        };
        let inputs: Vec<Input> = inner_params
            .iter()
            .enumerate()
            .map(|(k, ident)| Input {
                ident: (*ident).clone(),
                shape: crate::shape::Shape::Scalar,
                offset: Dim::Lit(k),
            })
            .collect();
        let signature = Signature {
            scalar: ScalarType { tokens: ty.clone(), generic: self.b.scalar.generic },
            positions: (0..inputs.len()).map(Some).collect(),
            inputs,
            rows: Dim::Lit(1),
            columns: Dim::Lit(inner_params.len()),
            const_generics: std::collections::BTreeSet::new(),
            tuple_output: None,
        };
        let child = self.b.child();
        let inner = Lowerer::new(&signature, &item, child, self.diagnostics, super::Output::Jacobian);
        let (block, value, child) = inner.lower_value_body(&item.block);
        self.b.adopt_names(&child);
        let Some(value) = value else {
            return self.unsupported(f, "the closure given to `map` must produce a value");
        };
        let mut inner_b = child;
        let Some(scalar) = (match value {
            Value::Scalar(s) => Some(s),
            Value::Array(result) if matches!(result.container, Container::Result) => Some(Scalar {
                primal: result.primal.clone(),
                tangent: result.component_tangent(&crate::legacy::tangent::Index::Lit(0)),
            }),
            Value::Opaque { atom, .. } => {
                Some(Scalar { primal: atom, tangent: Tangent::zero(inner_params.len()) })
            }
            _ => None,
        }) else {
            return self.unsupported(f, "the closure given to `map` must return a scalar");
        };
        // The derivative with respect to each inner parameter, as one expression.
        let mut inner_out = vec![scalar.primal.tokens.clone()];
        inner_b.open_with(block);
        for lin in &scalar.tangent.blocks {
            let derivative = if lin.is_zero() {
                inner_b.lit(0.0).tokens
            } else if let [term @ crate::legacy::tangent::Term {
                basis: crate::legacy::tangent::Basis::Unit(_),
                ..
            }] = lin.terms.as_slice()
            {
                // The closure's inputs are scalars: a unit term is its coefficient.
                term.coef.realize(&mut inner_b).tokens
            } else {
                let row = lin.materialize(&Dim::Lit(1), &mut inner_b, "row");
                quote!(#row[0])
            };
            inner_out.push(derivative);
        }
        let mut block = inner_b.close();
        block.stmts.push(crate::legacy::ir::Stmt::Code(quote!((#(#inner_out),*))));
        crate::legacy::simplify::remove_dead_temporaries(&mut block);
        let closure_body = crate::legacy::emit::block(&block);
        let pa = &a.primal;
        // the closure's results written with their type: a closure whose value is a float
        // literal alone (`|t| 0.5`) would leave `{float}` components otherwise
        let results = vec![ty.clone(); inner_out.len()];
        let mapped = self.b.typed_temp(
            "mapped",
            None,
            quote!(#pa.map(|#param: #ty| -> (#(#results),*) { #closure_body })),
        );
        let primal = self.b.temp("v", quote!(#mapped.map(|p| p.0)), &[]);
        let derivative_of = |this: &mut Self, k: usize| {
            let index = syn::Index::from(k + 1);
            let flat = this.b.helper("flat");
            let fty = this.flat_type(&a.len);
            this.b.typed_temp("g", fty, quote!(#flat(&#mapped.map(|p| p.#index))))
        };
        let mut rows: Vec<Rows> = vec![Rows::Zero; self.blocks()];
        if a.rows.iter().any(|r| !matches!(r, Rows::Zero)) && !scalar.tangent.blocks[0].is_zero() {
            let g = derivative_of(self, 0);
            for (block, slot) in rows.iter_mut().enumerate() {
                *slot = self.rows_scale_diag(&g, &a.rows[block], &a.len, block);
            }
        }
        for (k, (_, captured_value)) in captured.iter().enumerate() {
            if scalar.tangent.blocks[k + 1].is_zero() {
                continue;
            }
            let h = derivative_of(self, k + 1);
            for (block, lin) in captured_value.tangent.blocks.iter().enumerate() {
                if lin.is_zero() {
                    continue;
                }
                let n = self.block_len(block);
                let row = lin.materialize(&n, &mut self.b, "row");
                let helper = self.b.helper("outer");
                let ty = self.rows_type(&a.len, block);
                let held = self.b.typed_temp("rows", ty, quote!(#helper(&#h, &#row)));
                let term = Rows::Held { tokens: held, mutable: false };
                rows[block] = self.rows_add(&rows[block].clone(), &term, &a.len, block);
            }
        }
        Value::Array(Array { primal, container: a.container.clone(), len: a.len.clone(), elems: None, rows })
    }

    /// `vᵀ · rows`: the derivative of `v · a` through `a`'s rows, holding `v` fixed.
    fn contract(&mut self, v: &Array, rows: &Rows, block: usize) -> Lin {
        match rows {
            Rows::Zero => Lin::default(),
            Rows::Identity { .. } => Lin::row(self.flat(v), false),
            Rows::Diag { tokens } => {
                let fv = self.flat(v);
                let helper = self.b.helper("mul_flat");
                let row = self.b.temp("row", quote!(#helper(&#fv, &#tokens)), &[]);
                Lin::row(row.tokens, false)
            }
            Rows::Held { tokens, .. } => {
                let fv = self.flat(v);
                let helper = self.b.helper("dot_rows");
                let _ = block;
                let row = self.b.temp("row", quote!(#helper(&#fv, &#tokens)), &[]);
                Lin::row(row.tokens, false)
            }
        }
    }

    /// The components of an array-like value as a `[T; len]`.
    fn flat(&mut self, v: &Array) -> TokenStream {
        let primal = v.primal.clone();
        if matches!(v.container, Container::Array) {
            return primal.tokens;
        }
        self.flat_of(&primal, &v.len)
    }

    fn flat_of(&mut self, primal: &Atom, len: &Dim) -> TokenStream {
        let helper = self.b.helper("flat");
        let ty = self.flat_type(len);
        self.b.typed_temp("flat", ty, quote!(#helper(&#primal)))
    }

    fn flat_type(&self, len: &Dim) -> Option<TokenStream> {
        let ty = &self.b.scalar.tokens;
        known(len).then(|| quote!([#ty; #len]))
    }

    fn rows_type(&self, len: &Dim, block: usize) -> Option<TokenStream> {
        let ty = &self.b.scalar.tokens;
        let n = self.block_len(block);
        known(len).then(|| quote!([[#ty; #n]; #len]))
    }

    fn rows_add(&mut self, a: &Rows, c: &Rows, len: &Dim, block: usize) -> Rows {
        match (a, c) {
            (Rows::Zero, other) | (other, Rows::Zero) => other.clone(),
            (Rows::Diag { tokens: x }, Rows::Diag { tokens: y }) => {
                let helper = self.b.helper("add_flat");
                let ty = self.flat_type(len);
                Rows::Diag { tokens: self.b.typed_temp("diag", ty, quote!(#helper(&#x, &#y))) }
            }
            (x, y) => {
                let (x, y) = (x.expr(&mut self.b), y.expr(&mut self.b));
                let helper = self.b.helper("rows_add");
                let ty = self.rows_type(len, block);
                Rows::Held {
                    tokens: self.b.typed_temp("rows", ty, quote!(#helper(&#x, &#y))),
                    mutable: false,
                }
            }
        }
    }

    fn rows_neg(&mut self, a: &Rows, len: &Dim, block: usize) -> Rows {
        let minus = self.b.lit(-1.0);
        self.rows_scale(&minus, a, len, block)
    }

    /// `s · rows`.
    fn rows_scale(&mut self, s: &Atom, rows: &Rows, len: &Dim, block: usize) -> Rows {
        match rows {
            Rows::Zero => Rows::Zero,
            Rows::Identity { .. } => {
                let helper = self.b.helper("filled");
                let ty = self.flat_type(len);
                Rows::Diag { tokens: self.b.typed_temp("diag", ty, quote!(#helper(#s))) }
            }
            Rows::Diag { tokens } => {
                let helper = self.b.helper("scaled");
                let ty = self.flat_type(len);
                Rows::Diag { tokens: self.b.typed_temp("diag", ty, quote!(#helper(#s, &#tokens))) }
            }
            Rows::Held { tokens, .. } => {
                let helper = self.b.helper("rows_scaled");
                let ty = self.rows_type(len, block);
                Rows::Held {
                    tokens: self.b.typed_temp("rows", ty, quote!(#helper(#s, &#tokens))),
                    mutable: false,
                }
            }
        }
    }

    /// `diag(g) · rows`: a row scaling, never a dense product.
    fn rows_scale_diag(&mut self, g: &TokenStream, rows: &Rows, len: &Dim, block: usize) -> Rows {
        match rows {
            Rows::Zero => Rows::Zero,
            Rows::Identity { .. } => Rows::Diag { tokens: g.clone() },
            Rows::Diag { tokens } => {
                let helper = self.b.helper("mul_flat");
                let ty = self.flat_type(len);
                Rows::Diag { tokens: self.b.typed_temp("diag", ty, quote!(#helper(&#g, &#tokens))) }
            }
            Rows::Held { tokens, .. } => {
                let helper = self.b.helper("scale_rows");
                let ty = self.rows_type(len, block);
                Rows::Held {
                    tokens: self.b.typed_temp("rows", ty, quote!(#helper(&#g, &#tokens))),
                    mutable: false,
                }
            }
        }
    }
}

fn known(len: &Dim) -> bool {
    !matches!(len, Dim::Sym { tokens, .. } if tokens.to_string() == "_")
}

/// Elementwise operands have one shape: an operand whose shape the lowering cannot tell
/// (a constant computed by a method, a call's result) takes the other's, so that what is
/// derived from its components has a known length.
fn same_shape(a: &mut Array, c: &mut Array) {
    let unknown = |x: &Array| matches!(x.container, Container::Result) && !known(&x.len);
    if unknown(a) && !unknown(c) {
        a.container = c.container.clone();
        a.len = c.len.clone();
    } else if unknown(c) && !unknown(a) {
        c.container = a.container.clone();
        c.len = a.len.clone();
    }
}

/// The shape of an elementwise result: whichever operand's shape is known.
fn known_shape(a: &Array, c: &Array) -> (Container, Dim) {
    if matches!(a.container, Container::Result) {
        (c.container.clone(), c.len.clone())
    } else {
        (a.container.clone(), a.len.clone())
    }
}
