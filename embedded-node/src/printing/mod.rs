//! Printing on the booth network: pickup tickets for the prep table as orders are
//! taken, receipts and reprints when staff ask, each job through a durable queue and
//! followed until the printer has it.
//!
//! One worker per printer of the manifest: a printer's trouble never holds another's
//! jobs. A worker claims its printer's oldest due job (one statement), asks the printer
//! how it is, sends the job, and records what happened: `sent` (ESC/POS: every byte
//! written), `confirmed` (IPP: the printer said completed), back to `queued` with a
//! growing wait when nothing reached the printer, or `attention` when something may
//! have. A printer that could not print for longer than `[printing] backlog_after`
//! holds what waited meanwhile until staff say to print it.
//!
//! Owns: the print queue (`jobs`), the printers' state as last seen, the templates
//! (`ticket`) with the event's logo (`logo`) and the transports (`socket`, `ipp`). Never: sends a job that may have
//! printed again without a person asking (a reprint is a new job, marked REPRINT), or
//! lets a slow printer hold a request (printing happens on the workers).

pub mod ipp;
pub mod jobs;
pub mod logo;
pub mod peer;
pub mod socket;
pub mod ticket;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use boothcloud_core::clock::Clock;
use boothcloud_core::hub_protocol::wire::{self, PrinterReport};
use boothcloud_core::manifest::{Fallback, PrinterAddress, PrinterRole, PrinterSettings};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use tokio::sync::{watch, Notify};

use crate::live_manifest::LiveManifest;
use crate::orders::OrderQueue;
pub use jobs::{JobKind, JobState, Jobs, PrintJob};
use ticket::Ticket;

#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    #[error("no such print job")]
    UnknownJob,
    #[error("no printer named `{0}`")]
    UnknownPrinter(String),
    #[error("no printer prints {0}: add one with that role to the manifest")]
    NoPrinterFor(&'static str),
    #[error("no such order")]
    UnknownOrder,
    #[error("{0}")]
    NotAtKiosk(&'static str),
    #[error("printer `{0}` cannot print now: {1}")]
    CannotPrint(String, String),
    #[error("the ticket cannot be printed: {0}")]
    BadTicket(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// A printer as the Printers screen and the fleet see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PrinterView {
    pub name: String,
    /// `printer-uuid` when the printer gave one, else its DNS-SD name or address.
    pub identity: String,
    pub uri: String,
    #[schema(value_type = String)]
    pub role: PrinterRole,
    /// `ready`, `printing`, `paused`, `needs_attention` or `not_checked`.
    pub state: &'static str,
    /// A person paused it: its jobs wait until someone resumes it.
    pub paused: bool,
    /// Why it needs attention, in words.
    pub detail: Option<String>,
    /// `ok`, `out` or `unknown`.
    pub paper: &'static str,
    /// Jobs waiting to print.
    pub queued: i64,
    /// Jobs held after an outage, waiting for staff to say print.
    pub held: i64,
    /// Jobs a person must look at.
    pub attention: i64,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_printed: Option<Timestamp>,
    /// Why its tickets print without the event's logo (`[event] logo`), when they do.
    pub logo_problem: Option<String>,
}

/// What a worker last learnt of its printer.
#[derive(Debug, Clone, Default)]
struct Seen {
    identity: Option<String>,
    /// Since when it could not print (unreachable or refusing), and why.
    down_since: Option<Timestamp>,
    why: Option<String>,
    paper_out: bool,
    checked: bool,
    printing: bool,
    last_printed: Option<Timestamp>,
}

pub struct Printing {
    pub jobs: Jobs,
    orders: OrderQueue,
    manifest: Arc<LiveManifest>,
    clock: Arc<dyn Clock>,
    seen: Mutex<HashMap<String, Seen>>,
    wake: Notify,
    /// Where the digital receipt is reached from a phone (`https://ADDR:PORT`), once
    /// the node listens.
    receipt_base: Mutex<Option<String>>,
    fonts: std::sync::OnceLock<Arc<resvg::usvg::fontdb::Database>>,
    /// Kept by the workers at each look, for what cannot wait on the database (the
    /// runbooks' triggers, the booth's health).
    attention: Mutex<Attention>,
    /// Every printer as of the workers' last look, for the booth's report to the hub.
    last_look: Mutex<Vec<PrinterView>>,
    /// Where printers named by DNS-SD are found (`None` when discovery is off).
    discovery: Option<Arc<crate::discovery::Discovery>>,
    /// The paired booths a printer's fallback may print at, and the client that asks
    /// them (their pinned CAs).
    peers: Arc<crate::peers::Peers>,
    http: reqwest::Client,
    /// Printers a person paused (kept in `paused_printers`; read at start).
    paused: Mutex<std::collections::HashSet<String>>,
    /// Where the event's logo is read from, and the last one read.
    assets: Arc<crate::assets::AssetCache>,
    logos: logo::Logos,
}

/// How many printers need a person, and since when one has.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Attention {
    pub printers: u32,
    pub since: Option<Timestamp>,
}

/// Longest wait between two tries of a job that reached no printer.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// How often an idle worker looks at its printer (and the queue) while the printer is
/// well, and while it is not (to see it back soon).
const IDLE_LOOK: Duration = Duration::from_secs(10);
const DOWN_LOOK: Duration = Duration::from_secs(2);
/// Orders taken this long before a worker started still get their ticket from it (a
/// crash between an order and its ticket); older ones do not (a printer added in the
/// middle of the day does not print the morning).
const CATCH_UP: SignedDuration = SignedDuration::from_mins(2);
/// A printer down this long hands its waiting jobs to its fallback, if that one can print.
const FALLBACK_AFTER: SignedDuration = SignedDuration::from_secs(10);
/// How long after an order a kiosk may print its receipt (the customer is still there).
const KIOSK_RECEIPT_FOR: SignedDuration = SignedDuration::from_mins(10);

impl Printing {
    pub fn new(
        db: sqlx::SqlitePool,
        orders: OrderQueue,
        manifest: Arc<LiveManifest>,
        clock: Arc<dyn Clock>,
        discovery: Option<Arc<crate::discovery::Discovery>>,
        peers: Arc<crate::peers::Peers>,
        assets: Arc<crate::assets::AssetCache>,
    ) -> Printing {
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(peers.client_config())
            .connect_timeout(Duration::from_secs(3))
            .build()
            .unwrap_or_default();
        Printing {
            peers,
            http,
            paused: Mutex::default(),
            jobs: Jobs { db },
            orders,
            manifest,
            clock,
            discovery,
            seen: Mutex::default(),
            wake: Notify::new(),
            receipt_base: Mutex::default(),
            fonts: std::sync::OnceLock::new(),
            attention: Mutex::default(),
            last_look: Mutex::default(),
            assets,
            logos: logo::Logos::default(),
        }
    }

    /// The event's logo, if the manifest names one and it can be read; why not, if not.
    async fn logo(&self) -> Result<Option<Arc<logo::Logo>>, logo::LogoError> {
        let Some(path) = self.manifest.current().manifest.event.logo.clone() else {
            return Ok(None);
        };
        self.logos.get(&self.assets, &path, self.fonts()).await.map(Some)
    }

    /// The logo for a ticket: none (and a line in the log) when it cannot be had, so a
    /// missing logo never holds a ticket.
    async fn logo_for_ticket(&self) -> Option<Arc<logo::Logo>> {
        self.logo().await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "printing without the event's logo");
            None
        })
    }

    pub fn set_receipt_base(&self, base: String) {
        *self.receipt_base.lock().unwrap_or_else(|e| e.into_inner()) = Some(base);
    }

    fn fonts(&self) -> Arc<resvg::usvg::fontdb::Database> {
        self.fonts.get_or_init(|| Arc::new(crate::charts::render::load_fonts())).clone()
    }

    /// An order was taken: its pickup ticket goes to the tickets printer (when the
    /// manifest says so). Durable before it returns; a second call changes nothing.
    pub async fn order_taken(&self, order_id: &str) -> Result<(), PrintError> {
        let loaded = self.manifest.current();
        let printing = &loaded.manifest.printing;
        if !printing.tickets_on_order {
            return Ok(());
        }
        if let Some(printer) = printing.for_role(PrinterRole::Tickets) {
            if self
                .jobs
                .queue_original(order_id, JobKind::Ticket, &printer.name, self.clock.now())
                .await?
            {
                self.wake.notify_waiters();
            }
        }
        Ok(())
    }

    /// The receipt of an order, printed on the receipts printer (a customer asked).
    pub async fn print_receipt(&self, order_id: &str) -> Result<(), PrintError> {
        self.print_on(order_id, JobKind::Receipt, PrinterRole::Receipts, "receipts").await
    }

    /// A customer at an enrolled kiosk asked for the receipt of the order just taken.
    /// Only for an order of the last `KIOSK_RECEIPT_FOR` (the customer is still there;
    /// orders do not record which kiosk took them, so any enrolled kiosk may ask for any
    /// fresh order), and once: asked again, it is the same job.
    pub async fn kiosk_receipt(&self, order_id: &str) -> Result<(), PrintError> {
        let loaded = self.manifest.current();
        if !loaded.manifest.printing.receipts_at_kiosk {
            return Err(PrintError::NotAtKiosk("this booth prints no receipts at its kiosks"));
        }
        let order = self
            .orders
            .counter_order(order_id, &|sku: &str| sku.to_owned())
            .await
            .map_err(|_| PrintError::UnknownOrder)?;
        if self.clock.now().duration_since(order.created_at) > KIOSK_RECEIPT_FOR {
            return Err(PrintError::NotAtKiosk(
                "a kiosk prints the receipt of the order it just took only: ask at the counter",
            ));
        }
        self.print_receipt(order_id).await
    }

    /// The label of an order (the bag or the parcel), printed on the labels printer.
    pub async fn print_label(&self, order_id: &str) -> Result<(), PrintError> {
        self.print_on(order_id, JobKind::Label, PrinterRole::Labels, "labels").await
    }

    async fn print_on(
        &self,
        order_id: &str,
        kind: JobKind,
        role: PrinterRole,
        words: &'static str,
    ) -> Result<(), PrintError> {
        let loaded = self.manifest.current();
        let printer =
            loaded.manifest.printing.for_role(role).ok_or(PrintError::NoPrinterFor(words))?;
        self.jobs.queue_original(order_id, kind, &printer.name, self.clock.now()).await?;
        self.wake.notify_waiters();
        Ok(())
    }

    /// A reprint of a job, marked REPRINT and linked to it.
    pub async fn reprint(&self, job_id: &str, who: &str) -> Result<PrintJob, PrintError> {
        let job = self
            .jobs
            .queue_reprint(job_id, None, who, self.clock.now())
            .await?
            .ok_or(PrintError::UnknownJob)?;
        self.wake.notify_waiters();
        Ok(job)
    }

    /// Staff said to print what a printer held after an outage. How many jobs.
    pub async fn release(&self, printer: &str) -> Result<u64, PrintError> {
        self.known(printer)?;
        let n = self.jobs.release(printer, self.clock.now()).await?;
        self.wake.notify_waiters();
        Ok(n)
    }

    /// Every printer of the manifest, with its state as last seen, its queue, and why
    /// its tickets print without the logo if they do (for the Printers screen).
    pub async fn printers(&self) -> Result<Vec<PrinterView>, PrintError> {
        let mut all = self.printers_as_seen().await?;
        if !all.is_empty() {
            let problem = self.logo().await.err().map(|e| e.to_string());
            for p in &mut all {
                p.logo_problem.clone_from(&problem);
            }
        }
        Ok(all)
    }

    /// Every printer with its state and queue, without asking for the logo: the workers'
    /// look runs every few seconds and must not reach the origin for a missing logo.
    async fn printers_as_seen(&self) -> Result<Vec<PrinterView>, PrintError> {
        let loaded = self.manifest.current();
        let mut out = Vec::new();
        for p in &loaded.manifest.printing.printers {
            let (queued, held, attention) = self.jobs.waiting(&p.name).await?;
            let seen = self
                .seen
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&p.name)
                .cloned()
                .unwrap_or_default();
            out.push(PrinterView {
                name: p.name.clone(),
                identity: seen.identity.clone().unwrap_or_else(|| address_text(&p.address)),
                uri: address_text(&p.address),
                role: p.role,
                paused: self.is_paused(&p.name),
                state: match (&seen, held > 0 || attention > 0) {
                    (s, _) if s.down_since.is_some() => "needs_attention",
                    (_, true) => "needs_attention",
                    _ if self.is_paused(&p.name) => "paused",
                    (s, _) if s.printing => "printing",
                    (s, _) if s.checked => "ready",
                    _ => "not_checked",
                },
                detail: seen.why.clone(),
                paper: match (seen.checked, seen.paper_out) {
                    (_, true) => "out",
                    (true, false) => "ok",
                    _ => "unknown",
                },
                queued,
                held,
                attention,
                last_printed: seen.last_printed,
                logo_problem: None,
            });
        }
        Ok(out)
    }

    /// How many printers need a person, and since when one has, as of the workers' last
    /// look (at most a few seconds old).
    pub fn attention(&self) -> Attention {
        *self.attention.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Looks again at every printer's state for [`Printing::attention`].
    async fn look_at_attention(&self) {
        let Ok(all) = self.printers_as_seen().await else { return };
        let printers = all.iter().filter(|p| p.state == "needs_attention").count() as u32;
        let now = self.clock.now();
        {
            let mut a = self.attention.lock().unwrap_or_else(|e| e.into_inner());
            a.since = if printers == 0 { None } else { a.since.or(Some(now)) };
            a.printers = printers;
        }
        *self.last_look.lock().unwrap_or_else(|e| e.into_inner()) = all;
    }

    /// Each printer of the manifest as the workers last saw it, in the words of the
    /// booth's report to the hub (no database read: the heartbeat must not wait).
    pub fn report(&self) -> Vec<PrinterReport> {
        let loaded = self.manifest.current();
        let named = &loaded.manifest.printing.printers;
        let look = self.last_look.lock().unwrap_or_else(|e| e.into_inner());
        named
            .iter()
            .take(wire::MAX_REPORT_PRINTERS)
            .map(|p| match look.iter().find(|v| v.name == p.name) {
                Some(v) => PrinterReport {
                    name: v.name.clone(),
                    role: v.role.as_str().to_owned(),
                    state: v.state.to_owned(),
                    paper: v.paper.to_owned(),
                    queued: v.queued,
                    waiting_for_staff: v.held + v.attention,
                    detail: v.detail.as_deref().and_then(wire::printer_detail),
                },
                None => PrinterReport {
                    name: p.name.clone(),
                    role: p.role.as_str().to_owned(),
                    state: "not_checked".to_owned(),
                    paper: "unknown".to_owned(),
                    queued: 0,
                    waiting_for_staff: 0,
                    detail: None,
                },
            })
            .collect()
    }

    /// Where to reach a printer now: its address, or for one named by DNS-SD the
    /// address it is announced at at this moment (asked at every look and every job).
    fn reach(&self, printer: &PrinterSettings) -> Result<PrinterAddress, String> {
        let PrinterAddress::DnsSd(instance) = &printer.address else {
            return Ok(printer.address.clone());
        };
        let Some(discovery) = &self.discovery else {
            return Err(format!(
                "`{instance}` is named by DNS-SD, and discovery is off at this booth: give its uri"
            ));
        };
        let gone_after = discovery.gone_after_ms();
        let now = self.clock.now().as_millisecond();
        boothcloud_core::devices::printers::printer_address(
            instance,
            discovery.inventory().devices(),
            now,
            gone_after,
        )
        .map_err(|e| e.to_string())
    }

    /// A printer of the manifest, or `UnknownPrinter`.
    fn known(&self, printer: &str) -> Result<(), PrintError> {
        match self.manifest.current().manifest.printing.printer(printer) {
            Some(_) => Ok(()),
            None => Err(PrintError::UnknownPrinter(printer.into())),
        }
    }

    /// Whether a person paused the printer.
    pub fn is_paused(&self, printer: &str) -> bool {
        self.paused.lock().unwrap_or_else(|e| e.into_inner()).contains(printer)
    }

    /// Pauses or resumes a printer (from the Printers screen). Audited by the caller.
    pub async fn set_paused(
        &self,
        printer: &str,
        paused: bool,
        who: &str,
    ) -> Result<(), PrintError> {
        self.known(printer)?;
        self.jobs.set_paused(printer, paused, who, self.clock.now()).await?;
        let mut set = self.paused.lock().unwrap_or_else(|e| e.into_inner());
        if paused {
            set.insert(printer.to_owned());
        } else {
            set.remove(printer);
        }
        drop(set);
        self.wake.notify_waiters();
        Ok(())
    }

    /// A test page on one printer: what a pickup ticket looks like on its paper.
    pub async fn test_print(&self, printer: &str, who: &str) -> Result<PrintJob, PrintError> {
        self.known(printer)?;
        let ticket = serde_json::to_string(&self.sample_ticket(printer))
            .map_err(|e| PrintError::BadTicket(e.to_string()))?;
        let job = self
            .jobs
            .queue_drawn(printer, &ticket, who, self.clock.now())
            .await?
            .ok_or(PrintError::UnknownJob)?;
        self.wake.notify_waiters();
        Ok(job)
    }

    /// The ticket a test print and the preview show: the event, TEST as the number.
    fn sample_ticket(&self, printer: &str) -> Ticket {
        let loaded = self.manifest.current();
        let m = &loaded.manifest;
        let now = self.clock.now().to_zoned(m.event.timezone.clone());
        Ticket {
            kind: JobKind::Ticket,
            event: m.event.name.clone(),
            pickup_number: "TEST".into(),
            lines: vec![(1, format!("Test print on {printer}"), 0)],
            total: 0,
            currency: m.event.currency,
            paid: "-".into(),
            receipt_url: None,
            taken: format!("{:02}:{:02}", now.hour(), now.minute()),
            copy: 0,
            for_booth: None,
        }
    }

    /// A PNG of what a ticket looks like on this printer's paper (the very drawing a
    /// raster printer gets, logo and all).
    pub async fn preview(&self, printer: &str) -> Result<Vec<u8>, PrintError> {
        let paper = {
            let loaded = self.manifest.current();
            loaded
                .manifest
                .printing
                .printer(printer)
                .ok_or_else(|| PrintError::UnknownPrinter(printer.into()))?
                .paper
        };
        let ticket = self.sample_ticket(printer);
        let logo = self.logo_for_ticket().await;
        let fonts = self.fonts();
        // Drawing takes a few milliseconds of CPU: off the async workers.
        tokio::task::spawn_blocking(move || ticket.png(paper, fonts, logo.as_deref()))
            .await
            .map_err(|e| PrintError::BadTicket(e.to_string()))?
            .map_err(|e| PrintError::BadTicket(e.to_string()))
    }

    /// Whether a printer was looked at, is not down and is not paused.
    fn can_print(&self, printer: &str) -> bool {
        if self.is_paused(printer) {
            return false;
        }
        self.seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(printer)
            .is_some_and(|s| s.checked && s.down_since.is_none())
    }

    fn note(&self, printer: &str, edit: impl FnOnce(&mut Seen)) {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        edit(seen.entry(printer.to_owned()).or_default());
    }

    /// The ticket for a job, from the order as the counter sees it.
    async fn ticket_for(&self, job: &PrintJob) -> Result<Ticket, PrintError> {
        // A paired booth's job: the ticket as that booth drew it (a reprint here marked).
        if let Some(text) = self.jobs.drawn_ticket(&job.job_id).await? {
            let mut ticket: Ticket =
                serde_json::from_str(&text).map_err(|e| PrintError::BadTicket(e.to_string()))?;
            ticket.copy = ticket.copy.max(job.copy);
            return Ok(ticket);
        }
        let loaded = self.manifest.current();
        let m = &loaded.manifest;
        let names =
            |sku: &str| loaded.book.item(sku).map_or_else(|| sku.to_owned(), |i| i.name.clone());
        let order = self
            .orders
            .counter_order(&job.order_id, &names)
            .await
            .map_err(|_| PrintError::UnknownOrder)?;
        let base = self.receipt_base.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let taken = order.created_at.to_zoned(m.event.timezone.clone());
        Ok(Ticket {
            kind: job.kind,
            event: m.event.name.clone(),
            pickup_number: order.pickup_number.clone().unwrap_or_else(|| "-".into()),
            lines: order.lines.iter().map(|l| (l.qty, l.name.clone(), l.total)).collect(),
            total: order.total,
            currency: m.event.currency,
            paid: if order.paid {
                order.payment.replace('_', " ")
            } else {
                "to pay at pickup".into()
            },
            receipt_url: base.zip(order.receipt_id).map(|(b, id)| format!("{b}/r/{id}")),
            taken: format!("{:02}:{:02}", taken.hour(), taken.minute()),
            copy: job.copy,
            for_booth: None,
        })
    }

    /// A paired booth hands one of its jobs to a printer here (its printer's fallback).
    /// Taken once: the same job sent again answers where the first one is.
    pub async fn take_forwarded(
        &self,
        from_booth: &str,
        req: &peer::ForwardRequest,
    ) -> Result<peer::ForwardAnswer, PrintError> {
        let loaded = self.manifest.current();
        if loaded.manifest.printing.printer(&req.printer).is_none() {
            return Err(PrintError::UnknownPrinter(req.printer.clone()));
        }
        req.ticket.check().map_err(PrintError::BadTicket)?;
        if req.order_id.is_empty() || req.order_id.len() > 128 || !(0..=1000).contains(&req.copy) {
            return Err(PrintError::BadTicket("the order id or the copy is out of bounds".into()));
        }
        let ticket =
            serde_json::to_string(&req.ticket).map_err(|e| PrintError::BadTicket(e.to_string()))?;
        let now = self.clock.now();
        // Only while the printer can print: otherwise the asking booth keeps the job
        // (and its own printer may come back first).
        // The same job sent again (its answer was lost) is the job it already is.
        if let Some(job) =
            self.jobs.find_foreign(from_booth, &req.order_id, req.kind, req.copy).await?
        {
            return Ok(job.into());
        }
        if !self.can_print(&req.printer) {
            let why = self
                .seen
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&req.printer)
                .and_then(|s| s.why.clone())
                .unwrap_or_else(|| "it was not looked at yet".into());
            return Err(PrintError::CannotPrint(req.printer.clone(), why));
        }
        let job = self
            .jobs
            .queue_foreign(
                from_booth,
                &req.order_id,
                req.kind,
                req.copy,
                &req.printer,
                &ticket,
                now,
            )
            .await?;
        self.wake.notify_waiters();
        Ok(job.into())
    }

    /// Where a job a paired booth handed here is (only that booth's own jobs).
    pub async fn forwarded_job(
        &self,
        from_booth: &str,
        job_id: &str,
    ) -> Result<peer::ForwardAnswer, PrintError> {
        let job = self.jobs.foreign(job_id, from_booth).await?.ok_or(PrintError::UnknownJob)?;
        Ok(job.into())
    }
}

fn address_text(a: &PrinterAddress) -> String {
    match a {
        PrinterAddress::Ipp(u) => u.to_string(),
        PrinterAddress::Socket { host, port } => format!("socket://{host}:{port}"),
        PrinterAddress::DnsSd(name) => format!("dns-sd:{name}"),
    }
}

/// What sending one job came to.
enum Outcome {
    Printed(JobState, Option<i32>),
    /// Nothing reached the printer: why (the printer is down or refusing).
    NotSent(String),
    /// Something may have reached the printer: a person must decide.
    Unsure(String),
}

/// Runs every printer's worker until the node stops; workers follow the manifest's
/// printers as it is edited.
pub async fn keep_printing(printing: Arc<Printing>, mut stopping: watch::Receiver<bool>) {
    match printing.jobs.recover(printing.clock.now()).await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(
            jobs = n,
            "print jobs were being sent when the booth stopped: they wait for staff"
        ),
        Err(e) => tracing::error!(error = %e, "cannot recover the print queue"),
    }
    match printing.jobs.paused().await {
        Ok(names) => printing.paused.lock().unwrap_or_else(|e| e.into_inner()).extend(names),
        Err(e) => tracing::error!(error = %e, "cannot read which printers are paused"),
    }
    let mut workers: HashMap<String, (PrinterSettings, tokio::task::JoinHandle<()>)> =
        HashMap::new();
    loop {
        let wanted = printing.manifest.current().manifest.printing.printers.clone();
        workers.retain(|_, (settings, handle)| {
            let keep = wanted.iter().any(|w| w == settings) && !handle.is_finished();
            if !keep {
                handle.abort();
            }
            keep
        });
        for p in wanted {
            if !workers.contains_key(&p.name) {
                let handle = tokio::spawn(work(printing.clone(), p.clone(), stopping.clone()));
                workers.insert(p.name.clone(), (p, handle));
            }
        }
        tokio::select! {
            _ = stopping.changed() => break,
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
        if *stopping.borrow() {
            break;
        }
    }
    for (_, (_, handle)) in workers {
        handle.abort();
    }
}

/// One printer's worker.
async fn work(
    printing: Arc<Printing>,
    printer: PrinterSettings,
    mut stopping: watch::Receiver<bool>,
) {
    let name = printer.name.clone();
    let catch_up_from = printing.clock.now() - CATCH_UP;
    loop {
        if *stopping.borrow() {
            return;
        }
        // Listening for new jobs from before the queue is read: a job queued while this
        // worker looks is not missed.
        let woken = printing.wake.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let now = printing.clock.now();
        // Orders taken while no worker ran (or just before a crash) get their ticket.
        if printer.role == PrinterRole::Tickets {
            if let Ok(missed) =
                printing.jobs.orders_without(JobKind::Ticket, catch_up_from, 50).await
            {
                for order in missed {
                    let _ = printing.order_taken(&order).await;
                }
            }
        }
        // A printer that could not print is asked first: nothing is sent to it until
        // it answers, and what waited through a long outage is held for staff.
        let down = printing
            .seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&name)
            .and_then(|s| s.down_since);
        if down.is_some() {
            look(&printing, &printer).await;
        }
        let down_since = printing
            .seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&name)
            .and_then(|s| s.down_since);
        let still_down = down_since.is_some();
        // Paused by a person: nothing is sent to it or handed on; its jobs wait.
        let paused = printing.is_paused(&name);
        // Down for a while: what waits goes to the fallback printer, if that one can print
        // (it draws each ticket for its own paper).
        if let (Some(since), Some(Fallback::Printer(fallback))) =
            (down_since, printer.fallback.as_ref())
        {
            if now.duration_since(since) >= FALLBACK_AFTER
                && !paused
                && printing.can_print(fallback)
            {
                match printing.jobs.hand_over(&name, fallback, now).await {
                    Ok(0) => {}
                    Ok(n) => {
                        tracing::warn!(printer = %name, fallback, jobs = n, "printer down: its jobs go to the fallback printer");
                        printing.wake.notify_waiters();
                    }
                    Err(e) => {
                        tracing::error!(error = %e, printer = %name, "cannot hand jobs to the fallback printer")
                    }
                }
            }
        }
        // Down for a while with a paired booth's printer as its fallback: what waits is
        // handed to that booth, one job at a time, each followed there until printed.
        if let (Some(since), Some(Fallback::Peer { printer: theirs, booth })) =
            (down_since, printer.fallback.as_ref())
        {
            if now.duration_since(since) >= FALLBACK_AFTER && !paused {
                peer::forward_waiting(&printing, &name, theirs, booth).await;
            }
        }
        let following = peer::follow_forwarded(&printing, &printer).await;
        let busy = if still_down || paused {
            if paused && down.is_none() {
                look(&printing, &printer).await;
            }
            false
        } else {
            match printing.jobs.claim(&name, now).await {
                Ok(Some(job)) => {
                    printing.note(&name, |s| s.printing = true);
                    let outcome = send(&printing, &printer, &job).await;
                    printing.note(&name, |s| s.printing = false);
                    settle(&printing, &printer, &job, outcome).await;
                    true
                }
                Ok(None) => {
                    if down.is_none() {
                        look(&printing, &printer).await;
                    }
                    false
                }
                Err(e) => {
                    tracing::error!(error = %e, printer = %name, "cannot read the print queue");
                    false
                }
            }
        };
        printing.look_at_attention().await;
        if !busy {
            let pause = if still_down || following { DOWN_LOOK } else { IDLE_LOOK };
            tokio::select! {
                _ = stopping.changed() => {}
                () = woken => {}
                () = tokio::time::sleep(pause) => {}
            }
        }
    }
}

/// An idle worker's look at its printer: is it back, and did jobs wait through an
/// outage?
async fn look(printing: &Printing, printer: &PrinterSettings) {
    let was_down = printing
        .seen
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&printer.name)
        .and_then(|s| s.down_since);
    let (mut ok, mut why, identity, paper_out) = match printing.reach(printer) {
        Ok(address) => probe(&address).await,
        Err(why) => (false, Some(why), None, false),
    };
    // A printer that answered, but is not the one the manifest pins, is not this one.
    if ok || identity.is_some() {
        if let Err(wrong) = pinned(printer, identity.as_deref()) {
            (ok, why) = (false, Some(wrong));
        }
    }
    let now = printing.clock.now();
    let backlog_after = printing.manifest.current().manifest.printing.backlog_after;
    if ok {
        if let Some(since) = was_down {
            if now.duration_since(since) > backlog_after {
                // Back after a long outage: what waited meanwhile asks staff first.
                if let Ok(n) = printing
                    .jobs
                    .hold_backlog(&printer.name, now - SignedDuration::from_secs(1), now)
                    .await
                {
                    if n > 0 {
                        tracing::warn!(printer = %printer.name, jobs = n, "printer back after an outage: waiting jobs held for staff");
                    }
                }
            }
        }
    }
    printing.note(&printer.name, |s| {
        s.checked = true;
        s.paper_out = paper_out;
        if identity.is_some() {
            s.identity = identity;
        }
        if ok {
            s.down_since = None;
            s.why = None;
        } else {
            s.down_since.get_or_insert(now);
            s.why = why;
        }
    });
}

/// Whether `identity` (the `printer-uuid` a printer gave, if any) is the printer the
/// manifest pins with `uuid`, and why not in words.
fn pinned(printer: &PrinterSettings, identity: Option<&str>) -> Result<(), String> {
    let Some(want) = &printer.uuid else { return Ok(()) };
    match identity {
        Some(got) if got.eq_ignore_ascii_case(want) => Ok(()),
        Some(got) => Err(format!(
            "A different printer answers as `{}`: its printer-uuid is {got}, the price list file names {want}. Nothing is sent to it; check which printer this is.",
            printer.name
        )),
        None => Err(format!(
            "The printer answering as `{}` does not say its printer-uuid, and the price list file names {want}. Nothing is sent to it.",
            printer.name
        )),
    }
}

/// Whether the printer can print now, why not, its identity, and whether it is out of
/// paper.
async fn probe(address: &PrinterAddress) -> (bool, Option<String>, Option<String>, bool) {
    match address {
        PrinterAddress::Socket { host, port } => {
            match socket::check(&socket_addr(host, *port)).await {
                Ok(socket::Status::Ready | socket::Status::Silent) => (true, None, None, false),
                Ok(socket::Status::Cannot(why)) => {
                    let paper = why.contains("paper");
                    (false, Some(format!("The printer says: {why}")), None, paper)
                }
                Err(e) => (false, Some(e.to_string()), None, false),
            }
        }
        PrinterAddress::Ipp(url) => match ipp::uri(url.as_str()) {
            Ok(uri) => match ipp::describe(&uri).await {
                Ok(d) if d.accepting && !d.reasons.iter().any(|r| r.ends_with("-error")) => {
                    (true, None, d.uuid, false)
                }
                Ok(d) => {
                    let paper = d
                        .reasons
                        .iter()
                        .any(|r| r.starts_with("media-empty") || r.starts_with("media-needed"));
                    (
                        false,
                        Some(format!("The printer says: {}", d.reasons.join(", "))),
                        d.uuid,
                        paper,
                    )
                }
                Err(e) => (false, Some(e.to_string()), None, false),
            },
            Err(e) => (false, Some(e.to_string()), None, false),
        },
        // `Printing::reach` resolves these first.
        PrinterAddress::DnsSd(name) => {
            (false, Some(format!("`{name}` was not resolved")), None, false)
        }
    }
}

fn socket_addr(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

async fn send(printing: &Printing, printer: &PrinterSettings, job: &PrintJob) -> Outcome {
    let ticket = match printing.ticket_for(job).await {
        Ok(t) => t,
        Err(e) => return Outcome::Unsure(format!("cannot make the ticket: {e}")),
    };
    let address = match printing.reach(printer) {
        Ok(a) => a,
        Err(why) => return Outcome::NotSent(why),
    };
    // Only an IPP printer says its printer-uuid: a pinned printer reached any other way
    // (a DNS-SD name now announced as a raw socket) cannot be the pinned one.
    if !matches!(address, PrinterAddress::Ipp(_)) {
        if let Err(wrong) = pinned(printer, None) {
            return Outcome::NotSent(wrong);
        }
    }
    let logo = printing.logo_for_ticket().await;
    match &address {
        PrinterAddress::Socket { host, port } => {
            let bytes = match ticket.escpos(printer.paper, logo.as_deref()) {
                Ok(b) => b,
                Err(e) => return Outcome::Unsure(e.to_string()),
            };
            match socket::print(&socket_addr(host, *port), &bytes).await {
                Ok(Ok(())) => Outcome::Printed(JobState::Sent, None),
                Ok(Err(why)) => Outcome::NotSent(format!("The printer says: {why}")),
                Err(e) if e.may_have_printed() => Outcome::Unsure(e.to_string()),
                Err(e) => Outcome::NotSent(e.to_string()),
            }
        }
        PrinterAddress::Ipp(url) => {
            let uri = match ipp::uri(url.as_str()) {
                Ok(u) => u,
                Err(e) => return Outcome::NotSent(e.to_string()),
            };
            // A pinned printer is asked who it is right before the job: the address (or
            // the DNS-SD name) may have gone to another printer since the last look.
            if printer.uuid.is_some() {
                let said = match ipp::describe(&uri).await {
                    Ok(d) => d.uuid,
                    Err(e) => return Outcome::NotSent(e.to_string()),
                };
                if let Err(wrong) = pinned(printer, said.as_deref()) {
                    return Outcome::NotSent(wrong);
                }
            }
            let fonts = printing.fonts();
            let paper = printer.paper;
            let page = match tokio::task::spawn_blocking(move || {
                ticket.pwg_raster(paper, fonts, logo.as_deref())
            })
            .await
            {
                Ok(Ok(p)) => p,
                Ok(Err(e)) => return Outcome::Unsure(e.to_string()),
                Err(e) => return Outcome::Unsure(e.to_string()),
            };
            let title = format!("{} {}", job.kind.as_str(), job.order_id);
            match ipp::print(&uri, &title, page).await {
                Ok(id) => match ipp::follow(&uri, id).await {
                    Ok(()) => Outcome::Printed(JobState::Confirmed, Some(id)),
                    Err(e) => Outcome::Unsure(e.to_string()),
                },
                Err(e) if e.may_have_printed() => Outcome::Unsure(e.to_string()),
                Err(e) => Outcome::NotSent(e.to_string()),
            }
        }
        // `Printing::reach` resolves these first.
        PrinterAddress::DnsSd(name) => Outcome::NotSent(format!("`{name}` was not resolved")),
    }
}

async fn settle(printing: &Printing, printer: &PrinterSettings, job: &PrintJob, outcome: Outcome) {
    let now = printing.clock.now();
    let max_attempts = printing.manifest.current().manifest.printing.max_attempts;
    let recorded = match outcome {
        Outcome::Printed(state, id) => {
            printing.note(&printer.name, |s| {
                s.last_printed = Some(now);
                s.down_since = None;
                s.why = None;
                s.checked = true;
                s.paper_out = false;
            });
            printing.jobs.done(&job.job_id, state, id, now).await
        }
        Outcome::NotSent(why) => {
            printing.note(&printer.name, |s| {
                s.checked = true;
                s.down_since.get_or_insert(now);
                s.paper_out = why.contains("paper");
                s.why = Some(why.clone());
            });
            // A printer that is down keeps its jobs waiting (they resume when it is
            // back); only a job the printer itself keeps refusing needs a person.
            let wait =
                MAX_BACKOFF.min(Duration::from_millis(500u64 << job.attempts.clamp(0, 10) as u32));
            if job.attempts >= i64::from(max_attempts) && why.contains("refused the job") {
                printing.jobs.needs_attention(&job.job_id, &why, now).await
            } else {
                printing
                    .jobs
                    .not_sent(
                        &job.job_id,
                        &why,
                        now + SignedDuration::try_from(wait)
                            .unwrap_or(SignedDuration::from_secs(30)),
                        now,
                    )
                    .await
            }
        }
        Outcome::Unsure(why) => {
            let why = format!("{why}: it may have printed; reprint it if it did not");
            printing.jobs.needs_attention(&job.job_id, &why, now).await
        }
    };
    if let Err(e) = recorded {
        tracing::error!(error = %e, job = %job.job_id, "cannot record a print job's outcome");
    }
}
