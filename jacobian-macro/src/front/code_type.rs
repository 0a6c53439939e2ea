//! The type that code the function never differentiates shows, where the code shows one:
//! a constant's shape decides what arithmetic with a differentiated value means (`s * v`
//! scales a vector when `s` is a scalar, is a product of matrices when it is a matrix).
//!
//! Read from the code alone, as a person reads it: float literals and casts, the function's
//! parameters and the user's variables whose initializers showed a type, the `const` and
//! `static` items of the file (`callees`), the float constants of `std` (`PI`, also imported
//! by `use`), float methods, vector and matrix constructors and the methods that keep or
//! transpose their shape, and arithmetic, branches and blocks of those. `None` where the
//! code does not show its type (a call of a plain helper, an item of another file).

use syn::{BinOp, Expr, UnOp};

use super::matrix::{constructor_type, is_matrix, of_shape, shape};
use super::{Front, Var};
use crate::ir::{Code, Type, Value};
use crate::shape::Dim;

/// The constants of `std::f64::consts` (and `f32`'s), which `use` may bring in by name.
const FLOAT_CONSTANTS: &[&str] = &[
    "PI",
    "TAU",
    "E",
    "SQRT_2",
    "LN_2",
    "LN_10",
    "LOG2_E",
    "LOG2_10",
    "LOG10_E",
    "LOG10_2",
    "FRAC_PI_2",
    "FRAC_PI_3",
    "FRAC_PI_4",
    "FRAC_PI_6",
    "FRAC_PI_8",
    "FRAC_1_PI",
    "FRAC_2_PI",
    "FRAC_2_SQRT_PI",
    "FRAC_1_SQRT_2",
];

/// Float methods that integers do not have: their receiver is a float, whatever it is.
fn float_only(method: &str) -> bool {
    crate::rules::arity(method).is_some() && !matches!(method, "abs" | "min" | "max" | "clamp" | "signum")
}

impl Front<'_> {
    /// The type user code `e` shows, reading the values `holes` (its placeholders).
    pub(super) fn code_type(&mut self, e: &Expr, holes: &[Value]) -> Option<Type> {
        let ty = self.shown_type(e, holes)?;
        Some(self.resolved(ty))
    }

    fn shown_type(&mut self, e: &Expr, holes: &[Value]) -> Option<Type> {
        match e {
            Expr::Lit(syn::ExprLit { lit: syn::Lit::Float(float), .. }) => {
                let suffix = float.suffix();
                (suffix.is_empty() || self.signature.scalar.tokens.to_string() == suffix)
                    .then_some(Type::Scalar)
            }
            Expr::Cast(cast) => self.is_scalar_type_tokens(&cast.ty).then_some(Type::Scalar),
            Expr::Paren(inner) => self.code_type(&inner.expr, holes),
            Expr::Group(inner) => self.code_type(&inner.expr, holes),
            Expr::Reference(inner) => self.code_type(&inner.expr, holes),
            Expr::Unary(unary) => match unary.op {
                UnOp::Neg(_) => self.code_type(&unary.expr, holes),
                _ => None,
            },
            Expr::Binary(binary) => {
                let left = self.code_type(&binary.left, holes);
                let right = self.code_type(&binary.right, holes);
                match binary.op {
                    // Both operands have the result's type (no vector plus scalar).
                    BinOp::Add(_) | BinOp::Sub(_) => left.or(right),
                    BinOp::Div(_) | BinOp::Rem(_) => left,
                    BinOp::Mul(_) => match (left?, right?) {
                        (Type::Scalar, other) | (other, Type::Scalar) => Some(other),
                        (a, b) if is_matrix(&a) && is_matrix(&b) => {
                            let ((r, k), (k2, c)) = (shape(&a)?, shape(&b)?);
                            (k == k2).then(|| of_shape(r, c))
                        }
                        _ => None,
                    },
                    _ => None,
                }
            }
            Expr::MethodCall(call) => {
                let method = call.method.to_string();
                let receiver = self.code_type(&call.receiver, holes);
                match receiver {
                    Some(Type::Scalar) if crate::rules::arity(&method).is_some() => Some(Type::Scalar),
                    None if float_only(&method) => Some(Type::Scalar),
                    Some(ty) if is_matrix(&ty) => match method.as_str() {
                        "transpose" => {
                            let (r, c) = shape(&ty)?;
                            Some(of_shape(c, r))
                        }
                        "map" | "component_mul" | "component_div" | "abs" | "normalize" => Some(ty),
                        "dot" | "norm" | "norm_squared" | "sum" | "trace" | "determinant" => {
                            Some(Type::Scalar)
                        }
                        _ => None,
                    },
                    _ => None,
                }
            }
            Expr::Call(call) => {
                // `f64::sin(x)`, `f64::from(k)`.
                if let Expr::Path(path) = &*call.func {
                    // A call of an annotated function with arguments never differentiated:
                    // its result type.
                    if let Some(name) = path.path.get_ident() {
                        let arguments: Vec<Option<Type>> =
                            call.args.iter().map(|a| self.code_type(a, holes)).collect();
                        if let Some(ty) = self.callee_result(name, &arguments) {
                            return Some(ty);
                        }
                    }
                    let segments: Vec<_> = path.path.segments.iter().collect();
                    if let [ty, _] = segments.as_slice() {
                        if self.is_scalar_type(&ty.ident) {
                            return Some(Type::Scalar);
                        }
                    }
                    // `Vector::from(a)`, `Matrix::from_rows(rows)` of arrays whose type shows.
                    if let ([.., ty, function], [arg]) =
                        (segments.as_slice(), &call.args.iter().collect::<Vec<_>>()[..])
                    {
                        let kind = (ty.ident.to_string(), function.ident.to_string());
                        let shown = || constructor_type(e);
                        match (kind.0.as_str(), kind.1.as_str()) {
                            ("Vector", "from") if shown().is_none() => {
                                if let Some(Type::Array(elem, n)) = self.code_type(arg, holes) {
                                    return (*elem == Type::Scalar).then_some(Type::Vector(n));
                                }
                            }
                            ("Matrix", "from_rows") if shown().is_none() => {
                                if let Some(Type::Array(row, r)) = self.code_type(arg, holes) {
                                    if let Type::Array(elem, c) = *row {
                                        return (*elem == Type::Scalar).then_some(Type::Matrix(r, c));
                                    }
                                }
                            }
                            _ => {}
                        }
                    }
                }
                constructor_type(e)
            }
            Expr::Path(path) => self.path_type(path, holes),
            // (Arrays of scalars: what an element assignment would promote, `[K; 3]`.)
            Expr::Repeat(repeat) => Some(Type::array(super::dim_of(&repeat.len))),
            Expr::Array(array) if !array.elems.is_empty() => {
                Some(Type::array(crate::shape::Dim::Lit(array.elems.len())))
            }
            Expr::Index(index) => match self.code_type(&index.expr, holes)? {
                Type::Array(elem, _) => Some(*elem),
                Type::Vector(_) => Some(Type::Scalar),
                // `m[(i, j)]`.
                Type::Matrix(..) if matches!(&*index.index, Expr::Tuple(t) if t.elems.len() == 2) => {
                    Some(Type::Scalar)
                }
                _ => None,
            },
            Expr::Block(block) => self.block_type(&block.block, holes),
            Expr::If(branch) => self.block_type(&branch.then_branch, holes).or_else(|| {
                let (_, otherwise) = branch.else_branch.as_ref()?;
                self.code_type(otherwise, holes)
            }),
            Expr::Match(m) => m.arms.iter().find_map(|arm| self.code_type(&arm.body, holes)),
            // `loop { …; break v; }`: its value's.
            Expr::Loop(l) => super::stmt::flow::loop_values(l).iter().find_map(|v| self.code_type(v, holes)),
            _ => None,
        }
    }

    /// A block's tail's type, with the names its `let`s bind typed as their initializers.
    fn block_type(&mut self, block: &syn::Block, holes: &[Value]) -> Option<Type> {
        let (syn::Stmt::Expr(tail, None), lets) = block.stmts.split_last()? else { return None };
        self.push_scope();
        for stmt in lets {
            if let syn::Stmt::Local(syn::Local { pat, init, .. }) = stmt {
                let ty = match pat {
                    syn::Pat::Ident(_) => init.as_ref().and_then(|init| self.code_type(&init.expr, holes)),
                    syn::Pat::Type(typed) => crate::signature::shape_of(&typed.ty, &self.generics)
                        .map(|(shape, _)| super::type_of_shape(&shape)),
                    _ => None,
                };
                for name in super::stmt::binding_names(pat) {
                    self.bind(name.to_string(), Var::Rust { site: None, ty: ty.clone() });
                }
            }
        }
        let ty = self.code_type(tail, holes);
        self.pop_scope();
        ty
    }

    /// A name's type: a hole's, a variable's, a constant item's, `PI`'s.
    fn path_type(&mut self, path: &syn::ExprPath, holes: &[Value]) -> Option<Type> {
        let segments: Vec<_> = path.path.segments.iter().map(|s| s.ident.to_string()).collect();
        if let [.., last] = segments.as_slice() {
            // `std::f64::consts::PI`, `f64::EPSILON`.
            let scalar = self.signature.scalar.tokens.to_string();
            if segments.len() > 1 && (segments.iter().any(|s| s == "consts") || segments[0] == scalar) {
                return (last.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
                    .then_some(Type::Scalar);
            }
        }
        let ident = path.path.get_ident()?;
        if let Some(k) = Code::hole_number(ident) {
            return holes.get(k).map(|v| self.f.ty(*v).clone());
        }
        let name = ident.to_string();
        match self.lookup(&name) {
            Some(Var::Rust { ty, .. }) => return ty.clone(),
            Some(Var::Ssa { value, reference: false, .. }) => return Some(self.f.ty(*value).clone()),
            Some(_) => return None,
            None => {}
        }
        if let Some(ty) = self.callees().constant_type(&name) {
            let ty = crate::signature::shape_of(&ty, &self.generics).map(|(s, _)| super::type_of_shape(&s));
            return ty;
        }
        FLOAT_CONSTANTS.contains(&name.as_str()).then_some(Type::Scalar)
    }

    /// `ty` with each size that names a `const` item of the file with a literal value
    /// written as that literal (`[T; L3]` is `[T; 3]` for `const L3: usize = 3;`, as rustc
    /// sees it): sizes the differentiation must count.
    pub(super) fn resolved(&mut self, ty: Type) -> Type {
        let mut dim = |d: Dim| -> Dim {
            let Dim::Sym { tokens, .. } = &d else { return d };
            let Ok(ident) = syn::parse2::<syn::Ident>(tokens.clone()) else { return d };
            if self.generics.const_params().any(|p| p.ident == ident) {
                return d;
            }
            self.callees().constant_size(&ident.to_string()).map_or(d, Dim::Lit)
        };
        match ty {
            Type::Array(elem, n) => {
                let n = dim(n);
                Type::Array(Box::new(self.resolved(*elem)), n)
            }
            Type::Vector(n) => Type::Vector(dim(n)),
            Type::Matrix(r, c) => {
                let r = dim(r);
                Type::Matrix(r, dim(c))
            }
            Type::Tuple(parts) => Type::Tuple(parts.into_iter().map(|t| self.resolved(t)).collect()),
            ty @ (Type::Scalar | Type::Opaque) => ty,
        }
    }

    /// Whether user code is a float made of unsuffixed literals alone (`2.0`, `{ let t =
    /// 2.0; t * t }`), whose type Rust infers from a later use: `names` are the `let`s of
    /// such floats in scope.
    pub(super) fn untyped_float(e: &Expr, names: &mut Vec<String>) -> bool {
        match e {
            Expr::Lit(syn::ExprLit { lit: syn::Lit::Float(float), .. }) => float.suffix().is_empty(),
            Expr::Paren(inner) => Self::untyped_float(&inner.expr, names),
            Expr::Group(inner) => Self::untyped_float(&inner.expr, names),
            Expr::Unary(unary) => matches!(unary.op, UnOp::Neg(_)) && Self::untyped_float(&unary.expr, names),
            Expr::Binary(binary) => {
                matches!(binary.op, BinOp::Add(_) | BinOp::Sub(_) | BinOp::Mul(_) | BinOp::Div(_))
                    && Self::untyped_float(&binary.left, names)
                    && Self::untyped_float(&binary.right, names)
            }
            Expr::Path(path) => path.path.get_ident().is_some_and(|i| names.contains(&i.to_string())),
            Expr::Block(block) => Self::untyped_block(&block.block, names),
            Expr::If(branch) => {
                Self::untyped_block(&branch.then_branch, names)
                    && branch.else_branch.as_ref().is_some_and(|(_, e)| Self::untyped_float(e, names))
            }
            _ => false,
        }
    }

    /// [`untyped_float`](Self::untyped_float) of a block's tail, its `let`s of such floats
    /// in scope.
    fn untyped_block(block: &syn::Block, names: &mut Vec<String>) -> bool {
        let depth = names.len();
        let mut untyped = false;
        for (k, stmt) in block.stmts.iter().enumerate() {
            match stmt {
                syn::Stmt::Local(syn::Local { pat: syn::Pat::Ident(name), init: Some(init), .. })
                    if Self::untyped_float(&init.expr, names) =>
                {
                    names.push(name.ident.to_string());
                }
                syn::Stmt::Expr(tail, None) if k + 1 == block.stmts.len() => {
                    untyped = Self::untyped_float(tail, names);
                }
                _ => {}
            }
        }
        names.truncate(depth);
        untyped
    }
}
