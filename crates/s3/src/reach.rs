//! Whether a bucket is there to be used, asked once before a command does any work
//! (`HeadBucket`): a mistyped name or an endpoint out of reach is named at the door
//! instead of in every write.

use aws_sdk_s3::error::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;

use crate::S3Sink;

/// Why a bucket cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum Unusable {
    #[error("no such bucket")]
    NoSuchBucket,
    #[error("S3 is out of reach: {0}")]
    OutOfReach(String),
}

impl S3Sink {
    /// `Ok` when the bucket answers, or refuses `HeadBucket` only (a role that may
    /// write objects but not list the bucket still archives); an error when it does
    /// not exist or S3 cannot be reached.
    pub async fn check_reachable(&self) -> Result<(), Unusable> {
        match self.client.head_bucket().bucket(&self.bucket).send().await {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) if e.raw().status().as_u16() == 404 => Err(Unusable::NoSuchBucket),
            Err(SdkError::ServiceError(_)) => Ok(()),
            Err(e @ (SdkError::DispatchFailure(_) | SdkError::TimeoutError(_))) => {
                Err(Unusable::OutOfReach(DisplayErrorContext(&e).to_string()))
            }
            // A response that could not be read: the archive's own calls will say more.
            Err(_) => Ok(()),
        }
    }
}
