//! Kill -9 while kiosks are ordering: every order acknowledged with 201 must be there
//! afterwards, and none twice.
//!
//! Sixteen kiosks place orders as fast as they can. Each kiosk keeps retrying an order
//! with the same Idempotency-Key and body until it gets an answer, as a real kiosk
//! would across a node restart. Meanwhile the node is SIGKILLed at random moments and
//! restarted on the same data directory and port. At the end, each key must map to
//! exactly one stored order, and the database must hold exactly one order per key.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use boothcloud_tests::{Kiosk, Options, TestNode};
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

const KIOSKS: usize = 16;
const KILLS: usize = 6;

async fn with_retry<F, Fut>(mut attempt: F) -> (u16, Value)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<reqwest::Response, reqwest::Error>>,
{
    loop {
        match attempt().await {
            Ok(r) => {
                let status = r.status().as_u16();
                match r.json::<Value>().await {
                    Ok(body) if status != 503 => return (status, body),
                    // 503, or the node died mid-answer: try again.
                    _ => tokio::time::sleep(Duration::from_millis(20)).await,
                }
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(25)).await,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_orders_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let first = TestNode::start_with(Options {
        data_dir: Some(dir.path().to_path_buf()),
        ..Options::default()
    });
    let url = first.url.clone();
    let listen = url.trim_start_matches("https://").to_owned();
    let restart = || {
        TestNode::start_with(Options {
            data_dir: Some(dir.path().to_path_buf()),
            listen: listen.clone(),
            ..Options::default()
        })
    };

    let stop = Arc::new(AtomicBool::new(false));
    let acked: Arc<Mutex<HashMap<String, (String, Value)>>> = Arc::default();
    let http = TestNode::client_builder().timeout(Duration::from_secs(5)).build().unwrap();
    let kiosks: Vec<_> = (0..KIOSKS)
        .map(|c| {
            let (stop, acked, http, url) = (stop.clone(), acked.clone(), http.clone(), url.clone());
            tokio::spawn(async move {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    let key = format!("kiosk{c}-order{n}");
                    n += 1;
                    let lines = json!({"lines": [{"sku": "TOTE", "qty": 1 + (n % 3)}, {"sku": "COFFEE", "qty": 1}]});
                    let (status, quote) = with_retry(|| http.post(format!("{url}/api/v1/quotes")).json(&lines).send()).await;
                    assert_eq!(status, 200, "{quote}");
                    let body = json!({"quote_token": quote["token"], "payment": {"method": "pay_at_pickup"}});
                    let (status, receipt) =
                        with_retry(|| http.post(format!("{url}/api/v1/orders")).header("idempotency-key", &key).json(&body).send()).await;
                    assert_eq!(status, 201, "{key}: {receipt}");
                    let id = receipt["order_id"].as_str().unwrap().to_owned();
                    acked.lock().unwrap().insert(key, (id, body));
                }
            })
        })
        .collect();

    let mut rng = rand::rngs::StdRng::from_os_rng();
    let mut node = first;
    for _ in 0..KILLS {
        tokio::time::sleep(Duration::from_millis(rng.random_range(200..900))).await;
        node.kill();
        node = restart();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    for k in kiosks {
        k.await.unwrap();
    }

    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() > 100, "the test placed too few orders to mean anything: {}", acked.len());
    let k = Kiosk::enrolled(&node.url).await;
    let ids: std::collections::HashSet<&String> = acked.values().map(|(id, _)| id).collect();
    assert_eq!(ids.len(), acked.len(), "two keys got the same order id");
    for (key, (id, _)) in &acked {
        let r = k.get(&format!("/api/v1/orders/{id}")).await;
        assert_eq!(r.status, 200, "acknowledged order {id} ({key}) is missing after the crashes");
    }
    // Replaying a sample of keys gives back the same order, not a new one.
    for (key, (id, body)) in acked.iter().take(40) {
        let r = k.order(key, body).await;
        assert_eq!((r.status, r.body["order_id"].as_str()), (201, Some(id.as_str())), "{key}");
    }
    let stored = k.ops_get("/api/v1/ops/status").await.body["orders"]["captured"].as_i64().unwrap();
    assert_eq!(
        stored as usize,
        acked.len(),
        "stored orders must equal acknowledged keys: none lost, none twice"
    );
    eprintln!(
        "crash test: {} orders acknowledged across {KILLS} SIGKILLs, all present once",
        acked.len()
    );
}
