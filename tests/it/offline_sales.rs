//! An enrolled kiosk selling while it cannot reach the node: its offline kit (price book
//! by digest, pickup numbers reserved for it, limits), delivery of what it took, once
//! each, with its own numbers, and a price that changed meanwhile marked for staff.

use boothcloud_core::pricing::{document, Basket, BasketLine, PriceBook};
use std::time::{Duration, Instant};

use boothcloud_tests::postgres::{Hub, Postgres};
use boothcloud_tests::{booth_manifest, demo_manifest_in, Kiosk, Options, TestNode};
use serde_json::{json, Value};

/// What a kiosk does offline: prices `lines` with its kit's book and writes the order
/// it will deliver.
fn offline_order(
    book: &PriceBook,
    digest: &str,
    key: &str,
    lines: &[(&str, i64)],
    pickup: i64,
    payment: &str,
) -> Value {
    let basket = Basket {
        lines: lines.iter().map(|(s, q)| BasketLine { sku: (*s).into(), qty: *q }).collect(),
        tier: None,
    };
    let taken_at = jiff::Timestamp::now();
    let priced = book.price(&basket, taken_at).expect("the kiosk prices its basket");
    let charged: Vec<Value> = priced
        .lines
        .iter()
        .map(|l| json!({"sku": l.sku, "qty": l.qty, "unit_price": l.unit_price, "total": l.total}))
        .collect();
    let mut body = json!({
        "idempotency_key": key,
        "price_book": digest,
        "basket": basket,
        "charged": {"lines": charged, "subtotal": priced.subtotal, "discount": priced.discount, "total": priced.total},
        "payment": payment,
        "pickup": pickup,
        "taken_at": taken_at.to_string(),
    });
    if payment == "cash" {
        body["tendered"] = json!(priced.total + 500);
    } else {
        body["reference"] = json!(format!("SLIP-{key}"));
    }
    body
}

/// Enrolls a kiosk: its key, and a client sending it.
async fn enroll(url: &str) -> (String, Kiosk) {
    let lead = Kiosk::new(url);
    let r = lead
        .http
        .post(format!("{url}/api/v1/ops/kiosks"))
        .bearer_auth(boothcloud_tests::OPERATOR_TOKEN)
        .json(&json!({"name": format!("kiosk {:08x}", rand::random::<u32>())}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let token = r.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned();
    let kiosk = with_token(url, &token);
    (token, kiosk)
}

fn with_token(url: &str, token: &str) -> Kiosk {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-boothcloud-kiosk", token.parse().unwrap());
    Kiosk {
        url: url.to_owned(),
        http: TestNode::client_builder().default_headers(headers).build().unwrap(),
    }
}

async fn deliver(kiosk: &Kiosk, body: &Value) -> boothcloud_tests::Answer {
    kiosk.post_raw("/api/v1/kiosk/offline-orders", "application/json", body.to_string()).await
}

async fn counter(node_url: &str) -> Vec<Value> {
    let lead = Kiosk::new(node_url);
    let open = lead.ops_get("/api/v1/counter/orders?view=open").await;
    assert_eq!(open.status, 200, "{}", open.body);
    open.body["orders"].as_array().expect("orders").clone()
}

#[tokio::test]
async fn a_kiosk_sells_offline_and_each_order_reaches_the_node_once_with_its_own_number() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = demo_manifest_in(dir.path());
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let options = |listen: &str| Options {
        manifest: Some(manifest.clone()),
        data_dir: Some(data.clone()),
        listen: listen.to_owned(),
        ..Options::default()
    };
    let node = TestNode::start_with(options("127.0.0.1:0"));
    // The node comes back where the kiosk knows it: the same address and port.
    let address = node.url.trim_start_matches("https://").to_owned();
    let (token, kiosk) = enroll(&node.url).await;
    let (_, other) = enroll(&node.url).await;

    // Only an enrolled kiosk gets a kit.
    let phone = Kiosk::new(&node.url);
    let refused = phone.get("/api/v1/kiosk/offline-kit").await;
    assert_eq!((refused.status, refused.code()), (401, "kiosk_not_enrolled"));
    let kit = kiosk.get("/api/v1/kiosk/offline-kit").await;
    assert_eq!(kit.status, 200, "{}", kit.body);
    let text = kit.body["price_book"].as_str().unwrap();
    let digest = kit.body["price_book_digest"].as_str().unwrap().to_owned();
    assert_eq!(document::digest(text), digest, "the book is named by its SHA-256");
    let book = PriceBook::from_document(text).expect("the kiosk loads its price book");
    let (first, last) = (
        kit.body["pickup"]["first"].as_i64().unwrap(),
        kit.body["pickup"]["last"].as_i64().unwrap(),
    );
    assert_eq!(last - first + 1, 50, "the demo reserves max_orders numbers per kiosk");
    assert_eq!(kit.body["limits"]["methods"], json!(["card", "cash"]));
    let again = kiosk.get("/api/v1/kiosk/offline-kit").await;
    assert_eq!(
        again.body["pickup"]["first"].as_i64(),
        Some(first),
        "the same range until it is used up"
    );
    let theirs = other.get("/api/v1/kiosk/offline-kit").await;
    let (their_first, their_last) = (
        theirs.body["pickup"]["first"].as_i64().unwrap(),
        theirs.body["pickup"]["last"].as_i64().unwrap(),
    );
    assert!(their_first > last || their_last < first, "two kiosks never share a number");

    // The node goes away; the kiosk sells three orders with the book it kept (one with
    // the demo's tee-and-beanie bundle), and the lead meanwhile raises the tote's price.
    node.terminate();
    let orders = [
        offline_order(&book, &digest, "kiosk-a-1", &[("TEE-M", 1), ("BEANIE", 1)], first, "card"),
        offline_order(&book, &digest, "kiosk-a-2", &[("MUG-GLOW", 2)], first + 1, "cash"),
        offline_order(
            &book,
            &digest,
            "kiosk-a-3",
            &[("TOTE", 1), ("STICKER-GULL", 3)],
            first + 2,
            "card",
        ),
    ];
    assert!(orders[0]["charged"]["discount"].as_i64().unwrap() > 0, "the bundle applied offline");
    let raised =
        std::fs::read_to_string(&manifest).unwrap().replace("price = 900\n", "price = 1100\n");
    std::fs::write(&manifest, raised).unwrap();

    let node = TestNode::start_with(options(&address));
    // The kiosk's connections to the node that went away are gone with it.
    let kiosk = with_token(&node.url, &token);
    let mut numbers = Vec::new();
    for (i, body) in orders.iter().enumerate() {
        let taken = deliver(&kiosk, body).await;
        assert_eq!(taken.status, 201, "{}", taken.body);
        assert_eq!(taken.body["pickup_number"], json!(format!("A-{:03}", first + i as i64)));
        assert_eq!(
            taken.body["total"], body["charged"]["total"],
            "taken as the customer was charged"
        );
        numbers.push(taken.body["pickup_number"].as_str().unwrap().to_owned());
    }
    // The answer to the second was lost on the way: the kiosk sends it again.
    let retried = deliver(&kiosk, &orders[1]).await;
    assert_eq!(retried.status, 201);
    assert_eq!(
        retried.headers.get("idempotent-replayed").map(|v| v.to_str().unwrap()),
        Some("true")
    );
    let mut changed = orders[1].clone();
    changed["charged"]["total"] = json!(1);
    let reused = deliver(&kiosk, &changed).await;
    assert_eq!((reused.status, reused.code()), (422, "idempotency_key_reused"));

    let open = counter(&node.url).await;
    for n in &numbers {
        let held: Vec<&Value> = open.iter().filter(|o| o["pickup_number"] == json!(n)).collect();
        assert_eq!(held.len(), 1, "{n} is held exactly once");
        assert!(held[0]["taken_offline_by"].is_string());
    }
    let flagged = |n: &str| {
        open.iter().find(|o| o["pickup_number"] == json!(n)).unwrap()["attention"].clone()
    };
    assert_eq!(flagged(&numbers[0]), Value::Null, "priced as the node would: nothing to look at");
    let tote = flagged(&numbers[2]);
    assert!(tote.as_str().unwrap().contains("price list changed"), "{tote}");

    // A number that was not the kiosk's: the order is still taken, with a new number
    // and a word for staff; an online order after it takes a number nobody holds.
    let stray =
        offline_order(&book, &digest, "kiosk-a-4", &[("POSTCARD-SET", 1)], their_first, "card");
    let taken = deliver(&kiosk, &stray).await;
    assert_eq!(taken.status, 201, "{}", taken.body);
    let stray_number = taken.body["pickup_number"].as_str().unwrap().to_owned();
    assert_ne!(stray_number, format!("A-{their_first:03}"));
    let online = Kiosk::enrolled(&node.url).await.buy("online-1", &[("TOTE", 1)]).await;
    assert_eq!(online.status, 201, "{}", online.body);
    let all = counter(&node.url).await;
    let mut seen: Vec<&str> = all.iter().filter_map(|o| o["pickup_number"].as_str()).collect();
    let count = seen.len();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), count, "no pickup number given twice: {seen:?}");
    assert!(flagged_in(&all, &stray_number).contains("not reserved"));

    // The kit after delivery: the same range, from the next number not used.
    let kit = kiosk.get("/api/v1/kiosk/offline-kit").await;
    assert_eq!(kit.body["pickup"]["first"].as_i64(), Some(first));
    assert_eq!(kit.body["pickup"]["next"].as_i64(), Some(first + 3));
    assert_ne!(
        kit.body["price_book_digest"].as_str(),
        Some(digest.as_str()),
        "a new price list, a new digest"
    );
}

fn flagged_in(orders: &[Value], number: &str) -> String {
    orders
        .iter()
        .find(|o| o["pickup_number"] == json!(number))
        .and_then(|o| o["attention"].as_str())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn what_a_kiosk_holds_is_shown_and_counted_and_bad_deliveries_are_refused_in_words() {
    let node = TestNode::start();
    let kiosk = Kiosk::enrolled(&node.url).await;
    let kit = kiosk.get("/api/v1/kiosk/offline-kit").await;
    let text = kit.body["price_book"].as_str().unwrap();
    let digest = kit.body["price_book_digest"].as_str().unwrap().to_owned();
    let book = PriceBook::from_document(text).unwrap();
    let first = kit.body["pickup"]["first"].as_i64().unwrap();
    let http = TestNode::client();

    // The kiosk says it holds two orders: the lead sees it, and the runway counts them.
    let before = Kiosk::new(&node.url).ops_get("/api/v1/ops/uplink").await;
    let exposure = |v: &Value| {
        v["runway"]["limits"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["limit"] == "exposure")
            .map(|l| l["left"].as_i64().unwrap())
    };
    let put = |orders: u32, total: i64| {
        let kiosk = &kiosk;
        async move {
            kiosk
                .http
                .put(format!("{}/api/v1/kiosk/held", kiosk.url))
                .json(&json!({"orders": orders, "total": total}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(put(2, 4_500).await, 204);
    let listed = Kiosk::new(&node.url).ops_get("/api/v1/ops/kiosks").await;
    assert_eq!(listed.body[0]["waiting_orders"], json!(2));
    assert_eq!(listed.body[0]["waiting_total"], json!(4_500));
    let after = Kiosk::new(&node.url).ops_get("/api/v1/ops/uplink").await;
    if let (Some(b), Some(a)) = (exposure(&before.body), exposure(&after.body)) {
        assert_eq!(b - a, 4_500, "the runway counts what kiosks hold");
    }
    assert_eq!(put(0, 0).await, 204);
    assert_eq!(
        Kiosk::new(&node.url).ops_get("/api/v1/ops/kiosks").await.body[0]["waiting_orders"],
        json!(0)
    );
    let phone_put = http
        .put(format!("{}/api/v1/kiosk/held", node.url))
        .json(&json!({"orders": 1, "total": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(phone_put.status().as_u16(), 401);

    // Refused in words, and nothing stored.
    let good = offline_order(&book, &digest, "bad-1", &[("TOTE", 1)], first, "card");
    let mut pay_later = good.clone();
    pay_later["payment"] = json!("pay_at_pickup");
    pay_later.as_object_mut().unwrap().remove("reference");
    let mut no_digest = good.clone();
    no_digest["price_book"] = json!("not-a-digest");
    let mut unknown_sku = good.clone();
    unknown_sku["basket"]["lines"][0]["sku"] = json!("NOT-SOLD-HERE");
    for (body, code) in
        [(pay_later, "invalid_body"), (no_digest, "invalid_body"), (unknown_sku, "unknown_sku")]
    {
        let refused = deliver(&kiosk, &body).await;
        assert_eq!((refused.status, refused.code()), (422, code), "{}", refused.body);
    }
    let malformed =
        kiosk.post_raw("/api/v1/kiosk/offline-orders", "application/json", "{nope").await;
    assert_eq!(malformed.status, 400);
    let from_phone = Kiosk::new(&node.url)
        .post_raw("/api/v1/kiosk/offline-orders", "application/json", good.to_string())
        .await;
    assert_eq!((from_phone.status, from_phone.code()), (401, "kiosk_not_enrolled"));
    assert!(counter(&node.url).await.is_empty(), "nothing refused was stored");
    // A key already used by another order the kiosk took offline is a conflict.
    assert_eq!(deliver(&kiosk, &good).await.status, 201);
    let mut other = good.clone();
    other["pickup"] = json!(first + 2);
    let conflict = deliver(&kiosk, &other).await;
    assert_eq!((conflict.status, conflict.code()), (422, "idempotency_key_reused"));

    // An order the kiosk placed online and never heard back about, then sold offline
    // under the same key: the node had it, so it is the same sale, answered with its
    // receipt and marked for staff (two numbers were handed out).
    let quote = kiosk.quote(&[("TOTE", 1)], None).await;
    let online = kiosk
        .order("lost-answer", &json!({"quote_token": quote.body["token"], "payment": {"method": "card", "reference": "SLIP-9"}}))
        .await;
    assert_eq!(online.status, 201, "{}", online.body);
    let twin = offline_order(&book, &digest, "lost-answer", &[("TOTE", 1)], first + 1, "card");
    let answered = deliver(&kiosk, &twin).await;
    assert_eq!(answered.status, 201, "{}", answered.body);
    assert_eq!(answered.body["order_id"], online.body["order_id"], "one sale, one order");
    assert_eq!(
        answered.headers.get("idempotent-replayed").map(|v| v.to_str().unwrap()),
        Some("true")
    );
    let number = online.body["pickup_number"].as_str().unwrap();
    assert!(flagged_in(&counter(&node.url).await, number).contains("call both numbers"));
    assert_eq!(deliver(&kiosk, &twin).await.status, 201, "and again, once");

    // A book the node never gave out: still taken as charged, and marked.
    let mut unknown_book = good.clone();
    unknown_book["price_book"] = json!("ab".repeat(32));
    unknown_book["idempotency_key"] = json!("bad-2");
    unknown_book["pickup"] = json!(first + 3);
    let taken = deliver(&kiosk, &unknown_book).await;
    assert_eq!(taken.status, 201, "{}", taken.body);
    assert!(flagged_in(&counter(&node.url).await, taken.body["pickup_number"].as_str().unwrap())
        .contains("never gave out"));
}

#[tokio::test]
async fn orders_a_kiosk_took_offline_reach_the_hub_once_however_often_they_are_delivered() {
    let pg = Postgres::start();
    let hub = Hub::start(&pg, "127.0.0.1:0");
    let dir = tempfile::tempdir().unwrap();
    let manifest =
        booth_manifest(dir.path(), &hub.url, "stand-31", &Hub::credential("stand-31"), "", "[]");
    let node = TestNode::start_with(Options { manifest: Some(manifest), ..Options::default() });
    let (_, kiosk) = enroll(&node.url).await;
    let kit = kiosk.get("/api/v1/kiosk/offline-kit").await;
    let book = PriceBook::from_document(kit.body["price_book"].as_str().unwrap()).unwrap();
    let digest = kit.body["price_book_digest"].as_str().unwrap().to_owned();
    let first = kit.body["pickup"]["first"].as_i64().unwrap();
    let mut ids = Vec::new();
    for i in 0..5 {
        let body = offline_order(
            &book,
            &digest,
            &format!("to-hub-{i}"),
            &[("TEE-S", 1), ("BEANIE", 1)],
            first + i,
            "card",
        );
        // Every order delivered twice, as after an answer lost on the way.
        let a = deliver(&kiosk, &body).await;
        let b = deliver(&kiosk, &body).await;
        assert_eq!((a.status, b.status), (201, 201));
        assert_eq!(a.body["order_id"], b.body["order_id"]);
        ids.push(a.body["order_id"].as_str().unwrap().to_owned());
    }
    let list = ids.iter().map(|id| format!("'{id}'")).collect::<Vec<_>>().join(",");
    let at_hub = || {
        pg.count(&format!(
            "SELECT COUNT(*) FROM hub_orders WHERE booth_id = 'stand-31' AND order_id IN ({list})"
        ))
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while at_hub() < 5 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(at_hub(), 5, "each order reached the hub");
    // Delivered once more after it was synced: still one order, at the node and the hub.
    let late =
        offline_order(&book, &digest, "to-hub-0", &[("TEE-S", 1), ("BEANIE", 1)], first, "card");
    let again = deliver(&kiosk, &late).await;
    assert!(again.status == 201 || again.code() == "idempotency_key_reused", "{}", again.body);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(pg.count("SELECT COUNT(*) FROM hub_orders WHERE booth_id = 'stand-31'"), 5);
}
