//! The WIT enumerations as the HTTP API's JSON enums, generated into
//! `crates/server/src/dto/enums.rs`: one Rust enum per WIT enum the API shows,
//! its values in the WIT's kebab-case, its docs from the WIT's `///`
//! comments, and `From` both ways to the binding type. A case added in WIT
//! reaches the API by regenerating this file (a test fails while it is
//! stale), never by editing a mirror.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context as _, Result, bail};
use wit_parser::{Docs, Enum, Resolve, TypeDef, TypeDefKind, TypeOwner};

use crate::wit_docs::load_package;

/// The command that regenerates the file, quoted in its header and in the
/// staleness test's message.
pub const REGENERATE: &str =
    "cargo run -q -p order-e2e --bin wit-docs -- --rust-enums --out crates/server/src/dto/enums.rs";

/// The WIT enums the API shows, as (interface, enum).
pub const API_ENUMS: &[(&str, &str)] = &[
    ("types", "payment-method"),
    ("types", "carrier-code"),
    ("types", "return-reason"),
    ("types", "refund-status"),
    ("types", "order-status"),
    ("types", "shipment-status"),
    ("types", "shipment-state"),
    ("types", "return-status"),
    ("fulfillment-saga", "saga-step"),
    ("fulfillment-saga", "step-status"),
    ("fulfillment-saga", "saga-phase"),
];

/// The Rust source of the API's enums for the package in `dir`.
pub fn render_dir(dir: &Path) -> Result<String> {
    let (resolve, _, _) = load_package(dir)?;
    render(&resolve)
}

/// Writes the opening of a generated DTO file: the do-not-edit line naming
/// the `regenerate` command, the `summary` module doc lines, and the serde
/// and utoipa imports every generated file needs, then one blank line.
pub(crate) fn header(out: &mut String, regenerate: &str, summary: &str) {
    let _ = writeln!(
        out,
        "// Generated from wit/ by `{regenerate}`; do not edit.\n\
         {summary}\n\
         \n\
         use serde::{{Deserialize, Serialize}};\n\
         use utoipa::ToSchema;\n"
    );
}

/// The Rust source of the API's enums; ends with one newline.
pub fn render(resolve: &Resolve) -> Result<String> {
    let mut out = String::new();
    header(
        &mut out,
        REGENERATE,
        "//! The WIT enumerations as JSON: kebab-case values, `From` both ways.",
    );
    let _ = writeln!(
        out,
        "use order_runtime::bindings::fulfillment_saga as wit_saga;\n\
         use order_runtime::bindings::types as wit_types;\n"
    );
    for (iface, name) in API_ENUMS {
        let (ty, e) = find_enum(resolve, iface, name)?;
        let rust = camel(name);
        let module = match *iface {
            "types" => "wit_types",
            "fulfillment-saga" => "wit_saga",
            other => bail!("no alias for interface {other}"),
        };
        let path = format!("{module}::{rust}");
        docs(&mut out, "", &ty.docs);
        let _ = writeln!(
            out,
            "#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]\n\
             #[serde(rename_all = \"kebab-case\")]\n\
             pub enum {rust} {{"
        );
        for case in &e.cases {
            docs(&mut out, "    ", &case.docs);
            let _ = writeln!(out, "    {},", camel(&case.name));
        }
        let _ = writeln!(out, "}}\n");
        for (from, to) in [(&rust, &path), (&path, &rust)] {
            from_impl(&mut out, from, to, e);
            out.push('\n');
        }
    }
    let trimmed = out.trim_end().to_string();
    Ok(trimmed + "\n")
}

/// `impl From<FROM> for TO`, case by case of `e` (the two types have the same
/// cases, named alike).
pub(crate) fn from_impl(out: &mut String, from: &str, to: &str, e: &Enum) {
    let _ = writeln!(
        out,
        "impl From<{from}> for {to} {{\n    fn from(value: {from}) -> Self {{\n        match value {{"
    );
    for case in &e.cases {
        let c = camel(&case.name);
        let _ = writeln!(out, "            {from}::{c} => {to}::{c},");
    }
    let _ = writeln!(out, "        }}\n    }}\n}}");
}

/// The type `name` of the interface `iface`.
pub(crate) fn find_type<'a>(resolve: &'a Resolve, iface: &str, name: &str) -> Result<&'a TypeDef> {
    resolve
        .types
        .iter()
        .map(|(_, t)| t)
        .find(|t| {
            t.name.as_deref() == Some(name)
                && matches!(t.owner, TypeOwner::Interface(i)
                    if resolve.interfaces[i].name.as_deref() == Some(iface))
        })
        .with_context(|| format!("no type {name} in interface {iface}"))
}

/// The enum `name` of the interface `iface`, with its type definition.
pub(crate) fn find_enum<'a>(
    resolve: &'a Resolve,
    iface: &str,
    name: &str,
) -> Result<(&'a TypeDef, &'a Enum)> {
    let ty = find_type(resolve, iface, name)?;
    let TypeDefKind::Enum(e) = &ty.kind else {
        bail!("{iface}.{name} is not an enum");
    };
    Ok((ty, e))
}

/// `payment-method` -> `PaymentMethod`.
pub(crate) fn camel(kebab: &str) -> String {
    kebab
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The WIT `///` comments as Rust doc comments, indented by `indent`.
pub(crate) fn docs(out: &mut String, indent: &str, docs: &Docs) {
    if let Some(text) = docs.contents.as_deref().map(str::trim) {
        for line in text.lines() {
            let line = line.trim_end();
            if line.is_empty() {
                let _ = writeln!(out, "{indent}///");
            } else {
                let _ = writeln!(out, "{indent}/// {line}");
            }
        }
    }
}
