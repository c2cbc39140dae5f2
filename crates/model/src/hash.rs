//! Content hashing: the exact hash that decides whether a story changed, and
//! the SimHash that tells near-duplicates apart from different stories.

use sha2::{Digest, Sha256};

/// Returns the hex SHA-256 of the parts of a story that define a version:
/// title, summary and body paragraphs, each whitespace-folded.
///
/// Fetch times, ids and feed metadata are left out, so an unchanged re-poll
/// hashes the same and publishes nothing.
pub fn content_hash<'a>(
    title: &str,
    summary: Option<&str>,
    paragraphs: impl IntoIterator<Item = &'a str>,
) -> String {
    let mut hasher = Sha256::new();
    let mut feed = |part: &str| {
        for (index, word) in part.split_whitespace().enumerate() {
            if index > 0 {
                hasher.update(b" ");
            }
            hasher.update(word.as_bytes());
        }
        hasher.update([0x1e]);
    };
    feed(title);
    feed(summary.unwrap_or(""));
    for paragraph in paragraphs {
        feed(paragraph);
    }
    hex::encode(hasher.finalize())
}

/// Returns the 64-bit SimHash of a text as 16 hex digits.
///
/// Features are lowercase word 3-shingles weighted equally, so small edits
/// (a changed word, an added sentence) flip few bits while different stories
/// land about 32 bits apart.
pub fn simhash<'a>(paragraphs: impl IntoIterator<Item = &'a str>) -> String {
    let words: Vec<String> = paragraphs
        .into_iter()
        .flat_map(str::split_whitespace)
        .map(|word| {
            word.chars()
                .filter(|c| c.is_alphanumeric())
                .flat_map(char::to_lowercase)
                .collect::<String>()
        })
        .filter(|word| !word.is_empty())
        .collect();
    let mut weights = [0i64; 64];
    let mut add = |feature: u64| {
        for (bit, weight) in weights.iter_mut().enumerate() {
            if feature >> bit & 1 == 1 {
                *weight += 1;
            } else {
                *weight -= 1;
            }
        }
    };
    if words.len() < 3 {
        for word in &words {
            add(fnv1a64(word.as_bytes()));
        }
    } else {
        for window in words.windows(3) {
            let mut hash = fnv1a64(window[0].as_bytes());
            for word in &window[1..] {
                hash = fnv1a64_continue(fnv1a64_continue(hash, b" "), word.as_bytes());
            }
            add(hash);
        }
    }
    let value = weights
        .iter()
        .enumerate()
        .filter(|(_, weight)| **weight > 0)
        .fold(0u64, |acc, (bit, _)| acc | 1 << bit);
    format!("{value:016x}")
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn fnv1a64(bytes: &[u8]) -> u64 {
    fnv1a64_continue(FNV_OFFSET, bytes)
}

fn fnv1a64_continue(mut hash: u64, bytes: &[u8]) -> u64 {
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(FNV_PRIME);
    }
    // FNV alone mixes the high bits poorly; a final avalanche spreads every
    // input bit over all 64 so SimHash bits are independent.
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
    hash ^= hash >> 33;
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    fn distance(a: &str, b: &str) -> u32 {
        let a = u64::from_str_radix(a, 16).unwrap();
        let b = u64::from_str_radix(b, 16).unwrap();
        (a ^ b).count_ones()
    }

    #[test]
    fn content_hash_ignores_whitespace_but_not_words() {
        let one = content_hash("Title", None, ["A  body\nparagraph."]);
        let same = content_hash(" Title ", None, ["A body paragraph."]);
        let changed = content_hash("Title", None, ["A body paragraph!"]);
        assert_eq!(one, same);
        assert_ne!(one, changed);
        assert_eq!(one.len(), 64);
    }

    #[test]
    fn content_hash_keeps_paragraph_boundaries() {
        let split = content_hash("T", None, ["one", "two"]);
        let joined = content_hash("T", None, ["one two"]);
        assert_ne!(split, joined);
    }

    #[test]
    fn simhash_is_close_for_small_edits_and_far_for_other_text() {
        let story = "Russian President Vladimir Putin has warned NATO alliance leaders that a \
                     move to lift restrictions on Ukraine's use of longer-range Western missiles \
                     to strike deep inside his country would be considered an act of war by \
                     Moscow, according to remarks he made to reporters in St Petersburg.";
        let edited = story.replace("reporters in St Petersburg", "journalists in St Petersburg");
        let other = "The European Central Bank cut its deposit rate by a quarter point on \
                     Thursday, its second reduction this year, as inflation in the euro zone \
                     eased toward the bank's two percent target and growth stayed weak.";
        let base = simhash([story]);
        assert!(distance(&base, &simhash([edited.as_str()])) <= 12);
        assert!(distance(&base, &simhash([other])) >= 16);
    }
}
