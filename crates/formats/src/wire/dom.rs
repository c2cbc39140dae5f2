//! A small element tree over quick-xml for agency documents: names are
//! local (prefixes dropped), text is decoded (character references,
//! predefined and HTML entities, CDATA), and nesting is bounded.

use quick_xml::Reader;
use quick_xml::events::Event;

/// Deepest nesting accepted; real agency documents stay under 40.
const MAX_DEPTH: usize = 256;

/// An element.
#[derive(Debug, Clone, Default)]
pub(crate) struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Node>,
}

/// A child of an element.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    Element(Element),
    Text(String),
}

impl Element {
    /// An attribute by local name.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// Child elements.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|node| match node {
            Node::Element(element) => Some(element),
            Node::Text(_) => None,
        })
    }

    /// The first child element named `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.elements().find(|element| element.name == name)
    }

    /// Child elements named `name`.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.elements().filter(move |element| element.name == name)
    }

    /// Follows a path of child names.
    pub fn path(&self, names: &[&str]) -> Option<&Element> {
        names
            .iter()
            .try_fold(self, |element, name| element.child(name))
    }

    /// The first descendant named `name`, depth first.
    pub fn find(&self, name: &str) -> Option<&Element> {
        for element in self.elements() {
            if element.name == name {
                return Some(element);
            }
            if let Some(found) = element.find(name) {
                return Some(found);
            }
        }
        None
    }

    /// Every descendant named `name`, in document order.
    pub fn find_all<'a>(&'a self, name: &str, out: &mut Vec<&'a Element>) {
        for element in self.elements() {
            if element.name == name {
                out.push(element);
            }
            element.find_all(name, out);
        }
    }

    /// All text below, whitespace collapsed.
    pub fn text(&self) -> String {
        let mut raw = String::new();
        self.collect_text(&mut raw);
        collapse(&raw)
    }

    fn collect_text(&self, out: &mut String) {
        for node in &self.children {
            match node {
                Node::Text(text) => out.push_str(text),
                Node::Element(element) if INLINE.contains(&element.name.as_str()) => {
                    element.collect_text(out);
                }
                Node::Element(element) => {
                    // Line breaks and block boundaries separate words.
                    out.push(' ');
                    element.collect_text(out);
                    out.push(' ');
                }
            }
        }
    }

    /// All text below, as written (whitespace kept).
    pub fn raw_text(&self) -> String {
        let mut raw = String::new();
        self.collect_text(&mut raw);
        raw
    }

    /// The text, or `None` when empty.
    pub fn text_opt(&self) -> Option<String> {
        Some(self.text()).filter(|text| !text.is_empty())
    }
}

/// Collapses whitespace runs to one space and trims.
pub(crate) fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Parses `text` into its root element.
pub(crate) fn parse(text: &str) -> Result<Element, String> {
    parse_detaching(text, &[], &mut |_| {})
}

/// Parses `text` into its root element, handing every non-root element
/// named in `detach` to `on_detached` as soon as it is complete instead of
/// keeping it in the tree. A message of many items is then held one item
/// at a time.
pub(crate) fn parse_detaching(
    text: &str,
    detach: &[&str],
    on_detached: &mut dyn FnMut(Element),
) -> Result<Element, String> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let position = |reader: &Reader<&[u8]>| reader.buffer_position();
    loop {
        let event = reader
            .read_event()
            .map_err(|err| format!("at byte {}: {err}", position(&reader)))?;
        match event {
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(format!("nesting deeper than {MAX_DEPTH} elements"));
                }
                stack.push(element_from(&start, reader.decoder())?);
            }
            Event::Empty(start) => {
                let element = element_from(&start, reader.decoder())?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(Node::Element(element)),
                    None => return Ok(element),
                }
            }
            Event::End(_) => {
                let Some(element) = stack.pop() else {
                    return Err("unbalanced end tag".to_owned());
                };
                match stack.last_mut() {
                    Some(_) if detach.contains(&element.name.as_str()) => on_detached(element),
                    Some(parent) => parent.children.push(Node::Element(element)),
                    None => {
                        root = Some(element);
                        break;
                    }
                }
            }
            Event::Text(bytes) => {
                let text = bytes
                    .decode()
                    .map_err(|err| format!("at byte {}: {err}", position(&reader)))?;
                push_text(&mut stack, &text);
            }
            Event::CData(bytes) => {
                let text = bytes
                    .decode()
                    .map_err(|err| format!("at byte {}: {err}", position(&reader)))?;
                push_text(&mut stack, &text);
            }
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(ch)) => ch.to_string(),
                    Ok(None) => {
                        let name = reference
                            .decode()
                            .map_err(|err| format!("at byte {}: {err}", position(&reader)))?;
                        match quick_xml::escape::resolve_html5_entity(&name) {
                            Some(value) => value.to_owned(),
                            None => format!("&{name};"),
                        }
                    }
                    Err(err) => return Err(format!("at byte {}: {err}", position(&reader))),
                };
                push_text(&mut stack, &resolved);
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    match (root, stack.is_empty()) {
        (Some(root), true) => Ok(root),
        (_, false) => Err("the document ends inside an element (truncated?)".to_owned()),
        (None, true) => Err("no root element".to_owned()),
    }
}

fn push_text(stack: &mut [Element], text: &str) {
    if let Some(parent) = stack.last_mut() {
        if let Some(Node::Text(previous)) = parent.children.last_mut() {
            previous.push_str(text);
        } else {
            parent.children.push(Node::Text(text.to_owned()));
        }
    }
}

fn element_from(
    start: &quick_xml::events::BytesStart<'_>,
    decoder: quick_xml::encoding::Decoder,
) -> Result<Element, String> {
    let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
    let mut attrs = Vec::new();
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|err| format!("bad attribute in <{name}>: {err}"))?;
        let key = String::from_utf8_lossy(attribute.key.local_name().as_ref()).into_owned();
        let value = attribute
            .decoded_and_normalized_value(quick_xml::XmlVersion::Implicit1_0, decoder)
            .map(|value| value.into_owned())
            .unwrap_or_else(|_| String::from_utf8_lossy(&attribute.value).into_owned());
        attrs.push((key, value));
    }
    Ok(Element {
        name,
        attrs,
        children: Vec::new(),
    })
}

/// Elements inside a line of text: no word break around them.
const INLINE: &[&str] = &[
    "a",
    "abbr",
    "b",
    "bdi",
    "bdo",
    "cite",
    "code",
    "em",
    "i",
    "kbd",
    "mark",
    "q",
    "s",
    "small",
    "span",
    "strong",
    "sub",
    "sup",
    "u",
    "var",
    "person",
    "org",
    "location",
    "city",
    "state",
    "region",
    "country",
    "money",
    "num",
    "chron",
    "classifier",
    "event",
    "function",
    "virtloc",
    "object.title",
    "copyrite",
    "copyrite.year",
    "copyrite.holder",
    "alt-code",
    "postaddr",
    "sublocation",
    "frac",
    "frac-num",
    "frac-den",
    "lang",
    "pronounce",
];

/// Block elements whose text is one paragraph.
const BLOCKS: &[&str] = &[
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "blockquote",
    "pre",
    "hl2",
    "dd",
    "dt",
    "td",
];

/// Containers skipped when reading body paragraphs: media and their
/// captions are collected apart, the end matter goes to taglines.
const SKIPPED: &[&str] = &[
    "media",
    "figure",
    "figcaption",
    "body.end",
    "script",
    "style",
    "table",
    "object",
];

/// The paragraphs of a body (XHTML or NITF).
pub(crate) fn paragraphs(element: &Element) -> Vec<String> {
    let mut out = Vec::new();
    collect_paragraphs(element, &mut out);
    out
}

fn collect_paragraphs(element: &Element, out: &mut Vec<String>) {
    let mut loose = String::new();
    for node in &element.children {
        match node {
            Node::Text(text) => loose.push_str(text),
            Node::Element(child) if SKIPPED.contains(&child.name.as_str()) => {}
            Node::Element(child) if BLOCKS.contains(&child.name.as_str()) => {
                flush(&mut loose, out);
                if let Some(text) = child.text_opt() {
                    out.push(text);
                }
            }
            Node::Element(child) if child.name == "br" => flush(&mut loose, out),
            Node::Element(child) => {
                if child.elements().any(is_block) {
                    flush(&mut loose, out);
                    collect_paragraphs(child, out);
                } else if INLINE.contains(&child.name.as_str()) {
                    loose.push_str(&child.raw_text());
                } else {
                    loose.push(' ');
                    loose.push_str(&child.raw_text());
                    loose.push(' ');
                }
            }
        }
    }
    flush(&mut loose, out);
}

fn is_block(element: &Element) -> bool {
    BLOCKS.contains(&element.name.as_str())
        || SKIPPED.contains(&element.name.as_str())
        || element.elements().any(is_block)
}

fn flush(loose: &mut String, out: &mut Vec<String>) {
    let text = collapse(loose);
    if !text.is_empty() {
        out.push(text);
    }
    loose.clear();
}
