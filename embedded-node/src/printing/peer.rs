//! Printing at a paired booth: a printer whose `fallback` is `printer@booth` hands the
//! jobs it cannot print to that booth's printer over the signed peer API, and follows
//! each one there until that booth says it printed.
//!
//! Owns: the wire of `POST /api/v1/peer/print-jobs` and `GET /api/v1/peer/print-jobs/{id}`
//! and the asking side of it. Never: trusts an answer without its proof, or marks a job
//! printed before the booth that prints it says so. A job is sent again only when it
//! surely did not arrive or the other booth keys it (booth, order, kind, copy), so a
//! resend after a lost answer is the same job there, never a second ticket.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use boothcloud_core::signing::peer::{Request, PROOF_HEADER, SIGNATURE_HEADER};

use super::jobs::{JobKind, JobState};
use super::ticket::Ticket;
use crate::peers::{MeshPeer, Peers};

pub const PATH: &str = "/api/v1/peer/print-jobs";

/// The longest a paired booth is waited for.
const TIMEOUT: Duration = Duration::from_secs(5);

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
