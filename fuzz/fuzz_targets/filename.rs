//! Uploaded filenames are shown to people and sent back in Content-Disposition: whatever the
//! client claims, what is kept is one short, visible path segment.
#![no_main]

use libfuzzer_sys::fuzz_target;
use microcat::domain::media::sanitize_filename;

fuzz_target!(|data: &[u8]| {
    let raw = String::from_utf8_lossy(data);
    let Some(name) = sanitize_filename(&raw) else { return };
    assert!(!name.is_empty() && name.len() <= 255, "{name:?}");
    assert!(!name.contains(['/', '\\']) && !name.starts_with('.'), "{name:?}");
    assert!(!name.chars().any(|c| c.is_control() || ('\u{202A}'..='\u{202E}').contains(&c)), "{name:?}");
    assert_eq!(sanitize_filename(&name).as_deref(), Some(name.as_str()), "sanitising is idempotent");
});
