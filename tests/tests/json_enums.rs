//! Proves that the HTTP API's JSON enums (`crates/server/src/dto/enums.rs`) are
//! what the generator makes of wit/ today, so a case added in WIT cannot be
//! missing from the API: it regenerates the file in memory and fails, saying
//! how to regenerate it, when the committed file is stale.

use order_e2e::wit_enums::{API_ENUMS, REGENERATE, render_dir};
use order_e2e::{assert_contains_each, assert_generated_file_is_current, render_wit};

#[test]
fn the_api_enums_are_generated_from_the_current_wit() {
    let generated = render_wit(render_dir);
    assert_generated_file_is_current("crates/server/src/dto/enums.rs", &generated, REGENERATE);
}

#[test]
fn every_api_enum_is_generated_with_every_wit_case_in_kebab_case_json() {
    let generated = render_wit(render_dir);
    assert_eq!(
        generated
            .matches("#[serde(rename_all = \"kebab-case\")]")
            .count(),
        API_ENUMS.len()
    );
    assert_contains_each(
        &generated,
        "the generated enums lack",
        &[
            "pub enum PaymentMethod {",
            "    BankTransfer,",
            "pub enum SagaStep {",
            "impl From<wit_types::CarrierCode> for CarrierCode {",
            "            ShipmentStatus::ReturnedToSender => wit_types::ShipmentStatus::ReturnedToSender,",
        ],
    );
}
