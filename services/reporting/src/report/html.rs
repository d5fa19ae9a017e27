//! The report as one HTML document: no script, no link, no image fetched, and a
//! Content-Security-Policy that would stop any that slipped in. Every piece of text from the
//! projections goes through [`escape`].

use std::fmt::Write;

use chrono::{DateTime, Utc};

use super::chart::{Chart, Shown, label};
use super::svg::bar_chart;

/// The Content-Security-Policy: scripts, frames, fonts, images, connections, form posts and
/// base URLs are all refused, and the only style that applies is the document's own `<style>`,
/// named by its hash (so not even an injected style attribute would).
fn policy() -> String {
    use base64::Engine;
    use sha2::Digest;
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(STYLE));
    format!("default-src 'none'; style-src 'sha256-{hash}'; base-uri 'none'; form-action 'none'")
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;\
padding:0 1rem;color:#222}h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2.5rem}\
table{border-collapse:collapse;margin-top:.8rem}th,td{border:1px solid #ccc;padding:.2rem .6rem}\
td{text-align:right}.suppressed{color:#666;font-style:italic}dl.totals{display:grid;\
grid-template-columns:max-content max-content;gap:.3rem 1.5rem}dl.totals dd{margin:0;\
font-weight:bold}svg text{font-size:12px;fill:#222}.note{color:#444;font-size:.9rem}";

/// Everything a report shows.
pub struct Page {
    pub public: bool,
    pub threshold: i64,
    pub as_of: DateTime<Utc>,
    pub totals: Vec<(&'static str, &'static str, Shown)>,
    pub charts: Vec<Chart>,
}

/// `text` safe inside HTML or SVG text and attribute values.
pub fn escape(text: &str) -> String {
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

/// The whole document.
pub fn document(page: &Page) -> String {
    let edition = if page.public {
        "public edition"
    } else {
        "internal edition, not for publication"
    };
    let mut html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{policy}\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"referrer\" content=\"no-referrer\">\
         <title>Docket statistics ({edition})</title><style>{STYLE}</style></head><body>\
         <h1>Allegations, cases and charges: statistics</h1>\
         <p id=\"edition\" data-audience=\"{audience}\">{edition_title}. Figures as of \
         <time datetime=\"{as_of}\">{as_of_text}</time>, from the case-management and intake \
         records as projected for reporting.</p>",
        policy = policy(),
        audience = if page.public { "public" } else { "internal" },
        edition_title = if page.public {
            "Public edition"
        } else {
            "Internal edition: every count is exact; not for publication"
        },
        as_of = page.as_of.to_rfc3339(),
        as_of_text = page.as_of.format("%Y-%m-%d %H:%M UTC"),
    );
    if page.public {
        let _ = write!(
            html,
            "<p class=\"note\" id=\"suppression\">To protect the people behind them, counts \
             from 1 to {t} are not published: they read <span class=\"suppressed\">suppressed\
             </span>. So that none can be worked out by subtraction from a total, some larger \
             counts beside them are suppressed too, and so is a total of {t} or less. Zero is \
             always shown.</p>",
            t = page.threshold
        );
    }
    let _ = write!(
        html,
        "<p class=\"note\" id=\"counting-rule\">{}</p>",
        escape(crate::counting::RULE)
    );
    totals(&mut html, page);
    for chart in &page.charts {
        section(&mut html, chart);
    }
    html.push_str(
        "<p class=\"note\">A case alleged against two parties counts once in each party's \
         figures and once in the totals. People harmed come from the cases' casualty figures, \
         so an allegation found to duplicate another adds none.</p></body></html>\n",
    );
    html
}

fn shown(value: Shown) -> String {
    match value {
        Shown::Count(n) => format!("<span class=\"count\">{n}</span>"),
        Shown::Suppressed => "<span class=\"suppressed\">suppressed</span>".to_owned(),
    }
}

fn totals(html: &mut String, page: &Page) {
    html.push_str("<h2>Totals</h2><dl class=\"totals\" id=\"totals\">");
    for (key, name, value) in &page.totals {
        let _ = write!(
            html,
            "<dt>{}</dt><dd data-cell=\"totals/{}\">{}</dd>",
            escape(name),
            escape(key),
            shown(*value)
        );
    }
    html.push_str("</dl>");
}

fn section(html: &mut String, chart: &Chart) {
    let id = escape(&chart.id);
    let _ = write!(
        html,
        "<section id=\"{id}\"><h2>{}</h2>{}<table><thead><tr><th scope=\"col\">{}</th>",
        escape(&chart.title),
        bar_chart(chart),
        escape(&chart.category_label),
    );
    for series in &chart.series {
        let _ = write!(html, "<th scope=\"col\">{}</th>", escape(&label(series)));
    }
    html.push_str("</tr></thead><tbody>");
    for category in &chart.categories {
        let _ = write!(
            html,
            "<tr><th scope=\"row\">{}</th>",
            escape(&label(category))
        );
        for series in &chart.series {
            let _ = write!(
                html,
                "<td data-cell=\"{id}/{}/{}\">{}</td>",
                escape(category),
                escape(series),
                shown(chart.cell(category, series))
            );
        }
        html.push_str("</tr>");
    }
    if chart.categories.is_empty() {
        html.push_str("<tr><td colspan=\"2\">Nothing to show yet.</td></tr>");
    }
    html.push_str("</tbody></table>");
    if chart.any_suppressed() {
        html.push_str(
            "<p class=\"note\">Cells marked suppressed are withheld; see the note at the top.</p>",
        );
    }
    html.push_str("</section>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_markup_character_is_escaped() {
        assert_eq!(
            escape("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
    }
}
