//! Retiring objects in S3: [`dmd_archive::retire::Retire`] tags an object
//! `dmd-retired=true` (the bucket's lifecycle rule expires it later) instead of deleting
//! it, so the compactor's role needs no delete permission and running queries finish.

use aws_sdk_s3::types::{Tag, Tagging};
use aws_smithy_types::error::display::DisplayErrorContext;
use dmd_archive::retire::{Retire, RETIRED_TAG};
use dmd_archive::store::StoreError;

use crate::S3Sink;

impl Retire for S3Sink {
    fn uri(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket())
    }

    fn key_of(&self, uri: &str) -> Option<String> {
        let key = uri.strip_prefix("s3://")?.strip_prefix(self.bucket())?.strip_prefix('/')?;
        (!key.is_empty()).then(|| key.to_owned())
    }

    async fn retire(&self, key: &str) -> Result<(), StoreError> {
        let err = |message: String| StoreError { operation: "tag", key: key.to_owned(), message };
        let tag = Tag::builder().key(RETIRED_TAG.0).value(RETIRED_TAG.1).build().map_err(|e| err(e.to_string()))?;
        let tagging = Tagging::builder().tag_set(tag).build().map_err(|e| err(e.to_string()))?;
        match self.client().put_object_tagging().bucket(self.bucket()).key(key).tagging(tagging).send().await {
            Ok(_) => Ok(()),
            // NoSuchKey: already gone.
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => Ok(()),
            Err(e) => Err(err(DisplayErrorContext(&e).to_string())),
        }
    }
}
