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

keyed_import! {
    CarrierView serves "shipping-carrier" ("the shipping carrier"):
    /// Books and cancels shipments. Every call carries an idempotency key: the
    /// first completed outcome for a key is the outcome of every later call with it.
    pub trait ShippingCarrier {
        /// Books a shipment; the carrier assigns its id and tracking number.
        fn create_shipment(CreateShipmentRequest) -> ShipmentCreatedByCarrier;

        /// Cancels a shipment. [`ExternalError::Permanent`] once it was picked
        /// up, or if it is unknown.
        fn cancel_shipment(CancelShipmentRequest) -> ShipmentCancelled;
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
