//! Where a large manifest can be cut so that its catalogue and promotions are read on
//! several cores at once (`parse::read_raw`).
//!
//! Owns: finding the run of `[[catalogue]]` / `[[promotions]]` tables, cutting it at
//! table headers into pieces of about the same size, and the blanked copies of the text
//! each piece is read from. Pure: text in, byte ranges out.
//!
//! Why blanked copies: a piece is read from a copy of the whole text in which every
//! byte outside the piece is a space. Spaces are TOML whitespace, so the copy holds
//! just that piece's tables; and its byte offsets are the file's, so every problem
//! found in it points at the right line and column with no arithmetic. Reading 170 KiB
//! of spaces costs about 0.1 ms; reading the tables costs 30–60 times that.
//!
//! When the text cannot be cut safely, there are no pieces and the caller reads the
//! text whole: a multi-line string (`"""` or `'''`, where a line that looks like a
//! header may be text), a header inside the run other than those two (a sub-table, or
//! any other table: the run ends there), or element tables again after the run.
//! A piece that does not read on its own (a header line inside a multi-line array, say)
//! makes the caller read the text whole too, so the pieces never accept a text that
//! reading it whole would refuse.

use std::ops::Range;

/// Texts smaller than this are read whole: the threads would cost more than they save.
pub const MIN_BYTES: usize = 64 * 1024;

/// The element tables that may be read apart.
const ELEMENT_HEADERS: [&str; 2] = ["[[catalogue]]", "[[promotions]]"];

/// A text cut for reading in parallel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cut {
    /// The run of element tables: everything outside it (the head before, the tail
    /// after) is read as one document.
    pub run: Range<usize>,
    /// The run, cut at element headers, in text order.
    pub pieces: Vec<Range<usize>>,
}

/// The header a line starts (leading spaces and tabs allowed), if it is one.
fn header(line: &str) -> Option<&str> {
    let line = line.trim_start_matches([' ', '\t']);
    line.starts_with('[').then(|| line.trim_end())
}

/// Cuts `text` into at most `parts` pieces, or `None` when it is small, cannot be cut
/// safely, or `parts` < 2.
pub fn cut(text: &str, parts: usize) -> Option<Cut> {
    if parts < 2 || text.len() < MIN_BYTES || text.contains("\"\"\"") || text.contains("'''") {
        return None;
    }
    // Line starts of every header: (offset, is an element header).
    let mut headers = Vec::new();
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        if let Some(h) = header(line) {
            // A comment after the header is allowed; anything else makes it not ours.
            let h = h.split_once('#').map_or(h, |(h, _)| h.trim_end());
            headers.push((at, ELEMENT_HEADERS.contains(&h)));
        }
        at += line.len();
    }
    let first = headers.iter().position(|&(_, element)| element)?;
    let end_index = headers[first..].iter().position(|&(_, element)| !element).map(|i| first + i);
    let run_end = end_index.map_or(text.len(), |i| headers[i].0);
    if end_index.is_some_and(|i| headers[i..].iter().any(|&(_, element)| element)) {
        return None;
    }
    let starts: Vec<usize> = headers[first..end_index.unwrap_or(headers.len())].iter().map(|&(offset, _)| offset).collect();
    let run = starts[0]..run_end;
    // Cut at the element header nearest each even share of the run.
    let share = run.len() / parts;
    let mut pieces = Vec::with_capacity(parts);
    let mut from = run.start;
    for k in 1..parts {
        let goal = run.start + k * share;
        let Some(&at) = starts.iter().find(|&&s| s >= goal && s > from) else { break };
        pieces.push(from..at);
        from = at;
    }
    pieces.push(from..run.end);
    (pieces.len() >= 2).then_some(Cut { run, pieces })
}

/// A copy of `text` with every byte outside `keep` turned into a space. `None` if a
/// range is out of bounds or splits a character (never for a [`Cut`]'s ranges, which
/// start and end at line boundaries; the caller then reads the text whole).
pub fn blanked(text: &str, keep: &[Range<usize>]) -> Option<String> {
    let mut out = vec![b' '; text.len()];
    for r in keep {
        out.get_mut(r.clone())?.copy_from_slice(text.as_bytes().get(r.clone())?);
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn big(tail: &str) -> String {
        let mut text = String::from("[event]\nid = \"e\"\n\n");
        for i in 0..2_000 {
            text.push_str(&format!("[[catalogue]]\nsku = \"S{i}\"\n\n"));
        }
        for i in 0..2_000 {
            text.push_str(&format!("[[promotions]] # rule {i}\nid = \"p{i}\"\napplies_to = {{ sku = \"S{i}\" }}\n\n"));
        }
        text.push_str(tail);
        text
    }

    #[test]
    fn a_large_run_is_cut_at_headers_into_even_pieces() {
        let text = big("[pricing]\ntiers = [\"member\"]\n");
        let cut = cut(&text, 4).expect("cut");
        assert_eq!(&text[cut.run.start..cut.run.start + 13], "[[catalogue]]");
        assert!(text[cut.run.end..].starts_with("[pricing]"));
        assert_eq!(cut.pieces.len(), 4);
        assert_eq!(cut.pieces.first().unwrap().start, cut.run.start);
        assert_eq!(cut.pieces.last().unwrap().end, cut.run.end);
        for w in cut.pieces.windows(2) {
            assert_eq!(w[0].end, w[1].start, "pieces are contiguous");
            assert!(text[w[1].start..].starts_with("[["), "each piece starts at a header");
        }
        let sizes: Vec<usize> = cut.pieces.iter().map(|p| p.len()).collect();
        let (min, max) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
        assert!(max - min < 200, "pieces of about the same size: {sizes:?}");
    }

    #[test]
    fn texts_that_cannot_be_cut_safely_are_not() {
        assert_eq!(cut(&big(""), 1), None, "one core");
        assert_eq!(cut("[event]\n[[catalogue]]\nsku = \"a\"\n[[promotions]]\nid = \"p\"\n", 4), None, "small");
        assert_eq!(cut(&big("[notes]\ntext = \"\"\"\n[[catalogue]]\n\"\"\"\n"), 4), None, "a multi-line string");
        assert_eq!(cut(&big("[pricing]\n[[promotions]]\nid = \"late\"\n"), 4), None, "elements after another table");
        // A sub-table inside the run ends it there; more elements after it: read whole.
        let mut sub = big("");
        sub.insert_str(sub.find("[[promotions]]").unwrap(), "[catalogue.extra]\nx = 1\n");
        assert_eq!(cut(&sub, 4), None);
    }

    #[test]
    fn a_blanked_copy_keeps_offsets_and_only_what_it_keeps() {
        let text = "[a]\nx = \"é\"\n[[catalogue]]\nsku = \"s\"\n";
        let keep = 0..13;
        let copy = blanked(text, std::slice::from_ref(&keep)).expect("whole lines");
        assert_eq!(copy.len(), text.len());
        assert_eq!(&copy[keep.clone()], &text[keep]);
        assert!(copy[13..].bytes().all(|b| b == b' '));
        assert_eq!(blanked(text, std::slice::from_ref(&(0..10))), None, "a range that splits the é");
        assert_eq!(blanked(text, std::slice::from_ref(&(0..100))), None, "a range past the end");
    }
}
