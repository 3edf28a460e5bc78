//! IPP / IPP Everywhere (the `ipp` crate): the printer's identity and state, a job sent
//! as one PWG raster page, and the job followed until the printer says it completed.
//!
//! Owns: the conversation with one IPP printer. Never: retries (the worker decides).

use std::io::Cursor;
use std::time::Duration;

use ipp::prelude::*;

pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a job is followed before the booth stops waiting for "completed".
pub const FOLLOW_FOR: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum IppFault {
    /// Nothing was taken: safe to try again.
    #[error("the printer cannot be reached: {0}")]
    Unreachable(String),
    /// The printer refused the job (it was not printed).
    #[error("the printer refused the job: {0}")]
    Refused(String),
    /// The job may have been taken.
    #[error("the printer did not answer the job: {0}")]
    Unsure(String),
    #[error("the printer gave up the job ({0})")]
    Failed(String),
}

impl IppFault {
    pub fn may_have_printed(&self) -> bool {
        matches!(self, IppFault::Unsure(_) | IppFault::Failed(_))
    }
}

/// What the printer says of itself.
#[derive(Debug, Clone)]
pub struct Described {
    /// `printer-uuid` (`urn:uuid:…`), its identity.
    pub uuid: Option<String>,
    pub idle_or_busy: bool,
    pub accepting: bool,
    /// `printer-state-reasons` other than `none`.
    pub reasons: Vec<String>,
}

fn client(uri: &Uri) -> AsyncIppClient {
    AsyncIppClient::builder(uri.clone()).request_timeout(REQUEST_TIMEOUT).build()
}

fn unreachable_or_unsure(e: IppError) -> IppFault {
    match &e {
        IppError::AsyncClientError(r) if r.is_connect() => IppFault::Unreachable(e.to_string()),
        _ => IppFault::Unsure(e.to_string()),
    }
}

pub fn uri(text: &str) -> Result<Uri, IppFault> {
    text.parse::<Uri>()
        .map_err(|e| IppFault::Unreachable(format!("`{text}` is not a printer URI: {e}")))
}

/// Get-Printer-Attributes: identity and state.
pub async fn describe(uri: &Uri) -> Result<Described, IppFault> {
    let op = IppOperationBuilder::get_printer_attributes(uri.clone())
        .attributes([
            "printer-uuid",
            "printer-state",
            "printer-state-reasons",
            "printer-is-accepting-jobs",
        ])
        .build()
        .map_err(|e| IppFault::Unreachable(e.to_string()))?;
    let answer = client(uri).send(op).await.map_err(|e| IppFault::Unreachable(e.to_string()))?;
    if !answer.header().status_code().is_success() {
        return Err(IppFault::Unreachable(format!("{:?}", answer.header().status_code())));
    }
    let group = answer
        .attributes()
        .first_of(DelimiterTag::PrinterAttributes)
        .ok_or_else(|| IppFault::Unreachable("no printer attributes".into()))?;
    let value = |name: &str| group.get(name).map(|a| a.value().clone());
    let uuid = value("printer-uuid").and_then(|v| v.as_uri().map(|u| u.to_string()));
    let state = value("printer-state").and_then(|v| v.as_enum().copied());
    let reasons = value("printer-state-reasons")
        .map(|v| {
            v.into_iter()
                .filter_map(|e| e.as_keyword().map(|k| k.to_string()))
                .filter(|k| k != "none")
                .collect()
        })
        .unwrap_or_default();
    let accepting =
        value("printer-is-accepting-jobs").and_then(|v| v.as_boolean().copied()).unwrap_or(true);
    Ok(Described {
        uuid,
        idle_or_busy: state.is_some_and(|s| s == 3 || s == 4),
        accepting,
        reasons,
    })
}

/// Print-Job with one PWG raster page; the printer's job-id.
pub async fn print(uri: &Uri, title: &str, page: Vec<u8>) -> Result<i32, IppFault> {
    let op = IppOperationBuilder::print_job(uri.clone(), IppPayload::new(Cursor::new(page)))
        .document_format("image/pwg-raster")
        .job_title(title)
        .user_name("boothcloud")
        .build()
        .map_err(|e| IppFault::Refused(e.to_string()))?;
    let answer = client(uri).send(op).await.map_err(unreachable_or_unsure)?;
    let status = answer.header().status_code();
    if !status.is_success() {
        return Err(IppFault::Refused(format!("{status:?}")));
    }
    answer
        .attributes()
        .first_of(DelimiterTag::JobAttributes)
        .and_then(|g| g.get(IppAttribute::JOB_ID))
        .and_then(|a| a.value().as_integer().copied())
        .ok_or_else(|| IppFault::Unsure("the printer gave no job id".into()))
}

/// The longest wait between two looks at a job.
const FOLLOW_EVERY: Duration = Duration::from_millis(200);

/// Follows a job until it completed (or was aborted or canceled), for at most
/// [`FOLLOW_FOR`].
pub async fn follow(uri: &Uri, job: i32) -> Result<(), IppFault> {
    let started = std::time::Instant::now();
    // A ticket completes within a few tens of milliseconds at a fast printer: look soon,
    // then less and less often.
    let mut pause = Duration::from_millis(20);
    loop {
        let op = IppOperationBuilder::get_job_attributes(uri.clone(), job)
            .build()
            .map_err(|e| IppFault::Unsure(e.to_string()))?;
        let answer = client(uri).send(op).await.map_err(|e| IppFault::Unsure(e.to_string()))?;
        let state = answer
            .attributes()
            .first_of(DelimiterTag::JobAttributes)
            .and_then(|g| g.get(IppAttribute::JOB_STATE))
            .and_then(|a| a.value().as_enum().copied());
        match state {
            Some(9) => return Ok(()),
            Some(7) => return Err(IppFault::Failed("canceled at the printer".into())),
            Some(8) => return Err(IppFault::Failed("aborted by the printer".into())),
            _ if started.elapsed() > FOLLOW_FOR => {
                return Err(IppFault::Unsure("not completed within a minute".into()))
            }
            _ => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(FOLLOW_EVERY);
            }
        }
    }
}
