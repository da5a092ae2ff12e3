//! Field-by-field conversions between a JSON shape and its binding type,
//! written once here and invoked once per shape by the generated
//! `records.rs`.
//!
//! An invocation reads like the impl it stands for and names each field
//! once, with how its value changes type (nothing: the same value):
//!
//! ```text
//! by_fields!(impl From<wit_orders::OrderView> for Order {
//!     order_id, status: into, items: each, payment: map, notes,
//! });
//! by_fields!(impl ShipReturnRequest {
//!     pub fn into_command(self, return_id: String) -> wit_returns::ShipReturnCommand {
//!         tracking_number,
//!     }
//! });
//! ```
//!
//! The ways a value changes type: `into` (`Into`), `map` (an option of a
//! converted type), `each` (a list of one), `map_each` (an option of a
//! list of one).

/// One field's value, converted as its way says (see the module's doc).
macro_rules! by_field {
    ($value:expr) => {
        $value
    };
    ($value:expr, into) => {
        $value.into()
    };
    ($value:expr, map) => {
        $value.map(Into::into)
    };
    ($value:expr, each) => {
        $value.into_iter().map(Into::into).collect()
    };
    ($value:expr, map_each) => {
        $value.map(|v| v.into_iter().map(Into::into).collect())
    };
}

/// A conversion that copies or converts every field by name (see the
/// module's doc): `From` between a shape and its binding type, or a body's
/// `into_command` that takes the fields its route supplies as parameters.
macro_rules! by_fields {
    (impl From<$from:ty> for $to:ty { $($field:ident $(: $way:ident)?),* $(,)? }) => {
        impl From<$from> for $to {
            fn from(value: $from) -> Self {
                Self {
                    $($field: by_field!(value.$field $(, $way)?),)*
                }
            }
        }
    };
    (impl $shape:ty {
        pub fn into_command(self, $($param:ident: $param_ty:ty),+ $(,)?) -> $command:path {
            $($field:ident $(: $way:ident)?),* $(,)?
        }
    }) => {
        impl $shape {
            #[doc = concat!("The command, with ", $("`", stringify!($param), "` ",)+ "from the route.")]
            pub fn into_command(self, $($param: $param_ty),+) -> $command {
                $command {
                    $($param,)+
                    $($field: by_field!(self.$field $(, $way)?),)*
                }
            }
        }
    };
}
