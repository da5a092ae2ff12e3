//! The shipping carrier over HTTP: `POST {base}/shipments` books and
//! `POST {base}/shipments/{shipment_id}/cancel` cancels, each with the
//! component's idempotency key in an `Idempotency-Key` header. The contract
//! is `docs/backends.md`.

use serde::{Deserialize, Serialize};

use super::{
    CancelShipmentRequest, CreateShipmentRequest, PackageItem, ShipmentCancelled,
    ShipmentCreatedByCarrier, ShippingCarrier,
};
use crate::bindings::oms::order_management::types::{Address, CarrierCode};
use crate::external::{Context, ExternalError, Operation};
use crate::remote::{
    HttpBackendConfig, HttpClient, HttpConfigError, decode_derived, encode_derived, path_segment,
};

/// The [`ShippingCarrier`] of a server that speaks the contract.
pub struct HttpShippingCarrier {
    client: HttpClient,
}

impl HttpShippingCarrier {
    /// A carrier at `config.base_url`; nothing is contacted until the first call.
    pub fn new(config: &HttpBackendConfig) -> Result<Self, HttpConfigError> {
        Ok(Self {
            client: HttpClient::new(Context::Carrier, config)?,
        })
    }
}

impl ShippingCarrier for HttpShippingCarrier {
    fn create_shipment(
        &self,
        key: &str,
        request: &CreateShipmentRequest,
    ) -> Result<ShipmentCreatedByCarrier, ExternalError> {
        self.client.call(
            Operation::CreateShipment,
            "/shipments",
            key,
            |s| CreateShipmentRequestJson::serialize(request, s),
            |d| ShipmentCreatedByCarrierJson::deserialize(d),
        )
    }

    fn cancel_shipment(
        &self,
        key: &str,
        request: &CancelShipmentRequest,
    ) -> Result<ShipmentCancelled, ExternalError> {
        // The body repeats the id, so it is the WIT record like every other.
        let path = format!("/shipments/{}/cancel", path_segment(&request.shipment_id));
        self.client.call(
            Operation::CancelShipment,
            &path,
            key,
            encode_derived(request),
            decode_derived(),
        )
    }
}

/// The JSON form of a booking: the record's own, with the carrier in
/// kebab-case as the WIT spells it.
#[derive(Serialize)]
#[serde(remote = "CreateShipmentRequest")]
struct CreateShipmentRequestJson {
    order_id: String,
    #[serde(with = "CarrierCodeJson")]
    carrier: CarrierCode,
    shipping_address: Address,
    package_items: Vec<PackageItem>,
}

/// The JSON form of a booked shipment, with the carrier in kebab-case.
#[derive(Deserialize)]
#[serde(remote = "ShipmentCreatedByCarrier")]
struct ShipmentCreatedByCarrierJson {
    shipment_id: String,
    order_id: String,
    #[serde(with = "CarrierCodeJson")]
    carrier: CarrierCode,
    tracking_number: String,
    #[serde(default)]
    estimated_delivery: Option<u64>,
    created_at: u64,
}

#[derive(Serialize, Deserialize)]
#[serde(remote = "CarrierCode", rename_all = "kebab-case")]
enum CarrierCodeJson {
    Ups,
    Fedex,
    Usps,
    Dhl,
    OtherCarrier,
}
