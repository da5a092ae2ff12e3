//! What the `http` backends of the four external contexts
//! (`crate::<context>::remote`) share: their configuration and one blocking
//! client that POSTs a WIT request as JSON with its idempotency key and turns
//! what comes back (a body, a status, a network failure) into a result or an
//! [`ExternalError`].
//!
//! The wire contract (paths, bodies, status codes) is `docs/backends.md`.
//! The rule in three lines: 2xx is the answer; a failure that proves the
//! server did not act (a connection refused or not made, 408, 429, 503) is
//! transient; a failure that leaves it unknown whether it acted (a time-out
//! after the request was sent, a connection lost after sending, an answer
//! that cannot be read, 409 "still in progress", 500, 502, 504 and the other
//! 5xx) is in doubt, and every other status is permanent. In doubt is never
//! taken for "no effect": the caller asks again under the same idempotency
//! key, or compensates whatever that key did.

use std::fmt;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::external::{Context, ExternalError, Operation};

/// Where one external context is served and how long to wait for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpBackendConfig {
    /// `http://` or `https://` URL that the endpoint paths are appended to,
    /// for example `https://payments.example.com/v1` (a trailing `/` is ignored).
    pub base_url: String,
    /// The most one call may take, from DNS lookup to the last byte of the answer.
    pub timeout: Duration,
    /// The most resolving and connecting (and the TLS handshake) may take;
    /// capped by `timeout`.
    pub connect_timeout: Duration,
    /// The `User-Agent` header; `None` sends `order-host/<version>`.
    pub user_agent: Option<String>,
}

impl HttpBackendConfig {
    /// [`Self::timeout`] unless told otherwise.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
    /// [`Self::connect_timeout`] unless told otherwise.
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

    /// `base_url` with the default time-outs and user agent.
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            timeout: Self::DEFAULT_TIMEOUT,
            connect_timeout: Self::DEFAULT_CONNECT_TIMEOUT,
            user_agent: None,
        }
    }

    /// The same, with an overall time-out of `timeout` per call.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The same, with a connect time-out of `timeout`.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The same, sending `user_agent` as the `User-Agent` header.
    pub fn with_user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }
}

/// A configuration an `http` backend cannot work with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the {context} backend's configuration is invalid: {reason}")]
pub struct HttpConfigError {
    /// The context configured.
    pub context: Context,
    /// What is wrong.
    pub reason: String,
}

/// The people's name of a context, as messages say it.
fn describe(context: Context) -> &'static str {
    match context {
        Context::Payment => "payment gateway",
        Context::Inventory => "inventory service",
        Context::Carrier => "shipping carrier",
        Context::Customer => "customer service",
    }
}

/// The most of an answer's body that is read; a larger one is refused.
const MAX_BODY_BYTES: u64 = 1 << 20;

/// The most of a server's error message kept in an [`ExternalError`].
const MAX_MESSAGE_CHARS: usize = 500;

/// One context's connection to its server: the agent keeps connections
/// alive between calls and is shared by every thread.
pub(crate) struct HttpClient {
    context: Context,
    base_url: String,
    timeout: Duration,
    connect_timeout: Duration,
    agent: ureq::Agent,
}

/// What a server answered.
pub(crate) struct Answer {
    /// The status code.
    pub status: u16,
    /// The body, at most [`MAX_BODY_BYTES`].
    pub body: Vec<u8>,
    retry_after: Option<String>,
    location: Option<String>,
}

impl Answer {
    /// True for 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

impl HttpClient {
    /// A client for `context` at `config.base_url`.
    pub fn new(context: Context, config: &HttpBackendConfig) -> Result<Self, HttpConfigError> {
        let invalid = |reason: String| HttpConfigError { context, reason };
        let base_url = config.base_url.trim().trim_end_matches('/').to_owned();
        let uri: ureq::http::Uri = base_url.parse().map_err(|e| {
            invalid(format!(
                "the base URL `{}` is not a URL: {e}",
                config.base_url
            ))
        })?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
            return Err(invalid(format!(
                "the base URL `{}` is not an http:// or https:// URL with a host",
                config.base_url
            )));
        }
        if uri.query().is_some() || base_url.contains('#') {
            return Err(invalid(format!(
                "the base URL `{}` has a query or a fragment; the endpoint paths are appended to it",
                config.base_url
            )));
        }
        if config.timeout.is_zero() || config.connect_timeout.is_zero() {
            return Err(invalid(
                "a time-out of zero lets no call through".to_owned(),
            ));
        }
        let user_agent = config
            .user_agent
            .clone()
            .unwrap_or_else(|| concat!("order-host/", env!("CARGO_PKG_VERSION")).to_owned());
        let mut agent = ureq::Agent::config_builder();
        if is_loopback(uri.host().unwrap_or_default()) {
            // A proxy from HTTP_PROXY and the like cannot reach this
            // machine's loopback; ureq would use one unless NO_PROXY says so.
            agent = agent.proxy(None);
        }
        let agent = agent
            .timeout_global(Some(config.timeout))
            .timeout_connect(Some(config.connect_timeout.min(config.timeout)))
            // Statuses are mapped here, not turned into errors by ureq.
            .http_status_as_error(false)
            // A redirected POST may be replayed as a GET; the base URL
            // should name the final address instead.
            .max_redirects(0)
            .user_agent(user_agent)
            .build()
            .into();
        Ok(Self {
            context,
            base_url,
            timeout: config.timeout,
            connect_timeout: config.connect_timeout.min(config.timeout),
            agent,
        })
    }

    /// POSTs the JSON body `encode` writes to `path` and decodes a 2xx
    /// answer with `decode`; any other answer is an [`ExternalError`].
    pub fn call<T>(
        &self,
        operation: Operation,
        path: &str,
        key: &str,
        encode: impl FnOnce(&mut JsonSerializer<'_>) -> serde_json::Result<()>,
        decode: impl FnOnce(&mut JsonDeserializer<'_>) -> serde_json::Result<T>,
    ) -> Result<T, ExternalError> {
        let answer = self.post(operation, path, key, encode)?;
        if answer.is_success() {
            self.decode(operation, &answer, decode)
        } else {
            Err(self.refusal(operation, &answer))
        }
    }

    /// POSTs the JSON body `encode` writes to `path` with `key` as its
    /// `Idempotency-Key` and returns whatever status came back.
    pub fn post(
        &self,
        operation: Operation,
        path: &str,
        key: &str,
        encode: impl FnOnce(&mut JsonSerializer<'_>) -> serde_json::Result<()>,
    ) -> Result<Answer, ExternalError> {
        let mut body = Vec::new();
        encode(&mut serde_json::Serializer::new(&mut body)).map_err(|e| {
            ExternalError::permanent(format!(
                "the {} request {operation} could not be encoded as JSON: {e}",
                describe(self.context)
            ))
        })?;
        let url = format!("{}{path}", self.base_url);
        let call = Call {
            client: self,
            operation,
            url: &url,
        };
        let mut response = self
            .agent
            .post(&url)
            .header("Idempotency-Key", key)
            .header("Accept", "application/json")
            .content_type("application/json")
            .send(&body[..])
            .map_err(|e| call.send_failed(e))?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        let retry_after = header("retry-after");
        let location = header("location");
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY_BYTES)
            .read_to_vec()
            .map_err(|e| call.read_failed(status, e))?;
        Ok(Answer {
            status,
            body,
            retry_after,
            location,
        })
    }

    /// Decodes a 2xx body; one that does not fit is in doubt: the server
    /// says it acted but the answer cannot be read, so what it did is
    /// unknown (asking again may get a readable answer; otherwise the
    /// caller compensates by the key).
    pub fn decode<T>(
        &self,
        operation: Operation,
        answer: &Answer,
        decode: impl FnOnce(&mut JsonDeserializer<'_>) -> serde_json::Result<T>,
    ) -> Result<T, ExternalError> {
        from_json(&answer.body, decode).map_err(|e| {
            ExternalError::in_doubt(format!(
                "the {} answered {operation} with {} and an unreadable body: {e}",
                describe(self.context),
                StatusText(answer.status)
            ))
        })
    }

    /// The error for a non-2xx answer: 408, 429 and 503 are transient (the
    /// server says it did not act: come back later); 409 (the same key is
    /// still being processed) and the other 5xx (the server or a gateway in
    /// front of it failed while handling the request) are in doubt; the
    /// rest permanent.
    pub fn refusal(&self, operation: Operation, answer: &Answer) -> ExternalError {
        let who = describe(self.context);
        let status = StatusText(answer.status);
        let message = server_message(&answer.body)
            .map(|message| format!(": {message}"))
            .unwrap_or_default();
        let retry_after = answer
            .retry_after
            .as_deref()
            .map(|after| format!(" (Retry-After: {after})"))
            .unwrap_or_default();
        match answer.status {
            408 | 429 | 503 => ExternalError::transient(format!(
                "the {who} answered {operation} with {status}{message}{retry_after}"
            )),
            409 | 500..=599 => ExternalError::in_doubt(format!(
                "the {who} answered {operation} with {status}{message}{retry_after}"
            )),
            300..=399 => ExternalError::permanent(format!(
                "the {who} answered {operation} with {status}, a redirect to {}; \
                 configure the final address as the base URL",
                answer.location.as_deref().unwrap_or("nowhere")
            )),
            _ => ExternalError::permanent(format!(
                "the {who} refused {operation} with {status}{message}"
            )),
        }
    }
}

/// The serializer [`HttpClient::post`] hands to `encode`.
pub(crate) type JsonSerializer<'a> = serde_json::Serializer<&'a mut Vec<u8>>;

/// The deserializer [`HttpClient::decode`] hands to `decode`.
pub(crate) type JsonDeserializer<'a> = serde_json::Deserializer<serde_json::de::SliceRead<'a>>;

/// Encodes `value` with its derived `Serialize`: the JSON form of every
/// record without an enum inside.
pub(crate) fn encode_derived<T: Serialize>(
    value: &T,
) -> impl FnOnce(&mut JsonSerializer<'_>) -> serde_json::Result<()> + '_ {
    move |serializer| value.serialize(serializer)
}

/// Decodes with the derived `Deserialize`: the JSON form of every record
/// without an enum inside.
pub(crate) fn decode_derived<T: DeserializeOwned>()
-> impl FnOnce(&mut JsonDeserializer<'_>) -> serde_json::Result<T> {
    |deserializer| T::deserialize(deserializer)
}

/// Decodes one JSON value from `bytes` with `decode`, refusing trailing data.
pub(crate) fn from_json<'a, T>(
    bytes: &'a [u8],
    decode: impl FnOnce(&mut JsonDeserializer<'a>) -> serde_json::Result<T>,
) -> serde_json::Result<T> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = decode(&mut deserializer)?;
    deserializer.end()?;
    Ok(value)
}

/// One call in flight, for the messages of its failures.
struct Call<'a> {
    client: &'a HttpClient,
    operation: Operation,
    url: &'a str,
}

impl Call<'_> {
    /// The request could not be sent, or no answer came. Failures before
    /// anything was sent (no address, a connection refused or not made in
    /// time, a TLS handshake that failed) are transient; a request that
    /// cannot be built is permanent; everything after the connection was
    /// made (a time-out waiting for the answer, a connection reset, an
    /// answer that is not HTTP) is in doubt.
    fn send_failed(&self, error: ureq::Error) -> ExternalError {
        let who = describe(self.client.context);
        let Call { operation, url, .. } = self;
        match error {
            ureq::Error::Timeout(ureq::Timeout::Connect | ureq::Timeout::Resolve) => {
                ExternalError::transient(format!(
                    "the {who} could not be reached for {operation} within {} (POST {url})",
                    Millis(self.client.connect_timeout)
                ))
            }
            ureq::Error::Timeout(_) => ExternalError::in_doubt(format!(
                "the {who} did not answer {operation} within {} (POST {url}); \
                 the request may have been acted on",
                Millis(self.client.timeout)
            )),
            error @ (ureq::Error::BadUri(_)
            | ureq::Error::Http(_)
            | ureq::Error::InvalidProxyUrl
            | ureq::Error::RequireHttpsOnly(_)
            | ureq::Error::Json(_)) => ExternalError::permanent(format!(
                "the {who} request {operation} could not be sent (POST {url}): {error}"
            )),
            ureq::Error::Io(io) if not_connected(&io) => ExternalError::transient(format!(
                "the {who} could not be reached for {operation} (POST {url}): {io}"
            )),
            error @ (ureq::Error::HostNotFound
            | ureq::Error::ConnectionFailed
            | ureq::Error::ConnectProxyFailed(_)
            | ureq::Error::Tls(_)
            | ureq::Error::TlsRequired) => ExternalError::transient(format!(
                "the {who} could not be reached for {operation} (POST {url}): {error}"
            )),
            error => ExternalError::in_doubt(format!(
                "the {who} broke off {operation} after the request was sent (POST {url}): \
                 {error}; the request may have been acted on"
            )),
        }
    }

    /// The answer's head arrived but its body did not (in time, or whole):
    /// the server acted or not, nobody can tell, so it is in doubt (a body
    /// over the size limit too: the server answered something unreadable).
    fn read_failed(&self, status: u16, error: ureq::Error) -> ExternalError {
        let who = describe(self.client.context);
        let Call { operation, url, .. } = self;
        match error {
            ureq::Error::BodyExceedsLimit(_) => ExternalError::in_doubt(format!(
                "the {who} answered {operation} with {} and a body larger than {MAX_BODY_BYTES} bytes (POST {url})",
                StatusText(status)
            )),
            ureq::Error::Timeout(_) => ExternalError::in_doubt(format!(
                "the {who} did not finish answering {operation} within {} (POST {url})",
                Millis(self.client.timeout)
            )),
            error => ExternalError::in_doubt(format!(
                "the {who} broke off its answer to {operation} (POST {url}): {error}"
            )),
        }
    }
}

/// True for the I/O errors of a connection that was never made: the
/// request cannot have reached the server.
fn not_connected(error: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    matches!(
        error.kind(),
        ErrorKind::ConnectionRefused
            | ErrorKind::HostUnreachable
            | ErrorKind::NetworkUnreachable
            | ErrorKind::NetworkDown
            | ErrorKind::AddrNotAvailable
    )
}

/// The message in an error body: `{"error": "..."}`, `{"error": {"message":
/// "..."}}`, or an RFC 9457 problem's `detail` (else `title`).
fn server_message(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let text = match value.get("error") {
        Some(serde_json::Value::String(text)) => text.as_str(),
        Some(error) => error.get("message")?.as_str()?,
        None => value
            .get("detail")
            .or_else(|| value.get("title"))?
            .as_str()?,
    };
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    Some(match text.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    })
}

/// A status code with its reason phrase, for example `503 Service Unavailable`.
struct StatusText(u16);

impl fmt::Display for StatusText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let reason = ureq::http::StatusCode::from_u16(self.0)
            .ok()
            .and_then(|code| code.canonical_reason());
        match reason {
            Some(reason) => write!(f, "{} {reason}", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}

/// A duration in milliseconds, for example `200 ms`.
struct Millis(Duration);

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ms", self.0.as_millis())
    }
}

/// True for `localhost` and loopback addresses (`127.0.0.1`, `[::1]`).
fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `segment` made safe to put between two `/` of a path: everything but
/// the unreserved characters of RFC 3986 is percent-encoded.
pub(crate) fn path_segment(segment: &str) -> String {
    let mut encoded = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> HttpClient {
        HttpClient::new(
            Context::Payment,
            &HttpBackendConfig::new("http://127.0.0.1:9/api/"),
        )
        .unwrap()
    }

    fn answer(status: u16, body: &str) -> Answer {
        Answer {
            status,
            body: body.as_bytes().to_vec(),
            retry_after: None,
            location: None,
        }
    }

    #[test]
    fn base_urls_must_be_http_with_a_host_and_no_query() {
        assert_eq!(client().base_url, "http://127.0.0.1:9/api");
        for bad in [
            "127.0.0.1:9",
            "ftp://example.com",
            "http://",
            "https://example.com/v1?x=1",
            "not a url",
        ] {
            let error = HttpClient::new(Context::Carrier, &HttpBackendConfig::new(bad))
                .err()
                .unwrap_or_else(|| panic!("`{bad}` was accepted"));
            assert_eq!(error.context, Context::Carrier);
        }
        let zero = HttpBackendConfig::new("http://x").with_timeout(Duration::ZERO);
        assert!(HttpClient::new(Context::Customer, &zero).is_err());
    }

    #[test]
    fn error_messages_come_from_the_common_body_shapes() {
        assert_eq!(
            server_message(br#"{"error": " card declined "}"#).as_deref(),
            Some("card declined")
        );
        assert_eq!(
            server_message(br#"{"error": {"message": "no such charge", "code": 7}}"#).as_deref(),
            Some("no such charge")
        );
        assert_eq!(
            server_message(br#"{"title": "Bad", "detail": "sku too long"}"#).as_deref(),
            Some("sku too long")
        );
        assert_eq!(server_message(b"<html>oops</html>"), None);
        assert_eq!(server_message(br#"{"error": ""}"#), None);
        let long = format!(r#"{{"error": "{}"}}"#, "x".repeat(600));
        assert_eq!(
            server_message(long.as_bytes()).unwrap().chars().count(),
            MAX_MESSAGE_CHARS + 1
        );
    }

    #[test]
    fn statuses_split_into_transient_in_doubt_and_permanent() {
        let client = client();
        for status in [408, 429, 503] {
            let error = client.refusal(Operation::ProcessPayment, &answer(status, "{}"));
            assert!(error.is_transient(), "{status}: {error}");
        }
        for status in [409, 500, 502, 504, 599] {
            let error = client.refusal(Operation::ProcessPayment, &answer(status, "{}"));
            assert!(
                matches!(error, ExternalError::InDoubt(_)),
                "{status}: {error}"
            );
        }
        for status in [301, 400, 401, 402, 403, 404, 410, 422] {
            let error = client.refusal(Operation::ProcessPayment, &answer(status, "{}"));
            assert!(
                matches!(error, ExternalError::Permanent(_)),
                "{status}: {error}"
            );
        }
        assert_eq!(
            client.refusal(
                Operation::RefundPayment,
                &answer(402, r#"{"error":"card declined"}"#)
            ),
            ExternalError::permanent(
                "the payment gateway refused refund-payment with 402 Payment Required: card declined"
            )
        );
    }

    #[test]
    fn loopback_hosts_are_recognised() {
        for host in ["localhost", "LocalHost", "127.0.0.1", "127.1.2.3", "[::1]"] {
            assert!(is_loopback(host), "{host}");
        }
        for host in ["example.com", "10.0.0.1", "[::2]", "localhost.example.com"] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn path_segments_are_percent_encoded() {
        assert_eq!(path_segment("shp_1-2.3~x"), "shp_1-2.3~x");
        assert_eq!(path_segment("a/b c?é"), "a%2Fb%20c%3F%C3%A9");
    }
}
