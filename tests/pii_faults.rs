//! The failure cases of `pii_leaks`: deleted items whose record fails (case 5), Kinesis
//! data in every broken form (case 6), and a batch that mixes them with good INSERTs (case 7).

use super::cases::{nest_m, q, s, Case, Data, Rec, Src};

const PHONE: &str = "+1 555 010 4477";

/// A demand REMOVE with PII in its PII attributes and free text, changed by `f`; its
/// e-mail address is unique to the case.
fn fail(name: &str, f: impl FnOnce(&mut Rec, &str)) -> Case {
    let e = format!("{}@example.com", name.replace('_', "."));
    let mut r = Rec::demand(10);
    r.set("phoneNumber", &s(PHONE)).set("email", &s(&e)).set("notes", &s(&format!("call me at {PHONE} or {e}")));
    f(&mut r, &e);
    Case::new(name, r, &[&e, PHONE])
}

fn with_secret(mut c: Case, secret: &str) -> Case {
    c.secrets.push(secret.to_string());
    c
}

/// Case 5: records that fail parsing, validation or conversion.
pub fn failing() -> Vec<Case> {
    let deep_l = format!("{}{}{}", "{\"L\":[".repeat(140), s("deep.list@example.com"), "]}".repeat(140));
    let esc_email = "esc.ana\\u0040example.com";
    let esc_digits = "\\u0035\\u0035\\u0035\\u0030\\u0031\\u0030\\u0034\\u0034\\u0039\\u0039";
    let escaped = format!("{{\"S\":\"{esc_email} {esc_digits}\"}}");
    let esc =
        |c: Case| ["esc.ana@example.com", "5550104499", esc_email, esc_digits].iter().fold(c, |c, x| with_secret(c, x));
    vec![
        fail("missing_required_attribute", |r, _| {
            r.drop("fanId");
        }),
        fail("bad_timestamp", |r, _| {
            r.set("requestedDate", &s("next tuesday"));
        }),
        with_secret(
            fail("timestamp_holding_phone", |r, _| {
                r.set("requestedDate", &s("call 5550104488"));
            }),
            "5550104488",
        ),
        fail("timestamp_holding_email", |r, e| {
            r.set("requestedDate", &s(e));
        }),
        fail("timestamp_wrong_type", |r, e| {
            r.set("requestedDate", &nest_m(1, "at", &s(e)));
        }),
        fail("quantity_wrong_type_holding_pii", |r, _| {
            r.set("quantity", &s(&format!("call {PHONE}")));
        }),
        fail("record_type_is_pii", |r, e| {
            r.set("recordType", &s(e));
        }),
        fail("n_out_of_range", |r, _| {
            r.set("quantity", "{\"N\":\"1e400\"}");
        }),
        with_secret(
            fail("n_holding_phone", |r, _| {
                r.set("quantity", "{\"N\":\"+1 555 010 4466\"}");
            }),
            "+1 555 019 8866",
        ),
        fail("raw_1e400_as_n_value", |r, _| {
            r.set("quantity", "{\"N\":1e400}");
        }),
        fail("raw_1e400_change_time", |r, _| r.time = Some("1e400".into())),
        fail("raw_1e400_unknown_field", |r, _| r.dyn_extra = ",\"Extra\":1e400".into()),
        fail("change_time_is_phone", |r, _| r.time = Some(q(PHONE))),
        fail("deep_nesting_m", |r, e| {
            r.set("deep", &nest_m(70, "x", &s(e)));
        }),
        with_secret(
            fail("deep_nesting_l", |r, _| {
                r.set("deep", &deep_l);
            }),
            "deep.list@example.com",
        ),
        fail("lone_surrogate", |r, e| {
            r.set("notes", &format!("{{\"S\":\"\\ud800 write to {e}\"}}"));
        }),
        fail("lone_surrogate_in_map_key", |r, e| {
            r.set("box", &format!("{{\"M\":{{\"\\udc00k\":{}}}}}", s(e)));
        }),
        fail("escaped_quote_in_malformed_value", |r, e| {
            r.set("notes", &format!("{{\"Q\":\"he said \\\"mail {e}\\\"\"}}"));
        }),
        fail("escaped_quote_with_two_types", |r, e| {
            r.set("notes", &format!("{{\"S\":\"\\\"{e}\\\"\",\"N\":\"1\"}}"));
        }),
        esc(fail("json_escapes_hiding_pii", |r, _| {
            r.set("notes", &escaped);
        })),
        esc(fail("json_escapes_hiding_pii_failing", |r, _| {
            r.set("notes", &escaped).drop("fanId");
        })),
        fail("dup_event_name_remove_then_insert", |r, _| {
            r.event_name = Some("\"REMOVE\",\"eventName\":\"INSERT\"".into())
        }),
        fail("dup_event_name_insert_then_remove", |r, _| {
            r.event_name = Some("\"INSERT\",\"eventName\":\"REMOVE\"".into())
        }),
        fail("dup_event_name_with_new_image", |r, _| {
            r.event_name = Some("\"REMOVE\",\"eventName\":\"INSERT\"".into());
            r.dyn_extra = format!(",\"NewImage\":{}", r.image_text());
        }),
        fail("event_name_missing", |r, _| r.event_name = None),
        fail("event_name_number", |r, _| r.event_name = Some("42".into())),
        fail("event_name_null", |r, _| r.event_name = Some("null".into())),
        fail("event_name_object", |r, _| r.event_name = Some("{\"S\":\"REMOVE\"}".into())),
        fail("event_name_is_email", |r, e| r.event_name = Some(q(e))),
        fail("event_name_is_phone", |r, _| r.event_name = Some(q(PHONE))),
        fail("old_image_is_a_string", |r, e| r.image = Some(q(&format!("write to {e} or {PHONE}")))),
    ]
}

/// Case 6: Kinesis data that does not decode into a change record (Kinesis only).
pub fn kinesis() -> Vec<Case> {
    let k = |name: &str, data: fn(&Rec, &str) -> Data| {
        let mut c = fail(name, |r, e| {
            r.set("filler", &s("???~~~>>> some filler text that keeps the two copies apart ???"))
                .set("notes2", &s(&format!("again: {e}")));
        });
        let e = c.secrets[0].clone();
        let d = data(&c.recs[0], &e);
        c.recs[0].data = d;
        c.only = Some(Src::Kin);
        c
    };
    vec![
        k("kin_bad_char_in_middle", |_, _| Data::BadChar),
        k("kin_url_safe_alphabet", |_, _| Data::UrlSafe),
        k("kin_missing_padding", |_, _| Data::NoPad),
        k("kin_whitespace_inside", |_, _| Data::Space),
        k("kin_not_json", |_, e| Data::Text(format!("REMOVE: call {e} or {PHONE}"))),
        k("kin_json_array", |r, _| Data::Text(format!("[{}]", r.change(Src::Kin)))),
        k("kin_json_string", |_, e| Data::Text(q(&format!("REMOVE {e} {PHONE}")))),
        with_secret(k("kin_json_number", |_, _| Data::Text("5550104477".into())), "5550104477"),
        k("kin_truncated_json", |_, _| Data::Truncated),
        k("kin_object_not_a_change_record", |_, e| {
            Data::Text(format!("{{\"eventName\":\"REMOVE\",\"dynamodb\":{}}}", q(e)))
        }),
        k("kin_data_is_an_object", |_, e| Data::Raw(format!("{{\"email\":{}}}", q(e)))),
        with_secret(k("kin_data_is_a_number", |_, _| Data::Raw("5550104477".into())), "5550104477"),
    ]
}

/// Case 7: every failing REMOVE above and a few valid ones (35 to 47), with a good INSERT
/// before every second one.
pub fn batch(src: Src) -> Case {
    let mut bad: Vec<Case> = failing();
    if src == Src::Kin {
        bad.extend(kinesis());
    }
    bad.extend(super::cases::free_text().into_iter().take(4));
    let name = if src == Src::Ddb { "mixed_batch" } else { "mixed_batch_kinesis" };
    let mut case = Case { only: Some(src), ..Case::new(name, Rec::demand(0), &[]) };
    case.recs.clear();
    for (j, c) in bad.iter().enumerate() {
        let n = 100 + 2 * j as u64;
        if j % 2 == 0 {
            let (phone, email) = (format!("+49 30 9018 {}", 2200 + j), format!("keep{j}@example.net"));
            let notes = format!("order {j}: call {phone} or {email}");
            case.recs.push(Rec::insert(n, &notes, &phone, &email));
            case.kept.push((n, notes, phone, email));
        }
        let mut r = c.recs[0].clone();
        r.n = n + 1;
        case.recs.push(r);
        case.secrets.extend(c.secrets.iter().cloned());
    }
    case.secrets.sort();
    case.secrets.dedup();
    case
}
