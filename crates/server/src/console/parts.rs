//! The pieces the console's pages are built from, each written once: a
//! card section under its heading, a table with its column heads, a
//! definition list, a list, a labelled input, a form that posts one action,
//! and the line that says a list is empty. Every argument is HTML already
//! (escaped by the caller with [`esc`](super::html::esc)) unless its name
//! says words.

use std::fmt::Write as _;

use super::html;

/// `<section class="{class}">` labelled by its `<h2 id="{id}">`:
/// `heading` then `inner`.
pub fn section(class: &str, id: &str, heading: &str, inner: &str) -> String {
    format!(
        "<section class=\"{class}\" aria-labelledby=\"{id}\"><h2 id=\"{id}\">{heading}</h2>{inner}</section>"
    )
}

/// One column head of a [`table`]; a numeric column is right-aligned.
#[derive(Clone, Copy)]
pub struct Column {
    label: &'static str,
    numeric: bool,
}

/// A column of text.
pub const fn col(label: &'static str) -> Column {
    Column {
        label,
        numeric: false,
    }
}

/// A column of numbers.
pub const fn num(label: &'static str) -> Column {
    Column {
        label,
        numeric: true,
    }
}

/// A table that scrolls sideways on a narrow screen: an optional caption
/// (words), the column heads, `rows` (the `<tr>`s of the body) and `foot`
/// (a `<tfoot>`, or empty).
pub fn table(caption: Option<&str>, columns: &[Column], rows: &str, foot: &str) -> String {
    let mut out = String::from("<div class=\"scroll\"><table>");
    if let Some(caption) = caption {
        let _ = write!(out, "<caption>{}</caption>", html::esc(caption));
    }
    out.push_str("<thead><tr>");
    for c in columns {
        let class = if c.numeric { " class=\"num\"" } else { "" };
        let _ = write!(out, "<th scope=\"col\"{class}>{}</th>", html::esc(c.label));
    }
    let _ = write!(
        out,
        "</tr></thead><tbody>{rows}</tbody>{foot}</table></div>"
    );
    out
}

/// A definition list laid out as a grid: `(term in words, description)`.
pub fn facts<'a>(pairs: impl IntoIterator<Item = (&'a str, String)>) -> String {
    let mut out = String::from("<dl class=\"grid\">");
    for (term, description) in pairs {
        let _ = write!(out, "<dt>{}</dt><dd>{description}</dd>", html::esc(term));
    }
    out.push_str("</dl>");
    out
}

/// A `<ul>` or `<ol>` (`tag`), with a class when `class` is not empty, of
/// one `<li>` per item.
pub fn list(tag: &str, class: &str, items: impl IntoIterator<Item = String>) -> String {
    let mut out = if class.is_empty() {
        format!("<{tag}>")
    } else {
        format!("<{tag} class=\"{class}\">")
    };
    for item in items {
        let _ = write!(out, "<li>{item}</li>");
    }
    let _ = write!(out, "</{tag}>");
    out
}

/// The words of a list that has nothing in it.
pub fn empty(words: &str) -> String {
    format!("<p class=\"empty\">{}</p>", html::esc(words))
}

/// A link to the order page of `order_id`, showing the id.
pub fn order_link(order_id: &str) -> String {
    format!(
        "<a href=\"/console/orders/{}\">{}</a>",
        html::url_part(order_id),
        html::esc(order_id)
    )
}

/// A label (words) and its input: `attrs` are the input's further
/// attributes, each with its leading space (` required maxlength="500"`).
pub fn field(id: &str, label: &str, name: &str, attrs: &str) -> String {
    format!(
        "<label for=\"{id}\">{}</label><input id=\"{id}\" name=\"{name}\"{attrs}>",
        html::esc(label)
    )
}

/// A form that posts one action: the page's CSRF token, `fields`, and
/// its button.
pub struct Action<'a> {
    /// The form's class; empty for none.
    pub class: &'a str,
    /// Where it posts (already safe in an attribute).
    pub to: String,
    /// An `<h2>` above the fields, in words; empty for none.
    pub heading: &'a str,
    pub csrf: &'a str,
    pub fields: String,
    /// The button's words.
    pub button: &'a str,
    /// A button that cannot be undone is drawn as dangerous.
    pub danger: bool,
    /// The button's accessible name when its words alone are not enough.
    pub aria_label: Option<String>,
}

impl Action<'_> {
    pub fn render(&self) -> String {
        let mut out = String::from("<form");
        if !self.class.is_empty() {
            let _ = write!(out, " class=\"{}\"", self.class);
        }
        let _ = write!(out, " method=\"post\" action=\"{}\">", self.to);
        if !self.heading.is_empty() {
            let _ = write!(out, "<h2>{}</h2>", html::esc(self.heading));
        }
        out.push_str(&html::csrf_field(self.csrf));
        out.push_str(&self.fields);
        out.push_str("<button type=\"submit\"");
        if self.danger {
            out.push_str(" class=\"danger\"");
        }
        if let Some(label) = &self.aria_label {
            let _ = write!(out, " aria-label=\"{}\"", html::esc(label));
        }
        let _ = write!(out, ">{}</button></form>", html::esc(self.button));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_heads_numeric_columns_as_numbers_and_escapes_its_caption() {
        let t = table(Some("A & B"), &[col("Order"), num("Qty")], "<tr></tr>", "");
        assert_eq!(
            t,
            "<div class=\"scroll\"><table><caption>A &amp; B</caption><thead><tr>\
             <th scope=\"col\">Order</th><th scope=\"col\" class=\"num\">Qty</th></tr></thead>\
             <tbody><tr></tr></tbody></table></div>"
        );
    }

    #[test]
    fn an_action_form_carries_the_token_before_its_fields() {
        let form = Action {
            class: "action",
            to: "/console/x".into(),
            heading: "",
            csrf: "t0k",
            fields: "<input name=\"a\">".into(),
            button: "Go",
            danger: true,
            aria_label: Some("Go <now>".into()),
        }
        .render();
        assert_eq!(
            form,
            "<form class=\"action\" method=\"post\" action=\"/console/x\">\
             <input type=\"hidden\" name=\"csrf\" value=\"t0k\"><input name=\"a\">\
             <button type=\"submit\" class=\"danger\" aria-label=\"Go &lt;now&gt;\">Go</button></form>"
        );
    }

    #[test]
    fn a_list_without_a_class_has_no_class_attribute() {
        assert_eq!(list("ul", "", ["a".to_owned()]), "<ul><li>a</li></ul>");
        assert_eq!(
            list("ol", "timeline", Vec::new()),
            "<ol class=\"timeline\"></ol>"
        );
    }
}
