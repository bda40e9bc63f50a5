//! Tests of the generator of sample stream events.

use super::*;

#[test]
fn deterministic_and_sized() {
    let opts = Options { records: 25, batch: 10, source: Source::Kinesis, seed: 7, bad_percent: 20, days: 7 };
    let a: Vec<_> = generate(&opts).collect();
    let b: Vec<_> = generate(&opts).collect();
    assert_eq!(a.len(), 3);
    assert_eq!(a.iter().map(|g| g.truth.len()).sum::<usize>(), 25);
    assert!(a.iter().zip(&b).all(|(x, y)| x.json == y.json));
    let v: Value = serde_json::from_str(&a[0].json).expect("json");
    assert_eq!(v["Records"].as_array().map(Vec::len), Some(10));
}

#[test]
fn days_bound_the_partition_dates() {
    for days in [1, 3, 7] {
        let opts = Options { records: 500, batch: 200, source: Source::DynamoDb, seed: 3, bad_percent: 0, days };
        let dates: std::collections::BTreeSet<String> = generate(&opts)
            .flat_map(|g| g.truth)
            .filter_map(|t| match t.expected {
                Expected::Archived { date, .. } => Some(date),
                Expected::Failed(_) => None,
            })
            .collect();
        let first: std::collections::BTreeSet<String> =
            (0..days).map(|d| Date::of_millis(BASE_MS + i64::from(d) * DAY_MS).to_string()).collect();
        assert_eq!(dates, first, "{days} day(s)");
    }
}
