//! The one place that decides whether a failed S3 request is worth trying again. The
//! SDK's retry loop asks it after every attempt ([`S3RetryClassifier`]), and the sink
//! asks it once more about the final error to report the file as transient or
//! permanent, so the two can never disagree.
//!
//! Error codes: <https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html>;
//! what to retry: <https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html>.

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::operation::put_object::PutObjectError;
use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::retries::classifiers::{ClassifyRetry, RetryAction, RetryClassifierPriority};
use aws_smithy_types::retry::ErrorKind;

/// How a request failed, as far as the decision needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// A response arrived (its status and error code say the rest).
    Response,
    /// No response in time: the attempt timeout, or the connect timeout.
    Timeout,
    /// The connection failed: refused, reset, closed before the response was complete.
    Io,
    /// The request could not be built or sent at all (no credentials, an invalid
    /// request): trying again cannot help.
    Local,
    /// Any other failure to dispatch the request.
    Other,
}

/// What is known about one failed request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure<'a> {
    pub transport: Transport,
    pub status: Option<u16>,
    /// The S3 error code of the response body (`AccessDenied`, `SlowDown`, ...).
    pub code: Option<&'a str>,
}

/// The decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Trying again (now, or in a later invocation) may succeed.
    Transient(ErrorKind),
    /// Trying again gives the same answer until someone changes the bucket, its policy or
    /// the configuration.
    Permanent,
}

impl Verdict {
    pub fn is_transient(self) -> bool {
        matches!(self, Verdict::Transient(_))
    }
}

/// Error codes that mean "slow down": retried with the throttling backoff.
const THROTTLING: &[&str] = &[
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "EC2ThrottledException",
];

/// Error codes of a 4xx status that are nevertheless worth another try: the server gave
/// up waiting for the body, a conflicting operation was in progress, or the body was
/// damaged on the way (a retry sends it again).
const TRANSIENT_CODES: &[&str] = &[
    "RequestTimeout",
    "RequestTimeoutException",
    "PriorRequestNotComplete",
    "OperationAborted",
    "InternalError",
    "ServiceUnavailable",
    "BadDigest",
    "XAmzContentChecksumMismatch",
    "XAmzContentSHA256Mismatch",
    "IncompleteBody",
];

/// Decides whether `f` is worth another try.
pub fn classify(f: Failure<'_>) -> Verdict {
    match f.transport {
        Transport::Timeout | Transport::Io | Transport::Other => return Verdict::Transient(ErrorKind::TransientError),
        Transport::Local => return Verdict::Permanent,
        Transport::Response => {}
    }
    if let Some(code) = f.code {
        if THROTTLING.contains(&code) {
            return Verdict::Transient(ErrorKind::ThrottlingError);
        }
        if TRANSIENT_CODES.contains(&code) {
            return Verdict::Transient(ErrorKind::TransientError);
        }
    }
    match f.status {
        Some(429) => Verdict::Transient(ErrorKind::ThrottlingError),
        Some(408) => Verdict::Transient(ErrorKind::TransientError),
        Some(s) if s >= 500 => Verdict::Transient(ErrorKind::ServerError),
        // AccessDenied, NoSuchBucket, InvalidAccessKeyId, SignatureDoesNotMatch, ...
        _ => Verdict::Permanent,
    }
}

/// The facts of the final error of a `PutObject`.
pub fn failure_of(e: &SdkError<PutObjectError, HttpResponse>) -> Failure<'_> {
    match e {
        SdkError::ServiceError(se) => {
            Failure { transport: Transport::Response, status: Some(se.raw().status().as_u16()), code: se.err().code() }
        }
        SdkError::ResponseError(re) => {
            Failure { transport: Transport::Response, status: Some(re.raw().status().as_u16()), code: None }
        }
        SdkError::TimeoutError(_) => Failure { transport: Transport::Timeout, status: None, code: None },
        SdkError::DispatchFailure(d) => {
            let transport = if d.is_timeout() {
                Transport::Timeout
            } else if d.is_io() {
                Transport::Io
            } else if d.is_user() {
                Transport::Local
            } else {
                Transport::Other
            };
            Failure { transport, status: None, code: None }
        }
        // ConstructionFailure, and any kind added later: nothing was sent.
        _ => Failure { transport: Transport::Local, status: None, code: None },
    }
}

/// The facts of one failed attempt, as the SDK's retry loop sees it; `None` when the
/// attempt succeeded.
fn failure_of_attempt(ctx: &InterceptorContext) -> Option<Failure<'_>> {
    let err = ctx.output_or_error()?.err()?;
    let status = ctx.response().map(|r| r.status().as_u16());
    let transport = if let Some(c) = err.as_connector_error() {
        if c.is_timeout() {
            Transport::Timeout
        } else if c.is_io() {
            Transport::Io
        } else if c.is_user() {
            Transport::Local
        } else {
            Transport::Other
        }
    } else if err.is_timeout_error() {
        Transport::Timeout
    } else if status.is_some() {
        Transport::Response
    } else {
        Transport::Local
    };
    let code = err.as_operation_error().and_then(|e| e.downcast_ref::<PutObjectError>()).and_then(|e| e.code());
    Some(Failure { transport, status, code })
}

/// Puts [`classify`] in charge of the SDK's retry decisions: it runs after the SDK's own
/// classifiers and its verdict overrides theirs (a permanent verdict forbids the retry).
#[derive(Debug, Default, Clone, Copy)]
pub struct S3RetryClassifier;

impl ClassifyRetry for S3RetryClassifier {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        match failure_of_attempt(ctx).map(classify) {
            None => RetryAction::NoActionIndicated,
            Some(Verdict::Transient(kind)) => RetryAction::retryable_error(kind),
            Some(Verdict::Permanent) => RetryAction::RetryForbidden,
        }
    }

    fn name(&self) -> &'static str {
        "dmd-s3 transient/permanent"
    }

    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, code: Option<&str>) -> Verdict {
        classify(Failure { transport: Transport::Response, status: Some(status), code })
    }

    #[test]
    fn refusals_are_permanent() {
        assert_eq!(response(403, Some("AccessDenied")), Verdict::Permanent);
        assert_eq!(response(404, Some("NoSuchBucket")), Verdict::Permanent);
        assert_eq!(response(403, Some("InvalidAccessKeyId")), Verdict::Permanent);
        assert_eq!(response(400, None), Verdict::Permanent);
        assert_eq!(classify(Failure { transport: Transport::Local, status: None, code: None }), Verdict::Permanent);
    }

    #[test]
    fn server_trouble_is_transient() {
        assert_eq!(response(500, Some("InternalError")), Verdict::Transient(ErrorKind::TransientError));
        assert_eq!(response(502, None), Verdict::Transient(ErrorKind::ServerError));
        assert_eq!(response(503, Some("SlowDown")), Verdict::Transient(ErrorKind::ThrottlingError));
        assert_eq!(response(429, None), Verdict::Transient(ErrorKind::ThrottlingError));
        assert_eq!(response(400, Some("RequestTimeout")), Verdict::Transient(ErrorKind::TransientError));
        assert_eq!(response(400, Some("BadDigest")), Verdict::Transient(ErrorKind::TransientError));
        for t in [Transport::Timeout, Transport::Io, Transport::Other] {
            assert!(classify(Failure { transport: t, status: None, code: None }).is_transient(), "{t:?}");
        }
    }
}
