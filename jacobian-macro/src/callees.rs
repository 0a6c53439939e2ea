//! Owns what a function knows of the other `#[jacobian]` functions it calls: their
//! signatures, read from the source file the function is written in.
//!
//! A call's result type is not written at the call (`let h = layer(w, b, x);`), and an
//! attribute sees only its own item. Rust offers a macro no channel to its siblings that
//! works both in modules and in `impl` blocks, so the macro reads them where rustc does:
//! the file holding the function (`Span::local_file`, stable since Rust 1.88), parsed once
//! per file and compilation. The signatures of annotated functions are kept, by name, and
//! the names of the others (plain helpers, which a differentiated value must not be passed
//! to); a name used twice in one file in different ways is left out as ambiguous. Where the
//! file cannot be read (an older compiler, a function made by another macro, rust-analyzer)
//! or the callee is elsewhere, nothing is known and the caller falls back to what the
//! context of the call shows (`front`). The result is a pure function of the file's text,
//! so expansion stays deterministic.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::rc::Rc;

use quote::ToTokens;
use syn::visit::Visit;

/// What one name is in a file.
#[derive(Clone, PartialEq)]
enum Known {
    /// An annotated function: its attributes and signature, as text.
    Annotated(String),
    /// Only functions (or methods) without the attribute.
    Plain,
    /// Annotated and not, or annotated with two signatures (in two modules).
    Ambiguous,
}

/// What one file holds: its functions by name, and the annotated functions at module
/// level (not in an `impl`, not in a function's body) by name, with their module (the
/// path of inline `mod`s) and whole text (signature and body); the same for each of its
/// documentation examples.
#[derive(Default)]
struct Signatures {
    known: BTreeMap<String, Known>,
    module_level: BTreeMap<String, Vec<(Vec<String>, String)>>,
    /// The structs that derive `Differentiable`, by name: their text, once per definition.
    structs: BTreeMap<String, Vec<String>>,
    /// Free functions only (not methods), as `known`: what other files tell a caller.
    free: BTreeMap<String, Known>,
    /// The `const` and `static` items, by name: their type and value as text, `None`
    /// where two items of one name differ.
    constants: BTreeMap<String, Option<(String, String)>>,
    /// What each documentation example of the file (or of Markdown it includes) holds:
    /// rustdoc compiles each apart, with spans in this file.
    examples: Vec<Rc<Signatures>>,
}

/// A file as read: its length and modification time then, and what it holds.
type Read = (u64, Option<std::time::SystemTime>, Rc<Signatures>);

thread_local! {
    /// Per file, as last read. Only text is kept: a proc macro's spans and token streams
    /// die with its invocation.
    static FILES: RefCell<BTreeMap<PathBuf, Read>> = const { RefCell::new(BTreeMap::new()) };
}

/// The signatures of the annotated functions in the file that holds `at`.
pub struct Callees {
    signatures: Rc<Signatures>,
    /// The file's path, and the free functions of the crate's other `src` files (read
    /// when a name is not in the file).
    path: Option<PathBuf>,
    elsewhere: std::cell::OnceCell<BTreeMap<String, Known>>,
}

impl Callees {
    /// Those of the file `at` is in; none where it cannot be read.
    /// Those of the file `at` is in, for the function `caller` there: where `caller` is
    /// no annotated function of the file but of one documentation example (a doctest),
    /// that example's.
    pub fn of(at: proc_macro2::Span, caller: &syn::Signature) -> Callees {
        let path = at.local_file().map(resolve);
        let mut signatures = path.as_ref().and_then(read).unwrap_or_default();
        let name = caller.ident.to_string();
        if !matches!(signatures.known.get(&name), Some(Known::Annotated(_))) {
            let defining: Vec<&Rc<Signatures>> = signatures
                .examples
                .iter()
                .filter(|example| matches!(example.known.get(&name), Some(Known::Annotated(_))))
                .collect();
            // (Of several examples defining a function of that name, the one whose
            // signature is the caller's.)
            let signature = caller.to_token_stream().to_string();
            let same = |example: &&&Rc<Signatures>| matches!(example.known.get(&name), Some(Known::Annotated(text)) if text.contains(&signature));
            let chosen = match defining.as_slice() {
                [only] => Some(*only),
                several => match several.iter().filter(same).collect::<Vec<_>>().as_slice() {
                    [only] => Some(**only),
                    _ => None,
                },
            };
            if let Some(example) = chosen {
                signatures = example.clone();
            }
        }
        Callees { signatures, path, elsewhere: std::cell::OnceCell::new() }
    }

    /// What `name` is: in the file, else among the free functions of the crate's other
    /// `src` files (a helper in another module), where it is one of a kind there.
    fn known(&self, name: &str) -> Option<&Known> {
        if let Some(known) = self.signatures.known.get(name) {
            return Some(known);
        }
        let elsewhere = self.elsewhere.get_or_init(|| {
            let mut merged: BTreeMap<String, Known> = BTreeMap::new();
            for file in crate_files(self.path.as_ref()).iter().filter(|f| Some(*f) != self.path.as_ref()) {
                let Some(signatures) = read(file) else { continue };
                for (name, known) in &signatures.free {
                    let entry = merged.entry(name.clone()).or_insert_with(|| known.clone());
                    if entry != known {
                        *entry = Known::Ambiguous;
                    }
                }
            }
            merged
        });
        elsewhere.get(name)
    }

    /// The annotated function `name` (its attributes and signature, with an empty body),
    /// if it is the only function of that name in the file (or, when the file has none,
    /// among the free functions of the crate's other files).
    pub fn get(&self, name: &str) -> Option<syn::ItemFn> {
        let Some(Known::Annotated(text)) = self.known(name) else { return None };
        syn::parse_str(text).ok()
    }

    /// [`get`](Self::get) for a call in `caller`: where the name is ambiguous in the file
    /// (an annotated function and a plain one of the same name in another module), the
    /// annotated function at module level in `caller`'s module, if there is one.
    pub fn get_from(&self, caller: &str, name: &str) -> Option<syn::ItemFn> {
        match self.signatures.known.get(name) {
            Some(Known::Ambiguous) => self.in_module_of(caller, name),
            _ => self.get(name),
        }
    }

    /// The annotated function `name` of `caller`'s module, if each is the only one of its
    /// name there.
    fn in_module_of(&self, caller: &str, name: &str) -> Option<syn::ItemFn> {
        let [(module, _)] = self.signatures.module_level.get(caller)?.as_slice() else { return None };
        let mut same = self.signatures.module_level.get(name)?.iter().filter(|(m, _)| m == module);
        let (Some((_, text)), None) = (same.next(), same.next()) else { return None };
        syn::parse_str(text).ok()
    }

    /// The type of the `const` or `static` item `name` of the file, where it has one.
    pub fn constant_type(&self, name: &str) -> Option<syn::Type> {
        let (ty, _) = self.signatures.constants.get(name)?.as_ref()?;
        syn::parse_str(ty).ok()
    }

    /// The value of the `const` item `name: usize` of the file, where it is a literal
    /// (`const L: usize = 3;`): a size that may be written either way.
    pub fn constant_size(&self, name: &str) -> Option<usize> {
        let (ty, value) = self.signatures.constants.get(name)?.as_ref()?;
        (ty == "usize").then_some(())?;
        syn::parse_str::<syn::LitInt>(value).ok()?.base10_parse().ok()
    }

    /// Whether every function (or method) called `name` in the file (or, when the file has
    /// none, every free function of that name in the crate's other files) is one without
    /// the attribute: a plain helper, which has no siblings to chain through.
    pub fn is_plain(&self, name: &str) -> bool {
        self.known(name) == Some(&Known::Plain)
    }

    /// The annotated function `callee`, whole, where it can be written into `caller` in
    /// place of the call: both are functions at module level of the same module (so every
    /// name the callee's body uses means there what it means in the caller), each the only
    /// one of its name there, and the callee takes no `self` and has no generics.
    pub fn inlinable(&self, caller: &str, callee: &str) -> Option<syn::ItemFn> {
        let [(module, _)] = self.signatures.module_level.get(caller)?.as_slice() else { return None };
        let mut same = self.signatures.module_level.get(callee)?.iter().filter(|(m, _)| m == module);
        let (Some((_, text)), None) = (same.next(), same.next()) else { return None };
        let function: syn::ItemFn = syn::parse_str(text).ok()?;
        let plain = function.sig.generics.params.is_empty()
            && function.sig.inputs.iter().all(|input| matches!(input, syn::FnArg::Typed(_)));
        plain.then_some(function)
    }
}

/// A source path as the compiler gives it, readable from here: a relative one (a workspace
/// member's file, as rustdoc's tests name it) against the package's directory or one of
/// its parents.
fn resolve(path: PathBuf) -> PathBuf {
    if path.is_absolute() || path.exists() {
        return path;
    }
    let Some(dir) = std::env::var_os("CARGO_MANIFEST_DIR") else { return path };
    let dir = PathBuf::from(dir);
    dir.ancestors().map(|d| d.join(&path)).find(|p| p.exists()).unwrap_or(path)
}

fn read(path: &PathBuf) -> Option<Rc<Signatures>> {
    let metadata = std::fs::metadata(path).ok()?;
    let (len, modified) = (metadata.len(), metadata.modified().ok());
    if let Some(known) = FILES.with(|files| {
        files.borrow().get(path).filter(|(l, m, _)| *l == len && *m == modified).map(|(_, _, s)| s.clone())
    }) {
        return Some(known);
    }
    let text = std::fs::read_to_string(path).ok()?;
    let file = syn::parse_file(&text).ok()?;
    let mut collect = Collect { signatures: Signatures::default(), module: Vec::new(), nested: 0 };
    collect.visit_file(&file);
    // Structs defined in the file's documentation examples, where rustdoc's tests (whose
    // spans point into this file) define them.
    // (An example is a file, or statements that rustdoc puts into a `main`. Markdown
    // that the file includes as documentation, `#[doc = include_str!("guide.md")]`, has
    // examples too.)
    let mut examples = doc_examples(&text);
    for included in included_markdown(&text) {
        let markdown =
            path.parent().map(|dir| dir.join(&included)).and_then(|p| std::fs::read_to_string(p).ok());
        if let Some(markdown) = markdown {
            examples.extend(markdown_examples(&markdown));
        }
    }
    for example in &examples {
        let items = match syn::parse_file(example) {
            Ok(file) => file.items,
            Err(_) => match syn::parse_str::<syn::Block>(&format!("{{ {example} }}")) {
                Ok(block) => block
                    .stmts
                    .into_iter()
                    .filter_map(|s| match s {
                        syn::Stmt::Item(item) => Some(item),
                        _ => None,
                    })
                    .collect(),
                Err(_) => Vec::new(),
            },
        };
        for item in &items {
            if let syn::Item::Struct(item) = item {
                collect.visit_item_struct(item);
            }
        }
        // The example's functions, apart: what its functions call is defined in it.
        let mut own = Collect { signatures: Signatures::default(), module: Vec::new(), nested: 0 };
        for item in &items {
            own.visit_item(item);
        }
        collect.signatures.examples.push(Rc::new(own.signatures));
    }
    let signatures = Rc::new(collect.signatures);
    FILES.with(|files| files.borrow_mut().insert(path.clone(), (len, modified, signatures.clone())));
    Some(signatures)
}

/// The code blocks of a file's doc comments (`///` and `//!` lines), with rustdoc's hidden
/// lines (`# …`) shown.
fn doc_examples(text: &str) -> Vec<String> {
    let mut markdown = String::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        if let Some(doc) = trimmed.strip_prefix("///").or_else(|| trimmed.strip_prefix("//!")) {
            markdown.push_str(doc.strip_prefix(' ').unwrap_or(doc));
            markdown.push('\n');
        }
    }
    markdown_examples(&markdown)
}

/// The `.md` files a source file includes (`include_str!("….md")`).
fn included_markdown(text: &str) -> Vec<String> {
    text.match_indices("include_str!(\"")
        .filter_map(|(k, m)| {
            let rest = &text[k + m.len()..];
            let name = &rest[..rest.find('"')?];
            name.ends_with(".md").then(|| name.to_owned())
        })
        .collect()
}

/// The fenced code blocks of a Markdown text, with rustdoc's hidden lines shown.
fn markdown_examples(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            match current.take() {
                Some(block) => out.push(block),
                None => current = Some(String::new()),
            }
            continue;
        }
        if let Some(block) = &mut current {
            let shown = if line.trim() == "#" { "" } else { line.strip_prefix("# ").unwrap_or(line) };
            block.push_str(shown);
            block.push('\n');
        }
    }
    out
}

/// Whether an attribute is `#[derive(…, Differentiable, …)]` (by any path ending so).
fn derives_differentiable(attr: &syn::Attribute) -> bool {
    if !attr.path().is_ident("derive") {
        return false;
    }
    let Ok(paths) =
        attr.parse_args_with(syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated)
    else {
        return false;
    };
    paths.iter().any(|p| p.segments.last().is_some_and(|s| s.ident == "Differentiable"))
}

/// Where a differentiable struct is looked for, and what was found.
pub enum Found {
    /// One definition (in the function's file, else in one file of the crate's `src`).
    One(Box<syn::ItemStruct>),
    /// None that derives `Differentiable`.
    None,
    /// Several of this name.
    Several,
}

/// The struct `name` that derives `Differentiable`: the one in the file `at` is in, else the
/// only one of that name in the files under the crate's `src` directory
/// (`CARGO_MANIFEST_DIR`).
pub fn differentiable_struct(at: proc_macro2::Span, name: &str) -> Found {
    let here = at.local_file().map(resolve);
    let in_file = |path: &PathBuf| -> Vec<String> {
        read(path).and_then(|s| s.structs.get(name).cloned()).unwrap_or_default()
    };
    let mut found = here.as_ref().map(in_file).unwrap_or_default();
    if found.is_empty() {
        for file in crate_files(here.as_ref()).iter().filter(|f| Some(*f) != here.as_ref()) {
            found.extend(in_file(file));
        }
    }
    found.dedup();
    match found.as_slice() {
        [] => Found::None,
        [one] => syn::parse_str(one).map_or(Found::None, |s| Found::One(Box::new(s))),
        _ => Found::Several,
    }
}

/// The files a definition used by the file `here` may be in: the crate's `src` files
/// (`CARGO_MANIFEST_DIR`), and those beside `here` where it is elsewhere (an integration
/// test's or an example's modules).
fn crate_files(here: Option<&PathBuf>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let src = std::env::var_os("CARGO_MANIFEST_DIR").map(|dir| PathBuf::from(dir).join("src"));
    if let Some(src) = &src {
        rust_files(src, &mut files, 0);
    }
    if let Some(dir) = here.and_then(|h| h.parent()) {
        let inside_src = src.as_ref().is_some_and(|src| dir.starts_with(src));
        if !inside_src {
            rust_files(dir, &mut files, 0);
        }
    }
    files
}

/// The `.rs` files under `dir`, in order (a few levels deep).
fn rust_files(dir: &std::path::Path, out: &mut Vec<PathBuf>, depth: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        let skipped =
            path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n == "target" || n.starts_with('.'));
        if skipped {
            continue;
        }
        if path.is_dir() && depth < 6 {
            rust_files(&path, out, depth + 1);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Whether an attribute is `#[jacobian]` or `#[jacobian(…)]` (by any path ending so), or
/// applies it conditionally (`#[cfg_attr(feature = "…", jacobian)]`).
pub fn is_jacobian(attr: &syn::Attribute) -> bool {
    if attr.path().segments.last().is_some_and(|s| s.ident == "jacobian") {
        return true;
    }
    let syn::Meta::List(list) = &attr.meta else { return false };
    attr.path().is_ident("cfg_attr") && mentions_jacobian(list.tokens.clone())
}

fn mentions_jacobian(tokens: proc_macro2::TokenStream) -> bool {
    tokens.into_iter().any(|tree| match tree {
        proc_macro2::TokenTree::Ident(ident) => ident == "jacobian",
        proc_macro2::TokenTree::Group(group) => mentions_jacobian(group.stream()),
        _ => false,
    })
}

/// The names of the functions a macro invocation's tokens may define (`fn name`).
fn functions_in(tokens: proc_macro2::TokenStream, out: &mut Vec<String>) {
    let mut after_fn = false;
    for tree in tokens {
        match tree {
            proc_macro2::TokenTree::Ident(ident) => {
                if after_fn {
                    out.push(ident.to_string());
                }
                after_fn = ident == "fn";
            }
            proc_macro2::TokenTree::Group(group) => {
                functions_in(group.stream(), out);
                after_fn = false;
            }
            _ => after_fn = false,
        }
    }
}

struct Collect {
    signatures: Signatures,
    /// The inline modules around the item being visited.
    module: Vec<String>,
    /// How many functions' bodies or `impl`s are around it.
    nested: usize,
}

impl Collect {
    fn add(&mut self, attrs: &[syn::Attribute], sig: &syn::Signature) -> Known {
        let known = if attrs.iter().any(is_jacobian) {
            // Without the doc comments (long, and of no use here).
            let attrs = attrs.iter().filter(|a| !a.path().is_ident("doc"));
            Known::Annotated(format!("{} {} {{}}", quote::quote!(#(#attrs)*), sig.to_token_stream()))
        } else {
            Known::Plain
        };
        let entry = self.signatures.known.entry(sig.ident.to_string()).or_insert_with(|| known.clone());
        if *entry != known {
            *entry = Known::Ambiguous;
        }
        known
    }

    fn constant(&mut self, name: &syn::Ident, ty: &syn::Type, value: &syn::Expr) {
        let ty = Some((ty.to_token_stream().to_string(), value.to_token_stream().to_string()));
        let entry = self.signatures.constants.entry(name.to_string()).or_insert_with(|| ty.clone());
        if *entry != ty {
            *entry = None;
        }
    }
}

impl<'ast> Visit<'ast> for Collect {
    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        let known = self.add(&item.attrs, &item.sig);
        if self.nested == 0 {
            let entry =
                self.signatures.free.entry(item.sig.ident.to_string()).or_insert_with(|| known.clone());
            if *entry != known {
                *entry = Known::Ambiguous;
            }
        }
        if self.nested == 0 && item.attrs.iter().any(is_jacobian) {
            let (sig, block) = (&item.sig, &item.block);
            let text = quote::quote!(#sig #block).to_string();
            self.signatures
                .module_level
                .entry(sig.ident.to_string())
                .or_default()
                .push((self.module.clone(), text));
        }
        self.nested += 1;
        syn::visit::visit_item_fn(self, item);
        self.nested -= 1;
    }

    fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
        self.add(&item.attrs, &item.sig);
        syn::visit::visit_impl_item_fn(self, item);
    }

    fn visit_item_impl(&mut self, item: &'ast syn::ItemImpl) {
        self.nested += 1;
        syn::visit::visit_item_impl(self, item);
        self.nested -= 1;
    }

    // A function a macro makes is out of sight: its name is left unknown.
    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        let mut names = Vec::new();
        functions_in(mac.tokens.clone(), &mut names);
        for name in names {
            self.signatures.known.insert(name.clone(), Known::Ambiguous);
            self.signatures.free.insert(name, Known::Ambiguous);
        }
    }

    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        self.module.push(item.ident.to_string());
        syn::visit::visit_item_mod(self, item);
        self.module.pop();
    }

    fn visit_item_struct(&mut self, item: &'ast syn::ItemStruct) {
        if item.attrs.iter().any(derives_differentiable) {
            let text = item.to_token_stream().to_string();
            self.signatures.structs.entry(item.ident.to_string()).or_default().push(text);
        }
    }

    fn visit_item_const(&mut self, item: &'ast syn::ItemConst) {
        self.constant(&item.ident, &item.ty, &item.expr);
    }

    fn visit_item_static(&mut self, item: &'ast syn::ItemStatic) {
        self.constant(&item.ident, &item.ty, &item.expr);
    }

    // (Bodies are visited for the functions defined inside them; expressions need not be.)
    fn visit_expr(&mut self, _: &'ast syn::Expr) {}
}
