//! The settings' layering (flags over environment over file over defaults,
//! relative paths from the file's directory) and the usage errors of
//! settings that cannot work.

use std::collections::HashMap;

use super::*;
use crate::bindings::types::CarrierCode;
use crate::external::Context;

fn env_of(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| vars.get(name).cloned()
}

fn default_store() -> String {
    "/default/orders.db".to_owned()
}

/// The settings of a file read from no path, under `flags` and `env`.
fn resolve_in(file: FileConfig, flags: &Flags, env: Env<'_>) -> Result<Settings, ConfigError> {
    Settings::resolve(file, None, flags, env, &default_store)
}

const FILE: &str = r#"
    store = "file.db"
    bind = "127.0.0.1:7001"
    seed = 11
    faults = ["payment=transient:0.5"]

    [webhooks]
    secret = "from-file"

    [policy]
    return-window-days = 14
    default-carrier = "dhl"
"#;

/// The settings of `file` read from /etc/order-host/order-host.toml.
fn resolve_etc(file: FileConfig, flags: &Flags, env: Env<'_>) -> Result<Settings, ConfigError> {
    let path = Path::new("/etc/order-host/order-host.toml");
    Settings::resolve(file, Some(path), flags, env, &default_store)
}

/// The settings of [`FILE`] under `flags` and `env`.
fn resolve(env: &[(&str, &str)], flags: &Flags) -> Settings {
    let file = FileConfig::parse(FILE, "test").unwrap();
    resolve_etc(file, flags, &env_of(env)).unwrap()
}

/// An environment that sets each setting the layers share, over [`FILE`].
const ENV: [(&str, &str); 5] = [
    ("ORDER_HOST_STORE", "env.db"),
    ("ORDER_HOST_BIND", "127.0.0.1:7002"),
    ("ORDER_HOST_SEED", "22"),
    ("ORDER_HOST_FAULTS", "carrier=20ms"),
    ("ORDER_HOST_WEBHOOK_SECRET", "from-env"),
];

/// The settings every layer sets: store, bind, seed, faults, webhook
/// secret and return window.
fn layered(s: &Settings) -> (&str, String, u64, &str, Option<&str>, u32) {
    (
        &s.store,
        s.bind.to_string(),
        s.seed,
        &s.faults_spec,
        s.webhook_secret.as_deref(),
        s.policy.return_window_days,
    )
}

#[test]
fn a_postgres_url_in_the_file_is_not_taken_for_a_relative_path() {
    let file =
        FileConfig::parse(r#"store = "postgres://shop@db.internal/orders""#, "test").unwrap();
    let s = resolve_etc(file, &Flags::default(), &env_of(&[])).unwrap();
    assert_eq!(s.store, "postgres://shop@db.internal/orders");
    let env = env_of(&[("ORDER_HOST_STORE", "postgresql://a@b/c")]);
    let env = resolve_in(FileConfig::default(), &Flags::default(), &env).unwrap();
    assert_eq!(env.store, "postgresql://a@b/c");
}

#[test]
fn the_file_is_used_when_nothing_overrides_it() {
    let s = resolve(&[], &Flags::default());
    // Relative paths in the file are taken from the file's directory.
    assert_eq!(
        layered(&s),
        (
            "/etc/order-host/file.db",
            "127.0.0.1:7001".to_owned(),
            11,
            "payment=transient:0.5",
            Some("from-file"),
            14
        )
    );
    assert_eq!(s.policy.default_carrier, CarrierCode::Dhl);
}

#[test]
fn the_environment_overrides_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.json");
    std::fs::write(&policy, r#"{"return-window-days": 60}"#).unwrap();
    let mut env = ENV.to_vec();
    env.push(("ORDER_HOST_POLICY", policy.to_str().unwrap()));
    let s = resolve(&env, &Flags::default());
    assert_eq!(
        layered(&s),
        (
            "env.db",
            "127.0.0.1:7002".to_owned(),
            22,
            "carrier=20ms",
            Some("from-env"),
            60
        )
    );
}

#[test]
fn the_shutdown_deadline_comes_from_flag_then_environment_then_file() {
    let file = FileConfig::parse("shutdown-deadline-seconds = 7\n", "test").unwrap();
    let none = env_of(&[]);
    let s = resolve_in(file.clone(), &Flags::default(), &none).unwrap();
    assert_eq!(s.shutdown_deadline, Duration::from_secs(7));
    let env = env_of(&[("ORDER_HOST_SHUTDOWN_DEADLINE_SECONDS", "9")]);
    let s = resolve_in(file.clone(), &Flags::default(), &env).unwrap();
    assert_eq!(s.shutdown_deadline, Duration::from_secs(9));
    let flags = Flags {
        shutdown_deadline: Some(3),
        ..Flags::default()
    };
    let s = resolve_in(file, &flags, &env).unwrap();
    assert_eq!(s.shutdown_deadline, Duration::from_secs(3));
    let s = resolve_in(FileConfig::default(), &Flags::default(), &none).unwrap();
    assert_eq!(s.shutdown_deadline, Duration::from_secs(30));
    let bad = env_of(&[("ORDER_HOST_SHUTDOWN_DEADLINE_SECONDS", "soon")]);
    let error = resolve_in(FileConfig::default(), &Flags::default(), &bad).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("ORDER_HOST_SHUTDOWN_DEADLINE_SECONDS")
    );
}

#[test]
fn flags_override_the_environment_and_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, "return-window-days = 90\n").unwrap();
    let flags = Flags {
        store: Some("flag.db".to_owned()),
        seed: Some(33),
        faults: vec!["inventory=permanent:1".to_owned()],
        policy: Some(policy),
        bind: Some("127.0.0.1:7003".to_owned()),
        webhook_secret: Some("from-flag".to_owned()),
        ..Flags::default()
    };
    let s = resolve(&ENV, &flags);
    assert_eq!(
        layered(&s),
        (
            "flag.db",
            "127.0.0.1:7003".to_owned(),
            33,
            "inventory=permanent:1",
            Some("from-flag"),
            90
        )
    );
}

#[test]
fn defaults_apply_without_file_environment_or_flags() {
    let s = resolve_in(FileConfig::default(), &Flags::default(), &env_of(&[])).unwrap();
    assert_eq!(s.store, "/default/orders.db");
    assert_eq!(s.bind, DEFAULT_BIND.parse().unwrap());
    assert_eq!(s.seed, DEFAULT_SEED);
    assert_eq!(s.webhook_secret, None);
    assert_eq!(s.webhook_tolerance, Duration::from_secs(300));
    assert_eq!(s.policy, StorePolicy::default());
    assert!(s.backends.all_simulated());
}

#[test]
fn empty_environment_variables_count_as_unset() {
    let s = resolve(&[("ORDER_HOST_WEBHOOK_SECRET", "")], &Flags::default());
    assert_eq!(s.webhook_secret.as_deref(), Some("from-file"));
}

#[test]
fn unusable_settings_are_usage_errors_that_say_which() {
    let bad = |file: &str, env: &[(&str, &str)]| {
        let file = FileConfig::parse(file, "test")?;
        resolve_in(file, &Flags::default(), &env_of(env))
    };
    for (file, env, says) in [
        ("colour = 1", &[][..], "colour"),
        ("bind = \"localhost\"", &[], "IP:PORT"),
        ("", &[("ORDER_HOST_SEED", "x")], "ORDER_HOST_SEED"),
        ("faults = \"payment=often\"", &[], "invalid faults"),
    ] {
        let error = bad(file, env).unwrap_err();
        assert!(error.0.contains(says), "{file:?}: {error}");
    }
    let error = bad("[backends.payment]\nkind = \"http\"", &[]).unwrap_err();
    assert!(error.0.contains("backends.payment.base-url"), "{error}");
    assert!(bad("[policy]\ncall-lease-ms = 0", &[]).is_err());
}

#[test]
fn backends_are_simulated_unless_configured_as_http() {
    let file = FileConfig::parse(
        r#"
        [backends]
        timeout-ms = 2000
        [backends.carrier]
        kind = "http"
        base-url = "https://carrier.internal"
        "#,
        "test",
    )
    .unwrap();
    assert_eq!(
        file.backends.choice(Context::Payment).unwrap(),
        BackendChoice::Simulated
    );
    assert_eq!(
        file.backends.choice(Context::Carrier).unwrap(),
        BackendChoice::Http {
            base_url: "https://carrier.internal".to_owned(),
            timeout: Duration::from_secs(2),
            connect_timeout: None,
        }
    );
    // An environment URL makes that context http.
    let env = env_of(&[("ORDER_HOST_PAYMENT_URL", "http://pay.test")]);
    let s = resolve_in(FileConfig::default(), &Flags::default(), &env).unwrap();
    assert!(matches!(
        s.backends.choice(Context::Payment),
        Ok(BackendChoice::Http { .. })
    ));
    assert!(!s.backends.all_simulated());
}

#[test]
fn backend_flags_override_the_environment_and_the_file() {
    let file = FileConfig::parse(
        r#"
        [backends.payment]
        kind = "http"
        base-url = "http://file.test/pay"
        [backends.carrier]
        kind = "http"
        base-url = "http://file.test/ship"
        "#,
        "test",
    )
    .unwrap();
    let env = env_of(&[("ORDER_HOST_INVENTORY_URL", "http://env.test/stock")]);
    let flags = Flags {
        backend: vec![
            "payment=http://flag.test/pay".parse().unwrap(),
            "carrier=simulated".parse().unwrap(),
        ],
        ..Flags::default()
    };
    let s = resolve_in(file.clone(), &flags, &env).unwrap();
    let url = |context| match s.backends.choice(context).unwrap() {
        BackendChoice::Http { base_url, .. } => Some(base_url),
        BackendChoice::Simulated => None,
    };
    assert_eq!(
        url(Context::Payment).as_deref(),
        Some("http://flag.test/pay")
    );
    assert_eq!(
        url(Context::Inventory).as_deref(),
        Some("http://env.test/stock")
    );
    assert_eq!(url(Context::Carrier), None);
    assert_eq!(url(Context::Customer), None);

    // `--backends simulated` turns every context simulated; a
    // `--backend` flag beside it still serves its context over http.
    let flags = Flags {
        backends: Some(BackendKind::Simulated),
        backend: vec!["customer=http://flag.test/cs".parse().unwrap()],
        ..Flags::default()
    };
    let s = resolve_in(file, &flags, &env).unwrap();
    for context in [Context::Payment, Context::Inventory, Context::Carrier] {
        assert_eq!(
            s.backends.choice(context).unwrap(),
            BackendChoice::Simulated
        );
    }
    assert!(matches!(
        s.backends.choice(Context::Customer),
        Ok(BackendChoice::Http { .. })
    ));
}

#[test]
fn backend_flags_and_urls_that_cannot_work_are_usage_errors() {
    for bad in ["payment", "bank=http://x", "payment=", "=http://x"] {
        assert!(bad.parse::<BackendFlag>().is_err(), "`{bad}` was accepted");
    }
    let flag: BackendFlag = " carrier = https://c.test/v1 ".parse().unwrap();
    assert_eq!(flag.context, Context::Carrier);
    assert_eq!(flag.base_url.as_deref(), Some("https://c.test/v1"));

    let resolve = |flag: &str| {
        let flags = Flags {
            backend: vec![flag.parse().unwrap()],
            ..Flags::default()
        };
        resolve_in(FileConfig::default(), &flags, &env_of(&[]))
    };
    let error = resolve("payment=ftp://pay.test").unwrap_err();
    assert!(error.0.contains("backends.payment"), "{error}");
    assert!(error.0.contains("ftp://pay.test"), "{error}");
    assert!(resolve("payment=http://127.0.0.1:9/v1").is_ok());
}
