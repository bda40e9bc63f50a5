//! The property of `pii_leaks`: deleted items with random PII (e-mail addresses and phone
//! numbers in random formats) at random places, random types and depths, with random failure
//! modes, never leak it; the control INSERT of each batch keeps its PII exactly.

use proptest::prelude::*;

use super::cases::{b, nest_m, q, s, Case, Data, Rec, Src};

/// An e-mail address `local@domain.tld`, the local part sometimes with `. + _` or non-ASCII.
pub(super) fn email() -> impl Strategy<Value = String> {
    let domains = vec!["example.com", "mail.example.org", "ex-ample.co.uk", "tickets.example.io"];
    (
        "[a-z]{2,6}",
        prop::sample::select(vec!["", ".", "+", "_"]),
        "[a-z0-9]{1,4}",
        prop::sample::select(vec!["", "é", "ñø"]),
        prop::sample::select(domains),
    )
        .prop_map(
            |(a, sep, c, u, d)| if sep.is_empty() { format!("{a}{u}@{d}") } else { format!("{a}{sep}{c}{u}@{d}") },
        )
}

/// A phone number: 7 to 14 digits (`555` and 4 to 8 more, maybe a country code), optionally
/// led by `+`, with single spaces, dots, dashes or parentheses between groups.
pub(super) fn phone() -> impl Strategy<Value = String> {
    let cc = prop::option::of(prop::sample::select(vec!["1", "44", "33", "49", "353"]));
    (cc, "[1-9]{4,8}", 0usize..4, prop::sample::select(vec![" ", ".", "-"]), 2usize..5).prop_map(
        |(cc, sub, format, sep, group)| {
            let groups: Vec<String> = sub.as_bytes().chunks(group).map(|g| String::from_utf8_lossy(g).into()).collect();
            let cc = cc.map(|c| format!("+{c}{sep}")).unwrap_or_default();
            match format {
                0 => format!("{cc}555{sep}{}", groups.join(sep)),
                1 => format!("{cc}(555) {}", groups.join("-")),
                2 => format!("{}555{sub}", cc.trim_end_matches(sep)),
                _ => format!("555.{}", groups.join(".")),
            }
        },
    )
}

/// Where a PII value is put.
#[derive(Debug, Clone)]
pub(super) enum Place {
    /// Free text of another attribute, around the value.
    Text(usize),
    /// An attribute name (depth 0) or a map key at depth 1 to 4, maybe under a list.
    Name(usize, bool),
    /// A value of another attribute in a type (S, SS, L, M, B, BS) under M/L levels.
    Typed(usize, Vec<bool>),
    /// A PII attribute of the type, in a type (S, L, M, SS, B).
    PiiAttr(usize, usize),
}

const TEXTS: [&str; 10] = [
    "{p}",
    "invoice 2026111900 {p}",
    "seen 2026-11-19T10:15:30Z {p}",
    "2026-11-19 {p}",
    "order ORD-7781-XK {p} thx",
    "ref{p}x",
    "{p} 75008",
    "{\"to\":\"{p}\"}",
    "tel:{p};ext=12",
    "12 34 {p}",
];

pub(super) fn place() -> impl Strategy<Value = Place> {
    prop_oneof![
        (0..TEXTS.len()).prop_map(Place::Text),
        (0usize..5, any::<bool>()).prop_map(|(d, l)| Place::Name(d, l)),
        (0usize..6, prop::collection::vec(any::<bool>(), 0..4)).prop_map(|(t, l)| Place::Typed(t, l)),
        (0usize..3, 0usize..5).prop_map(|(a, t)| Place::PiiAttr(a, t)),
    ]
}

/// `p` as a value of type `ty` (S, SS, L, M, B, BS).
fn typed(ty: usize, p: &str) -> String {
    match ty {
        0 => s(p),
        1 => format!("{{\"SS\":[\"x\",{}]}}", q(p)),
        2 => format!("{{\"L\":[{}]}}", s(p)),
        3 => nest_m(1, "v", &s(p)),
        4 => b(p),
        _ => format!("{{\"BS\":[{}]}}", b(p).trim_start_matches("{\"B\":").trim_end_matches('}')),
    }
}

pub(super) fn put(r: &mut Rec, notification: bool, i: usize, p: &str, place: &Place) {
    let name = format!("note{i}");
    match place {
        Place::Text(t) => {
            r.set(&name, &s(&TEXTS[*t].replace("{p}", p)));
        }
        Place::Name(0, _) => {
            r.set(p, &s("x"));
        }
        Place::Name(d, under_list) => {
            let m = nest_m(*d, p, &s("x"));
            r.set(&name, &if *under_list { format!("{{\"L\":[{}, {m}]}}", s("y")) } else { m });
        }
        Place::Typed(ty, levels) => {
            let v = levels.iter().fold(
                typed(*ty, p),
                |v, &m| {
                    if m {
                        nest_m(1, "k", &v)
                    } else {
                        format!("{{\"L\":[{v}]}}")
                    }
                },
            );
            r.set(&name, &v);
        }
        Place::PiiAttr(a, ty) => {
            let attrs: &[&str] =
                if notification { &["phoneNumber", "email", "messageBody"] } else { &["phoneNumber", "email"] };
            r.set(attrs[a % attrs.len()], &typed(*ty, p));
        }
    }
}

const FAILURES: usize = 18;

/// Failure mode `f` of case 5 or 6 (the Kinesis ones do nothing to a DynamoDB record).
pub(super) fn fail(r: &mut Rec, f: usize, notification: bool, p: &str) {
    let (required, date) = if notification { ("notificationId", "createdDate") } else { ("fanId", "requestedDate") };
    let esc = q(p);
    let esc = &esc[1..esc.len() - 1];
    match f {
        1 => {
            r.drop(required);
        }
        2 => {
            r.set(date, &s("next tuesday"));
        }
        3 => {
            r.set("quantity", "{\"N\":\"1e400\"}");
        }
        4 => r.time = Some("1e400".into()),
        5 => {
            r.set("deep", &nest_m(70, "x", &s(p)));
        }
        6 => {
            r.set("zz", &format!("{{\"S\":\"\\ud800 {esc}\"}}"));
        }
        7 => {
            r.set("zz", &format!("{{\"Q\":\"say \\\"{esc}\\\"\"}}"));
        }
        8 => r.event_name = Some("\"REMOVE\",\"eventName\":\"INSERT\"".into()),
        9 => r.event_name = None,
        10 => r.event_name = Some("42".into()),
        11 => r.data = Data::BadChar,
        12 => r.data = Data::UrlSafe,
        13 => r.data = Data::NoPad,
        14 => r.data = Data::Space,
        15 => r.data = Data::Text(format!("REMOVE {p}")),
        16 => r.data = Data::Text(format!("[{}]", r.change(Src::Kin))),
        17 => r.data = Data::Truncated,
        _ => {}
    }
}

/// A generated case; shown as its name and the event file, ready to replay with `dmd archive`.
#[derive(Clone)]
pub(super) struct Generated(pub Case, pub Src);

impl std::fmt::Debug for Generated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} from {:?}, event:\n{}", self.0.name, self.1, self.0.event(self.1))
    }
}

fn pii_case() -> impl Strategy<Value = Generated> {
    let pii = prop_oneof![email(), phone()];
    (any::<bool>(), any::<bool>(), prop::collection::vec((pii, place()), 1..4), prop_oneof![Just(0usize), 1..FAILURES])
        .prop_map(|(kinesis, notification, items, f)| {
            let mut r = if notification { Rec::notification(10) } else { Rec::demand(10) };
            r.set("filler", &s("???"));
            for (i, (p, place)) in items.iter().enumerate() {
                put(&mut r, notification, i, p, place);
            }
            fail(&mut r, f, notification, &items[0].0);
            let secrets: Vec<&str> = items.iter().map(|(p, _)| p.as_str()).collect();
            let name = format!("random (failure mode {f}): {items:?}");
            Generated(Case::new(&name, r, &secrets), if kinesis { Src::Kin } else { Src::Ddb })
        })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        max_shrink_iters: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// No PII of a random deleted item leaves in any form, and the INSERT beside it keeps
    /// its PII: a redact-everything core fails this.
    #[test]
    fn random_pii_of_deleted_items_never_leaves(g in pii_case()) {
        let problems = super::check(&g.0, g.1);
        prop_assert!(problems.is_empty(), "{}", problems.join("\n"));
    }
}
