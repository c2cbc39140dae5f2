//! HTML to paragraphs.
//!
//! The document is parsed with html5ever (through `scraper`), the same
//! tolerant parser browsers use, so broken markup in feeds never fails: it
//! just parses the way a browser would show it. Block-level elements and
//! `<br>` end a paragraph; inline elements join their text; scripts, styles
//! and form controls are dropped.

use ego_tree::iter::Edge;
use ego_tree::{NodeId, NodeRef};
use scraper::{Html, Node};

use crate::text::clean_whitespace;

/// Elements whose content is never article text.
const SKIPPED: &[&str] = &[
    "script", "style", "noscript", "template", "iframe", "svg", "math", "object", "embed",
    "button", "select", "textarea", "head", "video", "audio", "canvas",
];

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
    let mut collector = Collector::new();
    collector.walk(fragment.tree.root());
    collector.finish()
}

struct Collector {
    current: String,
    paragraphs: Vec<String>,
}

impl Collector {
    fn new() -> Self {
        Self {
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
                            if SKIPPED.contains(&name) {
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
}
