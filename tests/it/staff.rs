//! Staff against the real binary: the lead adds a person with a PIN; they sign in on a
//! device and price a customer tier no stranger may; their session opens no operator
//! route; wrong PINs lock them out (429 with Retry-After) while others sign in; the
//! lead's PIN reset lifts the lockout and ends the old sessions; all audited by name.

use boothcloud_tests::{Kiosk, TestNode, OPERATOR_TOKEN};
use serde_json::{json, Value};

async fn send(
    node: &TestNode,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut r = TestNode::client().request(method.clone(), format!("{}{path}", node.url));
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    if let Some(b) = body {
        r = r.json(&b);
    }
    let a = Kiosk::answer_of(method.as_str(), r.send().await.unwrap()).await;
    (a.status, a.body, a.headers)
}

#[tokio::test]
async fn staff_sign_in_with_a_pin_price_tiers_reach_no_controls_and_lock_after_wrong_pins() {
    let node = TestNode::start();
    let post = reqwest::Method::POST;
    let get = reqwest::Method::GET;
    let lead = Some(OPERATOR_TOKEN);

    let (status, ana, _) = send(
        &node,
        post.clone(),
        "/api/v1/ops/staff",
        lead,
        Some(json!({"name": "Ana", "pin": "4821"})),
    )
    .await;
    assert_eq!(status, 201, "{ana}");
    let (status, _, _) = send(
        &node,
        post.clone(),
        "/api/v1/ops/staff",
        lead,
        Some(json!({"name": "Bo", "pin": "5555"})),
    )
    .await;
    assert_eq!(status, 201);
    let (status, e, _) = send(
        &node,
        post.clone(),
        "/api/v1/ops/staff",
        lead,
        Some(json!({"name": "ana", "pin": "1234"})),
    )
    .await;
    assert_eq!((status, e["error"]["code"].as_str()), (409, Some("name_taken")));
    let (status, _, _) = send(
        &node,
        post.clone(),
        "/api/v1/ops/staff",
        None,
        Some(json!({"name": "Cy", "pin": "1234"})),
    )
    .await;
    assert_eq!(status, 401, "only the lead adds staff");

    let sign_in = |name: &'static str, pin: &'static str| {
        let node = &node;
        async move {
            send(
                node,
                reqwest::Method::POST,
                "/api/v1/staff/session",
                None,
                Some(json!({"name": name, "pin": pin})),
            )
            .await
        }
    };
    let (status, session, _) = sign_in("Ana", "4821").await;
    assert_eq!(status, 200, "{session}");
    let token = session["token"].as_str().unwrap().to_owned();
    let (status, me, _) = send(&node, get.clone(), "/api/v1/staff/me", Some(&token), None).await;
    assert_eq!((status, me["name"].as_str()), (200, Some("Ana")));

    // The counter prices the crew tier; a stranger cannot.
    let crew = json!({"lines": [{"sku": "COCOA", "qty": 1}], "tier": "crew"});
    let (status, e, _) =
        send(&node, post.clone(), "/api/v1/quotes", None, Some(crew.clone())).await;
    assert_eq!((status, e["error"]["code"].as_str()), (403, Some("tier_not_allowed")));
    let (status, quote, _) =
        send(&node, post.clone(), "/api/v1/quotes", Some(&token), Some(crew.clone())).await;
    assert_eq!((status, quote["tier"].as_str()), (200, Some("crew")), "{quote}");

    // A staff session is not the lead's: no controls, no teardown, no staff list.
    for (method, path) in [
        (get.clone(), "/api/v1/ops/status"),
        (get.clone(), "/api/v1/ops/staff"),
        (post.clone(), "/api/v1/ops/degrade"),
        (post.clone(), "/api/v1/ops/teardown"),
    ] {
        let (status, _, _) = send(&node, method, path, Some(&token), Some(json!({}))).await;
        assert_eq!(status, 401, "{path}");
    }

    // Wrong PINs lock Ana out, even with the right one; Bo still signs in.
    for _ in 0..4 {
        assert_eq!(sign_in("Ana", "0000").await.0, 401);
    }
    let (status, e, headers) = sign_in("Ana", "0000").await;
    assert_eq!((status, e["error"]["code"].as_str()), (429, Some("staff_locked")));
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((60..=300).contains(&retry), "{retry}");
    assert_eq!(sign_in("Ana", "4821").await.0, 429, "locked even with the right PIN");
    assert_eq!(sign_in("Bo", "5555").await.0, 200);

    // The lead resets Ana's PIN: the lockout ends, and so does her old session.
    let id = ana["id"].as_str().unwrap();
    let (status, _, _) = send(
        &node,
        post.clone(),
        &format!("/api/v1/ops/staff/{id}/pin"),
        lead,
        Some(json!({"pin": "7373"})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(send(&node, get.clone(), "/api/v1/staff/me", Some(&token), None).await.0, 401);
    assert_eq!(sign_in("Ana", "7373").await.0, 200);

    let (_, audit, _) = send(&node, get, "/api/v1/ops/audit?limit=100", lead, None).await;
    let text = audit.to_string();
    assert!(text.contains("staff Ana") && text.contains("reset staff PIN"), "{text}");
    assert!(!text.contains("4821") && !text.contains("7373"), "no PIN in the audit log");
}
