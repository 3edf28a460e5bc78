//! Enrolled kiosks: the lead enrolls one by name, it is limited as itself with a larger
//! share than a stranger's phone, and once revoked its token is refused at once.

use std::net::IpAddr;
use std::time::Duration;

use boothcloud_tests::{TestNode, OPERATOR_TOKEN};
use serde_json::{json, Value};

fn from(address: &str) -> reqwest::Client {
    TestNode::client_builder()
        .local_address(address.parse::<IpAddr>().unwrap())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

async fn quote(http: &reqwest::Client, node: &TestNode, kiosk: Option<&str>) -> (u16, Value) {
    let mut r = http
        .post(format!("{}/api/v1/quotes", node.url))
        .json(&json!({"lines": [{"sku": "COCOA", "qty": 1}]}));
    if let Some(t) = kiosk {
        r = r.header("x-boothcloud-kiosk", t);
    }
    let r = r.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn an_enrolled_kiosk_has_its_own_larger_limit_and_is_refused_once_revoked() {
    let node = TestNode::start();
    let lead = TestNode::client();
    let enrolled: Value = lead
        .post(format!("{}/api/v1/ops/kiosks", node.url))
        .bearer_auth(OPERATOR_TOKEN)
        .json(&json!({"name": "Kiosk by the door"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = enrolled["token"].as_str().unwrap().to_owned();
    let id = enrolled["kiosk"]["id"].as_str().unwrap().to_owned();

    // A stranger's phone and the kiosk each send 120 quotes at once: the phone is cut
    // after its burst, the kiosk is not.
    let (phone, kiosk) = (from("127.0.0.2"), from("127.0.0.3"));
    let mut phone_refused = 0;
    let mut kiosk_refused = 0;
    for _ in 0..120 {
        if quote(&phone, &node, None).await.0 == 429 {
            phone_refused += 1;
        }
        if quote(&kiosk, &node, Some(&token)).await.0 == 429 {
            kiosk_refused += 1;
        }
    }
    assert!(phone_refused > 0, "a stranger is limited");
    assert_eq!(kiosk_refused, 0, "the enrolled kiosk is not, at this rate");

    let list: Value = lead
        .get(format!("{}/api/v1/ops/kiosks", node.url))
        .bearer_auth(OPERATOR_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["name"], "Kiosk by the door");
    assert!(list[0]["last_seen"].is_string(), "{list}");
    assert!(list[0].get("token").is_none(), "the token is shown once only");

    // A token nobody enrolled, then the revoked one: refused, and the kiosk is told why.
    let (status, body) = quote(&kiosk, &node, Some("bck_made-up")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (401, Some("kiosk_not_enrolled")));
    let r = lead
        .delete(format!("{}/api/v1/ops/kiosks/{id}", node.url))
        .bearer_auth(OPERATOR_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let (status, body) = quote(&kiosk, &node, Some(&token)).await;
    assert_eq!((status, body["error"]["code"].as_str()), (401, Some("kiosk_not_enrolled")));
    let audit: Value = lead
        .get(format!("{}/api/v1/ops/audit", node.url))
        .bearer_auth(OPERATOR_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let text = audit.to_string();
    assert!(text.contains("enroll kiosk") && text.contains("revoke kiosk"), "{text}");
    assert!(!text.contains(&token), "no token in the audit log");
}
