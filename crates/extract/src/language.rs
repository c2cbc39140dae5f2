//! The language of a body, from the share of each language's commonest
//! words among its words. No model, no download: short stop-word lists for
//! the languages wire services publish in most.

/// The most frequent function words of each language (ISO 639-1).
const STOPWORDS: &[(&str, &[&str])] = &[
    (
        "en",
        &[
            "the", "of", "and", "to", "in", "a", "is", "that", "for", "on", "was", "with", "said",
            "he", "it", "as", "at", "by", "from", "has", "have", "are", "were", "but", "not",
            "this", "be", "his", "which", "an",
        ],
    ),
    (
        "de",
        &[
            "der", "die", "und", "in", "den", "von", "zu", "das", "mit", "sich", "des", "auf",
            "für", "ist", "im", "dem", "nicht", "ein", "eine", "als", "auch", "es", "an", "werden",
            "aus", "er", "hat", "dass", "sie", "nach",
        ],
    ),
    (
        "fr",
        &[
            "le", "la", "de", "et", "les", "des", "en", "un", "une", "du", "est", "que", "pour",
            "dans", "qui", "au", "sur", "par", "pas", "il", "a", "ce", "avec", "sont", "aux",
            "ont", "été", "plus", "son", "elle",
        ],
    ),
    (
        "es",
        &[
            "el", "la", "de", "que", "y", "en", "los", "del", "se", "las", "por", "un", "para",
            "con", "una", "su", "al", "es", "lo", "como", "más", "pero", "sus", "le", "ha", "este",
            "sido", "fue", "según", "sobre",
        ],
    ),
    (
        "it",
        &[
            "il", "di", "che", "e", "la", "in", "un", "per", "è", "del", "non", "una", "della",
            "le", "con", "si", "da", "dei", "al", "sono", "ha", "alla", "nel", "anche", "più",
            "gli", "come", "ma", "delle", "lo",
        ],
    ),
    (
        "pt",
        &[
            "o", "de", "a", "que", "e", "do", "da", "em", "um", "para", "com", "não", "uma", "os",
            "no", "se", "na", "por", "mais", "as", "dos", "como", "mas", "ao", "ele", "das", "foi",
            "à", "seu", "sua",
        ],
    ),
    (
        "nl",
        &[
            "de", "van", "het", "een", "en", "in", "is", "dat", "op", "te", "zijn", "voor", "met",
            "die", "niet", "aan", "er", "om", "ook", "als", "bij", "door", "maar", "nog", "wordt",
            "naar", "heeft", "werd", "deze", "uit",
        ],
    ),
    (
        "sv",
        &[
            "och", "i", "att", "det", "som", "en", "på", "är", "av", "för", "med", "till", "den",
            "har", "de", "inte", "om", "ett", "han", "men", "var", "sig", "från", "vi", "så",
            "kan", "man", "när", "år", "efter",
        ],
    ),
    (
        "pl",
        &[
            "i", "w", "na", "z", "się", "nie", "do", "to", "że", "jest", "o", "jak", "po", "co",
            "tak", "za", "od", "ale", "przez", "dla", "jego", "już", "tym", "może", "by", "został",
            "być", "który", "roku", "także",
        ],
    ),
    (
        "tr",
        &[
            "ve",
            "bir",
            "bu",
            "da",
            "de",
            "için",
            "ile",
            "olarak",
            "çok",
            "daha",
            "gibi",
            "olan",
            "en",
            "ama",
            "sonra",
            "kadar",
            "ise",
            "değil",
            "her",
            "o",
            "ne",
            "mi",
            "yılında",
            "tarafından",
            "üzerine",
            "göre",
            "diye",
            "şekilde",
            "ancak",
            "oldu",
        ],
    ),
];

/// Detects the language of `paragraphs`: its ISO 639-1 code and a
/// confidence in `[0, 1]`, or `None` when the text is too short or no
/// language stands out.
pub fn detect_language<'a>(
    paragraphs: impl IntoIterator<Item = &'a str>,
) -> Option<(&'static str, f64)> {
    let mut counts = [0usize; STOPWORDS.len()];
    let mut words = 0usize;
    for paragraph in paragraphs {
        for word in paragraph.split(|c: char| !c.is_alphabetic()) {
            if word.is_empty() {
                continue;
            }
            words += 1;
            let lower = word.to_lowercase();
            for (index, (_, list)) in STOPWORDS.iter().enumerate() {
                if list.contains(&lower.as_str()) {
                    counts[index] += 1;
                }
            }
        }
    }
    if words < 8 {
        return None;
    }
    let mut ranked: Vec<(usize, usize)> = counts.iter().copied().enumerate().collect();
    ranked.sort_by_key(|(_, count)| std::cmp::Reverse(*count));
    let (best, best_count) = ranked[0];
    let second_count = ranked.get(1).map_or(0, |second| second.1);
    let share = best_count as f64 / words as f64;
    if best_count == 0 || share < 0.1 {
        return None;
    }
    // How far the winner is ahead of the runner-up, scaled by how much of
    // the text the winner's words cover.
    let margin = (best_count - second_count) as f64 / best_count as f64;
    let confidence = (margin * (share / 0.3).min(1.0)).clamp(0.0, 1.0);
    Some((STOPWORDS[best].0, (confidence * 100.0).round() / 100.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_languages_are_told_apart() {
        let cases = [
            (
                "en",
                "The Federal Reserve left its key rate unchanged on Wednesday, and officials said they were in no hurry to cut it.",
            ),
            (
                "de",
                "Der Bundestag hat am Donnerstag mit den Stimmen der Koalition den Haushalt für das kommende Jahr beschlossen, wie die Präsidentin mitteilte.",
            ),
            (
                "fr",
                "Le gouvernement a annoncé mardi une nouvelle aide pour les agriculteurs touchés par la sécheresse dans le sud de la France.",
            ),
            (
                "es",
                "El Gobierno aprobó este martes un plan de ayudas para los agricultores afectados por la sequía en el sur del país, según fuentes oficiales.",
            ),
            (
                "it",
                "Il governo ha approvato martedì un piano di aiuti per gli agricoltori colpiti dalla siccità nel sud del paese, secondo fonti ufficiali.",
            ),
            (
                "pt",
                "O governo aprovou nesta terça-feira um plano de ajuda para os agricultores afetados pela seca no sul do país, segundo fontes oficiais.",
            ),
            (
                "nl",
                "De regering heeft dinsdag een steunpakket voor boeren aangekondigd die door de droogte in het zuiden van het land zijn getroffen.",
            ),
        ];
        for (expected, text) in cases {
            let (code, confidence) = detect_language([text]).unwrap();
            assert_eq!(code, expected, "{text}");
            assert!(confidence > 0.3, "{expected}: confidence {confidence}");
        }
    }

    #[test]
    fn too_little_text_is_undetermined() {
        assert_eq!(detect_language(["Breaking news"]), None);
        assert_eq!(detect_language(["1234 5678"]), None);
    }
}
