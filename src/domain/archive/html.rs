//! An article page saved as HTML, reduced to what the archive keeps: its title, account,
//! author, publication time, its text (scripts, styles, hidden and tracking markup dropped)
//! and the pictures it shows. The page itself is kept as an attachment by the import; only
//! this text reaches the body and the search index.

use scraper::{ElementRef, Html, Node, Selector};

use super::ImportRecord;
use super::wechat::{self, PageFields};

/// Elements whose content is never text a reader sees.
const SKIPPED: [&str; 12] =
    ["script", "style", "noscript", "template", "iframe", "svg", "canvas", "object", "embed", "head", "button", "form"];

/// Elements after which the text breaks a line.
const BLOCKS: [&str; 20] = [
    "p",
    "div",
    "section",
    "article",
    "br",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "tr",
    "blockquote",
    "pre",
    "table",
    "ul",
    "ol",
    "figure",
    "hr",
];

/// Reads a wechat-article-exporter page; `folder` is the name of the folder it was saved in.
pub fn article(html: &str, folder: &str) -> Result<ImportRecord, String> {
    let page = Html::parse_document(html);
    let content = first(&page, "#js_content").or_else(|| first(&page, "#js_article")).or_else(|| first(&page, "body"));
    let content = content.ok_or("the page has no body")?;
    let fields = PageFields {
        title: text_of(&page, "#activity-name").or_else(|| text_of(&page, "title")),
        account: text_of(&page, "#js_name"),
        author: text_of(&page, "#js_author_name").or_else(|| text_of(&page, "#meta_content .rich_media_meta_text")),
        publish_time: text_of(&page, "#publish_time"),
        text: safe_text(content),
        pictures: pictures(content),
        links: Vec::new(),
    };
    wechat::exporter_page(fields, folder)
}

fn first<'a>(page: &'a Html, selector: &str) -> Option<ElementRef<'a>> {
    let selector = Selector::parse(selector).ok()?;
    page.select(&selector).next()
}

fn text_of(page: &Html, selector: &str) -> Option<String> {
    let text = safe_text(first(page, selector)?);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    (!text.is_empty()).then_some(text)
}

/// The text a reader sees, one paragraph per line.
pub fn safe_text(root: ElementRef<'_>) -> String {
    let mut out = String::new();
    collect_text(root, &mut out);
    let lines: Vec<String> = out
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|line| !line.is_empty())
        .collect();
    lines.join("\n")
}

fn collect_text(element: ElementRef<'_>, out: &mut String) {
    for child in element.children() {
        match child.value() {
            Node::Text(text) => out.push_str(text),
            Node::Element(inner) => {
                let name = inner.name();
                if SKIPPED.contains(&name) || is_hidden(inner) {
                    continue;
                }
                if let Some(child) = ElementRef::wrap(child) {
                    collect_text(child, out);
                }
                if BLOCKS.contains(&name) {
                    out.push('\n');
                }
            }
            _ => {}
        }
    }
}

/// Hidden markup (tracking pixels' wrappers, templates kept for scripts).
fn is_hidden(element: &scraper::node::Element) -> bool {
    let style = element.attr("style").unwrap_or_default().replace(' ', "").to_ascii_lowercase();
    element.attr("hidden").is_some()
        || element.attr("aria-hidden") == Some("true")
        || style.contains("display:none")
        || style.contains("visibility:hidden")
}

/// Every picture's source in page order: the saved copy (`src`, `./assets/…`) first, else the
/// original link (`data-src`).
fn pictures(root: ElementRef<'_>) -> Vec<String> {
    let Ok(images) = Selector::parse("img") else { return Vec::new() };
    root.select(&images)
        .filter_map(|image| {
            let value = image.value();
            value
                .attr("src")
                .filter(|src| !src.trim().is_empty() && !src.starts_with("data:"))
                .or(value.attr("data-src"))
        })
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::media::MediaRole;

    const PAGE: &str = r#"<!DOCTYPE html><html><head><title>反诈宣传进社区</title><style>body{color:red}</style></head>
<body><div id="js_article"><h1 id="activity-name"> 反诈宣传进社区 </h1>
<div id="meta_content"><a id="js_name">平安某县</a><em id="publish_time">2024年05月01日 08:30</em></div>
<div id="js_content"><p>民警走进社区，<b>讲解</b>防诈骗知识。</p><script>track("x")</script>
<p style="display: none">隐藏的统计代码</p><img src="./assets/1715.8374.jpeg" data-src="https://mmbiz.qpic.cn/a.jpg">
<img data-src="https://mmbiz.qpic.cn/b.jpg"><img src="../../etc/passwd"><p>请大家提高警惕。</p></div></div></body></html>"#;

    #[test]
    fn a_saved_page_reads_as_safe_text_with_its_pictures() {
        let record = article(PAGE, "反诈宣传进社区").unwrap();
        assert_eq!(record.title, "反诈宣传进社区");
        assert_eq!(record.account.as_deref(), Some("平安某县"));
        assert_eq!(record.body, "民警走进社区，讲解防诈骗知识。\n请大家提高警惕。");
        assert_eq!(record.published_at.to_rfc3339(), "2024-05-01T00:30:00+00:00");
        let local: Vec<(&str, MediaRole)> =
            record.local_media.iter().map(|media| (media.path.as_str(), media.role)).collect();
        assert_eq!(local, vec![("assets/1715.8374.jpeg", MediaRole::Still), ("index.html", MediaRole::Attachment)]);
        assert_eq!(record.remote_media, vec!["https://mmbiz.qpic.cn/b.jpg"]);
        assert!(record.source_key.starts_with("wechat-page:"));
        assert_eq!(article(PAGE, "x").unwrap().source_key, record.source_key, "the same page, the same key");
    }

    #[test]
    fn a_page_without_a_time_is_refused() {
        let error = article("<html><body><p>无时间</p></body></html>", "无题").unwrap_err();
        assert!(error.contains("publish_time"), "{error}");
    }
}
