//! The front end's last step: vectors and matrices become flat arrays of their components
//! (row-major), so that every later stage works on scalars and arrays only. Where the
//! function meets Rust code that wants the real types, conversions are inserted: after a
//! parameter, around the result, before user code that reads a vector or matrix (its holes),
//! and after user code that produces one (`Constant`).

use std::collections::BTreeMap;

use quote::quote;

use super::Unsupported;
use crate::ir::{Block, Code, Function, Inst, Op, Path, Position, Type, Value};
use crate::shape::Dim;

/// Whether the flat form of `ty` has a length stable Rust cannot write (`[T; R * C]` for
/// const generics `R`, `C`).
fn unwritable(ty: &Type) -> bool {
    match ty {
        Type::Matrix(r, c) => (r.is_generic() || c.is_generic()) && r.lit() != Some(1) && c.lit() != Some(1),
        _ => false,
    }
}

/// The flat array type of a vector or matrix type.
fn flat_type(ty: &Type) -> Option<Type> {
    match ty {
        Type::Vector(n) => Some(Type::array(n.clone())),
        Type::Matrix(r, c) => Some(Type::array(r.mul(c))),
        Type::Array(elem, _) => match &**elem {
            Type::Array(inner, _) if **inner == Type::Scalar => Some(Type::array(ty.components()?)),
            _ => None,
        },
        _ => None,
    }
}

/// `[[T; C]; R]`.
fn is_nested(ty: &Type) -> bool {
    matches!(ty, Type::Array(elem, _) if matches!(&**elem, Type::Array(..)))
}

/// The columns of a matrix or nested array (its inner length).
fn columns(ty: &Type) -> Option<Dim> {
    match ty {
        Type::Matrix(_, c) => Some(c.clone()),
        Type::Array(elem, _) => match &**elem {
            Type::Array(_, c) => Some(c.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// Flattens `function` in place; whether it had vectors or matrices. Nested arrays that
/// are parameters not in `differentiated` stay as they are (read element by element).
/// A matrix of generic size (`Matrix<N, N>`) has no flat form: it may only be a parameter
/// never differentiated, read by its components or by user code.
pub fn flatten(
    function: &mut Function,
    differentiated: &std::collections::BTreeSet<Value>,
) -> Result<bool, Unsupported> {
    if !function.values.iter().any(|v| flat_type(&v.ty).is_some()) {
        return Ok(false);
    }
    let refused = |what: &str| Unsupported::here(what.into());
    let nested = |ty: &Type| matches!(ty, Type::Array(..));
    let constant_nested: std::collections::BTreeSet<Value> = function
        .params
        .iter()
        .filter(|p| nested(function.ty(p.value)) && !differentiated.contains(&p.value))
        .map(|p| p.value)
        .collect();
    let mut f = Flatten {
        original: BTreeMap::new(),
        replaced: BTreeMap::new(),
        splats: BTreeMap::new(),
        rows: BTreeMap::new(),
        unflattened: std::collections::BTreeSet::new(),
        refused: false,
    };
    // Every value but the parameters and what user code produces is retyped.
    let mut keep: std::collections::BTreeSet<Value> = function.params.iter().map(|p| p.value).collect();
    collect_constants(&function.body, &mut keep);
    for (k, data) in function.values.iter_mut().enumerate() {
        let value = Value(k as u32);
        if keep.contains(&value) {
            continue;
        }
        if unwritable(&data.ty) {
            return Err(refused("a matrix of generic size that is not a parameter"));
        }
        if let Some(flat) = flat_type(&data.ty) {
            f.original.insert(value, std::mem::replace(&mut data.ty, flat));
        }
    }
    let mut prologue = Vec::new();
    for param in function.params.clone() {
        let ty = function.ty(param.value).clone();
        if constant_nested.contains(&param.value) {
            continue;
        }
        if let Some(flat) = flat_type(&ty) {
            let name = function.name(param.value).map(str::to_owned);
            // A matrix that is not differentiated is read in place, row by row: its
            // components through its rows (`as_rows`, no copy), so that forward mode sees
            // a product's row of coefficients as the matrix's own row. (Its flat copy stays
            // for every other use, and is dead code where there is none.)
            if let (Type::Matrix(r, c), false) = (&ty, differentiated.contains(&param.value)) {
                let rows = Type::Array(Box::new(Type::array(c.clone())), r.clone());
                let value = function.value(rows, name.clone());
                f.rows.insert(param.value, value);
                prologue.push(convert(param.value, value, proc_macro2::Span::call_site()));
                // (Of generic size: no flat copy; user code reads the parameter itself.)
                if unwritable(&ty) {
                    f.unflattened.insert(param.value);
                    continue;
                }
            }
            let value = function.value(flat, name);
            f.original.insert(value, ty);
            f.replaced.insert(param.value, value);
            prologue.push(convert(param.value, value, proc_macro2::Span::call_site()));
        }
    }
    let mut body = std::mem::take(&mut function.body);
    f.block(function, &mut body);
    if f.refused {
        return Err(refused("a matrix parameter of generic size used other than by its components"));
    }
    prologue.append(&mut body.insts);
    body.insts = prologue;
    let result = body.yields[0];
    if let Some(ty) = f.original.get(&result).cloned() {
        let value = function.value(ty, None);
        body.insts.push(convert(result, value, proc_macro2::Span::call_site()));
        body.yields[0] = value;
    }
    function.body = body;
    Ok(true)
}

fn collect_constants(block: &Block, out: &mut std::collections::BTreeSet<Value>) {
    for inst in &block.insts {
        if matches!(inst.op, Op::Constant(_) | Op::Chain { .. }) {
            out.extend(&inst.results);
        }
        for nested in inst.blocks() {
            collect_constants(nested, out);
        }
    }
}

struct Flatten {
    /// The vector or matrix type each retyped value had.
    original: BTreeMap<Value, Type>,
    /// Values read through their flat copies (parameters, user code's results).
    replaced: BTreeMap<Value, Value>,
    /// Arrays made by repeating a scalar, and the scalar.
    splats: BTreeMap<Value, Value>,
    /// Matrix parameters never differentiated, and their rows (`[[T; c]; r]`), which their
    /// components are read from.
    rows: BTreeMap<Value, Value>,
    /// Those of generic size, which have no flat copy: read by user code as they are.
    unflattened: std::collections::BTreeSet<Value>,
    /// A parameter in `unflattened` is used where only its flat copy would do.
    refused: bool,
}

impl Flatten {
    fn block(&mut self, function: &mut Function, block: &mut Block) {
        let insts = std::mem::take(&mut block.insts);
        for mut inst in insts {
            if let (Op::Get(path), Some(rows)) = (&inst.op, inst.args.first().and_then(|a| self.rows.get(a)))
            {
                if path.0.len() == 2 {
                    inst.args[0] = *rows;
                    block.insts.push(inst);
                    continue;
                }
            }
            let holes = match &inst.op {
                Op::Code(_) | Op::Constant(_) => inst.args.len(),
                Op::For { holes, .. } => *holes,
                _ => 0,
            };
            for (k, arg) in inst.args.iter_mut().enumerate() {
                if let Some(flat) = self.replaced.get(arg) {
                    *arg = *flat;
                } else if self.unflattened.contains(arg) && k >= holes {
                    self.refused = true;
                }
            }
            for nested in inst.blocks_mut() {
                self.block(function, nested);
            }
            let span = inst.span;
            let operands = match inst.op {
                Op::Get(_) => 1,
                Op::Axpy(_) => 3,
                _ => 2,
            };
            match &inst.op {
                Op::Get(path) | Op::Set(path) | Op::Accumulate(path) | Op::Axpy(path) => {
                    if let Some(c) = self.original.get(&inst.args[0]).and_then(columns) {
                        let path = path.clone();
                        let (new_path, index) = flat_position(
                            function,
                            &mut block.insts,
                            &path,
                            &inst.args[operands..],
                            &c,
                            span,
                        );
                        inst.args.truncate(operands);
                        inst.args.extend(index);
                        match &mut inst.op {
                            Op::Get(p) | Op::Set(p) | Op::Accumulate(p) | Op::Axpy(p) => *p = new_path,
                            _ => {}
                        }
                    }
                }
                // User code sees the real types: its holes read converted copies.
                Op::Code(_) | Op::Constant(_) => {
                    for k in 0..inst.args.len() {
                        self.unflatten_arg(function, &mut block.insts, &mut inst, k);
                    }
                }
                Op::For { holes, .. } => {
                    for k in 0..*holes {
                        self.unflatten_arg(function, &mut block.insts, &mut inst, k);
                    }
                }
                // The rows of a nested array, as their components.
                Op::Build
                    if inst.results.first().and_then(|r| self.original.get(r)).is_some_and(is_nested) =>
                {
                    let c = inst.results.first().and_then(|r| self.original.get(r)).and_then(columns);
                    if let Some(c) = c.and_then(|c| c.lit()) {
                        let mut components = Vec::new();
                        for row in inst.args.clone() {
                            for k in 0..c {
                                let value = function.value(Type::Scalar, None);
                                block.insts.push(Inst {
                                    op: Op::Get(Path(vec![Position::Const(k)])),
                                    args: vec![row],
                                    results: vec![value],
                                    span,
                                });
                                components.push(value);
                            }
                        }
                        inst.args = components;
                    }
                }
                // `[[x; C]; R]` is `[x; R · C]`.
                Op::Splat
                    if inst.results.first().and_then(|r| self.original.get(r)).is_some_and(is_nested) =>
                {
                    if let Some(scalar) = self.splats.get(&inst.args[0]) {
                        inst.args = vec![*scalar];
                    }
                }
                _ => {}
            }
            if let (Op::Splat, [result], [scalar]) = (&inst.op, inst.results.as_slice(), inst.args.as_slice())
            {
                if *function.ty(*scalar) == Type::Scalar {
                    self.splats.insert(*result, *scalar);
                }
            }
            let produced = match inst.op {
                Op::Constant(_) | Op::Chain { .. } => {
                    inst.results.iter().copied().filter(|r| flat_type(function.ty(*r)).is_some()).collect()
                }
                _ => Vec::new(),
            };
            block.insts.push(inst);
            // A vector or matrix from user code, as its flat copy from here on.
            for result in produced {
                let ty = function.ty(result).clone();
                let flat = function.value(flat_type(&ty).expect("a vector or matrix"), None);
                self.original.insert(flat, ty);
                self.replaced.insert(result, flat);
                block.insts.push(convert(result, flat, span));
            }
        }
        for y in &mut block.yields {
            if let Some(flat) = self.replaced.get(y) {
                *y = *flat;
            }
            self.refused |= self.unflattened.contains(y);
        }
    }

    /// Argument `k` of `inst`, if flattened, replaced by a copy of its original type.
    fn unflatten_arg(&self, function: &mut Function, out: &mut Vec<Inst>, inst: &mut Inst, k: usize) {
        let arg = inst.args[k];
        if let Some(ty) = self.original.get(&arg) {
            let value = function.value(ty.clone(), None);
            out.push(convert(arg, value, inst.span));
            inst.args[k] = value;
        }
    }
}

/// The flat position of a matrix entry `(i, j)` in a row of `c` columns, and the run-time
/// index arguments it takes (computed by code pushed to `out`).
fn flat_position(
    function: &mut Function,
    out: &mut Vec<Inst>,
    path: &Path,
    indices: &[Value],
    c: &Dim,
    span: proc_macro2::Span,
) -> (Path, Vec<Value>) {
    let mut dynamic = indices.iter();
    let mut positions = Vec::new();
    for p in path.0.iter().take(2) {
        positions.push(match p {
            Position::Const(k) => Err(*k),
            Position::Dynamic => Ok(*dynamic.next().expect("an index per run-time position")),
        });
    }
    let rest: Vec<Value> = dynamic.copied().collect();
    match (positions.as_slice(), c.lit()) {
        ([Err(i), Err(j)], Some(c)) => {
            let mut p = vec![Position::Const(i * c + j)];
            p.extend(path.0.iter().skip(2).cloned());
            (Path(p), rest)
        }
        _ => {
            let mut holes = Vec::new();
            let mut term = |at: &Result<Value, usize>| match at {
                Ok(v) => {
                    let h = Code::hole(holes.len());
                    holes.push(*v);
                    quote!(#h)
                }
                Err(k) => {
                    let k = crate::shape::unsuffixed(*k);
                    quote!(#k)
                }
            };
            let (i, j) = (term(&positions[0]), term(&positions[1]));
            let c = c.value();
            let index = function.value(Type::Opaque, None);
            out.push(Inst {
                op: Op::Code(Code { tokens: quote!(#i * #c + #j) }),
                args: holes,
                results: vec![index],
                span,
            });
            let mut p = vec![Position::Dynamic];
            p.extend(path.0.iter().skip(2).cloned());
            let mut args = vec![index];
            args.extend(rest);
            (Path(p), args)
        }
    }
}

/// `to = convert from`: the same components under another type.
fn convert(from: Value, to: Value, span: proc_macro2::Span) -> Inst {
    Inst { op: Op::Convert, args: vec![from], results: vec![to], span }
}
