//! The shipping carrier behind the `shipping-carrier` import.

pub mod remote;
pub mod simulated;

use crate::bindings::oms::order_management::shipping_carrier as wit;
use crate::bindings::oms::order_management::types::{
    CarrierCode, ExternalError as WitExternalError,
};
use crate::external::ExternalError;

pub use wit::{
    CancelShipmentRequest, CreateShipmentRequest, PackageItem, ShipmentCancelled,
    ShipmentCreatedByCarrier, ShipmentDeliveredByCarrier, ShipmentDeliveryFailed,
    ShipmentInTransit, ShipmentOutForDelivery, ShipmentPickedUp,
};

/// Books and cancels shipments. Every call carries an idempotency key: the
/// first completed outcome for a key is the outcome of every later call with it.
pub trait ShippingCarrier: Send + Sync {
    /// Books a shipment; the carrier assigns its id and tracking number.
    fn create_shipment(
        &self,
        key: &str,
        request: &CreateShipmentRequest,
    ) -> Result<ShipmentCreatedByCarrier, ExternalError>;

    /// Cancels a shipment. [`ExternalError::Permanent`] once it was picked
    /// up, or if it is unknown.
    fn cancel_shipment(
        &self,
        key: &str,
        request: &CancelShipmentRequest,
    ) -> Result<ShipmentCancelled, ExternalError>;
}

/// The WIT name of a carrier (`ups`, `fedex`, `usps`, `dhl`, `other-carrier`).
pub fn carrier_name(code: CarrierCode) -> &'static str {
    match code {
        CarrierCode::Ups => "ups",
        CarrierCode::Fedex => "fedex",
        CarrierCode::Usps => "usps",
        CarrierCode::Dhl => "dhl",
        CarrierCode::OtherCarrier => "other-carrier",
    }
}

/// A name that is not a carrier code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown carrier `{0}` (expected ups, fedex, usps, dhl or other-carrier)")]
pub struct UnknownCarrier(pub String);

/// Parses a carrier's WIT name, ignoring case.
pub fn parse_carrier(name: &str) -> Result<CarrierCode, UnknownCarrier> {
    [
        CarrierCode::Ups,
        CarrierCode::Fedex,
        CarrierCode::Usps,
        CarrierCode::Dhl,
        CarrierCode::OtherCarrier,
    ]
    .into_iter()
    .find(|code| carrier_name(*code).eq_ignore_ascii_case(name.trim()))
    .ok_or_else(|| UnknownCarrier(name.to_owned()))
}

import_view! {
    /// The `shipping-carrier` import as one store serves it: the shipping carrier, and nothing
    /// else of the host.
    CarrierView(&dyn ShippingCarrier),
    "shipping-carrier",
    "the shipping carrier"
}

impl wit::Host for CarrierView<'_> {
    fn create_shipment(
        &mut self,
        key: String,
        request: CreateShipmentRequest,
    ) -> Result<ShipmentCreatedByCarrier, WitExternalError> {
        Ok(self.0.create_shipment(&key, &request)?)
    }

    fn cancel_shipment(
        &mut self,
        key: String,
        request: CancelShipmentRequest,
    ) -> Result<ShipmentCancelled, WitExternalError> {
        Ok(self.0.cancel_shipment(&key, &request)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carrier_names_round_trip() {
        for name in ["ups", "fedex", "usps", "dhl", "other-carrier"] {
            assert_eq!(carrier_name(parse_carrier(name).unwrap()), name);
        }
        assert_eq!(parse_carrier(" UPS ").unwrap(), CarrierCode::Ups);
        assert!(parse_carrier("pony-express").is_err());
    }
}
