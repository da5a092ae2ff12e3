//! Generates the WIT reference (`docs/wit-reference.md`) from `wit/`.
//!
//! ```text
//! cargo run -q -p order-e2e --bin wit-docs > docs/wit-reference.md
//! cargo run -q -p order-e2e --bin wit-docs -- --check docs/wit-reference.md
//! ```
//!
//! With `--rust-enums` it generates the HTTP API's JSON enums
//! (`crates/server/src/dto/enums.rs`) instead, with `--rust-records` its JSON
//! shapes of the WIT records (`crates/server/src/dto/records.rs`); with `--domain-enums` the guest
//! domain's enums (`guest/src/domain/cases.rs`), with `--guest-conversions`
//! their conversions in the guest's bindings (`guest/src/bindings/cases.rs`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use order_e2e::{guest_enums, wit_docs, wit_enums, wit_records, workspace_root};

const USAGE: &str = "\
Generates the Markdown reference of the WIT package in wit/.

Usage: wit-docs [--wit DIR] [--rust-enums | --rust-records | --domain-enums | --guest-conversions]
                [--out FILE | --check FILE]

  --wit DIR     the WIT package to document (default: the workspace's wit/)
  --out FILE    write the reference to FILE instead of standard output
  --check FILE  exit with 1 if FILE differs from what would be generated
  --rust-enums  generate the HTTP API's JSON enums (Rust) instead of the reference
  --rust-records  generate the HTTP API's JSON shapes of the WIT records (Rust) instead
  --domain-enums       generate the guest domain's enums (Rust) instead
  --guest-conversions  generate the guest bindings' enum conversions (Rust) instead

Examples:
  cargo run -q -p order-e2e --bin wit-docs > docs/wit-reference.md
  cargo run -q -p order-e2e --bin wit-docs -- --check docs/wit-reference.md
  cargo run -q -p order-e2e --bin wit-docs -- --rust-enums --out crates/server/src/dto/enums.rs
  cargo run -q -p order-e2e --bin wit-docs -- --rust-records --out crates/server/src/dto/records.rs
  cargo run -q -p order-e2e --bin wit-docs -- --domain-enums --out guest/src/domain/cases.rs
  cargo run -q -p order-e2e --bin wit-docs -- --guest-conversions --out guest/src/bindings/cases.rs";

/// What to generate.
#[derive(Clone, Copy)]
enum Kind {
    Reference,
    ApiEnums,
    ApiRecords,
    DomainEnums,
    GuestConversions,
}

enum Output {
    Stdout,
    File(PathBuf),
    Check(PathBuf),
}

fn main() -> ExitCode {
    let mut wit = workspace_root().join("wit");
    let mut output = Output::Stdout;
    let mut kind = Kind::Reference;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let target = match arg.as_str() {
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            "--rust-enums" | "--rust-records" | "--domain-enums" | "--guest-conversions" => {
                kind = match arg.as_str() {
                    "--rust-enums" => Kind::ApiEnums,
                    "--rust-records" => Kind::ApiRecords,
                    "--domain-enums" => Kind::DomainEnums,
                    _ => Kind::GuestConversions,
                };
                continue;
            }
            "--wit" | "--out" | "--check" => args.next().map(PathBuf::from),
            _ => None,
        };
        match (arg.as_str(), target) {
            ("--wit", Some(dir)) => wit = dir,
            ("--out", Some(file)) => output = Output::File(file),
            ("--check", Some(file)) => output = Output::Check(file),
            _ => {
                eprintln!("wit-docs: unexpected or incomplete argument {arg:?}\n\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    match run(&wit, &output, kind) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wit-docs: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(wit: &std::path::Path, output: &Output, kind: Kind) -> Result<()> {
    let (markdown, regenerate) = match kind {
        Kind::Reference => (wit_docs::render_dir(wit)?, wit_docs::REGENERATE),
        Kind::ApiEnums => (wit_enums::render_dir(wit)?, wit_enums::REGENERATE),
        Kind::ApiRecords => (wit_records::render_dir(wit)?, wit_records::REGENERATE),
        Kind::DomainEnums => (
            guest_enums::render_domain_dir(wit)?,
            guest_enums::REGENERATE_DOMAIN,
        ),
        Kind::GuestConversions => (
            guest_enums::render_conversions_dir(wit)?,
            guest_enums::REGENERATE_CONVERSIONS,
        ),
    };
    match output {
        Output::Stdout => print!("{markdown}"),
        Output::File(path) => std::fs::write(path, &markdown)
            .with_context(|| format!("writing {}", path.display()))?,
        Output::Check(path) => {
            let current = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            if current != markdown {
                bail!(
                    "{} is stale: regenerate it with `{}`",
                    path.display(),
                    regenerate
                );
            }
        }
    }
    Ok(())
}
