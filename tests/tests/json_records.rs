//! Proves that the HTTP API's JSON shapes of the WIT records
//! (`crates/server/src/dto/records.rs`) are what the generator makes of wit/
//! today, so a field added in WIT cannot be missing from the API: it
//! regenerates the file in memory and fails, saying how to regenerate it,
//! when the committed file is stale; and that the mapping rules hold.

use order_e2e::wit_records::{REGENERATE, SHAPES, render_dir};
use order_e2e::{assert_contains_each, assert_generated_file_is_current, render_wit};

fn generated() -> String {
    render_wit(render_dir)
}

#[test]
fn the_api_shapes_are_generated_from_the_current_wit() {
    assert_generated_file_is_current("crates/server/src/dto/records.rs", &generated(), REGENERATE);
}

#[test]
fn every_shape_is_generated_with_its_conversion() {
    let generated = generated();
    for shape in SHAPES {
        assert!(
            generated.contains(&format!("pub struct {} {{", shape.name)),
            "no struct {}",
            shape.name
        );
        if shape.answers {
            assert!(
                generated.contains(&format!(" for {} {{", shape.name)),
                "{} has no conversion from its binding type",
                shape.name
            );
        }
        if shape.reads {
            let conversion = if shape.from_path.is_empty() {
                format!("impl From<{}> for ", shape.name)
            } else {
                format!("impl {} {{", shape.name)
            };
            assert!(
                generated.contains(&conversion),
                "{} has no conversion into its binding type",
                shape.name
            );
        }
    }
}

#[test]
fn times_are_rfc_3339_fields_are_snake_case_and_docs_come_from_the_wit() {
    let generated = generated();
    assert_contains_each(
        &generated,
        "the generated shapes lack",
        &[
            // `created-at: timestamp` of `order-view`.
            "    #[serde(with = \"time::rfc3339\")]\n    #[schema(value_type = String, format = DateTime)]\n    pub created_at: u64,",
            // `placed-at: option<timestamp>`.
            "    #[serde(with = \"time::rfc3339::option\")]\n    #[schema(value_type = Option<String>, format = DateTime)]\n    pub placed_at: Option<u64>,",
            "    pub state_province: String,",
            "    pub tracking_history: Vec<TrackingEntry>,",
            "    pub payment_method: Option<PaymentMethod>,",
            // The WIT's `///` on `order-view.shipping-cost`.
            "    /// Shipping cost from the pricing policy.\n    pub shipping_cost: Money,",
            // A body takes the id of its route as a parameter.
            "pub fn into_command(self, return_id: String) -> wit_returns::ShipReturnCommand",
        ],
    );
    let start = generated
        .find("pub struct ShipReturnRequest {")
        .expect("the ship-return body");
    let body = &generated[start..start + generated[start..].find("\n}").unwrap()];
    assert!(
        !body.contains("pub return_id"),
        "the ship-return body carries the return id of its route: {body}"
    );
}
