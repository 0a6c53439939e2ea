//! Owns what a function knows of the other `#[jacobian]` functions it calls: their
//! signatures, read from the source file the function is written in.
//!
//! A call's result type is not written at the call (`let h = layer(w, b, x);`), and an
//! attribute sees only its own item. Rust offers a macro no channel to its siblings that
//! works both in modules and in `impl` blocks, so the macro reads them where rustc does:
//! the file holding the function (`Span::local_file`, stable since Rust 1.88), parsed once
//! per file and compilation. Only the signatures of annotated functions are kept, by name;
//! a name annotated twice in one file (in two modules) is left out as ambiguous. Where the
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

/// The annotated functions of one file: name → signature text (`None` when ambiguous).
type Signatures = BTreeMap<String, Option<String>>;

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
}

impl Callees {
    /// Those of the file `at` is in; none where it cannot be read.
    pub fn of(at: proc_macro2::Span) -> Callees {
        let signatures = at.local_file().and_then(|path| read(&path)).unwrap_or_default();
        Callees { signatures }
    }

    /// The annotated function `name` (its attributes and signature, with an empty body),
    /// if it is the only one of that name in the file.
    pub fn get(&self, name: &str) -> Option<syn::ItemFn> {
        let text = self.signatures.get(name)?.as_ref()?;
        syn::parse_str(text).ok()
    }
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
    let mut collect = Collect { signatures: Signatures::new() };
    collect.visit_file(&file);
    let signatures = Rc::new(collect.signatures);
    FILES.with(|files| files.borrow_mut().insert(path.clone(), (len, modified, signatures.clone())));
    Some(signatures)
}

/// Whether an attribute is `#[jacobian]` or `#[jacobian(…)]` (by any path ending so).
pub fn is_jacobian(attr: &syn::Attribute) -> bool {
    attr.path().segments.last().is_some_and(|s| s.ident == "jacobian")
}

struct Collect {
    signatures: Signatures,
}

impl Collect {
    fn add(&mut self, attrs: &[syn::Attribute], sig: &syn::Signature) {
        if !attrs.iter().any(is_jacobian) {
            return;
        }
        // Without the doc comments (long, and of no use here).
        let attrs = attrs.iter().filter(|a| !a.path().is_ident("doc"));
        let text = format!("{} {} {{}}", quote::quote!(#(#attrs)*), sig.to_token_stream());
        let name = sig.ident.to_string();
        let entry = self.signatures.entry(name).or_insert_with(|| Some(text.clone()));
        if entry.as_deref() != Some(text.as_str()) {
            *entry = None;
        }
    }
}

impl<'ast> Visit<'ast> for Collect {
    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        self.add(&item.attrs, &item.sig);
        syn::visit::visit_item_fn(self, item);
    }

    fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
        self.add(&item.attrs, &item.sig);
        syn::visit::visit_impl_item_fn(self, item);
    }

    // (Bodies are visited for the functions defined inside them; expressions need not be.)
    fn visit_expr(&mut self, _: &'ast syn::Expr) {}
}
