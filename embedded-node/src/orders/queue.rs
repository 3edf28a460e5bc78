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

/// The handle every request uses; cheap to clone.
#[derive(Clone)]
pub struct OrderQueue {
    jobs: mpsc::Sender<Job>,
    pub(super) pool: SqlitePool,
    sold: Sold,
}

impl OrderQueue {
    /// Starts the writer on its own connection. The returned task ends when every
    /// `OrderQueue` clone is dropped and the orders already handed over are committed.
    pub async fn start(pool: SqlitePool, writer: SqliteConnection) -> Result<(OrderQueue, JoinHandle<()>), sqlx::Error> {
        let rows = sqlx::query("SELECT sku, sold FROM stock_sold").fetch_all(&pool).await?;
        let sold: HashMap<String, u32> =
            rows.iter().map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1).clamp(0, i64::from(u32::MAX)) as u32)).collect();
        let sold = Arc::new(Mutex::new(sold));
        let (jobs, rx) = mpsc::channel(4 * MAX_BATCH);
        let task = tokio::spawn(write_loop(writer, rx, sold.clone()));
        let queue = OrderQueue { jobs, pool, sold };
        queue.recover_in_flight().await?;
        Ok((queue, task))
    }

    /// Stores an order durably, or explains why not. Returns only after the commit.
    pub async fn capture(&self, order: NewOrder) -> Result<Captured, OrderError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { order, reply })
            .await
            .map_err(|_| OrderError::Unavailable("the node is shutting down".into()))?;
        answer.await.map_err(|_| OrderError::Unavailable("the order writer stopped".into()))?
    }

    /// The stored request hash and first response for an idempotency key, if any.
    pub async fn find_by_key(&self, key: &str) -> Result<Option<(Vec<u8>, String)>, OrderError> {
        let row = sqlx::query("SELECT request_hash, response FROM orders WHERE idempotency_key = ?")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| (r.get(0), r.get(1))))
    }

    /// Units of a tracked SKU still available.
    pub fn available(&self, sku: &str, stock: u32) -> u32 {
        let sold = self.sold.lock().unwrap_or_else(|e| e.into_inner());
        stock.saturating_sub(sold.get(sku).copied().unwrap_or(0))
    }
}

async fn write_loop(mut conn: SqliteConnection, mut rx: mpsc::Receiver<Job>, sold: Sold) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.recv().await {
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

async fn commit_batch(conn: &mut SqliteConnection, batch: &[Job], sold: &HashMap<String, u32>) -> Result<BatchOutcome, sqlx::Error> {
    sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
    let mut deltas: HashMap<String, u32> = HashMap::new();
    let mut results = Vec::with_capacity(batch.len());
    for job in batch {
        results.push(store_one(conn, &job.order, sold, &mut deltas).await?);
    }
    for (sku, n) in &deltas {
        sqlx::query("INSERT INTO stock_sold (sku, sold) VALUES (?, ?) ON CONFLICT (sku) DO UPDATE SET sold = sold + excluded.sold")
            .bind(sku)
            .bind(i64::from(*n))
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query("COMMIT").execute(&mut *conn).await?;
    Ok((results, deltas))
}

async fn store_one(
    conn: &mut SqliteConnection,
    order: &NewOrder,
    sold: &HashMap<String, u32>,
    deltas: &mut HashMap<String, u32>,
) -> Result<Result<Captured, OrderError>, sqlx::Error> {
    let claims = &order.claims;
    // Stock first; a replay of an order that took the last unit must still replay.
    for (line, stock) in claims.lines.iter().zip(&order.stock) {
        if let Some(stock) = *stock {
            let taken = sold.get(&line.sku).copied().unwrap_or(0) + deltas.get(&line.sku).copied().unwrap_or(0);
            if taken + line.qty > stock {
                return Ok(match existing(conn, order).await? {
                    Some(answer) => answer,
                    None => Err(OrderError::OutOfStock { sku: line.sku.clone(), available: stock.saturating_sub(taken) }),
                });
            }
        }
    }
    let order_id = uuid::Uuid::now_v7().to_string();
    let receipt = OrderReceipt {
        order_id: order_id.clone(),
        status: SyncState::Captured,
        currency: claims.currency.to_string(),
        lines: claims.lines.clone(),
        subtotal: claims.subtotal,
        discount: claims.discount,
        total: claims.total,
        payment: order.payment,
        created_at: order.now,
    };
    let response = serde_json::to_string(&receipt).expect("receipt serializes");
    let lines = serde_json::to_string(&claims.lines).expect("lines serialize");
    let now = millis(order.now);
    let contact = order.customer.as_ref();
    let inserted = sqlx::query(
        "INSERT INTO orders (order_id, idempotency_key, request_hash, quote_id, event_id, currency, subtotal, discount, total, \
         lines, payment_method, customer_email, customer_phone, created_ms, updated_ms, response) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
    )
    .bind(&order_id)
    .bind(&order.idempotency_key)
    .bind(&order.request_hash[..])
    .bind(&claims.qid)
    .bind(&claims.event)
    .bind(claims.currency.as_str())
    .bind(claims.subtotal)
    .bind(claims.discount)
    .bind(claims.total)
    .bind(&lines)
    .bind(order.payment.as_str())
    .bind(contact.and_then(|c| c.email.as_deref()))
    .bind(contact.and_then(|c| c.phone.as_deref()))
    .bind(now)
    .bind(now)
    .bind(&response)
    .execute(&mut *conn)
    .await?;
    if inserted.rows_affected() == 1 {
        for (line, stock) in claims.lines.iter().zip(&order.stock) {
            if stock.is_some() {
                *deltas.entry(line.sku.clone()).or_default() += line.qty;
            }
        }
        return Ok(Ok(Captured::New(response)));
    }
    Ok(existing(conn, order).await?.unwrap_or(Err(OrderError::QuoteUsed)))
}

/// What an earlier order with this key means for this one: a replay or a conflict.
async fn existing(conn: &mut SqliteConnection, order: &NewOrder) -> Result<Option<Result<Captured, OrderError>>, sqlx::Error> {
    let row = sqlx::query("SELECT request_hash, response FROM orders WHERE idempotency_key = ?")
        .bind(&order.idempotency_key)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.map(|r| {
        let hash: Vec<u8> = r.get(0);
        if hash == order.request_hash {
            Ok(Captured::Replayed(r.get(1)))
        } else {
            Err(OrderError::KeyConflict)
        }
    }))
}
