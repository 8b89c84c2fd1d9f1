//! Anyone may type anything into the search box: the parser answers or refuses, never panics,
//! and the highlighted text built from its terms is always safe HTML (only `<mark>` tags).
#![no_main]

use libfuzzer_sys::fuzz_target;
use microcat::search::analysis::segmenter;
use microcat::search::query::parse;
use microcat::search::searcher::{highlight_terms, mark, match_ranges, snippet};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (query, document) = text.split_once('\u{0}').unwrap_or((text, text));
    let Ok(parsed) = parse(query) else { return };
    let terms = highlight_terms(&segmenter(None), &parsed);
    for html in [mark(document, &match_ranges(document, &terms)), snippet(document, &terms)] {
        let stripped = html.replace("<mark>", "").replace("</mark>", "");
        assert!(!stripped.contains('<') && !stripped.contains('>'), "unescaped markup in {html:?}");
    }
});
