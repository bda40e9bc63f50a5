//! Stream sequence numbers: decimal integers of any length (DynamoDB Streams' have about
//! 21 digits, Kinesis' 56), compared as numbers, never as text of different lengths.

use std::cmp::Ordering;
use std::fmt;

/// The most digits accepted. Kinesis' are 56 digits today; the API allows up to 128
/// characters.
pub const MAX_DIGITS: usize = 128;

/// A sequence number that is not a decimal integer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a sequence number must be 1 to {MAX_DIGITS} decimal digits")]
pub struct NotASequenceNumber;

/// A stream sequence number, kept as the text the stream gave (the key digests and
/// `itemIdentifier` use that text) and ordered by its numeric value.
#[derive(Debug, Clone, Eq)]
pub struct SequenceNumber(String);

impl SequenceNumber {
    pub fn parse(text: &str) -> Result<SequenceNumber, NotASequenceNumber> {
        if text.is_empty() || text.len() > MAX_DIGITS || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(NotASequenceNumber);
        }
        Ok(SequenceNumber(text.to_owned()))
    }

    /// The number 0, before every sequence number.
    pub fn zero() -> SequenceNumber {
        SequenceNumber("0".to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The digits without leading zeros ("0" stays "0"): equal numbers have equal
    /// significant digits, and more digits mean a larger number.
    fn significant(&self) -> &str {
        let s = self.0.trim_start_matches('0');
        if s.is_empty() {
            "0"
        } else {
            s
        }
    }
}

impl Ord for SequenceNumber {
    fn cmp(&self, other: &Self) -> Ordering {
        let (a, b) = (self.significant(), other.significant());
        a.len().cmp(&b.len()).then_with(|| a.cmp(b))
    }
}

impl PartialOrd for SequenceNumber {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for SequenceNumber {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl fmt::Display for SequenceNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(s: &str) -> SequenceNumber {
        SequenceNumber::parse(s).expect(s)
    }

    #[test]
    fn numbers_compare_by_value_not_by_text() {
        // As text, "9" > "10"; as numbers it is the other way round.
        assert!(seq("9") < seq("10"));
        assert!(seq("99999999999999999999") < seq("100000000000000000000"));
        assert!(seq("1100000000017454423009") < seq("1100000000017454423010"));
        assert!(
            seq("49656822397712398451253618027165449870146245371836661762")
                < seq("49656822397712398451253618027165449970146245371836661762")
        );
        // Leading zeros do not change the value.
        assert_eq!(seq("007"), seq("7"));
        assert_eq!(seq("000"), seq("0"));
        assert!(seq("0009") < seq("10"));
        assert_eq!(seq("007").as_str(), "007", "the stream's own text is kept");
    }

    #[test]
    fn numbers_beyond_u128_compare_too() {
        let big = "9".repeat(60);
        let bigger = format!("1{}", "0".repeat(60));
        assert!(seq(&big) < seq(&bigger));
        assert_eq!(seq(&big).cmp(&seq(&big)), Ordering::Equal);
    }

    #[test]
    fn what_is_not_a_sequence_number() {
        for bad in ["", "12a", "-1", "1.5", " 1", "１２", &"1".repeat(MAX_DIGITS + 1)] {
            assert_eq!(SequenceNumber::parse(bad), Err(NotASequenceNumber), "{bad:?}");
        }
        assert!(SequenceNumber::parse(&"1".repeat(MAX_DIGITS)).is_ok());
    }
}
