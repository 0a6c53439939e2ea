//! Writing instructions: a cursor into a function's open blocks, with the folding every
//! transformation wants as it writes (literal arithmetic, `1·x → x`, `0 + x → x`,
//! `-(literal)` → literal), so that derivative code never multiplies by one.

use std::collections::BTreeMap;

use proc_macro2::{Span, TokenStream};

use super::{Block, Code, Function, Inst, Method, Op, Path, Type, Value};

pub struct Builder {
    pub f: Function,
    /// Instructions of the open blocks, innermost last.
    open: Vec<Vec<Inst>>,
    /// Values known to be literals.
    literals: BTreeMap<Value, f64>,
    /// Tokens of `Code` values without holes (integer literals such as a `powi` exponent).
    codes: BTreeMap<Value, TokenStream>,
    pub span: Span,
}

impl Builder {
    pub fn new(f: Function) -> Builder {
        Builder {
            f,
            open: vec![Vec::new()],
            literals: BTreeMap::new(),
            codes: BTreeMap::new(),
            span: Span::call_site(),
        }
    }

    /// How many blocks are open: 1 at the function's top level.
    pub fn depth(&self) -> usize {
        self.open.len()
    }

    pub fn open(&mut self) {
        self.open.push(Vec::new());
    }

    pub fn close(&mut self, params: Vec<Value>, yields: Vec<Value>) -> Block {
        Block { params, insts: self.open.pop().unwrap_or_default(), yields }
    }

    /// Appends an instruction with fresh results of the given types.
    pub fn push(&mut self, op: Op, args: Vec<Value>, results: &[Type]) -> Vec<Value> {
        let results: Vec<Value> = results.iter().map(|t| self.f.value(t.clone(), None)).collect();
        self.push_with(op, args, results.clone());
        results
    }

    /// Appends an instruction whose results are already allocated.
    pub fn push_with(&mut self, op: Op, args: Vec<Value>, results: Vec<Value>) {
        match &op {
            Op::Literal(v) => {
                self.literals.insert(results[0], *v);
            }
            Op::Code(code) if args.is_empty() && results.len() == 1 => {
                self.codes.insert(results[0], code.tokens.clone());
            }
            _ => {}
        }
        let span = self.span;
        self.open.last_mut().expect("a block is open").push(Inst { op, args, results, span });
    }

    pub fn push1(&mut self, op: Op, args: Vec<Value>, ty: Type) -> Value {
        self.push(op, args, &[ty])[0]
    }

    pub fn literal_of(&self, value: Value) -> Option<f64> {
        self.literals.get(&value).copied()
    }

    /// The tokens of a hole-free `Code` value (`2`, `-3`).
    pub fn code_of(&self, value: Value) -> Option<&TokenStream> {
        self.codes.get(&value)
    }

    pub fn lit(&mut self, value: f64) -> Value {
        self.push1(Op::Literal(value), vec![], Type::Scalar)
    }

    pub fn neg(&mut self, a: Value) -> Value {
        match self.literal_of(a) {
            Some(x) => self.lit(-x),
            None => self.push1(Op::Neg, vec![a], Type::Scalar),
        }
    }

    pub fn add(&mut self, a: Value, b: Value) -> Value {
        match (self.literal_of(a), self.literal_of(b)) {
            (Some(x), Some(y)) => self.lit(x + y),
            (Some(0.0), _) => b,
            (_, Some(0.0)) => a,
            _ => self.push1(Op::Add, vec![a, b], Type::Scalar),
        }
    }

    pub fn sub(&mut self, a: Value, b: Value) -> Value {
        match (self.literal_of(a), self.literal_of(b)) {
            (Some(x), Some(y)) => self.lit(x - y),
            (_, Some(0.0)) => a,
            (Some(0.0), _) => self.neg(b),
            _ => self.push1(Op::Sub, vec![a, b], Type::Scalar),
        }
    }

    pub fn mul(&mut self, a: Value, b: Value) -> Value {
        match (self.literal_of(a), self.literal_of(b)) {
            (Some(x), Some(y)) => self.lit(x * y),
            (Some(1.0), _) => b,
            (_, Some(1.0)) => a,
            (Some(-1.0), _) => self.neg(b),
            (_, Some(-1.0)) => self.neg(a),
            _ => self.push1(Op::Mul, vec![a, b], Type::Scalar),
        }
    }

    pub fn div(&mut self, a: Value, b: Value) -> Value {
        match (self.literal_of(a), self.literal_of(b)) {
            (Some(x), Some(y)) if y != 0.0 => self.lit(x / y),
            (_, Some(1.0)) => a,
            _ => self.push1(Op::Div, vec![a, b], Type::Scalar),
        }
    }

    pub fn call(&mut self, method: Method, args: Vec<Value>) -> Value {
        self.push1(Op::Call(method), args, Type::Scalar)
    }

    pub fn select(&mut self, condition: Value, a: Value, b: Value) -> Value {
        self.push1(Op::Select, vec![condition, a, b], Type::Scalar)
    }

    /// Non-differentiated code reading `holes`, with an `Opaque` result.
    pub fn code(&mut self, tokens: TokenStream, holes: Vec<Value>) -> Value {
        self.push1(Op::Code(Code { tokens }), holes, Type::Opaque)
    }

    /// Code whose value has a differentiable type but no derivative.
    pub fn constant(&mut self, tokens: TokenStream, holes: Vec<Value>, ty: Type) -> Value {
        self.push1(Op::Constant(Code { tokens }), holes, ty)
    }

    pub fn get(&mut self, aggregate: Value, path: Path, indices: Vec<Value>) -> Value {
        let ty = path.walk(self.f.ty(aggregate)).unwrap_or(Type::Opaque);
        let mut args = vec![aggregate];
        args.extend(indices);
        self.push1(Op::Get(path), args, ty)
    }

    /// `op` (`Set` or `Accumulate`) of `value` at `path` in `aggregate`.
    pub fn update(&mut self, op: Op, aggregate: Value, value: Value, indices: Vec<Value>) -> Value {
        let ty = self.f.ty(aggregate).clone();
        let mut args = vec![aggregate, value];
        args.extend(indices);
        self.push1(op, args, ty)
    }

    /// `[0; n]` of scalars, or nested zeros of any aggregate type.
    pub fn zeros(&mut self, ty: &Type) -> Value {
        match ty {
            Type::Array(elem, _) => {
                let inner = self.zeros(elem);
                self.push1(Op::Splat, vec![inner], ty.clone())
            }
            Type::Matrix(..) | Type::Vector(_) => {
                let zero = self.lit(0.0);
                self.push1(Op::Splat, vec![zero], ty.clone())
            }
            _ => self.lit(0.0),
        }
    }
}
