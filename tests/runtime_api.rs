//! A loopback stand-in for the Lambda runtime API: it starts a function binary (the
//! debug `archiver`, or the `bootstrap` that `sam build` makes) as Lambda would, hands it
//! the given payloads one invocation after another, and collects what it answers and
//! everything it prints. Nothing about the function is assumed but the runtime API.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long one invocation may take, start included, before the test fails.
const INVOCATION_LIMIT: Duration = Duration::from_secs(60);

/// What the function posted for an invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerKind {
    /// `POST /runtime/invocation/<id>/response`: the handler returned.
    Response,
    /// `POST /runtime/invocation/<id>/error`: the invocation failed.
    Error,
}

/// One invocation's answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub kind: AnswerKind,
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("answer is not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// The body of a successful invocation, as JSON; any other answer fails the test.
    pub fn response(&self) -> Value {
        assert_eq!(self.kind, AnswerKind::Response, "the invocation failed: {}", String::from_utf8_lossy(&self.body));
        self.json()
    }
}

/// The answers, in the order of the payloads, and the function's output (stdout, then
/// stderr).
#[derive(Debug)]
pub struct Served {
    pub answers: Vec<Answer>,
    pub logs: String,
}

/// A function binary to serve: its path, its name, and the environment Lambda would
/// give it on top of the test's own (without the test's log settings).
pub struct Function {
    binary: PathBuf,
    name: String,
    env: Vec<(String, String)>,
}

impl Function {
    pub fn new(binary: &Path, name: &str) -> Function {
        assert!(binary.is_file(), "{} is missing", binary.display());
        Function { binary: binary.to_path_buf(), name: name.to_owned(), env: Vec::new() }
    }

    /// Sets one variable of the function's environment.
    pub fn env(mut self, key: &str, value: &str) -> Function {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Sets several variables of the function's environment.
    pub fn envs(mut self, vars: &[(&str, &str)]) -> Function {
        self.env.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        self
    }

    /// Starts the function, gives it each payload in turn as the next invocation (one
    /// process, as a warm Lambda instance) and returns its answers and its output once
    /// it has answered the last one. A function that exits or stays silent fails the test
    /// with its output.
    pub fn serve(&self, payloads: &[Vec<u8>]) -> Served {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("address");
        let (tx, rx) = mpsc::channel();
        let server = Server::start(listener, &self.name, payloads, tx);
        let mut child = Command::new(&self.binary)
            .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", &self.name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "test")
            .env_remove("RUST_LOG")
            .env_remove("AWS_LAMBDA_LOG_LEVEL")
            .env_remove("AWS_LAMBDA_LOG_FORMAT")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", self.binary.display()));
        // Drained while it runs: at trace level it prints more than a pipe holds.
        let stdout = drain(child.stdout.take().map(|r| Box::new(r) as Box<dyn Read + Send>));
        let stderr = drain(child.stderr.take().map(|r| Box::new(r) as Box<dyn Read + Send>));
        let mut answers: Vec<(usize, Answer)> = Vec::new();
        let mut failure = None;
        let mut started = Instant::now();
        while answers.len() < payloads.len() {
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(Ok(answer)) => {
                    answers.push(answer);
                    started = Instant::now();
                }
                Ok(Err(unexpected)) => {
                    failure = Some(unexpected);
                    break;
                }
                Err(_) if started.elapsed() > INVOCATION_LIMIT => {
                    failure =
                        Some(format!("no answer to invocation {} within {INVOCATION_LIMIT:?}", answers.len() + 1));
                    break;
                }
                Err(_) => {
                    if let Some(status) = child.try_wait().expect("wait") {
                        // An answer may still be on its way.
                        answers.extend(rx.try_iter().flatten());
                        if answers.len() < payloads.len() {
                            failure = Some(format!("the function exited ({status}) after {} answers", answers.len()));
                        }
                        break;
                    }
                }
            }
        }
        // Let the function write its summary, then end it.
        std::thread::sleep(Duration::from_millis(300));
        stop(&mut child);
        drop(server);
        let text = |h: JoinHandle<Vec<u8>>| String::from_utf8_lossy(&h.join().expect("reader")).into_owned();
        let logs = format!("{}{}", text(stdout), text(stderr));
        if let Some(failure) = failure {
            panic!("{}: {failure}; its output: {logs}", self.binary.display());
        }
        answers.sort_by_key(|(n, _)| *n);
        Served { answers: answers.into_iter().map(|(_, a)| a).collect(), logs }
    }
}

fn drain(r: Option<Box<dyn Read + Send>>) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut text = Vec::new();
        if let Some(mut r) = r {
            let _ = r.read_to_end(&mut text);
        }
        text
    })
}

fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// The runtime API on a loopback port: each `GET /runtime/invocation/next` takes the next
/// payload (request id `req-<n>`); once they are all taken, a poll is held open until
/// the server is dropped. Answers go to `answers` as (index of the payload, answer); any
/// other request (an init error, say) goes there as an error that describes it.
struct Server {
    stop: Arc<AtomicBool>,
}

type Queue = Arc<Mutex<VecDeque<(usize, Vec<u8>)>>>;
type Reply = mpsc::Sender<Result<(usize, Answer), String>>;

impl Server {
    fn start(listener: TcpListener, name: &str, payloads: &[Vec<u8>], answers: Reply) -> Server {
        let stop = Arc::new(AtomicBool::new(false));
        let queue: Queue = Arc::new(Mutex::new(payloads.iter().cloned().enumerate().collect()));
        let arn = format!("arn:aws:lambda:eu-west-1:123456789012:function:{name}");
        let stopping = stop.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                if stopping.load(Ordering::Relaxed) {
                    return;
                }
                let (queue, answers, stopping, arn) = (queue.clone(), answers.clone(), stopping.clone(), arn.clone());
                std::thread::spawn(move || connection(stream, &queue, &answers, &stopping, &arn));
            }
        });
        Server { stop }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Serves one keep-alive connection of the function.
fn connection(stream: TcpStream, queue: &Queue, answers: &Reply, stop: &AtomicBool, arn: &str) {
    let mut writer = stream.try_clone().expect("clone stream");
    let mut reader = BufReader::new(stream);
    while let Some((line, body)) = read_request(&mut reader) {
        if line.contains("/runtime/invocation/next") {
            let next = queue.lock().expect("queue").pop_front();
            let Some((n, payload)) = next else {
                // Nothing more to give: hold the poll until the test ends the function.
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(50));
                }
                return;
            };
            let deadline =
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_millis() + 30_000;
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                 lambda-runtime-aws-request-id: req-{}\r\nlambda-runtime-deadline-ms: {deadline}\r\n\
                 lambda-runtime-invoked-function-arn: {arn}\r\n\r\n",
                payload.len(),
                n + 1
            );
            let _ = writer.write_all(head.as_bytes());
            let _ = writer.write_all(&payload);
        } else {
            let _ = writer.write_all(b"HTTP/1.1 202 Accepted\r\ncontent-length: 2\r\n\r\n{}");
            let _ = answers.send(classify(&line, body));
        }
    }
}

/// The payload index and the kind of an answer, from its request line
/// (`POST /2018-06-01/runtime/invocation/req-<n>/response HTTP/1.1`); any other request
/// is described as an error.
fn classify(line: &str, body: Vec<u8>) -> Result<(usize, Answer), String> {
    let unexpected = || format!("unexpected request {line}: {}", String::from_utf8_lossy(&body));
    let path = line.split_whitespace().nth(1).unwrap_or_default();
    let Some((n, kind)) = path.split("/runtime/invocation/req-").nth(1).and_then(|rest| rest.split_once('/')) else {
        return Err(unexpected());
    };
    let kind = match kind {
        "response" => AnswerKind::Response,
        "error" => AnswerKind::Error,
        _ => return Err(unexpected()),
    };
    match n.parse::<usize>() {
        Ok(n) if n > 0 => Ok((n - 1, Answer { kind, body })),
        _ => Err(unexpected()),
    }
}

/// Reads one HTTP/1.1 request: its request line and its body.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<(String, Vec<u8>)> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok()?;
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((line.trim_end().to_owned(), body))
}
