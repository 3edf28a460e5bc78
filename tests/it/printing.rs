//! Printing on the booth network: a pickup ticket for every order at the prep table's
//! receipt printer (ESC/POS over TCP, here a printer the test plays, recording the bytes
//! and answering status queries as scripted), reprints marked and linked, a printer out
//! of paper holding its jobs while another prints, a backlog held for staff after an
//! outage, a printer unplugged handing its tickets to its fallback, a node killed in the
//! middle of a job, and a real IPP Everywhere printer
//! (`ippeveprinter`) followed to completed.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use boothcloud_tests::{demo_manifest_in, Kiosk, Options, TestNode, OPERATOR_TOKEN};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A receipt printer on TCP 9100, as the test scripts it.
#[derive(Default)]
struct Script {
    paper_out: bool,
    /// Nothing listens: connections are refused.
    unplugged: bool,
    /// How long it takes to answer a status query (a slow network adapter).
    slow_status: Duration,
    /// Every job received (the bytes of one connection, status queries taken out).
    jobs: Vec<Vec<u8>>,
}

struct FakePrinter {
    port: u16,
    script: Arc<Mutex<Script>>,
}

impl FakePrinter {
    async fn start() -> FakePrinter {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let script: Arc<Mutex<Script>> = Arc::default();
        let s = script.clone();
        tokio::spawn(async move {
            let mut listener = Some(listener);
            loop {
                // Unplugged: the port is closed (connections refused) until plugged in.
                if s.lock().unwrap().unplugged {
                    listener = None;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
                if listener.is_none() {
                    match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
                        Ok(l) => listener = Some(l),
                        Err(_) => {
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    }
                }
                let accepted = tokio::time::timeout(
                    Duration::from_millis(100),
                    listener.as_ref().unwrap().accept(),
                )
                .await;
                let Ok(Ok((mut conn, _))) = accepted else { continue };
                let s = s.clone();
                tokio::spawn(async move {
                    let mut job = Vec::new();
                    let mut buf = [0u8; 4096];
                    let mut pending: Vec<u8> = Vec::new();
                    loop {
                        let n = match conn.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        pending.extend_from_slice(&buf[..n]);
                        let mut i = 0;
                        while i < pending.len() {
                            if pending[i..].starts_with(&[0x10, 0x04]) && i + 2 < pending.len() {
                                let (out, slow) = {
                                    let s = s.lock().unwrap();
                                    (s.paper_out, s.slow_status)
                                };
                                tokio::time::sleep(slow).await;
                                let answer = match pending[i + 2] {
                                    1 => 0x16,
                                    2 if out => 0x32,
                                    2 => 0x12,
                                    4 if out => 0x72,
                                    _ => 0x12,
                                };
                                let _ = conn.write_all(&[answer]).await;
                                i += 3;
                            } else if pending[i..].starts_with(&[0x10]) && i + 2 >= pending.len() {
                                break; // a query cut between two reads
                            } else {
                                job.push(pending[i]);
                                i += 1;
                            }
                        }
                        pending.drain(..i);
                    }
                    if !job.is_empty() {
                        s.lock().unwrap().jobs.push(job);
                    }
                });
            }
        });
        FakePrinter { port, script }
    }

    fn jobs(&self) -> Vec<Vec<u8>> {
        self.script.lock().unwrap().jobs.clone()
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn booth(dir: &std::path::Path, printers: &str) -> TestNode {
    booth_with_logo(dir, printers, "img/logo.svg")
}

/// The demo booth with `printers`, its event's logo at `logo`.
fn booth_with_logo(dir: &std::path::Path, printers: &str, logo: &str) -> TestNode {
    let path = demo_manifest_in(dir);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("logo = \"img/logo.svg\""), "the demo names its logo");
    let text = text.replace("logo = \"img/logo.svg\"", &format!("logo = \"{logo}\""));
    std::fs::write(&path, format!("{text}\n{printers}\n")).unwrap();
    TestNode::start_with(Options { manifest: Some(path), ..Options::default() })
}

async fn ops(node: &TestNode, path: &str) -> Value {
    let r = TestNode::client()
        .get(format!("{}{path}", node.url))
        .bearer_auth(OPERATOR_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "{path}");
    r.json().await.unwrap()
}

async fn jobs_of(node: &TestNode, order: &str) -> Vec<Value> {
    ops(node, &format!("/api/v1/ops/print-jobs?order={order}")).await.as_array().unwrap().clone()
}

async fn until<T>(what: &str, within: Duration, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(started.elapsed() < within, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn order(node: &TestNode, key: &str) -> (String, String) {
    let placed =
        Kiosk::enrolled(&node.url).await.buy(key, &[("TOTE", 1), ("STICKER-GULL", 2)]).await;
    assert_eq!(placed.status, 201, "{}", placed.body);
    (
        placed.body["order_id"].as_str().unwrap().to_owned(),
        placed.body["pickup_number"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn each_order_prints_its_ticket_once_at_the_prep_printer_and_a_reprint_is_marked_and_linked()
{
    let printer = FakePrinter::start().await;
    let bags = FakePrinter::start().await;
    let dir = tempfile::tempdir().unwrap();
    let node = booth(
        dir.path(),
        &format!(
            "[[printers]]\nname = \"prep\"\nuri = \"socket://127.0.0.1:{}\"\nrole = \"tickets\"\npaper = \"80mm\"\n\n\
             [[printers]]\nname = \"bags\"\nuri = \"socket://127.0.0.1:{}\"\nrole = \"labels\"\n",
            printer.port, bags.port
        ),
    );
    let (id, number) = order(&node, "print-1").await;
    let job = until("the ticket printed", Duration::from_secs(15), async || {
        let jobs = jobs_of(&node, &id).await;
        jobs.iter().find(|j| j["state"] == "sent").cloned()
    })
    .await;
    assert_eq!(
        (job["kind"].as_str(), job["copy"].as_i64(), job["printer"].as_str()),
        (Some("ticket"), Some(0), Some("prep"))
    );
    let printed = printer.jobs();
    assert_eq!(printed.len(), 1, "one ticket");
    let bytes = &printed[0];
    assert!(bytes.starts_with(&[0x1b, 0x40]), "initialised first");
    assert!(contains(bytes, number.as_bytes()), "the pickup number");
    assert!(contains(bytes, &[0x1d, 0x56]), "and cut");
    assert!(contains(bytes, b"1 x Canvas tote bag"));
    // The event's logo (`[event] logo`, read through the asset cache) atop it, as a
    // raster bit image: GS v 0, 80 mm's logo box (the demo's 360 × 120 logo, 346 dots wide).
    let at = bytes.windows(4).position(|w| w == [0x1d, 0x76, 0x30, 0x00]).expect("the logo");
    assert_eq!(u16::from_le_bytes([bytes[at + 4], bytes[at + 5]]), 346u16.div_ceil(8));
    assert!(at < bytes.windows(number.len()).position(|w| w == number.as_bytes()).unwrap());

    // Reprint from the counter: a new job, the next copy, linked, marked REPRINT.
    let r = TestNode::client()
        .post(format!(
            "{}/api/v1/ops/print-jobs/{}/reprint",
            node.url,
            job["job_id"].as_str().unwrap()
        ))
        .bearer_auth(OPERATOR_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let again: Value = r.json().await.unwrap();
    assert_eq!(
        (again["copy"].as_i64(), again["reprint_of"].as_str()),
        (Some(1), job["job_id"].as_str())
    );
    until("the reprint printed", Duration::from_secs(15), async || {
        (printer.jobs().len() == 2).then_some(())
    })
    .await;
    assert!(contains(&printer.jobs()[1], b"REPRINT"));
    assert!(!contains(&printer.jobs()[0], b"REPRINT"));
    let view = ops(&node, "/api/v1/ops/printers").await;
    assert_eq!(view[0]["name"], "prep");
    assert_eq!(view[0]["state"], "ready");
    assert_eq!(view[0]["paper"], "ok");
    let unknown = TestNode::client()
        .post(format!("{}/api/v1/ops/print-jobs/nope/reprint", node.url))
        .bearer_auth(OPERATOR_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status().as_u16(), 404);
    let stranger = TestNode::client()
        .get(format!("{}/api/v1/ops/print-jobs?order={id}", node.url))
        .send()
        .await
        .unwrap();
    assert_eq!(stranger.status().as_u16(), 401, "staff or the lead only");

    // A label asked for prints on the labels printer; a receipt, with no receipts
    // printer in the booth, is refused in words.
    let ask = async |what: &str| {
        TestNode::client()
            .post(format!("{}/api/v1/ops/orders/{id}/{what}-print", node.url))
            .bearer_auth(OPERATOR_TOKEN)
            .send()
            .await
            .unwrap()
    };
    assert_eq!(ask("label").await.status().as_u16(), 202);
    until("the label printed", Duration::from_secs(15), async || {
        (bags.jobs().len() == 1).then_some(())
    })
    .await;
    assert!(contains(&bags.jobs()[0], b"LABEL") && contains(&bags.jobs()[0], number.as_bytes()));
    let receipt = ask("receipt").await;
    assert_eq!(receipt.status().as_u16(), 409);
    let body: Value = receipt.json().await.unwrap();
    assert_eq!(body["error"]["code"], "no_printer", "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("receipts"), "{body}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(printer.jobs().len(), 2, "nothing printed twice");
    assert_eq!(bags.jobs().len(), 1);
}

#[tokio::test]
async fn a_printer_out_of_paper_keeps_its_tickets_while_another_prints_and_prints_each_once_after()
{
    let prep = FakePrinter::start().await;
    let front = FakePrinter::start().await;
    prep.script.lock().unwrap().paper_out = true;
    let dir = tempfile::tempdir().unwrap();
    let node = booth(
        dir.path(),
        &format!(
            "[[printers]]\nname = \"prep\"\nuri = \"socket://127.0.0.1:{}\"\nrole = \"tickets\"\n\n\
             [[printers]]\nname = \"front\"\nuri = \"socket://127.0.0.1:{}\"\nrole = \"receipts\"\npaper = \"58mm\"\n\n\
             [[runbooks]]\nname = \"printer-call\"\ntrigger = \"printer needs attention for 1s\"\n\
             steps = [\"notify A printer needs a person: see Printers\"]\n",
            prep.port, front.port
        ),
    );
    let (a, _) = order(&node, "paper-1").await;
    let (b, _) = order(&node, "paper-2").await;
    // The receipts printer is not held up by the other's trouble.
    let r = TestNode::client()
        .post(format!("{}/api/v1/ops/orders/{a}/receipt-print", node.url))
        .bearer_auth(OPERATOR_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 202);
    until("the receipt printed", Duration::from_secs(15), async || {
        (front.jobs().len() == 1).then_some(())
    })
    .await;
    assert!(contains(&front.jobs()[0], b"RECEIPT"));
    let view = until("prep says it needs paper", Duration::from_secs(15), async || {
        let all = ops(&node, "/api/v1/ops/printers").await;
        let prep = all.as_array().unwrap().iter().find(|p| p["name"] == "prep").unwrap().clone();
        (prep["paper"] == "out").then_some(prep)
    })
    .await;
    assert_eq!(view["state"], "needs_attention");
    assert!(view["detail"].as_str().unwrap().contains("paper"), "{view}");
    // The runbook whose trigger is a printer needing a person has run, and said so.
    until("the printer runbook ran", Duration::from_secs(15), async || {
        let controls = ops(&node, "/api/v1/ops/controls").await;
        controls["notices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["text"] == "A printer needs a person: see Printers")
            .then_some(())
    })
    .await;
    assert!(prep.jobs().is_empty(), "nothing sent to a printer out of paper");
    for o in [&a, &b] {
        assert!(jobs_of(&node, o)
            .await
            .iter()
            .any(|j| j["kind"] == "ticket" && j["state"] == "queued"));
    }
    // Paper in: each ticket prints once.
    prep.script.lock().unwrap().paper_out = false;
    until("both tickets printed", Duration::from_secs(20), async || {
        (prep.jobs().len() == 2).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(prep.jobs().len(), 2, "each once");
}

#[tokio::test]
async fn tickets_that_waited_through_a_long_outage_ask_staff_before_they_print() {
    let prep = FakePrinter::start().await;
    prep.script.lock().unwrap().unplugged = true;
    let dir = tempfile::tempdir().unwrap();
    let node = booth(
        dir.path(),
        &format!(
            "[[printers]]\nname = \"prep\"\nuri = \"socket://127.0.0.1:{}\"\nrole = \"tickets\"\n\n[printing]\nbacklog_after = \"2s\"\n",
            prep.port
        ),
    );
    let (a, _) = order(&node, "outage-1").await;
    let (b, _) = order(&node, "outage-2").await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    prep.script.lock().unwrap().unplugged = false;
    let view = until("the backlog is held", Duration::from_secs(15), async || {
        let all = ops(&node, "/api/v1/ops/printers").await;
        let p = all[0].clone();
        (p["held"].as_i64() == Some(2)).then_some(p)
    })
    .await;
    assert_eq!(view["state"], "needs_attention", "{view}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(prep.jobs().is_empty(), "nothing spewed out by itself");
    let released: Value = TestNode::client()
        .post(format!("{}/api/v1/ops/printers/prep/release", node.url))
        .bearer_auth(OPERATOR_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(released, json!(2));
    until("both printed", Duration::from_secs(15), async || (prep.jobs().len() == 2).then_some(()))
        .await;
    for o in [&a, &b] {
        assert!(jobs_of(&node, o).await.iter().any(|j| j["state"] == "sent"));
    }
}

#[tokio::test]
async fn a_real_ipp_everywhere_printer_takes_the_ticket_and_says_it_completed() {
    let spool = tempfile::tempdir().unwrap();
    let port = boothcloud_tests::postgres::free_port();
    // ippeveprinter will not start without a D-Bus for DNS-SD: a private bus it may talk
    // to (nothing answers there, so it advertises nothing; mDNS is the discovery
    // scenario's, on its own LAN of namespaces).
    let bus = spool.path().join("bus");
    let mut dbus = std::process::Command::new("dbus-daemon")
        .args(["--session", "--nofork"])
        .arg(format!("--address=unix:path={}", bus.display()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("dbus-daemon");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !bus.exists() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let jobs_dir = spool.path().join("jobs");
    std::fs::create_dir_all(&jobs_dir).unwrap();
    let mut printer = std::process::Command::new("ippeveprinter")
        .env("DBUS_SYSTEM_BUS_ADDRESS", format!("unix:path={}", bus.display()))
        .args(["-n", "localhost", "-p", &port.to_string(), "-d"])
        .arg(&jobs_dir)
        .args(["-k", "-c", "/bin/true", "-r", "off", "Booth Test Printer"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("ippeveprinter (cups-ipp-utils; scripts/setup installs it)");
    let dir = tempfile::tempdir().unwrap();
    let node = booth(
        dir.path(),
        &format!(
            "[[printers]]\nname = \"prep\"\nuri = \"ipp://127.0.0.1:{port}/ipp/print\"\nrole = \"tickets\"\n\n\
             [[printers]]\nname = \"bags\"\nuri = \"ipp://127.0.0.1:{port}/ipp/print\"\nrole = \"labels\"\n\
             uuid = \"urn:uuid:00000000-0000-4000-8000-000000000000\"\n"
        ),
    );
    let (id, _) = order(&node, "ipp-1").await;
    let job = until("confirmed by the printer", Duration::from_secs(30), async || {
        jobs_of(&node, &id)
            .await
            .into_iter()
            .find(|j| j["state"] == "confirmed" || j["state"] == "attention")
    })
    .await;
    assert_eq!(job["state"], "confirmed", "{job}");
    let files: Vec<_> = std::fs::read_dir(&jobs_dir).unwrap().flatten().map(|e| e.path()).collect();
    let page = files
        .iter()
        .find(|p| p.extension().is_some_and(|e| e == "pwg"))
        .expect("the job in the spool");
    let bytes = std::fs::read(page).unwrap();
    assert_eq!(&bytes[..4], b"RaS2", "a PWG raster page");
    let view = ops(&node, "/api/v1/ops/printers").await;
    let uuid = view[0]["identity"].as_str().unwrap().to_owned();
    assert!(uuid.starts_with("urn:uuid:"), "known by its printer-uuid: {view}");

    // `bags` pins another printer-uuid: the printer answering at that address is not
    // it, so it needs a person and nothing is sent to it.
    let bags = until("bags refused", Duration::from_secs(20), async || {
        let view = ops(&node, "/api/v1/ops/printers").await;
        Some(view[1].clone()).filter(|b| b["state"] == "needs_attention")
    })
    .await;
    let why = bags["detail"].as_str().unwrap();
    assert!(why.contains("A different printer answers as `bags`") && why.contains(&uuid), "{bags}");
    let test = TestNode::client()
        .post(format!("{}/api/v1/ops/printers/bags/test-print", node.url))
        .bearer_auth(OPERATOR_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(test.status().as_u16(), 201);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let pages = std::fs::read_dir(&jobs_dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "pwg"))
        .count();
    assert_eq!(pages, 1, "only prep's ticket reached the printer");
    assert_eq!(ops(&node, "/api/v1/ops/printers").await[1]["queued"], 1, "the test page waits");
    let _ = printer.kill();
    let _ = printer.wait();
    let _ = dbus.kill();
    let _ = dbus.wait();
}

#[tokio::test]
async fn a_node_killed_in_the_middle_of_a_job_loses_nothing_and_prints_nothing_twice_by_itself() {
    let prep = FakePrinter::start().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let manifest = demo_manifest_in(dir.path());
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        format!("{text}\n[[printers]]\nname = \"prep\"\nuri = \"socket://127.0.0.1:{}\"\nrole = \"tickets\"\n", prep.port),
    )
    .unwrap();
    let start = |listen: String| {
        TestNode::start_with(Options {
            manifest: Some(manifest.clone()),
            data_dir: Some(data.clone()),
            listen,
            ..Options::default()
        })
    };
    let node = start(Options::default().listen);
    let listen = node.url.trim_start_matches("https://").to_owned();
    until("the printer looked at", Duration::from_secs(15), async || {
        (ops(&node, "/api/v1/ops/printers").await[0]["state"] == "ready").then_some(())
    })
    .await;
    // The printer now takes its time to say it is ready: the job is on its way when the
    // node is killed.
    prep.script.lock().unwrap().slow_status = Duration::from_millis(1200);
    let (id, number) = order(&node, "kill-1").await;
    until("the ticket is being sent", Duration::from_secs(15), async || {
        jobs_of(&node, &id).await.iter().any(|j| j["state"] == "sending").then_some(())
    })
    .await;
    node.kill();
    prep.script.lock().unwrap().slow_status = Duration::ZERO;

    let node = start(listen);
    let jobs = jobs_of(&node, &id).await;
    assert_eq!(jobs.len(), 1, "the job is still there, once: {jobs:?}");
    assert_eq!(jobs[0]["state"], "attention", "{jobs:?}");
    assert!(jobs[0]["last_error"].as_str().unwrap().contains("may have printed"), "{jobs:?}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(prep.jobs().is_empty(), "not sent again without a person asking");
    // Later orders print; the one in doubt prints when a person asks, marked.
    let (later, _) = order(&node, "kill-2").await;
    until("the next ticket printed", Duration::from_secs(15), async || {
        jobs_of(&node, &later).await.iter().any(|j| j["state"] == "sent").then_some(())
    })
    .await;
    let r = TestNode::client()
        .post(format!(
            "{}/api/v1/ops/print-jobs/{}/reprint",
            node.url,
            jobs[0]["job_id"].as_str().unwrap()
        ))
        .bearer_auth(OPERATOR_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    until("the reprint printed", Duration::from_secs(15), async || {
        (prep.jobs().len() == 2).then_some(())
    })
    .await;
    let reprint = prep.jobs().into_iter().find(|j| contains(j, number.as_bytes())).unwrap();
    assert!(contains(&reprint, b"REPRINT"));
}

#[tokio::test]
async fn a_printer_unplugged_hands_its_tickets_to_its_fallback_which_prints_each_once() {
    let prep = FakePrinter::start().await;
    let front = FakePrinter::start().await;
    prep.script.lock().unwrap().unplugged = true;
    let dir = tempfile::tempdir().unwrap();
    let node = booth(
        dir.path(),
        &format!(
            "[[printers]]\nname = \"prep\"\nuri = \"socket://127.0.0.1:{}\"\nrole = \"tickets\"\nfallback = \"front\"\n\n\
             [[printers]]\nname = \"front\"\nuri = \"socket://127.0.0.1:{}\"\nrole = \"receipts\"\npaper = \"58mm\"\n",
            prep.port, front.port
        ),
    );
    let (id, number) = order(&node, "fallback-1").await;
    let job = until("the ticket printed at the fallback", Duration::from_secs(40), async || {
        jobs_of(&node, &id).await.into_iter().find(|j| j["state"] == "sent")
    })
    .await;
    assert_eq!((job["kind"].as_str(), job["printer"].as_str()), (Some("ticket"), Some("front")));
    let printed = front.jobs();
    assert_eq!(printed.len(), 1);
    assert!(contains(&printed[0], b"PICKUP TICKET") && contains(&printed[0], number.as_bytes()));
    // The prep printer back: nothing of what the fallback printed comes out again.
    prep.script.lock().unwrap().unplugged = false;
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(prep.jobs().is_empty(), "printed once, at the fallback");
    assert_eq!(front.jobs().len(), 1);
}

#[tokio::test]
async fn a_printer_down_hands_its_tickets_to_a_paired_booths_printer_which_prints_each_once() {
    // Booth B, with a prep printer that works.
    let theirs = FakePrinter::start().await;
    let dir_b = tempfile::tempdir().unwrap();
    let b = booth(
        dir_b.path(),
        &format!(
            "[[printers]]\nname = \"prep\"\nuri = \"socket://127.0.0.1:{}\"\nrole = \"tickets\"\n",
            theirs.port
        ),
    );
    // Booth A, paired with B by the manifest; its own prep printer is unplugged.
    let ours = FakePrinter::start().await;
    ours.script.lock().unwrap().unplugged = true;
    let dir_a = tempfile::tempdir().unwrap();
    let path = demo_manifest_in(dir_a.path());
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "peers = []",
        &format!(
            "peers = [{{ name = \"Stand B\", url = \"{}/\", ca = \"{}\" }}]",
            b.url,
            boothcloud_tests::test_ca().fingerprint
        ),
    );
    std::fs::write(
        &path,
        format!(
            "{text}\n[[printers]]\nname = \"prep\"\nuri = \"socket://127.0.0.1:{}\"\nrole = \"tickets\"\nfallback = \"prep@Stand B\"\n",
            ours.port
        ),
    )
    .unwrap();
    let a = TestNode::start_with(Options { manifest: Some(path), ..Options::default() });

    let (id, number) = order(&a, "peer-fallback-1").await;
    let job =
        until("the ticket printed at the paired booth", Duration::from_secs(40), async || {
            jobs_of(&a, &id).await.into_iter().find(|j| j["state"] == "sent")
        })
        .await;
    assert_eq!(job["forwarded_to"], "prep@Stand B", "{job}");
    assert_eq!(job["printer"], "prep");
    let printed = theirs.jobs();
    assert_eq!(printed.len(), 1);
    assert!(contains(&printed[0], b"PICKUP TICKET") && contains(&printed[0], number.as_bytes()));
    assert!(contains(&printed[0], b"FOR "), "it says whose ticket it is");
    // B lists it on its own printer, under A's order.
    let at_b = until("B lists the job", Duration::from_secs(5), async || {
        let p = ops(&b, "/api/v1/ops/printers").await;
        (p[0]["name"] == "prep").then_some(p)
    })
    .await;
    assert_eq!(at_b[0]["queued"], 0, "{at_b}");

    // A second order while A's printer is still down goes the same way, once.
    let (id2, number2) = order(&a, "peer-fallback-2").await;
    until("the second ticket printed at the paired booth", Duration::from_secs(20), async || {
        jobs_of(&a, &id2).await.into_iter().find(|j| j["state"] == "sent")
    })
    .await;
    assert_eq!(theirs.jobs().len(), 2);
    assert!(contains(&theirs.jobs()[1], number2.as_bytes()));

    // A's printer back: nothing that printed at B comes out again at A.
    ours.script.lock().unwrap().unplugged = false;
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(ours.jobs().is_empty(), "printed once, at the paired booth");
    assert_eq!(theirs.jobs().len(), 2);

    // A paired booth's job cannot be read or made without the pairing key.
    let unsigned = TestNode::client()
        .post(format!("{}/api/v1/peer/print-jobs", b.url))
        .json(
            &json!({"order_id": "x", "kind": "ticket", "copy": 0, "printer": "prep", "ticket": {}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 401);
    assert_eq!(theirs.jobs().len(), 2);
}

#[tokio::test]
async fn the_lead_test_prints_pauses_and_resumes_a_printer_and_sees_its_ticket() {
    let printer = FakePrinter::start().await;
    let dir = tempfile::tempdir().unwrap();
    let node = booth(
        dir.path(),
        &format!(
            "[[printers]]\nname = \"prep\"\nuri = \"socket://127.0.0.1:{}\"\nrole = \"tickets\"\npaper = \"58mm\"\n",
            printer.port
        ),
    );
    let http = TestNode::client();
    let post = |path: &str| {
        http.post(format!("{}/api/v1/ops/printers/{path}", node.url))
            .bearer_auth(OPERATOR_TOKEN)
            .send()
    };
    // A test page, through the queue like any job.
    let test = post("prep/test-print").await.unwrap();
    assert_eq!(test.status(), 201);
    let job: Value = test.json().await.unwrap();
    assert_eq!(job["printer"], "prep");
    until("the test page printed", Duration::from_secs(20), async || {
        printer
            .jobs()
            .into_iter()
            .find(|j| contains(j, b"TEST") && contains(j, b"Test print on prep"))
    })
    .await;
    assert_eq!(post("nowhere/test-print").await.unwrap().status(), 404);
    let anyone =
        http.post(format!("{}/api/v1/ops/printers/prep/pause", node.url)).send().await.unwrap();
    assert_eq!(anyone.status(), 401);

    // Paused: the order's ticket waits, and the screen says so; resumed: it prints once.
    assert_eq!(post("prep/pause").await.unwrap().status(), 204);
    let view = ops(&node, "/api/v1/ops/printers").await;
    assert_eq!(
        (view[0]["state"].as_str(), view[0]["paused"].as_bool()),
        (Some("paused"), Some(true))
    );
    let (id, number) = order(&node, "paused-1").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(jobs_of(&node, &id).await[0]["state"], "queued");
    assert!(!printer.jobs().iter().any(|j| contains(j, number.as_bytes())));
    assert_eq!(post("prep/resume").await.unwrap().status(), 204);
    until("the ticket printed after resume", Duration::from_secs(20), async || {
        jobs_of(&node, &id).await.into_iter().find(|j| j["state"] == "sent")
    })
    .await;
    assert_eq!(printer.jobs().iter().filter(|j| contains(j, number.as_bytes())).count(), 1);
    assert_eq!(ops(&node, "/api/v1/ops/printers").await[0]["paused"], false);

    // The preview: the drawing a raster printer would get, as a PNG.
    let png = http
        .get(format!("{}/api/v1/ops/printers/prep/preview", node.url))
        .bearer_auth(OPERATOR_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(png.status(), 200);
    assert_eq!(png.headers()["content-type"], "image/png");
    let bytes = png.bytes().await.unwrap();
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 1000);
}

#[tokio::test]
async fn a_customer_at_a_kiosk_prints_the_receipt_of_the_order_just_taken_once() {
    let till = FakePrinter::start().await;
    let dir = tempfile::tempdir().unwrap();
    // The event's logo is not in the storefront: receipts print without it.
    let node = booth_with_logo(
        dir.path(),
        &format!(
            "[[printers]]\nname = \"till\"\nuri = \"socket://127.0.0.1:{}\"\nrole = \"receipts\"\npaper = \"58mm\"\n",
            till.port
        ),
        "img/missing.png",
    );
    let kiosk = Kiosk::enrolled(&node.url).await;
    let catalogue = kiosk.get("/api/v1/catalogue").await;
    assert_eq!(catalogue.body["shop"]["kiosk_receipts"], true, "the kiosk offers it");
    let placed = kiosk.buy("kiosk-receipt-1", &[("TOTE", 1)]).await;
    assert_eq!(placed.status, 201, "{}", placed.body);
    let id = placed.body["order_id"].as_str().unwrap().to_owned();
    let number = placed.body["pickup_number"].as_str().unwrap().to_owned();
    let ask = |client: reqwest::Client, order: String| {
        let url = format!("{}/api/v1/kiosk/orders/{order}/receipt-print", node.url);
        async move { client.post(url).send().await.unwrap() }
    };
    assert_eq!(ask(kiosk.http.clone(), id.clone()).await.status(), 202);
    assert_eq!(ask(kiosk.http.clone(), id.clone()).await.status(), 202, "pressed twice");
    let printed = until("the receipt printed", Duration::from_secs(20), async || {
        till.jobs().into_iter().find(|j| contains(j, b"RECEIPT"))
    })
    .await;
    assert!(contains(&printed, number.as_bytes()) && contains(&printed, b"TOTAL"));
    assert!(!contains(&printed, &[0x1d, 0x76, 0x30, 0x00]), "no logo image on the receipt");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(till.jobs().len(), 1, "printed once");
    // The Printers screen says why, in words.
    let view = ops(&node, "/api/v1/ops/printers").await;
    let why = view[0]["logo_problem"].as_str().unwrap_or_default();
    assert!(why.contains("img/missing.png") && why.contains("404"), "{view}");

    // Only an enrolled kiosk, only an order there is.
    let phone = ask(TestNode::client(), id.clone()).await;
    assert_eq!(phone.status(), 401);
    let unknown = ask(kiosk.http.clone(), "no-such-order".into()).await;
    assert_eq!(unknown.status(), 404);
    let body: Value = unknown.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
}
