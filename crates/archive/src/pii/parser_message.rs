//! A JSON parser's error message made safe to write: serde_json quotes what it read
//! (values, unknown tags and field names), so by construction only three kinds of text
//! pass: the words of serde's own messages, the names the stream format defines, and a
//! few punctuation marks. Everything else, quoted or not, becomes `…`, so a value that
//! closes its quote early (an escaped `"`, a back-quote in a tag) still cannot pass.
//! The position serde_json appends is the parser's, two numbers, and is kept.

use super::failed::ENVELOPE;

/// The message without the input's text.
pub(super) fn without_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut quoted: Option<(char, String, bool)> = None;
    for c in message.chars() {
        match &mut quoted {
            // A `\` inside a "…" part escapes the next character (serde writes values in
            // Rust's debug form).
            Some(('"', text, escaped @ false)) if c == '\\' => {
                text.push(c);
                *escaped = true;
            }
            Some((_, text, escaped @ true)) => {
                text.push(c);
                *escaped = false;
            }
            Some((q, text, false)) if c == *q => {
                out.push_str(if is_format_name(text) || is_punctuation(text) { text } else { "…" });
                out.push(c);
                quoted = None;
            }
            Some((_, text, _)) => text.push(c),
            None => {
                out.push(c);
                if c == '"' || c == '`' {
                    quoted = Some((c, String::new(), false));
                }
            }
        }
    }
    if quoted.is_some() {
        out.push('…');
    }
    only_known_words(&out)
}

/// Outside the quoted parts: serde's words and the format's names stay, and spaces and
/// `,:.()"` and back-quotes; any other run of characters (letters of an unknown word,
/// digits, `@`, escapes, non-ASCII) becomes one `…`.
fn only_known_words(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if !word.is_empty() {
            let known = SERDE_WORDS.contains(&word.as_str()) || is_format_name(word);
            push_or_elide(out, if known { word.as_str() } else { "…" });
            word.clear();
        }
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
            continue;
        }
        flush(&mut word, &mut out);
        match c {
            ' ' | ',' | ':' | '.' | '(' | ')' | '"' | '`' | '{' | '}' | '[' | ']' => out.push(c),
            '…' => push_or_elide(&mut out, "…"),
            _ => push_or_elide(&mut out, "…"),
        }
    }
    flush(&mut word, &mut out);
    out
}

/// Appends `piece`, one `…` for a run of elided pieces (and the spaces and dots between).
fn push_or_elide(out: &mut String, piece: &str) {
    if piece == "…" {
        let kept = out.trim_end_matches([' ', '.']).len();
        if out[..kept].ends_with('…') {
            out.truncate(kept);
            return;
        }
    }
    out.push_str(piece);
}

/// A quoted part that is only JSON punctuation (``expected `,` or `}` ``).
fn is_punctuation(text: &str) -> bool {
    !text.is_empty() && text.chars().all(|c| matches!(c, ',' | ':' | '{' | '}' | '[' | ']'))
}

/// The words of serde's and serde_json's error messages, and of the parser's own.
const SERDE_WORDS: &[&str] = &[
    "invalid",
    "type",
    "value",
    "length",
    "string",
    "expected",
    "a",
    "an",
    "the",
    "boolean",
    "integer",
    "unsigned",
    "signed",
    "floating",
    "point",
    "number",
    "char",
    "character",
    "characters",
    "unit",
    "map",
    "sequence",
    "struct",
    "enum",
    "variant",
    "variants",
    "field",
    "fields",
    "unknown",
    "missing",
    "duplicate",
    "one",
    "of",
    "or",
    "no",
    "newtype",
    "tuple",
    "null",
    "option",
    "bytes",
    "byte",
    "array",
    "with",
    "element",
    "elements",
    "key",
    "keys",
    "must",
    "be",
    "trailing",
    "comma",
    "after",
    "EOF",
    "while",
    "parsing",
    "list",
    "object",
    "colon",
    "ident",
    "control",
    "escape",
    "lone",
    "leading",
    "surrogate",
    "hex",
    "Unicode",
    "code",
    "recursion",
    "limit",
    "exceeded",
    "out",
    "range",
    "for",
    "in",
    "is",
    "not",
    "at",
    "line",
    "column",
    "u8",
    "u16",
    "u32",
    "u64",
    "i8",
    "i16",
    "i32",
    "i64",
    "f32",
    "f64",
    "usize",
    "isize",
    "JSON",
    "UTF",
    "valid",
    "data",
    "did",
    "match",
    "any",
    "untagged",
    "empty",
    "more",
    "than",
    "less",
    "exactly",
    "some",
    "unit_variant",
    "newtype_variant",
    "tuple_variant",
    "struct_variant",
    "whitespace",
    "end",
    "input",
    "too",
    "large",
    "big",
    "small",
    "float",
    "found",
    "unexpected",
    "unicode",
    "identifier",
    "expect",
    "got",
];

/// The names of the stream format (Lambda's event, DynamoDB's attribute values) that a
/// parser's message may quote, besides the [`ENVELOPE`] fields: none of them is an
/// item's value.
const FORMAT_NAMES: &[&str] = &[
    "Records",
    "dynamodb",
    "kinesis",
    "data",
    "userIdentity",
    "Keys",
    "NewImage",
    "OldImage",
    "S",
    "N",
    "B",
    "SS",
    "NS",
    "BS",
    "M",
    "L",
    "NULL",
    "BOOL",
    "INSERT",
    "MODIFY",
    "REMOVE",
];

/// Whether `text` is one of the stream format's own names.
fn is_format_name(text: &str) -> bool {
    FORMAT_NAMES.contains(&text) || ENVELOPE.contains(&text)
}

/// A JSON parser's message without the input's text, and with any other stretch that
/// holds PII replaced. The position serde_json appends (`at line L column C`) is the
/// parser's, not the input's, and is kept as it is.
pub fn parser_message(e: &serde_json::Error) -> String {
    match e.line() {
        0 => parser_text(e),
        line => format!("{} at line {line} column {}", parser_text(e), e.column()),
    }
}

/// [`parser_message`] without the position (for a `RecordError`, which holds it apart).
pub fn parser_text(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let position = format!(" at line {} column {}", e.line(), e.column());
    let head = if e.line() > 0 { text.strip_suffix(&position).unwrap_or(&text) } else { &text };
    super::detect::redact_spans(&without_values(head))
}
