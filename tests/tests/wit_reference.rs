//! Proves that docs/wit-reference.md is what the generator makes of wit/
//! today: it regenerates the reference in memory and fails, saying how to
//! regenerate it, when the committed file is stale.

use order_e2e::wit_docs::{REGENERATE, render_dir};
use order_e2e::{assert_contains_each, assert_generated_file_is_current, render_wit};

#[test]
fn wit_reference_is_up_to_date() {
    let generated = render_wit(render_dir);
    assert_generated_file_is_current("docs/wit-reference.md", &generated, REGENERATE);
}

#[test]
fn wit_reference_documents_every_item() {
    let generated = render_wit(render_dir);
    assert_contains_each(
        &generated,
        "the reference lacks",
        &[
            "## Interface `types`",
            "## Interface `orders`",
            "#### variant `command-error`",
            "| `validation` | [`validation-error`](#types.validation-error) |",
            "| `currency` | `string` |",
            "place-order: func(command: place-order-command) -> result<order-view, command-error>",
        ],
    );
}
