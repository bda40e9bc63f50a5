//! Manifests and `dmd verify` on moto (data contract, section 6): the function's manifest
//! names what it wrote; a manifest that cannot be written sends the batch back and the
//! retry completes it; `dmd verify --bucket` passes on a complete archive and reports a
//! deleted file, a changed byte and a stray file, through listings of more than one page.

use serde_json::Value;

use crate::moto;
use crate::proxy::{Fault, Proxy, Rule};
use crate::util::{self, dmd, json_lines};

fn verify(bucket: &str) -> (i32, Value) {
    let out = dmd(&["verify", "--bucket", bucket, "--concurrency", "8"], &[]);
    let summary: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("verify printed no JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().expect("exit code"), summary)
}

fn problems(summary: &Value) -> Vec<(String, String)> {
    let mut p: Vec<(String, String)> = summary["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| (p["kind"].as_str().expect("kind").to_owned(), p["key"].as_str().expect("key").to_owned()))
        .collect();
    p.sort();
    p
}

#[test]
fn verify_passes_on_a_complete_bucket_and_names_each_fault() {
    let rt = moto::runtime();
    let client = rt.block_on(moto::client());
    let bucket = moto::unique_bucket("verify");
    rt.block_on(moto::create_bucket(&client, &bucket));
    let events: Vec<String> = ["dynamodb-batch.json", "bad-records.json", "kinesis-batch.json"]
        .iter()
        .map(|e| util::event(e).display().to_string())
        .collect();
    let mut args = vec!["archive", "--bucket", &bucket];
    args.extend(events.iter().map(String::as_str));
    let out = dmd(&args, &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines = json_lines(&out.stdout);
    let manifests: Vec<&str> = lines.iter().map(|l| l["manifest"].as_str().expect("manifest key")).collect();
    assert_eq!(manifests.len(), 3);

    let (code, summary) = verify(&bucket);
    assert_eq!(code, 0, "{summary}");
    assert_eq!(summary["manifests"], 3);
    assert_eq!(summary["records"], 12 + 10 + 7, "{summary}");
    assert_eq!(summary["files"], summary["listed"]);

    let keys = rt.block_on(moto::keys(&client, &bucket));
    let data: Vec<&String> = keys.iter().filter(|k| k.starts_with("data/")).collect();
    let (deleted, changed) = (data[0].clone(), data[1].clone());
    rt.block_on(client.delete_object().bucket(&bucket).key(&deleted).send()).expect("delete");
    let body = rt.block_on(moto::objects(&client, &bucket))[&changed].body.clone();
    let mut bytes = body.to_vec();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    let put = |key: &str, body: Vec<u8>| {
        rt.block_on(client.put_object().bucket(&bucket).key(key).body(body.into()).send()).expect("put");
    };
    put(&changed, bytes);
    // More strays than one listing page holds.
    for i in 0..1005 {
        put(&format!("data/sale/dt=2026-11-20/stray-{i:04}.avro"), b"Obj\x01".to_vec());
    }
    let (code, summary) = verify(&bucket);
    assert_eq!(code, 1);
    let p = problems(&summary);
    assert_eq!(p.iter().filter(|(k, _)| k == "unnamed").count(), 1005);
    assert!(p.contains(&("missing_file".into(), deleted.clone())), "{p:?}");
    assert!(p.contains(&("checksum_differs".into(), changed.clone())), "{p:?}");
    assert_eq!(p.len(), 1007);
}

#[test]
fn a_manifest_that_cannot_be_written_sends_the_batch_back_and_the_retry_completes_it() {
    let rt = moto::runtime();
    let client = rt.block_on(moto::client());
    let bucket = moto::unique_bucket("manifest-fault");
    rt.block_on(moto::create_bucket(&client, &bucket));
    let proxy = Proxy::start(moto::moto_addr(), vec![Rule::always("manifests/", Fault::AccessDenied)]);
    let sink = rt.block_on(moto::sink(&bucket, &proxy.endpoint()));
    let archiver = dmd_lambda::Archiver::new(&crate::s3::config(&bucket), sink).expect("archiver");
    let payload = std::fs::read(util::event("dynamodb-batch.json")).expect("event");
    let first = rt.block_on(archiver.handle(&payload, None, "req-1")).expect("handled");
    assert_eq!(first.answer.batch_item_failures.len(), 12, "every record goes back");
    assert!(first.report.failures.iter().any(|f| f.key.starts_with("manifests/") && !f.transient));
    let keys = rt.block_on(moto::keys(&client, &bucket));
    assert!(keys.iter().all(|k| !k.starts_with("manifests/")));
    // The files are there, named by no manifest: verify says so.
    let (code, summary) = verify(&bucket);
    assert_eq!(code, 1);
    assert!(problems(&summary).iter().all(|(kind, _)| kind == "unnamed"));

    // Lambda retries the batch: the same keys, now with the manifest.
    proxy.set_rules(vec![]);
    let retry = rt.block_on(archiver.handle(&payload, None, "req-2")).expect("handled");
    assert!(retry.answer.batch_item_failures.is_empty());
    let after = rt.block_on(moto::keys(&client, &bucket));
    assert_eq!(
        after.iter().filter(|k| !k.starts_with("manifests/")).collect::<Vec<_>>(),
        keys.iter().collect::<Vec<_>>()
    );
    assert_eq!(after.iter().filter(|k| k.starts_with("manifests/")).count(), 1);
    let (code, summary) = verify(&bucket);
    assert_eq!(code, 0, "{summary}");
}
