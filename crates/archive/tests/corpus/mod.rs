//! The corpus of the PII detector (`pii.jsonl`, `benign.jsonl` beside this file, written by
//! `tools/pii_corpus/make_corpus.py`) and the rules that say what the detector must find
//! in it and what it may flag. Shared by the `pii_recall` example and the `pii_corpus`
//! test.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// A phone number or an e-mail address, in one form, in free text.
#[derive(Debug, Deserialize)]
pub struct Pii {
    /// `phone` or `email`.
    pub kind: String,
    /// Where the value comes from: `phonenumbers:FR:MOBILE:NATIONAL`, `faker:de_DE`, ...
    pub source: String,
    /// The value as generated, before its form.
    pub value: String,
    /// The digits of `value` (phones).
    #[serde(default)]
    pub digits: Option<usize>,
    /// The form written: `plain`, `pct-at`, `html-named`, `sep-nbsp`, ...
    pub form: String,
    /// `text`, or the bytes the text was encoded to before base64: `b64-utf8`, ...
    pub encoding: String,
    /// What the detector is given.
    pub text: String,
}

/// A string without PII.
#[derive(Debug, Deserialize)]
pub struct Benign {
    /// `iso-date`, `iso-datetime`, `price`, `uuid`, `order-number`, `version`, `ipv4`,
    /// `ipv6`, `url` or `word`.
    pub kind: String,
    pub text: String,
}

/// The committed corpus file `name`.
pub fn default_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus").join(name)
}

/// One entry per line of a JSON Lines file.
pub fn read<T: DeserializeOwned>(path: &Path) -> Result<Vec<T>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| serde_json::from_str(line).with_context(|| format!("{}:{}", path.display(), i + 1)))
        .collect()
}

/// The bands of phone numbers by their digits: the contract's phone number has 7 to 15.
pub const BANDS: [&str; 3] = ["<7", "7..=15", ">15"];

impl Pii {
    /// The digit band of a phone number; `None` for an e-mail address.
    pub fn band(&self) -> Option<&'static str> {
        self.digits.map(|d| match d {
            0..=6 => BANDS[0],
            7..=15 => BANDS[1],
            _ => BANDS[2],
        })
    }

    /// Whether the contract requires the detector to find this entry: every e-mail address,
    /// every phone number of 7 to 15 digits. Values of more digits (in this corpus, numbers
    /// with an extension: `+1-537-640-6812x41586`) and of fewer are measured, not required.
    pub fn required(&self) -> bool {
        self.kind == "email" || self.band() == Some(BANDS[1])
    }
}

/// Kinds of benign strings that are never PII: the contract names ISO 8601 dates and
/// date-times as what a phone number is not part of.
pub const NEVER_PII: [&str; 2] = ["iso-date", "iso-datetime"];

/// Kinds of benign strings that may be redacted only when they hold a run of 7 or more
/// digits (see [`digit_run`]): such a run is a phone number by the letter of the contract
/// (an IPv4 address of 7+ digits, `1.234.567,00 €`), and over-redacting it is allowed.
/// Anything else flagged in these kinds is the detector's own invention. Order numbers,
/// versions and IPv6 addresses are left out: a detector may sensibly take `/` or `:` as a
/// separator between digit groups (`030/1234 567` is a German phone number), which
/// `INV/2026/00123` or `2001:db8:1234:5678::1` then match.
pub const PII_ONLY_WITH_A_RUN: [&str; 5] = ["uuid", "ipv4", "price", "url", "word"];

/// The most digits in one run of `s`, where a run may have one or two separator characters
/// between its digit groups: any Unicode space, a dash (`-`, U+2010 to U+2015, the minus
/// sign), a dot or a parenthesis. This is the contract's phone number with its separators
/// read broadly, as the rule "every form of the text" reads them.
pub fn digit_run(s: &str) -> usize {
    let is_sep =
        |c: char| c.is_whitespace() || matches!(c, '-' | '.' | '(' | ')' | '\u{2010}'..='\u{2015}' | '\u{2212}');
    let (mut best, mut digits, mut gap) = (0, 0, 0);
    for c in s.chars() {
        if c.is_ascii_digit() {
            digits += 1;
            gap = 0;
            best = best.max(digits);
        } else if is_sep(c) && digits > 0 && gap < 2 {
            gap += 1;
        } else {
            digits = 0;
            gap = 0;
        }
    }
    best
}

/// Whether flagging `b` goes beyond what the contract calls PII (see [`NEVER_PII`] and
/// [`PII_ONLY_WITH_A_RUN`]); kinds outside both lists are never beyond it.
pub fn beyond_contract(b: &Benign) -> bool {
    let kind = b.kind.as_str();
    NEVER_PII.contains(&kind) || (PII_ONLY_WITH_A_RUN.contains(&kind) && digit_run(&b.text) < 7)
}
