//! Durable capture with group commit.
//!
//! One writer task owns one SQLite connection. Requests hand it their order and wait;
//! the writer takes every order that is waiting (up to `MAX_BATCH`), stores them all in
//! one transaction, commits once — one fsync for the whole group — and only then
//! answers each. Under load the group grows by itself, so durability costs one fsync
//! per batch instead of one per order. A failed commit answers every order in the
//! group with `Unavailable` (nothing was acknowledged, so nothing is lost: the kiosk
//! retries with the same key).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sqlx::sqlite::{SqliteConnection, SqlitePool};
use sqlx::Row;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::*;

/// Most orders in one commit.
pub const MAX_BATCH: usize = 256;

struct Job {
    order: NewOrder,
    reply: oneshot::Sender<Result<Captured, OrderError>>,
}

/// Units sold per tracked SKU, as committed.
type Sold = Arc<Mutex<HashMap<String, u32>>>;

/// Stops the order writer: no new orders are taken (senders get `Unavailable`), the
/// orders already handed over are committed and answered, then the task ends.
pub struct QueueWriter {
    stop: tokio::sync::watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl QueueWriter {
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// The handle every request uses; cheap to clone.
#[derive(Clone)]
pub struct OrderQueue {
    jobs: mpsc::Sender<Job>,
    pub(super) pool: SqlitePool,
    sold: Sold,
    /// Notified after a commit that stored new orders (the sync worker waits on it).
    arrivals: Arc<tokio::sync::Notify>,
}

impl OrderQueue {
    /// Starts the writer on its own connection. It runs until `QueueWriter::stop`, or
    /// until every `OrderQueue` clone is dropped.
    pub async fn start(pool: SqlitePool, writer: SqliteConnection) -> Result<(OrderQueue, QueueWriter), sqlx::Error> {
        let rows = sqlx::query("SELECT sku, sold FROM stock_sold").fetch_all(&pool).await?;
        let sold: HashMap<String, u32> =
            rows.iter().map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1).clamp(0, i64::from(u32::MAX)) as u32)).collect();
        let sold = Arc::new(Mutex::new(sold));
        let (jobs, rx) = mpsc::channel(4 * MAX_BATCH);
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let arrivals = Arc::new(tokio::sync::Notify::new());
        let task = tokio::spawn(write_loop(writer, rx, stopped, sold.clone(), arrivals.clone()));
        let queue = OrderQueue { jobs, pool, sold, arrivals };
        queue.recover_in_flight().await?;
        Ok((queue, QueueWriter { stop, task }))
    }

    /// Stores an order durably, or explains why not. Returns only after the commit.
    pub async fn capture(&self, order: NewOrder) -> Result<Captured, OrderError> {
        let (reply, answer) = oneshot::channel();
        self.jobs.send(Job { order, reply }).await.map_err(|_| OrderError::Unavailable("the node is shutting down".into()))?;
        answer.await.map_err(|_| OrderError::Unavailable("the order writer stopped".into()))?
    }

    /// The stored request hash and first response for an idempotency key, if any.
    pub async fn find_by_key(&self, key: &str) -> Result<Option<(Vec<u8>, String)>, OrderError> {
        let row =
            sqlx::query("SELECT request_hash, response FROM orders WHERE idempotency_key = ?").bind(key).fetch_optional(&self.pool).await?;
        Ok(row.map(|r| (r.get(0), r.get(1))))
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

async fn write_loop(
    mut conn: SqliteConnection,
    mut rx: mpsc::Receiver<Job>,
    mut stop: tokio::sync::watch::Receiver<bool>,
    sold: Sold,
    arrivals: Arc<tokio::sync::Notify>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    // `listening`: the stop handle still exists; dropping it detaches the writer,
    // which then runs until every sender is gone.
    let mut listening = true;
    loop {
        let first = tokio::select! {
            job = rx.recv() => match job {
                Some(job) => job,
                // Closed and drained, or every sender dropped.
                None => break,
            },
            changed = stop.changed(), if listening => {
                listening = false;
                if changed.is_ok() {
                    // Refuse new orders; what is already queued is still committed below.
                    rx.close();
                }
                continue;
            }
        };
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let baseline = sold.lock().unwrap_or_else(|e| e.into_inner()).clone();
        match commit_batch(&mut conn, &batch, &baseline).await {
            Ok((results, deltas)) => {
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
                let _ = sqlx::query("ROLLBACK").execute(&mut conn).await;
                for job in batch.drain(..) {
                    let _ = job.reply.send(Err(OrderError::Unavailable("storage error".into())));
                }
            }
        }
    }
    tracing::debug!("order writer stopped");
}

type BatchOutcome = (Vec<Result<Captured, OrderError>>, HashMap<String, u32>);

/// An earlier order that shares a key or a quote with one in this group.
struct Earlier {
    key: String,
    quote_id: String,
    hash: Vec<u8>,
    response: String,
}

/// What one order in the group will be, decided before anything is written.
enum Plan {
    Insert {
        order_id: String,
        response: String,
    },
    /// Same key as an earlier order in this group (index), to be settled after the insert.
    SameKeyAs(usize),
    Done(Result<Captured, OrderError>),
}

/// Stores a group in one transaction with a constant number of statements: one lookup
/// of keys and quotes already used, one multi-row INSERT, one stock update, one COMMIT.
/// Replays, conflicts, reused quotes and stock are settled in memory in between, in
/// arrival order, so the outcome is the same as storing the orders one by one.
async fn commit_batch(conn: &mut SqliteConnection, batch: &[Job], sold: &HashMap<String, u32>) -> Result<BatchOutcome, sqlx::Error> {
    sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
    let earlier = lookup_earlier(conn, batch).await?;
    let mut deltas: HashMap<String, u32> = HashMap::new();
    let mut keys_in_group: HashMap<&str, usize> = HashMap::new();
    let mut quotes_in_group: HashMap<&str, usize> = HashMap::new();
    let mut plans = Vec::with_capacity(batch.len());
    for (i, job) in batch.iter().enumerate() {
        let o = &job.order;
        let plan = if let Some(e) = earlier.iter().find(|e| e.key == o.idempotency_key) {
            Plan::Done(if e.hash == o.request_hash { Ok(Captured::Replayed(e.response.clone())) } else { Err(OrderError::KeyConflict) })
        } else if let Some(&first) = keys_in_group.get(o.idempotency_key.as_str()) {
            Plan::SameKeyAs(first)
        } else if earlier.iter().any(|e| e.quote_id == o.claims.qid) || quotes_in_group.contains_key(o.claims.qid.as_str()) {
            Plan::Done(Err(OrderError::QuoteUsed))
        } else if let Some(short) = short_of_stock(o, sold, &deltas) {
            Plan::Done(Err(short))
        } else {
            for (line, stock) in o.claims.lines.iter().zip(&o.stock) {
                if stock.is_some() {
                    *deltas.entry(line.sku.clone()).or_default() += line.qty;
                }
            }
            keys_in_group.insert(&o.idempotency_key, i);
            quotes_in_group.insert(&o.claims.qid, i);
            let order_id = uuid::Uuid::now_v7().to_string();
            let response = receipt(&order_id, o);
            Plan::Insert { order_id, response }
        };
        plans.push(plan);
    }

    let rows: Vec<(usize, &str)> = plans
        .iter()
        .enumerate()
        .filter_map(|(i, p)| match p {
            Plan::Insert { order_id, .. } => Some((i, order_id.as_str())),
            _ => None,
        })
        .collect();
    if !rows.is_empty() {
        let mut insert = sqlx::QueryBuilder::new(
            "INSERT INTO orders (order_id, idempotency_key, request_hash, quote_id, event_id, currency, subtotal, discount, total, \
             lines, payment_method, customer_email, customer_phone, created_ms, updated_ms, response) ",
        );
        insert.push_values(&rows, |mut row, &(i, order_id)| {
            let o = &batch[i].order;
            let Plan::Insert { response, .. } = &plans[i] else { unreachable!("only inserts are listed") };
            let contact = o.customer.as_ref();
            row.push_bind(order_id)
                .push_bind(&o.idempotency_key)
                .push_bind(&o.request_hash[..])
                .push_bind(&o.claims.qid)
                .push_bind(&o.claims.event)
                .push_bind(o.claims.currency.as_str())
                .push_bind(o.claims.subtotal)
                .push_bind(o.claims.discount)
                .push_bind(o.claims.total)
                .push_bind(serde_json::to_string(&o.claims.lines).expect("lines serialize"))
                .push_bind(o.payment.as_str())
                .push_bind(contact.and_then(|c| c.email.clone()))
                .push_bind(contact.and_then(|c| c.phone.clone()))
                .push_bind(millis(o.now))
                .push_bind(millis(o.now))
                .push_bind(response.as_str());
        });
        // Every conflict was settled above; a constraint failing here aborts the whole
        // group (nothing acknowledged) rather than guess.
        insert.build().execute(&mut *conn).await?;
    }
    if !deltas.is_empty() {
        let mut stock = sqlx::QueryBuilder::new("INSERT INTO stock_sold (sku, sold) ");
        stock.push_values(&deltas, |mut row, (sku, n)| {
            row.push_bind(sku.as_str()).push_bind(i64::from(*n));
        });
        stock.push(" ON CONFLICT (sku) DO UPDATE SET sold = sold + excluded.sold");
        stock.build().execute(&mut *conn).await?;
    }
    sqlx::query("COMMIT").execute(&mut *conn).await?;

    let mut results: Vec<Result<Captured, OrderError>> = Vec::with_capacity(plans.len());
    for (i, plan) in plans.into_iter().enumerate() {
        let result = match plan {
            Plan::Insert { response, .. } => Ok(Captured::New(response)),
            Plan::Done(r) => r,
            Plan::SameKeyAs(first) => match &results[first] {
                Ok(Captured::New(response)) if batch[first].order.request_hash == batch[i].order.request_hash => {
                    Ok(Captured::Replayed(response.clone()))
                }
                _ => Err(OrderError::KeyConflict),
            },
        };
        results.push(result);
    }
    Ok((results, deltas))
}

/// Orders already stored under any key or quote of this group.
async fn lookup_earlier(conn: &mut SqliteConnection, batch: &[Job]) -> Result<Vec<Earlier>, sqlx::Error> {
    let mut q = sqlx::QueryBuilder::new("SELECT idempotency_key, quote_id, request_hash, response FROM orders WHERE idempotency_key IN (");
    let mut keys = q.separated(", ");
    for job in batch {
        keys.push_bind(job.order.idempotency_key.as_str());
    }
    q.push(") OR quote_id IN (");
    let mut quotes = q.separated(", ");
    for job in batch {
        quotes.push_bind(job.order.claims.qid.as_str());
    }
    q.push(")");
    let rows = q.build().fetch_all(&mut *conn).await?;
    Ok(rows.iter().map(|r| Earlier { key: r.get(0), quote_id: r.get(1), hash: r.get(2), response: r.get(3) }).collect())
}

fn short_of_stock(order: &NewOrder, sold: &HashMap<String, u32>, deltas: &HashMap<String, u32>) -> Option<OrderError> {
    order.claims.lines.iter().zip(&order.stock).find_map(|(line, stock)| {
        let stock = (*stock)?;
        let taken = sold.get(&line.sku).copied().unwrap_or(0) + deltas.get(&line.sku).copied().unwrap_or(0);
        (taken + line.qty > stock).then(|| OrderError::OutOfStock { sku: line.sku.clone(), available: stock.saturating_sub(taken) })
    })
}

fn receipt(order_id: &str, order: &NewOrder) -> String {
    let claims = &order.claims;
    let receipt = OrderReceipt {
        order_id: order_id.to_owned(),
        status: SyncState::Captured,
        currency: claims.currency.to_string(),
        lines: claims.lines.clone(),
        subtotal: claims.subtotal,
        discount: claims.discount,
        total: claims.total,
        payment: order.payment,
        created_at: order.now,
    };
    serde_json::to_string(&receipt).expect("receipt serializes")
}
