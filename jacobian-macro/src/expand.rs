//! Owns the pipeline: options and signature, lowering (with forward-mode derivatives),
//! clean-up, printing. The user's function is always emitted unchanged, even beside
//! errors, so one mistake does not bury their other diagnostics.

use crate::diagnostics::Diagnostics;
use crate::ir::Function;
use crate::signature::Signature;
use crate::{forward, front, options, reverse, signature};
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, ToTokens};
use syn::ItemFn;

pub fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let diagnostics = Diagnostics::default();
    let mut options = options::parse(attr, &diagnostics);
    let function: ItemFn = match syn::parse2(item.clone()) {
        Ok(function) => function,
        Err(_) => {
            diagnostics.push(syn::Error::new(
                proc_macro2::Span::call_site(),
                "`#[jacobian]` applies to a function (`fn`, associated function or method)",
            ));
            let errors = diagnostics.to_compile_errors();
            return quote!(#errors #item);
        }
    };
    let krate = options.krate.as_ref().map(ToTokens::to_token_stream).unwrap_or_else(|| quote!(::jacobian));
    // Applied twice, the attribute would write every sibling twice.
    if let Some(again) =
        function.attrs.iter().find(|a| a.path().segments.last().is_some_and(|s| s.ident == "jacobian"))
    {
        diagnostics.error_at(
            again,
            "`#[jacobian]` is applied to this function twice; apply it once with all the options it needs (`#[jacobian(value, jvp, mode = reverse)]`), and for a second set of siblings with other options, annotate a function that calls this one",
        );
    }
    // A function with differentiable structs in its signature is differentiated as its
    // translation over the structs' fields; the user's function is emitted as written.
    let (function, structs) = match crate::structs::translate(&function, &krate) {
        None => (function, None),
        Some(Err(error)) => {
            diagnostics.push(error);
            let errors = diagnostics.to_compile_errors();
            return quote!(#errors #function);
        }
        Some(Ok((translated, structs))) => {
            if let Some(wrt) = &mut options.wrt {
                *wrt = structs.wrt(wrt);
            }
            let refused = [("sparse", options.sparse), ("check", options.check.is_some())];
            for (option, _) in refused.iter().filter(|(_, on)| *on) {
                diagnostics.error_at(
                    &function.sig.ident,
                    format!("the `{option}` option is not supported yet on a function with a differentiable struct in its signature; annotate a function over the struct's fields for it"),
                );
            }
            (translated, Some(structs))
        }
    };
    // A nalgebra-typed function is differentiated as its translation to `Vector`/`Matrix`;
    // the user's function is emitted as written.
    let (function, nalgebra) = match crate::nalgebra::translate(&function, &krate) {
        Some((translated, nalgebra)) => (translated, Some(nalgebra)),
        None => (function, None),
    };
    let signature = signature::analyse(&function, &options, &diagnostics);
    let mut siblings = Vec::new();
    if let Some(signature) = &signature {
        let primal = primal(&function, signature, &diagnostics);
        let context = Context {
            function: &function,
            signature,
            krate: &krate,
            diagnostics: &diagnostics,
            primal: &primal,
            options: &options,
            nalgebra: nalgebra.as_ref(),
            structs: structs.as_ref(),
        };
        let stem = function.sig.ident.to_string();
        let stem = stem.trim_start_matches("r#");
        let named = |suffix: &str| format_ident!("{stem}_{suffix}", span = function.sig.ident.span());
        let name = options.name.clone().unwrap_or_else(|| named("jacobian"));
        siblings.push(context.sibling(Kind::Jacobian, name));
        if options.value {
            siblings.push(context.sibling(Kind::ValueAndJacobian, named("value_and_jacobian")));
        }
        if options.jvp {
            siblings.push(context.sibling(Kind::Jvp, named("jvp")));
        }
        if options.vjp {
            siblings.push(context.sibling(Kind::Vjp, named("vjp")));
        }
        let second_order = (options.hessian || options.hvp) && context.check_scalar_output();
        if options.hessian && second_order {
            siblings.push(context.sibling(Kind::Hessian, named("hessian")));
            if options.value {
                siblings.push(context.sibling(Kind::ValueGradientHessian, named("value_gradient_hessian")));
            }
        }
        if options.hvp && second_order {
            siblings.push(context.sibling(Kind::Hvp, named("hvp")));
        }
        if options.sparse {
            let (values_name, pattern_name) = crate::sparse::names(&function.sig.ident);
            let request = crate::sparse::Request {
                function: &function,
                signature,
                krate: &krate,
                primal: &primal,
                nalgebra: nalgebra.as_ref(),
                diagnostics: &diagnostics,
                values_name,
                pattern_name,
                dense: &|| context.body(Kind::Jacobian),
            };
            siblings.extend(crate::sparse::siblings(&request));
            if options.hessian && second_order {
                siblings.extend(crate::sparse::hessian_siblings(&request));
            }
        }
        let expressible = |dim: crate::shape::Dim| {
            !dim.is_generic() || syn::parse2::<syn::Ident>(dim.to_token_stream()).is_ok()
        };
        if signature.inputs.iter().all(|input| expressible(input.shape.len())) {
            siblings.push(context.sibling(Kind::Parts, parts_name(&function.sig.ident)));
        }
        if let Some(key) = &options.check {
            let original = nalgebra.as_ref().map_or(&function, |nalgebra| &nalgebra.original);
            let name = options.name.clone().unwrap_or_else(|| named("jacobian"));
            siblings.extend(crate::check::test(
                key,
                original,
                &function,
                signature,
                &krate,
                &name,
                &diagnostics,
            ));
        }
    }
    let function = match (&structs, &nalgebra) {
        (Some(structs), _) => &structs.original,
        (None, Some(nalgebra)) => &nalgebra.original,
        (None, None) => &function,
    };
    if diagnostics.has_errors() {
        let errors = diagnostics.to_compile_errors();
        return quote!(#errors #function);
    }
    // Callers often use only the Jacobian; that is a use of the function's definition, so
    // rustc's "never used" would be a false alarm (and an error under `deny(warnings)`).
    quote! {
        #[allow(dead_code)]
        #function
        #(#siblings)*
    }
}

/// The function's primal IR, optimised, once for all its siblings; or why the new
/// pipeline cannot take it.
fn primal(function: &ItemFn, signature: &Signature, diagnostics: &Diagnostics) -> Result<Function, String> {
    let mut primal = front::lower(function, signature).map_err(|problems| {
        for problem in &problems {
            diagnostics.push(problem.error());
        }
        Context::why_all(problems)
    })?;
    crate::opt::optimise(&mut primal);
    crate::ir::verify::verify(&primal)?;
    Ok(primal)
}

/// Appends a line to the file `__JACOBIAN_PIPELINE_LOG` names, if it is set.
fn log_line(line: &str) {
    use std::io::Write as _;
    let Some(path) = std::env::var_os("__JACOBIAN_PIPELINE_LOG") else { return };
    if let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
        let _ = file.write_all(line.as_bytes());
    }
}

/// The user's identifiers, which generated names avoid so that none prints as a user's.
pub fn reserved(function: &ItemFn) -> std::collections::BTreeSet<String> {
    let mut names = std::collections::BTreeSet::new();
    reserve(function.to_token_stream(), &mut names);
    names
}

fn reserve(tokens: TokenStream, out: &mut std::collections::BTreeSet<String>) {
    for tree in tokens {
        match tree {
            proc_macro2::TokenTree::Ident(ident) => {
                out.insert(ident.to_string());
            }
            proc_macro2::TokenTree::Group(group) => reserve(group.stream(), out),
            _ => {}
        }
    }
}

/// The hidden sibling that callers chain through: `__{name}_jacobian_parts`.
pub fn parts_name(function: &syn::Ident) -> syn::Ident {
    let name = function.to_string();
    format_ident!("__{}_jacobian_parts", name.trim_start_matches("r#"), span = function.span())
}

/// What a sibling computes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Jacobian,
    ValueAndJacobian,
    Parts,
    Jvp,
    Vjp,
    Hessian,
    ValueGradientHessian,
    Hvp,
}

/// Everything the siblings of one function are made from.
struct Context<'a> {
    function: &'a ItemFn,
    signature: &'a Signature,
    krate: &'a TokenStream,
    diagnostics: &'a Diagnostics,
    primal: &'a Result<Function, String>,
    options: &'a options::Options,
    /// For a nalgebra-typed function: how its siblings convert at the boundary.
    nalgebra: Option<&'a crate::nalgebra::Nalgebra>,
    /// For a function with differentiable structs in its signature: the same, outside.
    structs: Option<&'a crate::structs::Structs>,
}

/// The name of the extra parameter of `jvp`/`hvp` (`v`) and `vjp` (`u`): the macro's, with
/// mixed-site hygiene, so that it never clashes with a name of the user's.
fn extra_parameter(name: &str) -> syn::Ident {
    syn::Ident::new(&format!("__jacobian_{name}"), proc_macro2::Span::mixed_site())
}

impl Context<'_> {
    /// `hessian` and `hvp` are for scalar outputs: whether the output is one.
    fn check_scalar_output(&self) -> bool {
        let scalar = self.signature.rows.lit() == Some(1);
        if !scalar {
            let at: &dyn ToTokens = match &self.function.sig.output {
                syn::ReturnType::Type(_, ty) => ty,
                syn::ReturnType::Default => &self.function.sig.ident,
            };
            self.diagnostics.error_at(
                at,
                "`hessian` and `hvp` need a scalar output (`f64` or `f32`); for a vector output, take the Jacobian of each component's gradient, or use `jvp`/`vjp`",
            );
        }
        scalar
    }

    /// Optimises and verifies an IR function.
    fn finish(function: Result<Function, String>) -> Result<Function, String> {
        let mut function = function?;
        crate::opt::optimise(&mut function);
        crate::ir::verify::verify(&function)?;
        Ok(function)
    }

    fn print(&self, function: &Function) -> TokenStream {
        crate::emit::body(function, &self.signature.scalar, self.krate, &reserved(self.function))
    }

    /// Optimises, verifies and prints an IR function.
    fn emit(&self, function: Result<Function, String>) -> Result<TokenStream, String> {
        Ok(self.print(&Self::finish(function)?))
    }

    /// The Jacobian (or value and Jacobian) by the mode the user chose, or by the cheaper
    /// of the two by `analysis::cost` for a scalar output.
    fn jacobian(&self, kind: Kind) -> Result<TokenStream, String> {
        let (forward_returns, reverse_returns) = match kind {
            Kind::Jacobian => (forward::Returns::Jacobian, reverse::Returns::Jacobian),
            _ => (forward::Returns::ValueAndJacobian, reverse::Returns::ValueAndJacobian),
        };
        let primal = self.primal.clone()?;
        let plain = forward::Seeding::default();
        let forward = || {
            Self::finish(
                forward::with(&primal, self.signature, self.krate, forward_returns, &plain)
                    .map_err(Self::why),
            )
        };
        let scalar_output = self.signature.rows.lit() == Some(1);
        let with_value = kind != Kind::Jacobian;
        let reverse = || {
            let function = if scalar_output {
                reverse::function(&primal, self.signature, reverse_returns)
            } else {
                reverse::rows(&primal, self.signature, with_value)
            };
            Self::finish(function.map_err(Self::why))
        };
        let chosen = match self.options.mode {
            Some(options::Mode::Forward) => forward()?,
            Some(options::Mode::Reverse) => reverse().or_else(|_| forward())?,
            None => match (forward(), reverse()) {
                (Ok(f), Ok(r)) => {
                    // (For several outputs, one sweep per output: only where clearly cheaper.)
                    let reverse = if scalar_output {
                        crate::analysis::cost::prefer_reverse(&f, &r)
                    } else {
                        crate::analysis::cost::estimate(&r) < 0.8 * crate::analysis::cost::estimate(&f)
                    };
                    log_line(&format!(
                        "{}\tcost forward {:.0} (rows in loops: {}) reverse {:.0}: {}\n",
                        self.function.sig.ident,
                        crate::analysis::cost::estimate(&f),
                        crate::analysis::cost::rows_in_loops(&f),
                        crate::analysis::cost::estimate(&r),
                        if reverse { "reverse" } else { "forward" }
                    ));
                    if reverse {
                        r
                    } else {
                        f
                    }
                }
                (Ok(f), Err(why)) => {
                    log_line(&format!("{}\treverse mode refused: {why}\n", self.function.sig.ident));
                    f
                }
                (Err(_), Ok(r)) => r,
                (Err(why), Err(_)) => return Err(why),
            },
        };
        Ok(self.print(&chosen))
    }

    fn why(problem: crate::front::Unsupported) -> String {
        problem.what
    }

    /// The front end's problems, as one reason.
    fn why_all(problems: Vec<crate::front::Unsupported>) -> String {
        problems.into_iter().map(Self::why).collect::<Vec<_>>().join("; ")
    }

    /// The body by forward mode in the new pipeline.
    fn forward(&self, returns: forward::Returns, seeding: &forward::Seeding) -> Result<TokenStream, String> {
        let primal = self.primal.clone()?;
        self.emit(forward::with(&primal, self.signature, self.krate, returns, seeding).map_err(Self::why))
    }

    /// The body by reverse mode in the new pipeline.
    fn reverse(&self, returns: reverse::Returns) -> Result<TokenStream, String> {
        let primal = self.primal.clone()?;
        self.emit(reverse::function(&primal, self.signature, returns).map_err(Self::why))
    }

    /// The body by forward mode over reverse mode: Hessians. For a Hessian matrix, also
    /// whether it is symmetric by construction (`symmetric::symmetrise`); if not, the
    /// caller mirrors it.
    fn second_order(
        &self,
        returns: forward::Returns,
        direction: Option<syn::Ident>,
    ) -> Result<(TokenStream, bool), String> {
        let mut primal = self.primal.clone()?;
        // A callee's parts give first derivatives only: its body is written out in place
        // where it can be (`front::lower_with`).
        let chains =
            |f: &Function| crate::ir::contains(&f.body, &|op| matches!(op, crate::ir::Op::Chain { .. }));
        if chains(&primal) {
            let inlined = front::lower_with(self.function, self.signature, true).map_err(Self::why_all)?;
            primal = Self::finish(Ok(inlined))?;
            if chains(&primal) {
                return Err("calls of other `#[jacobian]` functions, whose generated siblings give first derivatives only, unless the function called is in the same module, takes no `self` and has no generics".into());
            }
        }
        let gradient =
            reverse::function(&primal, self.signature, reverse::Returns::Gradient).map_err(Self::why)?;
        let matrix = direction.is_none();
        let seeding = forward::Seeding { direction, rows: Some(self.signature.columns.clone()) };
        let mut hessian = Self::finish(
            forward::with(&gradient, self.signature, self.krate, returns, &seeding).map_err(Self::why),
        )?;
        let symmetric = matrix && crate::symmetric::symmetrise(&mut hessian);
        // (Optimised again: the dropped updates below the diagonal leave dead code.)
        Ok((self.emit(Ok(hessian))?, symmetric))
    }

    /// Where no body could be made: the error (unless there are errors already, which say
    /// why) and a placeholder body, never emitted (`expand` emits only the errors then).
    fn unable(&self, why: &str) -> TokenStream {
        if !self.diagnostics.has_errors() {
            self.diagnostics.error_at(
                &self.function.sig.ident,
                format!("`#[jacobian]` cannot differentiate this function yet: it does not take {why}; see “What a body may contain” in the README"),
            );
        }
        quote!(loop {})
    }

    /// A body computing `(value, Jacobian)` by forward mode.
    fn value_and_jacobian(&self) -> TokenStream {
        let plain = forward::Seeding::default();
        match self.forward(forward::Returns::ValueAndJacobian, &plain) {
            Ok(body) => body,
            Err(why) => self.unable(&why),
        }
    }

    fn body(&self, kind: Kind) -> TokenStream {
        let plain = forward::Seeding::default();
        let krate = self.krate;
        let (value, jacobian) = (
            format_ident!("value", span = Span::mixed_site()),
            format_ident!("jacobian", span = Span::mixed_site()),
        );
        let chosen = match kind {
            Kind::Jacobian | Kind::ValueAndJacobian => {
                let body = self.jacobian(kind);
                return body.unwrap_or_else(|why| self.unable(&why));
            }
            Kind::Parts => {
                let body = self.forward(forward::Returns::Parts, &plain);
                return body.unwrap_or_else(|why| self.unable(&why));
            }
            Kind::Jvp => {
                let v = extra_parameter("v");
                let seeding = forward::Seeding { direction: Some(v.clone()), rows: None };
                self.forward(forward::Returns::ValueAndJacobian, &seeding).map_err(|_| {
                    let body = self.value_and_jacobian();
                    quote! {
                        let (#value, #jacobian) = (|| { #body })();
                        (#value, #jacobian * #v)
                    }
                })
            }
            Kind::Vjp => {
                let u = extra_parameter("u");
                self.reverse(reverse::Returns::Vjp(u.clone())).map_err(|_| {
                    let body = self.value_and_jacobian();
                    quote! {
                        let (#value, #jacobian) = (|| { #body })();
                        (#value, #jacobian.transpose() * #u)
                    }
                })
            }
            // Exactly symmetric, as solvers expect (`mirror_upper`).
            Kind::Hessian => self
                .second_order(forward::Returns::Jacobian, None)
                .map(|(body, symmetric)| {
                    if symmetric {
                        return body;
                    }
                    let hessian = format_ident!("hessian", span = Span::mixed_site());
                    quote! {
                        let mut #hessian = { #body };
                        #krate::__private::mirror_upper(&mut #hessian);
                        #hessian
                    }
                })
                .map_err(|why| self.refuse("hessian", &why)),
            Kind::ValueGradientHessian => self
                .second_order(forward::Returns::ValueGradientHessian, None)
                .map(|(body, symmetric)| {
                    if symmetric {
                        return body;
                    }
                    let (gradient, hessian) = (
                        format_ident!("gradient", span = Span::mixed_site()),
                        format_ident!("hessian", span = Span::mixed_site()),
                    );
                    quote! {
                        let (#value, #gradient, mut #hessian) = { #body };
                        #krate::__private::mirror_upper(&mut #hessian);
                        (#value, #gradient, #hessian)
                    }
                })
                .map_err(|why| self.refuse("hessian", &why)),
            Kind::Hvp => self
                .second_order(forward::Returns::Jacobian, Some(extra_parameter("v")))
                .map(|(body, _)| body)
                .map_err(|why| self.refuse("hvp", &why)),
        };
        chosen.unwrap_or_else(|fallback| fallback)
    }

    /// Second order is made by the new pipeline only: where it cannot take the function,
    /// the option is refused with the reason.
    fn refuse(&self, option: &str, why: &str) -> TokenStream {
        if self.primal.is_err() && self.diagnostics.has_errors() {
            // (The front end's errors say why.)
            return quote!(loop {});
        }
        let reason = why.trim_start_matches("reverse mode: ");
        self.diagnostics.error_at(
            &self.function.sig.ident,
            format!("`{option}` is not supported for this function yet: second derivatives do not yet take {reason}. They take functions of scalars, arrays, vectors and matrices with arithmetic, matrix products, float methods, `if`, `for` loops over ranges with literal bounds, and any `for` loop that only sums, scales or writes array elements; meanwhile, write the gradient as a function and annotate it with `#[jacobian]`"),
        );
        quote!(loop {})
    }

    /// The Jacobian's entries as formulas (or its pattern), for the sibling's rustdoc; empty
    /// where they cannot be read off (`doc`).
    fn formulas(&self) -> String {
        let Ok(primal) = self.primal else { return String::new() };
        let plain = forward::Seeding::default();
        let Ok(jacobian) = Self::finish(
            forward::with(primal, self.signature, self.krate, forward::Returns::Jacobian, &plain)
                .map_err(Self::why),
        ) else {
            return String::new();
        };
        let name = self.function.sig.ident.to_string();
        crate::doc::describe(&jacobian, self.signature, name.trim_start_matches("r#")).unwrap_or_default()
    }

    /// A nalgebra-typed function's sibling keeps the user's signature and returns nalgebra
    /// matrices: its arguments (and direction) are converted on entry, the translated body
    /// runs in a closure (its `return`s stay its own), and its result is converted back.
    /// Returns the parameters, the extra parameter, the result type and the body.
    fn nalgebra_boundary(
        &self,
        nalgebra: &crate::nalgebra::Nalgebra,
        kind: Kind,
        body: TokenStream,
        translated: TokenStream,
    ) -> (
        syn::punctuated::Punctuated<syn::FnArg, syn::Token![,]>,
        Option<TokenStream>,
        TokenStream,
        TokenStream,
    ) {
        let (krate, ty) = (self.krate, &self.signature.scalar.tokens);
        let (rows, cols) = (self.signature.rows.type_arg(), self.signature.columns.type_arg());
        let one = quote!(1);
        let value = match &nalgebra.original.sig.output {
            syn::ReturnType::Type(_, ty) => ty.to_token_stream(),
            syn::ReturnType::Default => quote!(()),
        };
        let result = format_ident!("result", span = Span::mixed_site());
        let part = |k: usize| {
            let k = syn::Index::from(k);
            quote!(#result.#k)
        };
        let na_type = |r: &TokenStream, c: &TokenStream| nalgebra.matrix_type(ty, r, c);
        let na = |value: TokenStream, r: &TokenStream, c: &TokenStream| nalgebra.matrix(value, ty, r, c);
        let (direction, ret, converted) = match kind {
            Kind::Jacobian | Kind::Parts => (None, na_type(&rows, &cols), na(quote!(#result), &rows, &cols)),
            Kind::ValueAndJacobian => (
                None,
                {
                    let m = na_type(&rows, &cols);
                    quote!((#value, #m))
                },
                {
                    let (v, m) = (nalgebra.value(part(0)), na(part(1), &rows, &cols));
                    quote!((#v, #m))
                },
            ),
            Kind::Jvp | Kind::Vjp => {
                let (name, n, m) = if kind == Kind::Jvp { ("v", &cols, &rows) } else { ("u", &rows, &cols) };
                let m_type = na_type(m, &one);
                let (v, j) = (nalgebra.value(part(0)), na(part(1), m, &one));
                (Some((extra_parameter(name), n.clone())), quote!((#value, #m_type)), quote!((#v, #j)))
            }
            Kind::Hessian => (None, na_type(&cols, &cols), na(quote!(#result), &cols, &cols)),
            Kind::ValueGradientHessian => {
                let (g, h) = (na_type(&one, &cols), na_type(&cols, &cols));
                let (v, gv, hv) =
                    (nalgebra.value(part(0)), na(part(1), &one, &cols), na(part(2), &cols, &cols));
                (None, quote!((#value, #g, #h)), quote!((#v, #gv, #hv)))
            }
            Kind::Hvp => (
                Some((extra_parameter("v"), cols.clone())),
                na_type(&cols, &one),
                na(quote!(#result), &cols, &one),
            ),
        };
        let extra = direction.as_ref().map(|(name, n)| {
            let ty = na_type(n, &one);
            quote!(#name: #ty)
        });
        let entry = nalgebra
            .entry(krate, direction.as_ref().map(|(name, n)| (name, quote!(#krate::Vector<#n, #ty>))));
        let body = quote! {
            #entry
            let #result: #translated = (|| { #body })();
            #converted
        };
        (nalgebra.original.sig.inputs.clone(), extra, ret, body)
    }

    /// For a function returning a reference (`-> &[f64; 3]`, into its arguments), the
    /// value a sibling returns is the user's function's own: the derivative code computes
    /// the value, not the reference.
    fn value_by_reference(&self, kind: Kind, body: TokenStream) -> TokenStream {
        let sig = &self.function.sig;
        let by_reference =
            matches!(&sig.output, syn::ReturnType::Type(_, ty) if matches!(**ty, syn::Type::Reference(_)));
        let arity = match kind {
            _ if !by_reference => return body,
            Kind::ValueAndJacobian | Kind::Jvp | Kind::Vjp => 2,
            Kind::ValueGradientHessian => 3,
            Kind::Parts => 1 + self.signature.positions.len(),
            Kind::Jacobian | Kind::Hessian | Kind::Hvp => return body,
        };
        let mut args = Vec::new();
        let mut receiver = false;
        for input in &sig.inputs {
            match input {
                syn::FnArg::Receiver(_) => receiver = true,
                syn::FnArg::Typed(typed) => match &*typed.pat {
                    syn::Pat::Ident(p) => args.push(p.ident.clone()),
                    _ => return body,
                },
            }
        }
        let name = &sig.ident;
        let call = if receiver { quote!(self.#name(#(#args),*)) } else { quote!(#name(#(#args),*)) };
        let parts = format_ident!("parts", span = Span::mixed_site());
        let rest = (1..arity).map(syn::Index::from);
        quote! {
            let #parts = { #body };
            (#call, #(#parts.#rest),*)
        }
    }

    fn sibling(&self, kind: Kind, name: syn::Ident) -> TokenStream {
        let (function, signature, krate) = (self.function, self.signature, self.krate);
        let body = self.body(kind);
        // (A parameter left constant whose type is a `Differentiable` struct the macro did
        // not find is a compile error, not a Jacobian without its columns.)
        let body = if kind == Kind::Jacobian && self.options.wrt.is_none() {
            let unseen = crate::structs::unseen(function, signature, krate);
            quote!(#unseen #body)
        } else {
            body
        };
        let original = &function.sig.ident;
        let ty = &signature.scalar.tokens;
        let (rows, cols) = (signature.rows.type_arg(), signature.columns.type_arg());
        let matrix = quote!(#krate::Matrix<#rows, #cols, #ty>);
        let wrt: Vec<String> = signature.inputs.iter().map(|i| format!("`{}`", i.ident)).collect();
        let wrt = wrt.join(", ");
        let value = match &function.sig.output {
            syn::ReturnType::Type(_, ty) => ty.to_token_stream(),
            syn::ReturnType::Default => quote!(()),
        };
        let mut extra = None;
        let (ret, doc) = match kind {
            Kind::Jacobian => (
                matrix,
                format!(" The Jacobian of [`{original}`] with respect to {wrt}: row `i` is output component `i`, column `k` the `k`-th input component. Generated by `#[jacobian]`.{}", self.formulas()),
            ),
            Kind::ValueAndJacobian => (
                quote!((#value, #matrix)),
                format!(" The value of [`{original}`] and its Jacobian with respect to {wrt}, sharing the work. Generated by `#[jacobian]`."),
            ),
            Kind::Jvp => {
                let v = extra_parameter("v");
                extra = Some(quote!(#v: #krate::Vector<#cols, #ty>));
                (
                    quote!((#value, #krate::Vector<#rows, #ty>)),
                    format!(" The value of [`{original}`] and J·v, its Jacobian with respect to {wrt} times the direction `v` (the last parameter), without forming J. Generated by `#[jacobian]`."),
                )
            }
            Kind::Vjp => {
                let u = extra_parameter("u");
                extra = Some(quote!(#u: #krate::Vector<#rows, #ty>));
                (
                    quote!((#value, #krate::Vector<#cols, #ty>)),
                    format!(" The value of [`{original}`] and Jᵀ·u, its transposed Jacobian with respect to {wrt} times `u` (the last parameter), without forming J. Generated by `#[jacobian]`."),
                )
            }
            Kind::Hessian => (
                quote!(#krate::Matrix<#cols, #cols, #ty>),
                format!(" The Hessian of [`{original}`] with respect to {wrt}: rows and columns follow the Jacobian's columns. Generated by `#[jacobian]`."),
            ),
            Kind::ValueGradientHessian => (
                quote!((#value, #krate::Matrix<1, #cols, #ty>, #krate::Matrix<#cols, #cols, #ty>)),
                format!(" The value of [`{original}`], its gradient (as the Jacobian's row) and its Hessian with respect to {wrt}, from one sweep. Generated by `#[jacobian]`."),
            ),
            Kind::Hvp => {
                let v = extra_parameter("v");
                extra = Some(quote!(#v: #krate::Vector<#cols, #ty>));
                (
                    quote!(#krate::Vector<#cols, #ty>),
                    format!(" H·v, the Hessian of [`{original}`] with respect to {wrt} times the direction `v` (the last parameter), without forming H. Generated by `#[jacobian]`."),
                )
            }
            Kind::Parts => {
                let mut parts = vec![value];
                for position in &signature.positions {
                    parts.push(match position {
                        Some(block) => {
                            let cols = signature.inputs[*block].shape.len().type_arg();
                            quote!(#krate::Matrix<#rows, #cols, #ty>)
                        }
                        None => quote!(#krate::__private::NotDifferentiated),
                    });
                }
                (quote!((#(#parts),*)), String::new())
            }
        };
        let body = self.value_by_reference(kind, body);
        let doc = match self.structs {
            Some(structs) => structs.readable(&doc),
            None => doc,
        };
        let doc = if doc.is_empty() { quote!(#[doc(hidden)]) } else { quote!(#[doc = #doc]) };
        let attrs = function.attrs.iter().filter(|a| !a.path().is_ident("doc") && !a.path().is_ident("test"));
        let vis = &function.vis;
        let sig = &function.sig;
        let generics = &sig.generics;
        let where_clause = &sig.generics.where_clause;
        let (inputs, extra, ret, body) = match self.nalgebra {
            Some(nalgebra) if kind != Kind::Parts => self.nalgebra_boundary(nalgebra, kind, body, ret),
            _ => (sig.inputs.clone(), extra, ret, body),
        };
        let (inputs, ret, body) = match self.structs {
            Some(structs) if kind != Kind::Parts => {
                let returns_value = match kind {
                    Kind::ValueAndJacobian | Kind::Jvp | Kind::Vjp => Some(2),
                    Kind::ValueGradientHessian => Some(3),
                    Kind::Jacobian | Kind::Hessian | Kind::Hvp | Kind::Parts => None,
                };
                structs.boundary(returns_value, ret, body)
            }
            _ => (inputs, ret, body),
        };
        let comma = (!inputs.empty_or_trailing() && extra.is_some()).then(|| quote!(,));
        quote! {
            #doc
            #(#attrs)*
            #[allow(dead_code, unused_variables, unused_mut, unused_assignments, unused_parens, unused_braces, unused_must_use, unreachable_code, non_snake_case, clippy::all, clippy::pedantic, clippy::nursery)]
            #vis fn #name #generics (#inputs #comma #extra) -> #ret #where_clause {
                #body
            }
        }
    }
}
