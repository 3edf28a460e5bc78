//! Printing at a paired booth: a printer whose `fallback` is `printer@booth` hands the
//! jobs it cannot print to that booth's printer over the signed peer API, and follows
//! each one there until that booth says it printed.
//!
//! Owns: the wire of `POST /api/v1/peer/print-jobs` and `GET /api/v1/peer/print-jobs/{id}`
//! and the asking side of it: the worker's hand-over of a down printer's jobs and the
//! following of each where it went. Never: trusts an answer without its proof, or marks a job
//! printed before the booth that prints it says so. A job is sent again only when it
//! surely did not arrive or the other booth keys it (booth, order, kind, copy), so a
//! resend after a lost answer is the same job there, never a second ticket.

use std::collections::HashMap;
use std::time::Duration;

use boothcloud_core::manifest::{Fallback, PrinterSettings};
use jiff::SignedDuration;

use serde::{Deserialize, Serialize};

use boothcloud_core::signing::peer::{Request, PROOF_HEADER, SIGNATURE_HEADER};

use super::jobs::{ForeignJob, JobKind, JobState, PrintJob};
use super::ticket::Ticket;
use super::Printing;
use crate::peers::{MeshPeer, Peers};

pub const PATH: &str = "/api/v1/peer/print-jobs";

/// The longest a paired booth is waited for.
const TIMEOUT: Duration = Duration::from_secs(5);
/// How soon a job a paired booth could not take is offered again.
const RETRY_PEER: SignedDuration = SignedDuration::from_secs(5);

/// A job handed to a paired booth's printer.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForwardRequest {
    /// The order at the booth that sold it.
    pub order_id: String,
    pub kind: JobKind,
    pub copy: i64,
    /// The printer of the booth asked, by its name there.
    pub printer: String,
    /// The ticket as the selling booth drew it (the order is not in this booth's
    /// database).
    #[schema(value_type = Object)]
    pub ticket: Ticket,
}

/// Where a handed job is at the booth that prints it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ForwardAnswer {
    pub job_id: String,
    pub state: JobState,
    pub last_error: Option<String>,
}

impl From<ForeignJob> for ForwardAnswer {
    fn from(job: ForeignJob) -> ForwardAnswer {
        ForwardAnswer { job_id: job.job_id, state: job.state, last_error: job.last_error }
    }
}

/// What came of asking a paired booth.
#[derive(Debug)]
pub enum Reply {
    /// The booth has the job (now or from before), as this.
    Job(ForwardAnswer),
    /// The booth does not know the job (asked about one it never took).
    Unknown,
    /// The booth could not be reached: try again later (nothing arrived).
    NotNow(String),
    /// The booth answered and did not take the job (its printer cannot print now, or it
    /// has no printer of that name), in words: it does not hold the job.
    Refused(String),
    /// The request may have arrived, and no answer came: ask again (the other booth
    /// answers the job it already is).
    Lost(String),
}

/// Hands a job to `booth`'s printer.
pub async fn forward(
    http: &reqwest::Client,
    peers: &Peers,
    booth: &MeshPeer,
    req: &ForwardRequest,
) -> Reply {
    let body = match serde_json::to_vec(req) {
        Ok(b) => b,
        Err(e) => return Reply::NotNow(e.to_string()),
    };
    ask(http, peers, booth, "POST", PATH.to_owned(), body).await
}

/// Asks `booth` where the job it took as `job_id` is.
pub async fn follow(
    http: &reqwest::Client,
    peers: &Peers,
    booth: &MeshPeer,
    job_id: &str,
) -> Reply {
    let target = format!("{PATH}/{}", urlencoding(job_id));
    ask(http, peers, booth, "GET", target, Vec::new()).await
}

fn urlencoding(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn ask(
    http: &reqwest::Client,
    peers: &Peers,
    booth: &MeshPeer,
    method: &str,
    target: String,
    body: Vec<u8>,
) -> Reply {
    let Some(id) = booth.id.as_deref() else {
        return Reply::NotNow(format!("{} has not said who it is yet", booth.name));
    };
    let Some(sig) = peers.sign(id, &Request { method, target: &target, body: &body }) else {
        return Reply::NotNow("this booth holds no pairing key".into());
    };
    let Ok(url) = booth.url.join(target.trim_start_matches('/')) else {
        return Reply::NotNow(format!("{} has no usable address", booth.name));
    };
    let req = if method == "POST" {
        http.post(url).header("content-type", "application/json").body(body)
    } else {
        http.get(url)
    };
    let asked = peers.stamp();
    let res = match req.header(SIGNATURE_HEADER, sig.to_header()).timeout(TIMEOUT).send().await {
        Ok(r) => r,
        Err(e) if e.is_connect() => {
            return Reply::NotNow(format!("{} cannot be reached: {e}", booth.name))
        }
        Err(e) => return Reply::Lost(format!("{} did not answer: {e}", booth.name)),
    };
    peers.note_time(id, &res, asked);
    let status = res.status().as_u16();
    let proof = res.headers().get(PROOF_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let bytes = match res.bytes().await {
        Ok(b) if b.len() <= 64 * 1024 => b,
        Ok(_) => return Reply::Lost(format!("{}'s answer is too large", booth.name)),
        Err(e) => return Reply::Lost(format!("{}'s answer was cut: {e}", booth.name)),
    };
    match status {
        200 | 201 => {
            // Only a holder of the pairing key can say a job was taken or printed.
            if !proof.is_some_and(|p| peers.check_answer(&sig, status, &bytes, &p)) {
                return Reply::Lost(format!(
                    "{}'s answer did not prove it holds the pairing key",
                    booth.name
                ));
            }
            match serde_json::from_slice::<ForwardAnswer>(&bytes) {
                Ok(a) => Reply::Job(a),
                Err(e) => Reply::NotNow(format!("{}'s answer could not be read: {e}", booth.name)),
            }
        }
        404 if method == "GET" => Reply::Unknown,
        // It failed after taking the job, perhaps: asked again, never printed here.
        500 => Reply::Lost(format!("{}: {}", booth.name, error_words(&bytes, status))),
        _ => Reply::Refused(format!("{}: {}", booth.name, error_words(&bytes, status))),
    }
}

/// The message of the one error shape, or the status.
fn error_words(body: &[u8], status: u16) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("answered {status}"))
}

/// Most jobs handed to a paired booth in one pass.
const PEER_BATCH: i64 = 20;
/// Most handed jobs asked about in one pass (a booth that does not answer stops it).
const FOLLOW_BATCH: i64 = 100;

/// The request that hands `job` to `theirs` at a paired booth: the ticket as this
/// booth draws it, saying whose it is.
async fn forward_request(
    printing: &Printing,
    job: &PrintJob,
    theirs: &str,
) -> Result<ForwardRequest, String> {
    let mut ticket = printing.ticket_for(job).await.map_err(|e| e.to_string())?;
    ticket.for_booth = Some(printing.peers.hello().name.unwrap_or_else(|| "another booth".into()));
    Ok(ForwardRequest {
        order_id: job.order_id.clone(),
        kind: job.kind,
        copy: job.copy,
        printer: theirs.to_owned(),
        ticket,
    })
}

/// Hands what waits for a printer that is down to its fallback at a paired booth.
pub(super) async fn forward_waiting(printing: &Printing, name: &str, theirs: &str, booth: &str) {
    let Some(at) = printing.peers.booth_named(booth).await else {
        tracing::warn!(printer = %name, booth, "printer down, and its fallback booth is not paired and reachable now");
        return;
    };
    let to = format!("{theirs}@{booth}");
    for _ in 0..PEER_BATCH {
        let now = printing.clock.now();
        let job = match printing.jobs.claim(name, now).await {
            Ok(Some(job)) => job,
            Ok(None) => return,
            Err(e) => {
                tracing::error!(error = %e, printer = %name, "cannot read the print queue");
                return;
            }
        };
        let req = match forward_request(printing, &job, theirs).await {
            Ok(r) => r,
            Err(why) => {
                let _ = printing.jobs.not_sent(&job.job_id, &why, now + RETRY_PEER, now).await;
                continue;
            }
        };
        let reply = forward(&printing.http, &printing.peers, &at, &req).await;
        let now = printing.clock.now();
        let recorded = match reply {
            Reply::Job(taken) => {
                tracing::info!(printer = %name, to = %to, job = %job.job_id, "printer down: a job goes to a paired booth's printer");
                let r = printing.jobs.forwarded(&job.job_id, &to, Some(&taken.job_id), now).await;
                if r.is_ok() {
                    let why = taken.last_error.as_deref().map(|w| format!("At {booth}: {w}"));
                    let _ = printing
                        .jobs
                        .settle_forwarded(&job.job_id, taken.state, why.as_deref(), now)
                        .await;
                }
                r
            }
            Reply::Lost(why) => {
                tracing::warn!(printer = %name, to = %to, %why, "a job handed to a paired booth has no answer yet: asked again");
                printing.jobs.forwarded(&job.job_id, &to, None, now).await
            }
            reply @ (Reply::NotNow(_) | Reply::Refused(_) | Reply::Unknown) => {
                let why = match reply {
                    Reply::NotNow(why) | Reply::Refused(why) => why,
                    _ => format!("{booth} did not take the job"),
                };
                let r = printing
                    .jobs
                    .unclaim(&job.job_id, &format!("{why} (fallback {to})"), now + RETRY_PEER, now)
                    .await;
                if let Err(e) = r {
                    tracing::error!(error = %e, "cannot record a print job");
                }
                return;
            }
        };
        if let Err(e) = recorded {
            tracing::error!(error = %e, "cannot record a print job");
            return;
        }
    }
}

/// Asks the paired booths where this printer's handed jobs are; true while any are
/// still on their way there.
pub(super) async fn follow_forwarded(printing: &Printing, printer: &PrinterSettings) -> bool {
    let Ok(jobs) = printing.jobs.following(&printer.name, FOLLOW_BATCH).await else { return false };
    if jobs.is_empty() {
        return false;
    }
    let stale_after = printing.manifest.current().manifest.printing.backlog_after;
    // Each job is followed where it went (its `forwarded_to`), whatever the manifest
    // names now; a booth that does not answer is not asked again in this pass.
    let mut booths: HashMap<String, Option<crate::peers::MeshPeer>> = HashMap::new();
    for f in jobs {
        let now = printing.clock.now();
        let Some(Fallback::Peer { printer: theirs, booth }) = Fallback::parse(&f.to) else {
            let _ = printing.jobs.settle_forwarded(&f.job_id, JobState::Attention, Some("it was handed to another booth, and where is not known: reprint it if it did not print"), now).await;
            continue;
        };
        if now.duration_since(f.since) > stale_after {
            let why = format!("{booth} has not said it printed this for {}: look at its printer, and reprint it here if it did not print", boothcloud_core::timekeeping::span_words(stale_after));
            let _ = printing
                .jobs
                .settle_forwarded(&f.job_id, JobState::Attention, Some(&why), now)
                .await;
            continue;
        }
        if !booths.contains_key(&booth) {
            let found = printing.peers.booth_named(&booth).await;
            booths.insert(booth.clone(), found);
        }
        let Some(at) = booths.get(&booth).cloned().flatten() else { continue };
        let reply = match &f.remote_job {
            Some(remote) => follow(&printing.http, &printing.peers, &at, remote).await,
            None => {
                let Ok(Some(job)) = printing.jobs.get(&f.job_id).await else { continue };
                match forward_request(printing, &job, &theirs).await {
                    Ok(req) => forward(&printing.http, &printing.peers, &at, &req).await,
                    Err(_) => continue,
                }
            }
        };
        let now = printing.clock.now();
        match reply {
            Reply::Job(there) => {
                if f.remote_job.is_none() {
                    let _ =
                        printing.jobs.forwarded(&f.job_id, &f.to, Some(&there.job_id), now).await;
                }
                let why = there.last_error.as_deref().map(|w| format!("At {booth}: {w}"));
                let _ = printing
                    .jobs
                    .settle_forwarded(&f.job_id, there.state, why.as_deref(), now)
                    .await;
            }
            Reply::Unknown => {
                let _ = printing
                    .jobs
                    .settle_forwarded(
                        &f.job_id,
                        JobState::Attention,
                        Some(&why_unknown(&booth)),
                        now,
                    )
                    .await;
            }
            // Asked again, the other booth did not take it (it looks its jobs up before
            // anything else): it never had it, so it waits here again.
            Reply::Refused(why) if f.remote_job.is_none() => {
                let _ = printing.jobs.unforward(&f.job_id, &why, now + RETRY_PEER, now).await;
                printing.wake.notify_waiters();
            }
            Reply::Refused(_) | Reply::Lost(_) => {}
            Reply::NotNow(_) => {
                booths.insert(booth, None);
            }
        }
    }
    true
}

fn why_unknown(booth: &str) -> String {
    format!("{booth} does not know this job: it may not have printed; reprint it if it did not")
}
