//! Owns `#[derive(Differentiable)]`: which structs can be differentiated as a whole (named
//! fields, each a differentiable type, one scalar type, no generics), and their
//! `Differentiable` impl (the number of components, and the conversions to and from one
//! column of them in field order). The `#[jacobian]` attribute reads the same struct's
//! fields from its source (`callees::differentiable_struct`) and takes it apart with
//! `structs`, which uses [`fields`] so that both agree on what a field is.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;

use crate::shape::{Dim, Shape};
use crate::signature::ScalarType;

/// One field of a differentiable struct: its name, type as written and shape.
pub struct Field {
    pub ident: syn::Ident,
    pub ty: syn::Type,
    pub shape: Shape,
}

/// The fields of a struct that can be differentiated as a whole, with their one scalar
/// type; or the error that says why not, at the offending span.
pub fn fields(item: &syn::ItemStruct) -> syn::Result<(Vec<Field>, ScalarType)> {
    if !item.generics.params.is_empty() {
        return Err(syn::Error::new(
            item.generics.span(),
            "`Differentiable` is not supported on a generic struct yet; write its fields with concrete types (`f64`, `[f64; 3]`, `Vector<3>`) and sizes that are literals or `const` items",
        ));
    }
    let syn::Fields::Named(named) = &item.fields else {
        return Err(syn::Error::new(
            item.fields.span(),
            "`Differentiable` needs a struct with named fields (`struct State { p: [f64; 3], m: f64 }`), whose names the differentiated code reads",
        ));
    };
    if named.named.is_empty() {
        return Err(syn::Error::new(
            item.ident.span(),
            "`Differentiable` needs at least one field to differentiate",
        ));
    }
    let mut out = Vec::new();
    let mut scalar: Option<ScalarType> = None;
    for field in &named.named {
        let ident = field.ident.clone().expect("named fields have names");
        let unsupported = || {
            syn::Error::new(
                field.ty.span(),
                format!(
                    "field `{ident}` of type `{}` cannot be differentiated; the fields of a `Differentiable` struct are `f64` or `f32`, arrays `[T; N]` and `[[T; C]; R]`, `Vector<N, T>` or `Matrix<R, C, T>`, with sizes that are literals or `const` items",
                    readable(&field.ty)
                ),
            )
        };
        if matches!(field.ty, syn::Type::Reference(_)) {
            return Err(unsupported());
        }
        let Some((shape, found)) = crate::signature::shape_of(&field.ty, &syn::Generics::default()) else {
            return Err(unsupported());
        };
        if found.generic {
            return Err(unsupported());
        }
        match &scalar {
            Some(s) if s.tokens.to_string() != found.tokens.to_string() => {
                return Err(syn::Error::new(
                    field.ty.span(),
                    format!(
                        "field `{ident}` has scalar type `{}` but an earlier field has `{}`; a `Differentiable` struct has one scalar type",
                        found.tokens, s.tokens
                    ),
                ));
            }
            Some(_) => {}
            None => scalar = Some(found),
        }
        out.push(Field { ident, ty: field.ty.clone(), shape });
    }
    Ok((out, scalar.expect("at least one field")))
}

/// The number of components of a struct with these fields, as a constant expression.
pub fn components(fields: &[Field]) -> Dim {
    fields.iter().fold(Dim::Lit(0), |n, f| n.add(&f.shape.len()))
}

/// `#[derive(Differentiable)]`.
pub fn derive(input: TokenStream) -> TokenStream {
    let item: syn::ItemStruct = match syn::parse2(input.clone()) {
        Ok(item) => item,
        Err(_) => {
            let span = syn::parse2::<syn::DeriveInput>(input)
                .map_or(proc_macro2::Span::call_site(), |d| d.ident.span());
            return syn::Error::new(
                span,
                "`Differentiable` can be derived for a struct with named fields only (not an enum or a union)",
            )
            .to_compile_error();
        }
    };
    let krate = match krate(&item) {
        Ok(krate) => krate,
        Err(e) => return e.to_compile_error(),
    };
    let (fields, scalar) = match fields(&item) {
        Ok(found) => found,
        Err(e) => return e.to_compile_error(),
    };
    let name = &item.ident;
    let scalar = &scalar.tokens;
    let count = components(&fields).value();
    let c = format_ident!("components", span = proc_macro2::Span::mixed_site());
    let k = format_ident!("k", span = proc_macro2::Span::mixed_site());
    let (i, j) = (
        format_ident!("i", span = proc_macro2::Span::mixed_site()),
        format_ident!("j", span = proc_macro2::Span::mixed_site()),
    );
    let mut write = Vec::new();
    let mut read = Vec::new();
    for field in &fields {
        let f = &field.ident;
        let len = field.shape.len().value();
        write.push(match &field.shape {
            Shape::Scalar => quote!(#c[#k] = self.#f; #k += 1;),
            Shape::Array(_) | Shape::Vector(_) | Shape::Matrix(..) => {
                quote!(for v in self.#f.iter() { #c[#k] = *v; #k += 1; })
            }
            Shape::Nested(..) => quote!(for v in self.#f.iter().flatten() { #c[#k] = *v; #k += 1; }),
        });
        let value = match &field.shape {
            Shape::Scalar => quote!(#c[#k]),
            Shape::Array(_) => quote!(::core::array::from_fn(|#i| #c[#k + #i])),
            Shape::Nested(_, cols) => {
                let cols = cols.value();
                quote!(::core::array::from_fn(|#i| ::core::array::from_fn(|#j| #c[#k + #i * #cols + #j])))
            }
            Shape::Vector(_) => quote!(#krate::Matrix::from_fn(|#i, _| #c[#k + #i])),
            Shape::Matrix(_, cols) => {
                let cols = cols.value();
                quote!(#krate::Matrix::from_fn(|#i, #j| #c[#k + #i * #cols + #j]))
            }
        };
        let span = field.ty.span();
        read.push(quote_spanned!(span=> let #f = #value; #k += #len;));
    }
    let names = fields.iter().map(|f| &f.ident);
    quote! {
        #[automatically_derived]
        impl #krate::Differentiable for #name {
            type Scalar = #scalar;
            type Components = #krate::Vector<{ #count }, #scalar>;
            const COMPONENTS: usize = #count;
            #[allow(unused_assignments, clippy::all)]
            fn to_components(&self) -> Self::Components {
                let mut #c: [#scalar; #count] = [0.0; #count];
                let mut #k = 0usize;
                #(#write)*
                #krate::Vector::from(#c)
            }
            #[allow(unused_assignments, clippy::all)]
            fn from_components(#c: &Self::Components) -> Self {
                let mut #k = 0usize;
                #(#read)*
                Self { #(#names),* }
            }
        }
    }
}

/// The runtime's path: `::jacobian`, or the struct's `#[differentiable(crate = path)]`.
fn krate(item: &syn::ItemStruct) -> syn::Result<TokenStream> {
    let mut krate = quote!(::jacobian);
    for attr in item.attrs.iter().filter(|a| a.path().is_ident("differentiable")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("crate") {
                let path: syn::Path = meta.value()?.parse()?;
                krate = path.to_token_stream();
                Ok(())
            } else {
                Err(meta.error("unknown option of `#[differentiable(…)]`; the one option is `crate = path`"))
            }
        })?;
    }
    Ok(krate)
}

/// A type as the user wrote it, without the token printer's spaces (`Vec<f64>`).
fn readable(ty: &syn::Type) -> String {
    let text = ty.to_token_stream().to_string();
    text.replace(" < ", "<").replace(" <", "<").replace("< ", "<").replace(" >", ">").replace(" ,", ",")
}
