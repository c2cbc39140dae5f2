//! NewsML-G2: `newsItem` and `packageItem`, standalone or in a
//! `newsMessage`'s `itemSet`. itemMeta gives status and times, contentMeta
//! the descriptive facts, rightsInfo the rights, and `inlineXML` the body
//! (XHTML or NITF). `pubStatus` canceled or withheld makes a kill or
//! withhold notice for the item's guid.

use wirefeed_model::ItemKind;

use super::dom::{Element, paragraphs};
use super::{WireItem, byline_names, nitf, parse_time};

/// Every item of a NewsML-G2 document.
pub(crate) fn items(root: &Element) -> Result<Vec<WireItem>, String> {
    match root.name.as_str() {
        "newsItem" | "packageItem" => Ok(vec![item(root)]),
        "newsMessage" => {
            let set = root
                .child("itemSet")
                .ok_or("the newsMessage has no <itemSet>")?;
            Ok(set
                .elements()
                .filter(|element| element.name == "newsItem" || element.name == "packageItem")
                .map(item)
                .collect())
        }
        other => Err(format!(
            "root element <{other}> is not a NewsML-G2 item or message"
        )),
    }
}

pub(crate) fn item(element: &Element) -> WireItem {
    let mut item = WireItem {
        guid: element.attr("guid").map(str::to_owned),
        ..WireItem::default()
    };
    item.meta.agency_id = item.guid.clone();
    item.meta.version = element
        .attr("version")
        .and_then(|version| version.trim().parse().ok());
    let package = element.name == "packageItem";
    if let Some(meta) = element.child("itemMeta") {
        item.meta.kind = match meta
            .child("pubStatus")
            .and_then(|status| status.attr("qcode"))
            .map(|qcode| {
                qcode
                    .rsplit(':')
                    .next()
                    .unwrap_or(qcode)
                    .to_ascii_lowercase()
            })
            .as_deref()
        {
            Some("canceled" | "cancelled") => ItemKind::Kill,
            Some("withheld") => ItemKind::Withhold,
            _ if package => ItemKind::Package,
            _ => ItemKind::Article,
        };
        let time = |name: &str| {
            meta.child(name)
                .and_then(|time| time.text_opt())
                .and_then(|text| parse_time(&text))
        };
        item.published = time("firstCreated").or_else(|| time("versionCreated"));
        item.updated = time("versionCreated");
        item.meta.embargoed_until = time("embargoed");
        item.provider = meta.child("provider").and_then(|provider| {
            provider
                .attr("literal")
                .map(str::to_owned)
                .or_else(|| provider.child("name").and_then(Element::text_opt))
                .or_else(|| {
                    provider
                        .attr("qcode")
                        .map(|qcode| qcode.rsplit(':').next().unwrap_or(qcode).to_owned())
                })
        });
        item.url = meta
            .children_named("link")
            .find(|link| {
                link.attr("rel")
                    .is_none_or(|rel| rel.ends_with("canonical") || rel.ends_with("self"))
            })
            .and_then(|link| link.attr("href"))
            .map(str::to_owned);
    } else if package {
        item.meta.kind = ItemKind::Package;
    }
    if let Some(content) = element.child("contentMeta") {
        item.meta.urgency = content
            .child("urgency")
            .and_then(Element::text_opt)
            .and_then(|urgency| urgency.parse().ok());
        item.title = content.child("headline").and_then(Element::text_opt);
        item.meta.slugline = content.child("slugline").and_then(Element::text_opt);
        item.authors = content
            .children_named("by")
            .filter_map(Element::text_opt)
            .flat_map(|by| byline_names(&by))
            .collect();
        item.meta.dateline = content.child("dateline").and_then(Element::text_opt);
        item.meta.located = content.child("located").and_then(|located| {
            located
                .child("name")
                .and_then(Element::text_opt)
                .or_else(|| located.attr("literal").map(str::to_owned))
        });
        item.language = content
            .child("language")
            .and_then(|language| language.attr("tag"))
            .map(|tag| tag.chars().take(2).collect());
        item.meta.subjects = content
            .children_named("subject")
            .filter_map(|subject| subject.attr("qcode"))
            .map(str::to_owned)
            .collect();
        item.categories = content
            .children_named("subject")
            .filter_map(|subject| subject.child("name").and_then(Element::text_opt))
            .collect();
        item.meta.genre = content
            .child("genre")
            .and_then(|genre| genre.attr("qcode"))
            .map(str::to_owned);
        item.meta.credit = content.child("creditline").and_then(Element::text_opt);
        item.summary = content
            .children_named("description")
            .find(|description| {
                description
                    .attr("role")
                    .is_none_or(|role| role.ends_with("summary"))
            })
            .and_then(Element::text_opt);
        item.meta.keywords = content
            .children_named("keyword")
            .filter_map(Element::text_opt)
            .collect();
    }
    if let Some(rights) = element.child("rightsInfo") {
        item.meta.copyright_holder = rights.child("copyrightHolder").and_then(|holder| {
            holder
                .child("name")
                .and_then(Element::text_opt)
                .or_else(|| holder.attr("literal").map(str::to_owned))
        });
        item.meta.copyright_notice = rights.child("copyrightNotice").and_then(Element::text_opt);
        item.meta.usage_terms = rights.child("usageTerms").and_then(Element::text_opt);
        item.rights = item.meta.copyright_notice.clone();
    }
    if let Some(inline) = element.find("inlineXML") {
        if let Some(body_root) = inline.elements().next() {
            if body_root.name == "nitf" {
                if let Some(content) = body_root.path(&["body", "body.content"]) {
                    item.paragraphs = paragraphs(content);
                    item.media = nitf::media(content);
                }
                if let Some(end) = body_root.path(&["body", "body.end"]) {
                    item.meta.taglines = end
                        .children_named("tagline")
                        .filter_map(Element::text_opt)
                        .collect();
                }
            } else {
                let body = body_root.find("body").unwrap_or(body_root);
                item.paragraphs = paragraphs(body);
            }
        }
    } else if let Some(inline) = element.find("inlineData") {
        item.paragraphs = inline
            .text()
            .split("  ")
            .map(super::dom::collapse)
            .filter(|paragraph| !paragraph.is_empty())
            .collect();
    }
    if package {
        let mut refs = Vec::new();
        element.find_all("itemRef", &mut refs);
        item.meta.refs = refs
            .into_iter()
            .filter_map(|reference| reference.attr("residref"))
            .map(str::to_owned)
            .collect();
        if item.paragraphs.is_empty() {
            item.paragraphs = item.summary.clone().into_iter().collect();
        }
    }
    item
}
