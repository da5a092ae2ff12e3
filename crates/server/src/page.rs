//! Pagination shared by every list of the API: the query parameters
//! `limit` (1..=200, default 50) and `cursor` (opaque), the page shape
//! `{"items": [...], "next_cursor": ...}`, and the `Link: <...>; rel="next"`
//! header when there is a next page.
//!
//! Two kinds of cursor, both opaque to clients (hex of a short text with a
//! version prefix): a *key* cursor for the order listings (the last order's
//! listing time and id: keyset pagination over the read model, stable
//! while orders are written), and a *position* cursor for the per-entity
//! sub-lists (shipments, returns and histories only ever grow at the end,
//! so a count of what was shown is stable too).

use axum::http::{HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};

use super::Problem;
use order_runtime::store::OrderCursor;

/// The default page size.
pub const DEFAULT_LIMIT: usize = 50;
/// The largest page size.
pub const MAX_LIMIT: usize = 200;

/// `limit` and `cursor`, for the OpenAPI document of a paged route.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct PageParams {
    /// Page size, 1..=200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// Where the next page starts: the previous page's `next_cursor` (or the
    /// `cursor` of its `Link` header).
    cursor: Option<String>,
}

/// The query parameters of a request, decoded, in order.
pub struct QueryParams(pub Vec<(String, String)>);

impl QueryParams {
    /// The parameters of `uri`; every name must be in `known` (a misspelt
    /// filter is a 400 naming it, not a silently wider listing).
    pub fn of(uri: &Uri, known: &[&str]) -> Result<Self, Problem> {
        let pairs: Vec<(String, String)> = uri
            .query()
            .unwrap_or_default()
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|pair| {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                Ok((decode(name)?, decode(value)?))
            })
            .collect::<Result<_, Problem>>()?;
        if let Some((name, _)) = pairs.iter().find(|(n, _)| !known.contains(&n.as_str())) {
            return Err(Problem::validation(
                name.clone(),
                format!(
                    "is not a query parameter of this list (known: {})",
                    known.join(", ")
                ),
            ));
        }
        Ok(Self(pairs))
    }

    /// Every value of `name`, comma lists split, empty parts dropped.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(n, _)| n == name)
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// The one value of `name`; a 400 naming it when it is given twice.
    pub fn one(&self, name: &str) -> Result<Option<&str>, Problem> {
        let mut values = self.0.iter().filter(|(n, _)| n == name);
        let first = values.next().map(|(_, v)| v.as_str());
        if values.next().is_some() {
            return Err(Problem::validation(name, "may be given only once"));
        }
        Ok(first)
    }

    /// `limit`: 1..=200, 50 when absent.
    pub fn limit(&self) -> Result<usize, Problem> {
        match self.one("limit")? {
            None => Ok(DEFAULT_LIMIT),
            Some(text) => text
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    Problem::validation(
                        "limit",
                        format!("must be a whole number from 1 to {MAX_LIMIT}, not `{text}`"),
                    )
                }),
        }
    }

    /// A time parameter in RFC 3339, as milliseconds since the Unix epoch.
    pub fn time(&self, name: &str) -> Result<Option<u64>, Problem> {
        self.one(name)?
            .map(|text| {
                super::dto::time::parse(text).ok_or_else(|| {
                    Problem::validation(
                        name,
                        format!(
                            "must be an RFC 3339 time such as 2026-12-01T14:52:00Z, not `{text}`"
                        ),
                    )
                })
            })
            .transpose()
    }
}

fn decode(text: &str) -> Result<String, Problem> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok());
                let byte = hex.and_then(|h| u8::from_str_radix(h, 16).ok());
                let Some(byte) = byte else {
                    return Err(Problem::bad_request(
                        "the query string has a malformed percent escape",
                    ));
                };
                out.push(byte);
                i += 2;
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| Problem::bad_request("the query string is not UTF-8"))
}

fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

const KEY_PREFIX: &str = "k1:";
const POSITION_PREFIX: &str = "p1:";

fn bad_cursor() -> Problem {
    Problem::validation(
        "cursor",
        "is not a cursor of this list: pass the `next_cursor` of the previous page unchanged",
    )
}

fn unhex(cursor: &str) -> Option<String> {
    String::from_utf8(hex::decode(cursor.trim()).ok()?).ok()
}

/// The cursor after `last` in an order listing.
pub fn key_cursor(last: &OrderCursor) -> String {
    hex::encode(format!("{KEY_PREFIX}{}:{}", last.listed_at, last.order_id))
}

/// The position a key cursor stands for; a 400 naming `cursor` otherwise.
pub fn parse_key_cursor(cursor: &str) -> Result<OrderCursor, Problem> {
    let text = unhex(cursor).ok_or_else(bad_cursor)?;
    let rest = text.strip_prefix(KEY_PREFIX).ok_or_else(bad_cursor)?;
    let (at, id) = rest.split_once(':').ok_or_else(bad_cursor)?;
    let listed_at = at.parse::<u64>().ok().filter(|t| *t <= i64::MAX as u64);
    match (listed_at, id.is_empty()) {
        (Some(listed_at), false) => Ok(OrderCursor {
            listed_at,
            order_id: id.to_owned(),
        }),
        _ => Err(bad_cursor()),
    }
}

/// The page of `all` (a list that only grows at its end) that `cursor`
/// and `limit` select, with the cursor of the next page.
pub fn by_position<T>(
    all: Vec<T>,
    cursor: Option<&str>,
    limit: usize,
) -> Result<(Vec<T>, Option<String>), Problem> {
    let start = match cursor {
        None => 0,
        Some(cursor) => unhex(cursor)
            .as_deref()
            .and_then(|t| t.strip_prefix(POSITION_PREFIX))
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(bad_cursor)?,
    };
    let mut all = all;
    let total = all.len();
    let start = start.min(total);
    let end = start.saturating_add(limit).min(total);
    let next = (end < total).then(|| hex::encode(format!("{POSITION_PREFIX}{end}")));
    all.truncate(end);
    let items = all.split_off(start);
    Ok((items, next))
}

/// `uri` with its `cursor` (or `after`) parameter replaced by `name=cursor`.
pub fn next_link(uri: &Uri, name: &str, cursor: &str) -> String {
    let mut query: Vec<String> = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .filter(|p| {
            let param = p.split('=').next().and_then(|n| decode(n).ok());
            !matches!(param.as_deref(), Some("cursor" | "after"))
        })
        .map(str::to_owned)
        .collect();
    query.push(format!("{name}={}", encode(cursor)));
    format!("{}?{}", uri.path(), query.join("&"))
}

/// `body` with the `Link` header of the next page when there is one.
pub fn with_next(body: impl IntoResponse, uri: &Uri, next: Option<&str>) -> Response {
    with_next_as(body, uri, "cursor", next)
}

/// A page of a list as JSON: the body `page` makes of the next page's
/// cursor (`next_cursor`), with the `Link` header of that page when there
/// is one. `name` is the list's cursor parameter.
pub fn paged<B: serde::Serialize>(
    uri: &Uri,
    name: &str,
    next: Option<String>,
    page: impl FnOnce(Option<String>) -> B,
) -> Response {
    let link = next.clone();
    with_next_as(axum::Json(page(next)), uri, name, link.as_deref())
}

/// [`with_next`] for a list whose cursor parameter is called `name`.
fn with_next_as(body: impl IntoResponse, uri: &Uri, name: &str, next: Option<&str>) -> Response {
    let mut response = body.into_response();
    if let Some(cursor) = next
        && let Ok(value) =
            HeaderValue::from_str(&format!("<{}>; rel=\"next\"", next_link(uri, name, cursor)))
    {
        response.headers_mut().insert(header::LINK, value);
    }
    response
}

/// A sub-list of one entity (its shipments, returns or history): the JSON
/// array of the page that `limit` and `cursor` select, oldest first, with
/// the `Link` header of the next page. These lists keep their array shape
/// (decision 0015); the cursor of the next page is only in the header.
pub fn sub_list<T: serde::Serialize>(all: Vec<T>, uri: &Uri) -> Result<Response, Problem> {
    let params = QueryParams::of(uri, &["limit", "cursor"])?;
    let (items, next) = by_position(all, params.one("cursor")?, params.limit()?)?;
    Ok(with_next(axum::Json(items), uri, next.as_deref()))
}

/// A list of one entity's `$shape`s: `GET <path>` answers what `$read`
/// reads from the service `$svc` for the id `$id`, a page at a time (see
/// [`sub_list`]). The module that uses it imports what the route names
/// (`$shape`, `PageParams`, `ReadProblems`, the extractors).
macro_rules! list_route {
    ($(#[doc = $doc:tt])* $name:ident, $path:tt, $operation:tt, $tag:tt, $what:tt, $shape:ident,
     |$svc:ident, $id:ident| $read:expr) => {
        $(#[doc = $doc])*
        #[utoipa::path(
            get,
            path = $path,
            operation_id = $operation,
            tag = $tag,
            params(("id" = String, Path, description = $what), PageParams),
            responses((status = 200, body = Vec<$shape>, headers(("Link" = String, description = "The next page, `<...>; rel=\"next\"`, when there is one"))), ReadProblems)
        )]
        pub async fn $name(
            State(state): State<AppState>,
            Path(id): Path<String>,
            uri: Uri,
        ) -> Result<Response, Problem> {
            state
                .query_page::<_, $shape>(&uri, move |$svc| {
                    let $id = id.as_str();
                    $read
                })
                .await
        }
    };
}
pub(crate) use list_route;

/// A stream's history: `GET <path>` answers every event of the entity's
/// stream (read by the service's `$read`), oldest first, a page at a time.
/// The module that uses it imports what the route names (`HistoryEntry`,
/// `PageParams`, `ReadProblems`, the extractors).
macro_rules! history_route {
    ($(#[doc = $doc:tt])* $name:ident, $path:tt, $operation:tt, $tag:tt, $what:tt, $read:ident) => {
        $crate::page::list_route!(
            $(#[doc = $doc])* $name, $path, $operation, $tag, $what, HistoryEntry,
            |svc, id| svc.$read(id)
        );
    };
}
pub(crate) use history_route;

/// `GET <path>`: the resource `id` as it stands, read by the service's
/// `$read` and answered as its JSON shape `$shape` (404 when unknown).
macro_rules! view_route {
    ($(#[doc = $doc:tt])* $name:ident, $path:tt, $operation:tt, $tag:tt, $what:tt, $shape:ident, $read:ident) => {
        $(#[doc = $doc])*
        #[utoipa::path(
            get,
            path = $path,
            operation_id = $operation,
            tag = $tag,
            params(("id" = String, Path, description = $what)),
            responses((status = 200, body = $shape), ReadProblems)
        )]
        pub async fn $name(
            State(state): State<AppState>,
            Path(id): Path<String>,
        ) -> Result<Json<$shape>, Problem> {
            Ok(Json(state.query(move |svc| svc.$read(&id)).await?.into()))
        }
    };
}
pub(crate) use view_route;

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(text: &str) -> Uri {
        text.parse().unwrap()
    }

    #[test]
    fn limits_outside_one_to_two_hundred_name_the_parameter() {
        for bad in ["0", "201", "-1", "ten", ""] {
            let q = QueryParams::of(&uri(&format!("/orders?limit={bad}")), &["limit"]).unwrap();
            let problem = q.limit().unwrap_err();
            assert_eq!(problem.field.as_deref(), Some("limit"), "{bad}");
        }
        let q = QueryParams::of(&uri("/orders?limit=200"), &["limit"]).unwrap();
        assert_eq!(q.limit().unwrap(), 200);
        let q = QueryParams::of(&uri("/orders"), &["limit"]).unwrap();
        assert_eq!(q.limit().unwrap(), DEFAULT_LIMIT);
    }

    #[test]
    fn an_unknown_parameter_is_named() {
        let error = QueryParams::of(&uri("/orders?stauts=shipped"), &["status"])
            .err()
            .unwrap();
        assert_eq!(error.field.as_deref(), Some("stauts"));
    }

    #[test]
    fn statuses_are_repeatable_and_comma_separated_and_times_decoded() {
        let q = QueryParams::of(
            &uri("/orders?status=shipped,delivered&status=pending&from=2026-01-02T03%3A04%3A05%2B01%3A00"),
            &["status", "from"],
        )
        .unwrap();
        assert_eq!(q.all("status"), ["shipped", "delivered", "pending"]);
        assert_eq!(
            q.time("from").unwrap(),
            super::super::dto::time::parse("2026-01-02T02:04:05Z")
        );
        let q = QueryParams::of(&uri("/orders?from=yesterday"), &["from"]).unwrap();
        assert_eq!(q.time("from").unwrap_err().field.as_deref(), Some("from"));
    }

    #[test]
    fn key_cursors_round_trip_and_foreign_text_is_refused() {
        let at = OrderCursor {
            listed_at: 1_700_000_000_123,
            order_id: "0b0b0b0b-0000-4000-8000-000000000001".to_owned(),
        };
        assert_eq!(parse_key_cursor(&key_cursor(&at)).unwrap(), at);
        for bad in [
            "",
            "zz",
            &hex::encode("p1:4"),
            &hex::encode("k1:x:y"),
            "k1:5:a",
        ] {
            let problem = parse_key_cursor(bad).unwrap_err();
            assert_eq!(problem.field.as_deref(), Some("cursor"), "{bad}");
        }
    }

    #[test]
    fn position_pages_cover_a_list_once_and_links_keep_the_filters() {
        let all: Vec<u32> = (0..7).collect();
        let (first, next) = by_position(all.clone(), None, 3).unwrap();
        assert_eq!(first, [0, 1, 2]);
        let (second, next) = by_position(all.clone(), next.as_deref(), 3).unwrap();
        assert_eq!(second, [3, 4, 5]);
        let (third, next) = by_position(all.clone(), next.as_deref(), 3).unwrap();
        assert_eq!((third, next), (vec![6], None));
        assert!(by_position(all, Some("k1"), 3).is_err());

        let link = next_link(
            &uri("/orders?status=shipped&cursor=00&limit=5"),
            "cursor",
            "abc",
        );
        assert_eq!(link, "/orders?status=shipped&limit=5&cursor=abc");
        // A list whose cursor is `after` (the feed) drops both names.
        let link = next_link(&uri("/events?cursor=p1&limit=5"), "after", "p9");
        assert_eq!(link, "/events?limit=5&after=p9");
    }
}
