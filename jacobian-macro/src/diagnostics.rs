//! Owns error collection: every problem is recorded with its span and all of them are
//! reported together, as serde_derive's `Ctxt` does. Nothing in the macro panics.

use proc_macro2::TokenStream;
use std::cell::RefCell;
use std::fmt::Display;

#[derive(Default)]
pub struct Diagnostics {
    errors: RefCell<Vec<syn::Error>>,
}

impl Diagnostics {
    pub fn error_at<T: quote::ToTokens, M: Display>(&self, tokens: T, message: M) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    pub fn push(&self, error: syn::Error) {
        self.errors.borrow_mut().push(error);
    }

    /// Starts a stretch whose errors are dropped (a trial lowering); returns the count to
    /// give back to `unmute`.
    pub fn mute(&self) -> usize {
        self.errors.borrow().len()
    }

    /// Drops every error recorded since `mute`.
    pub fn unmute(&self, mark: usize) {
        self.errors.borrow_mut().truncate(mark);
    }

    pub fn has_errors(&self) -> bool {
        !self.errors.borrow().is_empty()
    }

    pub fn to_compile_errors(&self) -> TokenStream {
        self.errors.borrow().iter().map(syn::Error::to_compile_error).collect()
    }
}
