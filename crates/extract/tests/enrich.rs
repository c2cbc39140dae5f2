//! Entities, quotes and keywords on the CNN wire fixture.

use wirefeed_extract::{extract_entities, extract_keywords, extract_quotes};
use wirefeed_model::EntityKind;

fn fixture() -> (String, Vec<String>) {
    let text = include_str!("fixtures/cnn-wire-putin-nato.txt");
    let mut lines = text.lines().map(str::trim).filter(|line| !line.is_empty());
    let title = lines.next().unwrap_or_default().to_owned();
    (title, lines.map(str::to_owned).collect())
}

#[test]
fn cnn_fixture_entities() {
    let (_, paragraphs) = fixture();
    let entities = extract_entities(&paragraphs);
    for person in [
        "Vladimir Putin",
        "Antony Blinken",
        "Keir Starmer",
        "Joe Biden",
        "Volodymyr Zelensky",
    ] {
        assert!(
            entities.people.iter().any(|name| name == person),
            "{person} missing from {:?}",
            entities.people
        );
    }
    // The FSB is listed under its full name, with "FSB" among its forms.
    for organization in ["NATO", "FSB", "RAND Corporation"] {
        assert!(
            entities.mentions.iter().any(|mention| {
                mention.kind == EntityKind::Organization
                    && (mention.name == organization
                        || mention.forms.iter().any(|form| form == organization))
            }),
            "{organization} missing from {:?}",
            entities.organizations
        );
    }
    for place in ["Ukraine", "Russia", "Kyiv", "Crimea", "Iran"] {
        assert!(
            entities.places.iter().any(|name| name == place),
            "{place} missing from {:?}",
            entities.places
        );
    }
    // Surface forms merge: Putin is named in full once and by surname
    // again, and counted as one person.
    let putin = entities
        .mentions
        .iter()
        .find(|mention| mention.name == "Vladimir Putin")
        .expect("Putin");
    assert!(putin.mentions >= 3, "{putin:?}");
    assert!(putin.forms.iter().any(|form| form == "Putin"));
    assert!(!entities.people.iter().any(|name| name == "Putin"));
    println!("{:#?}", entities.mentions);
}

#[test]
fn cnn_fixture_quotes_and_keywords() {
    let (title, paragraphs) = fixture();
    let quotes = extract_quotes(&paragraphs);
    let putin = quotes
        .iter()
        .find(|quote| quote.text.starts_with("This will mean that NATO countries"))
        .expect("Putin's quote");
    assert_eq!(putin.speaker.as_deref(), Some("Vladimir Putin"));
    let blinken = quotes
        .iter()
        .find(|quote| quote.text.contains("certainly not the only factor"))
        .expect("Blinken's quote");
    assert_eq!(blinken.speaker.as_deref(), Some("Antony Blinken"));
    let entities = extract_entities(&paragraphs);
    let keywords = extract_keywords(&title, &paragraphs, &entities);
    assert!(keywords.len() >= 4, "{keywords:?}");
    assert!(keywords.iter().any(|term| term == "NATO"), "{keywords:?}");
    assert!(
        keywords.iter().any(|term| term == "Vladimir Putin"),
        "{keywords:?}"
    );
    println!("{keywords:?}");
}
