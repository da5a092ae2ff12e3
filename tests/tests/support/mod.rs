//! The one harness for tests that drive the real `order-host` binary: find
//! the built binary, run a command to its end, start `serve` or `simulate` on
//! a free 127.0.0.1 port and wait for its address, speak HTTP to it through
//! one request function (or a raw socket), send signals, and always kill the
//! process at the end; plus the request bodies those tests send.

#![allow(dead_code)]

use std::ffi::{OsStr, OsString};
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

// --- the binary -------------------------------------------------------------

/// `target/<profile>/order-host`, beside this test's `deps` directory (as
/// ripgrep's tests find theirs).
pub fn binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    let mut dir = exe
        .parent()
        .expect("the test executable's directory")
        .to_path_buf();
    if dir.ends_with("deps") {
        dir.pop();
    }
    let binary = dir.join(format!("order-host{}", std::env::consts::EXE_SUFFIX));
    assert!(
        binary.is_file(),
        "the order-host binary is not at {}: build it first with `make build` (or `cargo build -p order-host`)",
        binary.display()
    );
    warn_if_stale(&dir, &binary);
    binary
}

/// The host library rebuilt after the binary was linked means the binary is
/// stale (cargo builds the library, then links the binary): say so.
fn warn_if_stale(dir: &Path, binary: &Path) {
    let modified = |path: &Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let library = std::fs::read_dir(dir.join("deps"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.starts_with("liborder_host-") && name.ends_with(".rlib"))
        })
        .filter_map(|path| modified(&path))
        .max();
    if let (Some(built), Some(library)) = (modified(binary), library)
        && built < library
    {
        eprintln!(
            "note: {} is older than the host library; if the host changed, run `cargo build -p order-host`",
            binary.display()
        );
    }
}

/// The binary in `dir`, with no `ORDER_HOST_*` variable of the developer's
/// environment leaking in.
pub fn order_host(dir: &Path) -> Command {
    let mut command = Command::new(binary());
    command.current_dir(dir);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("ORDER_HOST_") {
            command.env_remove(name);
        }
    }
    command
}

/// Runs `order-host --store STORE ARGS` in `dir` to its end.
pub fn cli(dir: &Path, store: &Path, args: &[&str]) -> Output {
    order_host(dir)
        .arg("--store")
        .arg(store)
        .args(args)
        .output()
        .expect("order-host runs")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts that `output` ended with exit `code` and that its stderr says
/// `words`.
pub fn assert_fails_saying(output: &Output, code: i32, words: &str) {
    let said = stderr(output);
    assert_eq!(output.status.code(), Some(code), "{said}");
    assert!(said.contains(words), "{said}");
}

// --- a running server -------------------------------------------------------

/// The API key of the admin that the test servers accept (see
/// [`test_auth_file`]); every request of [`request`] sends it unless the
/// test gives its own `authorization` header.
pub const ADMIN_KEY: &str = "ohk_test_admin_0000000000000000000000000000000000000000000000000000";

/// The `Authorization` header value of [`ADMIN_KEY`].
pub fn admin_bearer() -> String {
    format!("Bearer {ADMIN_KEY}")
}

/// Writes a credentials file with [`ADMIN_KEY`] (hashed, as a server keeps
/// it) into `dir` and returns its path, for `serve --auth`.
pub fn test_auth_file(dir: &Path) -> PathBuf {
    use sha2::Digest as _;
    let hash = hex::encode(sha2::Sha256::digest(ADMIN_KEY.as_bytes()));
    let path = dir.join("test-auth.toml");
    std::fs::write(
        &path,
        format!("[[api-keys]]\nname = \"tests\"\nrole = \"admin\"\nhash = \"sha256:{hash}\"\n"),
    )
    .unwrap();
    path
}

/// How to start a process that serves HTTP: `order-host GLOBAL… COMMAND…`.
#[derive(Clone)]
pub struct Launch {
    /// Names its log file (`NAME-<nanos>.log` in the directory).
    name: String,
    /// Passed before the subcommand (global flags).
    global: Vec<OsString>,
    /// The subcommand and its flags.
    command: Vec<OsString>,
    env: Vec<(String, String)>,
}

impl Launch {
    /// `order-host --store STORE serve --bind 127.0.0.1:0
    /// --driver-interval-ms 50`: a server on a free port with a fast driver.
    pub fn serve(store: impl AsRef<OsStr>) -> Self {
        Launch::serve_from_settings()
            .global(&[OsStr::new("--store"), store.as_ref()])
            .args(&["--bind", "127.0.0.1:0"])
    }

    /// `order-host serve --driver-interval-ms 50`: a server whose store,
    /// address and secret come from its settings file and environment alone.
    pub fn serve_from_settings() -> Self {
        Launch::command("server", &["serve", "--driver-interval-ms", "50"])
    }

    /// `order-host simulate --bind 127.0.0.1:0`: the simulated backends over
    /// the HTTP backend contract.
    pub fn simulate() -> Self {
        Launch::command("simulate", &["simulate", "--bind", "127.0.0.1:0"])
    }

    /// The process `name` running `command` (the subcommand and its flags).
    fn command(name: &str, command: &[&str]) -> Self {
        Launch {
            name: name.into(),
            global: Vec::new(),
            command: command.iter().map(OsString::from).collect(),
            env: Vec::new(),
        }
    }

    /// Names the process (and its log file).
    pub fn named(mut self, name: &str) -> Self {
        name.clone_into(&mut self.name);
        self
    }

    /// Adds global flags (before the subcommand).
    pub fn global<S: AsRef<OsStr>>(mut self, args: &[S]) -> Self {
        self.global
            .extend(args.iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Adds flags of the subcommand.
    pub fn args<S: AsRef<OsStr>>(mut self, args: &[S]) -> Self {
        self.command
            .extend(args.iter().map(|a| a.as_ref().to_owned()));
        self
    }

    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.retain(|(n, _)| n != name);
        self.env.push((name.into(), value.into()));
        self
    }

    pub fn without_env(mut self, name: &str) -> Self {
        self.env.retain(|(n, _)| n != name);
        self
    }
}

/// A running `order-host` that printed `listening on http://ADDR`; killed
/// (and waited for) when dropped.
pub struct Server {
    pub child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub log: PathBuf,
    agent: ureq::Agent,
}

impl Server {
    /// Starts `launch` in `dir` and waits (up to 120 s: the first start may
    /// compile the component, which is cached after) for its address.
    pub fn start(dir: &Path, launch: &Launch) -> Server {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let log = dir.join(format!("{}-{nanos}.log", launch.name));
        // A server accepts the tests' admin key unless the test says how it
        // authenticates (its own --auth, --no-auth or ORDER_HOST_AUTH).
        let names_auth = launch
            .command
            .iter()
            .any(|a| a == "--auth" || a == "--no-auth")
            || launch.env.iter().any(|(name, _)| name == "ORDER_HOST_AUTH");
        let auth: Vec<OsString> =
            if launch.command.first().is_some_and(|c| c == "serve") && !names_auth {
                vec!["--auth".into(), test_auth_file(dir).into_os_string()]
            } else {
                Vec::new()
            };
        let mut child = order_host(dir)
            .args(&launch.global)
            .args(&launch.command)
            .args(&auth)
            .envs(launch.env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("order-host starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(address) = line.strip_prefix("listening on ") {
                    let _ = tx.send(address.to_owned());
                }
            }
        });
        let base = match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(base) => base,
            Err(_) => {
                let _ = child.kill();
                let status = child.wait();
                panic!(
                    "{} did not print its address ({status:?}); its log:\n{}",
                    launch.name,
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
        };
        Server {
            child,
            base,
            log,
            agent: agent(Duration::from_secs(60)),
        }
    }

    /// `127.0.0.1:PORT`
    pub fn address(&self) -> &str {
        self.base.strip_prefix("http://").unwrap_or(&self.base)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends `method path` with an optional JSON body; the server must answer.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let url = format!("{}{path}", self.base);
        request(&self.agent, method, &url, body, headers)
            .unwrap_or_else(|e| panic!("{method} {url}: {e}"))
    }

    pub fn get(&self, path: &str) -> Reply {
        self.request("GET", path, None, &[])
    }

    pub fn post(&self, path: &str, body: &Value) -> Reply {
        self.request("POST", path, Some(&body.to_string()), &[])
    }

    /// A raw connection to the server.
    pub fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(self.address()).expect("connects");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        stream
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Sends SIGTERM and asserts a clean exit within 20 s.
    pub fn stop(mut self) {
        self.terminate();
        let (exit, _) = self
            .wait_exit(Duration::from_secs(20))
            .expect("the server stops on SIGTERM");
        assert!(exit.success(), "{exit:?}");
    }

    /// Waits up to `limit` for the process to exit; `None` if it did not.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<(ExitStatus, Duration)> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some((status, started.elapsed()));
            }
            if started.elapsed() > limit {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the process (SIGKILL: as abrupt as a crash) and waits for it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            let log = self.log();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!(
                "--- last lines of {} ---\n{}",
                self.log.display(),
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
    }
}

// --- HTTP -------------------------------------------------------------------

/// A blocking client that reports every status as an answer.
pub fn agent(timeout: Duration) -> ureq::Agent {
    agent_following(timeout, true)
}

/// [`agent`], that follows redirects or (`follow` false) answers them.
pub fn agent_following(timeout: Duration, follow: bool) -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout));
    let config = if follow {
        config
    } else {
        config.max_redirects(0)
    };
    config.build().into()
}

/// Sends `method url` with `headers` and, when given, a body with its
/// content type: the answer as it came, to read what the caller needs.
pub fn exchange(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    body: Option<(&str, String)>,
    headers: &[(&str, String)],
) -> Result<ureq::http::Response<ureq::Body>, String> {
    let mut builder = ureq::http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        builder = builder.header(*name, value);
    }
    let response = match body {
        Some((content_type, body)) => agent.run(
            builder
                .header("content-type", content_type)
                .body(body)
                .map_err(|e| e.to_string())?,
        ),
        None => agent.run(builder.body(()).map_err(|e| e.to_string())?),
    };
    response.map_err(|e| e.to_string())
}

/// An answer, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub location: Option<String>,
    pub retry_after: Option<String>,
    /// The `Link` header (the next page of a list).
    pub link: Option<String>,
    pub text: String,
    /// The body as JSON (`Null` when it is not JSON).
    pub json: Value,
}

impl Reply {
    /// Asserts a problem+json with `status` naming `field`.
    pub fn assert_problem(&self, status: u16, field: Option<&str>, context: &str) {
        assert_eq!(self.status, status, "{context}: {}", self.text);
        assert_eq!(
            self.content_type, "application/problem+json",
            "{context}: {}",
            self.text
        );
        assert_eq!(self.json["status"], status, "{context}: {}", self.text);
        assert!(
            self.json["type"]
                .as_str()
                .is_some_and(|t| t.starts_with("urn:order-host:problem:")),
            "{context}: {}",
            self.text
        );
        assert!(self.json["title"].is_string(), "{context}: {}", self.text);
        assert!(self.json["detail"].is_string(), "{context}: {}", self.text);
        if let Some(field) = field {
            assert_eq!(self.json["field"], field, "{context}: {}", self.text);
        }
    }
}

/// Every request of these tests goes through here: `method url` with an
/// optional JSON body and extra headers. An error when the server could not
/// be reached or its answer could not be read whole (it may have been killed
/// mid-request).
pub fn request(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    body: Option<&str>,
    headers: &[(&str, &str)],
) -> Result<Reply, String> {
    let mut all: Vec<(&str, String)> = Vec::with_capacity(headers.len() + 1);
    if !headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("authorization"))
    {
        all.push(("authorization", admin_bearer()));
    }
    all.extend(
        headers
            .iter()
            .map(|(name, value)| (*name, (*value).to_owned())),
    );
    let body = body.map(|body| ("application/json", body.to_owned()));
    let mut response = exchange(agent, method, url, body, &all)?;
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let content_type = header("content-type").unwrap_or_default();
    let location = header("location");
    let retry_after = header("retry-after");
    let link = header("link");
    let status = response.status().as_u16();
    let text = response
        .body_mut()
        .read_to_string()
        .map_err(|e| format!("reading the answer: {e}"))?;
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Ok(Reply {
        status,
        content_type,
        location,
        retry_after,
        link,
        text,
        json,
    })
}

/// Everything `stream` sends until it closes or goes quiet for its read
/// time-out.
pub fn read_all(stream: &mut TcpStream) -> String {
    let mut bytes = Vec::new();
    let _ = stream.read_to_end(&mut bytes);
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Writes `text` to `stream`.
pub fn send(stream: &mut TcpStream, text: &str) {
    stream.write_all(text.as_bytes()).unwrap();
    stream.flush().unwrap();
}

// --- concurrency --------------------------------------------------------------

/// What `n` threads answer that each run `f` with their index, released
/// together by a barrier so that their requests race.
pub fn at_once<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let barrier = std::sync::Barrier::new(n);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let (barrier, f) = (&barrier, &f);
                scope.spawn(move || {
                    barrier.wait();
                    f(i)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

// --- data -------------------------------------------------------------------

/// A stable id from a name.
pub fn id(name: &str) -> String {
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, name.as_bytes()).to_string()
}

pub fn address() -> Value {
    json!({
        "street1": "1 Market Street",
        "city": "San Francisco",
        "state_province": "CA",
        "postal_code": "94105",
        "country": "US"
    })
}

/// A line of `quantity` x `cents` of `product`; `item` names its item id.
pub fn line(item: &str, product: &str, quantity: u32, cents: u64) -> Value {
    json!({
        "item_id": id(&format!("item:{item}")),
        "product_id": id(&format!("product:{product}")),
        "sku": format!("SKU-{product}"),
        "product_name": product,
        "quantity": quantity,
        "unit_price": {"amount": cents, "currency": "USD"}
    })
}

/// A valid order of `customer` of two lines of shared products (so that
/// stock is contended): 2 mugs at 25.00 + 1 tea at 10.00 = 60.00 USD.
pub fn order(name: &str, customer: &str) -> Value {
    json!({
        "order_id": id(&format!("order:{name}")),
        "customer_id": id(&format!("customer:{customer}")),
        "items": [
            line(&format!("{name}:mug"), "mug", 2, 2_500),
            line(&format!("{name}:tea"), "tea", 1, 1_000)
        ],
        "shipping_address": address(),
        "billing_address": address(),
        "payment_method": "credit-card"
    })
}
