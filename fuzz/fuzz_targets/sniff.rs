//! The type sniffer sees the first bytes of every upload: it must never panic, and what it
//! recognises must describe itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use microcat::media::sniff::sniff;

fuzz_target!(|data: &[u8]| {
    if let Some(format) = sniff(data) {
        assert!(!format.content_type().is_empty());
        // A longer prefix of the same file never changes the verdict to "unknown".
        let mut longer = data.to_vec();
        longer.extend_from_slice(&[0; 64]);
        assert!(sniff(&longer).is_some(), "{format:?} lost by appending bytes");
    }
});
