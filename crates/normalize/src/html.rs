//! HTML to paragraphs.
//!
//! The document is parsed with html5ever (through `scraper`), the same
//! tolerant parser browsers use, so broken markup in feeds never fails: it
//! just parses the way a browser would show it. Block-level elements and
//! `<br>` end a paragraph; inline elements join their text; scripts, styles
//! and form controls are dropped.

use ego_tree::iter::Edge;
use ego_tree::{NodeId, NodeRef};
use scraper::{Html, Node, Selector};

use crate::text::clean_whitespace;

/// Elements whose content is never article text.
const SKIPPED: &[&str] = &[
    "script", "style", "noscript", "template", "iframe", "svg", "math", "object", "embed",
    "button", "select", "textarea", "head", "video", "audio", "canvas",
];

/// Page furniture skipped when reading a whole page (not a feed fragment).
const PAGE_FURNITURE: &[&str] = &["nav", "header", "footer", "aside", "form", "menu", "dialog"];

/// Elements that start and end a paragraph.
const BLOCKS: &[&str] = &[
    "p",
    "div",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "section",
    "article",
    "header",
    "footer",
    "figure",
    "figcaption",
    "table",
    "tr",
    "dl",
    "dt",
    "dd",
    "hr",
    "address",
    "main",
    "aside",
    "nav",
    "caption",
    "center",
    "details",
    "summary",
];

/// Returns true when `input` contains an HTML tag, comment or doctype.
pub fn looks_like_html(input: &str) -> bool {
    let bytes = input.as_bytes();
    bytes.windows(2).enumerate().any(|(index, pair)| {
        pair[0] == b'<'
            && (pair[1].is_ascii_alphabetic() || pair[1] == b'/' || pair[1] == b'!')
            && bytes[index..].contains(&b'>')
    })
}

/// Returns the plain-text paragraphs of an HTML fragment, in document
/// order.
pub fn html_to_paragraphs(html: &str) -> Vec<String> {
    let fragment = Html::parse_fragment(html);
    let mut collector = Collector::new(&[]);
    collector.walk(fragment.tree.root());
    collector.finish()
}

/// What a whole HTML page gives before main-text extraction: its title,
/// language, canonical link and body paragraphs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PageParts {
    /// `og:title`, else `<title>`, else the first `<h1>`.
    pub title: Option<String>,
    /// `<html lang>`.
    pub language: Option<String>,
    /// `<link rel=canonical>`.
    pub canonical_url: Option<String>,
    /// Paragraphs of the first `<article>`, else `<main>`, else `<body>`,
    /// without navigation, headers, footers, asides and forms.
    pub paragraphs: Vec<String>,
}

/// Reads a whole HTML page into [`PageParts`].
pub fn html_page_to_article_parts(html: &str) -> PageParts {
    let document = Html::parse_document(html);
    let select = |css: &str| Selector::parse(css).ok();
    let first_text = |css: &str| {
        select(css).and_then(|selector| {
            document
                .select(&selector)
                .map(|element| clean_whitespace(&element.text().collect::<String>()))
                .find(|text| !text.is_empty())
        })
    };
    let first_attr = |css: &str, attr: &str| {
        select(css).and_then(|selector| {
            document
                .select(&selector)
                .filter_map(|element| element.value().attr(attr))
                .map(clean_whitespace)
                .find(|value| !value.is_empty())
        })
    };
    let title = first_attr("meta[property='og:title']", "content")
        .or_else(|| first_text("title"))
        .or_else(|| first_text("h1"));
    let language = first_attr("html", "lang");
    let canonical_url = first_attr("link[rel='canonical']", "href");
    let root = ["article", "main", "body"]
        .iter()
        .find_map(|css| select(css).and_then(|selector| document.select(&selector).next()));
    let mut collector = Collector::new(PAGE_FURNITURE);
    match root {
        Some(element) => collector.walk(*element),
        None => collector.walk(document.tree.root()),
    }
    let mut paragraphs = collector.finish();
    // A page's own headline usually repeats as the body's first block.
    if paragraphs
        .first()
        .is_some_and(|first| Some(first) == title.as_ref())
    {
        paragraphs.remove(0);
    }
    PageParts {
        title,
        language,
        canonical_url,
        paragraphs,
    }
}

struct Collector {
    skipped_extra: &'static [&'static str],
    current: String,
    paragraphs: Vec<String>,
}

impl Collector {
    fn new(skipped_extra: &'static [&'static str]) -> Self {
        Self {
            skipped_extra,
            current: String::new(),
            paragraphs: Vec::new(),
        }
    }

    /// Walks the subtree under `node` iteratively (`traverse` yields open
    /// and close edges), so a hostile document nested a million levels deep
    /// cannot overflow the stack.
    fn walk(&mut self, node: NodeRef<'_, Node>) {
        let mut skipping: Option<NodeId> = None;
        for edge in node.traverse() {
            match edge {
                Edge::Open(current) => {
                    if skipping.is_some() {
                        continue;
                    }
                    match current.value() {
                        Node::Text(text) => self.current.push_str(text),
                        Node::Element(element) => {
                            let name = element.name();
                            if SKIPPED.contains(&name) || self.skipped_extra.contains(&name) {
                                skipping = Some(current.id());
                            } else if name == "br" || BLOCKS.contains(&name) {
                                self.flush();
                            } else if matches!(name, "td" | "th") {
                                self.current.push(' ');
                            }
                        }
                        _ => {}
                    }
                }
                Edge::Close(current) => {
                    if skipping == Some(current.id()) {
                        skipping = None;
                        continue;
                    }
                    if skipping.is_none()
                        && let Node::Element(element) = current.value()
                        && BLOCKS.contains(&element.name())
                    {
                        self.flush();
                    }
                }
            }
        }
    }

    fn flush(&mut self) {
        let paragraph = clean_whitespace(&self.current);
        self.current.clear();
        if !paragraph.is_empty() {
            self.paragraphs.push(paragraph);
        }
    }

    fn finish(mut self) -> Vec<String> {
        self.flush();
        self.paragraphs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_and_breaks_make_paragraphs() {
        let html = "<div><p>One <em>two</em>&nbsp;three.</p>Loose text<br>after break\
                    <ul><li>Item</li></ul><script>var x = 1;</script></div>";
        assert_eq!(
            html_to_paragraphs(html),
            vec!["One two three.", "Loose text", "after break", "Item"]
        );
    }

    #[test]
    fn entities_are_decoded() {
        assert_eq!(
            html_to_paragraphs("<p>AT&amp;T &#8220;quoted&#8221; &eacute;t&eacute;</p>"),
            vec!["AT&T \u{201c}quoted\u{201d} \u{e9}t\u{e9}"]
        );
    }

    #[test]
    fn broken_markup_does_not_fail() {
        assert_eq!(
            html_to_paragraphs("<p>Unclosed <b>bold<p>Next"),
            vec!["Unclosed bold", "Next"]
        );
    }

    #[test]
    fn html_detection() {
        assert!(looks_like_html("<p>x</p>"));
        assert!(!looks_like_html("3 < 4 and 5 > 2"));
        assert!(!looks_like_html("plain text"));
    }

    #[test]
    fn page_parts_skip_furniture() {
        let page = r#"<!doctype html><html lang="en-GB"><head><title>Site | Story</title>
            <meta property="og:title" content="Story headline">
            <link rel="canonical" href="https://news.example/story"></head>
            <body><nav><a href="/">Home</a></nav><article><h1>Story headline</h1>
            <p>LONDON (Reuters) - First.</p><aside>Related: other</aside><p>Second.</p></article>
            <footer>Copyright</footer></body></html>"#;
        let parts = html_page_to_article_parts(page);
        assert_eq!(parts.title.as_deref(), Some("Story headline"));
        assert_eq!(parts.language.as_deref(), Some("en-GB"));
        assert_eq!(
            parts.canonical_url.as_deref(),
            Some("https://news.example/story")
        );
        assert_eq!(
            parts.paragraphs,
            vec!["LONDON (Reuters) - First.", "Second."]
        );
    }
}
