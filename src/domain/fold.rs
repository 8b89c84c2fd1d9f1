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
/// `text` has, each at the same index.
pub fn fold_chars(text: &str) -> Vec<char> {
    fast2s::convert(text).chars().map(fold_char).collect()
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
    !(is_cjk(c) || c.is_alphanumeric())
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
    fn noise_is_anything_but_letters_digits_and_ideographs() {
        for c in ['*', ' ', '.', '·', '，', '\u{200B}', '★', '-'] {
            assert!(is_noise(fold_char(c)), "{c:?}");
        }
        for c in ['诈', 'a', '7', 'é'] {
            assert!(!is_noise(c), "{c:?}");
        }
    }
}
