//! The symlink manifest of a partition: one absolute URI per line, naming the parts of
//! its current generation. Athena's symlink tables read the files it names; replacing
//! this one object is what switches readers from one generation to the next.

use dmd_archive::retire::Retire;
use dmd_archive::Settings;

use crate::layout::Partition;

/// The text of the manifest that names `part_keys`.
pub fn render(store: &impl Retire, part_keys: &[String]) -> String {
    part_keys.iter().map(|k| format!("{}\n", store.uri(k))).collect()
}

/// The current generation a manifest names and its part keys; `None` when the text is
/// not a manifest of this partition's parts, all of one generation (then the partition
/// counts as never compacted, and the next run builds it).
pub fn parse(store: &impl Retire, settings: &Settings, partition: &Partition, text: &str) -> Option<Current> {
    let mut generation: Option<String> = None;
    let mut parts = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let key = store.key_of(line)?;
        let g = partition.generation_of_part(settings, &key)?;
        match &generation {
            Some(seen) if seen != g => return None,
            Some(_) => {}
            None => generation = Some(g.to_owned()),
        }
        parts.push(key);
    }
    Some(Current { generation: generation?, parts })
}

/// What a partition's manifest names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Current {
    pub generation: String,
    pub parts: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::generation_id;
    use dmd_archive::record_type::RecordType;
    use dmd_archive::Memory;

    #[test]
    fn a_manifest_reads_back_and_refuses_what_is_not_one() {
        let s = Settings::default();
        let p = Partition {
            record_type: RecordType::Sale,
            date: chrono::NaiveDate::from_ymd_opt(2026, 1, 2).expect("date"),
        };
        let store = Memory::new();
        let g = generation_id(&["a".into()]);
        let parts = vec![p.part_key(&s, &g, 0), p.part_key(&s, &g, 1)];
        let text = render(&store, &parts);
        assert_eq!(text.lines().count(), 2);
        assert_eq!(parse(&store, &s, &p, &text), Some(Current { generation: g.clone(), parts: parts.clone() }));
        let other = generation_id(&["b".into()]);
        let mixed = render(&store, &[parts[0].clone(), p.part_key(&s, &other, 1)]);
        assert_eq!(parse(&store, &s, &p, &mixed), None);
        assert_eq!(parse(&store, &s, &p, ""), None);
        assert_eq!(parse(&store, &s, &p, "s3://elsewhere/x\n"), None);
    }
}
