//! Rate limits per client against the real binary: one device flooding quotes gets
//! `429` with `Retry-After` and the JSON error while another device is served, the
//! laptop itself is never limited, and the refusals are counted per route. Two devices
//! are two loopback addresses (127.0.0.2 and 127.0.0.3); the laptop is 127.0.0.1.

use std::net::IpAddr;
use std::time::Duration;

use boothcloud_tests::{Kiosk, TestNode};

fn device(node: &TestNode, from: &str) -> Kiosk {
    let http = TestNode::client_builder()
        .local_address(from.parse::<IpAddr>().unwrap())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    Kiosk { url: node.url.clone(), http }
}

#[tokio::test]
async fn a_flooding_device_gets_429_while_another_device_and_the_laptop_are_served() {
    let node = TestNode::start();
    let (flood, other, laptop) =
        (device(&node, "127.0.0.2"), device(&node, "127.0.0.3"), Kiosk::new(&node.url));
    let lines = [("COCOA", 1)];

    let mut limited = None;
    let mut served = 0;
    for _ in 0..200 {
        let a = flood.quote(&lines, None).await;
        match a.status {
            200 => served += 1,
            429 => {
                limited = Some(a);
                break;
            }
            s => panic!("unexpected {s}: {}", a.body),
        }
    }
    let limited = limited.expect("a flood of quotes is limited");
    assert!(served >= 50, "the burst is served first: {served}");
    assert_eq!(limited.body["error"]["code"], "rate_limited");
    assert!(limited.body["error"]["message"].as_str().unwrap().contains("too many quotes"));
    let retry: u64 = limited.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=5).contains(&retry), "Retry-After {retry}");

    assert_eq!(other.quote(&lines, None).await.status, 200, "another device is served");
    for _ in 0..100 {
        assert_eq!(laptop.quote(&lines, None).await.status, 200, "the laptop is never limited");
    }
    // The flooder gets in again once it waits.
    tokio::time::sleep(Duration::from_secs(retry)).await;
    assert_eq!(flood.quote(&lines, None).await.status, 200);

    let telemetry = laptop.ops_get("/api/v1/ops/telemetry").await.body;
    let quotes = telemetry["rate_limited"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["route"] == "/api/v1/quotes")
        .expect("the refusals are counted under their route");
    assert!(quotes["refused"].as_u64().unwrap() >= 1, "{telemetry}");
}
