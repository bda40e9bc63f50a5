//! One pass over a Lambda event: the `Records` array walked element by element, each
//! element parsed where it lies, its JSON text taken from the parser's byte offset.
//!
//! [`split_event`](crate::envelope::split_event) is the reference: it isolates each
//! record's text first (two scans of every record) and the records are parsed after. The
//! walk gives the same records in one scan, for the event shapes AWS sends: an object
//! whose keys have no escapes, one `Records` array. On anything else (not an event, a
//! syntax error, an escaped or repeated key) it gives up, and the caller takes
//! `split_event`'s answer, so the two cannot disagree.

use serde::de::{Deserialize, IgnoredAny};

/// The walk did not finish: take [`split_event`](crate::envelope::split_event)'s answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GaveUp;

/// Calls `each(text, parsed)` for every element of the event's `Records` array, in
/// order: its JSON text, and its parse as `T` (`None` when `T` refuses the element, whose
/// text is still exact). Returns the number of records. The elements seen before a
/// [`GaveUp`] are not the event's records: callers drop what they made of them.
pub fn walk_records<'a, T: Deserialize<'a>>(
    payload: &'a [u8],
    mut each: impl FnMut(&'a str, Option<T>),
) -> Result<usize, GaveUp> {
    walk(payload, |rest| {
        let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<T>();
        let (len, parsed) = match stream.next() {
            Some(Ok(v)) => (stream.byte_offset(), Some(v)),
            Some(Err(_)) => (value_len(rest)?, None),
            None => return Err(GaveUp),
        };
        each(rest.get(..len).ok_or(GaveUp)?, parsed);
        Ok(len)
    })
}

/// Calls `each(text)` for every element of the event's `Records` array, in order, its
/// end found by [`json_scan`](crate::json_scan) without parsing it: the cheapest full
/// check of a payload. Gives up wherever the scan does, which is wherever `serde_json`
/// would refuse the payload and on a few rare inputs it accepts.
pub fn walk_texts<'a>(payload: &'a [u8], mut each: impl FnMut(&'a str)) -> Result<usize, GaveUp> {
    walk(payload, |rest| {
        let len = crate::json_scan::value_end(rest).ok_or(GaveUp)?;
        each(rest.get(..len).ok_or(GaveUp)?);
        Ok(len)
    })
}

/// The event object around the `Records` array; `element` reads the element at the
/// start of the text it is given and returns its length.
fn walk<'a>(payload: &'a [u8], mut element: impl FnMut(&'a str) -> Result<usize, GaveUp>) -> Result<usize, GaveUp> {
    // Validated once here, the records are parsed as text: the parser then checks no
    // string's UTF-8 again, and each record's text is a slice of it.
    let text = simdutf8::basic::from_utf8(payload).map_err(|_| GaveUp)?;
    let mut at = skip_ws(payload, 0);
    eat(payload, &mut at, b'{')?;
    let mut records = None;
    loop {
        at = skip_ws(payload, at);
        let key = plain_key(payload, &mut at)?;
        at = skip_ws(payload, at);
        eat(payload, &mut at, b':')?;
        at = skip_ws(payload, at);
        if key == b"Records" {
            if records.is_some() {
                return Err(GaveUp);
            }
            records = Some(array(text, &mut at, &mut element)?);
        } else {
            at += value_len(text.get(at..).ok_or(GaveUp)?)?;
        }
        at = skip_ws(payload, at);
        match payload.get(at) {
            Some(b',') => at += 1,
            Some(b'}') => break,
            _ => return Err(GaveUp),
        }
    }
    if skip_ws(payload, at + 1) != payload.len() {
        return Err(GaveUp);
    }
    records.ok_or(GaveUp)
}

/// The elements of the array at `at`, through `element`.
fn array<'a>(
    text: &'a str,
    at: &mut usize,
    element: &mut impl FnMut(&'a str) -> Result<usize, GaveUp>,
) -> Result<usize, GaveUp> {
    let payload = text.as_bytes();
    eat(payload, at, b'[')?;
    *at = skip_ws(payload, *at);
    if payload.get(*at) == Some(&b']') {
        *at += 1;
        return Ok(0);
    }
    let mut n = 0;
    loop {
        *at = skip_ws(payload, *at);
        // At a structural character (ASCII), so at a character boundary.
        let rest = text.get(*at..).ok_or(GaveUp)?;
        let len = element(rest)?;
        n += 1;
        *at = skip_ws(payload, *at + len);
        match payload.get(*at) {
            Some(b',') => *at += 1,
            Some(b']') => {
                *at += 1;
                return Ok(n);
            }
            _ => return Err(GaveUp),
        }
    }
}

/// The length of the JSON value that `rest` starts with: by the scan, else by the parser.
fn value_len(rest: &str) -> Result<usize, GaveUp> {
    if let Some(len) = crate::json_scan::value_end(rest) {
        return Ok(len);
    }
    let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<IgnoredAny>();
    match stream.next() {
        Some(Ok(_)) => Ok(stream.byte_offset()),
        _ => Err(GaveUp),
    }
}

/// An object key of printable ASCII without escapes, and moves past it.
fn plain_key<'a>(payload: &'a [u8], at: &mut usize) -> Result<&'a [u8], GaveUp> {
    eat(payload, at, b'"')?;
    let start = *at;
    let len = payload[start..].iter().position(|&c| c == b'"').ok_or(GaveUp)?;
    let key = &payload[start..start + len];
    if key.iter().any(|&c| c == b'\\' || !(0x20..0x7f).contains(&c)) {
        return Err(GaveUp);
    }
    *at = start + len + 1;
    Ok(key)
}

fn eat(payload: &[u8], at: &mut usize, c: u8) -> Result<(), GaveUp> {
    if payload.get(*at) == Some(&c) {
        *at += 1;
        Ok(())
    } else {
        Err(GaveUp)
    }
}

/// The first position from `at` that is not JSON whitespace.
fn skip_ws(payload: &[u8], at: usize) -> usize {
    let rest = payload.get(at..).unwrap_or_default();
    at + rest.iter().position(|c| !matches!(c, b' ' | b'\n' | b'\t' | b'\r')).unwrap_or(rest.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::split_event;
    use serde_json::Value;

    fn walk(payload: &str) -> Result<Vec<(String, bool)>, GaveUp> {
        let mut seen = Vec::new();
        let n = walk_records::<Value>(payload.as_bytes(), |t, p| seen.push((t.to_owned(), p.is_some())))?;
        assert_eq!(n, seen.len());
        Ok(seen)
    }

    #[test]
    fn walks_what_split_event_splits() {
        for p in [
            r#"{"Records":[{"a":1}, {"b":[2,{"c":"]"}]} ,3,"x",null]}"#,
            " \n{ \"x\" : [1,{}], \"Records\" : [ ] , \"y\":-1.5e3 } \r\n",
            r#"{"Records":[{"eventSource":"aws:dynamodb","s":"caf\u00e9 \"q\" é"}]}"#,
        ] {
            let want: Vec<String> =
                split_event(p.as_bytes()).expect("event").iter().map(|r| r.get().to_owned()).collect();
            let got: Vec<String> = walk(p).expect("walked").into_iter().map(|(t, _)| t).collect();
            assert_eq!(got, want, "{p}");
            let mut texts = Vec::new();
            assert_eq!(walk_texts(p.as_bytes(), |t| texts.push(t.to_owned())), Ok(want.len()), "{p}");
            assert_eq!(texts, want, "{p}");
        }
    }

    #[test]
    fn gives_up_where_split_event_decides() {
        for p in [
            "",
            "[1]",
            "{}",
            r#"{"records":[]}"#,
            r#"{"Records":null}"#,
            r#"{"Records":{}}"#,
            r#"{"Records":[],"Records":[]}"#,
            r#"{"Rec\u006frds":[]}"#,
            r#"{"Records":[1,]}"#,
            r#"{"Records":[{"a":1} {"b":2}]}"#,
            r#"{"Records":[{"a":"#,
            r#"{"Records":[]} x"#,
            r#"{"Records":[], "z": tru}"#,
            "{\"Records\":[\"\u{7f}\"], \"k\u{e9}\":1}",
        ] {
            assert_eq!(walk(p), Err(GaveUp), "{p}");
            assert_eq!(walk_texts(p.as_bytes(), |_| ()), Err(GaveUp), "{p}");
        }
    }

    #[test]
    fn an_element_the_type_refuses_keeps_its_text() {
        let mut seen = Vec::new();
        let n = walk_records::<u8>(br#"{"Records":[7, {"a":[1]}, 300]}"#, |t, p| seen.push((t.to_owned(), p)));
        assert_eq!(n, Ok(3));
        assert_eq!(seen, [("7".into(), Some(7)), (r#"{"a":[1]}"#.into(), None), ("300".into(), None)]);
    }
}
