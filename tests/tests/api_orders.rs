//! Finding orders on the real `order-host serve`: `GET /orders` pages
//! through a few hundred orders newest first with no duplicate and no gap,
//! also while orders are placed between pages; its filters (customer,
//! status, saga, placement window, last update) select what they say; a
//! customer credential sees only its own orders; a bad `limit`, `cursor`,
//! filter value or parameter name is a 400 naming it; and the other lists
//! (`/customers/{id}/orders`, an order's events) take `limit` and `cursor`
//! with a `Link` to the next page.

mod support;

use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sha2::Digest as _;
use support::{ADMIN_KEY, Launch, Reply, Server, id, order};

const CUSTOMER_A_KEY: &str = "ohk_customer_a_666666666666666666666666666666666666666666666666666";
const REPORTING_KEY: &str = "ohk_reporting_77777777777777777777777777777777777777777777777777777";

fn customer(name: &str) -> String {
    id(&format!("customer:list-{name}"))
}

fn start(dir: &Path) -> Server {
    let hash = |key: &str| hex::encode(sha2::Sha256::digest(key.as_bytes()));
    let auth = dir.join("auth.toml");
    std::fs::write(
        &auth,
        format!(
            "[[api-keys]]\nname = \"root\"\nrole = \"admin\"\nhash = \"sha256:{}\"\n\
             [[api-keys]]\nname = \"bi\"\nrole = \"reporting\"\nhash = \"sha256:{}\"\n\
             [[api-keys]]\nname = \"web-a\"\nrole = \"customer\"\nhash = \"sha256:{}\"\n\
             customer-id = \"{}\"\n",
            hash(ADMIN_KEY),
            hash(REPORTING_KEY),
            hash(CUSTOMER_A_KEY),
            customer("a")
        ),
    )
    .unwrap();
    Server::start(
        dir,
        &Launch::serve(dir.join("orders.db")).args(&["--auth", auth.to_str().unwrap()]),
    )
}

fn get_as(server: &Server, path: &str, key: &str) -> Reply {
    let bearer = format!("Bearer {key}");
    server.request("GET", path, None, &[("authorization", bearer.as_str())])
}

/// A draft (no saga moves it) or a placed order of `who`.
fn create(server: &Server, name: &str, who: &str, draft: bool) -> String {
    let mut body = order(&format!("list-{name}"), "unused");
    body["customer_id"] = json!(customer(who));
    body["draft"] = json!(draft);
    let reply = server.post("/orders", &body);
    assert_eq!(reply.status, 201, "{}", reply.text);
    body["order_id"].as_str().unwrap().to_owned()
}

fn ids(reply: &Reply) -> Vec<String> {
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|o| o["order_id"].as_str().unwrap().to_owned())
        .collect()
}

/// Follows `Link` from `first` to the last page; every page's `next_cursor`
/// must match its link. `between` runs after each page.
fn all_pages(server: &Server, first: &str, mut between: impl FnMut(usize)) -> Vec<Value> {
    let mut items = Vec::new();
    let mut path = first.to_owned();
    for page in 0..100 {
        let reply = server.get(&path);
        assert_eq!(reply.status, 200, "{path}: {}", reply.text);
        items.extend(reply.json["items"].as_array().unwrap().iter().cloned());
        between(page);
        match (&reply.link, reply.json["next_cursor"].as_str()) {
            (None, None) => return items,
            (Some(link), Some(cursor)) => {
                let target = link
                    .strip_prefix('<')
                    .and_then(|l| l.strip_suffix(">; rel=\"next\""))
                    .unwrap_or_else(|| panic!("a next link: {link}"));
                assert!(target.ends_with(&format!("cursor={cursor}")), "{link}");
                path = target.to_owned();
            }
            other => panic!("the link and next_cursor disagree: {other:?}"),
        }
    }
    panic!("more than 100 pages");
}

/// Waits (bounded) until the saga of every placed order has finished.
fn wait_for_sagas(server: &Server, placed: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let running = ids(&server.get("/orders?saga=running&limit=200")).len();
        let finished = ids(&server.get("/orders?saga=completed&limit=200")).len();
        if running == 0 && finished == placed {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "sagas still running: {running}, completed {finished} of {placed}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn orders_are_found_by_filter_and_paged_without_duplicates_or_gaps() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    // 240 drafts of three customers and 12 placed orders, from 4 clients.
    const DRAFTS: usize = 240;
    const PLACED: usize = 12;
    std::thread::scope(|scope| {
        for worker in 0..4 {
            let server = &server;
            scope.spawn(move || {
                for n in (worker..DRAFTS).step_by(4) {
                    let who = ["a", "b", "c"][n % 3];
                    create(server, &format!("draft-{n}"), who, true);
                }
            });
        }
    });
    let before = server.get("/orders?limit=1");
    let placed_from = before.json["items"][0]["created_at"]
        .as_str()
        .unwrap()
        .to_owned();
    for n in 0..PLACED {
        create(&server, &format!("placed-{n}"), "b", false);
    }
    wait_for_sagas(&server, PLACED);

    // Every order once, newest first, across pages of 37, while new drafts
    // arrive between pages (newer than the first page: never seen here).
    let mut extra = 0;
    let items = all_pages(&server, "/orders?limit=37", |page| {
        if page < 3 {
            create(&server, &format!("late-{page}"), "c", true);
            extra += 1;
        }
    });
    let listed: Vec<&str> = items
        .iter()
        .map(|o| o["order_id"].as_str().unwrap())
        .collect();
    let unique: HashSet<&str> = listed.iter().copied().collect();
    assert_eq!(unique.len(), listed.len(), "no duplicates");
    assert_eq!(listed.len(), DRAFTS + PLACED, "no gaps");
    let keys: Vec<(String, String)> = items
        .iter()
        .map(|o| {
            let at = o["placed_at"]
                .as_str()
                .or(o["created_at"].as_str())
                .unwrap();
            (at.to_owned(), o["order_id"].as_str().unwrap().to_owned())
        })
        .collect();
    assert!(keys.windows(2).all(|w| w[0] > w[1]), "newest first");
    let total = DRAFTS + PLACED + extra;

    // Filters.
    let count = |path: &str| all_pages(&server, path, |_| {}).len();
    assert_eq!(count("/orders?status=draft&limit=200"), DRAFTS + extra);
    assert_eq!(count("/orders?status=shipped,delivered&limit=200"), PLACED);
    assert_eq!(
        count("/orders?status=shipped&status=draft&limit=200"),
        total
    );
    assert_eq!(count("/orders?saga=completed&limit=200"), PLACED);
    assert_eq!(count("/orders?saga=compensation-failed"), 0);
    assert_eq!(
        count(&format!("/orders?customer_id={}&limit=200", customer("a"))),
        DRAFTS / 3
    );
    assert_eq!(
        count(&format!(
            "/orders?customer_id={}&status=shipped,delivered&limit=200",
            customer("b")
        )),
        PLACED
    );
    assert_eq!(
        count(&format!("/orders?placed_from={placed_from}&limit=200")),
        PLACED,
        "drafts have no placement"
    );
    assert_eq!(count("/orders?placed_to=2000-01-01T00:00:00Z"), 0);
    assert_eq!(count("/orders?updated_since=2999-01-01T00:00:00Z"), 0);
    let shipped = server.get("/orders?status=shipped,delivered&limit=1");
    let summary = &shipped.json["items"][0];
    assert_eq!(summary["saga"], "completed");
    assert_eq!(summary["total"], json!({"amount": 6000, "currency": "USD"}));
    let whole = server.get(&format!(
        "/orders/{}",
        summary["order_id"].as_str().unwrap()
    ));
    assert_eq!(summary["status"], whole.json["status"]);
    assert_eq!(summary["version"], whole.json["version"]);

    // A customer sees its own orders only.
    let own = get_as(&server, "/orders?limit=200", CUSTOMER_A_KEY);
    assert_eq!(own.status, 200, "{}", own.text);
    let own_items = own.json["items"].as_array().unwrap();
    assert_eq!(own_items.len(), DRAFTS / 3);
    assert!(own_items.iter().all(|o| o["customer_id"] == customer("a")));
    let other = get_as(
        &server,
        &format!("/orders?customer_id={}", customer("b")),
        CUSTOMER_A_KEY,
    );
    assert_eq!(other.json, json!({"items": [], "next_cursor": null}));
    let reporting = get_as(&server, "/orders?limit=5", REPORTING_KEY);
    assert_eq!(ids(&reporting).len(), 5);

    // The customer's list pages the same way.
    let theirs = all_pages(
        &server,
        &format!("/customers/{}/orders?limit=9", customer("b")),
        |_| {},
    );
    assert_eq!(theirs.len(), DRAFTS / 3 + PLACED);
    let unique: HashSet<&str> = theirs
        .iter()
        .map(|o| o["order_id"].as_str().unwrap())
        .collect();
    assert_eq!(unique.len(), theirs.len());
}

#[test]
fn bad_paging_and_filters_are_400_naming_the_parameter() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    for n in 0..3 {
        create(&server, &format!("bad-{n}"), "a", true);
    }
    let cursor = server.get("/orders?limit=1").json["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    assert_eq!(
        ids(&server.get(&format!("/orders?limit=1&cursor={cursor}"))).len(),
        1
    );
    let customer_orders = format!("/customers/{}/orders", customer("a"));
    for (path, field) in [
        ("/orders?limit=0".to_owned(), "limit"),
        ("/orders?limit=201".to_owned(), "limit"),
        ("/orders?limit=ten".to_owned(), "limit"),
        ("/orders?limit=1&limit=2".to_owned(), "limit"),
        ("/orders?cursor=zz".to_owned(), "cursor"),
        ("/orders?cursor=6b313a".to_owned(), "cursor"),
        ("/orders?status=lost".to_owned(), "status"),
        ("/orders?saga=stuck".to_owned(), "saga"),
        ("/orders?customer_id=nobody".to_owned(), "customer_id"),
        ("/orders?placed_from=yesterday".to_owned(), "placed_from"),
        ("/orders?placed_to=1700000000000".to_owned(), "placed_to"),
        (
            "/orders?updated_since=2026-13-01T00:00:00Z".to_owned(),
            "updated_since",
        ),
        ("/orders?stauts=shipped".to_owned(), "stauts"),
        (format!("{customer_orders}?limit=500"), "limit"),
        (format!("{customer_orders}?cursor=abc"), "cursor"),
        (format!("{customer_orders}?status=draft"), "status"),
        ("/customers/not-a-uuid/orders".to_owned(), "id"),
    ] {
        server.get(&path).assert_problem(400, Some(field), &path);
    }
    // A sub-list refuses a bad page the same way.
    let order_id = id("order:list-bad-0");
    server
        .get(&format!("/orders/{order_id}/events?limit=0"))
        .assert_problem(400, Some("limit"), "events limit");
    server
        .get(&format!("/orders/{order_id}/events?cursor=nope"))
        .assert_problem(400, Some("cursor"), "events cursor");
}

#[test]
fn an_orders_history_pages_by_limit_and_cursor_with_a_next_link() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let order_id = create(&server, "history", "a", false);
    // Wait (bounded) for the saga to finish, so the history stops growing.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ids(&server.get("/orders?saga=completed")).contains(&order_id) {
        assert!(Instant::now() < deadline, "the saga completes");
        std::thread::sleep(Duration::from_millis(100));
    }
    let whole = server.get(&format!("/orders/{order_id}/events?limit=200"));
    assert_eq!(whole.link, None, "one page");
    let all = whole.json.as_array().unwrap().clone();
    assert!(all.len() > 5, "a saga writes many events: {}", all.len());

    let mut paged = Vec::new();
    let mut path = format!("/orders/{order_id}/events?limit=2");
    for _ in 0..100 {
        let reply = server.get(&path);
        assert_eq!(reply.status, 200, "{}", reply.text);
        let page = reply.json.as_array().unwrap();
        assert!(page.len() <= 2);
        paged.extend(page.iter().cloned());
        let Some(link) = reply.link else { break };
        path = link
            .strip_prefix('<')
            .and_then(|l| l.strip_suffix(">; rel=\"next\""))
            .unwrap()
            .to_owned();
        assert!(
            path.contains("limit=2"),
            "the link keeps the page size: {path}"
        );
    }
    assert_eq!(paged, all, "every event once, oldest first");
    let default = server.get(&format!("/orders/{order_id}/shipments"));
    assert_eq!(default.json.as_array().map(Vec::len), Some(1));
    assert_eq!(default.link, None);
}
