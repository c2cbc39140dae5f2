//! Article pages: the main text of an HTML page and its metadata.
//!
//! One parse (html5ever, through `scraper`) and one iterative walk over the
//! tree gather everything: the text blocks of the body with their link
//! text, the metadata sources ([`meta`]), and per element the text it
//! holds. The main text is then found the way readability-style extractors
//! find it, kept small and fast:
//!
//! 1. Furniture never enters: scripts, navigation, headers with the
//!    headline, footers, asides, forms, figures and captions, embeds, data
//!    tables, hidden elements, and elements whose class or id says share
//!    bar, comments, related, newsletter, cookie notice, advertisement and
//!    the like.
//! 2. Every prose block (25+ characters, few links) scores its parent
//!    fully, its grandparent by half and the next ancestor by a third; the
//!    score grows with length and commas. The element with the best score,
//!    discounted by its link density, holds the article.
//! 3. Its siblings that score well too are added (bodies split by an
//!    inline box, or spread over sibling containers).
//! 4. The blocks inside are the paragraphs — headings and list items
//!    included — less link lists, bylines, time stamps and "Advertisement"
//!    style lines.
//!
//! The JSON-LD `articleBody` wins when it is sane (long enough, not a
//! truncated snippet, no markup) and the page's own text misses much of
//! it, as on paywalled pages that hide the text from readers but give it to
//! search engines.

pub mod meta;

use ego_tree::NodeRef;
use ego_tree::iter::Edge;
use scraper::{Html, Node};
use url::Url;
use wirefeed_model::BodySource;

pub use meta::{PageMeta, parse_datetime};

use meta::{MetaSources, clean};

/// What an article page gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The main text, one paragraph (heading, list item) per entry.
    pub paragraphs: Vec<String>,
    /// Where the paragraphs came from.
    pub body_source: BodySource,
    /// The page's metadata.
    pub meta: PageMeta,
}

/// Elements nested deeper than this make a page hostile: the HTML parser's
/// scope checks cost time in proportion to the depth for every tag, so a
/// page of nothing but `<div>`s would take minutes. Real pages stay under
/// a few hundred.
pub const MAX_NESTING: usize = 2_000;

/// Why a page could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    /// The page nests elements deeper than [`MAX_NESTING`].
    #[error("page nests elements at least {depth} deep (limit {limit})")]
    TooDeep {
        /// How deep it got before the scan stopped.
        depth: usize,
        /// The limit.
        limit: usize,
    },
}

impl PageError {
    /// The bounded metric label for this error.
    pub fn error_type(&self) -> &'static str {
        match self {
            PageError::TooDeep { .. } => "too_deep",
        }
    }
}

/// Elements the parser closes by itself, not counted as nesting.
const SELF_CLOSING: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "option",
];

/// Scans the tags (without parsing) and fails when elements nest deeper
/// than `limit`.
fn check_nesting(html: &str, limit: usize) -> Result<(), PageError> {
    let bytes = html.as_bytes();
    let mut depth = 0usize;
    for at in memchr::memchr_iter(b'<', bytes) {
        let rest = &bytes[at + 1..];
        let closing = rest.first() == Some(&b'/');
        let name_start = usize::from(closing);
        let name_len = rest[name_start..]
            .iter()
            .take_while(|byte| byte.is_ascii_alphanumeric() || **byte == b'-')
            .count();
        if name_len == 0 {
            continue;
        }
        let name = &rest[name_start..name_start + name_len];
        if SELF_CLOSING
            .iter()
            .any(|tag| tag.as_bytes().eq_ignore_ascii_case(name))
        {
            continue;
        }
        if closing {
            depth = depth.saturating_sub(1);
        } else {
            depth += 1;
            if depth > limit {
                return Err(PageError::TooDeep { depth, limit });
            }
        }
    }
    Ok(())
}

/// Extracts the main text and metadata of an article page. `url` (the
/// address it was fetched from) resolves relative links.
pub fn extract_page(html: &str, url: Option<&Url>) -> Result<Page, PageError> {
    check_nesting(html, MAX_NESTING)?;
    let document = Html::parse_document(html);
    let mut walk = Walk::default();
    walk.run(document.tree.root());
    let json_ld = meta::read_json_ld(&walk.sources.json_ld);
    let page_meta = meta::merge(&walk.sources, &json_ld, url);
    let mut paragraphs = walk.main_text();
    // The headline repeated as the first block is not body text.
    if let Some(headline) = &page_meta.headline {
        while paragraphs.first().is_some_and(|first| first == headline) {
            paragraphs.remove(0);
        }
    }
    let mut body_source = BodySource::PageHtml;
    if let Some(body) = json_ld
        .body
        .as_deref()
        .filter(|body| sane_article_body(body))
        && coverage(&paragraphs, body) < 0.9
    {
        paragraphs = split_article_body(body);
        body_source = BodySource::PageJsonLd;
    }
    Ok(Page {
        paragraphs,
        body_source,
        meta: page_meta,
    })
}

/// Decodes a fetched page: the charset of the `Content-Type` header, else
/// a byte-order mark, else `<meta charset>` in the first kilobytes, else
/// UTF-8 (bad bytes replaced, never an error).
pub fn decode_html(bytes: &[u8], content_type: Option<&str>) -> String {
    let from_header = content_type
        .and_then(|value| {
            value.split(';').find_map(|part| {
                let (key, value) = part.split_once('=')?;
                key.trim()
                    .eq_ignore_ascii_case("charset")
                    .then(|| value.trim().trim_matches('"').to_owned())
            })
        })
        .and_then(|label| encoding_rs::Encoding::for_label(label.as_bytes()));
    let encoding = from_header
        .or_else(|| encoding_rs::Encoding::for_bom(bytes).map(|(encoding, _)| encoding))
        .or_else(|| meta_charset(&bytes[..bytes.len().min(4096)]))
        .unwrap_or(encoding_rs::UTF_8);
    let (text, _, _) = encoding.decode(bytes);
    text.into_owned()
}

/// `<meta charset=…>` or `<meta http-equiv=Content-Type content="…;
/// charset=…">` near the top of a page.
fn meta_charset(head: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    let at = text.find("charset=")? + "charset=".len();
    let label: String = text[at..]
        .trim_start_matches(['"', '\''])
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
        .collect();
    encoding_rs::Encoding::for_label(label.as_bytes())
}

/// An `articleBody` is used only when it is real text: long enough, not a
/// snippet cut off with an ellipsis, without markup.
fn sane_article_body(body: &str) -> bool {
    let trimmed = body.trim();
    let words = trimmed.split_whitespace().count();
    let truncated = trimmed.ends_with('…') || trimmed.ends_with("...");
    let markup = trimmed.contains("</") || trimmed.contains("<p");
    let snippet = truncated && words < 300;
    words >= 80 && !snippet && !markup
}

/// Splits an `articleBody` into paragraphs at blank lines, else at line
/// breaks.
fn split_article_body(body: &str) -> Vec<String> {
    let separator = if body.contains("\n\n") { "\n\n" } else { "\n" };
    body.split(separator)
        .map(clean)
        .filter(|paragraph| !paragraph.is_empty())
        .collect()
}

/// Share of the words of `body` found in `paragraphs` (as a multiset).
fn coverage(paragraphs: &[String], body: &str) -> f64 {
    use std::collections::HashMap;
    let mut have: HashMap<String, usize> = HashMap::new();
    for word in paragraphs.iter().flat_map(|p| p.split_whitespace()) {
        *have.entry(word_key(word)).or_default() += 1;
    }
    let mut total = 0usize;
    let mut found = 0usize;
    for word in body.split_whitespace() {
        total += 1;
        if let Some(count) = have.get_mut(&word_key(word))
            && *count > 0
        {
            *count -= 1;
            found += 1;
        }
    }
    if total == 0 {
        1.0
    } else {
        found as f64 / total as f64
    }
}

fn word_key(word: &str) -> String {
    word.trim_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase()
}

/// Elements whose content is never article text.
const SKIPPED: &[&str] = &[
    "script",
    "style",
    "noscript",
    "template",
    "iframe",
    "svg",
    "math",
    "object",
    "embed",
    "button",
    "select",
    "textarea",
    "input",
    "label",
    "option",
    "video",
    "audio",
    "canvas",
    "picture",
    "img",
    "nav",
    "aside",
    "form",
    "menu",
    "dialog",
    "figure",
    "figcaption",
    "footer",
    "h1",
    "source",
    "track",
    "map",
];

/// Elements that start and end a text block.
const BLOCKS: &[&str] = &[
    "p",
    "div",
    "li",
    "ul",
    "ol",
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
    "table",
    "tbody",
    "thead",
    "tr",
    "td",
    "th",
    "dl",
    "dt",
    "dd",
    "hr",
    "address",
    "main",
    "center",
    "details",
    "summary",
    "body",
];

/// Class/id words that mark furniture whatever else the element says.
const STRONG_NEGATIVE: &[&str] = &[
    "ad",
    "ads",
    "adslot",
    "advert",
    "advertisement",
    "advertising",
    "banner",
    "breadcrumb",
    "breadcrumbs",
    "byline",
    "bylines",
    "caption",
    "comment",
    "comments",
    "consent",
    "cookie",
    "cookies",
    "disqus",
    "gdpr",
    "instagram",
    "modal",
    "newsletter",
    "outbrain",
    "paywall",
    "popular",
    "popup",
    "promo",
    "pullquote",
    "recirc",
    "recommendations",
    "recommended",
    "related",
    "share",
    "sharebar",
    "sharing",
    "signup",
    "sponsor",
    "sponsored",
    "subscribe",
    "subscription",
    "taboola",
    "trending",
    "tweet",
    "twitter",
    "facebook",
    "youtube",
    "bio",
    "author",
    "authors",
    "dek",
    "standfirst",
    "kicker",
    "eyebrow",
    "credit",
    "credits",
    "timestamp",
    "dateline-meta",
    "social",
    "skip",
    "sronly",
    "ticker",
    "scoreboard",
    "rating",
    "stars",
    "guestbook",
    "tags",
    "topics",
    "disclaimer",
];

/// Class/id words that mark furniture unless the element also says it is
/// the article.
const WEAK_NEGATIVE: &[&str] = &[
    "sidebar",
    "widget",
    "meta",
    "footer",
    "header",
    "masthead",
    "nav",
    "navigation",
    "menu",
    "tools",
    "toolbar",
    "utility",
    "alert",
    "notice",
    "print",
    "email",
    "date",
    "hidden",
    "login",
    "account",
    "search",
    "logo",
    "copyright",
    "legal",
    "video",
    "player",
    "embed",
    "pull",
    "aside",
    "rail",
    "more",
    "extra",
    "follow",
    "gallery",
    "carousel",
    "slideshow",
];

/// Class/id words that say "this is the article".
const POSITIVE: &[&str] = &[
    "article", "body", "content", "entry", "main", "post", "story", "text", "prose",
];

/// How sure an element's class/id is that it is furniture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hint {
    None,
    /// A word that can also name a layout wrapper ("sidebar", "rail").
    Weak,
    /// A word that names furniture ("comments", "share", "related").
    Strong,
}

/// Share of the page's text a furniture-hinted element may hold and still
/// be skipped. A wrapper holding most of the text is the article whatever
/// its class says ("b-right-rail-advanced", "story share-enabled").
const WEAK_HINT_MAX_SHARE: f64 = 0.3;
const STRONG_HINT_MAX_SHARE: f64 = 0.6;

/// ARIA landmark roles that are never the article.
const FURNITURE_ROLES: &[&str] = &[
    "navigation",
    "banner",
    "contentinfo",
    "complementary",
    "dialog",
    "alertdialog",
    "search",
    "menu",
    "menubar",
    "toolbar",
    "tablist",
];

/// What an element's role, class, id and component names say about it.
fn element_hint(element: &scraper::node::Element) -> Hint {
    // The page's summary (dek) marked as such is metadata, not body.
    if element
        .attr("itemprop")
        .is_some_and(|prop| prop.trim().eq_ignore_ascii_case("description"))
    {
        return Hint::Strong;
    }
    if element
        .attr("role")
        .is_some_and(|role| FURNITURE_ROLES.contains(&role.trim().to_ascii_lowercase().as_str()))
    {
        return Hint::Strong;
    }
    // Sites with generated class names ("css-1x9q") name their components
    // in data attributes instead.
    furniture_hint(&[
        element.attr("class"),
        element.id(),
        element.attr("data-testid"),
        element.attr("data-component"),
        element.attr("data-module"),
    ])
}

/// What an element's class, id and component names (whitespace-separated
/// tokens) say about it.
fn furniture_hint(names: &[Option<&str>]) -> Hint {
    let mut strong = false;
    let mut weak = false;
    let mut positive = false;
    for token in names
        .iter()
        .flatten()
        .flat_map(|name| name.split_whitespace())
    {
        let token = token.to_ascii_lowercase();
        // Taxonomy and state classes ("tag-social", "category-comment",
        // "has-sidebar") describe the story, not the element.
        if ["tag-", "category-", "has-", "is-", "topic-", "section-"]
            .iter()
            .any(|prefix| token.starts_with(prefix))
        {
            continue;
        }
        if token == "sr-only" || token == "visually-hidden" || token == "screen-reader-text" {
            strong = true;
        }
        for word in token.split(|c: char| !c.is_ascii_alphanumeric()) {
            if word.is_empty() {
                continue;
            }
            strong |= STRONG_NEGATIVE.contains(&word);
            weak |= WEAK_NEGATIVE.contains(&word);
            positive |= POSITIVE.iter().any(|good| word.contains(good));
        }
    }
    if strong {
        Hint::Strong
    } else if weak && !positive {
        Hint::Weak
    } else {
        Hint::None
    }
}

fn hidden(element: &scraper::node::Element) -> bool {
    element.attr("hidden").is_some()
        || element.attr("aria-hidden") == Some("true")
        || element.attr("style").is_some_and(|style| {
            let style: String = style
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect::<String>()
                .to_ascii_lowercase();
            style.contains("display:none") || style.contains("visibility:hidden")
        })
}

/// A data table (headers or a caption), as opposed to a layout table.
fn data_table(node: NodeRef<'_, Node>) -> bool {
    node.descendants().any(|child| {
        child
            .value()
            .as_element()
            .is_some_and(|element| matches!(element.name(), "th" | "thead" | "caption"))
    })
}

/// Microdata properties read for metadata.
const ITEMPROPS: &[&str] = &[
    "headline",
    "author",
    "datepublished",
    "datemodified",
    "articlesection",
    "publisher",
    "image",
];

#[derive(Debug)]
struct Block {
    text: String,
    link_chars: usize,
    owner: usize,
}

#[derive(Debug)]
struct Elem {
    parent: Option<usize>,
    /// First block index inside.
    start: usize,
    /// One past the last block index inside.
    end: usize,
    text_chars: usize,
    link_chars: usize,
    /// Paragraph-length prose blocks (100+ characters, few links) inside.
    long_blocks: usize,
    score: f64,
    is_p: bool,
}

#[derive(Debug, Default)]
struct Walk {
    sources: MetaSources,
    blocks: Vec<Block>,
    elems: Vec<Elem>,
    /// Open block-level elements (indices into `elems`).
    stack: Vec<usize>,
    current: String,
    current_links: usize,
    link_depth: usize,
    body_seen: bool,
}

impl Walk {
    fn run(&mut self, root: NodeRef<'_, Node>) {
        let sizes = text_sizes(root);
        let page_chars = sizes.values().copied().max().unwrap_or(0).max(1) as f64;
        let share = |node: NodeRef<'_, Node>| {
            sizes.get(&node.id()).copied().unwrap_or(0) as f64 / page_chars
        };
        let mut skipping: Option<ego_tree::NodeId> = None;
        // Open elements of any kind, with the block index each opened.
        let mut open: Vec<(ego_tree::NodeId, Option<usize>, bool)> = Vec::new();
        for edge in root.traverse() {
            match edge {
                Edge::Open(node) => {
                    if skipping.is_some() {
                        // Furniture still carries metadata: bylines, times,
                        // microdata.
                        if let Node::Element(element) = node.value() {
                            self.gather_meta(node, element);
                        }
                        continue;
                    }
                    match node.value() {
                        Node::Text(text) if self.body_seen => {
                            if self.link_depth > 0 {
                                self.current_links +=
                                    text.chars().filter(|c| !c.is_whitespace()).count();
                            }
                            self.current.push_str(text);
                        }
                        Node::Element(element) => {
                            let name = element.name();
                            self.gather_meta(node, element);
                            let skip = SKIPPED.contains(&name)
                                || name.starts_with("amp-")
                                || hidden(element)
                                || (name == "header" && header_is_furniture(node))
                                || (name == "table" && data_table(node))
                                || (self.body_seen
                                    && name != "body"
                                    && match element_hint(element) {
                                        Hint::None => false,
                                        Hint::Weak => share(node) < WEAK_HINT_MAX_SHARE,
                                        Hint::Strong => share(node) < STRONG_HINT_MAX_SHARE,
                                    });
                            if skip {
                                skipping = Some(node.id());
                                if name == "h1" {
                                    // Still a text boundary.
                                    self.flush();
                                }
                                continue;
                            }
                            if name == "body" {
                                self.body_seen = true;
                            }
                            let is_block = BLOCKS.contains(&name);
                            if name == "br" {
                                self.flush();
                            } else if name == "a" {
                                self.link_depth += 1;
                            }
                            let mut pushed = None;
                            if is_block && self.body_seen {
                                self.flush();
                                let index = self.elems.len();
                                self.elems.push(Elem {
                                    parent: self.stack.last().copied(),
                                    start: self.blocks.len(),
                                    end: self.blocks.len(),
                                    text_chars: 0,
                                    link_chars: 0,
                                    long_blocks: 0,
                                    score: 0.0,
                                    is_p: name == "p",
                                });
                                self.stack.push(index);
                                pushed = Some(index);
                            }
                            open.push((node.id(), pushed, name == "a"));
                        }
                        _ => {}
                    }
                }
                Edge::Close(node) => {
                    if skipping == Some(node.id()) {
                        skipping = None;
                        continue;
                    }
                    if skipping.is_some() || !matches!(node.value(), Node::Element(_)) {
                        continue;
                    }
                    let Some((_, pushed, is_link)) = open.pop() else {
                        continue;
                    };
                    if is_link {
                        self.link_depth = self.link_depth.saturating_sub(1);
                    }
                    if let Some(index) = pushed {
                        self.flush();
                        self.stack.pop();
                        let (text_chars, link_chars) = {
                            let elem = &mut self.elems[index];
                            elem.end = self.blocks.len();
                            (elem.text_chars, elem.link_chars)
                        };
                        if let Some(parent) = self.elems[index].parent {
                            self.elems[parent].text_chars += text_chars;
                            self.elems[parent].link_chars += link_chars;
                        }
                    }
                }
            }
        }
        self.flush();
    }

    /// Notes what the metadata needs from an element.
    fn gather_meta(&mut self, node: NodeRef<'_, Node>, element: &scraper::node::Element) {
        let sources = &mut self.sources;
        match element.name() {
            "html" => {
                if let Some(lang) = element.attr("lang").or_else(|| element.attr("xml:lang")) {
                    sources.html_lang = Some(lang.trim().to_owned());
                }
            }
            "meta" => {
                let key = element
                    .attr("property")
                    .or_else(|| element.attr("name"))
                    .or_else(|| element.attr("http-equiv"));
                if let (Some(key), Some(content)) = (key, element.attr("content")) {
                    sources
                        .meta
                        .push((key.trim().to_ascii_lowercase(), content.trim().to_owned()));
                }
            }
            "link" => {
                let canonical = element.attr("rel").is_some_and(|rel| {
                    rel.split_whitespace()
                        .any(|word| word.eq_ignore_ascii_case("canonical"))
                });
                if canonical
                    && sources.canonical.is_none()
                    && let Some(href) = element.attr("href")
                {
                    sources.canonical = Some(href.trim().to_owned());
                }
            }
            "script"
                if element.attr("type").is_some_and(|kind| {
                    kind.trim().eq_ignore_ascii_case("application/ld+json")
                }) =>
            {
                sources.json_ld.push(node_text(node));
            }
            "title" if sources.title.is_none() => {
                sources.title = Some(clean(&node_text(node))).filter(|text| !text.is_empty());
            }
            "h1" if sources.h1.is_none() => {
                sources.h1 = Some(clean(&node_text(node))).filter(|text| !text.is_empty());
            }
            "time" if sources.time.is_none() => {
                sources.time = element.attr("datetime").map(str::to_owned);
            }
            _ => {}
        }
        if let Some(prop) = element.attr("itemprop") {
            let prop = prop.trim().to_ascii_lowercase();
            if ITEMPROPS.contains(&prop.as_str()) && !sources.itemprops.contains_key(&prop) {
                let value = element
                    .attr("content")
                    .or_else(|| element.attr("datetime"))
                    .map(str::to_owned)
                    .or_else(|| {
                        if prop == "image" {
                            return element.attr("src").map(str::to_owned);
                        }
                        // A Person's name sits in a nested itemprop=name.
                        let text = clean(&node_text(node));
                        (text.len() <= 200).then_some(text)
                    });
                if let Some(value) = value {
                    sources.itemprops.insert(prop, value);
                }
            }
        }
        if sources.byline.is_none() && self.body_seen {
            let rel_author = element
                .attr("rel")
                .is_some_and(|rel| rel.split_whitespace().any(|word| word == "author"));
            let class_byline = element.attr("class").is_some_and(|class| {
                class.split_whitespace().any(|token| {
                    let token = token.to_ascii_lowercase();
                    token
                        .split(|c: char| !c.is_ascii_alphanumeric())
                        .any(|word| matches!(word, "byline" | "author" | "authors"))
                        && !token.contains("bio")
                })
            });
            if rel_author || class_byline {
                // An author link stands inside the byline: read the whole
                // line, so "By A and B" gives both names.
                let line = match node.parent() {
                    Some(parent) if rel_author && element.name() == "a" => parent,
                    _ => node,
                };
                let text = clean(&node_text(line));
                if !text.is_empty() && text.len() <= 200 {
                    sources.byline = Some(text);
                }
            }
        }
    }

    fn flush(&mut self) {
        if self.current.is_empty() {
            return;
        }
        let text = clean(&self.current);
        let link_chars = self.current_links;
        self.current.clear();
        self.current_links = 0;
        let Some(&owner) = self.stack.last() else {
            return;
        };
        if text.is_empty() {
            return;
        }
        let chars = text.chars().filter(|c| !c.is_whitespace()).count();
        let elem = &mut self.elems[owner];
        elem.text_chars += chars;
        elem.link_chars += link_chars.min(chars);
        self.blocks.push(Block {
            text,
            link_chars: link_chars.min(chars),
            owner,
        });
    }

    fn main_text(&mut self) -> Vec<String> {
        if self.blocks.is_empty() {
            return Vec::new();
        }
        self.score();
        self.propagate_good();
        let Some(mut top) = self.best() else {
            return Vec::new();
        };
        // Climb to an ancestor that holds clearly more paragraphs — at
        // least three more, and a third more — for a body spread over
        // wrappers, each paragraph in its own nest of divs. A dek, a
        // cookie notice or a caption next to the article is not enough.
        let mut ancestor = self.elems[top].parent;
        while let Some(index) = ancestor {
            let elem = &self.elems[index];
            let have = self.elems[top].long_blocks;
            if elem.long_blocks >= have + 3.max(have.div_ceil(3)) && link_density(elem) < 0.35 {
                top = index;
            }
            ancestor = elem.parent;
        }
        let mut region = vec![top];
        if let Some(parent) = self.elems[top].parent {
            let threshold = (self.elems[top].score * 0.2).max(3.0);
            for (index, elem) in self.elems.iter().enumerate() {
                if index == top || elem.parent != Some(parent) {
                    continue;
                }
                let density = link_density(elem);
                let good_score = elem.score >= threshold && density < 0.25;
                let good_paragraph = elem.is_p && elem.text_chars >= 80 && density < 0.25;
                if good_score || good_paragraph {
                    region.push(index);
                }
            }
        }
        region.sort_by_key(|&index| self.elems[index].start);
        let mut paragraphs = Vec::new();
        for &root in &region {
            let (start, end) = (self.elems[root].start, self.elems[root].end);
            for block in &self.blocks[start..end] {
                if keep_block(block) {
                    paragraphs.push(block.text.clone());
                }
            }
        }
        paragraphs
    }

    fn score(&mut self) {
        for index in 0..self.blocks.len() {
            let block = &self.blocks[index];
            let chars = block.text.chars().count();
            if chars < 25 || block.link_chars * 3 > chars {
                continue;
            }
            let commas = block
                .text
                .chars()
                .filter(|c| matches!(c, ',' | '，' | '、'))
                .count();
            let points = 1.0 + commas as f64 + (chars as f64 / 100.0).min(3.0);
            if chars >= 100 {
                self.elems[block.owner].long_blocks += 1;
            }
            let mut target = self.elems[block.owner].parent;
            // A block in a <p> scores the p's parent; text straight in a
            // div or cell scores that element first.
            if !self.elems[block.owner].is_p {
                target = Some(block.owner);
            }
            for divider in [1.0, 2.0, 3.0] {
                let Some(index) = target else { break };
                self.elems[index].score += points / divider;
                target = self.elems[index].parent;
            }
        }
    }

    /// Sums paragraph counts up the tree: elements are in document
    /// order, so every parent comes before its children.
    fn propagate_good(&mut self) {
        for index in (0..self.elems.len()).rev() {
            if let Some(parent) = self.elems[index].parent {
                self.elems[parent].long_blocks += self.elems[index].long_blocks;
            }
        }
    }

    fn best(&self) -> Option<usize> {
        self.elems
            .iter()
            .enumerate()
            .filter(|(_, elem)| elem.score > 0.0)
            .map(|(index, elem)| (index, elem.score * (1.0 - link_density(elem))))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(index, _)| index)
    }
}

fn link_density(elem: &Elem) -> f64 {
    if elem.text_chars == 0 {
        0.0
    } else {
        elem.link_chars as f64 / elem.text_chars as f64
    }
}

/// Whether a `<header>` is page or article-head furniture: outside any
/// article, or holding the headline.
fn header_is_furniture(node: NodeRef<'_, Node>) -> bool {
    let in_article = node.ancestors().any(|ancestor| {
        ancestor
            .value()
            .as_element()
            .is_some_and(|element| matches!(element.name(), "article" | "main"))
    });
    let has_h1 = node.descendants().any(|child| {
        child
            .value()
            .as_element()
            .is_some_and(|element| element.name() == "h1")
    });
    !in_article || has_h1
}

/// Characters of visible text (scripts and styles left out) under every
/// element that holds any, by node; one iterative pass.
fn text_sizes(root: NodeRef<'_, Node>) -> std::collections::HashMap<ego_tree::NodeId, usize> {
    let mut sizes = std::collections::HashMap::new();
    let mut stack: Vec<(ego_tree::NodeId, usize)> = Vec::new();
    let mut skipping: Option<ego_tree::NodeId> = None;
    for edge in root.traverse() {
        match edge {
            Edge::Open(node) => {
                if skipping.is_some() {
                    continue;
                }
                match node.value() {
                    Node::Element(element) => {
                        if matches!(element.name(), "script" | "style" | "noscript" | "template") {
                            skipping = Some(node.id());
                        } else {
                            stack.push((node.id(), 0));
                        }
                    }
                    Node::Text(text) => {
                        if let Some(top) = stack.last_mut() {
                            top.1 += text.trim().len();
                        }
                    }
                    _ => {}
                }
            }
            Edge::Close(node) => {
                if skipping == Some(node.id()) {
                    skipping = None;
                    continue;
                }
                if skipping.is_some() || !matches!(node.value(), Node::Element(_)) {
                    continue;
                }
                if let Some((id, size)) = stack.pop() {
                    if size > 0 {
                        sizes.insert(id, size);
                    }
                    if let Some(parent) = stack.last_mut() {
                        parent.1 += size;
                    }
                }
            }
        }
    }
    sizes
}

/// The text under `node`; a line break becomes " | ", the separator
/// bylines use between names and titles.
fn node_text(node: NodeRef<'_, Node>) -> String {
    let mut text = String::new();
    for child in node.descendants() {
        match child.value() {
            Node::Text(part) => text.push_str(part),
            Node::Element(element) if element.name() == "br" => text.push_str(" | "),
            _ => {}
        }
    }
    text
}

/// Short lines that are page furniture wherever they stand.
const FURNITURE_LINES: &[&str] = &[
    "advertisement",
    "advertisment",
    "story continues below advertisement",
    "article continues below advertisement",
    "continue reading",
    "continue reading below",
    "scroll to continue",
    "share",
    "share this",
    "share this article",
    "share this story",
    "comments",
    "related",
    "related stories",
    "related articles",
    "read more",
    "more from",
    "most read",
    "most popular",
    "recommended",
    "sign up",
    "subscribe",
    "print",
    "email",
    "listen",
    "listen to this article",
    "follow us",
    "skip to content",
    "skip to main content",
    "leggi anche",
    "lire aussi",
    "à lire aussi",
    "mehr zum thema",
    "auch interessant",
    "lea también",
    "lee también",
    "ver también",
    "leia também",
    "veja também",
];

/// Prefixes of short lines that point elsewhere or stamp the article.
const FURNITURE_PREFIXES: &[&str] = &[
    "read more:",
    "read more -",
    "read more –",
    "related:",
    "see also:",
    "also read:",
    "watch:",
    "listen:",
    "more:",
    "sign up for",
    "subscribe to",
    "click here",
    "updated ",
    "published ",
    "posted ",
    "last updated",
    "by ",
];

fn keep_block(block: &Block) -> bool {
    let chars = block.text.chars().count();
    if chars == 0 {
        return false;
    }
    // A block that is mostly link text points elsewhere.
    if block.link_chars * 2 > chars.saturating_sub(block.text.matches(' ').count()) {
        return false;
    }
    if chars <= 120 {
        let lower = block.text.to_lowercase();
        let lower = lower
            .trim_end_matches(['.', ':', '!', '»', '›', '>'])
            .trim();
        if FURNITURE_LINES.contains(&lower) {
            return false;
        }
        if FURNITURE_PREFIXES
            .iter()
            .any(|prefix| lower.starts_with(prefix))
            && (block.link_chars > 0 || !lower.contains(". "))
            && !(lower.starts_with("by ") && chars > 60)
        {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r##"<!doctype html><html lang="en-US"><head>
        <title>Storm closes port | The Harbor Courier</title>
        <meta property="og:title" content="Storm closes port">
        <meta property="og:site_name" content="The Harbor Courier">
        <meta property="article:published_time" content="2026-02-03T08:00:00-05:00">
        <link rel="canonical" href="/2026/02/03/storm-closes-port">
        <script>window.dataLayer = [{"page": "article"}];</script></head>
        <body><a class="skip-link" href="#main">Skip to content</a>
        <header class="site-header"><nav><a href="/">Home</a><a href="/news">News</a></nav></header>
        <main id="main"><article class="story">
          <header><h1>Storm closes port</h1><p class="byline">By Jane Doe</p>
            <time datetime="2026-02-03T08:00:00-05:00">Feb. 3</time></header>
          <div class="share-bar"><a href="#">Facebook</a><a href="#">X</a></div>
          <div class="story-body">
            <p>HALIFAX — The port closed on Tuesday as a winter storm pushed waves over the breakwater, officials said.</p>
            <figure><img src="/a.jpg"><figcaption>Waves hit the pier. (Photo: Ann Lee)</figcaption></figure>
            <p>Harbour master Tom Ruiz said ships would wait offshore until Thursday, and that crews were checking the cranes.</p>
            <div class="ad-slot">Advertisement</div>
            <aside class="related"><h3>Related</h3><ul><li><a href="/x">Ferry cancelled again</a></li></ul></aside>
            <h2>What happens next</h2>
            <ul><li>Ferries resume Friday</li><li>Schools reopen Monday</li></ul>
            <p>READ MORE: <a href="/y">How the breakwater was built in 1923</a></p>
            <p>The city will publish an updated schedule on its website, the mayor's office said in a statement.</p>
          </div>
        </article>
        <section id="comments"><p>Great reporting, thanks for keeping us informed about this!</p></section>
        </main><footer><a href="/about">About us</a> © 2026 The Harbor Courier</footer></body></html>"##;

    #[test]
    fn main_text_without_furniture() {
        let base = Url::parse("https://harbor.example/2026/02/03/storm?utm_source=rss").ok();
        let page = extract_page(PAGE, base.as_ref()).expect("page");
        assert_eq!(
            page.paragraphs,
            vec![
                "HALIFAX — The port closed on Tuesday as a winter storm pushed waves over the breakwater, officials said.",
                "Harbour master Tom Ruiz said ships would wait offshore until Thursday, and that crews were checking the cranes.",
                "What happens next",
                "Ferries resume Friday",
                "Schools reopen Monday",
                "The city will publish an updated schedule on its website, the mayor's office said in a statement.",
            ]
        );
        assert_eq!(page.body_source, BodySource::PageHtml);
        assert_eq!(page.meta.headline.as_deref(), Some("Storm closes port"));
        assert_eq!(page.meta.authors, vec!["Jane Doe"]);
        assert_eq!(page.meta.publisher.as_deref(), Some("The Harbor Courier"));
        assert_eq!(
            page.meta.canonical_url.as_deref(),
            Some("https://harbor.example/2026/02/03/storm-closes-port")
        );
        assert_eq!(page.meta.language.as_deref(), Some("en"));
        assert_eq!(
            page.meta
                .published_at
                .map(|time| time.to_rfc3339())
                .as_deref(),
            Some("2026-02-03T13:00:00+00:00")
        );
    }

    #[test]
    fn json_ld_body_fills_a_paywalled_page() {
        let body: Vec<String> = (1..=12)
            .map(|n| format!("Paragraph {n} of the council story, in which the budget vote is explained at length."))
            .collect();
        let ld = serde_json::json!({
            "@context": "https://schema.org", "@type": "NewsArticle",
            "headline": "Council passes budget", "isAccessibleForFree": false,
            "articleBody": body.join("\n\n"),
        });
        let html = format!(
            r#"<html><head><script type="application/ld+json">{ld}</script></head><body><article>
            <p>{}</p><p>{}</p><div class="paywall">Subscribe to keep reading.</div></article></body></html>"#,
            body[0], body[1]
        );
        let page = extract_page(&html, None).expect("page");
        assert_eq!(page.body_source, BodySource::PageJsonLd);
        assert_eq!(page.paragraphs, body);
    }

    #[test]
    fn truncated_json_ld_body_is_not_used() {
        let paragraphs: Vec<String> = (1..=6)
            .map(|n| format!("Line {n}: the river rose overnight, and residents of the low streets were told to leave."))
            .collect();
        let ld = serde_json::json!({"@type": "NewsArticle", "articleBody": "The river rose overnight, and residents…"});
        let html = format!(
            r#"<html><head><script type="application/ld+json">{ld}</script></head><body><div id="content">{}</div></body></html>"#,
            paragraphs
                .iter()
                .map(|p| format!("<p>{p}</p>"))
                .collect::<String>()
        );
        let page = extract_page(&html, None).expect("page");
        assert_eq!(page.body_source, BodySource::PageHtml);
        assert_eq!(page.paragraphs, paragraphs);
    }

    #[test]
    fn pages_decode_by_header_meta_or_utf8() {
        let latin1 = b"<html><head><meta charset=\"iso-8859-1\"></head><body><p>Caf\xe9 M\xfcller</p></body></html>";
        assert!(decode_html(latin1, None).contains("Café Müller"));
        assert!(
            decode_html(b"<p>Caf\xe9</p>", Some("text/html; charset=windows-1252"))
                .contains("Café")
        );
        assert!(decode_html("<p>Café</p>".as_bytes(), Some("text/html")).contains("Café"));
        assert!(decode_html(b"<p>bad \xff byte</p>", None).contains("bad \u{fffd} byte"));
    }

    #[test]
    fn hostile_nesting_does_not_overflow() {
        let depth = 100_000;
        let html = format!(
            "{}<p>deep text</p>{}",
            "<div>".repeat(depth),
            "</div>".repeat(depth)
        );
        assert_eq!(
            extract_page(&html, None),
            Err(PageError::TooDeep {
                depth: MAX_NESTING + 1,
                limit: MAX_NESTING
            })
        );
        // Just under the limit the page is read, walked without recursion.
        let depth = MAX_NESTING - 10;
        let html = format!(
            "{}<p>deep text</p>{}",
            "<div>".repeat(depth),
            "</div>".repeat(depth)
        );
        let page = extract_page(&html, None).expect("within the limit");
        assert!(page.paragraphs.len() <= 1);
        // Unclosed paragraphs are not nesting.
        let html = "<p>line".repeat(MAX_NESTING * 2);
        assert!(extract_page(&html, None).is_ok());
    }

    #[test]
    fn furniture_hints_read_words_not_substrings() {
        assert_eq!(furniture_hint(&[Some("share-bar")]), Hint::Strong);
        assert_eq!(furniture_hint(&[Some("c-comments")]), Hint::Strong);
        assert_eq!(
            furniture_hint(&[Some("post type-post tag-social-media category-comment")]),
            Hint::None
        );
        assert_eq!(
            furniture_hint(&[Some("article-body has-sidebar")]),
            Hint::None
        );
        assert_eq!(furniture_hint(&[Some("sidebar")]), Hint::Weak);
        assert_eq!(furniture_hint(&[Some("gallery-page article")]), Hint::None);
        assert_eq!(furniture_hint(&[Some("headline")]), Hint::None);
        assert_eq!(furniture_hint(&[Some("div-gpt-ad-1234")]), Hint::Strong);
    }
}
