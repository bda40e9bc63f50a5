//! The function's configuration, read from the environment once at start: an invalid
//! value stops the start with a message that names its variable.

use std::time::Duration;

use dmd_archive::config::{check_bucket, number, ConfigError, Settings};
use dmd_s3::S3Options;

/// Everything the function needs to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The archive's own settings (prefixes, codec, ids, PII attributes).
    pub settings: Settings,
    /// `ARCHIVE_BUCKET` (required) and the S3 client's settings.
    pub s3: S3Options,
    /// `WRITE_CONCURRENCY`: files written at once (default 32, [`dmd_archive::pipeline::WRITE_CONCURRENCY`]).
    pub concurrency: usize,
    /// `DEADLINE_MARGIN_MS`: no write starts once less than this is left before the
    /// invocation's deadline (default 2000); the files left are reported in
    /// `batchItemFailures`.
    pub deadline_margin: Duration,
}

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads the configuration through `get`; an empty value counts as unset.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let get = |k: &str| get(k).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let Some(bucket) = get("ARCHIVE_BUCKET") else {
            return Err(ConfigError { var: "ARCHIVE_BUCKET", reason: "is required: the bucket to archive to".into() });
        };
        check_bucket("ARCHIVE_BUCKET", &bucket)?;
        let settings = Settings::from_lookup(get)?;
        let s3 = S3Options::from_lookup(bucket, get)?;
        let concurrency = match get("WRITE_CONCURRENCY") {
            Some(v) => number("WRITE_CONCURRENCY", &v, 1, 64)?,
            None => dmd_archive::pipeline::WRITE_CONCURRENCY,
        };
        let deadline_margin = match get("DEADLINE_MARGIN_MS") {
            Some(v) => Duration::from_millis(number("DEADLINE_MARGIN_MS", &v, 0, 600_000)?),
            None => Duration::from_secs(2),
        };
        Ok(Config { settings, s3, concurrency, deadline_margin })
    }
}

/// The function's name as Lambda gives it (`AWS_LAMBDA_FUNCTION_NAME`), else `default`:
/// the `FunctionName` dimension of the metrics.
pub fn function_name(default: &str) -> String {
    std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| default.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn the_bucket_is_required_and_checked() {
        assert_eq!(config(&[]).expect_err("no bucket").var, "ARCHIVE_BUCKET");
        assert_eq!(config(&[("ARCHIVE_BUCKET", "Not_A_Bucket")]).expect_err("bad").var, "ARCHIVE_BUCKET");
        let c = config(&[("ARCHIVE_BUCKET", "dmd-archive")]).expect("valid");
        assert_eq!(c.s3.bucket, "dmd-archive");
        assert_eq!(c.concurrency, 32);
        assert_eq!(c.deadline_margin, Duration::from_secs(2));
        assert_eq!(c.settings, Settings::default());
    }

    #[test]
    fn every_part_is_validated() {
        for (var, value) in [
            ("AVRO_CODEC", "gzip"),
            ("DATA_PREFIX", "/abs"),
            ("WRITE_CONCURRENCY", "0"),
            ("DEADLINE_MARGIN_MS", "soon"),
            ("S3_MAX_ATTEMPTS", "0"),
            ("AWS_ENDPOINT_URL_S3", "localhost:9000"),
        ] {
            let e = config(&[("ARCHIVE_BUCKET", "dmd-archive"), (var, value)]).expect_err(value);
            assert_eq!(e.var, var, "{e}");
            assert!(e.to_string().contains(var), "{e}");
        }
    }
}
