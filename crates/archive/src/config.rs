//! Configuration from the environment, validated once at start: an invalid value is an
//! error that names its variable.

use crate::avro::Codec;

/// An invalid configuration value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {var}: {reason}")]
pub struct ConfigError {
    pub var: &'static str,
    pub reason: String,
}

/// The error for `var`, with why its value is refused.
pub fn invalid(var: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError { var, reason: reason.into() }
}

/// A whole number within `min..=max`.
pub fn number<T: TryFrom<u64>>(var: &'static str, v: &str, min: u64, max: u64) -> Result<T, ConfigError> {
    let n: u64 = v.parse().map_err(|_| invalid(var, format!("{v:?} is not a whole number")))?;
    if !(min..=max).contains(&n) {
        return Err(invalid(var, format!("{n} is outside {min}..={max}")));
    }
    T::try_from(n).map_err(|_| invalid(var, format!("{n} is too large")))
}

/// `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`).
pub fn flag(var: &'static str, v: &str) -> Result<bool, ConfigError> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(invalid(var, format!("{v:?} is not true or false"))),
    }
}

/// How the archive is written. Everything but the bucket, which only the S3 output
/// needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `DATA_PREFIX`, default `data/`; always empty or ending in `/`.
    pub data_prefix: String,
    /// `ERROR_PREFIX`, default `errors/`; always empty or ending in `/`.
    pub error_prefix: String,
    /// `MANIFEST_PREFIX`, default `manifests/`; always ending in `/`.
    pub manifest_prefix: String,
    /// `COMPACT_PREFIX`, default `compacted/`; always ending in `/`. Where `dmd compact`
    /// and the compactor write the Parquet copy.
    pub compact_prefix: String,
    /// `AVRO_CODEC`, default `deflate`.
    pub codec: Codec,
    /// `SYSTEM_ID`, `DATABASE_ID`, `MEMBER_ID`: copied into demand records.
    pub system_id: Option<String>,
    pub database_id: Option<String>,
    pub member_id: Option<String>,
    /// `PII_ATTRIBUTES`: attribute names redacted in deleted items of every type.
    pub pii_attributes: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            data_prefix: "data/".into(),
            error_prefix: "errors/".into(),
            manifest_prefix: "manifests/".into(),
            compact_prefix: "compacted/".into(),
            codec: Codec::Deflate,
            system_id: None,
            database_id: None,
            member_id: None,
            pii_attributes: Vec::new(),
        }
    }
}

impl Settings {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Settings, ConfigError> {
        Settings::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads the settings through `get`; an empty value counts as unset.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Settings, ConfigError> {
        let get = |k: &str| get(k).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let mut s = Settings::default();
        if let Some(p) = get("DATA_PREFIX") {
            s.data_prefix = prefix("DATA_PREFIX", &p)?;
        }
        if let Some(p) = get("ERROR_PREFIX") {
            s.error_prefix = prefix("ERROR_PREFIX", &p)?;
        }
        if let Some(p) = get("MANIFEST_PREFIX") {
            s.manifest_prefix = prefix("MANIFEST_PREFIX", &p)?;
        }
        let nested = |a: &str, b: &str| a.starts_with(b) || b.starts_with(a);
        if nested(&s.manifest_prefix, &s.data_prefix) || nested(&s.manifest_prefix, &s.error_prefix) {
            return Err(invalid(
                "MANIFEST_PREFIX",
                "must be outside DATA_PREFIX and ERROR_PREFIX (and they outside it), or manifests would land among the files they name",
            ));
        }
        if let Some(p) = get("COMPACT_PREFIX") {
            s.compact_prefix = prefix("COMPACT_PREFIX", &p)?;
        }
        if [&s.data_prefix, &s.error_prefix, &s.manifest_prefix].into_iter().any(|o| nested(&s.compact_prefix, o)) {
            return Err(invalid(
                "COMPACT_PREFIX",
                "must be outside DATA_PREFIX, ERROR_PREFIX and MANIFEST_PREFIX (and they outside it), or the Parquet copy would land among the files it is built from",
            ));
        }
        if nested(&s.data_prefix, &s.error_prefix) {
            return Err(invalid(
                "ERROR_PREFIX",
                "must be outside DATA_PREFIX (and it outside ERROR_PREFIX), or errors would land among the data files",
            ));
        }
        if let Some(c) = get("AVRO_CODEC") {
            s.codec = c.parse().map_err(|e: crate::avro::UnknownCodec| invalid("AVRO_CODEC", e.to_string()))?;
        }
        for (var, slot) in
            [("SYSTEM_ID", &mut s.system_id), ("DATABASE_ID", &mut s.database_id), ("MEMBER_ID", &mut s.member_id)]
        {
            if let Some(v) = get(var) {
                if v.chars().any(char::is_control) {
                    return Err(invalid(var, "must not contain control characters"));
                }
                *slot = Some(v);
            }
        }
        if let Some(list) = get("PII_ATTRIBUTES") {
            for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                if name.chars().any(char::is_control) {
                    return Err(invalid("PII_ATTRIBUTES", format!("{name:?} is not an attribute name")));
                }
                s.pii_attributes.push(name.to_string());
            }
        }
        Ok(s)
    }

    /// Whether `PII_ATTRIBUTES` names `attr`.
    pub fn is_extra_pii(&self, attr: &str) -> bool {
        self.pii_attributes.iter().any(|a| a == attr)
    }
}

/// An S3 key prefix: relative, no empty or dot segments, ending in `/` (added if left out).
fn prefix(var: &'static str, p: &str) -> Result<String, ConfigError> {
    let p = p.trim();
    if p.starts_with('/') {
        return Err(invalid(var, format!("{p:?} must not start with '/'")));
    }
    let body = p.strip_suffix('/').unwrap_or(p);
    if body.split('/').any(|seg| seg.is_empty() || seg == "." || seg == "..") {
        return Err(invalid(var, format!("{p:?} has an empty, '.' or '..' path segment")));
    }
    if p.chars().any(|c| c.is_control() || c == '\\') {
        return Err(invalid(var, format!("{p:?} has a control character or a backslash")));
    }
    Ok(format!("{body}/"))
}

/// Checks an S3 bucket name (`ARCHIVE_BUCKET`, `--bucket`): 3 to 63 lower-case letters,
/// digits, dots and hyphens, starting and ending with a letter or digit.
/// See <https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html>.
pub fn check_bucket(var: &'static str, name: &str) -> Result<(), ConfigError> {
    let ok_chars = name.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'.' || c == b'-');
    let ends = |c: Option<u8>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !(3..=63).contains(&name.len())
        || !ok_chars
        || !ends(name.bytes().next())
        || !ends(name.bytes().last())
        || name.contains("..")
    {
        return Err(invalid(var, format!("{name:?} is not a valid S3 bucket name")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults() {
        assert_eq!(settings(&[]), Ok(Settings::default()));
        assert_eq!(settings(&[("AVRO_CODEC", "")]), Ok(Settings::default()));
    }

    #[test]
    fn values() {
        let s = settings(&[
            ("DATA_PREFIX", "archive/data"),
            ("ERROR_PREFIX", "archive/errors/"),
            ("AVRO_CODEC", "zstandard"),
            ("SYSTEM_ID", "tm"),
            ("PII_ATTRIBUTES", " address, birthDate ,,home phone"),
            ("MEMBER_ID", "  m-1 "),
        ])
        .expect("valid");
        assert_eq!(s.data_prefix, "archive/data/");
        assert_eq!(s.error_prefix, "archive/errors/");
        assert_eq!(s.codec, Codec::Zstandard);
        assert_eq!(s.system_id.as_deref(), Some("tm"));
        assert_eq!(s.pii_attributes, ["address", "birthDate", "home phone"]);
        assert_eq!(s.member_id.as_deref(), Some("m-1"));
        assert!(s.is_extra_pii("address"));
    }

    #[test]
    fn the_compact_prefix_stays_outside_the_other_three() {
        assert_eq!(settings(&[]).expect("valid").compact_prefix, "compacted/");
        assert_eq!(settings(&[("COMPACT_PREFIX", "parquet")]).expect("valid").compact_prefix, "parquet/");
        for compact in ["data/", "data/compacted/", "errors/x/", "manifests/", "manifests/c/"] {
            let e = settings(&[("COMPACT_PREFIX", compact)]);
            assert!(e.is_err_and(|e| e.to_string().contains("COMPACT_PREFIX")), "{compact}");
        }
        let e = settings(&[("COMPACT_PREFIX", "a/"), ("DATA_PREFIX", "a/data/")]);
        assert!(e.is_err_and(|e| e.to_string().contains("COMPACT_PREFIX")));
    }

    #[test]
    fn the_manifest_prefix_stays_outside_the_other_two() {
        assert_eq!(
            settings(&[("MANIFEST_PREFIX", "audit/manifests")]).expect("valid").manifest_prefix,
            "audit/manifests/"
        );
        for (data, errors, manifests) in
            [("data/", "errors/", "errors/manifests/"), ("data/", "errors/", "data/"), ("a/data/", "a/errors/", "a/")]
        {
            let e = settings(&[("DATA_PREFIX", data), ("ERROR_PREFIX", errors), ("MANIFEST_PREFIX", manifests)]);
            assert!(e.is_err_and(|e| e.to_string().contains("MANIFEST_PREFIX")), "{manifests}");
        }
    }

    #[test]
    fn errors_name_the_variable() {
        for (var, value) in [
            ("AVRO_CODEC", "gzip"),
            ("DATA_PREFIX", "/data"),
            ("DATA_PREFIX", "a//b"),
            ("ERROR_PREFIX", "../up"),
            ("ERROR_PREFIX", "data/"),
            ("ERROR_PREFIX", "data/errors/"),
            ("SYSTEM_ID", "a\nb"),
            ("PII_ATTRIBUTES", "first\u{7}name"),
        ] {
            let e = settings(&[(var, value)]).expect_err(value);
            assert_eq!(e.var, var, "{value}");
            assert!(e.to_string().starts_with(&format!("invalid {var}")), "{e}");
        }
    }

    #[test]
    fn numbers_and_flags() {
        assert_eq!(number::<u16>("N", "12", 1, 20), Ok(12));
        assert_eq!(number::<u16>("N", "21", 1, 20).map_err(|e| e.var), Err("N"));
        assert!(number::<u8>("N", "300", 1, 1000).is_err());
        assert!(number::<u16>("N", "-1", 0, 20).is_err());
        assert_eq!(flag("F", "Yes"), Ok(true));
        assert_eq!(flag("F", "off"), Ok(false));
        assert!(flag("F", "maybe").is_err());
    }

    #[test]
    fn bucket_names() {
        assert!(check_bucket("ARCHIVE_BUCKET", "dmd-archive.prod-1").is_ok());
        for bad in ["", "ab", "Upper", "-start", "end-", "a..b", "under_score", &"x".repeat(64)] {
            assert!(check_bucket("ARCHIVE_BUCKET", bad).is_err(), "{bad}");
        }
    }
}
