//! The WIT records as the HTTP API's JSON shapes, generated into
//! `crates/server/src/dto/records.rs`: one Rust struct per record the API
//! shows or reads, its fields the WIT's in snake_case and in the WIT's order,
//! its docs (and so the OpenAPI descriptions) from the WIT's `///` comments,
//! its serde/utoipa derives, and its conversions to or from the binding type.
//! A field added to a WIT record reaches the API by regenerating this file (a
//! test fails while it is stale), never by editing a mirror.
//!
//! The mapping rules: kebab-case names become snake_case fields; WIT
//! `timestamp` (u64 milliseconds) is an RFC 3339 string on the wire (through
//! `dto::time`, schema `string`/`date-time`); `option<T>` is `Option<T>` (in a
//! body it may be left out); `list<T>` is `Vec<T>`; a WIT enum is its
//! generated JSON enum; a record is its generated shape. What the API says on
//! purpose beyond the WIT (bounds, formats, defaults, a field taken from the
//! path) is in [`SHAPES`], next to the record it is about.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context as _, Result, bail};
use wit_parser::{Record, Resolve, Type, TypeDef, TypeDefKind, TypeOwner};

use crate::wit_docs::load_package;
use crate::wit_enums::{API_ENUMS, camel, docs, find_type, header};

/// The command that regenerates the file, quoted in its header and in the
/// staleness test's message.
pub const REGENERATE: &str = "cargo run -q -p order-e2e --bin wit-docs -- --rust-records --out crates/server/src/dto/records.rs";

/// One JSON shape of the API generated from a WIT record.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// The WIT interface of the record.
    pub iface: &'static str,
    /// The WIT record.
    pub record: &'static str,
    /// The Rust (and OpenAPI schema) name of the shape.
    pub name: &'static str,
    /// The API reads it: `Deserialize` refusing unknown fields, and a
    /// conversion into the binding type.
    pub reads: bool,
    /// The API answers with it: a conversion from the binding type.
    pub answers: bool,
    /// WIT fields the body does not carry because the route supplies them
    /// (the id in the path): they become the parameters of
    /// `into_command(self, ..)` instead of a `From`.
    pub from_path: &'static [&'static str],
    /// The API's own words for the shape (the route it is the body of);
    /// empty: the WIT's doc.
    pub doc: &'static str,
    /// Attributes the API adds to a field, by WIT field name: bounds and
    /// formats for the OpenAPI document, a default, a field left out when
    /// absent.
    pub attrs: &'static [(&'static str, &'static str)],
}

/// A shape the API answers with.
const VIEW: Shape = Shape {
    iface: "",
    record: "",
    name: "",
    reads: false,
    answers: true,
    from_path: &[],
    doc: "",
    attrs: &[],
};

/// A body the API reads.
const BODY: Shape = Shape {
    reads: true,
    answers: false,
    ..VIEW
};

/// Both ways.
const BOTH: Shape = Shape {
    reads: true,
    ..VIEW
};

const UUID: &str = "#[schema(format = \"uuid\")]";
const QUANTITY: &str = "#[schema(value_type = i64, minimum = 1, maximum = 4_294_967_295_u32)]";
const TEXT_100: &str = "#[schema(min_length = 1, max_length = 100)]";

/// Types a generated shape refers to that are written by hand in `dto/`
/// (a WIT variant with a JSON shape of its own), as (interface, WIT name,
/// Rust name).
pub const HAND_WRITTEN: &[(&str, &str, &str)] =
    &[("fulfillment-saga", "saga-outcome", "SagaOutcome")];

/// The API's JSON shapes that mirror WIT records, in the order of the file.
pub const SHAPES: &[Shape] = &[
    Shape {
        iface: "types",
        record: "money",
        name: "Money",
        doc: "An amount in integer minor units (cents for USD) with its ISO 4217\n\
              currency; 0 <= amount <= 9,999,999,999. An absent or empty currency is USD.",
        attrs: &[
            ("amount", "#[schema(example = 1250)]"),
            ("amount", "#[schema(maximum = 9_999_999_999_u64)]"),
            ("currency", "#[serde(default)]"),
            ("currency", "#[schema(example = \"USD\")]"),
            ("currency", "#[schema(pattern = \"^([A-Za-z]{3})?$\")]"),
        ],
        ..BOTH
    },
    Shape {
        iface: "types",
        record: "address",
        name: "Address",
        attrs: &[
            ("street1", TEXT_100),
            (
                "street2",
                "#[serde(skip_serializing_if = \"Option::is_none\")]",
            ),
            ("street2", TEXT_100),
            ("city", "#[schema(min_length = 1, max_length = 50)]"),
            (
                "state-province",
                "#[schema(min_length = 1, max_length = 50)]",
            ),
            ("postal-code", "#[schema(min_length = 1, max_length = 20)]"),
            ("country", "#[schema(example = \"US\")]"),
            (
                "country",
                "#[schema(min_length = 2, max_length = 3, pattern = \"^[A-Za-z]{2,3}$\")]",
            ),
        ],
        ..BOTH
    },
    Shape {
        iface: "types",
        record: "order-item-input",
        name: "OrderItemInput",
        attrs: &[
            ("item-id", UUID),
            ("product-id", UUID),
            ("sku", "#[schema(min_length = 1, max_length = 50)]"),
            (
                "product-name",
                "#[schema(min_length = 1, max_length = 200)]",
            ),
            ("quantity", QUANTITY),
        ],
        ..BODY
    },
    Shape {
        iface: "types",
        record: "order-item",
        name: "OrderItem",
        ..VIEW
    },
    Shape {
        iface: "orders",
        record: "update-draft-command",
        name: "UpdateDraftRequest",
        from_path: &["order-id"],
        doc: "`PATCH /orders/{id}`: edit a draft. Present fields replace the draft's.",
        attrs: &[("items", "#[schema(max_items = 100)]")],
        ..BODY
    },
    Shape {
        iface: "orders",
        record: "payment-info",
        name: "PaymentInfo",
        ..VIEW
    },
    Shape {
        iface: "orders",
        record: "allocation-info",
        name: "AllocationInfo",
        ..VIEW
    },
    Shape {
        iface: "orders",
        record: "shipping-info",
        name: "ShippingInfo",
        ..VIEW
    },
    Shape {
        iface: "orders",
        record: "delivery-info",
        name: "DeliveryInfo",
        attrs: &[(
            "signed-by",
            "#[serde(skip_serializing_if = \"Option::is_none\")]",
        )],
        ..VIEW
    },
    Shape {
        iface: "orders",
        record: "cancellation-info",
        name: "CancellationInfo",
        ..VIEW
    },
    Shape {
        iface: "orders",
        record: "order-view",
        name: "Order",
        ..VIEW
    },
    Shape {
        iface: "shipments",
        record: "shipment-item",
        name: "ShipmentItem",
        ..VIEW
    },
    Shape {
        iface: "shipments",
        record: "tracking-entry",
        name: "TrackingEntry",
        ..VIEW
    },
    Shape {
        iface: "shipments",
        record: "shipment-view",
        name: "Shipment",
        ..VIEW
    },
    Shape {
        iface: "returns",
        record: "return-item",
        name: "ReturnItem",
        attrs: &[
            ("item-id", UUID),
            ("product-id", UUID),
            ("quantity", QUANTITY),
            ("condition", TEXT_100),
        ],
        ..BOTH
    },
    Shape {
        iface: "returns",
        record: "request-return-command",
        name: "RequestReturnRequest",
        from_path: &["order-id"],
        doc: "`POST /orders/{id}/returns`: ask to return items of a delivered order.",
        attrs: &[
            ("return-id", UUID),
            ("customer-id", UUID),
            ("return-items", "#[schema(min_items = 1)]"),
            ("comments", "#[schema(min_length = 1, max_length = 1000)]"),
        ],
        ..BODY
    },
    Shape {
        iface: "returns",
        record: "ship-return-command",
        name: "ShipReturnRequest",
        from_path: &["return-id"],
        doc: "`POST /returns/{id}/ship`: the customer sent the items back.",
        attrs: &[("tracking-number", TEXT_100)],
        ..BODY
    },
    Shape {
        iface: "returns",
        record: "process-refund-command",
        name: "ProcessRefundRequest",
        from_path: &["return-id"],
        doc: "`POST /returns/{id}/refund`: refund through the payment gateway.",
        ..BODY
    },
    Shape {
        iface: "returns",
        record: "close-return-command",
        name: "CloseReturnRequest",
        from_path: &["return-id"],
        doc: "`POST /returns/{id}/close`: nothing arrived; close without refund.",
        attrs: &[("reason", "#[schema(min_length = 1, max_length = 500)]")],
        ..BODY
    },
    Shape {
        iface: "returns",
        record: "return-view",
        name: "Return",
        ..VIEW
    },
    Shape {
        iface: "fulfillment-saga",
        record: "step-report",
        name: "StepReport",
        ..VIEW
    },
    Shape {
        iface: "fulfillment-saga",
        record: "saga-output",
        name: "SagaOutput",
        ..VIEW
    },
    Shape {
        iface: "fulfillment-saga",
        record: "saga-report",
        name: "SagaReport",
        ..VIEW
    },
    Shape {
        iface: "queries",
        record: "currency-totals",
        name: "CurrencyTotals",
        ..VIEW
    },
    Shape {
        iface: "queries",
        record: "daily-metrics",
        name: "DailyMetrics",
        ..VIEW
    },
    Shape {
        iface: "payment-gateway",
        record: "payment-succeeded",
        name: "PaymentSucceeded",
        doc: "`payment-succeeded`: a charge went through.",
        attrs: &[("transaction-id", TEXT_100), ("order-id", UUID)],
        ..BODY
    },
    Shape {
        iface: "payment-gateway",
        record: "payment-failed",
        name: "PaymentFailed",
        doc: "`payment-failed`: a charge was refused.",
        attrs: &[("order-id", UUID)],
        ..BODY
    },
    Shape {
        iface: "payment-gateway",
        record: "refund-completed",
        name: "RefundCompleted",
        doc: "`refund-completed`: a refund went through.",
        attrs: &[("transaction-id", TEXT_100)],
        ..BODY
    },
    Shape {
        iface: "inventory-service",
        record: "stock-allocated",
        name: "StockAllocated",
        doc: "`stock-allocated`: stock was reserved.",
        attrs: &[("order-id", UUID)],
        ..BODY
    },
    Shape {
        iface: "inventory-service",
        record: "unavailable-item",
        name: "UnavailableItem",
        attrs: &[("product-id", UUID)],
        ..BODY
    },
    Shape {
        iface: "inventory-service",
        record: "stock-allocation-failed",
        name: "StockAllocationFailed",
        doc: "`stock-allocation-failed`: stock could not be reserved.",
        attrs: &[("order-id", UUID)],
        ..BODY
    },
    Shape {
        iface: "shipping-carrier",
        record: "shipment-created-by-carrier",
        name: "ShipmentCreatedByCarrier",
        doc: "`shipment-created-by-carrier`: the carrier booked a shipment.",
        attrs: &[("order-id", UUID), ("tracking-number", TEXT_100)],
        ..BODY
    },
    Shape {
        iface: "shipping-carrier",
        record: "shipment-picked-up",
        name: "ShipmentPickedUp",
        doc: "`shipment-picked-up`: the carrier collected the parcel.",
        ..BODY
    },
    Shape {
        iface: "shipping-carrier",
        record: "shipment-in-transit",
        name: "ShipmentInTransit",
        doc: "`shipment-in-transit`: the parcel moved between facilities.",
        ..BODY
    },
    Shape {
        iface: "shipping-carrier",
        record: "shipment-out-for-delivery",
        name: "ShipmentOutForDelivery",
        doc: "`shipment-out-for-delivery`: on the vehicle for final delivery.",
        ..BODY
    },
    Shape {
        iface: "shipping-carrier",
        record: "shipment-delivered-by-carrier",
        name: "ShipmentDeliveredByCarrier",
        doc: "`shipment-delivered-by-carrier`: the parcel was delivered.",
        ..BODY
    },
    Shape {
        iface: "shipping-carrier",
        record: "shipment-delivery-failed",
        name: "ShipmentDeliveryFailed",
        doc: "`shipment-delivery-failed`: delivery failed for good.",
        ..BODY
    },
    Shape {
        iface: "shipping-carrier",
        record: "shipment-cancelled",
        name: "ShipmentCancelled",
        doc: "`shipment-cancelled`: the carrier cancelled the shipment.",
        ..BODY
    },
];

/// The Rust module alias of a WIT interface's bindings in the generated file.
fn module(iface: &str) -> Result<&'static str> {
    Ok(match iface {
        "types" => "wit_types",
        "orders" => "wit_orders",
        "shipments" => "wit_shipments",
        "returns" => "wit_returns",
        "fulfillment-saga" => "wit_saga",
        "queries" => "wit_queries",
        "payment-gateway" => "wit_payment",
        "inventory-service" => "wit_inventory",
        "shipping-carrier" => "wit_carrier",
        other => bail!("no alias for interface {other}"),
    })
}

/// What a WIT type is on the wire.
enum Wire {
    /// The same value (numbers, strings, booleans, and aliases of them).
    Plain(String),
    /// WIT `timestamp`: milliseconds, written as RFC 3339.
    Time,
    /// A generated enum, a generated shape or a hand-written type: `Into`.
    Named(String),
    Option(Box<Wire>),
    List(Box<Wire>),
}

impl Wire {
    fn rust(&self) -> String {
        match self {
            Wire::Plain(t) | Wire::Named(t) => t.clone(),
            Wire::Time => "u64".to_owned(),
            Wire::Option(inner) => format!("Option<{}>", inner.rust()),
            Wire::List(inner) => format!("Vec<{}>", inner.rust()),
        }
    }

    /// Whether the value changes type between the binding and the shape.
    fn converts(&self) -> bool {
        match self {
            Wire::Plain(_) | Wire::Time => false,
            Wire::Named(_) => true,
            Wire::Option(inner) | Wire::List(inner) => inner.converts(),
        }
    }

    /// How the value changes type between the binding and the shape, in
    /// the words of `dto::fields` (`None`: it is the same value).
    fn way(&self) -> Result<Option<&'static str>> {
        if !self.converts() {
            return Ok(None);
        }
        Ok(Some(match self {
            Wire::Named(_) => "into",
            Wire::Option(inner) => match &**inner {
                Wire::Named(_) => "map",
                Wire::List(item) if matches!(**item, Wire::Named(_)) => "map_each",
                _ => bail!("no conversion for an option of {}", inner.rust()),
            },
            Wire::List(inner) => match &**inner {
                Wire::Named(_) => "each",
                _ => bail!("no conversion for a list of {}", inner.rust()),
            },
            Wire::Plain(_) | Wire::Time => unreachable!("a plain value does not convert"),
        }))
    }
}

/// What the generated file needs to know about the package.
struct Names<'a> {
    resolve: &'a Resolve,
    /// Hand-written types the shapes use.
    hand: BTreeSet<&'static str>,
}

impl Names<'_> {
    fn wire(&mut self, ty: &Type) -> Result<Wire> {
        Ok(match ty {
            Type::Bool => Wire::Plain("bool".into()),
            Type::U8 => Wire::Plain("u8".into()),
            Type::U16 => Wire::Plain("u16".into()),
            Type::U32 => Wire::Plain("u32".into()),
            Type::U64 => Wire::Plain("u64".into()),
            Type::S32 => Wire::Plain("i32".into()),
            Type::S64 => Wire::Plain("i64".into()),
            Type::String => Wire::Plain("String".into()),
            Type::Id(id) => {
                let def = &self.resolve.types[*id];
                let name = def.name.as_deref();
                match &def.kind {
                    TypeDefKind::Type(_) if name == Some("timestamp") => Wire::Time,
                    TypeDefKind::Type(inner) => self.wire(inner)?,
                    TypeDefKind::Option(inner) => Wire::Option(Box::new(self.wire(inner)?)),
                    TypeDefKind::List(inner) => Wire::List(Box::new(self.wire(inner)?)),
                    TypeDefKind::Enum(_) => {
                        let iface = iface_of(self.resolve, def)?;
                        let name = name.context("an anonymous enum")?;
                        if !API_ENUMS.contains(&(iface, name)) {
                            bail!("the enum {iface}.{name} is not among the API's enums");
                        }
                        Wire::Named(camel(name))
                    }
                    TypeDefKind::Record(_) | TypeDefKind::Variant(_) => {
                        let iface = iface_of(self.resolve, def)?;
                        let name = name.context("an anonymous record")?;
                        if let Some(shape) =
                            SHAPES.iter().find(|s| s.iface == iface && s.record == name)
                        {
                            Wire::Named(shape.name.to_owned())
                        } else if let Some((_, _, rust)) = HAND_WRITTEN
                            .iter()
                            .find(|(i, n, _)| *i == iface && *n == name)
                        {
                            self.hand.insert(rust);
                            Wire::Named((*rust).to_owned())
                        } else {
                            bail!("{iface}.{name} has no JSON shape: add it to SHAPES");
                        }
                    }
                    other => bail!("no JSON shape for a WIT {}", other.as_str()),
                }
            }
            other => bail!("no JSON shape for the WIT type {other:?}"),
        })
    }
}

/// The name of the interface that owns `def`.
fn iface_of<'a>(resolve: &'a Resolve, def: &TypeDef) -> Result<&'a str> {
    match def.owner {
        TypeOwner::Interface(i) => resolve.interfaces[i]
            .name
            .as_deref()
            .context("an anonymous interface"),
        _ => bail!("{:?} is not owned by an interface", def.name),
    }
}

/// The record `name` of the interface `iface`, with its type definition.
fn find_record<'a>(
    resolve: &'a Resolve,
    iface: &str,
    name: &str,
) -> Result<(&'a TypeDef, &'a Record)> {
    let ty = find_type(resolve, iface, name)?;
    let TypeDefKind::Record(r) = &ty.kind else {
        bail!("{iface}.{name} is not a record");
    };
    Ok((ty, r))
}

/// The Rust source of the API's shapes for the package in `dir`.
pub fn render_dir(dir: &Path) -> Result<String> {
    let (resolve, _, _) = load_package(dir)?;
    render(&resolve)
}

/// The Rust source of the API's shapes; ends with one newline.
pub fn render(resolve: &Resolve) -> Result<String> {
    let mut names = Names {
        resolve,
        hand: BTreeSet::new(),
    };
    let mut body = String::new();
    let mut modules = BTreeSet::new();
    for shape in SHAPES {
        render_shape(&mut body, &mut names, &mut modules, shape)?;
    }
    let mut out = String::new();
    header(
        &mut out,
        REGENERATE,
        "//! The WIT records as JSON: snake_case fields, RFC 3339 times, docs from\n\
         //! the WIT, conversions to and from the binding types.",
    );
    let _ = writeln!(
        out,
        "use super::enums::*;\n\
         use super::time;"
    );
    for rust in &names.hand {
        let _ = writeln!(out, "use super::{rust};");
    }
    out.push('\n');
    for iface in &modules {
        let snake = iface.replace('-', "_");
        let _ = writeln!(
            out,
            "use order_runtime::bindings::{snake} as {};",
            module(iface)?
        );
    }
    out.push('\n');
    out.push_str(&body);
    rustfmt(&out)
}

/// `source` as `rustfmt` writes it, so the committed file passes
/// `cargo fmt --check` as generated.
fn rustfmt(source: &str) -> Result<String> {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let mut child = Command::new("rustfmt")
        .args(["--edition", "2024", "--emit", "stdout", "--quiet"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .context("running rustfmt")?;
    child
        .stdin
        .take()
        .context("rustfmt's standard input")?
        .write_all(source.as_bytes())?;
    let output = child.wait_with_output()?;
    if !output.status.success() {
        bail!("rustfmt refused the generated shapes");
    }
    let text = String::from_utf8(output.stdout).context("rustfmt's output")?;
    Ok(text.trim_end().to_string() + "\n")
}

fn render_shape(
    out: &mut String,
    names: &mut Names<'_>,
    modules: &mut BTreeSet<&'static str>,
    shape: &Shape,
) -> Result<()> {
    let (def, record) = find_record(names.resolve, shape.iface, shape.record)?;
    modules.insert(shape.iface);
    for (field, _) in shape.attrs {
        if !record.fields.iter().any(|f| f.name == *field) {
            bail!("{}.{} has no field {field}", shape.iface, shape.record);
        }
    }
    let wit = format!("{}::{}", module(shape.iface)?, camel(shape.record));
    if shape.doc.is_empty() {
        docs(out, "", &def.docs);
    } else {
        for line in shape.doc.lines() {
            let _ = writeln!(out, "/// {}", line.trim());
        }
    }
    let serde = if shape.reads {
        "Serialize, Deserialize"
    } else {
        "Serialize"
    };
    let _ = writeln!(
        out,
        "#[derive(Debug, Clone, PartialEq, Eq, {serde}, ToSchema)]"
    );
    if shape.reads {
        let _ = writeln!(out, "#[serde(deny_unknown_fields)]");
    }
    let _ = writeln!(out, "pub struct {} {{", shape.name);
    let mut fields = Vec::new();
    for field in &record.fields {
        let wire = names.wire(&field.ty)?;
        if shape.from_path.contains(&field.name.as_str()) {
            fields.push((field.name.replace('-', "_"), wire, true));
            continue;
        }
        let snake = field.name.replace('-', "_");
        docs(out, "    ", &field.docs);
        let optional = matches!(wire, Wire::Option(_));
        let mut serde_attrs = Vec::new();
        if shape.reads && optional {
            serde_attrs.push("default".to_owned());
        }
        match &wire {
            Wire::Time => {
                serde_attrs.push("with = \"time::rfc3339\"".to_owned());
            }
            Wire::Option(inner) if matches!(**inner, Wire::Time) => {
                serde_attrs.push("with = \"time::rfc3339::option\"".to_owned());
            }
            Wire::List(inner) if matches!(**inner, Wire::Time) => {
                bail!("no JSON shape for a list of times ({})", field.name);
            }
            _ => {}
        }
        if !serde_attrs.is_empty() {
            let _ = writeln!(out, "    #[serde({})]", serde_attrs.join(", "));
        }
        match &wire {
            Wire::Time => {
                let _ = writeln!(out, "    #[schema(value_type = String, format = DateTime)]");
            }
            Wire::Option(inner) if matches!(**inner, Wire::Time) => {
                let _ = writeln!(
                    out,
                    "    #[schema(value_type = Option<String>, format = DateTime)]"
                );
            }
            _ => {}
        }
        for (name, attr) in shape.attrs {
            if *name == field.name {
                let _ = writeln!(out, "    {attr}");
            }
        }
        let _ = writeln!(out, "    pub {snake}: {},", wire.rust());
        fields.push((snake, wire, false));
    }
    let _ = writeln!(out, "}}\n");

    let mut list = Vec::new();
    for (snake, wire, from_path) in &fields {
        if !*from_path {
            let way = wire
                .way()
                .with_context(|| format!("field `{snake}` of `{}`", shape.name))?;
            list.push(match way {
                Some(way) => format!("{snake}: {way}"),
                None => snake.clone(),
            });
        }
    }
    if shape.reads {
        if shape.from_path.is_empty() {
            let _ = writeln!(out, "by_fields!(impl From<{}> for {wit} {{", shape.name);
            field_list(out, &list, "    ");
            let _ = writeln!(out, "}});\n");
        } else {
            let params: Vec<String> = fields
                .iter()
                .filter(|(_, _, p)| *p)
                .map(|(snake, wire, _)| format!("{snake}: {}", wire.rust()))
                .collect();
            let _ = writeln!(
                out,
                "by_fields!(impl {} {{\n    pub fn into_command(self, {}) -> {wit} {{",
                shape.name,
                params.join(", ")
            );
            field_list(out, &list, "        ");
            let _ = writeln!(out, "    }}\n}});\n");
        }
    }
    if shape.answers {
        if !shape.from_path.is_empty() {
            bail!("{} answers with fields from the path", shape.name);
        }
        let _ = writeln!(out, "by_fields!(impl From<{wit}> for {} {{", shape.name);
        field_list(out, &list, "    ");
        let _ = writeln!(out, "}});\n");
    }
    Ok(())
}

/// The fields of a `by_fields!`, comma-separated, in lines of at most 100
/// characters after `prefix`.
fn field_list(out: &mut String, fields: &[String], prefix: &str) {
    let mut line = String::new();
    for field in fields {
        if !line.is_empty() && prefix.len() + line.len() + field.len() + 2 > 100 {
            let _ = writeln!(out, "{prefix}{}", line.trim_end());
            line.clear();
        }
        line.push_str(field);
        line.push_str(", ");
    }
    if !line.is_empty() {
        let _ = writeln!(out, "{prefix}{}", line.trim_end());
    }
}
