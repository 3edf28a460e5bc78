//! Quote → order → status against the real binary, and every way a token can be abused.

use boothcloud_tests::{Kiosk, Options, TestNode};
use serde_json::json;

/// A booth whose promotions are always (or never) active, so the figures do not
/// depend on the time of day the test runs.
const PRICING_MANIFEST: &str = r#"
[event]
id = "bb-test"
name = "Black-box booth"
starts_at = 2026-01-01T00:00:00Z
ends_at = 2028-06-01T00:00:00Z
timezone = "Europe/Berlin"
ttl = "1000d"
currency = "EUR"

[pricing]
tiers = ["member"]
tier_codes = { member = "HARBOUR-MEMBER" }
quote_ttl = "QUOTE_TTL"

[[catalogue]]
sku = "TEE"
name = "Tee"
price = 2500
category = "apparel"
[[catalogue]]
sku = "CAP"
name = "Cap"
price = 1500
category = "apparel"
[[catalogue]]
sku = "STK"
name = "Sticker"
price = 300
category = "stickers"
[[catalogue]]
sku = "COCOA"
name = "Cocoa"
price = 450
category = "drinks"
[[catalogue]]
sku = "PIN"
name = "Pin"
price = 333
category = "pins"
stock = 3

[[promotions]]
id = "all-day-happy-hour"
name = "Happy hour"
kind = "percent_off"
applies_to = { category = "drinks" }
percent = 20
windows = [{ days = ["daily"], from = "00:00", to = "24:00" }]

[[promotions]]
id = "expired-sale"
name = "Last year's sale"
kind = "percent_off"
applies_to = "basket"
percent = 50
valid_until = 2026-01-02T00:00:00Z

[[promotions]]
id = "tee-cap"
name = "Tee + cap for 35.00"
kind = "bundle"
items = [{ sku = "TEE", qty = 1 }, { sku = "CAP", qty = 1 }]
price = 3500
stacking = "exclusive"
priority = 10

[[promotions]]
id = "stickers"
name = "3 for 2"
kind = "buy_x_get_y"
buy = { sku = "STK", qty = 2 }
get = { sku = "STK", qty = 1 }

[[promotions]]
id = "pin-off"
name = "1.00 off pins"
kind = "amount_off"
applies_to = { sku = "PIN" }
amount = 100

[[promotions]]
id = "members"
name = "Members 10%"
kind = "percent_off"
applies_to = "basket"
percent = 10
tiers = ["member"]
cap = 200
"#;

/// `quote_ttl`: short only where a test waits for expiry, so a loaded machine cannot
/// expire a quote between the quote and the order of other tests.
fn pricing_node(quote_ttl: &str) -> (TestNode, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("booth.toml");
    std::fs::write(&path, PRICING_MANIFEST.replace("QUOTE_TTL", quote_ttl)).unwrap();
    (TestNode::start_with(Options { manifest: Some(path), ..Options::default() }), dir)
}

#[tokio::test]
async fn quote_order_status_round_trip() {
    let node = TestNode::start();
    let k = Kiosk::enrolled(&node.url).await;
    let cat = k.get("/api/v1/catalogue").await;
    assert_eq!(cat.status, 200);
    let items = cat.body["items"].as_array().unwrap();
    assert!(items.len() >= 18);
    for item in items {
        assert!(
            item["sku"].is_string()
                && item["name"].is_string()
                && item["price"].is_i64()
                && item["currency"] == "EUR",
            "{item}"
        );
    }
    assert!(!cat.body["promotions"].as_array().unwrap().is_empty());

    let q = k.quote(&[("MUG-CLASSIC", 2), ("TOTE", 1)], None).await;
    assert_eq!(q.status, 200, "{}", q.body);
    // 2 x (1200 - 100 off each mug) + 900.
    assert_eq!(q.body["total"], 3100);
    assert_eq!(q.body["currency"], "EUR");
    assert!(q.body["token"].as_str().unwrap().starts_with("bcq1."));
    assert!(q.body["expires_at"].as_str().unwrap().parse::<jiff::Timestamp>().is_ok());
    assert_eq!(q.body["lines"][0]["discounts"][0]["promotion"], "mug-euro-off");

    let body = json!({"quote_token": q.body["token"], "payment": {"method": "card"}, "customer": {"email": "ann@example.org"}});
    let o = k.order("order-1", &body).await;
    assert_eq!(o.status, 201, "{}", o.body);
    let id = o.body["order_id"].as_str().unwrap().to_owned();
    assert_eq!(o.body["status"], "captured");
    assert_eq!(o.body["total"], 3100);
    assert_eq!(o.headers["location"], format!("/api/v1/orders/{id}").as_str());

    let s = k.get(&format!("/api/v1/orders/{id}")).await;
    assert_eq!(s.status, 200);
    assert_eq!(s.body["order_id"], id.as_str());
    assert_eq!(s.body["status"], "captured");
    assert!(s.body.get("customer").is_none(), "the public view never shows contact details");

    let ops = k.ops_get("/api/v1/ops/orders").await;
    assert_eq!(ops.status, 200);
    assert_eq!(ops.body["orders"][0]["customer"]["email"], "ann@example.org");
    assert_eq!(k.get("/api/v1/ops/orders").await.status, 401);

    let missing = k.get("/api/v1/orders/0190c5a4-0000-7000-8000-000000000000").await;
    assert_eq!((missing.status, missing.code()), (404, "order_not_found"));
    assert_eq!(k.get("/api/v1/orders/not-a-uuid").await.status, 404);
}

#[tokio::test]
async fn idempotent_replay_and_conflicting_replay() {
    let node = TestNode::start();
    let k = Kiosk::enrolled(&node.url).await;
    let q = k.quote(&[("COFFEE", 1)], None).await;
    let body = json!({"quote_token": q.body["token"], "payment": {"method": "cash"}});
    let first = k.order("same-key", &body).await;
    assert_eq!(first.status, 201);
    let again = k.order("same-key", &body).await;
    assert_eq!(again.status, 201);
    assert_eq!(again.body, first.body, "a retry gets the first response verbatim");
    assert_eq!(again.headers["idempotent-replayed"], "true");

    let other = json!({"quote_token": q.body["token"], "payment": {"method": "card"}});
    let conflict = k.order("same-key", &other).await;
    assert_eq!((conflict.status, conflict.code()), (422, "idempotency_key_reused"));

    let reused = k.order("another-key", &body).await;
    assert_eq!((reused.status, reused.code()), (409, "quote_already_used"));

    let status = k.ops_get("/api/v1/ops/status").await;
    assert_eq!(status.body["orders"]["captured"], 1, "exactly one order stored");

    let no_key = k.post_raw("/api/v1/orders", "application/json", body.to_string()).await;
    assert_eq!((no_key.status, no_key.code()), (400, "missing_idempotency_key"));
    let long = k.order(&"k".repeat(129), &body).await;
    assert_eq!((long.status, long.code()), (400, "invalid_idempotency_key"));
}

#[tokio::test]
async fn forged_expired_and_foreign_tokens_are_refused() {
    let (node, _dir) = pricing_node("2s");
    let k = Kiosk::enrolled(&node.url).await;
    let q = k.quote(&[("TEE", 1)], None).await;
    let token = q.body["token"].as_str().unwrap().to_owned();

    // Change the price inside the token and keep the signature.
    let parts: Vec<&str> = token.split('.').collect();
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut claims: serde_json::Value =
        serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    claims["total"] = json!(1);
    let forged = format!("bcq1.{}.{}", b64.encode(serde_json::to_vec(&claims).unwrap()), parts[2]);
    let r = k.order("forged", &json!({"quote_token": forged, "payment": {"method": "card"}})).await;
    assert_eq!((r.status, r.code()), (422, "invalid_quote_token"));

    for junk in ["", "bcq1.abc.def", "not-a-token"] {
        let r = k
            .order(
                &format!("junk-{}", junk.len()),
                &json!({"quote_token": junk, "payment": {"method": "card"}}),
            )
            .await;
        assert_eq!((r.status, r.code()), (422, "invalid_quote_token"), "{junk}");
    }

    // A token from another node (its own signing key) is worthless here.
    let (other, _d2) = pricing_node("5m");
    let foreign = Kiosk::enrolled(&other.url).await.quote(&[("TEE", 1)], None).await;
    let r = k
        .order(
            "foreign",
            &json!({"quote_token": foreign.body["token"], "payment": {"method": "card"}}),
        )
        .await;
    assert_eq!((r.status, r.code()), (422, "invalid_quote_token"));

    // This manifest's quotes live 2 s.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let r = k.order("late", &json!({"quote_token": token, "payment": {"method": "card"}})).await;
    assert_eq!((r.status, r.code()), (422, "quote_expired"));
    assert_eq!(k.ops_get("/api/v1/ops/status").await.body["orders"]["captured"], 0);
}

/// Lines of (SKU, quantity).
type Basket<'a> = &'a [(&'a str, i64)];

#[tokio::test]
async fn every_promotion_kind_over_http() {
    let (node, _dir) = pricing_node("5m");
    let k = Kiosk::enrolled(&node.url).await;
    // (basket, tier, expected total, expected promotions)
    let cases: &[(Basket, Option<&str>, i64, &[&str])] = &[
        // Happy hour (always on here): 20% of 450 = 90 -> 360 each.
        (&[("COCOA", 2)], None, 720, &["all-day-happy-hour"]),
        // Bundle: 2500 + 1500 -> 3500.
        (&[("TEE", 1), ("CAP", 1)], None, 3500, &["tee-cap"]),
        // 3 for 2 on stickers; the 4th pays: 4 x 300 - 300.
        (&[("STK", 4)], None, 900, &["stickers"]),
        // Amount off: 333 - 100.
        (&[("PIN", 1)], None, 233, &["pin-off"]),
        // Members: 10% of 2500 = 250, capped at 200.
        (&[("TEE", 1)], Some("member"), 2300, &["members"]),
        // Exclusive bundle locks tee and cap; members' 10% only on the cocoa (450 - 90 = 360 -> 36).
        (
            &[("TEE", 1), ("CAP", 1), ("COCOA", 1)],
            Some("member"),
            3500 + 324,
            &["tee-cap", "all-day-happy-hour", "members"],
        ),
        // The expired sale never applies.
        (&[("CAP", 1)], None, 1500, &[]),
    ];
    for (lines, tier, total, promos) in cases {
        let q = match tier {
            Some(t) => k.quote_in_tier(lines, t, Some("HARBOUR-MEMBER")).await,
            None => k.quote(lines, None).await,
        };
        assert_eq!(q.status, 200, "{lines:?}: {}", q.body);
        assert_eq!(q.body["total"], *total, "{lines:?} {tier:?}: {}", q.body);
        let applied: Vec<&str> = q.body["discounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["promotion"].as_str().unwrap())
            .collect();
        assert_eq!(&applied, promos, "{lines:?}");
    }
}

#[tokio::test]
async fn a_tier_is_priced_only_with_its_code() {
    let (node, _dir) = pricing_node("5m");
    let k = Kiosk::enrolled(&node.url).await;
    for code in [None, Some("harbour-member"), Some("")] {
        let r = k.quote_in_tier(&[("TEE", 1)], "member", code).await;
        assert_eq!((r.status, r.code()), (403, "tier_not_allowed"), "{code:?}: {}", r.body);
        assert!(r.body["error"]["message"].as_str().unwrap().contains("code"), "{}", r.body);
    }
    let r = k.quote_in_tier(&[("TEE", 1)], "member", Some("HARBOUR-MEMBER")).await;
    assert_eq!((r.status, r.body["tier"].as_str()), (200, Some("member")), "{}", r.body);
    // An unknown tier stays the price engine's answer, code or not.
    let r = k.quote_in_tier(&[("TEE", 1)], "vip", Some("HARBOUR-MEMBER")).await;
    assert_eq!((r.status, r.code()), (422, "unknown_tier"));
}

#[tokio::test]
async fn bad_baskets_and_stock_give_clear_errors() {
    let (node, _dir) = pricing_node("5m");
    let k = Kiosk::enrolled(&node.url).await;
    let cases: &[(Basket, Option<&str>, u16, &str)] = &[
        (&[("NOPE", 1)], None, 422, "unknown_sku"),
        (&[("TEE", 0)], None, 422, "bad_quantity"),
        (&[("TEE", 100)], None, 422, "bad_quantity"),
        (&[], None, 422, "empty_basket"),
        (&[("TEE", 1)], Some("vip"), 422, "unknown_tier"),
        (&[("PIN", 4)], None, 409, "out_of_stock"),
    ];
    for (lines, tier, status, code) in cases {
        let r = k.quote(lines, *tier).await;
        assert_eq!((r.status, r.code()), (*status, *code), "{lines:?}");
        assert!(!r.body["error"]["message"].as_str().unwrap().is_empty());
    }
    let lines: Vec<(&str, i64)> = std::iter::repeat_n(("TEE", 1), 51).collect();
    assert_eq!(k.quote(&lines, None).await.code(), "too_many_lines");

    // Stock is 3: two orders of 2 pins, the second is refused at order time.
    let q1 = k.quote(&[("PIN", 2)], None).await;
    let q2 = k.quote(&[("PIN", 2)], None).await;
    assert_eq!(
        k.order("p1", &json!({"quote_token": q1.body["token"], "payment": {"method": "card"}}))
            .await
            .status,
        201
    );
    let r = k
        .order("p2", &json!({"quote_token": q2.body["token"], "payment": {"method": "card"}}))
        .await;
    assert_eq!((r.status, r.code()), (409, "out_of_stock"));
    let cat = k.get("/api/v1/catalogue").await;
    let pin =
        cat.body["items"].as_array().unwrap().iter().find(|i| i["sku"] == "PIN").unwrap().clone();
    assert_eq!(pin["available"], 1);
}

#[tokio::test]
async fn contact_details_are_checked() {
    let node = TestNode::start();
    let k = Kiosk::enrolled(&node.url).await;
    let q = k.quote(&[("TOTE", 1)], None).await;
    for (i, customer) in [
        json!({"email": "not-an-email"}),
        json!({"phone": "call me"}),
        json!({"email": "a@b.co", "fax": "1"}),
    ]
    .iter()
    .enumerate()
    {
        let r =
            k.order(&format!("c{i}"), &json!({"quote_token": q.body["token"], "payment": {"method": "card"}, "customer": customer})).await;
        assert!(r.status == 422, "{customer}: {}", r.body);
    }
    let r = k
        .order("ok", &json!({"quote_token": q.body["token"], "payment": {"method": "card"}, "customer": {"phone": "+49 30 1234567"}}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
}

#[tokio::test]
async fn the_openapi_document_describes_the_api() {
    let node = TestNode::start();
    let doc = Kiosk::enrolled(&node.url).await.get("/api/v1/openapi.json").await;
    assert_eq!(doc.status, 200);
    assert!(doc.body["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/healthz",
        "/api/v1/catalogue",
        "/api/v1/quotes",
        "/api/v1/orders",
        "/api/v1/orders/{order_id}",
        "/api/v1/ops/orders",
        "/api/v1/ops/status",
    ] {
        assert!(doc.body["paths"].get(path).is_some(), "missing {path}");
    }
    assert!(doc.body["components"]["schemas"].get("OrderRequest").is_some());
    assert!(doc.body["components"]["securitySchemes"].get("operator").is_some());
}
