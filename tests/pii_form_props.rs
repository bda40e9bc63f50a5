//! The property of `pii_leaks` in every form (CONTRACT.md §3): deleted items whose PII is
//! written in another form than plain ASCII text (percent escapes, character references,
//! full-width and other scripts' digits, Unicode separators, JSON escapes inside a string,
//! UTF-16 binaries, quoted local parts, address literals), or held by PII attributes in
//! values that no pattern matches, each pushed through a random fallback trigger (an
//! unreadable number, a lone surrogate, deep nesting, duplicated keys, truncated or
//! undecodable Kinesis data). No output byte may hold the PII in any form.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use proptest::prelude::*;

use super::cases::{s, Case, Rec, Src};
use super::props::{email, fail, phone, place, put, Generated};

/// A form a secret is written in.
#[derive(Debug, Clone, Copy)]
pub enum Form {
    Plain,
    PercentSome,
    PercentAll,
    HtmlDecimal,
    HtmlHex,
    HtmlNamed,
    FullWidth,
    NoBreakSpace,
    EnDash,
    Tab,
    Minus,
    JsonEscaped,
    ArabicDigits,
    Utf16Le,
    Utf16Be,
}

const FORMS: [Form; 15] = [
    Form::Plain,
    Form::PercentSome,
    Form::PercentAll,
    Form::HtmlDecimal,
    Form::HtmlHex,
    Form::HtmlNamed,
    Form::FullWidth,
    Form::NoBreakSpace,
    Form::EnDash,
    Form::Tab,
    Form::Minus,
    Form::JsonEscaped,
    Form::ArabicDigits,
    Form::Utf16Le,
    Form::Utf16Be,
];

/// `p` written in `form` (the UTF-16 forms are written as `B` values by [`plant`]).
pub fn written(p: &str, form: Form) -> String {
    let map = |f: &dyn Fn(char) -> Option<String>| p.chars().map(|c| f(c).unwrap_or_else(|| c.to_string())).collect();
    match form {
        Form::Plain | Form::Utf16Le | Form::Utf16Be => p.to_string(),
        Form::PercentSome => map(&|c| matches!(c, '@' | ' ' | '+').then(|| format!("%{:02X}", c as u32))),
        Form::PercentAll => p
            .bytes()
            .map(|b| if b.is_ascii_alphabetic() { (b as char).to_string() } else { format!("%{b:02X}") })
            .collect(),
        Form::HtmlDecimal => map(&|c| (!c.is_ascii_alphabetic()).then(|| format!("&#{};", c as u32))),
        Form::HtmlHex => map(&|c| (!c.is_ascii_alphanumeric()).then(|| format!("&#x{:X};", c as u32))),
        Form::HtmlNamed => map(&|c| {
            let name = match c {
                '@' => "commat",
                '.' => "period",
                ' ' => "nbsp",
                '+' => "plus",
                '-' => "ndash",
                _ => return None,
            };
            Some(format!("&{name};"))
        }),
        Form::FullWidth => map(&|c| match c {
            ' ' => Some("\u{3000}".into()),
            '!'..='~' => char::from_u32(c as u32 - 0x21 + 0xff01).map(String::from),
            _ => None,
        }),
        Form::NoBreakSpace => map(&|c| (c == ' ').then(|| "\u{a0}".into())),
        Form::EnDash => map(&|c| matches!(c, ' ' | '-').then(|| "\u{2013}".into())),
        Form::Tab => map(&|c| (c == ' ').then(|| "\t".into())),
        Form::Minus => map(&|c| matches!(c, ' ' | '-').then(|| "\u{2212}".into())),
        Form::JsonEscaped => map(&|c| (c == '@' || c.is_ascii_digit()).then(|| format!("\\u{:04x}", c as u32))),
        Form::ArabicDigits => map(&|c| c.to_digit(10).and_then(|d| char::from_u32(0x660 + d)).map(String::from)),
    }
}

/// What is searched for: the secret as the scanner's reader reads the written form back.
fn needle(p: &str, form: Form) -> String {
    let w = written(p, form);
    super::reading::readings(&w).pop().unwrap_or(w)
}

/// A secret that no pattern matches, held by a PII attribute.
#[derive(Debug, Clone)]
pub enum Named {
    /// An obfuscated e-mail address.
    Obfuscated(String),
    /// A person's name.
    Person(String),
    /// A phone number stored as a list of its digit groups.
    Groups(String, String),
}

fn named() -> impl Strategy<Value = Named> {
    prop_oneof![
        "[a-z]{4,8}".prop_map(|n| Named::Obfuscated(format!("zeb.{n}(at)example.org"))),
        ("[A-Z][a-z]{3,7}", "[A-Z][a-z]{4,8}").prop_map(|(a, b)| Named::Person(format!("Zq{a} {b}"))),
        ("[1-9][0-9]{3}", "[1-9][0-9]{4}").prop_map(|(a, b)| Named::Groups(a, b)),
    ]
}

impl Named {
    /// The attribute value (one of several DynamoDB types) and the needles to search.
    fn value(&self, ty: usize) -> (String, Vec<String>) {
        match self {
            Named::Groups(a, b) => {
                let tag = if ty.is_multiple_of(2) { "S" } else { "N" };
                let v = format!("{{\"L\":[{{\"{tag}\":\"{a}\"}},{{\"{tag}\":\"{b}\"}}]}}");
                (v, vec![format!("\"{tag}\":\"{a}\"}}"), format!("{a}\",\"{b}"), format!("[{a},{b}]")])
            }
            Named::Obfuscated(t) | Named::Person(t) => {
                let v = match ty {
                    0 => s(t),
                    1 => format!("{{\"SS\":[\"x\",{}]}}", super::cases::q(t)),
                    2 => format!("{{\"M\":{{\"v\":{}}}}}", s(t)),
                    _ => format!("{{\"L\":[{}]}}", s(t)),
                };
                (v, vec![t.clone()])
            }
        }
    }
}

/// The fallback triggers of `props::fail` used here: none, an unreadable number (in an
/// attribute, as the time), deep nesting, a lone surrogate, a duplicated event name, no
/// event name, data of another shape, truncated Kinesis data.
const TRIGGERS: [usize; 10] = [0, 3, 4, 5, 6, 8, 9, 11, 16, 17];

fn form_case() -> impl Strategy<Value = Generated> {
    let secret = (prop_oneof![email(), phone(), quoted_or_literal()], prop::sample::select(FORMS.to_vec()), place());
    (
        any::<bool>(),
        any::<bool>(),
        prop::collection::vec(secret, 1..3),
        prop::option::of((named(), 0usize..4, 0usize..4)),
        prop::sample::select(TRIGGERS.to_vec()),
    )
        .prop_map(|(kinesis, notification, items, by_name, f)| {
            let mut r = if notification { Rec::notification(10) } else { Rec::demand(10) };
            r.set("filler", &s("???"));
            let mut secrets = Vec::new();
            for (i, (p, form, place)) in items.iter().enumerate() {
                plant(&mut r, notification, i, p, *form, place);
                secrets.push(needle(p, *form));
            }
            let mut env = Vec::new();
            if let Some((n, ty, attr)) = &by_name {
                let attrs = ["email", "phoneNumber", "fanNote", if notification { "messageBody" } else { "email" }];
                let (v, needles) = n.value(*ty);
                r.set(attrs[*attr], &v);
                secrets.extend(needles);
                env.push(("PII_ATTRIBUTES".to_string(), "fanNote".to_string()));
            }
            let first = written(&items[0].0, items[0].1);
            fail(&mut r, f, notification, &first);
            let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
            let name = format!("forms (trigger {f}): {items:?}, by name: {by_name:?}");
            let mut case = Case::new(&name, r, &refs);
            case.env = env;
            Generated(case, if kinesis { Src::Kin } else { Src::Ddb })
        })
}

/// E-mail addresses with a quoted local part or an address literal.
fn quoted_or_literal() -> impl Strategy<Value = String> {
    ("[a-z]{2,6}", "[a-z]{2,6}", 1u8..255, any::<bool>()).prop_map(|(a, b, n, quoted)| {
        if quoted {
            format!("\"{a} {b}\"@example.org")
        } else {
            format!("{a}@[192.0.2.{n}]")
        }
    })
}

/// Puts `p` in `form` at `place`; a UTF-16 form is a `B` value of its own attribute.
fn plant(r: &mut Rec, notification: bool, i: usize, p: &str, form: Form, place: &super::props::Place) {
    let utf16 = |be: bool| -> String {
        let bytes: Vec<u8> =
            p.encode_utf16().flat_map(|u| if be { u.to_be_bytes() } else { u.to_le_bytes() }).collect();
        format!("{{\"B\":\"{}\"}}", STANDARD.encode(bytes))
    };
    match form {
        Form::Utf16Le => {
            r.set(&format!("bin{i}"), &utf16(false));
        }
        Form::Utf16Be => {
            r.set(&format!("bin{i}"), &utf16(true));
        }
        _ => put(r, notification, i, &written(p, form), place),
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 48,
        max_shrink_iters: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// No PII of a random deleted item, in any form or held by name, leaves through any
    /// path; the control INSERT beside it keeps its PII.
    #[test]
    fn pii_in_every_form_and_by_name_never_leaves(g in form_case()) {
        let problems = super::check(&g.0, g.1);
        prop_assert!(problems.is_empty(), "{}", problems.join("\n"));
    }
}

#[test]
fn each_form_is_read_back_by_the_scanner() {
    for form in FORMS {
        for p in ["ana.lopez@example.org", "+1 555 010 4477"] {
            let n = needle(p, form);
            let ok = n == p || n == p.replace(' ', "-") || matches!(form, Form::ArabicDigits);
            assert!(ok, "{form:?}: {p} reads back as {n:?}");
        }
    }
}
