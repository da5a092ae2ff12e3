//! Helpers shared by the end-to-end tests and the `wit-docs` generator.

use std::path::{Path, PathBuf};

pub mod guest_enums;
#[path = "../../guest/tests/sim/rng.rs"]
mod rng;
pub mod wit_docs;
pub mod wit_enums;
pub mod wit_records;

pub use rng::Rng;

/// The workspace root: the parent of this crate's directory.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate lives inside the workspace")
        .to_path_buf()
}

/// What `render` makes of the workspace's wit/ as it is now; panics, with
/// the error, if wit/ does not parse or a render rule fails.
pub fn render_wit(render: fn(&Path) -> anyhow::Result<String>) -> String {
    render(&workspace_root().join("wit")).unwrap_or_else(|e| panic!("wit/ does not render: {e:#}"))
}

/// Panics, naming `regenerate`, unless the committed file at `path` (from the
/// workspace root) is exactly `generated`: the staleness check of every file
/// generated from wit/.
pub fn assert_generated_file_is_current(path: &str, generated: &str, regenerate: &str) {
    let file = workspace_root().join(path);
    let committed = std::fs::read_to_string(&file).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}; generate it with `{regenerate}`",
            file.display()
        )
    });
    if committed != generated {
        let line = committed
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .map_or_else(
                || committed.lines().count().min(generated.lines().count()) + 1,
                |i| i + 1,
            );
        panic!(
            "{path} is stale (first difference at line {line}): regenerate it from the \
             workspace root with `{regenerate}` (or `make docs`)"
        );
    }
}

/// Panics with `lacks` and the first of `needles` that `generated` does not
/// contain: the check that a generated file holds the pieces a test names.
pub fn assert_contains_each(generated: &str, lacks: &str, needles: &[&str]) {
    for needle in needles {
        assert!(generated.contains(needle), "{lacks} {needle:?}");
    }
}
