//! The store never lies, on the real `order-host` binary: a store whose
//! directory is deleted under a running `serve` answers 503 with
//! `Retry-After` and acknowledges nothing more (`/readyz` says why); a
//! corrupt, foreign or 0-byte store file is refused with exit code 4 (and
//! `saga resume` never reports an all-clear on it); a read command on a
//! missing store is an error that creates nothing; a second process on a
//! store in use fails at once (exit code 5) naming the holder's pid.

mod support;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use order_host::store::{AppendBatch, EventStore as _, NewEvent, StreamAppend, TimerChange};
use order_host::{ManualClock, SqliteStore};
use support::{Launch, Server, assert_fails_saying, cli, id, order, stderr};

#[test]
fn deleting_the_store_directory_under_a_running_server_stops_every_acknowledgement() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let store = data.join("orders.db");
    let server = Server::start(dir.path(), &Launch::serve(&store));
    for i in 0..3 {
        let placed = server.post("/orders", &order(&format!("before-{i}"), "store-tests"));
        assert_eq!(placed.status, 201, "{}", placed.text);
    }
    assert_eq!(server.get("/readyz").status, 200);

    std::fs::remove_dir_all(&data).unwrap();

    let placed = server.post("/orders", &order("after-0", "store-tests"));
    assert_eq!(placed.status, 503, "{}", placed.text);
    assert!(placed.retry_after.is_some(), "503 carries Retry-After");
    for i in 1..5 {
        let placed = server.post("/orders", &order(&format!("after-{i}"), "store-tests"));
        assert_eq!(
            placed.status, 503,
            "nothing acknowledged after the delete: {placed:?}"
        );
    }
    let ready = server.get("/readyz");
    assert_eq!(ready.status, 503);
    assert!(ready.retry_after.is_some());
    let detail = ready.json["detail"].as_str().unwrap_or_default().to_owned();
    assert!(
        detail.contains("deleted") && detail.contains("orders.db"),
        "/readyz says why: {detail}"
    );
    // Reads do not pretend either.
    assert_eq!(server.get("/healthz").status, 503);
    let id = order("before-0", "store-tests")["order_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(server.get(&format!("/orders/{id}")).status, 503);
    assert!(server.log().contains("was deleted or moved"));
}

/// A store holding a few hundred events and scheduled sagas, closed.
fn filled_store(path: &Path) {
    let store = SqliteStore::open(path, Arc::new(ManualClock::new(1_000))).unwrap();
    for i in 0..300 {
        let stream = format!("order-{i:04}");
        store
            .append(&AppendBatch {
                streams: vec![StreamAppend {
                    stream_id: stream.clone(),
                    expected_version: 0,
                    tags: vec![format!("customer-{}", i % 7)],
                    events: vec![NewEvent {
                        event_type: "order-placed".to_owned(),
                        payload: format!("{{\"filler\":\"{}\"}}", "x".repeat(200)),
                    }],
                    state: None,
                }],
                timers: vec![TimerChange {
                    saga_id: stream,
                    due_at: Some(2_000),
                }],
            })
            .unwrap();
    }
    // Closing the last connection checkpoints the WAL into the file.
}

fn overwrite(path: &Path, offset: u64, bytes: &[u8]) {
    use std::io::{Seek as _, Write as _};
    let mut file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    file.seek(std::io::SeekFrom::Start(offset)).unwrap();
    file.write_all(bytes).unwrap();
}

#[test]
fn a_store_with_a_zeroed_page_is_refused_with_exit_code_4_and_no_all_clear() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("orders.db");
    filled_store(&store);
    assert!(!dir.path().join("orders.db-wal").exists(), "checkpointed");
    overwrite(&store, 4096, &[0; 4096]);
    let before = std::fs::read(&store).unwrap();

    let resume = cli(dir.path(), &store, &["saga", "resume", "--wait", "1"]);
    assert_eq!(resume.status.code(), Some(4), "{}", stderr(&resume));
    let said = String::from_utf8_lossy(&resume.stdout);
    assert!(!said.contains("scheduled"), "no all-clear: {said}");
    assert!(stderr(&resume).contains("corrupt"), "{}", stderr(&resume));

    for args in [
        &["serve", "--bind", "127.0.0.1:0"][..],
        &["init"],
        &["load", "--orders", "1"],
    ] {
        let output = cli(dir.path(), &store, args);
        assert_exit(&output, 4, args);
    }
    assert_eq!(
        std::fs::read(&store).unwrap(),
        before,
        "the file is left as found"
    );
}

#[test]
fn garbage_in_the_store_file_is_refused_with_exit_code_4() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("orders.db");
    filled_store(&store);
    let garbage: Vec<u8> = (0..4096_u32)
        .map(|i| (i.wrapping_mul(31) ^ 0x5a) as u8)
        .collect();
    overwrite(&store, 3 * 4096, &garbage);
    overwrite(&store, 7 * 4096, &garbage);
    let output = cli(dir.path(), &store, &["order", "get", &id("order:x")]);
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));

    // A file that is not SQLite at all.
    std::fs::write(&store, "order_id,amount\n1,100\n").unwrap();
    let output = cli(dir.path(), &store, &["serve", "--bind", "127.0.0.1:0"]);
    assert_fails_saying(&output, 4, "not a SQLite database");
}

#[test]
fn a_zero_byte_store_file_is_refused_not_taken_for_a_new_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("orders.db");
    std::fs::write(&store, b"").unwrap();
    for args in [
        &["serve", "--bind", "127.0.0.1:0"][..],
        &["init"],
        &["saga", "resume"],
    ] {
        let output = cli(dir.path(), &store, args);
        assert_fails_saying(&output, 4, "0 bytes");
    }
    assert_eq!(std::fs::metadata(&store).unwrap().len(), 0, "still empty");
}

#[test]
fn a_read_command_on_a_missing_store_is_an_error_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("typo").join("orders.db");
    for args in [
        &["order", "get", &id("order:x")][..],
        &["saga", "resume", "--wait", "1"],
        &["customer", "orders", &id("customer:x")],
        &["metrics", "daily", "2026-12-01"],
    ] {
        let output = cli(dir.path(), &store, args);
        let said = assert_exit(&output, 1, args);
        assert!(
            said.contains("typo/orders.db") && said.contains("does not exist"),
            "{args:?}: {said}"
        );
        assert!(
            !dir.path().join("typo").exists(),
            "{args:?} created nothing"
        );
    }
    // An explicit init creates it; then the read works.
    let init = cli(dir.path(), &store, &["init"]);
    assert_eq!(init.status.code(), Some(0), "{}", stderr(&init));
    assert!(store.is_file());
    let output = cli(dir.path(), &store, &["saga", "resume", "--wait", "1"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

#[test]
fn a_second_process_on_a_store_in_use_fails_at_once_naming_the_holder() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("orders.db");
    let server = Server::start(dir.path(), &Launch::serve(&store));
    assert_eq!(
        server
            .post("/orders", &order("owned", "store-tests"))
            .status,
        201
    );
    let holder = format!("pid {}", server.pid());
    for args in [
        &["load", "--orders", "5"][..],
        &["serve", "--bind", "127.0.0.1:0"],
        &["order", "get", &id("order:owned")],
        // Emptying it first would pull the file from under the server.
        &["demo", "--fresh"],
    ] {
        let started = Instant::now();
        let output = cli(dir.path(), &store, args);
        let took = started.elapsed();
        let said = assert_exit(&output, 5, args);
        assert!(said.contains(&holder), "{args:?}: {said}");
        assert!(
            took < Duration::from_secs(10),
            "{args:?} failed at once, not after {took:?}"
        );
    }
    // The owner is undisturbed.
    assert!(store.is_file());
    assert_eq!(server.get("/readyz").status, 200);
    assert_eq!(
        server
            .post("/orders", &order("still-owned", "store-tests"))
            .status,
        201
    );
}

/// Asserts that the command `args` ended with exit `code`; its stderr.
fn assert_exit(output: &std::process::Output, code: i32, args: &[&str]) -> String {
    let said = stderr(output);
    assert_eq!(output.status.code(), Some(code), "{args:?}: {said}");
    said
}
