//! Selling against the real binary: a phone orders ahead and pays at pickup (card and
//! cash are refused to it); a kiosk pays by card with the slip's reference; staff ring
//! up a crew-priced cash sale with change due; every order gets the next pickup number
//! and a public receipt without contact details; the counter moves orders on one step
//! at a time, collects a pay-at-pickup order only once told how it was paid, voids
//! before sync (stock comes back) and refunds within the total, audited by name; the
//! pickup board follows; a lost answer retried with the same key is one order.

use boothcloud_tests::{Kiosk, TestNode, OPERATOR_TOKEN};
use serde_json::{json, Value};

async fn send(
    node: &TestNode,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut r = TestNode::client().request(method.clone(), format!("{}{path}", node.url));
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    if let Some(b) = body {
        r = r.json(&b);
    }
    let a = Kiosk::answer_of(method.as_str(), r.send().await.unwrap()).await;
    (a.status, a.body)
}

async fn order_as(
    node: &TestNode,
    headers: &[(&str, &str)],
    key: &str,
    lines: Value,
    tier: Option<&str>,
    payment: Value,
) -> (u16, Value) {
    let client = TestNode::client();
    let with = |mut r: reqwest::RequestBuilder| {
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        r
    };
    let q = with(client.post(format!("{}/api/v1/quotes", node.url)))
        .json(&json!({"lines": lines, "tier": tier}))
        .send()
        .await
        .unwrap();
    let q = Kiosk::answer_of("POST", q).await;
    assert_eq!(q.status, 200, "{}", q.body);
    let r = with(client.post(format!("{}/api/v1/orders", node.url)))
        .header("idempotency-key", key)
        .json(&json!({"quote_token": q.body["token"], "payment": payment}))
        .send()
        .await
        .unwrap();
    let a = Kiosk::answer_of("POST", r).await;
    (a.status, a.body)
}

fn number(n: &Value) -> u32 {
    n["pickup_number"].as_str().unwrap()[2..].parse().unwrap()
}

#[tokio::test]
async fn phones_kiosks_and_the_counter_sell_and_fulfil_with_pickup_numbers_and_receipts() {
    let node = TestNode::start();
    let (post, get) = (reqwest::Method::POST, reqwest::Method::GET);
    let lead = Some(OPERATOR_TOKEN);

    // A phone may not claim it paid by card; it orders ahead, to pay at pickup.
    let (s, body) = order_as(
        &node,
        &[],
        "phone-1",
        json!([{"sku": "COCOA", "qty": 2}]),
        None,
        json!({"method": "card"}),
    )
    .await;
    assert_eq!((s, body["error"]["code"].as_str()), (403, Some("payment_not_allowed")), "{body}");
    let (s, phone) = order_as(
        &node,
        &[],
        "phone-2",
        json!([{"sku": "COCOA", "qty": 2}]),
        None,
        json!({"method": "pay_at_pickup"}),
    )
    .await;
    assert_eq!(s, 201, "{phone}");
    assert!(phone["pickup_number"].as_str().unwrap().starts_with("A-"));
    let receipt_url = phone["receipt_url"].as_str().unwrap().to_owned();
    let receipt_id = phone["receipt_id"].as_str().unwrap().to_owned();
    assert_eq!(receipt_url, format!("/r/{receipt_id}"));

    // The receipt is public, shows names, no contact details, and where the order is.
    let (s, r) =
        send(&node, get.clone(), &format!("/api/v1/receipts/{receipt_id}"), None, None).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!((r["fulfilment"].as_str(), r["paid"].as_bool()), (Some("new"), Some(false)));
    assert_eq!(r["lines"][0]["name"], "Hot cocoa");
    assert!(r.get("customer").is_none() && r.get("order_id").is_none());
    let (s, _) =
        send(&node, get.clone(), "/api/v1/receipts/0000000000000000000000000a", None, None).await;
    assert_eq!(s, 404);
    let page = TestNode::client().get(format!("{}{receipt_url}", node.url)).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let qr = TestNode::client()
        .get(format!("{}/api/v1/receipts/{receipt_id}/qr.svg", node.url))
        .send()
        .await
        .unwrap();
    assert_eq!(qr.headers()["content-type"], "image/svg+xml");
    assert!(qr.text().await.unwrap().contains("<svg"));

    // A kiosk takes a card, with the slip's reference; a bad reference is refused.
    let key = enroll(&node).await;
    let kh = [("x-boothcloud-kiosk", key.as_str())];
    let (s, bad) = order_as(
        &node,
        &kh,
        "kiosk-0",
        json!([{"sku": "TOTE", "qty": 1}]),
        None,
        json!({"method": "card", "reference": "x\u{7}"}),
    )
    .await;
    assert_eq!((s, bad["error"]["code"].as_str()), (422, Some("invalid_payment")));
    let (s, card) = order_as(
        &node,
        &kh,
        "kiosk-1",
        json!([{"sku": "MUG-GLOW", "qty": 2}]),
        None,
        json!({"method": "card", "reference": "AUTH 0042"}),
    )
    .await;
    assert_eq!(s, 201, "{card}");
    assert_eq!(card["payment_reference"], "AUTH 0042");
    assert_eq!(number(&card), number(&phone) + 1, "the next number");

    // Staff sign in and ring up a crew sale in cash, with change due.
    let (s, _) = send(
        &node,
        post.clone(),
        "/api/v1/ops/staff",
        lead,
        Some(json!({"name": "Ana", "pin": "4821"})),
    )
    .await;
    assert_eq!(s, 201);
    let (s, session) = send(
        &node,
        post.clone(),
        "/api/v1/staff/session",
        None,
        Some(json!({"name": "Ana", "pin": "4821"})),
    )
    .await;
    assert_eq!(s, 200);
    let staff_token = session["token"].as_str().unwrap().to_owned();
    let bearer = format!("Bearer {staff_token}");
    let sh = [("authorization", bearer.as_str())];
    let (s, cash) = order_as(
        &node,
        &sh,
        "counter-1",
        json!([{"sku": "COFFEE", "qty": 2}]),
        Some("crew"),
        json!({"method": "cash", "tendered": 2000}),
    )
    .await;
    assert_eq!(s, 201, "{cash}");
    let total = cash["total"].as_i64().unwrap();
    assert!(total < 700, "crew prices are below the public 2 × 3.50: {total}");
    assert_eq!(cash["change_due"].as_i64(), Some(2000 - total));
    let (s, short) = order_as(
        &node,
        &sh,
        "counter-2",
        json!([{"sku": "COFFEE", "qty": 1}]),
        None,
        json!({"method": "cash", "tendered": 100}),
    )
    .await;
    assert_eq!((s, short["error"]["code"].as_str()), (422, Some("invalid_payment")));

    // The counter: strangers are refused; staff see the open orders, oldest first.
    let (s, _) = send(&node, get.clone(), "/api/v1/counter/orders", None, None).await;
    assert_eq!(s, 401);
    let (s, open) =
        send(&node, get.clone(), "/api/v1/counter/orders", Some(&staff_token), None).await;
    assert_eq!(s, 200);
    let numbers: Vec<&str> = open["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["pickup_number"].as_str().unwrap())
        .collect();
    assert_eq!(
        numbers,
        [
            phone["pickup_number"].as_str().unwrap(),
            card["pickup_number"].as_str().unwrap(),
            cash["pickup_number"].as_str().unwrap()
        ]
    );

    // One step at a time; the board and the receipt follow.
    let step = |id: &str| format!("/api/v1/counter/orders/{id}/fulfilment");
    let phone_id = phone["order_id"].as_str().unwrap();
    let (s, e) = send(
        &node,
        post.clone(),
        &step(phone_id),
        Some(&staff_token),
        Some(json!({"state": "ready"})),
    )
    .await;
    assert_eq!((s, e["error"]["code"].as_str()), (409, Some("invalid_transition")));
    for to in ["preparing", "ready"] {
        let (s, o) = send(
            &node,
            post.clone(),
            &step(phone_id),
            Some(&staff_token),
            Some(json!({"state": to})),
        )
        .await;
        assert_eq!((s, o["fulfilment"].as_str()), (200, Some(to)), "{o}");
    }
    let (_, board) = send(&node, get.clone(), "/api/v1/pickup", None, None).await;
    assert_eq!(board["ready"], json!([phone["pickup_number"]]));
    assert!(board["preparing"].as_array().unwrap().contains(&card["pickup_number"]));
    let (_, r) =
        send(&node, get.clone(), &format!("/api/v1/receipts/{receipt_id}"), None, None).await;
    assert_eq!(r["fulfilment"], "ready");
    // Paid at pickup: handed over only once told how it was paid.
    let (s, e) = send(
        &node,
        post.clone(),
        &step(phone_id),
        Some(&staff_token),
        Some(json!({"state": "collected"})),
    )
    .await;
    assert_eq!((s, e["error"]["code"].as_str()), (422, Some("payment_needed")));
    let (s, o) = send(
        &node,
        post.clone(),
        &step(phone_id),
        Some(&staff_token),
        Some(json!({"state": "collected", "paid_with": "cash"})),
    )
    .await;
    assert_eq!((s, o["paid"].as_bool()), (200, Some(true)), "{o}");
    let (_, board) = send(&node, get.clone(), "/api/v1/pickup", None, None).await;
    assert!(!board["ready"].as_array().unwrap().contains(&phone["pickup_number"]));

    // A void before sync gives the mugs back and takes the order off the board.
    let before = available(&node, "MUG-GLOW").await;
    let card_id = card["order_id"].as_str().unwrap();
    let (s, v) = send(
        &node,
        post.clone(),
        &format!("/api/v1/counter/orders/{card_id}/void"),
        Some(&staff_token),
        Some(json!({"reason": "card declined after all"})),
    )
    .await;
    assert_eq!(
        (s, v["fulfilment"].as_str(), v["status"].as_str()),
        (200, Some("voided"), Some("voided")),
        "{v}"
    );
    assert_eq!(available(&node, "MUG-GLOW").await, before + 2);
    // A refund: its own record, within the total, audited by name.
    let cash_id = cash["order_id"].as_str().unwrap();
    let refunds = format!("/api/v1/counter/orders/{cash_id}/refunds");
    let (s, e) = send(
        &node,
        post.clone(),
        &refunds,
        Some(&staff_token),
        Some(json!({"amount": total + 1, "reason": "too much"})),
    )
    .await;
    assert_eq!((s, e["error"]["code"].as_str()), (409, Some("refund_exceeds")));
    let (s, refund) = send(
        &node,
        post.clone(),
        &refunds,
        Some(&staff_token),
        Some(json!({"amount": 100, "reason": "coffee went cold"})),
    )
    .await;
    assert_eq!((s, refund["by"].as_str()), (201, Some("Ana")), "{refund}");
    let (_, audit) = send(&node, get.clone(), "/api/v1/ops/audit?limit=50", lead, None).await;
    let said = audit.to_string();
    assert!(
        said.contains("refund") && said.contains("coffee went cold") && said.contains("staff Ana"),
        "{said}"
    );
    assert!(said.contains("void order"), "{said}");

    // Nothing was taken for an order paid at pickup: it is voided, never refunded.
    let (_, unpaid) = order_as(
        &node,
        &[],
        "phone-3",
        json!([{"sku": "COCOA", "qty": 1}]),
        None,
        json!({"method": "pay_at_pickup"}),
    )
    .await;
    let unpaid_refunds =
        format!("/api/v1/counter/orders/{}/refunds", unpaid["order_id"].as_str().unwrap());
    let (s, e) = send(
        &node,
        post.clone(),
        &unpaid_refunds,
        Some(&staff_token),
        Some(json!({"amount": 100, "reason": "never paid"})),
    )
    .await;
    assert_eq!((s, e["error"]["code"].as_str()), (409, Some("invalid_transition")), "{e}");
    // A counter whose session ended hears so, instead of selling as a stranger.
    let out = TestNode::client()
        .delete(format!("{}/api/v1/staff/session", node.url))
        .bearer_auth(&staff_token)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status().as_u16(), 204);
    let q = TestNode::client()
        .post(format!("{}/api/v1/quotes", node.url))
        .bearer_auth(&staff_token)
        .json(&json!({"lines": [{"sku": "COFFEE", "qty": 1}]}))
        .send()
        .await
        .unwrap();
    let q = Kiosk::answer_of("POST", q).await;
    assert_eq!((q.status, q.body["error"]["code"].as_str()), (401, Some("staff_session_needed")));

    // A checkout whose answer was lost is retried with the same key and body: one
    // order, one number.
    let client = TestNode::client();
    let q = client
        .post(format!("{}/api/v1/quotes", node.url))
        .header(kh[0].0, kh[0].1)
        .json(&json!({"lines": [{"sku": "TOTE", "qty": 1}]}))
        .send()
        .await
        .unwrap();
    let token = Kiosk::answer_of("POST", q).await.body["token"].clone();
    let body = json!({"quote_token": token, "payment": {"method": "card", "reference": "AUTH 7"}});
    let mut answers = Vec::new();
    for _ in 0..2 {
        let r = client
            .post(format!("{}/api/v1/orders", node.url))
            .header(kh[0].0, kh[0].1)
            .header("idempotency-key", "kiosk-lost-answer")
            .json(&body)
            .send()
            .await
            .unwrap();
        answers.push(Kiosk::answer_of("POST", r).await);
    }
    assert_eq!((answers[0].status, answers[1].status), (201, 201));
    assert_eq!(answers[1].headers["idempotent-replayed"], "true");
    assert_eq!(answers[0].body["pickup_number"], answers[1].body["pickup_number"]);
    assert_eq!(answers[0].body["order_id"], answers[1].body["order_id"]);
}

async fn enroll(node: &TestNode) -> String {
    let r = TestNode::client()
        .post(format!("{}/api/v1/ops/kiosks", node.url))
        .bearer_auth(OPERATOR_TOKEN)
        .json(&json!({"name": "front kiosk"}))
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    body["token"].as_str().unwrap().to_owned()
}

async fn available(node: &TestNode, sku: &str) -> i64 {
    let (_, c) = send(node, reqwest::Method::GET, "/api/v1/catalogue", None, None).await;
    c["items"].as_array().unwrap().iter().find(|i| i["sku"] == sku).unwrap()["available"]
        .as_i64()
        .unwrap()
}
