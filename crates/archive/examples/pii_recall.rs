//! Measures the PII detector (`dmd_archive::pii::contains_pii`) on its corpus: recall on
//! phone numbers and e-mail addresses by form and encoding, and the share of benign strings
//! it flags.
//!
//! ```text
//! cargo run --release -p dmd-archive --example pii_recall [PII.jsonl [BENIGN.jsonl]]
//! ```
//!
//! The files default to the committed corpus (`tests/corpus/`, written by
//! `tools/pii_corpus/make_corpus.py`). It prints the tables and the first misses of each
//! form, and exits non-zero when a phone number of 7 to 15 digits or an e-mail address is
//! missed.

#[path = "../tests/corpus/mod.rs"]
mod corpus;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use corpus::{Benign, Pii, BANDS};
use dmd_archive::pii::contains_pii;

/// Misses (and benign strings flagged beyond the contract) shown per form or kind.
const SHOWN: usize = 3;
/// Characters of a text shown.
const SHOWN_CHARS: usize = 110;

#[derive(Default, Clone, Copy)]
struct Tally {
    n: usize,
    hit: usize,
}

impl Tally {
    fn add(&mut self, hit: bool) {
        self.n += 1;
        self.hit += usize::from(hit);
    }

    fn share(&self) -> f64 {
        if self.n == 0 {
            f64::NAN
        } else {
            100.0 * self.hit as f64 / self.n as f64
        }
    }

    fn complete(&self) -> bool {
        self.hit == self.n
    }

    /// `hit/n  share %`, or blank when there is nothing to count.
    fn cell(&self) -> String {
        if self.n == 0 {
            format!("{:>18}", "")
        } else {
            format!("{:>11} {:>6.2}%", format!("{}/{}", self.hit, self.n), self.share())
        }
    }
}

/// Phone numbers of 7 to 15 digits and e-mail addresses of one form or encoding.
#[derive(Default)]
struct Required {
    phone: Tally,
    email: Tally,
}

fn shown(text: &str) -> String {
    let cut: String = text.chars().take(SHOWN_CHARS).collect();
    let more = if text.chars().count() > SHOWN_CHARS { "..." } else { "" };
    format!("{cut:?}{more}")
}

fn main() -> Result<ExitCode> {
    let mut args = std::env::args_os().skip(1).map(PathBuf::from);
    let pii_path = args.next().unwrap_or_else(|| corpus::default_path("pii.jsonl"));
    let benign_path = args.next().unwrap_or_else(|| corpus::default_path("benign.jsonl"));
    let pii: Vec<Pii> = corpus::read(&pii_path)?;
    let benign: Vec<Benign> = corpus::read(&benign_path)?;

    let mut bands: BTreeMap<&str, Tally> = BANDS.iter().map(|b| (*b, Tally::default())).collect();
    let mut emails = Tally::default();
    let mut by_form: BTreeMap<&str, Required> = BTreeMap::new();
    let mut by_encoding: BTreeMap<&str, Required> = BTreeMap::new();
    let mut misses: BTreeMap<(&str, &str), Vec<&Pii>> = BTreeMap::new();
    for p in &pii {
        let hit = contains_pii(&p.text);
        match p.band() {
            Some(band) => bands.entry(band).or_default().add(hit),
            None => emails.add(hit),
        }
        if !p.required() {
            continue;
        }
        for (table, key) in [(&mut by_form, p.form.as_str()), (&mut by_encoding, p.encoding.as_str())] {
            let row = table.entry(key).or_default();
            let tally = if p.kind == "email" { &mut row.email } else { &mut row.phone };
            tally.add(hit);
        }
        if !hit {
            misses.entry((p.form.as_str(), p.encoding.as_str())).or_default().push(p);
        }
    }

    let mut kinds: BTreeMap<&str, (Tally, Tally)> = BTreeMap::new();
    let mut beyond: BTreeMap<&str, Vec<&Benign>> = BTreeMap::new();
    let mut all_benign = Tally::default();
    for b in &benign {
        let flagged = contains_pii(&b.text);
        let over = flagged && corpus::beyond_contract(b);
        let (any, outside) = kinds.entry(b.kind.as_str()).or_default();
        any.add(flagged);
        outside.add(over);
        all_benign.add(flagged);
        if over {
            beyond.entry(b.kind.as_str()).or_default().push(b);
        }
    }

    println!("PII corpus: {} ({} entries)", pii_path.display(), pii.len());
    println!("benign corpus: {} ({} entries)\n", benign_path.display(), benign.len());

    println!("{:<26}{:>18}", "phones by digits", "found");
    for (band, t) in &bands {
        let required = if *band == BANDS[1] { "  (required)" } else { "" };
        println!("  {band:<24}{}{required}", t.cell());
    }
    println!("{:<26}{}  (required)\n", "e-mails", emails.cell());

    for (title, table) in [("by form", &by_form), ("by encoding", &by_encoding)] {
        println!("{:<26}{:>18}{:>18}", title, "phones 7..=15", "e-mails");
        for (key, row) in table {
            println!("  {key:<24}{}{}", row.phone.cell(), row.email.cell());
        }
        println!();
    }

    println!("{:<26}{:>18}{:>18}", "benign flagged by kind", "flagged", "beyond contract");
    for (kind, (any, outside)) in &kinds {
        let outside = if corpus::NEVER_PII.contains(kind) || corpus::PII_ONLY_WITH_A_RUN.contains(kind) {
            outside.cell()
        } else {
            format!("{:>18}", "-")
        };
        println!("  {kind:<24}{}{outside}", any.cell());
    }
    println!("  {:<24}{}\n", "all", all_benign.cell());

    if !misses.is_empty() {
        println!("first misses by form and encoding (of phones 7..=15 and e-mails)");
        for ((form, encoding), list) in &misses {
            println!("  {form} / {encoding}: {} missed", list.len());
            for p in list.iter().take(SHOWN) {
                println!("    {} {:?}: {}", p.source, p.value, shown(&p.text));
            }
        }
        println!();
    }
    if !beyond.is_empty() {
        println!("first benign strings flagged beyond the contract");
        for (kind, list) in &beyond {
            println!("  {kind}: {} flagged", list.len());
            for b in list.iter().take(SHOWN) {
                println!("    {}", shown(&b.text));
            }
        }
        println!();
    }

    let phones = bands.get(BANDS[1]).copied().unwrap_or_default();
    let ok = phones.complete() && emails.complete();
    println!(
        "recall: phones 7..=15 {:.2}%, e-mails {:.2}%; benign flagged {:.2}%: {}",
        phones.share(),
        emails.share(),
        all_benign.share(),
        if ok { "ok" } else { "FAILED (recall below 100 %)" }
    );
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
