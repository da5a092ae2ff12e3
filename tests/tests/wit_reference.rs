//! Proves that docs/wit-reference.md is what the generator makes of wit/
//! today: it regenerates the reference in memory and fails, saying how to
//! regenerate it, when the committed file is stale.

use order_e2e::wit_docs::{REGENERATE, render_dir};
use order_e2e::workspace_root;

#[test]
fn wit_reference_is_up_to_date() {
    let root = workspace_root();
    let generated = render_dir(&root.join("wit")).expect("wit/ parses");
    let path = root.join("docs/wit-reference.md");
    let committed = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}; generate it with `{REGENERATE}`",
            path.display()
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
            "docs/wit-reference.md is stale (first difference at line {line}): \
             regenerate it from the workspace root with `{REGENERATE}`"
        );
    }
}

#[test]
fn wit_reference_documents_every_item() {
    let generated = render_dir(&workspace_root().join("wit")).expect("wit/ parses");
    for needle in [
        "## Interface `types`",
        "## Interface `orders`",
        "#### variant `command-error`",
        "| `validation` | [`validation-error`](#types.validation-error) |",
        "| `currency` | `string` |",
        "place-order: func(command: place-order-command) -> result<order-view, command-error>",
    ] {
        assert!(generated.contains(needle), "the reference lacks {needle:?}");
    }
}
