//! How the S3 client behaves: endpoint, addressing, retries and timeouts, read from the
//! environment once at start and validated (an invalid value names its variable).

use std::time::Duration;

use dmd_archive::config::{flag, invalid, number, ConfigError};

/// The S3 output's settings. The defaults suit a Lambda function with a timeout of a
/// minute or more writing a few megabytes per invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Options {
    /// The bucket every object goes to (validated by the caller, which knows which
    /// variable or flag it came from).
    pub bucket: String,
    /// `AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL`: an S3-compatible server instead of
    /// AWS's regional endpoint.
    pub endpoint_url: Option<String>,
    /// `S3_FORCE_PATH_STYLE` (`true`/`false`): `http://host/bucket/key` instead of
    /// `http://bucket.host/key`. Defaults to on when an endpoint URL is given, since
    /// S3-compatible servers on an address (`127.0.0.1:9000`) have no bucket subdomains.
    pub force_path_style: bool,
    /// `S3_MAX_ATTEMPTS`: tries per object, the first one included (default 4).
    pub max_attempts: u32,
    /// `S3_INITIAL_BACKOFF_MS`: the base of the jittered exponential backoff between
    /// tries (default 200 ms, so retries wait up to 0.2, 0.4, 0.8 s).
    pub initial_backoff: Duration,
    /// `S3_MAX_BACKOFF_MS`: the cap of one backoff wait (default 5 s).
    pub max_backoff: Duration,
    /// `S3_CONNECT_TIMEOUT_MS`: establishing a connection (default 3 s).
    pub connect_timeout: Duration,
    /// `S3_ATTEMPT_TIMEOUT_MS`: one try of one object, from sending the request to
    /// reading the whole response (default 10 s).
    pub attempt_timeout: Duration,
    /// `S3_OPERATION_TIMEOUT_MS`: one object, all tries and backoff included
    /// (default 30 s).
    pub operation_timeout: Duration,
}

impl S3Options {
    /// The defaults, with no endpoint override.
    pub fn new(bucket: impl Into<String>) -> S3Options {
        S3Options {
            bucket: bucket.into(),
            endpoint_url: None,
            force_path_style: false,
            max_attempts: 4,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(3),
            attempt_timeout: Duration::from_secs(10),
            operation_timeout: Duration::from_secs(30),
        }
    }

    /// Reads the options for `bucket` from the process environment.
    pub fn from_env(bucket: impl Into<String>) -> Result<S3Options, ConfigError> {
        S3Options::from_lookup(bucket, |k| std::env::var(k).ok())
    }

    /// Reads the options through `get`; an empty value counts as unset.
    pub fn from_lookup(
        bucket: impl Into<String>,
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<S3Options, ConfigError> {
        let get = |k: &str| get(k).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let mut o = S3Options::new(bucket);
        for var in ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"] {
            if let Some(url) = get(var) {
                o.endpoint_url = Some(endpoint(var, &url)?);
                break;
            }
        }
        o.force_path_style = match get("S3_FORCE_PATH_STYLE") {
            Some(v) => flag("S3_FORCE_PATH_STYLE", &v)?,
            None => o.endpoint_url.is_some(),
        };
        if let Some(v) = get("S3_MAX_ATTEMPTS") {
            o.max_attempts = number("S3_MAX_ATTEMPTS", &v, 1, 20)?;
        }
        let ms = |var: &'static str, default: Duration, min: u64, max: u64| -> Result<Duration, ConfigError> {
            match get(var) {
                Some(v) => Ok(Duration::from_millis(number(var, &v, min, max)?)),
                None => Ok(default),
            }
        };
        o.initial_backoff = ms("S3_INITIAL_BACKOFF_MS", o.initial_backoff, 1, 60_000)?;
        o.max_backoff = ms("S3_MAX_BACKOFF_MS", o.max_backoff, 1, 300_000)?;
        o.connect_timeout = ms("S3_CONNECT_TIMEOUT_MS", o.connect_timeout, 10, 300_000)?;
        o.attempt_timeout = ms("S3_ATTEMPT_TIMEOUT_MS", o.attempt_timeout, 10, 900_000)?;
        o.operation_timeout = ms("S3_OPERATION_TIMEOUT_MS", o.operation_timeout, 10, 900_000)?;
        if o.max_backoff < o.initial_backoff {
            return Err(invalid("S3_MAX_BACKOFF_MS", "must not be below S3_INITIAL_BACKOFF_MS"));
        }
        if o.operation_timeout < o.attempt_timeout {
            return Err(invalid("S3_OPERATION_TIMEOUT_MS", "must not be below S3_ATTEMPT_TIMEOUT_MS"));
        }
        Ok(o)
    }
}

fn endpoint(var: &'static str, url: &str) -> Result<String, ConfigError> {
    let rest = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://"));
    match rest {
        Some(host) if !host.is_empty() && !host.starts_with('/') && !url.chars().any(char::is_whitespace) => {
            Ok(url.trim_end_matches('/').to_owned())
        }
        _ => Err(invalid(var, format!("{url:?} is not an http:// or https:// URL"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn options(vars: &[(&str, &str)]) -> Result<S3Options, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        S3Options::from_lookup("archive", |k| map.get(k).cloned())
    }

    #[test]
    fn defaults_use_aws_with_virtual_hosts() {
        let o = options(&[]).expect("valid");
        assert_eq!(o, S3Options::new("archive"));
        assert!(!o.force_path_style);
    }

    #[test]
    fn an_endpoint_turns_on_path_style() {
        let o = options(&[("AWS_ENDPOINT_URL", "http://127.0.0.1:9000/")]).expect("valid");
        assert_eq!(o.endpoint_url.as_deref(), Some("http://127.0.0.1:9000"));
        assert!(o.force_path_style);
        let o = options(&[
            ("AWS_ENDPOINT_URL_S3", "https://s3.example.com"),
            ("AWS_ENDPOINT_URL", "http://other:1"),
            ("S3_FORCE_PATH_STYLE", "false"),
        ])
        .expect("valid");
        assert_eq!(o.endpoint_url.as_deref(), Some("https://s3.example.com"));
        assert!(!o.force_path_style);
    }

    #[test]
    fn timings() {
        let o = options(&[
            ("S3_MAX_ATTEMPTS", "2"),
            ("S3_INITIAL_BACKOFF_MS", "10"),
            ("S3_MAX_BACKOFF_MS", "50"),
            ("S3_ATTEMPT_TIMEOUT_MS", "800"),
            ("S3_OPERATION_TIMEOUT_MS", "3000"),
            ("S3_CONNECT_TIMEOUT_MS", "500"),
        ])
        .expect("valid");
        assert_eq!(o.max_attempts, 2);
        assert_eq!(o.initial_backoff, Duration::from_millis(10));
        assert_eq!(o.max_backoff, Duration::from_millis(50));
        assert_eq!(o.attempt_timeout, Duration::from_millis(800));
        assert_eq!(o.operation_timeout, Duration::from_secs(3));
        assert_eq!(o.connect_timeout, Duration::from_millis(500));
    }

    #[test]
    fn errors_name_the_variable() {
        for (var, value) in [
            ("AWS_ENDPOINT_URL_S3", "127.0.0.1:9000"),
            ("AWS_ENDPOINT_URL", "ftp://x"),
            ("S3_FORCE_PATH_STYLE", "maybe"),
            ("S3_MAX_ATTEMPTS", "0"),
            ("S3_MAX_ATTEMPTS", "three"),
            ("S3_ATTEMPT_TIMEOUT_MS", "-5"),
            ("S3_OPERATION_TIMEOUT_MS", "20"),
            ("S3_MAX_BACKOFF_MS", "100"),
        ] {
            let e = options(&[(var, value)]).expect_err(value);
            assert_eq!(e.var, var, "{value}: {e}");
        }
    }
}
