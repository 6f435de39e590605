//! Shortening echoed input for messages: a 50 MB `file_name` or category name
//! must not make a 50 MB error line or report row.

use std::borrow::Cow;

/// `s` when it has at most `max` characters; otherwise its head and tail around
/// an ellipsis, with the full length noted (the result has about `max` + 30
/// characters). `max` below 8 is taken as 8.
///
/// ```
/// use coco_model::text::shorten;
/// assert_eq!(shorten("short", 10), "short");
/// let long = "a".repeat(1000);
/// assert_eq!(shorten(&long, 20), format!("{}…{} (1000 chars)", "a".repeat(13), "a".repeat(7)));
/// ```
pub fn shorten(s: &str, max: usize) -> Cow<'_, str> {
    let max = max.max(8);
    // cheap exit without counting characters: bytes ≥ chars
    if s.len() <= max {
        return Cow::Borrowed(s);
    }
    let n = s.chars().count();
    if n <= max {
        return Cow::Borrowed(s);
    }
    let head = max * 2 / 3;
    let tail = max - head;
    let head_end = s.char_indices().nth(head).map_or(s.len(), |(i, _)| i);
    let tail_start = s.char_indices().nth(n - tail).map_or(s.len(), |(i, _)| i);
    Cow::Owned(format!(
        "{}…{} ({n} chars)",
        &s[..head_end],
        &s[tail_start..]
    ))
}

/// [`shorten`] applied to every whitespace-separated word longer than
/// `max_word` characters, then to the whole text with `max_total`: echoed
/// values are cut where they are long, the words around them are kept.
///
/// ```
/// use coco_model::text::shorten_words;
/// let msg = format!("file {} does not exist", "x".repeat(500));
/// let out = shorten_words(&msg, 20, 200);
/// assert!(out.starts_with("file xxx"));
/// assert!(out.ends_with("(500 chars) does not exist"));
/// ```
pub fn shorten_words(s: &str, max_word: usize, max_total: usize) -> Cow<'_, str> {
    if s.len() <= max_word.max(8) {
        return Cow::Borrowed(s);
    }
    let mut changed = false;
    let mut out = String::with_capacity(s.len().min(max_total * 2));
    let mut rest = s;
    while !rest.is_empty() {
        let word_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let word = &rest[..word_end];
        // trailing punctuation (`path:`) stays after the length note
        let body = word.trim_end_matches([':', ',', ';', '.', ')']);
        let short = shorten(body, max_word);
        changed |= matches!(short, Cow::Owned(_));
        out.push_str(&short);
        out.push_str(&word[body.len()..]);
        rest = &rest[word_end..];
        let space_end = rest
            .find(|c: char| !c.is_whitespace())
            .unwrap_or(rest.len());
        out.push_str(&rest[..space_end]);
        rest = &rest[space_end..];
        if out.len() > max_total.saturating_mul(4) + 64 {
            // many long words: stop early, the total cut below notes the length
            changed = true;
            out.push_str(rest);
            break;
        }
    }
    let total = shorten(&out, max_total).into_owned();
    if changed || total.len() != s.len() {
        Cow::Owned(total)
    } else {
        Cow::Borrowed(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_short_text_and_cuts_long_text_on_char_boundaries() {
        assert!(matches!(shorten("abc", 10), Cow::Borrowed("abc")));
        let s = "é".repeat(100);
        let out = shorten(&s, 10);
        assert_eq!(
            out,
            format!("{}…{} (100 chars)", "é".repeat(6), "é".repeat(4))
        );
        assert_eq!(shorten_words("a b  c", 3, 100), "a b  c");
        let msg = format!("reading {}: gone", "p".repeat(100));
        assert_eq!(
            shorten_words(&msg, 10, 1000),
            format!(
                "reading {}…{} (100 chars): gone",
                "p".repeat(6),
                "p".repeat(4)
            )
        );
    }

    #[test]
    fn bounds_the_output_of_many_long_words() {
        let s = format!("{} ", "y".repeat(300)).repeat(10_000);
        let out = shorten_words(&s, 50, 400);
        assert!(out.chars().count() < 500, "{}", out.len());
        assert!(out.contains(" chars)"));
    }
}
