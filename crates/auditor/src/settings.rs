//! The auditor's own configuration, read from the environment once at start (the
//! archive's configuration, which it shares with the archiver, is read by
//! `dmd_lambda::config`): an invalid value stops the start with a message that names
//! its variable.

use std::time::Duration;

use dmd_archive::config::{flag, invalid, number, ConfigError};
use dmd_recover::StreamArn;

/// What the auditor audits, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditSettings {
    /// `AUDIT_STREAM_ARN` (required): the stream that feeds the archive.
    pub stream: StreamArn,
    /// `AUDIT_QUEUE_URL` (required): the FIFO queue of shards to audit.
    pub queue_url: String,
    /// `AUDIT_WINDOW_MINUTES` (default 180): each scheduled audit covers the records that
    /// reached the stream this long before it, so that a run covers the unsettled end
    /// of the one before and a missed run is caught up.
    pub window: Duration,
    /// `AUDIT_SETTLE_SECONDS` (default 300): records younger than this at the audit's
    /// time are unsettled, not missing (the archiver may not have seen them yet).
    pub settle: Duration,
    /// `AUDIT_READ_INTERVAL_MS` (default 500): at least this long between two reads of
    /// a shard, which the archiver reads too.
    pub interval: Duration,
    /// `AUDIT_REPAIR` (default false): archive the missing records as the archiver would.
    pub repair: bool,
}

impl AuditSettings {
    pub fn from_env() -> Result<AuditSettings, ConfigError> {
        AuditSettings::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads the settings through `get`; an empty value counts as unset.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<AuditSettings, ConfigError> {
        let get = |k: &str| get(k).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let arn = get("AUDIT_STREAM_ARN")
            .ok_or_else(|| invalid("AUDIT_STREAM_ARN", "is required: the stream that feeds the archive"))?;
        let stream = StreamArn::parse(&arn).ok_or_else(|| {
            invalid("AUDIT_STREAM_ARN", format!("{arn:?} is neither a DynamoDB stream ARN nor a Kinesis stream ARN"))
        })?;
        let queue_url = get("AUDIT_QUEUE_URL")
            .ok_or_else(|| invalid("AUDIT_QUEUE_URL", "is required: the queue of shards to audit"))?;
        let window = match get("AUDIT_WINDOW_MINUTES") {
            Some(v) => number::<u64>("AUDIT_WINDOW_MINUTES", &v, 1, 10_080)? * 60,
            None => 180 * 60,
        };
        let settle = match get("AUDIT_SETTLE_SECONDS") {
            Some(v) => number::<u64>("AUDIT_SETTLE_SECONDS", &v, 0, 86_400)?,
            None => 300,
        };
        let interval = match get("AUDIT_READ_INTERVAL_MS") {
            Some(v) => number::<u64>("AUDIT_READ_INTERVAL_MS", &v, 0, 60_000)?,
            None => 500,
        };
        let repair = match get("AUDIT_REPAIR") {
            Some(v) => flag("AUDIT_REPAIR", &v)?,
            None => false,
        };
        Ok(AuditSettings {
            stream,
            queue_url,
            window: Duration::from_secs(window),
            settle: Duration::from_secs(settle),
            interval: Duration::from_millis(interval),
            repair,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const ARN: &str = "arn:aws:kinesis:eu-west-1:123456789012:stream/demand";

    fn settings(vars: &[(&str, &str)]) -> Result<AuditSettings, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        AuditSettings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn the_stream_and_the_queue_are_required_and_the_rest_has_defaults() {
        assert_eq!(settings(&[]).unwrap_err().var, "AUDIT_STREAM_ARN");
        assert_eq!(settings(&[("AUDIT_STREAM_ARN", "arn:aws:s3:::b")]).unwrap_err().var, "AUDIT_STREAM_ARN");
        assert_eq!(settings(&[("AUDIT_STREAM_ARN", ARN)]).unwrap_err().var, "AUDIT_QUEUE_URL");
        let s = settings(&[("AUDIT_STREAM_ARN", ARN), ("AUDIT_QUEUE_URL", "https://q")]).unwrap();
        assert_eq!(s.stream.arn, ARN);
        assert_eq!(s.window, Duration::from_secs(3 * 3600));
        assert_eq!(s.settle, Duration::from_secs(300));
        assert_eq!(s.interval, Duration::from_millis(500));
        assert!(!s.repair);
    }

    #[test]
    fn every_value_is_checked() {
        let base = [("AUDIT_STREAM_ARN", ARN), ("AUDIT_QUEUE_URL", "https://q")];
        for (var, value) in [
            ("AUDIT_WINDOW_MINUTES", "0"),
            ("AUDIT_WINDOW_MINUTES", "1h"),
            ("AUDIT_SETTLE_SECONDS", "-1"),
            ("AUDIT_READ_INTERVAL_MS", "60001"),
            ("AUDIT_REPAIR", "maybe"),
        ] {
            let e = settings(&[base[0], base[1], (var, value)]).unwrap_err();
            assert_eq!(e.var, var, "{value}");
        }
        let s = settings(&[base[0], base[1], ("AUDIT_REPAIR", "true"), ("AUDIT_WINDOW_MINUTES", "60")]).unwrap();
        assert!(s.repair);
        assert_eq!(s.window, Duration::from_secs(3600));
    }
}
