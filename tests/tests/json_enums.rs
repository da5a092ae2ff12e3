//! Proves that the HTTP API's JSON enums (`host/src/http/dto/enums.rs`) are
//! what the generator makes of wit/ today, so a case added in WIT cannot be
//! missing from the API: it regenerates the file in memory and fails, saying
//! how to regenerate it, when the committed file is stale.

use order_e2e::wit_enums::{API_ENUMS, REGENERATE, render_dir};
use order_e2e::workspace_root;

#[test]
fn the_api_enums_are_generated_from_the_current_wit() {
    let root = workspace_root();
    let generated = render_dir(&root.join("wit")).expect("wit/ parses");
    let path = root.join("host/src/http/dto/enums.rs");
    let committed = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}; generate it with `{REGENERATE}`",
            path.display()
        )
    });
    assert!(
        committed == generated,
        "host/src/http/dto/enums.rs is stale: regenerate it from the workspace root with `{REGENERATE}`"
    );
}

#[test]
fn every_api_enum_is_generated_with_every_wit_case_in_kebab_case_json() {
    let generated = render_dir(&workspace_root().join("wit")).expect("wit/ parses");
    assert_eq!(
        generated
            .matches("#[serde(rename_all = \"kebab-case\")]")
            .count(),
        API_ENUMS.len()
    );
    for needle in [
        "pub enum PaymentMethod {",
        "    BankTransfer,",
        "pub enum SagaStep {",
        "impl From<wit_types::CarrierCode> for CarrierCode {",
        "            ShipmentStatus::ReturnedToSender => wit_types::ShipmentStatus::ReturnedToSender,",
    ] {
        assert!(
            generated.contains(needle),
            "the generated enums lack {needle:?}"
        );
    }
}
