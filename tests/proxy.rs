//! A fault-injecting HTTP proxy in front of moto, on 127.0.0.1. For requests whose
//! (decoded) path contains a chosen text, it answers 500 InternalError, 503 SlowDown or
//! 403 AccessDenied, resets the connection, or stalls past the client's timeout, for
//! every attempt or only the first N; other requests go to moto unchanged. It records
//! every request it saw, so the tests can count attempts.
//!
//! One request per connection: each answer carries `Connection: close`.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy does to a matching request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// `500 Internal Server Error`, code `InternalError`.
    InternalError,
    /// `503 Slow Down`, code `SlowDown` (S3's throttling answer).
    SlowDown,
    /// The request is read, then the connection is reset (TCP RST), no response.
    Reset,
    /// The request is read, then nothing happens for this long; then the connection is
    /// closed without a response.
    Stall(Duration),
    /// `403 Forbidden`, code `AccessDenied`.
    AccessDenied,
    /// `400 Bad Request` in the JSON protocol of DynamoDB Streams and Kinesis, with this
    /// error code (`ProvisionedThroughputExceededException`, `LimitExceededException`).
    Throttle(&'static str),
}

/// A fault for requests whose path (or `X-Amz-Target`, for the JSON protocols) contains
/// `path_contains`: after the first `skip` matching requests, for the next `times`
/// (`None`: all of them).
#[derive(Debug, Clone)]
pub struct Rule {
    pub method: &'static str,
    pub path_contains: String,
    pub fault: Fault,
    pub skip: usize,
    pub times: Option<usize>,
}

impl Rule {
    /// `fault` on every PUT of a key containing `key_part`.
    pub fn always(key_part: &str, fault: Fault) -> Rule {
        Rule { method: "PUT", path_contains: key_part.to_owned(), fault, skip: 0, times: None }
    }

    /// `fault` on the first `n` PUTs of a key containing `key_part`.
    pub fn first(n: usize, key_part: &str, fault: Fault) -> Rule {
        Rule { method: "PUT", path_contains: key_part.to_owned(), fault, skip: 0, times: Some(n) }
    }

    /// `code` on `times` calls of the JSON operation `target` (`Kinesis_20131202.GetRecords`),
    /// after the first `skip` of them.
    pub fn throttle(target: &str, code: &'static str, skip: usize, times: usize) -> Rule {
        Rule {
            method: "POST",
            path_contains: target.to_owned(),
            fault: Fault::Throttle(code),
            skip,
            times: Some(times),
        }
    }
}

/// A request the proxy saw, and the fault it got (`None`: passed to moto).
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub fault: Option<Fault>,
}

#[derive(Default)]
struct State {
    rules: Vec<(Rule, usize)>,
    seen: Vec<Seen>,
}

/// A running proxy; stops when dropped.
pub struct Proxy {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Proxy {
    /// Starts a proxy to `upstream` on its own thread.
    pub fn start(upstream: SocketAddr, rules: Vec<Rule>) -> Proxy {
        let state = Arc::new(Mutex::new(State { rules: rules.into_iter().map(|r| (r, 0)).collect(), seen: vec![] }));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("proxy addr");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let st = state.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("proxy runtime");
            rt.block_on(async move {
                let listener = TcpListener::from_std(listener).expect("proxy listener");
                let serve = async {
                    loop {
                        let Ok((conn, _)) = listener.accept().await else { continue };
                        let st = st.clone();
                        tokio::spawn(async move {
                            let _ = handle(conn, upstream, st).await;
                        });
                    }
                };
                tokio::select! {
                    _ = serve => {}
                    _ = stopped => {}
                }
            });
        });
        Proxy { addr, state, stop: Some(stop), thread: Some(thread) }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Replaces the rules (and their counts).
    pub fn set_rules(&self, rules: Vec<Rule>) {
        self.lock().rules = rules.into_iter().map(|r| (r, 0)).collect();
    }

    /// Every request seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.lock().seen.clone()
    }

    /// How many PUTs of a key containing `key_part` arrived.
    pub fn puts(&self, key_part: &str) -> usize {
        self.lock().seen.iter().filter(|s| s.method == "PUT" && s.path.contains(key_part)).count()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A request: its head as received, the parts the rules look at, and its body.
struct Request {
    head: Vec<u8>,
    method: String,
    path: String,
    /// `X-Amz-Target`, for the JSON protocols.
    target: String,
    body: Vec<u8>,
}

async fn read_request(conn: &mut TcpStream) -> std::io::Result<Option<Request>> {
    let mut buf = Vec::with_capacity(8192);
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i + 4;
        }
        let mut chunk = [0u8; 8192];
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = buf[..head_end].to_vec();
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let method = first.next().unwrap_or_default().to_owned();
    let target = first.next().unwrap_or_default();
    let path = percent_decode(target.split('?').next().unwrap_or_default());
    let mut length = 0usize;
    let mut target = String::new();
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
            if name == "content-length" {
                length = value.parse().unwrap_or(0);
            }
            if name == "x-amz-target" {
                value.clone_into(&mut target);
            }
            if name == "transfer-encoding" {
                panic!("the proxy does not handle Transfer-Encoding ({value}); the S3 client sent it for {path}");
            }
        }
    }
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        let mut chunk = vec![0u8; (length - body.len()).min(64 * 1024)];
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok(Some(Request { head, method, path, target, body }))
}

async fn handle(mut conn: TcpStream, upstream: SocketAddr, state: Arc<Mutex<State>>) -> std::io::Result<()> {
    let Some(req) = read_request(&mut conn).await? else { return Ok(()) };
    let fault = {
        let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
        let mut fault = None;
        for (rule, count) in st.rules.iter_mut() {
            let matches = req.path.contains(&rule.path_contains) || req.target.contains(&rule.path_contains);
            if rule.method == req.method && matches {
                *count += 1;
                let n = *count;
                if n > rule.skip && rule.times.is_none_or(|t| n - rule.skip <= t) {
                    fault = Some(rule.fault);
                    break;
                }
            }
        }
        st.seen.push(Seen { method: req.method.clone(), path: req.path.clone(), fault });
        fault
    };
    match fault {
        None => forward(conn, upstream, &req).await,
        Some(Fault::InternalError) => {
            error_response(conn, "500 Internal Server Error", "InternalError", "We encountered an internal error.")
                .await
        }
        Some(Fault::SlowDown) => {
            error_response(conn, "503 Slow Down", "SlowDown", "Please reduce your request rate.").await
        }
        Some(Fault::AccessDenied) => error_response(conn, "403 Forbidden", "AccessDenied", "Access Denied").await,
        Some(Fault::Throttle(code)) => json_error(conn, code).await,
        Some(Fault::Reset) => {
            conn.set_zero_linger()?;
            drop(conn);
            Ok(())
        }
        Some(Fault::Stall(d)) => {
            tokio::time::sleep(d).await;
            Ok(())
        }
    }
}

async fn error_response(mut conn: TcpStream, status: &str, code: &str, message: &str) -> std::io::Result<()> {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><RequestId>PROXY0001</RequestId></Error>"
    );
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nx-amz-request-id: PROXY0001\r\nConnection: close\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).await?;
    conn.write_all(body.as_bytes()).await?;
    conn.shutdown().await
}

/// A `400` of the JSON protocols (DynamoDB Streams, Kinesis) with the error `code`.
async fn json_error(mut conn: TcpStream, code: &str) -> std::io::Result<()> {
    let body = format!("{{\"__type\":\"{code}\",\"message\":\"Rate exceeded for shard\"}}");
    let head = format!(
        "HTTP/1.1 400 Bad Request\r\nContent-Type: application/x-amz-json-1.1\r\nx-amzn-ErrorType: {code}\r\nx-amzn-RequestId: PROXY0001\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).await?;
    conn.write_all(body.as_bytes()).await?;
    conn.shutdown().await
}

/// Sends the request to moto with `Connection: close`, and its whole answer back.
async fn forward(mut conn: TcpStream, upstream: SocketAddr, req: &Request) -> std::io::Result<()> {
    let mut up = TcpStream::connect(upstream).await?;
    up.write_all(&close_connection(&req.head)).await?;
    up.write_all(&req.body).await?;
    let mut answer = Vec::new();
    up.read_to_end(&mut answer).await?;
    let head_end = find(&answer, b"\r\n\r\n").map_or(answer.len(), |i| i + 4);
    conn.write_all(&close_connection(&answer[..head_end])).await?;
    conn.write_all(&answer[head_end..]).await?;
    conn.shutdown().await
}

/// The head with its `Connection`/`Keep-Alive` headers replaced by `Connection: close`.
fn close_connection(head: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(head);
    let mut out = String::with_capacity(text.len() + 20);
    for line in text.trim_end_matches("\r\n").split("\r\n") {
        let name = line.split(':').next().unwrap_or_default().trim().to_ascii_lowercase();
        if name == "connection" || name == "keep-alive" {
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("Connection: close\r\n\r\n");
    out.into_bytes()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
