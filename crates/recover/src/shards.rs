//! The shards of a stream for the audit (data contract, section 10): DynamoDB Streams'
//! `DescribeStream` and Kinesis' `ListShards`, page by page, open and closed shards
//! alike, put in an order where every parent comes before its children.

use std::collections::{HashMap, HashSet};

use dmd_archive::envelope::Source;

use crate::message::stream_region;
use crate::range::ReadError;
use crate::streams::Streams;

/// A shard and the one it was split from (or merged from), when the stream still lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shard {
    pub id: String,
    pub parent: Option<String>,
    /// A second parent, when two shards were merged into this one (Kinesis).
    pub adjacent_parent: Option<String>,
    /// The stream lists an ending sequence number: no record will be added.
    pub closed: bool,
}

/// A stream by ARN: which source it is and its region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamArn {
    pub source: Source,
    pub arn: String,
    pub region: String,
}

impl StreamArn {
    /// A DynamoDB stream ARN or a Kinesis stream ARN; `None` for anything else.
    pub fn parse(arn: &str) -> Option<StreamArn> {
        [Source::DynamoDb, Source::Kinesis].into_iter().find_map(|source| {
            stream_region(source, arn).map(|region| StreamArn { source, arn: arn.to_owned(), region })
        })
    }
}

impl Streams {
    /// How long the stream keeps a record (ms): 24 hours for DynamoDB Streams, the
    /// stream's retention for Kinesis; `None` when it cannot be read.
    pub async fn retention_ms(&self, stream: &StreamArn) -> Option<i64> {
        const HOUR: i64 = 3_600_000;
        match stream.source {
            Source::DynamoDb => Some(24 * HOUR),
            Source::Kinesis => {
                let client = self.kinesis_in(&stream.region);
                let out = client.describe_stream_summary().stream_arn(&stream.arn).send().await.ok()?;
                out.stream_description_summary().map(|s| i64::from(s.retention_period_hours()) * HOUR)
            }
        }
    }

    /// Every shard the stream lists, parents before children.
    pub async fn shards(&self, stream: &StreamArn) -> Result<Vec<Shard>, ReadError> {
        let listed = match stream.source {
            Source::DynamoDb => Box::pin(dynamodb_shards(&self.dynamodb_in(&stream.region), &stream.arn)).await?,
            Source::Kinesis => Box::pin(kinesis_shards(&self.kinesis_in(&stream.region), &stream.arn)).await?,
        };
        Ok(parents_first(listed))
    }
}

async fn dynamodb_shards(client: &aws_sdk_dynamodbstreams::Client, arn: &str) -> Result<Vec<Shard>, ReadError> {
    let mut shards = Vec::new();
    let mut start: Option<String> = None;
    loop {
        let out = client
            .describe_stream()
            .stream_arn(arn)
            .set_exclusive_start_shard_id(start.take())
            .send()
            .await
            .map_err(|e| ReadError::service("DescribeStream", e))?;
        let Some(description) = out.stream_description() else { break };
        for s in description.shards() {
            let Some(id) = s.shard_id() else { continue };
            shards.push(Shard {
                id: id.to_owned(),
                parent: s.parent_shard_id().map(str::to_owned),
                adjacent_parent: None,
                closed: s.sequence_number_range().and_then(|r| r.ending_sequence_number()).is_some(),
            });
        }
        match description.last_evaluated_shard_id() {
            Some(last) if !last.is_empty() => start = Some(last.to_owned()),
            _ => break,
        }
    }
    Ok(shards)
}

async fn kinesis_shards(client: &aws_sdk_kinesis::Client, arn: &str) -> Result<Vec<Shard>, ReadError> {
    let mut shards = Vec::new();
    let mut token: Option<String> = None;
    loop {
        // A page after the first names only its token: the stream is in the token.
        let request = match token.take() {
            Some(t) => client.list_shards().next_token(t),
            None => client.list_shards().stream_arn(arn),
        };
        let out = request.send().await.map_err(|e| ReadError::service("ListShards", e))?;
        for s in out.shards() {
            shards.push(Shard {
                id: s.shard_id().to_owned(),
                parent: s.parent_shard_id().map(str::to_owned),
                adjacent_parent: s.adjacent_parent_shard_id().map(str::to_owned),
                closed: s.sequence_number_range().and_then(|r| r.ending_sequence_number()).is_some(),
            });
        }
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => break,
        }
    }
    Ok(shards)
}

/// `shards` in an order where each parent the list holds comes before its children, and
/// otherwise in the order listed. A parent the stream no longer lists (trimmed) is no
/// constraint; a cycle, which no stream has, cannot hold a shard back.
pub fn parents_first(shards: Vec<Shard>) -> Vec<Shard> {
    let index: HashMap<&str, usize> = shards.iter().enumerate().map(|(i, s)| (s.id.as_str(), i)).collect();
    let mut placed = HashSet::new();
    let mut order = Vec::with_capacity(shards.len());
    for i in 0..shards.len() {
        visit(i, &shards, &index, &mut placed, &mut order, 0);
    }
    let mut slots: Vec<Option<Shard>> = shards.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

fn visit(
    i: usize,
    shards: &[Shard],
    index: &HashMap<&str, usize>,
    placed: &mut HashSet<usize>,
    order: &mut Vec<usize>,
    depth: usize,
) {
    if placed.contains(&i) || depth > shards.len() {
        return;
    }
    let s = &shards[i];
    for parent in [&s.parent, &s.adjacent_parent].into_iter().flatten() {
        if let Some(&p) = index.get(parent.as_str()) {
            visit(p, shards, index, placed, order, depth + 1);
        }
    }
    if placed.insert(i) {
        order.push(i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shard(id: &str, parent: Option<&str>) -> Shard {
        Shard { id: id.into(), parent: parent.map(Into::into), adjacent_parent: None, closed: false }
    }

    #[test]
    fn parents_come_before_their_children() {
        let listed = vec![
            shard("c1", Some("p")),
            shard("g", Some("c1")),
            shard("p", Some("trimmed")),
            shard("c2", Some("p")),
            shard("other", None),
        ];
        let ids: Vec<String> = parents_first(listed).into_iter().map(|s| s.id).collect();
        assert_eq!(ids, ["p", "c1", "g", "c2", "other"]);
    }

    #[test]
    fn a_merged_shard_follows_both_parents() {
        let mut m = shard("m", Some("a"));
        m.adjacent_parent = Some("b".into());
        let ids: Vec<String> =
            parents_first(vec![m, shard("b", None), shard("a", None)]).into_iter().map(|s| s.id).collect();
        assert_eq!(ids, ["a", "b", "m"]);
    }

    #[test]
    fn stream_arns_name_their_source() {
        let d = StreamArn::parse("arn:aws:dynamodb:eu-west-1:123456789012:table/demand/stream/2026-11-01T00:00:00.000");
        assert_eq!(d.map(|s| (s.source, s.region)), Some((Source::DynamoDb, "eu-west-1".into())));
        let k = StreamArn::parse("arn:aws:kinesis:us-east-1:123456789012:stream/dmd-demand-changes");
        assert_eq!(k.map(|s| s.source), Some(Source::Kinesis));
        assert_eq!(StreamArn::parse("arn:aws:s3:::bucket"), None);
    }
}
