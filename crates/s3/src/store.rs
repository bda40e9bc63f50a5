//! Reading the archive back from S3: [`dmd_archive::store::ObjectStore`] over the same
//! client as the sink, listing a prefix a page (1,000 keys) at a time and reading whole
//! objects, for `dmd verify` and `dmd replay`.

use aws_sdk_s3::operation::get_object::GetObjectError;
use aws_smithy_types::error::display::DisplayErrorContext;
use bytes::Bytes;
use dmd_archive::store::{Listed, ObjectStore, Page, StoreError};

use crate::S3Sink;

impl ObjectStore for S3Sink {
    async fn list(&self, prefix: &str, start_after: Option<&str>) -> Result<Page, StoreError> {
        let err = |message: String| StoreError { operation: "list", key: prefix.to_owned(), message };
        let out = self
            .client()
            .list_objects_v2()
            .bucket(self.bucket())
            .prefix(prefix)
            .set_start_after(start_after.map(str::to_owned))
            .send()
            .await
            .map_err(|e| err(DisplayErrorContext(&e).to_string()))?;
        let objects: Vec<Listed> = out
            .contents()
            .iter()
            .filter_map(|o| {
                Some(Listed {
                    key: o.key()?.to_owned(),
                    size: o.size().and_then(|s| u64::try_from(s).ok()).unwrap_or(0),
                    modified_ms: o.last_modified().and_then(|t| t.to_millis().ok()),
                })
            })
            .collect();
        let next = match out.is_truncated() {
            Some(true) => Some(
                objects.last().map(|l| l.key.clone()).ok_or_else(|| err("an empty page said more follow".into()))?,
            ),
            _ => None,
        };
        Ok(Page { objects, next })
    }

    async fn get(&self, key: &str) -> Result<Option<Bytes>, StoreError> {
        let err = |message: String| StoreError { operation: "get", key: key.to_owned(), message };
        let out = match self.client().get_object().bucket(self.bucket()).key(key).send().await {
            Ok(o) => o,
            Err(e) if matches!(e.as_service_error(), Some(GetObjectError::NoSuchKey(_))) => return Ok(None),
            Err(e) => return Err(err(DisplayErrorContext(&e).to_string())),
        };
        let body = out.body.collect().await.map_err(|e| err(e.to_string()))?;
        Ok(Some(body.into_bytes()))
    }
}
