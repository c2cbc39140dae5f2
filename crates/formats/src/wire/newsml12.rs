//! NewsML 1.2: a `NewsML` envelope with `NewsItem`s. Identification gives
//! the ids and revision, NewsManagement the status, times and urgency, and
//! the (possibly nested) NewsComponents the lines, descriptive metadata and
//! content: the main text from a NITF or XHTML `DataContent`, photos (an
//! `Href` content item) as media.

use wirefeed_model::{ItemKind, RawMedia};

use super::dom::{Element, collapse, paragraphs};
use super::{WireItem, byline_names, nitf, parse_time};

pub(crate) fn item(element: &Element) -> WireItem {
    let mut item = WireItem::default();
    if let Some(identifier) = element.path(&["Identification", "NewsIdentifier"]) {
        let part = |name: &str| identifier.child(name).and_then(Element::text_opt);
        let public = part("PublicIdentifier");
        item.provider = part("ProviderId");
        let composed = match (part("ProviderId"), part("DateId"), part("NewsItemId")) {
            (Some(provider), Some(date), Some(id)) => Some(format!("{provider}:{date}:{id}")),
            _ => None,
        };
        // The story is ProviderId:DateId:NewsItemId; the public identifier
        // names one revision of it and is kept as the agency id.
        item.meta.agency_id = public.clone().or(composed.clone());
        item.guid = composed.or(public);
        if let Some(revision) = identifier.child("RevisionId") {
            item.meta.version = revision.text().parse().ok();
            item.meta.previous_version = revision
                .attr("PreviousRevision")
                .and_then(|previous| previous.parse().ok());
        }
    }
    if let Some(management) = element.child("NewsManagement") {
        let time = |name: &str| {
            management
                .child(name)
                .and_then(Element::text_opt)
                .and_then(|text| parse_time(&text))
        };
        item.published = time("FirstCreated");
        item.updated = time("ThisRevisionCreated");
        item.meta.kind = match management
            .child("Status")
            .and_then(|status| status.attr("FormalName"))
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("canceled" | "cancelled" | "kill" | "killed") => ItemKind::Kill,
            Some("withheld" | "withhold" | "embargoed") => ItemKind::Withhold,
            _ => ItemKind::Article,
        };
        item.meta.urgency = management
            .child("Urgency")
            .and_then(|urgency| urgency.attr("FormalName"))
            .and_then(|value| value.trim().parse().ok());
        item.meta.embargoed_until = management
            .child("StatusWillChange")
            .and_then(|change| change.child("DateAndTime"))
            .and_then(Element::text_opt)
            .and_then(|text| parse_time(&text));
    }
    if let Some(component) = element.child("NewsComponent") {
        read_component(component, &mut item, true);
    }
    item
}

/// Reads a component and its children: lines and metadata fill what is
/// still empty; the first text content is the body; photos are media.
fn read_component(component: &Element, item: &mut WireItem, top: bool) {
    let photo = is_photo(component);
    if let Some(lines) = component.child("NewsLines").filter(|_| !photo) {
        let line = |name: &str| lines.child(name).and_then(Element::text_opt);
        if item.title.is_none() {
            item.title = line("HeadLine");
        }
        if item.authors.is_empty()
            && let Some(byline) = line("ByLine")
        {
            item.authors = byline_names(&byline);
        }
        item.meta.dateline = item.meta.dateline.take().or_else(|| line("DateLine"));
        item.meta.copyright_notice = item
            .meta
            .copyright_notice
            .take()
            .or_else(|| line("CopyrightLine"));
        item.meta.credit = item.meta.credit.take().or_else(|| line("CreditLine"));
        item.meta.slugline = item.meta.slugline.take().or_else(|| line("SlugLine"));
        if item.rights.is_none() {
            item.rights = item.meta.copyright_notice.clone();
        }
    }
    if let Some(metadata) = component
        .child("DescriptiveMetadata")
        .filter(|_| !photo || top)
    {
        if item.language.is_none() {
            item.language = metadata
                .child("Language")
                .and_then(|language| language.attr("FormalName"))
                .map(|tag| tag.chars().take(2).collect::<String>().to_ascii_lowercase());
        }
        for code in metadata.children_named("SubjectCode") {
            for subject in code.elements() {
                if let Some(name) = subject.attr("FormalName") {
                    item.meta.subjects.push(name.to_owned());
                }
            }
        }
        if item.meta.located.is_none() {
            item.meta.located = metadata.child("Location").and_then(|location| {
                location
                    .children_named("Property")
                    .find(|property| property.attr("FormalName") == Some("City"))
                    .and_then(|property| property.attr("Value"))
                    .map(str::to_owned)
            });
        }
    }
    if photo {
        let mut contents = Vec::new();
        component.find_all("ContentItem", &mut contents);
        let href = contents
            .into_iter()
            .find_map(|content| content.attr("Href"))
            .map(str::to_owned);
        let caption = component
            .child("NewsLines")
            .and_then(|lines| {
                lines
                    .child("HeadLine")
                    .or_else(|| lines.child("CaptionLine"))
            })
            .and_then(Element::text_opt)
            .or_else(|| {
                component
                    .children_named("NewsComponent")
                    .find_map(|inner| inner.find("DataContent").and_then(Element::text_opt))
            })
            .or_else(|| {
                component
                    .children_named("ContentItem")
                    .filter(|content| content.attr("Href").is_none())
                    .find_map(|content| content.child("DataContent").and_then(Element::text_opt))
            });
        let credit = component
            .child("NewsLines")
            .and_then(|lines| {
                lines
                    .child("CreditLine")
                    .or_else(|| lines.child("CopyrightLine"))
            })
            .and_then(Element::text_opt);
        item.media.push(RawMedia {
            url: href,
            caption,
            credit,
        });
        return;
    }
    for content in component.children_named("ContentItem") {
        if !item.paragraphs.is_empty() {
            break;
        }
        let Some(data) = content.child("DataContent") else {
            continue;
        };
        let mime = content
            .child("MimeType")
            .and_then(|mime| mime.attr("FormalName"))
            .unwrap_or_default()
            .to_ascii_lowercase();
        if let Some(nitf_root) = data.child("nitf") {
            if let Ok(body) = nitf::item(nitf_root) {
                item.paragraphs = body.paragraphs;
                item.media.extend(body.media);
                item.meta.taglines.extend(body.meta.taglines);
            }
        } else if let Some(html) = data.child("html").or_else(|| data.find("body")) {
            item.paragraphs = paragraphs(html.find("body").unwrap_or(html));
        } else if mime.starts_with("text/") || data.elements().next().is_none() {
            let text = data.text();
            item.paragraphs = text
                .split('\n')
                .map(collapse)
                .filter(|line| !line.is_empty())
                .collect();
            if item.paragraphs.len() <= 1 {
                item.paragraphs = vec![collapse(&text)]
                    .into_iter()
                    .filter(|t| !t.is_empty())
                    .collect();
            }
        } else {
            item.paragraphs = paragraphs(data);
        }
    }
    for inner in component.children_named("NewsComponent") {
        read_component(inner, item, false);
    }
}

/// A component whose content is a picture.
fn is_photo(component: &Element) -> bool {
    let role = component
        .child("Role")
        .and_then(|role| role.attr("FormalName"))
        .unwrap_or_default()
        .to_ascii_lowercase();
    let media = component
        .children_named("ContentItem")
        .filter_map(|content| {
            content
                .child("MediaType")
                .and_then(|media| media.attr("FormalName"))
        })
        .any(|media| media.eq_ignore_ascii_case("photo") || media.eq_ignore_ascii_case("graphic"));
    media || role.contains("picture") || role.contains("photo")
}
