//! Building HTML as text: escaping, the page layout, and small pieces
//! (money, times, badges) shared by the pages. Every value that comes from
//! a request or the store goes through [`esc`] (or [`attr`]) on its way in.

use std::fmt::Write as _;

use crate::auth::Principal;
use crate::dto;
use crate::text;

/// `text` with `& < > " '` escaped, safe inside elements and quoted attributes.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `text` for a URL's query or path segment (percent-encoded, then safe in
/// an attribute).
pub fn url_part(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// An amount for people, `12.50 USD`.
pub fn money(m: &dto::Money) -> String {
    esc(&text::money(m))
}

/// A time in UTC, `2026-12-01 14:03:22 UTC`, in a `<time>` element.
pub fn time(ms: u64) -> String {
    format!(
        "<time datetime=\"{}\">{}</time>",
        esc(&dto::time::format(ms)),
        esc(&text::time(ms))
    )
}

/// An enumeration value as a badge, `confirmed`.
pub fn badge<T: serde::Serialize>(value: &T) -> String {
    let name = text::kebab(value);
    format!("<span class=\"badge badge-{0}\">{0}</span>", esc(&name))
}

/// What a page needs from the request for its frame.
pub struct Frame<'a> {
    pub principal: &'a Principal,
    /// The token every form of the page carries.
    pub csrf: &'a str,
    /// The navigation entry that is current (`orders`, `attention`, ...).
    pub current: &'a str,
    /// Which navigation entries this principal may open.
    pub nav: &'a [(&'static str, &'static str, &'static str)],
}

/// The hidden CSRF field of a form.
pub fn csrf_field(token: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        esc(token)
    )
}

/// A whole page: header with navigation and sign-out, an optional notice
/// or error, and `body`. `live` makes the script poll the page every so
/// many seconds and swap in the `data-live` region when it changed.
pub fn page(
    title: &str,
    frame: Option<&Frame<'_>>,
    notice: Option<&Notice>,
    live: Option<u32>,
    body: &str,
) -> String {
    let mut out = String::with_capacity(body.len() + 2048);
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · order console</title>\
         <link rel=\"stylesheet\" href=\"/console/assets/console.css\">\
         <script src=\"/console/assets/console.js\" defer></script></head><body>\
         <a class=\"to-content\" href=\"#main\">Skip to content</a>",
        esc(title)
    );
    out.push_str("<header class=\"top\"><span class=\"brand\">Order console</span>");
    if let Some(frame) = frame {
        out.push_str("<nav aria-label=\"Console\"><ul>");
        for (key, href, label) in frame.nav {
            let current = if *key == frame.current {
                " aria-current=\"page\""
            } else {
                ""
            };
            let _ = write!(out, "<li><a href=\"{href}\"{current}>{label}</a></li>");
        }
        out.push_str("</ul></nav>");
        let _ = write!(
            out,
            "<form class=\"who\" method=\"post\" action=\"/console/sign-out\">\
             <span>{} <span class=\"badge\">{}</span></span>{}\
             <button type=\"submit\">Sign out</button></form>",
            esc(&frame.principal.name),
            esc(frame.principal.role.name()),
            csrf_field(frame.csrf)
        );
    }
    out.push_str("</header><main id=\"main\">");
    if let Some(notice) = notice {
        let (class, role) = match notice.kind {
            NoticeKind::Done => ("notice done", "status"),
            NoticeKind::Refused => ("notice refused", "alert"),
        };
        let _ = write!(
            out,
            "<div class=\"{class}\" role=\"{role}\"><strong>{}</strong> {}</div>",
            esc(&notice.title),
            esc(&notice.detail)
        );
    }
    match live {
        Some(seconds) => {
            let _ = write!(
                out,
                "<div data-live=\"{seconds}\">{body}</div>\
                 <p class=\"live-status\" aria-live=\"polite\"></p>"
            );
        }
        None => out.push_str(body),
    }
    out.push_str("</main></body></html>\n");
    out
}

/// A message above a page: an action done, or refused with the problem's words.
pub struct Notice {
    pub kind: NoticeKind,
    pub title: String,
    pub detail: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    Done,
    Refused,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_values_is_escaped() {
        assert_eq!(
            esc("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
    }

    #[test]
    fn url_parts_are_percent_encoded() {
        assert_eq!(url_part("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
        assert_eq!(url_part("6f1c-AB_9.~"), "6f1c-AB_9.~");
    }
}
