//! The only module that touches wit-bindgen: it implements the application's
//! ports over the component's imports ([`imported`]), and the component's
//! exports over the application ([`exported`]), converting WIT values to
//! domain values and back ([`convert`] for values and errors, [`views`] for
//! the answers, [`events`] for histories).

wit_bindgen::generate!({
    world: "order-management",
    path: "../wit",
});

use std::time::{SystemTime, UNIX_EPOCH};

use exports::oms::order_management::{
    fulfillment_saga as fs, inbound as ib, orders as ord, queries as q, returns as ret,
    shipments as shp,
};
use oms::order_management::{
    customer_service as cs, event_store as es, events as ev, inventory_service as inv,
    payment_gateway as pg, policy as pol, shipping_carrier as sc, types as t,
};

use crate::app::inbound::Inbound;
use crate::app::ports::{self, Env};
use crate::app::saga::SagaInput;
use crate::app::{App, StoredEvent};
use crate::domain::order::Order;
use crate::domain::returns::{Return, ReturnItem};
use crate::domain::saga::{
    self as dsaga, ReportOutcome, ReportOutput, ReportPhase, ReportedStatus, SagaPolicy,
};
use crate::domain::shipment::{Shipment, ShipmentItem};
use crate::domain::values::{self as v, Money, Timestamp};
use crate::domain::{DomainError, DomainResult, Entity, ExternalError};

struct Component;

export!(Component);

mod cases;
mod convert;
mod events;
mod exported;
mod imported;
mod views;

use convert::*;
use events::*;
use imported::*;
use views::*;
