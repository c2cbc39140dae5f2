//! NITF 3.x: `head` (title, docdata, tobject, key-list), `body.head`
//! (hedline, byline, distributor, dateline, abstract), `body.content`
//! (paragraphs; `media` blocks become media with caption and credit) and
//! `body.end` (taglines and contributor notes: kept apart from the body).

use wirefeed_model::{ItemKind, RawMedia};

use super::dom::{Element, paragraphs};
use super::{WireItem, byline_names, parse_time};

/// Reads a whole NITF document.
pub(crate) fn item(root: &Element) -> Result<WireItem, String> {
    if root.name != "nitf" {
        return Err(format!("root element is <{}>, not <nitf>", root.name));
    }
    let body = root
        .child("body")
        .ok_or("the NITF document has no <body>")?;
    let mut item = WireItem::default();
    let head = root.child("head");
    let docdata = head.and_then(|head| head.child("docdata"));
    if let Some(docdata) = docdata {
        item.guid = docdata
            .child("doc-id")
            .and_then(|id| id.attr("id-string"))
            .map(str::to_owned);
        item.meta.agency_id = item.guid.clone();
        item.provider = docdata
            .child("doc-id")
            .and_then(|id| id.attr("regsrc"))
            .map(str::to_owned);
        item.meta.urgency = docdata
            .child("urgency")
            .and_then(|urgency| urgency.attr("ed-urg"))
            .and_then(|value| value.trim().parse().ok());
        item.published = docdata
            .child("date.issue")
            .and_then(|date| date.attr("norm"))
            .and_then(parse_time);
        item.meta.release_at = docdata
            .child("date.release")
            .and_then(|date| date.attr("norm"))
            .and_then(parse_time);
        if let Some(copyright) = docdata.child("doc.copyright") {
            item.meta.copyright_holder = copyright.attr("holder").map(str::to_owned);
            item.rights = match (copyright.attr("year"), copyright.attr("holder")) {
                (Some(year), Some(holder)) => Some(format!("© {year} {holder}")),
                (None, Some(holder)) => Some(format!("© {holder}")),
                _ => None,
            };
        }
        item.meta.usage_terms = docdata.child("doc.rights").and_then(|rights| {
            rights
                .attr("usage-terms")
                .map(str::to_owned)
                .or_else(|| rights.text_opt())
        });
        if let Some(keys) = docdata.child("key-list") {
            item.meta.keywords = keys
                .children_named("keyword")
                .filter_map(|keyword| keyword.attr("key"))
                .map(str::to_owned)
                .collect();
        }
        item.meta.slugline = docdata
            .child("du-key")
            .and_then(|key| key.attr("key"))
            .map(str::to_owned);
        item.meta.kind = match docdata
            .attr("management-status")
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("canceled" | "cancelled") => ItemKind::Kill,
            Some("withheld") => ItemKind::Withhold,
            _ => ItemKind::Article,
        };
    }
    if let Some(tobject) = head.and_then(|head| head.child("tobject")) {
        item.meta.subjects = tobject
            .children_named("tobject.subject")
            .filter_map(|subject| subject.attr("tobject.subject.refnum"))
            .map(str::to_owned)
            .collect();
        item.meta.genre = tobject.attr("tobject.type").map(str::to_owned);
    }
    item.language = root
        .attr("baselang")
        .or_else(|| root.attr("lang"))
        .or_else(|| body.attr("lang"))
        .or_else(|| {
            head.and_then(|head| {
                head.children_named("meta")
                    .find(|meta| {
                        meta.attr("name")
                            .is_some_and(|name| name.eq_ignore_ascii_case("language"))
                    })
                    .and_then(|meta| meta.attr("content"))
            })
        })
        .map(|tag| tag.chars().take(2).collect::<String>().to_ascii_lowercase());
    let body_head = body.child("body.head");
    if let Some(body_head) = body_head {
        item.title = body_head
            .child("hedline")
            .and_then(|hedline| hedline.child("hl1").or(Some(hedline)))
            .and_then(Element::text_opt);
        let mut authors = Vec::new();
        for byline in body_head.children_named("byline") {
            let people: Vec<String> = byline
                .children_named("person")
                .filter_map(Element::text_opt)
                .collect();
            if people.is_empty() {
                authors.extend(byline_names(&byline_text(byline)));
            } else {
                authors.extend(people);
            }
        }
        item.authors = authors;
        item.meta.credit = body_head.child("distributor").and_then(Element::text_opt);
        if item.provider.is_none() {
            item.provider = item.meta.credit.clone();
        }
        if let Some(dateline) = body_head.child("dateline") {
            item.meta.dateline = dateline.text_opt();
            item.meta.located = dateline
                .child("location")
                .and_then(|location| location.child("city").or(Some(location)))
                .and_then(Element::text_opt);
        }
        item.summary = body_head.child("abstract").and_then(Element::text_opt);
    }
    if item.title.is_none() {
        item.title = head
            .and_then(|head| head.child("title"))
            .and_then(Element::text_opt);
    }
    if let Some(content) = body.child("body.content") {
        item.paragraphs = paragraphs(content);
        item.media = media(content);
    }
    if let Some(end) = body.child("body.end") {
        item.meta.taglines = end
            .children_named("tagline")
            .filter_map(Element::text_opt)
            .collect();
    }
    Ok(item)
}

/// A byline's text without its title (`byttl`).
fn byline_text(byline: &Element) -> String {
    let mut text = String::new();
    for node in &byline.children {
        match node {
            super::dom::Node::Text(part) => text.push_str(part),
            super::dom::Node::Element(element) if element.name != "byttl" => {
                text.push(' ');
                text.push_str(&element.text());
            }
            super::dom::Node::Element(_) => {}
        }
    }
    text
}

/// The `media` blocks of a body: reference, caption and producer.
pub(crate) fn media(content: &Element) -> Vec<RawMedia> {
    let mut blocks = Vec::new();
    content.find_all("media", &mut blocks);
    blocks
        .into_iter()
        .map(|block| RawMedia {
            url: block
                .child("media-reference")
                .and_then(|reference| {
                    reference
                        .attr("source")
                        .or_else(|| reference.attr("data-location"))
                })
                .map(str::to_owned),
            caption: block.child("media-caption").and_then(Element::text_opt),
            credit: block.child("media-producer").and_then(Element::text_opt),
        })
        .collect()
}
