//! The uplink against a real hub on a real PostgreSQL: orders reach the hub exactly
//! once; with the uplink cut (a TCP link the test switches off, or the hub killed)
//! orders are kept, capped by the offline limits, relayed through a paired booth, and
//! all delivered once when the way returns; a poisonous order is quarantined without
//! blocking the rest. The same with network namespaces and nft rules is
//! `tests/scenarios/uplink.sh`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use boothcloud_tests::postgres::{free_port, Hub, Postgres};
use boothcloud_tests::{booth_manifest, Kiosk, Options, TestNode, OPERATOR_TOKEN};
use serde_json::{json, Value};

/// A link the test can cut and restore: a TCP relay to `to`. Cut, it resets every open
/// connection and refuses new ones.
struct Link {
    url: String,
    up: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Link {
    async fn to(to: &str) -> Link {
        let target: std::net::SocketAddr =
            to.trim_start_matches("http://").trim_end_matches('/').parse().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let up = Arc::new(AtomicBool::new(true));
        let open: Arc<Mutex<Vec<tokio::task::AbortHandle>>> = Arc::default();
        let (up2, open2) = (up.clone(), open.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else { continue };
                if !up2.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                open2.lock().unwrap().push(task.abort_handle());
            }
        });
        Link { url, up, open }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for t in self.open.lock().unwrap().drain(..) {
            t.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

fn start_booth(manifest: std::path::PathBuf) -> TestNode {
    TestNode::start_with(Options { manifest: Some(manifest), ..Options::default() })
}

async fn link_view(node: &TestNode) -> Value {
    let a = Kiosk::enrolled(&node.url).await.ops_get("/api/v1/ops/uplink").await;
    assert_eq!(a.status, 200, "{}", a.body);
    a.body
}

/// Waits until `check` holds for the link view; returns how long it took.
async fn until(
    node: &TestNode,
    what: &str,
    within: Duration,
    check: impl Fn(&Value) -> bool,
) -> Duration {
    let started = Instant::now();
    loop {
        let v = link_view(node).await;
        if check(&v) {
            return started.elapsed();
        }
        assert!(started.elapsed() < within, "{what}: not within {within:?}; last view: {v:#}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn mode_is(mode: &'static str) -> impl Fn(&Value) -> bool {
    // "Offline" while still checking at start does not count: the uplink must be known down.
    move |v| {
        v["mode"] == mode
            && (mode != "offline" || v["uplink"] == "down" || v["route"]["route"] == "offline_only")
    }
}

fn drained(v: &Value) -> bool {
    v["queue_depth"] == 0
}

/// Buys `n` orders with up to 8 kiosks at once; returns the order ids.
async fn buy_many(node: &TestNode, n: usize, tag: &str) -> Vec<String> {
    let kiosk = Kiosk::enrolled(&node.url).await;
    let ids = Arc::new(Mutex::new(Vec::new()));
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let (kiosk, ids, next, tag) =
                (kiosk.clone(), ids.clone(), next.clone(), tag.to_owned());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= n {
                        return;
                    }
                    // Every third basket carries a promotion (stickers: 3 for 2), so the
                    // hub sees discounted lines too.
                    let basket: &[(&str, i64)] = if i % 3 == 0 {
                        &[("STICKER-LIGHTHOUSE", 3), ("TOTE", 1)]
                    } else {
                        &[("TOTE", 1)]
                    };
                    let q = kiosk.quote(basket, None).await;
                    assert_eq!(q.status, 200, "{}", q.body);
                    let o = kiosk
                        .order(
                            &format!("{tag}-{i}"),
                            &json!({"quote_token": q.body["token"], "payment": {"method": "cash"}}),
                        )
                        .await;
                    assert_eq!(o.status, 201, "{}", o.body);
                    ids.lock().unwrap().push(o.body["order_id"].as_str().unwrap().to_owned());
                }
            })
        })
        .collect();
    for w in workers {
        w.await.unwrap();
    }
    Arc::try_unwrap(ids).unwrap().into_inner().unwrap()
}

fn at_hub(pg: &Postgres, booth: &str) -> (i64, i64) {
    (
        pg.count(&format!("SELECT COUNT(*) FROM hub_orders WHERE booth_id = '{booth}'")),
        pg.count(&format!(
            "SELECT COUNT(DISTINCT order_id) FROM hub_orders WHERE booth_id = '{booth}'"
        )),
    )
}

#[tokio::test]
async fn orders_and_refunds_reach_the_hub_once_and_an_outage_loses_and_doubles_nothing() {
    let pg = Postgres::start();
    let hub = Hub::start(&pg, "127.0.0.1:0");
    let link = Link::to(&hub.url).await;
    let dir = tempfile::tempdir().unwrap();
    let node = start_booth(booth_manifest(
        dir.path(),
        &link.url,
        "stand-14",
        &Hub::credential("stand-14"),
        "",
        "[]",
    ));

    until(&node, "online", Duration::from_secs(20), mode_is("online")).await;
    let first = buy_many(&node, 40, "online").await;
    until(&node, "drained", Duration::from_secs(20), drained).await;
    assert_eq!(at_hub(&pg, "stand-14"), (40, 40));
    // A refund after sync is its own record and reaches the hub once.
    let refunded = &first[0];
    let r = TestNode::client()
        .post(format!("{}/api/v1/counter/orders/{refunded}/refunds", node.url))
        .bearer_auth(OPERATOR_TOKEN)
        .json(&json!({"amount": 100, "reason": "a chipped mug"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let at_hub_refunds = || {
        pg.count(&format!(
            "SELECT COUNT(*) FROM hub_refunds WHERE order_id = '{refunded}' AND booth_id = 'stand-14' \
             AND amount = 100 AND reason = 'a chipped mug' AND by_whom = 'lead'"
        ))
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while at_hub_refunds() == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(at_hub_refunds(), 1, "the refund reached the hub");
    let v = link_view(&node).await;
    assert_eq!(v["uplink"], "up");
    assert!(v["last_sync"].is_string() && v["delivered"].as_u64().unwrap() >= 40, "{v}");
    let status = Kiosk::enrolled(&node.url).await.ops_get("/api/v1/ops/status").await;
    assert_eq!(status.body["link"]["mode"], "online", "the status API carries the mode");
    // What the uplink carried is metered: heartbeats and order batches, in spend.
    let spend = &status.body["spend"];
    let traffic = |purpose: &str| {
        spend["traffic"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["purpose"] == purpose)
            .unwrap()
            .clone()
    };
    let (heartbeats, sync) = (traffic("heartbeat"), traffic("sync"));
    assert!(heartbeats["calls"].as_u64().unwrap() >= 2, "{heartbeats}");
    assert!(heartbeats["bytes"].as_u64().unwrap() > 300 * heartbeats["calls"].as_u64().unwrap());
    assert!(sync["calls"].as_u64().unwrap() >= 1 && sync["bytes"].as_u64().unwrap() > 40 * 200);
    let usage = |c: &str| {
        spend["components"].as_array().unwrap().iter().find(|l| l["component"] == c).unwrap()
            ["usage"]
            .as_u64()
            .unwrap()
    };
    assert!(
        usage("upstream")
            >= heartbeats["calls"].as_u64().unwrap() + sync["calls"].as_u64().unwrap()
    );
    assert!(
        usage("egress") >= heartbeats["bytes"].as_u64().unwrap() + sync["bytes"].as_u64().unwrap(),
        "every byte over the uplink is egress: {spend}"
    );

    // The uplink dies: the booth notices in seconds and keeps selling.
    link.cut();
    let noticed = until(&node, "offline", Duration::from_secs(10), mode_is("offline")).await;
    eprintln!("uplink loss → offline in {} ms", noticed.as_millis());
    let v = link_view(&node).await;
    assert_eq!(v["uplink"], "down");
    assert!(v["detail"].as_str().unwrap().contains("uplink is down"), "{v}");
    let during = buy_many(&node, 150, "outage").await;
    let v = link_view(&node).await;
    assert_eq!(v["queue_depth"], 150);
    assert!(v["oldest_unsynced_seconds"].is_number());

    // Back: hysteresis first, then every order is delivered once.
    link.restore();
    until(&node, "online again", Duration::from_secs(20), mode_is("online")).await;
    until(&node, "drained after the outage", Duration::from_secs(30), drained).await;
    assert_eq!(at_hub(&pg, "stand-14"), (190, 190));
    for id in first.iter().chain(&during) {
        assert_eq!(
            pg.count(&format!("SELECT COUNT(*) FROM hub_orders WHERE order_id = '{id}'")),
            1,
            "{id}"
        );
    }

    // The hub's operator sees the booth, its report and what it delivered.
    let booths = hub.booths().await;
    assert_eq!(booths[0]["booth_id"], "stand-14");
    assert_eq!(booths[0]["orders"], 190);
    assert_eq!(booths[0]["report"]["event_id"], "harbour-lights-2026");
}

#[tokio::test]
async fn a_flapping_link_and_a_hub_killed_mid_sync_lose_and_double_nothing() {
    let pg = Postgres::start();
    let port = free_port();
    let hub = Hub::start(&pg, &format!("127.0.0.1:{port}"));
    let link = Link::to(&hub.url).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest =
        booth_manifest(dir.path(), &link.url, "stand-7", &Hub::credential("stand-7"), "", "[]");
    // Small batches, so the hub is killed with most of the backlog still to come.
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replace("probe_timeout = \"500ms\"", "probe_timeout = \"500ms\"\nbatch = 50"),
    )
    .unwrap();
    let node = start_booth(manifest);
    until(&node, "online", Duration::from_secs(20), mode_is("online")).await;

    // Flapping: cut and restored every 400 ms while kiosks keep buying.
    let flapping = {
        let (up, open) = (link.up.clone(), link.open.clone());
        tokio::spawn(async move {
            for i in 0..20 {
                tokio::time::sleep(Duration::from_millis(400)).await;
                if i % 2 == 0 {
                    up.store(false, Ordering::SeqCst);
                    for t in open.lock().unwrap().drain(..) {
                        t.abort();
                    }
                } else {
                    up.store(true, Ordering::SeqCst);
                }
            }
            up.store(true, Ordering::SeqCst);
        })
    };
    let mut ids = buy_many(&node, 300, "flap").await;
    flapping.await.unwrap();
    let changes = link_view(&node).await["mode_changes"].as_u64().unwrap();
    assert!(changes <= 6, "the mode flapped {changes} times with the link");

    // A backlog, then the hub dies in the middle of draining it and comes back.
    link.cut();
    until(&node, "offline", Duration::from_secs(10), mode_is("offline")).await;
    ids.extend(buy_many(&node, 600, "backlog").await);
    link.restore();
    until(&node, "syncing", Duration::from_secs(20), |v| v["queue_depth"].as_i64().unwrap() < 600)
        .await;
    hub.kill();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let _hub = Hub::start(&pg, &format!("127.0.0.1:{port}"));
    until(&node, "drained after the hub's restart", Duration::from_secs(60), |v| {
        drained(v) && v["mode"] == "online"
    })
    .await;
    assert_eq!(at_hub(&pg, "stand-7"), (900, 900));
    let stored: std::collections::HashSet<String> = pg
        .query("SELECT order_id FROM hub_orders WHERE booth_id = 'stand-7'")
        .lines()
        .map(str::to_owned)
        .collect();
    assert!(
        ids.iter().all(|id| stored.contains(id)),
        "every order the booth acknowledged is at the hub"
    );
}

#[tokio::test]
async fn a_rejected_order_is_quarantined_without_blocking_the_others_and_can_be_retried_or_exported(
) {
    let pg = Postgres::start();
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let hub_url = format!("http://127.0.0.1:{port}");
    let node = start_booth(booth_manifest(
        dir.path(),
        &hub_url,
        "stand-3",
        &Hub::credential("stand-3"),
        "",
        "[]",
    ));
    // No hub yet: the booth is offline and keeps the orders.
    until(&node, "offline", Duration::from_secs(10), mode_is("offline")).await;
    let ids = buy_many(&node, 30, "q").await;
    // One order is damaged on disk (its total no longer matches its lines).
    let bad = &ids[10];
    let db = node.data_dir.join("boothcloud.db");
    let out = std::process::Command::new("sqlite3")
        .args(["-bail", "-cmd", ".timeout 5000"])
        .arg(&db)
        .arg(format!(
            "UPDATE orders SET total = total + 1 WHERE order_id = '{bad}'; SELECT changes();"
        ))
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "1", "one order damaged");

    let _hub = Hub::start(&pg, &format!("127.0.0.1:{port}"));
    until(&node, "drained", Duration::from_secs(30), |v| drained(v) && v["quarantined"] == 1).await;
    assert_eq!(at_hub(&pg, "stand-3"), (29, 29), "every other order went through");
    let kiosk = Kiosk::enrolled(&node.url).await;
    let q = kiosk.ops_get("/api/v1/ops/orders?status=quarantined").await;
    assert_eq!(q.body["orders"][0]["order_id"], bad.as_str());
    let reason = q.body["orders"][0]["status_reason"].as_str().unwrap();
    assert!(reason.contains("the order says its total is"), "the hub's reason is kept: {reason}");

    // Export: a JSON file of the quarantined orders.
    let res = TestNode::client()
        .get(format!("{}/api/v1/ops/orders/export", node.url))
        .bearer_auth(OPERATOR_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("quarantined-orders.json"));
    let exported: Value = res.json().await.unwrap();
    assert_eq!(exported.as_array().unwrap().len(), 1);
    assert_eq!(exported[0]["order_id"], bad.as_str());

    // Retry: refused for a synced order; a quarantined one goes back in line (and,
    // still damaged, comes back quarantined with one more attempt).
    let http = TestNode::client();
    let synced = http
        .post(format!("{}/api/v1/ops/orders/{}/retry", node.url, ids[0]))
        .bearer_auth(OPERATOR_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(synced.status(), 409);
    let attempts = exported[0]["sync_attempts"].as_i64().unwrap();
    let retried = http
        .post(format!("{}/api/v1/ops/orders/{bad}/retry", node.url))
        .bearer_auth(OPERATOR_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(retried.status(), 200);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let page = kiosk.ops_get("/api/v1/ops/orders?status=quarantined").await;
        if page.body["orders"][0]["sync_attempts"].as_i64().unwrap_or(0) > attempts {
            break;
        }
        assert!(Instant::now() < deadline, "the retried order was not sent again");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(at_hub(&pg, "stand-3"), (29, 29));
}

#[tokio::test]
async fn offline_limits_need_the_operators_approval_and_the_runway_says_how_far() {
    let dir = tempfile::tempdir().unwrap();
    let dead = format!("http://127.0.0.1:{}", free_port());
    let limits = "[offline]\nmax_order = 5000\nmax_exposure = 8000\nmax_queue_age = \"2h\"\napplies_to = [\"card\", \"mobile\"]\n";
    let node = start_booth(booth_manifest(
        dir.path(),
        &dead,
        "stand-9",
        &Hub::credential("stand-9"),
        limits,
        "[]",
    ));
    until(&node, "offline", Duration::from_secs(10), mode_is("offline")).await;
    let kiosk = Kiosk::enrolled(&node.url).await;

    // Over the per-order cap: refused in words, waiting for approval.
    let q = kiosk.quote(&[("TOTE", 6)], None).await;
    let body = json!({"quote_token": q.body["token"], "payment": {"method": "card"}});
    let refused = kiosk.order("big-1", &body).await;
    assert_eq!((refused.status, refused.code()), (403, "offline_limit"), "{}", refused.body);
    assert!(
        refused.body["error"]["message"].as_str().unwrap().contains("50.00 EUR per order"),
        "{}",
        refused.body
    );
    let v = link_view(&node).await;
    let qid = v["approvals"][0]["quote_id"].as_str().unwrap().to_owned();
    assert_eq!(v["approvals"][0]["total"], 5400);

    // Approving needs the operator token; then the kiosk's retry goes through.
    let http = TestNode::client();
    let anon =
        http.post(format!("{}/api/v1/ops/uplink/approvals/{qid}", node.url)).send().await.unwrap();
    assert_eq!(anon.status(), 401);
    let ok = http
        .post(format!("{}/api/v1/ops/uplink/approvals/{qid}", node.url))
        .bearer_auth(OPERATOR_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let taken = kiosk.order("big-1", &body).await;
    assert_eq!(taken.status, 201, "{}", taken.body);

    // Exposure: 54.00 undelivered; 27.00 more by card would pass 80.00 — but cash is free.
    let q = kiosk.quote(&[("TOTE", 3)], None).await;
    let card = kiosk
        .order("card-2", &json!({"quote_token": q.body["token"], "payment": {"method": "card"}}))
        .await;
    assert_eq!((card.status, card.code()), (403, "offline_limit"));
    assert!(
        card.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("over the offline limit of 80.00 EUR"),
        "{}",
        card.body
    );
    let cash = kiosk
        .order("cash-2", &json!({"quote_token": q.body["token"], "payment": {"method": "cash"}}))
        .await;
    assert_eq!(cash.status, 201, "{}", cash.body);

    // The runway: each limit with where the booth stands.
    let v = link_view(&node).await;
    let limits = v["runway"]["limits"].as_array().unwrap();
    let exposure = limits.iter().find(|l| l["limit"] == "exposure").unwrap();
    assert_eq!(exposure["left"], 2600);
    assert!(exposure["seconds"].as_i64().unwrap() > 0);
    assert!(limits
        .iter()
        .any(|l| l["limit"] == "queue_age" && l["seconds"].as_i64().unwrap() <= 7200));
    assert!(limits.iter().any(|l| l["limit"] == "disk" && l["left"].as_i64().unwrap() > 0));
    assert!(v["runway"]["seconds"].as_i64().unwrap() > 0);
}

#[tokio::test]
async fn with_its_uplink_cut_a_booth_relays_through_a_paired_booth_and_returns_to_direct() {
    let pg = Postgres::start();
    let hub = Hub::start(&pg, "127.0.0.1:0");
    let link_a = Link::to(&hub.url).await;
    let dir_b = tempfile::tempdir().unwrap();
    let b = start_booth(booth_manifest(
        dir_b.path(),
        &hub.url,
        "stand-b",
        &Hub::credential("stand-b"),
        "",
        "[]",
    ));
    let dir_a = tempfile::tempdir().unwrap();
    let peers = format!(
        "[{{ name = \"Stand B\", url = \"{}/\", ca = \"{}\" }}]",
        b.url,
        boothcloud_tests::test_ca().fingerprint
    );
    let a = start_booth(booth_manifest(
        dir_a.path(),
        &link_a.url,
        "stand-a",
        &Hub::credential("stand-a"),
        "",
        &peers,
    ));
    until(&a, "A online", Duration::from_secs(20), mode_is("online")).await;
    until(&a, "A sees B as a relay", Duration::from_secs(20), |v| {
        v["relay_candidates"].as_array().is_some_and(|c| !c.is_empty())
    })
    .await;

    link_a.cut();
    let relaying = until(&a, "A relays", Duration::from_secs(10), mode_is("relay")).await;
    eprintln!("uplink loss → relaying through a peer in {} ms", relaying.as_millis());
    let v = link_view(&a).await;
    let b_id = Kiosk::enrolled(&b.url).await.get("/api/v1/peer/hello").await.body["id"].clone();
    assert_eq!(v["relay_via"]["id"], b_id, "{v}");
    let ids = buy_many(&a, 120, "relayed").await;
    until(&a, "drained through B", Duration::from_secs(30), drained).await;
    assert_eq!(at_hub(&pg, "stand-a"), (120, 120), "A's orders are A's at the hub, once");
    assert_eq!(
        pg.count(
            "SELECT COUNT(*) FROM hub_orders WHERE booth_id = 'stand-a' AND relayed_by = 'stand-b'"
        ),
        120
    );
    assert_eq!(at_hub(&pg, "stand-b"), (0, 0));
    for id in &ids {
        assert_eq!(
            pg.count(&format!("SELECT COUNT(*) FROM hub_orders WHERE order_id = '{id}'")),
            1
        );
    }

    // The operator may pin the route: offline only keeps everything here.
    let http = TestNode::client();
    let set = |route: Value| {
        let http = http.clone();
        let url = format!("{}/api/v1/ops/uplink/route", a.url);
        async move { http.put(url).bearer_auth(OPERATOR_TOKEN).json(&route).send().await.unwrap() }
    };
    assert_eq!(set(json!({"route": "offline_only"})).await.status(), 200);
    until(&a, "offline only", Duration::from_secs(5), mode_is("offline")).await;
    buy_many(&a, 5, "kept").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(link_view(&a).await["queue_depth"], 5);
    assert_eq!(set(json!({"route": "peer", "peer": "no-such-booth"})).await.status(), 404);
    assert_eq!(set(json!({"route": "sideways"})).await.status(), 422);

    // The uplink returns (still offline only: the link is watched all the same); back
    // to automatic, the rest is delivered straight, not relayed.
    link_a.restore();
    until(&a, "A's uplink up", Duration::from_secs(20), |v| {
        v["uplink"] == "up" && v["mode"] == "offline"
    })
    .await;
    assert_eq!(set(json!({"route": "auto"})).await.status(), 200);
    until(&a, "A direct again", Duration::from_secs(20), |v| v["mode"] == "online" && drained(v))
        .await;
    assert_eq!(at_hub(&pg, "stand-a"), (125, 125));
    assert_eq!(
        pg.count(
            "SELECT COUNT(*) FROM hub_orders WHERE booth_id = 'stand-a' AND relayed_by IS NULL"
        ),
        5
    );
}

#[tokio::test]
async fn the_hub_refuses_unsigned_and_forged_batches_and_a_wrong_credential_is_named() {
    let pg = Postgres::start();
    let hub = Hub::start(&pg, "127.0.0.1:0");
    let http = TestNode::client();
    let batch = json!({"orders": []});
    let unsigned =
        http.post(format!("{}/api/v1/hub/orders", hub.url)).json(&batch).send().await.unwrap();
    assert_eq!(unsigned.status(), 401);
    let body: Value = unsigned.json().await.unwrap();
    assert_eq!(body["error"]["code"], "booth_not_authenticated");
    let forged = http
        .post(format!("{}/api/v1/hub/orders", hub.url))
        .header(
            "x-boothcloud-hub-auth",
            format!(
                "v1 booth=stand-1 ts={} mac={}",
                jiff::Timestamp::now().as_second(),
                "00".repeat(32)
            ),
        )
        .json(&batch)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    let booths = http.get(format!("{}/api/v1/hub/booths", hub.url)).send().await.unwrap();
    assert_eq!(booths.status(), 401, "the hub's booth list needs its operator token");

    // A booth holding another booth's credential never counts its uplink as up.
    let dir = tempfile::tempdir().unwrap();
    let node = start_booth(booth_manifest(
        dir.path(),
        &hub.url,
        "stand-1",
        &Hub::credential("stand-2"),
        "",
        "[]",
    ));
    until(&node, "offline", Duration::from_secs(10), mode_is("offline")).await;
    let v = link_view(&node).await;
    assert!(v["detail"].as_str().unwrap().contains("credential"), "{v}");
    buy_many(&node, 3, "kept").await;
    assert_eq!(pg.count("SELECT COUNT(*) FROM hub_orders"), 0);

    // A revoked booth: online with its own credential, then refused; its orders wait,
    // none is quarantined for it.
    let dir = tempfile::tempdir().unwrap();
    let good = start_booth(booth_manifest(
        dir.path(),
        &hub.url,
        "stand-3",
        &Hub::credential("stand-3"),
        "",
        "[]",
    ));
    until(&good, "online", Duration::from_secs(20), mode_is("online")).await;
    buy_many(&good, 5, "before").await;
    until(&good, "drained", Duration::from_secs(20), drained).await;
    let out = std::process::Command::new(boothcloud_tests::hub_binary())
        .args(["revoke", "stand-3", "--database-url", &pg.url, "--reason", "laptop stolen"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    until(&good, "offline once revoked", Duration::from_secs(10), mode_is("offline")).await;
    assert!(link_view(&good).await["detail"].as_str().unwrap().contains("revoked booth stand-3"));
    buy_many(&good, 5, "after").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let v = link_view(&good).await;
    assert_eq!((v["queue_depth"].as_i64(), v["quarantined"].as_i64()), (Some(5), Some(0)), "{v}");
    assert_eq!(at_hub(&pg, "stand-3"), (5, 5));
}

#[tokio::test]
async fn the_hubs_fleet_view_shows_a_booth_whose_printer_needs_a_person() {
    let pg = Postgres::start();
    let hub = Hub::start(&pg, "127.0.0.1:0");
    let dir = tempfile::tempdir().unwrap();
    // A prep printer nobody answers at: its tickets cannot print.
    let printer = format!(
        "[[printers]]\nname = \"prep\"\nuri = \"socket://127.0.0.1:{}\"\nrole = \"tickets\"\n",
        free_port()
    );
    let node = start_booth(booth_manifest(
        dir.path(),
        &hub.url,
        "stand-5",
        &Hub::credential("stand-5"),
        &printer,
        "[]",
    ));
    until(&node, "online", Duration::from_secs(20), mode_is("online")).await;
    buy_many(&node, 1, "ticket").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let prep = loop {
        let booths = hub.booths().await;
        let prep = booths[0]["report"]["printers"][0].clone();
        let waiting =
            prep["queued"].as_i64().unwrap_or(0) + prep["waiting_for_staff"].as_i64().unwrap_or(0);
        // The ticket of the order just taken, waiting on a printer that needs a person.
        if prep["state"] == "needs_attention" && waiting >= 1 {
            break prep;
        }
        assert!(Instant::now() < deadline, "the hub never heard of the printer: {booths}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!((prep["name"].as_str(), prep["role"].as_str()), (Some("prep"), Some("tickets")));
    assert!(!prep["detail"].as_str().unwrap().is_empty(), "{prep}");

    // A report the hub cannot hold is refused with its reason, signed or not.
    let printers: Vec<Value> = (0..33)
        .map(|i| {
            json!({"name": format!("p{i}"), "role": "tickets", "state": "ready", "paper": "ok",
                   "queued": 0, "waiting_for_staff": 0})
        })
        .collect();
    let report = json!({"event_id": "harbour-lights-2026", "name": null, "mode": "online",
        "queue_depth": 0, "oldest_unsynced": null, "quarantined": 0,
        "at": jiff::Timestamp::now().to_string(), "printers": printers});
    let body = serde_json::to_vec(&report).unwrap();
    let sig = boothcloud_core::signing::hub::HubSignature::sign(
        &Hub::credential("stand-5"),
        "POST",
        boothcloud_core::hub_protocol::HEARTBEAT_PATH,
        "stand-5",
        jiff::Timestamp::now().as_second(),
        &body,
    );
    let refused = TestNode::client()
        .post(format!("{}{}", hub.url, boothcloud_core::hub_protocol::HEARTBEAT_PATH))
        .header(boothcloud_core::signing::hub::AUTH_HEADER, sig.to_header())
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    let why: Value = refused.json().await.unwrap();
    assert_eq!(why["error"]["code"], "invalid_report");
    assert!(why["error"]["message"].as_str().unwrap().contains("at most 32 printers"), "{why}");
    // The booth's own last report still stands.
    assert_eq!(hub.booths().await[0]["report"]["printers"][0]["name"], "prep");
}

/// A load balancer in front of several hubs: each new connection goes to the next hub
/// that accepts it.
async fn balancer(hubs: Vec<String>) -> String {
    let targets: Vec<std::net::SocketAddr> = hubs
        .iter()
        .map(|h| h.trim_start_matches("http://").trim_end_matches('/').parse().unwrap())
        .collect();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut next = 0usize;
        loop {
            let Ok((mut inbound, _)) = listener.accept().await else { continue };
            let order: Vec<std::net::SocketAddr> =
                (0..targets.len()).map(|i| targets[(next + i) % targets.len()]).collect();
            next += 1;
            tokio::spawn(async move {
                for t in order {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(t).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        return;
                    }
                }
            });
        }
    });
    url
}

#[tokio::test]
async fn two_hubs_on_one_database_share_the_work_and_one_can_die() {
    let pg = Postgres::start();
    let first = Hub::start(&pg, "127.0.0.1:0");
    let second = Hub::start(&pg, "127.0.0.1:0");
    let lb = balancer(vec![first.url.clone(), second.url.clone()]).await;
    let dir = tempfile::tempdir().unwrap();
    let node = start_booth(booth_manifest(
        dir.path(),
        &lb,
        "stand-lb",
        &Hub::credential("stand-lb"),
        "",
        "[]",
    ));
    until(&node, "online", Duration::from_secs(20), mode_is("online")).await;
    buy_many(&node, 100, "lb-1").await;
    first.kill();
    buy_many(&node, 100, "lb-2").await;
    until(&node, "drained through the surviving hub", Duration::from_secs(30), |v| {
        drained(v) && v["mode"] == "online"
    })
    .await;
    assert_eq!(at_hub(&pg, "stand-lb"), (200, 200));
    let booths = second.booths().await;
    assert_eq!(
        booths[0]["orders"], 200,
        "any hub answers for every booth: the state is in the database"
    );
}

#[tokio::test]
async fn failover_is_one_call_and_every_control_action_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let dead = format!("http://127.0.0.1:{}", free_port());
    let node = start_booth(booth_manifest(
        dir.path(),
        &dead,
        "stand-5",
        &Hub::credential("stand-5"),
        "",
        "[]",
    ));
    let http = TestNode::client();
    let failover = |path: &str, client: &str| {
        let req =
            http.post(format!("{}/api/v1/ops/failover", node.url)).json(&json!({ "path": path }));
        let req = if client.is_empty() {
            req
        } else {
            req.bearer_auth(OPERATOR_TOKEN).header("x-boothcloud-client", client)
        };
        async move { req.send().await.unwrap() }
    };
    assert_eq!(failover("offline", "").await.status(), 401, "controls need the operator token");
    assert_eq!(failover("sideways", "api").await.status(), 422);
    let to_offline = failover("offline", "dashboard").await;
    assert_eq!(to_offline.status(), 200);
    let view: Value = to_offline.json().await.unwrap();
    assert_eq!(
        (view["route"]["route"].as_str(), view["mode"].as_str()),
        (Some("offline_only"), Some("offline"))
    );
    assert_eq!(failover("peer:no-such-booth", "app").await.status(), 404);
    assert_eq!(failover("auto", "app").await.status(), 200);
    let reload = http
        .post(format!("{}/api/v1/ops/manifest/reload", node.url))
        .bearer_auth(OPERATOR_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(reload.status(), 200);

    let kiosk = Kiosk::new(&node.url);
    let log = kiosk.ops_get("/api/v1/ops/audit").await;
    assert_eq!(log.status, 200);
    let entries: Vec<(String, String, String, String, String)> = log
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or("").to_owned();
            (s("action"), s("client"), s("before"), s("after"), s("result"))
        })
        .collect();
    // Newest first; refusals are recorded too (422 never reached the control).
    assert_eq!(entries.len(), 4, "{entries:?}");
    assert_eq!(entries[0].0, "reload price list");
    assert_eq!(
        entries[1],
        ("failover".into(), "app".into(), "offline".into(), "auto".into(), "ok".into())
    );
    assert_eq!(
        (entries[2].0.as_str(), entries[2].1.as_str(), entries[2].3.as_str()),
        ("failover", "app", "peer:no-such-booth")
    );
    assert!(entries[2].4.contains("no booth no-such-booth"), "{:?}", entries[2]);
    assert_eq!(
        entries[3],
        ("failover".into(), "dashboard".into(), "auto".into(), "offline".into(), "ok".into())
    );
    assert!(
        log.body[0]["at"].is_string()
            && log.body[0]["actor"] == "operator"
            && log.body[0]["why"] == "manual"
    );
    assert_eq!(kiosk.ops_get("/api/v1/ops/audit?limit=0").await.status, 400);
    let older = kiosk.ops_get(&format!("/api/v1/ops/audit?before={}", log.body[1]["id"])).await;
    assert_eq!(older.body.as_array().unwrap().len(), 2, "paging");
}

#[tokio::test]
async fn an_online_teardown_syncs_every_order_to_the_hub_and_needs_no_export() {
    let pg = Postgres::start();
    let hub = Hub::start(&pg, "127.0.0.1:0");
    let dir = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut node = TestNode::start_with(Options {
        manifest: Some(booth_manifest(
            dir.path(),
            &hub.url,
            "stand-14",
            &Hub::credential("stand-14"),
            "",
            "[]",
        )),
        data_dir: Some(data.path().to_owned()),
        ..Options::default()
    });
    until(&node, "online", Duration::from_secs(20), mode_is("online")).await;
    let sold = buy_many(&node, 60, "closing").await;
    // At once, while the last orders may still be on their way: teardown waits for them.
    let res = TestNode::client()
        .post(format!("{}/api/v1/ops/teardown", node.url))
        .bearer_auth(OPERATOR_TOKEN)
        .json(&json!({"confirm": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let exit = node
        .wait_for_exit(Duration::from_secs(90))
        .expect("the node stops by itself at the end of teardown");
    assert!(exit.success(), "{exit:?}");
    assert_eq!(at_hub(&pg, "stand-14"), (60, 60), "every order at the hub, once");
    for id in &sold {
        assert_eq!(
            pg.count(&format!("SELECT COUNT(*) FROM hub_orders WHERE order_id = '{id}'")),
            1,
            "{id}"
        );
    }
    // No folder was needed; the report is kept in the data folder.
    let report = data.path().join("reports").join("harbour-lights-2026");
    let summary: Value =
        serde_json::from_slice(&std::fs::read(report.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["orders"]["synced"], 60, "{summary:#}");
    assert!(std::fs::read_to_string(report.join("report.html"))
        .unwrap()
        .contains("all 60 orders are synced upstream"));
}

#[tokio::test]
async fn two_paired_booths_ten_minutes_apart_still_relay_and_the_skew_is_shown_and_reported() {
    let pg = Postgres::start();
    let hub = Hub::start(&pg, "127.0.0.1:0");
    let link_a = Link::to(&hub.url).await;
    let dir_b = tempfile::tempdir().unwrap();
    let b = start_booth(booth_manifest(
        dir_b.path(),
        &hub.url,
        "stand-b",
        &Hub::credential("stand-b"),
        "",
        "[]",
    ));
    // A's laptop clock is ten minutes ahead of everyone's (monotonic time is real):
    // past the peers' signing window (30 s) and the hub's (5 min). The hub refuses A's
    // first heartbeat and states its time; A signs the next one in it.
    let clock = boothcloud_tests::SteppedClock::new(600);
    let dir_a = tempfile::tempdir().unwrap();
    let peers = format!(
        "[{{ name = \"Stand B\", url = \"{}/\", ca = \"{}\" }}]",
        b.url,
        boothcloud_tests::test_ca().fingerprint
    );
    let a = TestNode::start_with(Options {
        manifest: Some(booth_manifest(
            dir_a.path(),
            &link_a.url,
            "stand-a",
            &Hub::credential("stand-a"),
            "",
            &peers,
        )),
        env: clock.env(),
        ..Options::default()
    });
    until(&a, "A online", Duration::from_secs(20), mode_is("online")).await;
    until(&a, "A sees B as a relay", Duration::from_secs(20), |v| {
        v["relay_candidates"].as_array().is_some_and(|c| !c.is_empty())
    })
    .await;
    let fleet = Kiosk::enrolled(&a.url).await.ops_get("/api/v1/ops/fleet").await.body;
    let stand_b = &fleet["booths"][0];
    assert_eq!(stand_b["paired"], true, "{fleet:#}");
    let offset = stand_b["clock_offset_ms"].as_i64().unwrap();
    assert!((offset + 600_000).abs() < 2_000, "B is ten minutes behind A: {offset}");
    assert_eq!(stand_b["clock_words"], "Its clock is 10 min 00 s behind this booth's.");

    link_a.cut();
    until(&a, "A relays", Duration::from_secs(10), mode_is("relay")).await;
    let ids = buy_many(&a, 20, "apart").await;
    until(&a, "drained through B", Duration::from_secs(30), drained).await;
    assert_eq!(at_hub(&pg, "stand-a"), (20, 20), "every order at the hub, once");
    assert_eq!(
        pg.count(
            "SELECT COUNT(*) FROM hub_orders WHERE booth_id = 'stand-a' AND relayed_by = 'stand-b'"
        ),
        20
    );
    assert_eq!(ids.len(), 20);
    // The skew reached the hub with A's heartbeats while its link was up.
    let reported = pg.count(
        "SELECT COALESCE((report->>'clock_offset_ms')::bigint, 0) FROM hub_booths WHERE booth_id = 'stand-a'",
    );
    assert!((reported - 600_000).abs() < 2_000, "A reported its offset to the hub: {reported}");
}

#[tokio::test]
async fn a_booth_whose_clock_is_past_the_hubs_window_signs_in_the_hubs_time_after_one_refusal() {
    let pg = Postgres::start();
    let hub = Hub::start(&pg, "127.0.0.1:0");
    // Fifteen minutes fast, alone (no paired booth to learn the hub's time from): the hub
    // refuses its first heartbeat, stating its time; the booth signs the next in it.
    // (Fast, not slow: a clock reading before the program's build would put the booth in
    // doubt at start, and it would count from the build time instead.)
    let clock = boothcloud_tests::SteppedClock::new(900);
    let dir = tempfile::tempdir().unwrap();
    let node = TestNode::start_with(Options {
        manifest: Some(booth_manifest(
            dir.path(),
            &hub.url,
            "stand-fast",
            &Hub::credential("stand-fast"),
            "",
            "[]",
        )),
        env: clock.env(),
        ..Options::default()
    });
    until(&node, "online", Duration::from_secs(20), mode_is("online")).await;
    buy_many(&node, 5, "fast").await;
    until(&node, "drained", Duration::from_secs(20), drained).await;
    assert_eq!(at_hub(&pg, "stand-fast"), (5, 5));
    let reported = pg.count(
        "SELECT COALESCE((report->>'clock_offset_ms')::bigint, 0) FROM hub_booths WHERE booth_id = 'stand-fast'",
    );
    assert!((reported - 900_000).abs() < 2_000, "its offset reached the hub: {reported}");
}

#[tokio::test]
async fn each_degrade_level_lowers_the_heartbeat_bytes_measured_over_the_uplink() {
    let pg = Postgres::start();
    let hub = Hub::start(&pg, "127.0.0.1:0");
    let dir = tempfile::tempdir().unwrap();
    // Normal: a heartbeat every 300 ms; reduced every second; essential every 3 s.
    let path =
        booth_manifest(dir.path(), &hub.url, "stand-9", &Hub::credential("stand-9"), "", "[]");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("heartbeat_every = \"15s\"", "heartbeat_every = \"1s\"")
        .replace("heartbeat_every = \"60s\"", "heartbeat_every = \"3s\"");
    std::fs::write(&path, text).unwrap();
    let node = start_booth(path);
    until(&node, "online", Duration::from_secs(20), mode_is("online")).await;
    let heartbeats = || async {
        let status = Kiosk::enrolled(&node.url).await.ops_get("/api/v1/ops/status").await.body;
        let t = status["spend"]["traffic"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["purpose"] == "heartbeat")
            .unwrap()
            .clone();
        (t["bytes"].as_u64().unwrap(), t["calls"].as_u64().unwrap())
    };
    let mut per_minute = Vec::new();
    for level in ["normal", "reduced", "essential"] {
        let set = TestNode::client()
            .post(format!("{}/api/v1/ops/degrade", node.url))
            .bearer_auth(OPERATOR_TOKEN)
            .json(&json!({ "level": level }))
            .send()
            .await
            .unwrap();
        assert_eq!(set.status(), 200);
        // The heartbeat already waiting at the old pace goes first.
        tokio::time::sleep(Duration::from_millis(3_500)).await;
        let (b0, _) = heartbeats().await;
        tokio::time::sleep(Duration::from_secs(6)).await;
        let (b1, _) = heartbeats().await;
        per_minute.push((b1 - b0) * 10);
    }
    eprintln!("heartbeat bytes a minute: normal, reduced, essential = {per_minute:?}");
    assert!(per_minute[0] > per_minute[1] && per_minute[1] > per_minute[2], "{per_minute:?}");
    assert!(per_minute[2] > 0, "essential still sends heartbeats");

    let controls = Kiosk::enrolled(&node.url).await.ops_get("/api/v1/ops/controls").await.body;
    let reduced = controls["levels"].as_array().unwrap().iter().find(|l| l["name"] == "reduced");
    let reduced = reduced.unwrap();
    assert!(reduced["saves_bytes_per_minute"].as_u64().unwrap() > 0, "{reduced}");
    let said = reduced["effects"].to_string();
    assert!(
        said.contains("Heartbeats to the hub every 1s")
            && said.contains("a minute less over the uplink"),
        "{said}"
    );
}
