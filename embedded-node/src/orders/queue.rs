//! Durable capture with group commit.
//!
//! One writer thread owns one SQLite connection. Requests hand it their order and wait;
//! the writer takes every order that is waiting (up to `MAX_BATCH`), stores them all in
//! one transaction, commits once — one fsync for the whole group — and only then
//! answers each. Under load the group grows by itself, so durability costs one fsync
//! per batch instead of one per order. A failed commit answers every order in the
//! group with `Unavailable` (nothing was acknowledged, so nothing is lost: the kiosk
//! retries with the same key).
//!
//! Why a thread with a synchronous connection (rusqlite) rather than a tokio task on
//! an sqlx connection: the writer is the one place where every order waits in line.
//! Through sqlx each statement of a group was a round trip to sqlx's own worker thread
//! and back through the tokio scheduler, which under load queued the writer behind the
//! very HTTP tasks it was holding up; the commit cycle stretched well past the fsync
//! and groups stayed small. On its own thread the group is settled in one go with
//! cached statements, as the raw-SQLite reference in `boothcloud-bench commerce` does.
//! Everything else (reads, the sync worker's state changes) stays on the sqlx pool.
//!
//! The writer thread asks the OS to run it before the node's other threads and other
//! programs ([`WRITER_NICE`]) when the laptop is busy — a transcode on both cores, a
//! burst of kiosks — since every order waits for it in turn; it only runs when orders
//! arrive, so it cannot crowd anything out. Linux grants that to root, or with
//! `CAP_SYS_NICE` or an `RLIMIT_NICE` that allows it; elsewhere the writer runs at the
//! normal priority (and says so at debug level).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rusqlite::{params, Connection, OptionalExtension};
use sqlx::sqlite::SqlitePool;
use sqlx::Row;
use tokio::sync::{mpsc, oneshot};

use super::*;

/// Most orders in one commit.
pub const MAX_BATCH: usize = 256;

/// An order handed to the writer, with its row made ready by the request (on the
/// request's own core, in parallel with the others): only the SQL and its pickup number
/// are left for the writer, which every order waits for in turn.
struct Job {
    order: NewOrder,
    /// The order's id, should it be stored now.
    order_id: String,
    /// Its public receipt's id: 128 random bits.
    receipt_id: String,
    /// The quoted lines as the `lines` column holds them (JSON).
    lines: String,
    reply: oneshot::Sender<Result<Captured, OrderError>>,
}

impl Job {
    fn new(order: NewOrder, reply: oneshot::Sender<Result<Captured, OrderError>>) -> Job {
        let order_id = uuid::Uuid::now_v7().to_string();
        let receipt_id = receipt_id();
        let lines = serde_json::to_string(&order.claims.lines).expect("lines serialize");
        Job { order, order_id, receipt_id, lines, reply }
    }
}

/// A receipt id: 128 bits from the OS's generator, as 26 base-32 letters and digits
/// (short enough for a QR code a phone reads at arm's length).
fn receipt_id() -> String {
    let bits = uuid::Uuid::new_v4().as_u128();
    let alphabet = b"0123456789abcdefghjkmnpqrstvwxyz";
    (0..26).map(|i| alphabet[((bits >> (i * 5)) & 31) as usize] as char).collect()
}

/// The last pickup number given, per event and prefix, as committed.
type Pickups = HashMap<(String, String), i64>;

/// What the writer thread is sent: an order, or the word to stop. (Not boxed: every
/// message but one is an order, and a box would be one more allocation per order.)
#[allow(clippy::large_enum_variant)]
enum Message {
    Order(Job),
    Reserve(Reservation),
    Stop,
}

/// A kiosk's request for pickup numbers in advance.
struct Reservation {
    kiosk: String,
    event: String,
    prefix: String,
    count: u32,
    now: Timestamp,
    reply: oneshot::Sender<Result<ReservedRange, OrderError>>,
}

/// Pickup numbers `first..=last` (with the prefix) reserved for one kiosk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReservedRange {
    pub first: i64,
    pub last: i64,
}

/// The writer thread's nice value where the OS allows it (lower runs first; 0 is normal).
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub const WRITER_NICE: i32 = -10;

/// Units sold per tracked SKU, as committed.
type Sold = Arc<Mutex<HashMap<String, u32>>>;

/// Stops the order writer: no new orders are taken (senders get `Unavailable`), the
/// orders already handed over are committed and answered, then the thread ends.
pub struct QueueWriter {
    jobs: mpsc::Sender<Message>,
    done: oneshot::Receiver<()>,
}

impl QueueWriter {
    pub async fn stop(self) {
        // Behind every order already queued, so those are committed first.
        if self.jobs.send(Message::Stop).await.is_ok() {
            let _ = self.done.await;
        }
    }
}

/// The handle every request uses; cheap to clone.
#[derive(Clone)]
pub struct OrderQueue {
    jobs: mpsc::Sender<Message>,
    /// Groups committed since start (orders per fsync = orders / groups).
    groups: Arc<std::sync::atomic::AtomicU64>,
    pub(super) pool: SqlitePool,
    pub(super) sold: Sold,
    /// Notified after a commit that stored new orders or a refund (the sync worker
    /// waits on it).
    pub(super) arrivals: Arc<tokio::sync::Notify>,
}

impl OrderQueue {
    /// Starts the writer thread on its own connection. It runs until `QueueWriter::stop`,
    /// or until the `QueueWriter` and every `OrderQueue` clone are dropped.
    pub async fn start(
        pool: SqlitePool,
        writer: Connection,
    ) -> Result<(OrderQueue, QueueWriter), sqlx::Error> {
        let rows = sqlx::query("SELECT sku, sold FROM stock_sold").fetch_all(&pool).await?;
        let sold: HashMap<String, u32> = rows
            .iter()
            .map(|r| {
                (r.get::<String, _>(0), r.get::<i64, _>(1).clamp(0, i64::from(u32::MAX)) as u32)
            })
            .collect();
        let sold = Arc::new(Mutex::new(sold));
        let pickups: Pickups = sqlx::query("SELECT event_id, prefix, last FROM pickup_numbers")
            .fetch_all(&pool)
            .await?
            .iter()
            .map(|r| ((r.get::<String, _>(0), r.get::<String, _>(1)), r.get::<i64, _>(2)))
            .collect();
        let (jobs, rx) = mpsc::channel(4 * MAX_BATCH);
        let (done_tx, done) = oneshot::channel();
        let arrivals = Arc::new(tokio::sync::Notify::new());
        let groups = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let (thread_sold, thread_arrivals, thread_groups) =
            (sold.clone(), arrivals.clone(), groups.clone());
        std::thread::Builder::new()
            .name("order-writer".into())
            .spawn(move || {
                go_first();
                write_loop(writer, rx, thread_sold, pickups, thread_arrivals, &thread_groups);
                let _ = done_tx.send(());
            })
            .map_err(sqlx::Error::Io)?;
        let queue = OrderQueue { jobs: jobs.clone(), groups, pool, sold, arrivals };
        queue.recover_in_flight().await?;
        Ok((queue, QueueWriter { jobs, done }))
    }

    /// Stores an order durably, or explains why not. Returns only after the commit.
    pub async fn capture(&self, order: NewOrder) -> Result<Captured, OrderError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Message::Order(Job::new(order, reply)))
            .await
            .map_err(|_| OrderError::Unavailable("the node is shutting down".into()))?;
        answer.await.map_err(|_| OrderError::Unavailable("the order writer stopped".into()))?
    }

    /// Reserves the next `count` pickup numbers of the event for a kiosk, from the same
    /// counter every order takes its number from (committed before it answers).
    pub async fn reserve_pickups(
        &self,
        kiosk: &str,
        event: &str,
        prefix: &str,
        count: u32,
        now: Timestamp,
    ) -> Result<ReservedRange, OrderError> {
        let (reply, answer) = oneshot::channel();
        let reservation = Reservation {
            kiosk: kiosk.to_owned(),
            event: event.to_owned(),
            prefix: prefix.to_owned(),
            count: count.max(1),
            now,
            reply,
        };
        self.jobs
            .send(Message::Reserve(reservation))
            .await
            .map_err(|_| OrderError::Unavailable("the node is shutting down".into()))?;
        answer.await.map_err(|_| OrderError::Unavailable("the order writer stopped".into()))?
    }

    /// The stored request hash and first response for an idempotency key, if any.
    pub async fn find_by_key(&self, key: &str) -> Result<Option<(Vec<u8>, String)>, OrderError> {
        let row =
            sqlx::query("SELECT request_hash, response FROM orders WHERE idempotency_key = ?")
                .bind(key)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|r| (r.get(0), r.get(1))))
    }

    /// Groups the writer has committed since the node started (each one fsync);
    /// failed ones included.
    pub fn groups_committed(&self) -> u64 {
        self.groups.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Wakes whoever waits for new orders (one waiter: the sync worker).
    pub fn arrivals(&self) -> Arc<tokio::sync::Notify> {
        self.arrivals.clone()
    }

    /// Units of a tracked SKU still available.
    pub fn available(&self, sku: &str, stock: u32) -> u32 {
        let sold = self.sold.lock().unwrap_or_else(|e| e.into_inner());
        stock.saturating_sub(sold.get(sku).copied().unwrap_or(0))
    }
}

/// Asks for [`WRITER_NICE`] for the calling thread (Linux: a thread's own nice value).
fn go_first() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: plain system calls on the calling thread's own id, no pointers.
        let refused = unsafe {
            libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, WRITER_NICE)
        } == -1;
        if refused {
            tracing::debug!(error = %std::io::Error::last_os_error(), "the order writer runs at the normal priority");
        }
    }
}

/// The writer thread: blocks for the first order, takes every other one waiting, and
/// commits them as one group. Ends at `Message::Stop` (after committing what was sent
/// before it) or when every sender is gone.
fn write_loop(
    mut conn: Connection,
    mut rx: mpsc::Receiver<Message>,
    sold: Sold,
    mut pickups: Pickups,
    arrivals: Arc<tokio::sync::Notify>,
    groups: &std::sync::atomic::AtomicU64,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut reservations = Vec::new();
    let mut stopping = false;
    loop {
        if !stopping {
            match rx.blocking_recv() {
                Some(Message::Order(job)) => batch.push(job),
                Some(Message::Reserve(r)) => reservations.push(r),
                Some(Message::Stop) => stopping = true,
                // Every sender dropped, and nothing left.
                None => break,
            }
        }
        // Everyone else already waiting joins this group. (Waiting a little longer for
        // the kiosks the last commit answered, as PostgreSQL's commit_delay does, was
        // measured twice and made no group commit faster: BENCHMARKS.md.)
        take_waiting(&mut rx, &mut batch, &mut reservations, &mut stopping);
        for r in reservations.drain(..) {
            let answer = reserve(&mut conn, &mut pickups, &r);
            let _ = r.reply.send(answer);
        }
        if stopping {
            // Refuse new orders; what is already queued is still committed, in rounds
            // of `MAX_BATCH` (a closed channel still hands over what it holds).
            rx.close();
        }
        if batch.is_empty() {
            if stopping {
                break;
            }
            continue;
        }
        let started = Instant::now();
        let size = batch.len();
        commit_and_answer(&mut conn, &mut batch, &sold, &mut pickups, &arrivals);
        groups.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tracing::trace!(
            orders = size,
            micros = started.elapsed().as_micros() as u64,
            "order group committed"
        );
    }
    tracing::debug!("order writer stopped");
}

/// Adds every order already queued to `batch` (up to `MAX_BATCH`).
fn take_waiting(
    rx: &mut mpsc::Receiver<Message>,
    batch: &mut Vec<Job>,
    reservations: &mut Vec<Reservation>,
    stopping: &mut bool,
) {
    while batch.len() < MAX_BATCH {
        match rx.try_recv() {
            Ok(Message::Order(job)) => batch.push(job),
            Ok(Message::Reserve(r)) => reservations.push(r),
            Ok(Message::Stop) => *stopping = true,
            Err(_) => break,
        }
    }
}

const INSERT_RANGE: &str =
    "INSERT INTO kiosk_ranges (kiosk_id, event_id, prefix, first, last, reserved_ms) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

/// Reserves a kiosk's range in one transaction; the counter in memory moves only once
/// it is committed.
fn reserve(
    conn: &mut Connection,
    pickups: &mut Pickups,
    r: &Reservation,
) -> Result<ReservedRange, OrderError> {
    let key = (r.event.clone(), r.prefix.clone());
    let first = pickups.get(&key).copied().unwrap_or(0) + 1;
    let last = first + i64::from(r.count) - 1;
    let stored = (|| {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.prepare_cached(INSERT_RANGE)?.execute(params![
            r.kiosk,
            r.event,
            r.prefix,
            first,
            last,
            millis(r.now)
        ])?;
        tx.prepare_cached(SET_PICKUP)?.execute(params![r.event, r.prefix, last])?;
        tx.commit()
    })();
    match stored {
        Ok(()) => {
            pickups.insert(key, last);
            Ok(ReservedRange { first, last })
        }
        Err(e) => {
            tracing::error!(error = %e, "a kiosk's pickup numbers could not be reserved");
            Err(OrderError::Unavailable("storage error".into()))
        }
    }
}

/// Commits `batch` and answers every order in it; `batch` is empty afterwards.
fn commit_and_answer(
    conn: &mut Connection,
    batch: &mut Vec<Job>,
    sold: &Sold,
    pickups: &mut Pickups,
    arrivals: &tokio::sync::Notify,
) {
    let baseline = sold.lock().unwrap_or_else(|e| e.into_inner()).clone();
    // Numbers advance on a copy, kept only once the group is committed: a failed
    // commit gives none away.
    let mut numbers = pickups.clone();
    match commit_batch(conn, batch, &baseline, &mut numbers) {
        Ok((results, deltas)) => {
            *pickups = numbers;
            {
                let mut sold = sold.lock().unwrap_or_else(|e| e.into_inner());
                for (sku, n) in deltas {
                    *sold.entry(sku).or_default() += n;
                }
            }
            if results.iter().any(|r| matches!(r, Ok(Captured::New(_)))) {
                arrivals.notify_one();
            }
            for (job, result) in batch.drain(..).zip(results) {
                let _ = job.reply.send(result);
            }
        }
        Err(e) => {
            tracing::error!(error = %e, orders = batch.len(), "order commit failed; nothing in this group was acknowledged");
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            for job in batch.drain(..) {
                let _ = job.reply.send(Err(OrderError::Unavailable("storage error".into())));
            }
        }
    }
}

type BatchOutcome = (Vec<Result<Captured, OrderError>>, HashMap<String, u32>);

/// What one order in the group became.
enum Settlement {
    /// Stored now.
    Inserted,
    /// Same key as an order stored earlier in this group (index), to be settled once
    /// that one's outcome is known.
    SameKeyAs(usize),
    Done(Result<Captured, OrderError>),
}

const INSERT_ORDER: &str = "INSERT INTO orders (order_id, idempotency_key, request_hash, quote_id, event_id, currency, subtotal, \
     discount, total, lines, payment_method, customer_email, customer_phone, created_ms, updated_ms, response, \
     pickup_number, receipt_id, paid, payment_reference, tendered, sold_by, \
     offline_kiosk, offline_pickup, taken_ms, price_book, attention) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, \
     ?22, ?23, ?24, ?25, ?26) \
     ON CONFLICT DO NOTHING";
const SET_PICKUP: &str = "INSERT INTO pickup_numbers (event_id, prefix, last) VALUES (?1, ?2, ?3) \
     ON CONFLICT (event_id, prefix) DO UPDATE SET last = excluded.last";
const ADD_SOLD: &str = "INSERT INTO stock_sold (sku, sold) VALUES (?1, ?2) ON CONFLICT (sku) DO UPDATE SET sold = sold + excluded.sold";
const BY_KEY: &str = "SELECT request_hash, response FROM orders WHERE idempotency_key = ?1";
const BY_QUOTE: &str = "SELECT 1 FROM orders WHERE quote_id = ?1";

/// Stores a group in one transaction, deciding each order in arrival order so that
/// the outcome is the same as storing them one by one.
///
/// The usual order is one statement: an `INSERT … ON CONFLICT DO NOTHING` that stores
/// it. Only an order that conflicts with a stored one (a retry, a reused key or
/// quote), or that a check in memory would refuse (a quote or key already used in
/// this group, short stock), is looked up — and then in the order the rules are
/// written: same key first (replay or conflict), then a used quote, then stock.
/// Statements are prepared once per connection and reused.
fn commit_batch(
    conn: &mut Connection,
    batch: &[Job],
    sold: &HashMap<String, u32>,
    pickups: &mut Pickups,
) -> Result<BatchOutcome, rusqlite::Error> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let mut deltas: HashMap<String, u32> = HashMap::new();
    // Keys and quotes of the orders stored by this group (never in the table before).
    let mut keys_in_group: HashMap<&str, usize> = HashMap::new();
    let mut quotes_in_group: HashMap<&str, usize> = HashMap::new();
    let mut plans = Vec::with_capacity(batch.len());
    // The 201 bodies of the orders stored now (they carry their pickup numbers).
    let mut receipts: HashMap<usize, String> = HashMap::new();
    let mut touched: Vec<(String, String)> = Vec::new();
    {
        let mut insert = tx.prepare_cached(INSERT_ORDER)?;
        for (i, job) in batch.iter().enumerate() {
            let o = &job.order;
            let plan = if let Some(&first) = keys_in_group.get(o.idempotency_key.as_str()) {
                Settlement::SameKeyAs(first)
            } else if quotes_in_group.contains_key(o.claims.qid.as_str()) {
                Settlement::Done(stored_under_key(&tx, o)?.unwrap_or(Err(OrderError::QuoteUsed)))
            } else if let Some(short) =
                // Taken offline: the customer has paid and left with a number; stock
                // may go short and the counter sees it.
                o
                    .offline
                    .is_none()
                    .then(|| short_of_stock(o, sold, &deltas))
                    .flatten()
            {
                Settlement::Done(match stored_under_key(&tx, o)? {
                    Some(settled) => settled,
                    None if quote_used(&tx, o)? => Err(OrderError::QuoteUsed),
                    None => Err(short),
                })
            } else if let Some(receipt) = store(&mut insert, job, pickups, &mut touched)? {
                receipts.insert(i, receipt);
                for (line, stock) in o.claims.lines.iter().zip(&o.stock) {
                    if stock.is_some() {
                        *deltas.entry(line.sku.clone()).or_default() += line.qty;
                    }
                }
                keys_in_group.insert(&o.idempotency_key, i);
                quotes_in_group.insert(&o.claims.qid, i);
                Settlement::Inserted
            } else {
                // The row conflicts with one stored before this group.
                Settlement::Done(match stored_under_key(&tx, o)? {
                    Some(settled) => settled,
                    None if quote_used(&tx, o)? => Err(OrderError::QuoteUsed),
                    // Neither key nor quote: an order id that collided. Nothing in
                    // the group is acknowledged; every kiosk retries.
                    None => return Err(rusqlite::Error::StatementChangedRows(0)),
                })
            };
            plans.push(plan);
        }
        let mut add_sold = tx.prepare_cached(ADD_SOLD)?;
        for (sku, n) in &deltas {
            add_sold.execute(params![sku, i64::from(*n)])?;
        }
        let mut set_pickup = tx.prepare_cached(SET_PICKUP)?;
        for key in &touched {
            set_pickup.execute(params![key.0, key.1, pickups[key]])?;
        }
    }
    tx.commit()?;

    let mut results: Vec<Result<Captured, OrderError>> = Vec::with_capacity(plans.len());
    for (i, plan) in plans.into_iter().enumerate() {
        let result = match plan {
            Settlement::Inserted => Ok(Captured::New(receipts.remove(&i).unwrap_or_default())),
            Settlement::Done(r) => r,
            Settlement::SameKeyAs(first) => match &results[first] {
                Ok(Captured::New(response))
                    if batch[first].order.request_hash == batch[i].order.request_hash =>
                {
                    Ok(Captured::Replayed(response.clone()))
                }
                _ => Err(OrderError::KeyConflict),
            },
        };
        results.push(result);
    }
    Ok((results, deltas))
}

/// Stores the job's row with the next pickup number of its event unless its key, quote
/// or id is taken; its 201 body when stored (the number is then taken).
fn store(
    insert: &mut rusqlite::CachedStatement<'_>,
    job: &Job,
    pickups: &mut Pickups,
    touched: &mut Vec<(String, String)>,
) -> Result<Option<String>, rusqlite::Error> {
    let o = &job.order;
    // A number the kiosk handed out offline was reserved for it: the counter is past it.
    if let Some(given) = o.offline.as_ref().and_then(|off| off.pickup) {
        let number = pickup_number(&o.pickup_prefix, given);
        let receipt = receipt(job, &number);
        return Ok(insert_row(insert, job, &receipt, &number)?.then_some(receipt));
    }
    let key = (o.claims.event.clone(), o.pickup_prefix.clone());
    let next = pickups.get(&key).copied().unwrap_or(0) + 1;
    let number = pickup_number(&o.pickup_prefix, next);
    let receipt = receipt(job, &number);
    if !insert_row(insert, job, &receipt, &number)? {
        return Ok(None);
    }
    pickups.insert(key.clone(), next);
    if !touched.contains(&key) {
        touched.push(key);
    }
    Ok(Some(receipt))
}

/// Stores the job's row unless its key, quote or id is taken; true when stored.
/// Every other failure (a CHECK constraint) aborts the group: nothing acknowledged.
fn insert_row(
    insert: &mut rusqlite::CachedStatement<'_>,
    job: &Job,
    receipt: &str,
    pickup_number: &str,
) -> Result<bool, rusqlite::Error> {
    let o = &job.order;
    let contact = o.customer.as_ref();
    let changed = insert.execute(params![
        job.order_id,
        o.idempotency_key,
        &o.request_hash[..],
        o.claims.qid,
        o.claims.event,
        o.claims.currency.as_str(),
        o.claims.subtotal,
        o.claims.discount,
        o.claims.total,
        job.lines,
        o.payment.as_str(),
        contact.and_then(|c| c.email.as_deref()),
        contact.and_then(|c| c.phone.as_deref()),
        millis(o.now),
        receipt,
        pickup_number,
        job.receipt_id,
        i64::from(o.payment.paid_up_front()),
        o.payment_reference,
        o.tendered,
        o.sold_by,
        o.offline.as_ref().map(|off| off.kiosk.as_str()),
        o.offline.as_ref().and_then(|off| off.pickup),
        o.offline.as_ref().map(|off| millis(off.taken_at)),
        o.offline.as_ref().map(|off| off.price_book.as_str()),
        o.offline.as_ref().and_then(|off| off.attention.as_deref()),
    ])?;
    Ok(changed == 1)
}

/// An order stored earlier under this order's key: the same body is a replay (its
/// first answer, verbatim), another body a conflict.
fn stored_under_key(
    tx: &rusqlite::Transaction<'_>,
    o: &NewOrder,
) -> Result<Option<Result<Captured, OrderError>>, rusqlite::Error> {
    let mut by_key = tx.prepare_cached(BY_KEY)?;
    let found = by_key
        .query_row([&o.idempotency_key], |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, String>(1)?)))
        .optional()?;
    Ok(found.map(|(hash, response)| {
        if hash == o.request_hash {
            Ok(Captured::Replayed(response))
        } else {
            Err(OrderError::KeyConflict)
        }
    }))
}

/// Whether an order stored earlier used this order's quote.
fn quote_used(tx: &rusqlite::Transaction<'_>, o: &NewOrder) -> Result<bool, rusqlite::Error> {
    let mut by_quote = tx.prepare_cached(BY_QUOTE)?;
    by_quote.exists([&o.claims.qid])
}

fn short_of_stock(
    order: &NewOrder,
    sold: &HashMap<String, u32>,
    deltas: &HashMap<String, u32>,
) -> Option<OrderError> {
    order.claims.lines.iter().zip(&order.stock).find_map(|(line, stock)| {
        let stock = (*stock)?;
        let taken =
            sold.get(&line.sku).copied().unwrap_or(0) + deltas.get(&line.sku).copied().unwrap_or(0);
        (taken + line.qty > stock).then(|| OrderError::OutOfStock {
            sku: line.sku.clone(),
            available: stock.saturating_sub(taken),
        })
    })
}

/// `A-007`, `A-042`, `A-1000`: three digits at least, more once the event needs them.
fn pickup_number(prefix: &str, n: i64) -> String {
    format!("{prefix}-{n:03}")
}

fn receipt(job: &Job, pickup_number: &str) -> String {
    let order = &job.order;
    let claims = &order.claims;
    let receipt = OrderReceipt {
        order_id: job.order_id.clone(),
        status: SyncState::Captured,
        currency: claims.currency.to_string(),
        lines: claims.lines.clone(),
        subtotal: claims.subtotal,
        discount: claims.discount,
        total: claims.total,
        payment: order.payment,
        created_at: order.now,
        pickup_number: pickup_number.to_owned(),
        receipt_id: job.receipt_id.clone(),
        receipt_url: format!("/r/{}", job.receipt_id),
        change_due: order.tendered.map(|t| t - claims.total),
        payment_reference: order.payment_reference.clone(),
    };
    serde_json::to_string(&receipt).expect("receipt serializes")
}
