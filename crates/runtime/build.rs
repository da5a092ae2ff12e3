//! Embeds the built component, if there is one, so the host binary carries
//! it: copies `target/wasm32-wasip2/release/order_core.wasm` to
//! `$OUT_DIR/order_core.wasm`, or writes an empty file there when the
//! component has not been built yet (the host then asks for `--component`).

use std::path::PathBuf;
use std::{env, fs};

fn main() {
    if let Err(error) = run() {
        println!("cargo::error={error}");
    }
}

fn run() -> Result<(), String> {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?);
    let workspace = manifest_dir
        .ancestors()
        .nth(2)
        .ok_or("the runtime crate is not two levels inside the workspace")?
        .to_path_buf();
    let target_dir = match env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            // Cargo resolves a relative CARGO_TARGET_DIR against the
            // directory it runs in, which for `make` is the workspace.
            if dir.is_absolute() {
                dir
            } else {
                workspace.join(dir)
            }
        }
        None => workspace.join("target"),
    };
    let source = target_dir.join("wasm32-wasip2/release/order_core.wasm");
    let out_dir = PathBuf::from(env::var("OUT_DIR").map_err(|e| e.to_string())?);
    let destination = out_dir.join("order_core.wasm");

    println!("cargo::rerun-if-changed={}", source.display());
    println!("cargo::rerun-if-env-changed=CARGO_TARGET_DIR");
    if source.is_file() {
        fs::copy(&source, &destination).map_err(|e| {
            format!(
                "copying {} to {}: {e}",
                source.display(),
                destination.display()
            )
        })?;
    } else {
        fs::write(&destination, b"")
            .map_err(|e| format!("writing {}: {e}", destination.display()))?;
    }
    Ok(())
}
