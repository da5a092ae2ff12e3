//! The media type of request bodies: every body is JSON, sent as
//! `Content-Type: application/json` (parameters such as `charset=utf-8`
//! allowed). Any other type, `application/merge-patch+json` and a signed
//! webhook sent as `text/plain` included, and a body sent without a type,
//! answers 415 before a handler runs. Applies to every route, so routes
//! added later get it too; a request without a body (and without a type)
//! passes.

use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};

use super::problem::Problem;

/// The only media type of request bodies.
pub const JSON: &str = "application/json";

/// Why `headers` (of a request whose body is `empty` or not) are refused:
/// `None` when the body may be read as JSON.
pub fn refusal(headers: &HeaderMap, empty: bool) -> Option<Problem> {
    let detail = match headers.get(header::CONTENT_TYPE) {
        None if empty => return None,
        None => {
            "the request has a body but no Content-Type; send it as application/json".to_owned()
        }
        Some(value) => {
            let text = value.to_str().unwrap_or("").trim().to_ascii_lowercase();
            let essence = text.split(';').next().unwrap_or("").trim();
            if essence == JSON {
                return None;
            }
            let shown = if essence.is_empty() {
                "an empty or unreadable type".to_owned()
            } else {
                format!("`{essence}`")
            };
            format!("the body must be sent as application/json, not as {shown}")
        }
    };
    Some(Problem::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-media-type",
        "Unsupported media type",
        detail,
    ))
}

/// The middleware: 415 for a body that is not declared as JSON. The body
/// was read whole before (see `admit`), so its size is known.
pub async fn json_only(request: Request, next: Next) -> Response {
    use axum::body::HttpBody as _;
    let empty = request.body().size_hint().exact() == Some(0);
    match refusal(request.headers(), empty) {
        Some(problem) => problem.into_response(),
        None => next.run(request).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with_type(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn json_with_or_without_a_charset_is_accepted() {
        assert!(refusal(&with_type("application/json"), false).is_none());
        assert!(refusal(&with_type("Application/JSON; charset=utf-8"), false).is_none());
        assert!(refusal(&HeaderMap::new(), true).is_none());
    }

    #[test]
    fn other_types_and_an_untyped_body_are_415() {
        for kind in [
            "application/merge-patch+json",
            "text/plain",
            "application/x-www-form-urlencoded",
        ] {
            let problem = refusal(&with_type(kind), false).expect(kind);
            assert_eq!(problem.status, 415, "{kind}");
            assert!(problem.detail.contains(kind), "{}", problem.detail);
        }
        // A type on an empty body is still checked.
        assert_eq!(refusal(&with_type("text/plain"), true).unwrap().status, 415);
        let problem = refusal(&HeaderMap::new(), false).unwrap();
        assert_eq!(problem.status, 415);
        assert!(
            problem.detail.contains("no Content-Type"),
            "{}",
            problem.detail
        );
    }
}
