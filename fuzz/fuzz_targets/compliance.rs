//! Anyone may type anything into a work: the compliance check answers for any text, never
//! panics, reports ranges inside the text, and a masked finding is never found again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use microcat::domain::compliance::words::parse_terms;
use microcat::domain::compliance::{Checker, Level, WordMatcher, mask_in_text, redact};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // The part before the first NUL is a word list, the rest the text to check.
    let (list, text) = text.split_once('\u{0}').unwrap_or(("诈骗\n内部资料", text));
    let terms = parse_terms(list, "测试", Level::Block).unwrap_or_default();
    let checker = Checker::new(WordMatcher::build(terms));
    let length = text.chars().count();
    let found = checker.scan(text);
    for finding in &found {
        assert!(finding.start <= finding.end && finding.end <= length, "{finding:?} outside {length} characters");
        if finding.category.is_maskable() && finding.start < finding.end {
            let masked = mask_in_text(text, finding.start, finding.end, &finding.category).expect("a range inside");
            let again = Checker::default().scan(&masked);
            assert!(
                !again.iter().any(|hit| hit.start == finding.start && hit.category == finding.category && hit.excerpt == finding.excerpt),
                "{finding:?} still found after masking: {masked:?}"
            );
        }
    }
    let redacted = redact(text);
    assert_eq!(redacted.chars().count(), length, "redaction keeps every character's place");
});
