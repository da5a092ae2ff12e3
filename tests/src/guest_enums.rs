//! The WIT enumerations the guest's domain shares with the contract,
//! generated twice from one source: as the domain's plain Rust enums
//! (`guest/src/domain/cases.rs`: kebab-case serde names for stored events,
//! `ALL` in the WIT's order, `as_str`, `Display`, docs from the WIT) and as
//! the bindings' `From` both ways (`guest/src/bindings/cases.rs`). A case
//! added in WIT reaches the domain and the component by regenerating them
//! (`make docs`; a test fails while either is stale), never by editing a
//! mirror.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;
use wit_parser::Resolve;

use crate::wit_docs::load_package;
use crate::wit_enums::{camel, docs, find_enum, from_impl};

/// The command that regenerates the domain's enums.
pub const REGENERATE_DOMAIN: &str =
    "cargo run -q -p order-e2e --bin wit-docs -- --domain-enums --out guest/src/domain/cases.rs";

/// The command that regenerates the bindings' conversions.
pub const REGENERATE_CONVERSIONS: &str = "cargo run -q -p order-e2e --bin wit-docs -- --guest-conversions --out guest/src/bindings/cases.rs";

/// The WIT enums the domain uses as they are, as (interface, enum, the
/// binding module's alias in `guest/src/bindings/mod.rs`).
pub const DOMAIN_ENUMS: &[(&str, &str, &str)] = &[
    ("types", "payment-method", "t"),
    ("types", "carrier-code", "t"),
    ("types", "return-reason", "t"),
    ("types", "shipment-status", "t"),
    ("types", "shipment-state", "t"),
    ("types", "return-status", "t"),
    ("types", "refund-status", "t"),
    ("types", "order-status", "t"),
    ("fulfillment-saga", "saga-step", "fs"),
];

/// The domain's enums for the package in `dir`.
pub fn render_domain_dir(dir: &Path) -> Result<String> {
    render_domain(&load_package(dir)?.0)
}

/// The bindings' conversions for the package in `dir`.
pub fn render_conversions_dir(dir: &Path) -> Result<String> {
    render_conversions(&load_package(dir)?.0)
}

/// The Rust source of the domain's enums; ends with one newline.
pub fn render_domain(resolve: &Resolve) -> Result<String> {
    let mut out = format!(
        "// Generated from wit/ by `{REGENERATE_DOMAIN}`; do not edit.\n\
         //! The enumerations the domain shares with the contract, as plain Rust:\n\
         //! the WIT's cases in the WIT's order, their kebab-case names in stored\n\
         //! events and messages.\n\
         \n\
         use std::fmt;\n\
         \n\
         use serde::{{Deserialize, Serialize}};\n"
    );
    for (iface, name, _) in DOMAIN_ENUMS {
        let (ty, e) = find_enum(resolve, iface, name)?;
        let rust = camel(name);
        out.push('\n');
        docs(&mut out, "", &ty.docs);
        let _ = writeln!(
            out,
            "#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]\n\
             #[serde(rename_all = \"kebab-case\")]\n\
             pub enum {rust} {{"
        );
        for case in &e.cases {
            docs(&mut out, "    ", &case.docs);
            let _ = writeln!(out, "    {},", camel(&case.name));
        }
        let _ = writeln!(
            out,
            "}}\n\nimpl {rust} {{\n    /// Every case, in the WIT's order.\n    pub const ALL: [{rust}; {}] = [",
            e.cases.len()
        );
        for case in &e.cases {
            let _ = writeln!(out, "        {rust}::{},", camel(&case.name));
        }
        let _ = writeln!(
            out,
            "    ];\n\n    /// The case's name in WIT, in stored events and in messages.\n    \
             pub fn as_str(self) -> &'static str {{\n        match self {{"
        );
        for case in &e.cases {
            let _ = writeln!(
                out,
                "            {rust}::{} => \"{}\",",
                camel(&case.name),
                case.name
            );
        }
        let _ = writeln!(
            out,
            "        }}\n    }}\n}}\n\n\
             impl fmt::Display for {rust} {{\n    \
             fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {{\n        \
             f.write_str(self.as_str())\n    }}\n}}"
        );
    }
    Ok(out)
}

/// The Rust source of the bindings' conversions; ends with one newline.
pub fn render_conversions(resolve: &Resolve) -> Result<String> {
    let mut out = format!(
        "// Generated from wit/ by `{REGENERATE_CONVERSIONS}`; do not edit.\n\
         //! The enumerations the domain shares with the contract: `From` both ways\n\
         //! between the binding type and the domain's (`crate::domain::cases`).\n\
         \n\
         use super::{{fs, t}};\n\
         use crate::domain::cases as d;\n"
    );
    for (iface, name, module) in DOMAIN_ENUMS {
        let (_, e) = find_enum(resolve, iface, name)?;
        let rust = camel(name);
        let (domain, wit) = (format!("d::{rust}"), format!("{module}::{rust}"));
        for (from, to) in [(&domain, &wit), (&wit, &domain)] {
            out.push('\n');
            from_impl(&mut out, from, to, e);
        }
    }
    Ok(out)
}
