//! Character folding shared by search and the compliance check, so that a word a reviewer
//! puts on a list is matched exactly as search would find it: full-width → half-width,
//! ideographic space → space, Latin lowercased (traditional → simplified is done on whole
//! strings by `fast2s`, which converts character for character).

/// One character, folded: full-width ASCII to half-width, ideographic space to space,
/// uppercase to lowercase.
pub fn fold_char(c: char) -> char {
    // Most characters are ideographs or ASCII: answer those without Unicode table lookups.
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    if is_cjk(c) {
        return c;
    }
    let half_width = match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    };
    if !half_width.is_uppercase() {
        return half_width;
    }
    let mut lower = half_width.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(single), None) => single,
        _ => half_width,
    }
}

/// Traditional → simplified, then [`fold_char`] on every character: as many characters as
/// `text` has, each at the same index. Exactly `fold_char(fast2s::convert(text))`, but read
/// from a table of the Basic Multilingual Plane made once (three times faster on Chinese text:
/// the compliance check's budget is a few milliseconds per MiB); the few characters `fast2s`
/// converts differently by context (`乾隆`/`乾燥`) send the text down the exact path.
pub fn fold_chars(text: &str) -> Vec<char> {
    let table = fold_table();
    let mut folded = Vec::with_capacity(text.chars().count());
    for c in text.chars() {
        let entry = table.get(c as usize).copied().unwrap_or(UNTABLED);
        if entry == CONTEXTUAL {
            return fast2s::convert(text).chars().map(fold_char).collect();
        }
        folded.push(if entry == UNTABLED { fold_char(c) } else { char::from_u32(entry).unwrap_or(c) });
    }
    folded
}

/// Table entries that are not a character: convert by context, or outside the table.
const CONTEXTUAL: u32 = u32::MAX;
const UNTABLED: u32 = u32::MAX - 1;

/// What `fast2s` converts only in some neighbours' company (its `special.rs`).
const CONTEXTUAL_CHARS: &str = "兒覆夥藉瞭麽幺於乾著苧闔鍾讎畫";

fn fold_table() -> &'static [u32] {
    static TABLE: std::sync::OnceLock<Vec<u32>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        (0..0x1_0000u32)
            .map(|code| match char::from_u32(code) {
                Some(c) if CONTEXTUAL_CHARS.contains(c) => CONTEXTUAL,
                Some(c) if c.len_utf8() == 3 => {
                    let simplified = fast2s::convert(c.encode_utf8(&mut [0; 4])).chars().next().unwrap_or(c);
                    fold_char(simplified) as u32
                }
                Some(c) => fold_char(c) as u32,
                None => UNTABLED,
            })
            .collect()
    })
}

/// Whether a character is a CJK ideograph.
pub fn is_cjk(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}' | '\u{20000}'..='\u{2A6DF}')
}

/// Whether a (folded) character is noise placed between the characters of a word to dodge a
/// list (`诈*骗`, `诈 骗`, `诈.骗`): anything but a letter, digit or ideograph.
pub fn is_noise(c: char) -> bool {
    if c.is_ascii() {
        return !c.is_ascii_alphanumeric();
    }
    if is_cjk(c) {
        return false;
    }
    // Chinese text's own punctuation, answered without Unicode table lookups: general
    // punctuation, CJK symbols and punctuation (、。「」), half- and full-width forms' symbols.
    if matches!(c, '\u{2000}'..='\u{206F}' | '\u{3000}'..='\u{303F}' | '\u{FF01}'..='\u{FF0F}' | '\u{FF1A}'..='\u{FF20}' | '\u{FF5B}'..='\u{FF65}')
    {
        return true;
    }
    !c.is_alphanumeric()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_width_script_and_case() {
        let folded: String = fold_chars("１３８ＡＢｃ　警察").into_iter().collect();
        assert_eq!(folded, "138abc 警察");
        assert_eq!(fold_chars("詐騙").into_iter().collect::<String>(), "诈骗");
    }

    #[test]
    fn the_table_folds_exactly_as_the_whole_string_conversion() {
        for text in ["乾隆年間，天氣乾燥", "看著計畫書", "網絡謠言 ＡＢＣ 😀 ß", "我們的警營開放日"]
        {
            let exact: Vec<char> = fast2s::convert(text).chars().map(fold_char).collect();
            assert_eq!(fold_chars(text), exact, "{text}");
        }
    }

    #[test]
    fn noise_is_anything_but_letters_digits_and_ideographs() {
        for c in ['*', ' ', '.', '·', '，', '\u{200B}', '★', '-'] {
            assert!(is_noise(fold_char(c)), "{c:?}");
        }
        for c in ['诈', 'a', '7', 'é'] {
            assert!(!is_noise(c), "{c:?}");
        }
    }
}
