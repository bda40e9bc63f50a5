//! The planted-PII cases of `pii_leaks`: change records of deleted items written as raw JSON
//! text (so they can be malformed on purpose), wrapped as DynamoDB Streams or Kinesis events.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE};
use base64::Engine;

use super::reading::insert_between_secrets;

/// The control INSERT of every batch: its PII must be archived exactly as it came.
pub const CONTROL_NOTES: &str = "kept: call +49 30 9018 2277 or keep.me@example.net on 2026-11-19";
pub const CONTROL_PHONE: &str = "+49 30 9018 2277";
pub const CONTROL_EMAIL: &str = "keep.me@example.net";
pub const CONTROL_N: u64 = 999;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Src {
    Ddb,
    Kin,
}

/// How a Kinesis record's `data` is made from the change record text.
#[derive(Debug, Clone)]
pub enum Data {
    Good,
    BadChar,
    UrlSafe,
    NoPad,
    Space,
    /// The base64 of this text instead of the change record.
    Text(String),
    /// The base64 of the change record without its last 3 bytes.
    Truncated,
    /// `data` is this raw JSON value, not a string.
    Raw(String),
}

/// One stream record. `members` are the image's attributes (name, raw JSON value).
#[derive(Debug, Clone)]
pub struct Rec {
    pub n: u64,
    pub event_name: Option<String>,
    pub members: Vec<(String, String)>,
    pub extra: String,
    pub image: Option<String>,
    pub image_field: &'static str,
    pub dyn_extra: String,
    pub time: Option<String>,
    pub data: Data,
}

pub fn s(v: &str) -> String {
    format!("{{\"S\":{}}}", serde_json::to_string(v).expect("json"))
}

pub fn b(bytes: &str) -> String {
    format!("{{\"B\":\"{}\"}}", STANDARD.encode(bytes))
}

/// A JSON string literal.
pub fn q(v: &str) -> String {
    serde_json::to_string(v).expect("json")
}

impl Rec {
    /// A valid user REMOVE of a demand.
    pub fn demand(n: u64) -> Rec {
        let fan = format!("f-{n}");
        let members = [
            ("pk", s(&format!("FAN#{fan}"))),
            ("sk", s("DEMAND#e-2001#s-100")),
            ("eventId", s("e-2001")),
            ("saleId", s("s-100")),
            ("fanId", s(&fan)),
            ("requestedDate", s("2026-11-19T09:05:12Z")),
        ];
        Rec {
            n,
            event_name: Some(q("REMOVE")),
            members: members.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            extra: String::new(),
            image: None,
            image_field: "OldImage",
            dyn_extra: String::new(),
            time: None,
            data: Data::Good,
        }
    }

    /// A valid user REMOVE of a notification.
    pub fn notification(n: u64) -> Rec {
        let mut r = Rec::demand(n);
        r.members = [
            ("pk", s(&format!("FAN#f-{n}"))),
            ("sk", s(&format!("NOTIFICATION#n-{n}"))),
            ("notificationId", s(&format!("n-{n}"))),
            ("fanId", s(&format!("f-{n}"))),
            ("createdDate", s("2026-11-12T08:00:00Z")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        r
    }

    /// A valid INSERT of a demand whose free text and PII attributes must be kept.
    pub fn insert(n: u64, notes: &str, phone: &str, email: &str) -> Rec {
        let mut r = Rec::demand(n);
        r.event_name = Some(q("INSERT"));
        r.image_field = "NewImage";
        r.set("phoneNumber", &s(phone)).set("email", &s(email)).set("notes", &s(notes));
        r
    }

    pub fn set(&mut self, name: &str, raw: &str) -> &mut Rec {
        match self.members.iter_mut().find(|(k, _)| k == name) {
            Some(m) => m.1 = raw.to_string(),
            None => self.members.push((name.to_string(), raw.to_string())),
        }
        self
    }

    pub fn drop(&mut self, name: &str) -> &mut Rec {
        self.members.retain(|(k, _)| k != name);
        self
    }

    pub fn seq(&self, src: Src) -> String {
        match src {
            Src::Ddb => format!("7{:020}", self.n * 100),
            Src::Kin => format!("7{:055}", self.n * 100),
        }
    }

    fn keys(&self) -> String {
        let key = |k: &str| self.members.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let (pk, sk) = (key("pk").unwrap_or_else(|| s("FAN#f-0")), key("sk").unwrap_or_else(|| s("DEMAND#e#s")));
        format!("{{\"pk\":{pk},\"sk\":{sk}}}")
    }

    /// The image as JSON text.
    pub fn image_text(&self) -> String {
        self.image.clone().unwrap_or_else(|| {
            let m: Vec<String> = self.members.iter().map(|(k, v)| format!("{}:{v}", q(k))).collect();
            format!("{{{}{}}}", m.join(","), self.extra)
        })
    }

    /// The change record as text: the DynamoDB Streams record, or Kinesis `data` decoded.
    pub fn change(&self, src: Src) -> String {
        let image = self.image_text();
        let en = self.event_name.as_ref().map(|e| format!("\"eventName\":{e},")).unwrap_or_default();
        let (keys, field, dx, n, seq) = (self.keys(), self.image_field, &self.dyn_extra, self.n, self.seq(src));
        match src {
            Src::Ddb => {
                let t = self.time.clone().unwrap_or_else(|| (1_795_086_002 + n).to_string());
                format!(
                    "{{\"eventID\":\"{n:032x}\",{en}\"eventVersion\":\"1.1\",\"eventSource\":\"aws:dynamodb\",\
                     \"awsRegion\":\"eu-west-1\",\"dynamodb\":{{\"ApproximateCreationDateTime\":{t},\"Keys\":{keys},\
                     \"{field}\":{image},\"SequenceNumber\":\"{seq}\",\"SizeBytes\":321,\
                     \"StreamViewType\":\"NEW_AND_OLD_IMAGES\"{dx}}},\"eventSourceARN\":\
                     \"arn:aws:dynamodb:eu-west-1:123456789012:table/demand/stream/2026-11-01T00:00:00.000\"}}"
                )
            }
            Src::Kin => {
                let t = self.time.clone().unwrap_or_else(|| ((1_795_086_002 + n) * 1000).to_string());
                format!(
                    "{{\"awsRegion\":\"eu-west-1\",\"eventID\":\"6f1c2d3e-0000-4000-8000-{n:012}\",{en}\
                     \"userIdentity\":null,\"recordFormat\":\"application/json\",\"tableName\":\"demand\",\
                     \"dynamodb\":{{\"ApproximateCreationDateTime\":{t},\"Keys\":{keys},\"{field}\":{image},\
                     \"SizeBytes\":321{dx}}},\"eventSource\":\"aws:dynamodb\"}}"
                )
            }
        }
    }

    /// The record as the event holds it.
    pub fn record(&self, src: Src, secrets: &[String]) -> String {
        if src == Src::Ddb {
            return self.change(src);
        }
        let seq = self.seq(src);
        let data = kinesis_data(&self.change(src), &self.data, secrets);
        format!(
            "{{\"kinesis\":{{\"kinesisSchemaVersion\":\"1.0\",\"partitionKey\":\"0E381458589AD0FE2ACB65EFB359CC7A\",\
             \"sequenceNumber\":\"{seq}\",\"data\":{data},\"approximateArrivalTimestamp\":1795086002.5}},\
             \"eventSource\":\"aws:kinesis\",\"eventVersion\":\"1.0\",\"eventID\":\"shardId-000000000000:{seq}\",\
             \"eventName\":\"aws:kinesis:record\",\"invokeIdentityArn\":\"arn:aws:iam::123456789012:role/dmd-archiver\",\
             \"awsRegion\":\"eu-west-1\",\"eventSourceARN\":\"arn:aws:kinesis:eu-west-1:123456789012:stream/dmd-demand-changes\"}}"
        )
    }
}

/// `kinesis.data` (JSON value text) made from the change record.
fn kinesis_data(change: &str, data: &Data, secrets: &[String]) -> String {
    let enc = match data {
        Data::Good => STANDARD.encode(change),
        Data::BadChar => insert_between_secrets(STANDARD.encode(change), "%", secrets),
        Data::Space => insert_between_secrets(STANDARD.encode(change), " ", secrets),
        Data::UrlSafe => (0..3)
            .map(|pad| URL_SAFE.encode(format!("{}{change}", " ".repeat(pad))))
            .find(|e| e.contains(['-', '_']))
            .expect("a record holding \"???\" has a URL-safe character at some alignment"),
        Data::NoPad => {
            let text = if change.len().is_multiple_of(3) { format!(" {change}") } else { change.to_string() };
            STANDARD_NO_PAD.encode(text)
        }
        Data::Text(t) => STANDARD.encode(t),
        Data::Truncated => STANDARD.encode(&change.as_bytes()[..change.len() - 3]),
        Data::Raw(v) => return v.clone(),
    };
    q(&enc)
}

/// A test case: records (usually one deleted item) and the PII planted in them.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    pub recs: Vec<Rec>,
    pub secrets: Vec<String>,
    pub env: Vec<(String, String)>,
    pub only: Option<Src>,
    /// INSERTs of the batch besides the control: (n, notes, phone, email), kept exactly.
    pub kept: Vec<(u64, String, String, String)>,
}

impl Case {
    pub fn new(name: &str, rec: Rec, secrets: &[&str]) -> Case {
        Case {
            name: name.to_string(),
            recs: vec![rec],
            secrets: secrets.iter().map(|s| s.to_string()).collect(),
            env: Vec::new(),
            only: None,
            kept: Vec::new(),
        }
    }

    /// A valid demand REMOVE with extra image members (raw, each led by a comma).
    pub fn extra(name: &str, extra: &str, secrets: &[&str]) -> Case {
        let mut r = Rec::demand(10);
        r.extra = extra.to_string();
        Case::new(name, r, secrets)
    }

    pub fn with(mut self, f: impl FnOnce(&mut Rec)) -> Case {
        f(&mut self.recs[0]);
        self
    }

    /// The event file for `src`: the case's records then the control INSERT.
    pub fn event(&self, src: Src) -> String {
        let control = Rec::insert(CONTROL_N, CONTROL_NOTES, CONTROL_PHONE, CONTROL_EMAIL);
        let recs: Vec<String> = self.recs.iter().chain([&control]).map(|r| r.record(src, &self.secrets)).collect();
        format!("{{\"Records\":[{}]}}", recs.join(","))
    }
}

/// `value` wrapped in `depth` levels of `M` (with key `key` at the innermost level).
pub fn nest_m(depth: usize, key: &str, value: &str) -> String {
    let mut v = format!("{{\"M\":{{{}:{value}}}}}", q(key));
    for i in 1..depth {
        v = format!("{{\"M\":{{\"lvl{i}\":{v}}}}}");
    }
    v
}

/// Case 1: PII in free text of an attribute that is not a PII attribute.
pub fn free_text() -> Vec<Case> {
    let t = |name: &str, text: &str, secrets: &[&str]| Case::extra(name, &format!(",\"remark\":{}", s(text)), secrets);
    vec![
        t("two_phones_adjacent", "02015550199 02015550123", &["02015550199", "02015550123"]),
        t("phone_after_invoice_number", "invoice 2026111900 07700 900123", &["07700 900123"]),
        t("phone_then_postcode", "+33 6 12 34 56 78 75008", &["+33 6 12 34 56 78"]),
        t("twenty_digit_run", "73914628055518204937", &["73914628055518204937"]),
        t("phone_after_iso_date", "2026-11-19 5550104477", &["5550104477"]),
        t("phone_glued_to_letters", "ref5550104477x", &["5550104477"]),
        t("phone_with_parens", "call +1 (555) 010-4477 after 6pm", &["+1 (555) 010-4477"]),
        t(
            "email_in_longer_text",
            "pls contact <jo.bloggs+tix@mail.example.org>; thanks",
            &["jo.bloggs+tix@mail.example.org"],
        ),
        t("email_unicode_local_part", "écrire à josé.garcía@correo.example.es svp", &["josé.garcía@correo.example.es"]),
        t("email_in_json_looking_text", "{\"to\":\"ana.json@example.com\"}", &["ana.json@example.com"]),
    ]
}

/// Case 2: PII as attribute names and map keys.
pub fn names() -> Vec<Case> {
    let mut v = vec![
        Case::extra("top_level_name_email", &format!(",\"ana.top@example.com\":{}", s("x")), &["ana.top@example.com"]),
        Case::extra("top_level_name_phone", &format!(",\"+44 7700 900461\":{}", s("x")), &["+44 7700 900461"]),
    ];
    for d in 1..=4 {
        let e = format!("depth{d}.m@example.com");
        v.push(Case::extra(&format!("map_key_depth_{d}"), &format!(",\"box\":{}", nest_m(d, &e, &s("x"))), &[&e]));
        let e = format!("depth{d}.lm@example.com");
        let inner = nest_m(d, &e, &s("x"));
        let l_of_m = format!(",\"box\":{{\"M\":{{\"items\":{{\"L\":[{},{inner}]}}}}}}", s("y"));
        v.push(Case::extra(&format!("list_of_map_key_depth_{d}"), &l_of_m, &[&e]));
    }
    v
}

/// Case 3: PII in every string-bearing DynamoDB type of a non-PII attribute.
pub fn types() -> Vec<Case> {
    let t = |name: &str, value: String, secret: &str| Case::extra(name, &format!(",\"contact\":{value}"), &[secret]);
    let deep = format!(
        "{{\"M\":{{\"a\":{{\"L\":[{{\"M\":{{\"b\":{}}}}}]}},\"c\":{}}}}}",
        s("ana.m@example.com"),
        nest_m(3, "d", &s("+44 7700 900452"))
    );
    vec![
        t("type_s", s("ana.s@example.com"), "ana.s@example.com"),
        t("type_b", b("ana.b@example.com"), "ana.b@example.com"),
        t("type_ss", format!("{{\"SS\":[\"ok\",{}]}}", q("ana.ss@example.com")), "ana.ss@example.com"),
        t("type_bs", format!("{{\"BS\":[\"{}\"]}}", STANDARD.encode("ana.bs@example.com")), "ana.bs@example.com"),
        t("type_l", format!("{{\"L\":[{},{}]}}", s("x"), s("+44 7700 900451")), "+44 7700 900451"),
        t("type_l_of_b", format!("{{\"L\":[{}]}}", b("ana.lb@example.com")), "ana.lb@example.com"),
        t("type_m_nested", deep.clone(), "ana.m@example.com"),
        t("type_m_nested_phone", deep, "+44 7700 900452"),
    ]
}

/// Numbers (`N`, `NS`) in a non-PII attribute: a deletion's numbers with the digits of a
/// phone number are redacted (docs/decisions.md, PII).
pub fn numbers() -> Vec<Case> {
    vec![
        Case::extra("type_n", ",\"contact\":{\"N\":\"447700900123\"}", &["447700900123"]),
        Case::extra("type_ns", ",\"contact\":{\"NS\":[\"447700900124\"]}", &["447700900124"]),
    ]
}

/// Case 4: the PII attributes of the type, and `PII_ATTRIBUTES`, in every type.
pub fn pii_attributes() -> Vec<Case> {
    let d = |name: &str, attr: &str, value: String, secrets: &[&str]| {
        Case::new(name, Rec::demand(10), secrets).with(|r| {
            r.set(attr, &value);
        })
    };
    let n = |name: &str, attr: &str, value: String, secrets: &[&str]| {
        Case::new(name, Rec::notification(10), secrets).with(|r| {
            r.set(attr, &value);
        })
    };
    let body = "Hi Ana Lopez, your seats are ready";
    let mut v = vec![
        d("demand_phone_as_n", "phoneNumber", "{\"N\":\"447700900123\"}".into(), &["447700900123"]),
        d("demand_phone_as_l", "phoneNumber", format!("{{\"L\":[{}]}}", s("+44 7700 900124")), &["+44 7700 900124"]),
        d("demand_phone_as_ns", "phoneNumber", "{\"NS\":[\"447700900125\"]}".into(), &["447700900125"]),
        d("demand_phone_as_bool", "phoneNumber", "{\"BOOL\":true}".into(), &[]),
        d("demand_email_as_m", "email", nest_m(1, "home", &s("ana.home@example.com")), &["ana.home@example.com"]),
        d(
            "demand_email_as_ss",
            "email",
            format!("{{\"SS\":[{}]}}", q("ana.set@example.com")),
            &["ana.set@example.com"],
        ),
        d("demand_email_as_b", "email", b("ana.bin@example.com"), &["ana.bin@example.com"]),
        n("notification_phone_as_m", "phoneNumber", nest_m(2, "mobile", &s("+44 7700 900126")), &["+44 7700 900126"]),
        n(
            "notification_email_as_l",
            "email",
            format!("{{\"L\":[{}]}}", s("ana.nl@example.com")),
            &["ana.nl@example.com"],
        ),
        n("notification_body_as_s", "messageBody", s(body), &["Ana Lopez"]),
        n("notification_body_as_l", "messageBody", format!("{{\"L\":[{}]}}", s(body)), &["Ana Lopez"]),
        n("notification_body_as_m", "messageBody", nest_m(1, "text", &s(body)), &["Ana Lopez"]),
        n("notification_body_as_b", "messageBody", b(body), &["Ana Lopez"]),
    ];
    let note = "Ana Lopez likes the front row";
    for (name, value, secret) in [
        ("pii_attributes_s", s(note), "Ana Lopez"),
        ("pii_attributes_m", nest_m(2, "who", &s(note)), "Ana Lopez"),
        ("pii_attributes_l", format!("{{\"L\":[{}]}}", s(note)), "Ana Lopez"),
        ("pii_attributes_ss", format!("{{\"SS\":[{}]}}", q(note)), "Ana Lopez"),
        ("pii_attributes_n", "{\"N\":\"31415926535\"}".into(), "31415926535"),
        ("pii_attributes_b", b(note), "Ana Lopez"),
    ] {
        let mut c = d(name, "fanNote", value, &[secret]);
        c.env.push(("PII_ATTRIBUTES".into(), "fanNote".into()));
        v.push(c);
    }
    v
}
