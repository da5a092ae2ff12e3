//! Proves that the guest's domain enums (`guest/src/domain/cases.rs`) and
//! their conversions in the bindings (`guest/src/bindings/cases.rs`) are what
//! the generator makes of wit/ today, so a case added in WIT cannot be
//! missing from the domain or the component: each is regenerated in memory
//! and the test fails, saying how to regenerate it, when a committed file is
//! stale.

use order_e2e::guest_enums::{
    DOMAIN_ENUMS, REGENERATE_CONVERSIONS, REGENERATE_DOMAIN, render_conversions_dir,
    render_domain_dir,
};
use order_e2e::{assert_contains_each, assert_generated_file_is_current, render_wit};

#[test]
fn the_domain_enums_are_generated_from_the_current_wit() {
    let generated = render_wit(render_domain_dir);
    assert_generated_file_is_current("guest/src/domain/cases.rs", &generated, REGENERATE_DOMAIN);
}

#[test]
fn the_guest_enum_conversions_are_generated_from_the_current_wit() {
    let generated = render_wit(render_conversions_dir);
    assert_generated_file_is_current(
        "guest/src/bindings/cases.rs",
        &generated,
        REGENERATE_CONVERSIONS,
    );
}

#[test]
fn every_shared_enum_has_every_wit_case_its_kebab_name_and_both_conversions() {
    let domain = render_wit(render_domain_dir);
    let conversions = render_wit(render_conversions_dir);
    assert_eq!(
        domain
            .matches("#[serde(rename_all = \"kebab-case\")]")
            .count(),
        DOMAIN_ENUMS.len()
    );
    assert_eq!(
        conversions.matches("impl From<").count(),
        2 * DOMAIN_ENUMS.len()
    );
    assert_contains_each(
        &domain,
        "the domain enums lack",
        &[
            "pub enum PaymentMethod {",
            "            PaymentMethod::BankTransfer => \"bank-transfer\",",
            "    pub const ALL: [SagaStep; 4] = [",
            "impl fmt::Display for OrderStatus {",
        ],
    );
    assert_contains_each(
        &conversions,
        "the conversions lack",
        &[
            "impl From<d::CarrierCode> for t::CarrierCode {",
            "impl From<fs::SagaStep> for d::SagaStep {",
            "            t::ShipmentStatus::ReturnedToSender => d::ShipmentStatus::ReturnedToSender,",
        ],
    );
}
