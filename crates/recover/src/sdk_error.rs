//! What a failed AWS call says of itself in a line of output: its kind and the service's
//! error code, never the service's message or the answer's body (which can hold the
//! records read, a deleted item's PII included, or quote the caller's input).

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use dmd_archive::pii;

/// `timed out`, `the connection failed (...)`, `the service refused it (Code)`, ...
pub fn describe<E, R>(error: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let code = || error.code().map(|c| format!(" ({})", pii::envelope_identifier(c).as_str())).unwrap_or_default();
    match error {
        // Failures before an answer came: the causes name the endpoint and the transport.
        SdkError::ConstructionFailure(_) | SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => {
            pii::redact_spans(&DisplayErrorContext(error).to_string())
        }
        SdkError::ResponseError(_) => format!("the answer could not be read{}", code()),
        SdkError::ServiceError(_) => format!("the service refused the call{}", code()),
        _ => format!("failed{}", code()),
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_kinesis::operation::get_records::GetRecordsError;

    use super::*;

    #[test]
    fn an_answer_that_cannot_be_read_is_not_quoted() {
        let body = r#"{"Records":[{"OldImage":{"email":{"S":"ana@example.com"},"phone":{"S":"+1 415 555 0191"}}}]"#;
        let e: SdkError<GetRecordsError, String> =
            SdkError::response_error(format!("cannot parse {body}"), body.into());
        let line = describe(&e);
        assert_eq!(line, "the answer could not be read");
        let e: SdkError<GetRecordsError, String> = SdkError::timeout_error("no answer from 127.0.0.1:9");
        assert!(describe(&e).contains("127.0.0.1:9"), "{}", describe(&e));
    }
}
