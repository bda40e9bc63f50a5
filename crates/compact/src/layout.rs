//! Where the Parquet copy lives: the keys of a partition's Avro files, of its
//! generations and their parts, and of the symlink manifest that names the current
//! generation; and the generation's name, derived from the Avro files it is built from.

use dmd_archive::record_type::RecordType;
use dmd_archive::Settings;
use sha2::{Digest, Sha256};

/// Changes whenever the same Avro files would give different Parquet files, so that a
/// new layout rebuilds every partition once.
const FORMAT: &str = "dmd-compact/1";

/// The folder, under `COMPACT_PREFIX`, of the symlink manifests (the name Delta Lake
/// gives them for Athena): `_`-prefixed, so that readers of the Parquet folders skip it.
pub const MANIFESTS_DIR: &str = "_symlink_format_manifest";

/// The file in each generation's folder that describes it (`description.rs`):
/// `_`-prefixed, so that Parquet readers of the folder skip it.
pub const DESCRIPTION_FILE: &str = "_generation.json";

/// A (type, date) partition of the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Partition {
    pub record_type: RecordType,
    /// `YYYY-MM-DD`.
    pub date: chrono::NaiveDate,
}

impl Partition {
    pub fn date_text(&self) -> String {
        self.date.format("%Y-%m-%d").to_string()
    }

    /// `data/<type>/dt=<date>/`: the partition's Avro files.
    pub fn data_prefix(&self, settings: &Settings) -> String {
        format!("{}{}/dt={}/", settings.data_prefix, self.record_type.as_str(), self.date_text())
    }

    /// `compacted/<type>/dt=<date>/`: every generation of the partition.
    pub fn compact_prefix(&self, settings: &Settings) -> String {
        format!("{}{}/dt={}/", settings.compact_prefix, self.record_type.as_str(), self.date_text())
    }

    /// `compacted/<type>/dt=<date>/<generation>/`.
    pub fn generation_prefix(&self, settings: &Settings, generation: &str) -> String {
        format!("{}{generation}/", self.compact_prefix(settings))
    }

    /// `compacted/<type>/dt=<date>/<generation>/part-<n>.parquet`.
    pub fn part_key(&self, settings: &Settings, generation: &str, n: usize) -> String {
        format!("{}part-{n}.parquet", self.generation_prefix(settings, generation))
    }

    /// `compacted/_symlink_format_manifest/<type>/dt=<date>/manifest`: the one object
    /// whose replacement switches readers to a new generation.
    pub fn manifest_key(&self, settings: &Settings) -> String {
        format!(
            "{}{MANIFESTS_DIR}/{}/dt={}/manifest",
            settings.compact_prefix,
            self.record_type.as_str(),
            self.date_text()
        )
    }

    /// `compacted/<type>/dt=<date>/<generation>/_generation.json`.
    pub fn description_key(&self, settings: &Settings, generation: &str) -> String {
        format!("{}{DESCRIPTION_FILE}", self.generation_prefix(settings, generation))
    }

    /// The generation an object of this partition's generations belongs to: a part or
    /// the description.
    pub fn generation_of_object<'k>(&self, settings: &Settings, key: &'k str) -> Option<&'k str> {
        let rest = key.strip_prefix(&self.compact_prefix(settings))?;
        match rest.split_once('/') {
            Some((generation, DESCRIPTION_FILE)) if is_generation(generation) => Some(generation),
            _ => self.generation_of_part(settings, key),
        }
    }

    /// The generation a part key belongs to, when it is one of this partition's parts.
    pub fn generation_of_part<'k>(&self, settings: &Settings, key: &'k str) -> Option<&'k str> {
        let rest = key.strip_prefix(&self.compact_prefix(settings))?;
        let (generation, file) = rest.split_once('/')?;
        let n = file.strip_prefix("part-")?.strip_suffix(".parquet")?;
        (is_generation(generation) && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())).then_some(generation)
    }
}

/// The name of the generation built from exactly these Avro keys (in any order): 32 hex
/// digits of a SHA-256 over the format and the sorted keys.
pub fn generation_id(avro_keys: &[String]) -> String {
    let mut keys: Vec<&str> = avro_keys.iter().map(String::as_str).collect();
    keys.sort_unstable();
    keys.dedup();
    let mut h = Sha256::new();
    h.update(FORMAT.as_bytes());
    for k in keys {
        h.update(b"\n");
        h.update(k.as_bytes());
    }
    h.finalize()[..16].iter().map(|b| format!("{b:02x}")).collect()
}

fn is_generation(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The partition date and file of a key below `data/<type>/`: `dt=<date>/<id>.avro`
/// directly, nothing deeper; `None` for anything else.
pub fn avro_file_date(type_prefix: &str, key: &str) -> Option<chrono::NaiveDate> {
    let rest = key.strip_prefix(type_prefix)?;
    let (dt, file) = rest.split_once('/')?;
    let date = dt.strip_prefix("dt=")?;
    if file.contains('/') || !file.ends_with(".avro") || file.len() <= ".avro".len() || date.len() != 10 {
        return None;
    }
    chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part() -> Partition {
        Partition {
            record_type: RecordType::Demand,
            date: chrono::NaiveDate::from_ymd_opt(2026, 11, 20).expect("date"),
        }
    }

    #[test]
    fn keys_follow_the_contract() {
        let s = Settings::default();
        let g = generation_id(&["data/demand/dt=2026-11-20/a.avro".into()]);
        assert_eq!(part().data_prefix(&s), "data/demand/dt=2026-11-20/");
        assert_eq!(part().part_key(&s, &g, 3), format!("compacted/demand/dt=2026-11-20/{g}/part-3.parquet"));
        assert_eq!(part().manifest_key(&s), "compacted/_symlink_format_manifest/demand/dt=2026-11-20/manifest");
        assert_eq!(part().generation_of_part(&s, &part().part_key(&s, &g, 12)), Some(g.as_str()));
        assert_eq!(part().generation_of_part(&s, &format!("compacted/demand/dt=2026-11-20/{g}/x.parquet")), None);
        assert_eq!(part().generation_of_part(&s, "compacted/demand/dt=2026-11-21/0/part-0.parquet"), None);
        let description = part().description_key(&s, &g);
        assert_eq!(description, format!("compacted/demand/dt=2026-11-20/{g}/_generation.json"));
        assert_eq!(part().generation_of_object(&s, &description), Some(g.as_str()));
        assert_eq!(part().generation_of_part(&s, &description), None);
    }

    #[test]
    fn a_generation_names_the_set_of_files_not_their_order() {
        let a = vec!["k/1.avro".to_string(), "k/2.avro".to_string()];
        let b = vec!["k/2.avro".to_string(), "k/1.avro".to_string(), "k/1.avro".to_string()];
        assert_eq!(generation_id(&a), generation_id(&b));
        assert_ne!(generation_id(&a), generation_id(&a[..1]));
        assert!(is_generation(&generation_id(&a)));
    }

    #[test]
    fn only_avro_files_directly_in_a_date_folder_count() {
        let p = "data/sale/";
        assert!(avro_file_date(p, "data/sale/dt=2026-11-20/ab.avro").is_some());
        for key in [
            "data/sale/dt=2026-11-20/x/ab.avro",
            "data/sale/dt=2026-11-20/ab.json",
            "data/sale/dt=2026-13-20/ab.avro",
            "data/sale/2026-11-20/ab.avro",
            "data/sale/dt=2026-11-20/.avro",
            "data/demand/dt=2026-11-20/ab.avro",
        ] {
            assert_eq!(avro_file_date(p, key), None, "{key}");
        }
    }
}
