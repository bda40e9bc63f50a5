//! The PII detector against a fixed sample of its corpus (`tests/corpus/`, written by
//! `tools/pii_corpus/make_corpus.py`; `make pii-recall` measures the whole of it): every
//! phone number of 7 to 15 digits and every e-mail address is found, in every form and
//! encoding of contract section 3, and benign strings are flagged only within bounds.

// Test helpers may panic on what they set up themselves.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod corpus;

use std::collections::BTreeMap;

use corpus::{Benign, Pii};
use dmd_archive::pii::contains_pii;

/// Every how many lines of a form (kind, form and encoding) the sample takes.
const EVERY: usize = 7;
/// Forms with fewer lines than this are taken whole (the e-mail forms, ~50 lines each).
const RARE: usize = 60;
/// Every how many benign lines the sample takes.
const EVERY_BENIGN: usize = 5;

/// The most benign strings that may be flagged, in percent of the sample. Those that hold
/// a run of 7 or more digits are phone numbers by the letter of the contract and are
/// flagged: IPv4 addresses of 7+ digits, Windows build numbers such as `10.0.19045.3803`,
/// order numbers such as `PO-2026-000451`, prices in the millions, a UUID's digit groups.
/// Measured: 19.7 % of the sample (149 of 756; 20.1 % of the whole benign corpus), none of
/// them beyond the contract. The contract would allow up to 36.6 % (every order number,
/// version and IPv6 address, and every other string with such a run); the ceiling keeps
/// five points above the measurement, so that a detector that starts redacting ordinary
/// identifiers is noticed.
const BENIGN_CEILING_PERCENT: f64 = 25.0;

fn pii() -> Vec<Pii> {
    corpus::read(&corpus::default_path("pii.jsonl")).expect("the PII corpus")
}

fn benign() -> Vec<Benign> {
    corpus::read(&corpus::default_path("benign.jsonl")).expect("the benign corpus")
}

/// Every `EVERY`th line of each form, and every line of a rare form.
fn sample(all: &[Pii]) -> Vec<&Pii> {
    let mut sizes: BTreeMap<(&str, &str, &str), usize> = BTreeMap::new();
    for p in all {
        *sizes.entry((&p.kind, &p.form, &p.encoding)).or_default() += 1;
    }
    let mut seen: BTreeMap<(&str, &str, &str), usize> = BTreeMap::new();
    all.iter()
        .filter(|p| {
            let key = (p.kind.as_str(), p.form.as_str(), p.encoding.as_str());
            let n = seen.entry(key).or_default();
            *n += 1;
            sizes[&key] < RARE || (*n - 1).is_multiple_of(EVERY)
        })
        .collect()
}

#[test]
fn every_required_phone_number_and_email_address_is_found() {
    let all = pii();
    let sample = sample(&all);
    let required: Vec<&Pii> = sample.into_iter().filter(|p| p.required()).collect();
    assert!(required.len() >= 500, "a sample of {} entries: is the corpus there?", required.len());

    let mut forms: BTreeMap<(&str, &str), (usize, usize)> = BTreeMap::new();
    let mut missed = Vec::new();
    for p in &required {
        let hit = contains_pii(&p.text);
        let tally = forms.entry((&p.form, &p.encoding)).or_default();
        tally.0 += 1;
        tally.1 += usize::from(hit);
        if !hit {
            missed.push(format!("{} {} {}/{} {:?}: {:?}", p.kind, p.source, p.form, p.encoding, p.value, p.text));
        }
    }
    // Every form and encoding of the corpus is in the sample.
    for p in &all {
        assert!(forms.contains_key(&(p.form.as_str(), p.encoding.as_str())), "{}/{} not sampled", p.form, p.encoding);
    }
    let table: Vec<String> = forms.iter().map(|((f, e), (n, hit))| format!("{f}/{e}: {hit}/{n}")).collect();
    assert!(
        missed.is_empty(),
        "{} of {} phone numbers (7 to 15 digits) and e-mail addresses missed\nby form: {}\nfirst misses:\n{}",
        missed.len(),
        required.len(),
        table.join(", "),
        missed.iter().take(40).cloned().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn benign_strings_are_flagged_only_within_bounds() {
    let all = benign();
    let sample: Vec<&Benign> = all.iter().step_by(EVERY_BENIGN).collect();
    assert!(sample.len() >= 500, "a sample of {} entries: is the corpus there?", sample.len());

    let mut flagged = 0;
    let mut beyond = Vec::new();
    for b in &sample {
        if contains_pii(&b.text) {
            flagged += 1;
            if corpus::beyond_contract(b) {
                beyond.push(format!("{}: {:?}", b.kind, b.text));
            }
        }
    }
    assert!(beyond.is_empty(), "flagged, and neither an e-mail nor 7 digits in a run:\n{}", beyond.join("\n"));
    let share = 100.0 * flagged as f64 / sample.len() as f64;
    assert!(
        share <= BENIGN_CEILING_PERCENT,
        "{flagged} of {} benign strings flagged ({share:.1} %), more than {BENIGN_CEILING_PERCENT} %",
        sample.len()
    );
}

#[test]
fn the_run_rule_reads_separators_as_the_contract_does() {
    for (s, run) in [
        ("10.0.0.1", 5),
        ("192.168.100.200", 12),
        ("1.234.567,00 €", 7),
        ("1\u{202f}234\u{202f}567,00 €", 7),
        ("EUR 1,234.50", 5),
        ("(555) 010-4477", 10),
        ("550e8400-e29b-41d4-a716-446655440000", 15),
        ("12   34", 2),
        ("", 0),
    ] {
        assert_eq!(corpus::digit_run(s), run, "{s:?}");
    }
}
