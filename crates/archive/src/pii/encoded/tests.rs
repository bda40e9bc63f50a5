//! Tests of the search of base64 text: the pre-checks of decoded bytes and of readings
//! against what the readings hold.

use super::*;

/// Every character that a reading folds into a digit, an `@` or an escape is a whole
/// character of [`UTF8`]: its UTF-8 bytes alone set `lead`.
#[test]
fn leads_cover_every_character_that_may_stand_for_a_digit() {
    let mut checked = 0;
    for c in ('\u{80}'..=char::MAX).filter(|c| *c != '\u{fffd}') {
        let mut special = false;
        super::super::forms::fold_char(c, &mut |f| special |= f.is_ascii_digit() || "@\\%&".contains(f));
        if special {
            checked += 1;
            let mut buf = [0u8; 4];
            assert!(scan(c.encode_utf8(&mut buf).as_bytes()).lead, "U+{:04X}", u32::from(c));
        }
    }
    assert!(checked > 800, "{checked} characters");
}

/// `may_hold` sees what the readings fold: full-width escapes and digits, fractions.
#[test]
fn folded_forms_may_hold_pii() {
    for s in
        ["ana％４０ex.org", "ana＆＃６４；ex.org", "ana﹪40ex.org", "ana＼u0040ex.org", "555010¼", "55501㏴", "555010⅐"]
    {
        assert!(may_hold(s.chars()), "{s}");
    }
    assert!(!may_hold("plain words, 12 and 34".chars()));
}

/// Seven digits make a phone number across separators, controls and any non-ASCII
/// byte (which may read as a separator or as nothing), not across a letter.
#[test]
fn a_chain_of_digits_is_broken_only_by_what_no_phone_number_has() {
    for s in ["555 010 4477", "(555)010-4477", "5\t5\u{a0}5\u{2013}0\u{200b}1\u{301}0\u{ff0d}4", "5.5.5.0.1.0.4"] {
        assert!(scan(s.as_bytes()).ascii, "{s:?}");
    }
    assert!(!scan(b"5;5;5;5;5;5;5;5").ascii);
    assert!(!scan(b"555x 0104").ascii);
}

/// The same forms inside base64, of UTF-8 and of UTF-16LE, are found.
#[test]
fn folded_forms_are_found_in_base64() {
    use base64::Engine;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    for s in ["ana％４０ex.org", "ana＆＃６４；ex.org", "ana﹪40ex.org", "ana＼u0040ex.org", "555010¼", "555010⅐"]
    {
        let utf16: Vec<u8> = s.encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert!(super::super::contains_pii(&b64(s.as_bytes())), "{s} as UTF-8");
        assert!(super::super::contains_pii(&b64(&utf16)), "{s} as UTF-16LE");
    }
}
