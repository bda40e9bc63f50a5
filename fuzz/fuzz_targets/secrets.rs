//! The planted secrets, and whether a string holds one in any form: read through every
//! reading of `forms`, and through base64 runs decoded as UTF-8 and as UTF-16 in both
//! byte orders, nested.

use base64::alphabet::STANDARD;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;

use crate::forms::readings;

/// The planted e-mail addresses, as the seeds write them (an address literal among them).
pub const EMAILS: [&str; 3] = ["ana@example.com", "bob.smith@mail.example.org", "ana@[192.0.2.1]"];
/// The planted phone number.
pub const PHONE: &str = "+1 555 010 4477";
/// The digits that make the phone number, in any layout the contract calls a phone.
const PHONE_DIGITS: &str = "5550104477";
/// Planted PII that matches no pattern (lower case): only the rules by name and by
/// structure keep it out of outputs.
pub const UNPATTERNED: [&str; 2] = ["ana.lopez(at)example.org", "zebulon"];

/// Base64 without padding whose last partial group may have any trailing bits: a run cut
/// at another alignment than its own still decodes to its last byte.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Nested base64 is decoded this many layers deep.
const DEPTH: usize = 3;

/// What a search looks for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// The e-mail addresses and the phone number: in item text.
    Item,
    /// The e-mail addresses in any form and anything base64-encoded, but not the phone
    /// digits of the plain text: in identifiers, whose digits are their own.
    Identifier,
    /// The secrets that match no pattern.
    Unpatterned,
}

/// The secret that `s` holds in any form, described with the form it was found in.
pub fn find(s: &str, want: Want) -> Option<String> {
    search(s, want, 0)
}

fn search(s: &str, want: Want, depth: usize) -> Option<String> {
    let forms = readings(s);
    for r in &forms {
        if let Some(found) = plain(r, want) {
            return Some(if r == s { found.to_owned() } else { format!("{found} (read as {r:?})") });
        }
    }
    if depth >= DEPTH {
        return None;
    }
    // Under base64 every secret counts: an identifier's own digits are not encoded.
    let inner = if want == Want::Identifier { Want::Item } else { want };
    for r in &forms {
        for run in base64_runs(r) {
            for (how, text) in decodings(&run) {
                if text.chars().count() < PHONE_DIGITS.len() {
                    continue;
                }
                if let Some(found) = search(&text, inner, depth + 1) {
                    return Some(format!("base64 ({how}) of {found}"));
                }
            }
        }
    }
    None
}

/// The secret that one reading holds as plain text. A quoted local part counts as its
/// text (`"ana"@example.com`).
fn plain(r: &str, want: Want) -> Option<&'static str> {
    let lower = r.to_lowercase();
    if want == Want::Unpatterned {
        return UNPATTERNED.into_iter().find(|u| lower.contains(u));
    }
    let unquoted = lower.replace('"', "");
    let email = EMAILS.into_iter().find(|e| lower.contains(e) || unquoted.contains(e));
    email.or_else(|| (want == Want::Item && holds_phone_digits(r)).then_some(PHONE))
}

/// Whether `s` holds the phone number's digits: a run of digits with single separators
/// (`)? [ .-]? (?` between two digits), fractions of seconds of date-times left out.
fn holds_phone_digits(s: &str) -> bool {
    let b = s.as_bytes();
    if b.iter().filter(|c| c.is_ascii_digit()).count() < PHONE_DIGITS.len() {
        return false;
    }
    // Fractional seconds (`:SS.fff`, `HHMMSS.fff` after a `T`) are part of a date-time.
    let mut fraction = vec![false; b.len()];
    for i in 0..b.len() {
        if matches!(b[i], b'.' | b',') && i >= 3 && b[i - 1].is_ascii_digit() && b[i - 2].is_ascii_digit() {
            let time = b[i - 3] == b':' || (i >= 7 && matches!(b[i - 7], b'T' | b't'));
            if time {
                let mut j = i + 1;
                while j < b.len() && b[j].is_ascii_digit() {
                    fraction[j] = true;
                    j += 1;
                }
            }
        }
    }
    let digit = |i: usize| i < b.len() && b[i].is_ascii_digit() && !fraction[i];
    let mut i = 0;
    while i < b.len() {
        if !digit(i) {
            i += 1;
            continue;
        }
        let mut digits = String::new();
        let mut j = i;
        loop {
            while digit(j) {
                digits.push(b[j] as char);
                j += 1;
            }
            let mut k = j;
            if k < b.len() && b[k] == b')' {
                k += 1;
            }
            if k < b.len() && matches!(b[k], b' ' | b'.' | b'-') {
                k += 1;
            }
            if k < b.len() && b[k] == b'(' {
                k += 1;
            }
            if k > j && digit(k) {
                j = k;
            } else {
                break;
            }
        }
        if digits.contains(PHONE_DIGITS) {
            return true;
        }
        i = j.max(i + 1);
    }
    false
}

/// The runs of base64 characters in `s` (either alphabet, the URL-safe one mapped to the
/// standard), long enough to hold an encoded secret: 7 bytes need 10 characters.
fn base64_runs(s: &str) -> Vec<Vec<u8>> {
    let is_b64 = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'-' | b'_');
    s.as_bytes()
        .split(|&c| !is_b64(c))
        .filter(|run| run.len() >= 10)
        .map(|run| {
            run.iter()
                .map(|&c| match c {
                    b'-' => b'+',
                    b'_' => b'/',
                    c => c,
                })
                .collect()
        })
        .collect()
}

/// The texts a base64 run stands for, at each of its four alignments (so a secret at any
/// byte offset is found), to its last character: its bytes as UTF-8, and as UTF-16 little- and big-endian from
/// an even and an odd byte.
fn decodings(run: &[u8]) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for skip in 0..4.min(run.len()) {
        let part = &run[skip..];
        // A last group of one character holds no whole byte.
        let part = &part[..part.len() - usize::from(part.len() % 4 == 1)];
        let Ok(bytes) = LENIENT.decode(part) else { continue };
        out.push(("UTF-8", String::from_utf8_lossy(&bytes).into_owned()));
        for start in 0..2 {
            let Some(body) = bytes.get(start..) else { continue };
            let le: Vec<u16> = body.chunks_exact(2).map(|p| u16::from_le_bytes([p[0], p[1]])).collect();
            let be: Vec<u16> = body.chunks_exact(2).map(|p| u16::from_be_bytes([p[0], p[1]])).collect();
            out.push(("UTF-16LE", String::from_utf16_lossy(&le)));
            out.push(("UTF-16BE", String::from_utf16_lossy(&be)));
        }
    }
    out
}
