//! A small harness for tests that drive the real `order-host` binary: start
//! `serve` on a free 127.0.0.1 port, speak HTTP with a blocking client or a
//! raw socket, send signals, and always kill the process at the end.

#![allow(dead_code)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// `target/debug/order-host`: the test executable lives in `target/debug/deps`.
pub fn binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    let debug = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test executable lives in target/<profile>/deps");
    let binary = debug.join(format!("order-host{}", std::env::consts::EXE_SUFFIX));
    assert!(
        binary.is_file(),
        "the order-host binary is not at {}: build it first (`cargo build -p order-host`)",
        binary.display()
    );
    binary
}

/// The binary in `dir`, with no `ORDER_HOST_*` variable leaking in.
pub fn order_host(dir: &Path) -> Command {
    let mut command = Command::new(binary());
    command.current_dir(dir);
    for (name, _) in std::env::vars() {
        if name.starts_with("ORDER_HOST_") {
            command.env_remove(name);
        }
    }
    command
}

/// Runs `order-host --store STORE ARGS` to its end.
pub fn cli(dir: &Path, store: &Path, args: &[&str]) -> Output {
    order_host(dir)
        .arg("--store")
        .arg(store)
        .args(args)
        .output()
        .unwrap()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The API key of the admin that the test servers accept (see
/// [`test_auth_file`]).
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

/// A running `order-host serve`; killed (and waited for) when dropped.
pub struct Server {
    pub child: Child,
    /// `127.0.0.1:PORT`
    pub address: String,
    pub log: PathBuf,
    agent: ureq::Agent,
}

/// A reply, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub retry_after: Option<String>,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }
}

impl Server {
    /// Starts `order-host --store STORE GLOBAL… serve --bind 127.0.0.1:0 SERVE…`
    /// (with `--auth` of [`test_auth_file`] unless `SERVE` names its own
    /// `--auth` or `--no-auth`) in `dir` and waits (up to 120 s: the first start may compile the
    /// component) for its address.
    pub fn start(dir: &Path, store: &Path, global: &[&str], serve: &[&str]) -> Server {
        let log = dir.join(format!("server-{}.log", unique()));
        let mut child = order_host(dir)
            .arg("--store")
            .arg(store)
            .args(global)
            .args([
                "serve",
                "--bind",
                "127.0.0.1:0",
                "--driver-interval-ms",
                "50",
            ])
            .args(serve)
            .args(
                if serve.iter().any(|a| *a == "--auth" || *a == "--no-auth") {
                    Vec::new()
                } else {
                    vec![
                        "--auth".to_owned(),
                        test_auth_file(dir).display().to_string(),
                    ]
                },
            )
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("order-host starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(address) = line.strip_prefix("listening on http://") {
                    let _ = tx.send(address.to_owned());
                }
            }
        });
        let address = match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(address) => address,
            Err(_) => {
                let _ = child.kill();
                let status = child.wait();
                panic!(
                    "order-host serve did not print its address ({status:?}); its log:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
        };
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        Server {
            child,
            address,
            log,
            agent,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn reply(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Reply {
        let mut response = response.expect("the server answers");
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Reply {
            status: response.status().as_u16(),
            retry_after,
            text: response.body_mut().read_to_string().unwrap_or_default(),
        }
    }

    pub fn get(&self, path: &str) -> Reply {
        Self::reply(
            self.agent
                .get(format!("http://{}{path}", self.address))
                .header("authorization", admin_bearer())
                .call(),
        )
    }

    pub fn post(&self, path: &str, body: &Value) -> Reply {
        Self::reply(
            self.agent
                .post(format!("http://{}{path}", self.address))
                .header("authorization", admin_bearer())
                .header("content-type", "application/json")
                .send(body.to_string()),
        )
    }

    /// A raw connection to the server.
    pub fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(&self.address).expect("connects");
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
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- server log ---\n{}", self.log());
        }
    }
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

fn unique() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// A stable id from a name.
pub fn id(name: &str) -> String {
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, name.as_bytes()).to_string()
}

/// A valid order of two lines (60.00 USD).
pub fn order(name: &str) -> Value {
    let address = json!({
        "street1": "1 Market Street",
        "city": "San Francisco",
        "state_province": "CA",
        "postal_code": "94105",
        "country": "US"
    });
    let line = |product: &str, quantity: u32, cents: u64| {
        json!({
            "item_id": id(&format!("item:{product}")),
            "product_id": id(&format!("product:{product}")),
            "sku": format!("SKU-{product}"),
            "product_name": product,
            "quantity": quantity,
            "unit_price": {"amount": cents, "currency": "USD"}
        })
    };
    json!({
        "order_id": id(&format!("order:{name}")),
        "customer_id": id("customer:store-tests"),
        "items": [line("mug", 2, 2_500), line("tea", 1, 1_000)],
        "shipping_address": address,
        "billing_address": address,
        "payment_method": "credit-card"
    })
}
