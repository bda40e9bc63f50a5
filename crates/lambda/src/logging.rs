//! The function's logs: Lambda's own logging controls (`LoggingConfig` in the template,
//! seen by the function as `AWS_LAMBDA_LOG_FORMAT` and `AWS_LAMBDA_LOG_LEVEL`), else
//! `RUST_LOG`, else `info` as JSON lines; and the one target that must never log.
//! See <https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-advanced.html>.

use dmd_archive::config::{invalid, ConfigError};
use tracing_subscriber::EnvFilter;

/// The level when neither `AWS_LAMBDA_LOG_LEVEL` nor `RUST_LOG` is set.
pub const DEFAULT_LOG: &str = "info";

/// The runtime's module that logs every raw event at trace level. An event can hold a
/// deleted item, so this target never logs below debug, whatever the settings say.
const RAW_EVENT_TARGET: &str = "lambda_runtime::layers::api_response=debug";

/// How the function logs.
#[derive(Debug)]
pub struct LogSettings {
    /// JSON lines (CloudWatch's structured format), or plain text.
    pub json: bool,
    pub filter: EnvFilter,
}

impl LogSettings {
    pub fn from_env() -> Result<LogSettings, ConfigError> {
        LogSettings::from_lookup(|k| std::env::var(k).ok())
    }

    /// `AWS_LAMBDA_LOG_FORMAT` (`JSON` or `Text`, default JSON). The level is
    /// `AWS_LAMBDA_LOG_LEVEL` (`TRACE` to `FATAL`) when Lambda sets it, since an operator
    /// chose it in the function's logging configuration; else the `RUST_LOG` filter; else
    /// `info`.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<LogSettings, ConfigError> {
        let get = |k: &str| get(k).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let json = match get("AWS_LAMBDA_LOG_FORMAT") {
            None => true,
            Some(f) if f.eq_ignore_ascii_case("json") => true,
            Some(f) if f.eq_ignore_ascii_case("text") => false,
            Some(f) => return Err(invalid("AWS_LAMBDA_LOG_FORMAT", format!("{f:?} is not JSON or Text"))),
        };
        let filter = match (get("AWS_LAMBDA_LOG_LEVEL"), get("RUST_LOG")) {
            (Some(level), _) => EnvFilter::new(lambda_level("AWS_LAMBDA_LOG_LEVEL", &level)?),
            (None, Some(v)) => EnvFilter::builder()
                .parse(&v)
                .map_err(|e| invalid("RUST_LOG", format!("{v:?} is not a log filter: {e}")))?,
            (None, None) => EnvFilter::new(DEFAULT_LOG),
        };
        let quiet =
            RAW_EVENT_TARGET.parse().map_err(|e| invalid("RUST_LOG", format!("internal log directive: {e}")))?;
        Ok(LogSettings { json, filter: filter.add_directive(quiet) })
    }

    /// Installs the subscriber: one line per event on standard output (the runtime's span
    /// adds the request id).
    pub fn init(self) {
        let builder = tracing_subscriber::fmt().with_env_filter(self.filter).with_writer(std::io::stdout);
        if self.json {
            builder.json().with_target(false).flatten_event(true).with_span_list(false).init();
        } else {
            builder.with_ansi(false).init();
        }
    }
}

/// A level of Lambda's logging controls as a tracing level (FATAL has no own level).
fn lambda_level(var: &'static str, level: &str) -> Result<&'static str, ConfigError> {
    match level.to_ascii_uppercase().as_str() {
        "TRACE" => Ok("trace"),
        "DEBUG" => Ok("debug"),
        "INFO" => Ok("info"),
        "WARN" => Ok("warn"),
        "ERROR" | "FATAL" => Ok("error"),
        _ => Err(invalid(var, format!("{level:?} is not TRACE, DEBUG, INFO, WARN, ERROR or FATAL"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<LogSettings, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        LogSettings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn lambda_controls_then_rust_log_then_info() {
        let s = settings(&[]).expect("defaults");
        assert!(s.json);
        assert!(s.filter.to_string().ends_with(",info"), "{}", s.filter);
        let s = settings(&[("AWS_LAMBDA_LOG_FORMAT", "Text"), ("AWS_LAMBDA_LOG_LEVEL", "DEBUG"), ("RUST_LOG", "warn")])
            .expect("valid");
        assert!(!s.json);
        assert!(s.filter.to_string().contains("debug"), "{}", s.filter);
        let s = settings(&[("RUST_LOG", "dmd_lambda=debug,aws_smithy_runtime=info")]).expect("valid");
        assert!(s.filter.to_string().contains("dmd_lambda=debug"), "{}", s.filter);
        assert!(settings(&[("AWS_LAMBDA_LOG_LEVEL", "FATAL")]).is_ok());
    }

    #[test]
    fn the_raw_event_target_is_always_capped() {
        for vars in [&[("RUST_LOG", "trace")][..], &[("AWS_LAMBDA_LOG_LEVEL", "TRACE")][..]] {
            let f = settings(vars).expect("valid").filter.to_string();
            assert!(f.contains("lambda_runtime::layers::api_response=debug"), "{f}");
        }
    }

    #[test]
    fn invalid_values_name_their_variable() {
        for (var, value) in [("AWS_LAMBDA_LOG_FORMAT", "xml"), ("AWS_LAMBDA_LOG_LEVEL", "LOUD"), ("RUST_LOG", "a=loud")]
        {
            let e = settings(&[(var, value)]).expect_err(value);
            assert_eq!(e.var, var);
        }
    }
}
