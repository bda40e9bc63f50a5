//! The `compactor` function: plans (the scheduled event, a backfill) by queuing every
//! partition whose Avro files changed since its current generation, and compacts the
//! partitions its queue hands it, one per message. Each invocation prints one metrics
//! line in CloudWatch's embedded metric format.

use std::collections::BTreeSet;
use std::io::Write;

use chrono::{DateTime, Utc};
use dmd_archive::record_type::RecordType;
use dmd_archive::Settings;
use dmd_compact::source::{partition_files, partitions_written_since};
use dmd_compact::{compact_partition, is_current, Archive, PartLimits, Partition, Report};
use serde_json::{json, Value};

use crate::event::{parse, PartitionMessage, Request};
use crate::queue::PartitionQueue;

/// The function: its settings, the archive and the queue, built once.
pub struct CompactFunction<S, Q> {
    pub settings: Settings,
    pub store: S,
    pub queue: Q,
    pub limits: PartLimits,
    pub function_name: String,
    /// How far back a scheduled plan reads manifests (`COMPACT_LOOKBACK_MINUTES`): at
    /// least twice the schedule's interval, so that a missed run is caught up.
    pub lookback: chrono::Duration,
}

impl<S: Archive, Q: PartitionQueue> CompactFunction<S, Q> {
    /// Handles one invocation. A plan that cannot list or queue fails the invocation
    /// (EventBridge and a direct caller see the error); a queue batch answers with the
    /// SQS partial batch response, naming the messages whose partition failed.
    pub async fn handle(&self, payload: &Value, now: DateTime<Utc>) -> Result<Value, String> {
        let request = parse(payload, now)?;
        match request {
            Request::Plan { types, dates, scheduled_at } => {
                let since = scheduled_at.map(|at| (at - self.lookback).timestamp_millis());
                let queued = self.plan(&types, &dates, since).await?;
                self.emit(now, &[], queued.len());
                let queued: Vec<Value> = queued.iter().map(|p| json!(PartitionMessage::of(p))).collect();
                Ok(json!({ "queued": queued }))
            }
            Request::Compact(partition) => {
                let report = self.compact(&partition).await;
                self.emit(now, std::slice::from_ref(&report), 0);
                serde_json::to_value(&report).map_err(|e| e.to_string())
            }
            Request::Messages(messages) => {
                let mut failures = Vec::new();
                let mut reports = Vec::new();
                for (id, body) in messages {
                    let partition = serde_json::from_str::<PartitionMessage>(&body)
                        .map_err(|e| e.to_string())
                        .and_then(|m| m.partition());
                    match partition {
                        Ok(p) => {
                            let report = self.compact(&p).await;
                            if report.failed() {
                                failures.push(json!({ "itemIdentifier": id }));
                            }
                            reports.push(report);
                        }
                        // A message that names no partition never will: retrying it
                        // cannot help, so it is logged and let go.
                        Err(e) => tracing::error!(message_id = %id, error = %e, "not a partition message; dropped"),
                    }
                }
                self.emit(now, &reports, 0);
                Ok(json!({ "batchItemFailures": failures }))
            }
        }
    }

    /// Queues the partitions of these types and dates, and with `written_since` those
    /// the manifests of these processing dates written since then name, whose Avro files
    /// differ from those of their current generation; returns them.
    pub async fn plan(
        &self,
        types: &[RecordType],
        dates: &[chrono::NaiveDate],
        written_since: Option<i64>,
    ) -> Result<Vec<Partition>, String> {
        let err = |e: dmd_archive::store::StoreError| e.to_string();
        let mut candidates: BTreeSet<Partition> = types
            .iter()
            .flat_map(|&record_type| dates.iter().map(move |&date| Partition { record_type, date }))
            .collect();
        if let Some(since) = written_since {
            let recent = partitions_written_since(&self.store, &self.settings, dates, since).await.map_err(err)?;
            candidates.extend(recent.into_iter().filter(|p| types.contains(&p.record_type)));
        }
        let mut changed = Vec::new();
        for partition in candidates {
            let keys = partition_files(&self.store, &self.settings, &partition).await.map_err(err)?;
            if !keys.is_empty() && !is_current(&self.store, &self.settings, &partition, &keys).await.map_err(err)? {
                changed.push(partition);
            }
        }
        self.queue.send(&changed).await?;
        tracing::info!(queued = changed.len(), "planned");
        Ok(changed)
    }

    async fn compact(&self, partition: &Partition) -> Report {
        let keys = match partition_files(&self.store, &self.settings, partition).await {
            Ok(k) => k,
            Err(e) => {
                let mut r = Report::new(partition, 0);
                r.error = Some(e.to_string());
                return r;
            }
        };
        let report = compact_partition(&self.store, &self.settings, partition, &keys, self.limits).await;
        tracing::info!(report = %json!(report), "partition");
        report
    }

    /// One EMF line: what was compacted, dropped, queued and failed.
    fn emit(&self, now: DateTime<Utc>, reports: &[Report], queued: usize) {
        let built: Vec<&Report> = reports.iter().filter(|r| !r.is_skipped() && !r.failed()).collect();
        let metrics = [
            ("CompactedPartitions", built.len() as u64),
            ("CompactedRecords", built.iter().filter_map(|r| r.records).sum()),
            ("DuplicatesDropped", built.iter().filter_map(|r| r.duplicates_dropped).sum()),
            ("CompactFailures", reports.iter().filter(|r| r.failed()).count() as u64),
            ("QueuedPartitions", queued as u64),
        ];
        let mut line = json!({
            "_aws": {
                "Timestamp": now.timestamp_millis(),
                "CloudWatchMetrics": [{
                    "Namespace": "dmd-pipeline",
                    "Dimensions": [["FunctionName"]],
                    "Metrics": metrics.iter().map(|(n, _)| json!({"Name": n, "Unit": "Count"})).collect::<Vec<_>>(),
                }],
            },
            "FunctionName": self.function_name,
        });
        if let Some(obj) = line.as_object_mut() {
            for (name, value) in metrics {
                obj.insert(name.to_owned(), json!(value));
            }
        }
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
    }
}
