//! The IR's text form, for snapshot tests of every pass and for reading (`JACOBIAN_IR=1`
//! in the macro's unit tests). One instruction per line, nested blocks indented:
//!
//! ```text
//! fn(%x.0: T, %p.1: [T; 3]) {
//!   %2: T = mul %x.0, %x.0
//!   %3: opaque = code `%2 > 0.0`
//!   %r.6: T = if %3 {
//!     %4: T = call sin %2
//!     yield %4
//!   } else {
//!     %5: T = get %p.1[0]
//!     yield %5
//!   }
//!   yield %r.6
//! }
//! ```
//!
//! A value prints as `%k`, or `%name.k` when it has the user's name; `T` is the scalar type.

use std::fmt::{self, Write};

use super::{Block, Code, Function, Inst, Op, Path, Position, Type, Value};

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Scalar => f.write_str("T"),
            Type::Array(elem, len) => write!(f, "[{elem}; {len}]"),
            Type::Vector(n) => write!(f, "Vector<{n}>"),
            Type::Matrix(r, c) => write!(f, "Matrix<{r}, {c}>"),
            Type::Tuple(items) => {
                f.write_str("(")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str(")")
            }
            Type::Opaque => f.write_str("opaque"),
        }
    }
}

impl fmt::Display for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::from("fn(");
        for (i, param) in self.params.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            let reference = if param.by_reference { "&" } else { "" };
            let _ = write!(out, "{}: {reference}{}", self.show(param.value), self.ty(param.value));
        }
        out.push_str(") {\n");
        self.block(&mut out, &self.body, 1);
        out.push_str("}\n");
        f.write_str(&out)
    }
}

impl Function {
    /// `%k` or `%name.k`.
    pub fn show(&self, value: Value) -> String {
        match self.name(value) {
            Some(name) => format!("%{name}.{}", value.0),
            None => format!("%{}", value.0),
        }
    }

    fn list(&self, values: &[Value]) -> String {
        values.iter().map(|v| self.show(*v)).collect::<Vec<_>>().join(", ")
    }

    fn typed(&self, values: &[Value]) -> String {
        values.iter().map(|v| format!("{}: {}", self.show(*v), self.ty(*v))).collect::<Vec<_>>().join(", ")
    }

    /// The code with its holes shown as the values they stand for.
    fn code(&self, code: &Code, args: &[Value]) -> String {
        let mut text = code.tokens.to_string();
        for (k, arg) in args.iter().enumerate().rev() {
            text = text.replace(&format!("{}{k}", Code::HOLE), &self.show(*arg));
        }
        format!("`{text}`")
    }

    fn block(&self, out: &mut String, block: &Block, depth: usize) {
        let pad = "  ".repeat(depth);
        for inst in &block.insts {
            self.inst(out, inst, depth);
        }
        if !block.yields.is_empty() {
            let _ = writeln!(out, "{pad}yield {}", self.list(&block.yields));
        }
    }

    fn path(&self, path: &Path, indices: &[Value]) -> String {
        let mut indices = indices.iter();
        let steps: Vec<String> = path
            .0
            .iter()
            .map(|step| match step {
                Position::Const(k) => k.to_string(),
                Position::Dynamic => indices.next().map_or_else(|| "?".to_owned(), |v| self.show(*v)),
            })
            .collect();
        format!("[{}]", steps.join("]["))
    }

    fn inst(&self, out: &mut String, inst: &Inst, depth: usize) {
        let pad = "  ".repeat(depth);
        let lhs =
            if inst.results.is_empty() { String::new() } else { format!("{} = ", self.typed(&inst.results)) };
        let args = &inst.args;
        let rhs = match &inst.op {
            Op::Literal(v) => format!("literal {v:?}"),
            Op::Neg => format!("neg {}", self.list(args)),
            Op::Add => format!("add {}", self.list(args)),
            Op::Sub => format!("sub {}", self.list(args)),
            Op::Mul => format!("mul {}", self.list(args)),
            Op::Div => format!("div {}", self.list(args)),
            Op::Call(method) => format!("call {method} {}", self.list(args)),
            Op::SinCos => format!("sin_cos {}", self.list(args)),
            Op::Select => format!("select {}", self.list(args)),
            Op::FromInt => format!("from_int {}", self.list(args)),
            Op::Constant(code) => format!("constant {}", self.code(code, args)),
            Op::Code(code) => format!("code {}", self.code(code, args)),
            Op::Build => format!("build {}", self.list(args)),
            Op::Splat => format!("splat {}", self.list(args)),
            Op::Get(path) => format!("get {}{}", self.show(args[0]), self.path(path, &args[1..])),
            Op::Set(path) => {
                format!("set {}{}, {}", self.show(args[0]), self.path(path, &args[2..]), self.show(args[1]))
            }
            Op::Accumulate(path) => {
                format!(
                    "accumulate {}{}, {}",
                    self.show(args[0]),
                    self.path(path, &args[2..]),
                    self.show(args[1])
                )
            }
            Op::Axpy(path) => format!(
                "axpy {}{}, {} * {}",
                self.show(args[0]),
                self.path(path, &args[3..]),
                self.show(args[1]),
                self.show(args[2])
            ),
            Op::AddBand { offset, width, shift, transposed } => format!(
                "add_band{} {}[.., {offset}..{offset} + {width}], {} at {shift:+}",
                if *transposed { " transposed" } else { "" },
                self.show(args[0]),
                self.show(args[1])
            ),
            Op::AddBlock { offset } => {
                format!("add_block {}[.., {offset}..], {}", self.show(args[0]), self.show(args[1]))
            }
            Op::AddRow { offset, row } => {
                let row = match row {
                    Position::Const(k) => k.to_string(),
                    Position::Dynamic => args.get(3).map_or_else(|| "?".to_owned(), |v| self.show(*v)),
                };
                format!(
                    "add_row {}[{row}, {offset}..], {} * {}",
                    self.show(args[0]),
                    self.show(args[1]),
                    self.show(args[2])
                )
            }
            Op::Convert => format!("convert {}", self.list(args)),
            Op::Scale => format!("scale {}", self.list(args)),
            Op::Tuple => format!("tuple {}", self.list(args)),
            Op::Chain { blocks } => format!("chain {} {blocks:?}", self.list(args)),

            Op::If { then, otherwise } => {
                let mut text = format!("if {} {{\n", self.show(args[0]));
                self.block(&mut text, then, depth + 1);
                let _ = writeln!(text, "{pad}}} else {{");
                self.block(&mut text, otherwise, depth + 1);
                let _ = write!(text, "{pad}}}");
                text
            }
            Op::While { cond, body } => {
                let carried: Vec<String> = cond
                    .params
                    .iter()
                    .zip(args)
                    .map(|(p, init)| format!("{}: {} = {}", self.show(*p), self.ty(*p), self.show(*init)))
                    .collect();
                let mut text = format!("while carry ({}) {{\n", carried.join(", "));
                self.block(&mut text, cond, depth + 1);
                let _ = writeln!(text, "{pad}}} do ({}) {{", self.typed(&body.params));
                self.block(&mut text, body, depth + 1);
                let _ = write!(text, "{pad}}}");
                text
            }
            Op::For { pattern, range, holes, body } => {
                let carried: Vec<String> = body
                    .params
                    .iter()
                    .zip(&args[*holes..])
                    .map(|(p, init)| format!("{}: {} = {}", self.show(*p), self.ty(*p), self.show(*init)))
                    .collect();
                let mut text = format!("for `{pattern}` in {}", self.code(range, &args[..*holes]));
                if !carried.is_empty() {
                    let _ = write!(text, " carry ({})", carried.join(", "));
                }
                text.push_str(" {\n");
                self.block(&mut text, body, depth + 1);
                let _ = write!(text, "{pad}}}");
                text
            }
        };
        let _ = writeln!(out, "{pad}{lhs}{rhs}");
    }
}
