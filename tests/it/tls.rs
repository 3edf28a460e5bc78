//! HTTPS on the booth: the booth CA made at first start, kiosks that trust it and
//! clients that do not, and what the plain-HTTP port answers to the venue network.

use std::net::IpAddr;
use std::time::Duration;

use boothcloud_tests::{Options, TestNode, OPERATOR_TOKEN};
use serde_json::{json, Value};

/// An address of this machine other than loopback: a request to it comes from that
/// address, as one from a kiosk on the venue network would.
fn lan_address() -> IpAddr {
    let routed = std::net::UdpSocket::bind("0.0.0.0:0")
        .and_then(|s| s.connect("192.0.2.1:9").map(|()| s))
        .and_then(|s| s.local_addr())
        .map(|a| a.ip())
        .ok()
        .filter(|ip| !ip.is_loopback() && !ip.is_unspecified());
    routed
        .or_else(|| {
            let out = std::process::Command::new("hostname").arg("-I").output().ok()?;
            String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .filter_map(|w| w.parse::<IpAddr>().ok())
                .find(|ip| ip.is_ipv4() && !ip.is_loopback())
        })
        .expect("this machine has an address other than loopback (the test needs one to play a kiosk on the LAN)")
}

fn port_of(url: &str) -> u16 {
    url.rsplit(':').next().unwrap().trim_end_matches('/').parse().unwrap()
}

async fn json_of(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_new_booth_makes_its_ca_and_only_clients_that_trust_it_connect() {
    let node = TestNode::start_with(Options { own_ca: true, ..Options::default() });
    assert!(node.url.starts_with("https://"), "{}", node.url);
    assert!(node.plain_url.starts_with("http://"), "{}", node.plain_url);

    // A browser or phone that has not enrolled: the public roots only.
    let stranger = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let refused = stranger.get(format!("{}/healthz", node.url)).send().await;
    let err = refused.expect_err("an unknown CA must not be trusted");
    assert!(format!("{err:?}").to_lowercase().contains("certificate"), "{err:?}");
    // Nor does the test CA stand in for this booth's own.
    assert!(TestNode::client().get(format!("{}/healthz", node.url)).send().await.is_err());

    // Enrolling: the CA from the plain port, the same as the file the node wrote.
    let pem = stranger.get(format!("{}/ca.pem", node.plain_url)).send().await.unwrap();
    assert_eq!(pem.status(), 200);
    assert_eq!(pem.headers()["content-type"], "application/x-pem-file");
    let pem = pem.text().await.unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    let written = std::fs::read_to_string(node.data_dir.join("tls/booth-ca.pem")).unwrap();
    assert_eq!(pem, written);
    let der = stranger.get(format!("{}/ca.crt", node.plain_url)).send().await.unwrap();
    assert_eq!(der.headers()["content-type"], "application/x-x509-ca-cert");
    assert_eq!(der.bytes().await.unwrap()[0], 0x30, "DER starts with a SEQUENCE");

    let enrolled = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).unwrap())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let port = port_of(&node.url);
    // By address and by name: the certificate covers both.
    for base in [node.url.clone(), format!("https://localhost:{port}")] {
        let r = enrolled
            .get(format!("{base}/api/v1/ops/status"))
            .bearer_auth(OPERATOR_TOKEN)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{base}: {e:?}"));
        assert_eq!(r.status(), 200, "{base}");
    }

    // The lead's view of enrollment: the same fingerprint, a QR code of the page.
    let (status, view) = json_of(
        enrolled
            .get(format!("{}/api/v1/ops/enrollment", node.url))
            .bearer_auth(OPERATOR_TOKEN)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["source"], "booth_ca");
    let fp = view["ca_fingerprint"].as_str().unwrap();
    assert_eq!(fp.len(), 32 * 3 - 1, "{fp}");
    let url0 = view["urls"][0].as_str().unwrap();
    assert!(url0.contains(&format!(":{}/enroll?ca=", port_of(&node.plain_url))), "{url0}");
    assert!(url0.ends_with(&fp.replace(':', "").to_lowercase()), "{url0}");
    assert!(view["qr_svg"].as_str().unwrap().contains("<svg"), "{view}");
    let page = stranger.get(format!("{}/enroll", node.plain_url)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains(fp), "the page shows the fingerprint");
    for platform in ["Android", "iPhone and iPad", "ChromeOS", "Windows", "macOS"] {
        assert!(page.contains(platform), "steps for {platform}");
    }

    // Restarted, the booth keeps its CA: enrolled kiosks stay enrolled.
    let dir = node.data_dir.clone();
    let kept = node.kill();
    let again = TestNode::start_with(Options {
        data_dir: Some(dir.clone()),
        own_ca: true,
        ..Options::default()
    });
    let r = enrolled.get(format!("{}/healthz", again.url)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    drop(kept);
}

#[tokio::test]
async fn the_plain_port_serves_this_machine_everything_by_loopback_or_its_own_address() {
    // What the network gets on the plain port is tested where a request can come from
    // another host: the router tests (`http::tests::plain`) and the discovery scenario,
    // between network namespaces. Here: this machine itself, as the desktop window and
    // scripts on the laptop reach their node, and HTTPS on the LAN address.
    let lan = lan_address();
    let node = TestNode::start_with(Options { listen: "0.0.0.0:0".into(), ..Options::default() });
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    for base in [node.plain_url.clone(), format!("http://{lan}:{}", port_of(&node.plain_url))] {
        let r = http
            .get(format!("{base}/api/v1/ops/status"))
            .bearer_auth(OPERATOR_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{base}");
    }
    // The certificate covers the LAN address the node found at start.
    let r = TestNode::client()
        .get(format!("https://{lan}:{}/api/v1/ops/status", port_of(&node.url)))
        .bearer_auth(OPERATOR_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (status, quote) = json_of(
        http.post(format!("{}/api/v1/quotes", node.plain_url))
            .json(&json!({"lines": [{"sku": "TOTE", "qty": 1}]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{quote}");
}
