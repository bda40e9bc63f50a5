//! A strict scan of one JSON value (RFC 8259) in UTF-8 text, without building anything:
//! where the value ends, for checking a payload in one fast pass.
//!
//! It never accepts what `serde_json` refuses: it is stricter where that is simpler
//! (nesting deeper than [`MAX_DEPTH`]), and callers take `serde_json`'s answer whenever
//! it gives none. Like `serde_json` skipping a value (and `RawValue`), it takes any four
//! hex digits after `\u`: whether a surrogate is paired matters only to a parse of the
//! string, which the record's own parse does.

/// Deepest nesting scanned; `serde_json` allows 128.
pub const MAX_DEPTH: usize = 100;

/// The end (exclusive) of the JSON value at the start of `text` (after white space), or
/// `None` when there is no well-formed value there or the scan will not decide.
pub fn value_end(text: &str) -> Option<usize> {
    let b = text.as_bytes();
    let mut stack = [0u8; MAX_DEPTH];
    let mut depth = 0usize;
    let mut i = skip_ws(b, 0);
    loop {
        // A value at i.
        let c = *b.get(i)?;
        if matches!(c, b'{' | b'[') && depth == MAX_DEPTH {
            return None;
        }
        match c {
            b'"' => i = string_end(b, i + 1)?,
            b'{' => {
                i = skip_ws(b, i + 1);
                if b.get(i) == Some(&b'}') {
                    i += 1;
                } else {
                    *stack.get_mut(depth)? = b'}';
                    depth += 1;
                    i = key(b, i)?;
                    continue;
                }
            }
            b'[' => {
                i = skip_ws(b, i + 1);
                if b.get(i) == Some(&b']') {
                    i += 1;
                } else {
                    *stack.get_mut(depth)? = b']';
                    depth += 1;
                    continue;
                }
            }
            b't' => i = literal(b, i, b"true")?,
            b'f' => i = literal(b, i, b"false")?,
            b'n' => i = literal(b, i, b"null")?,
            b'-' | b'0'..=b'9' => i = number_end(b, i)?,
            _ => return None,
        }
        // After a value: close what ends here, move to the next element or member.
        loop {
            if depth == 0 {
                return Some(i);
            }
            i = skip_ws(b, i);
            let close = stack[depth - 1];
            match *b.get(i)? {
                b',' => {
                    i = skip_ws(b, i + 1);
                    if close == b'}' {
                        i = key(b, i)?;
                    }
                    break;
                }
                c if c == close => {
                    depth -= 1;
                    i += 1;
                }
                _ => return None,
            }
        }
    }
}

/// A member's key and its colon at `i`; returns where its value starts.
fn key(b: &[u8], i: usize) -> Option<usize> {
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let i = skip_ws(b, string_end(b, i + 1)?);
    (b.get(i) == Some(&b':')).then(|| skip_ws(b, i + 1))
}

/// The end of a string whose opening quote is just before `i`.
fn string_end(b: &[u8], mut i: usize) -> Option<usize> {
    loop {
        i = plain_end(b, i);
        let c = *b.get(i)?;
        i += 1;
        match c {
            b'"' => return Some(i),
            b'\\' => match *b.get(i)? {
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => i += 1,
                b'u' => {
                    let hex = b.get(i + 1..i + 5)?;
                    if !hex.iter().all(u8::is_ascii_hexdigit) {
                        return None;
                    }
                    i += 5;
                }
                _ => return None,
            },
            0x00..=0x1f => return None,
            _ => {}
        }
    }
}

/// The first position from `i` of a quote, a backslash or a control character (or the
/// end), eight bytes at a time.
fn plain_end(b: &[u8], mut i: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    while let Some(chunk) = b.get(i..i + 8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        let w = u64::from_le_bytes(w);
        // The lowest byte flagged is exact: a false flag needs a borrow from below it.
        let special = zero(w ^ (ONES * u64::from(b'"')))
            | zero(w ^ (ONES * u64::from(b'\\')))
            | (w.wrapping_sub(ONES * 0x20) & !w & HIGHS);
        if special != 0 {
            return i + (special.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    i
}

/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?` at `i`; returns its end.
fn number_end(b: &[u8], mut i: usize) -> Option<usize> {
    let digits = |i: usize| b.get(i..).map_or(0, |r| r.iter().take_while(|c| c.is_ascii_digit()).count());
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => i += digits(i),
        _ => return None,
    }
    if b.get(i) == Some(&b'.') {
        let n = digits(i + 1);
        if n == 0 {
            return None;
        }
        i += 1 + n;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let n = digits(i);
        if n == 0 {
            return None;
        }
        i += n;
    }
    Some(i)
}

fn literal(b: &[u8], i: usize, word: &[u8]) -> Option<usize> {
    (b.get(i..i + word.len())? == word).then_some(i + word.len())
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\n' | b'\t' | b'\r')) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde::de::IgnoredAny;

    /// serde_json's end of the first value of `text`.
    fn serde_end(text: &str) -> Option<usize> {
        let mut s = serde_json::Deserializer::from_str(text).into_iter::<IgnoredAny>();
        match s.next() {
            Some(Ok(_)) => Some(s.byte_offset()),
            _ => None,
        }
    }

    #[test]
    fn ends_where_serde_json_ends() {
        for t in [
            r#"{"a":[1,-0.5e+3,true,false,null,"x\"\\\/\b\f\n\r\t\u00e9"],"b":{}} ,"#,
            " [ ] ]",
            r#""\u20AC""#,
            "0 1",
            "-12.0E7]",
            r#"{"k" : { "x" : [ [ ], { } ] } }"#,
            "\"caf\u{e9} \u{1f600}\"",
        ] {
            assert_eq!(value_end(t), serde_end(t), "{t:?}");
            assert!(value_end(t).is_some(), "{t:?}");
        }
    }

    #[test]
    fn refuses_what_serde_json_refuses() {
        for t in [
            "",
            "{",
            "[1,]",
            "{\"a\":1,}",
            "{\"a\" 1}",
            "{1:2}",
            "1.",
            ".5",
            "-",
            "1e",
            "+1",
            "tru",
            "nul",
            "\"a",
            "\"\\x\"",
            "\"\\u12G4\"",
            "\"\u{1}\"",
            "[1 2]",
            "{\"a\":1 \"b\":2}",
            "[}",
            "{]",
            "NaN",
        ] {
            assert_eq!(value_end(t), None, "{t:?}");
            assert_eq!(serde_end(t), None, "{t:?}");
        }
    }

    /// Text from JSON's tokens and the characters that break them.
    fn jsonish() -> impl Strategy<Value = String> {
        let token = prop::sample::select(vec![
            "{",
            "}",
            "[",
            "]",
            ",",
            ":",
            "\"",
            "\\",
            "\\u",
            "\\ud800",
            "0",
            "1",
            "9",
            "-",
            "+",
            ".",
            "e",
            "E",
            "true",
            "false",
            "null",
            "tru",
            " ",
            "\n",
            "\t",
            "a",
            "k",
            "\u{e9}",
            "\u{1}",
            "\u{7f}",
            "\"k\":",
            "\"s\"",
            "{\"S\":\"x\"}",
            "00",
            "1.5",
            "-0",
        ]);
        prop::collection::vec(token, 0..40).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        /// What the scan accepts, serde_json accepts, and ends at the same place.
        #[test]
        fn accepts_only_what_serde_json_accepts(t in jsonish()) {
            if let Some(n) = value_end(&t) {
                prop_assert!(serde_json::from_str::<IgnoredAny>(&t[..n]).is_ok(), "{:?}", &t[..n]);
                prop_assert_eq!(serde_end(&t[..n]), Some(n));
            }
        }

        /// Well-formed JSON is scanned to its end (the fast path is taken).
        #[test]
        fn scans_what_serde_json_writes(v in json_value()) {
            let t = serde_json::to_string(&v).expect("json");
            prop_assert_eq!(value_end(&t), Some(t.len()));
            let pretty = serde_json::to_string_pretty(&v).expect("json");
            prop_assert_eq!(value_end(&pretty), Some(pretty.len()));
        }
    }

    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        use serde_json::Value;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
            "(.|\n){0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(6, 64, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map(".{0,6}", inner, 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    #[test]
    fn finds_every_special_byte_in_long_strings() {
        for k in 0..24 {
            let pad = |n: usize| "é".repeat(n / 2) + &"a".repeat(n % 2);
            let ctrl = format!("\"{}\u{1f}{}\"", pad(k), pad(20));
            assert_eq!(value_end(&ctrl), None, "{ctrl:?}");
            for special in ["\\\"", "\\\\", "\\n", "\\u00e9", "\u{7f}", "\u{80}"] {
                let t = format!("\"{}{special}{}\" ", pad(k), pad(20));
                assert_eq!(value_end(&t), Some(t.len() - 1), "{t:?}");
                assert_eq!(serde_end(&t), Some(t.len() - 1), "{t:?}");
            }
        }
    }

    #[test]
    fn takes_surrogates_and_leaves_deep_nesting_to_serde_json() {
        for t in [r#""\ud83d\ude00""#, r#""\ud800""#, r#""\uDC00x""#] {
            assert_eq!(value_end(t), Some(t.len()), "{t}");
            assert_eq!(serde_end(t), Some(t.len()), "{t}");
        }
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert_eq!(value_end(&deep), None);
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert_eq!(value_end(&ok), Some(ok.len()));
    }
}
