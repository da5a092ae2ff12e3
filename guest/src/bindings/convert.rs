//! Values and errors, WIT <-> domain: one `From` (or a function naming the
//! field) per type. The enumerations the domain shares with the contract
//! are converted by the generated `cases.rs`.

use super::*;

pub(super) fn money_to(m: &Money) -> t::Money {
    t::Money {
        amount: m.amount,
        currency: m.currency.as_str().to_string(),
    }
}

pub(super) fn money_from(field: &str, m: t::Money) -> DomainResult<Money> {
    Money::parse(field, m.amount, &m.currency)
}

pub(super) fn address_to(a: &v::Address) -> t::Address {
    t::Address {
        street1: a.street1.clone(),
        street2: a.street2.clone(),
        city: a.city.clone(),
        state_province: a.state_province.clone(),
        postal_code: a.postal_code.clone(),
        country: a.country.clone(),
    }
}

/// Unvalidated: the domain validates addresses where it takes them.
pub(super) fn address_from(a: t::Address) -> v::Address {
    v::Address {
        street1: a.street1,
        street2: a.street2,
        city: a.city,
        state_province: a.state_province,
        postal_code: a.postal_code,
        country: a.country,
    }
}

pub(super) fn item_to(i: &v::OrderItem) -> t::OrderItem {
    t::OrderItem {
        item_id: i.item_id.clone(),
        product_id: i.product_id.clone(),
        sku: i.sku.clone(),
        product_name: i.product_name.clone(),
        quantity: i.quantity,
        unit_price: money_to(&i.unit_price),
        total_price: money_to(&i.total_price),
    }
}

/// An input line from either WIT line record (`order-item-input`, or an
/// `order-item` whose totals are recomputed): the fields they share.
macro_rules! item_input {
    ($i:expr) => {{
        let i = $i;
        v::OrderItemInput {
            item_id: i.item_id,
            product_id: i.product_id,
            sku: i.sku,
            product_name: i.product_name,
            quantity: i.quantity,
            unit_price_amount: i.unit_price.amount,
            unit_price_currency: i.unit_price.currency,
        }
    }};
}

pub(super) fn item_input_from(i: t::OrderItemInput) -> v::OrderItemInput {
    item_input!(i)
}

/// Trusted items (already in an order): recomputes and checks the totals.
pub(super) fn items_from(field: &str, items: Vec<t::OrderItem>) -> DomainResult<Vec<v::OrderItem>> {
    let inputs = items.into_iter().map(|i| item_input!(i)).collect();
    v::validate_items(field, inputs, true)
}

pub(super) fn entity_to(e: Entity) -> t::EntityKind {
    match e {
        Entity::Order => t::EntityKind::Order,
        Entity::Shipment => t::EntityKind::Shipment,
        Entity::Return => t::EntityKind::Return,
        Entity::Saga => t::EntityKind::Saga,
    }
}

pub(super) fn error_to(e: DomainError) -> t::CommandError {
    match e {
        DomainError::Validation { field, reason } => {
            t::CommandError::Validation(t::ValidationError { field, reason })
        }
        DomainError::InvalidTransition {
            entity,
            state,
            command,
        } => t::CommandError::InvalidTransition(t::InvalidTransition {
            entity: entity_to(entity),
            state,
            command,
        }),
        DomainError::NotFound { entity, id } => t::CommandError::NotFound(t::NotFound {
            entity: entity_to(entity),
            id,
        }),
        DomainError::Conflict(m) => t::CommandError::Conflict(m),
        DomainError::RuleViolated {
            rule,
            field,
            message,
        } => t::CommandError::RuleViolated(t::RuleViolation {
            rule,
            field,
            message,
        }),
        DomainError::External(ExternalError::Transient(m)) => {
            t::CommandError::External(t::ExternalError::Transient(m))
        }
        DomainError::External(ExternalError::Permanent(m)) => {
            t::CommandError::External(t::ExternalError::Permanent(m))
        }
        DomainError::External(ExternalError::InDoubt(m)) => {
            t::CommandError::External(t::ExternalError::InDoubt(m))
        }
        DomainError::Storage(m) => t::CommandError::Storage(m),
    }
}
