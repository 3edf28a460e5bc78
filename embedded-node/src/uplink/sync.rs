//! Write-back sync: the order queue drains to the hub in batches, the order id as the
//! idempotency key, straight or through a paired booth.
//!
//! Owns: the sync worker, delivery (direct, and relayed: the booth's own signed batch
//! inside a signed peer request), the answer's handling (stored and duplicate orders are
//! synced; a rejected one is quarantined with the hub's reason and never holds up the
//! rest), exponential backoff with jitter, and the relaying side (`relay_for_peer`).
//!
//! Retries restart by themselves: the worker wakes on new orders, on a mode change
//! (a way upstream opening makes every waiting order due at once) and when the next
//! order is due — not only when the next order arrives.

use std::sync::Arc;
use std::time::Duration;

use jiff::SignedDuration;
use serde::{Deserialize, Serialize};

use super::{Mode, RelayPeer, Uplink};
use crate::spend::traffic::{answer_bytes, request_bytes, Purpose};
use boothcloud_core::clock::Clock;
use boothcloud_core::hub_protocol::wire::{BatchAnswer, Disposition, HubOrder, OrderBatch};
use boothcloud_core::hub_protocol::ORDERS_PATH;
use boothcloud_core::signing::hub::{HubSignature, AUTH_HEADER, RELAY_HEADER};
use boothcloud_core::signing::peer::{PROOF_HEADER, SIGNATURE_HEADER};

/// The peer route a booth relays through.
pub const RELAY_PATH: &str = "/api/v1/peer/relay/orders";
/// Set by a relaying booth on an answer that is the hub's own (status and body verbatim).
pub const RELAYED_HEADER: &str = "x-boothcloud-relayed";
/// Largest relayed batch (the peer route's body limit).
pub const MAX_RELAY_BYTES: usize = 1024 * 1024;
/// Longest wait for the hub (or a relaying booth) to answer a batch.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(15);
/// Backoff: 1 s doubling to at most 60 s, with full jitter over its upper half.
const BACKOFF_BASE_MS: i64 = 1000;
const BACKOFF_MAX_MS: i64 = 60_000;

/// What a booth hands a relaying booth: its batch exactly as the hub will read it, and
/// its own signature over it.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RelayEnvelope {
    /// The `X-Boothcloud-Hub-Auth` header of the booth whose orders these are.
    pub auth: String,
    /// The batch body, verbatim.
    pub batch: String,
}

/// Why a delivery failed as a whole.
#[derive(Debug)]
enum Failure {
    /// The way is broken (timeout, connection, 5xx, a booth that cannot relay): retry.
    Transport(String),
    /// The hub refused the whole request (4xx): bisect to find the bad order, or wait
    /// (a credential problem).
    Refused(u16, String),
}

fn backoff(attempts: i64) -> SignedDuration {
    let exp = BACKOFF_BASE_MS.saturating_mul(1 << attempts.clamp(0, 16)).min(BACKOFF_MAX_MS);
    let jitter = rand::random_range(exp / 2..=exp);
    SignedDuration::from_millis(jitter)
}

/// Greedy chunks of at most `max_bytes` serialized (one order over it goes alone).
fn chunks(orders: Vec<HubOrder>, max_bytes: usize) -> Vec<Vec<HubOrder>> {
    let mut out: Vec<Vec<HubOrder>> = Vec::new();
    let mut size = 0;
    for o in orders {
        let n = serde_json::to_vec(&o).map(|v| v.len() + 1).unwrap_or(0);
        if out.is_empty() || size + n > max_bytes.saturating_sub(64) {
            out.push(Vec::new());
            size = 0;
        }
        size += n;
        out.last_mut().expect("pushed above").push(o);
    }
    out
}

fn error_message(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned())
}

impl Uplink {
    /// Drains the queue until the node stops.
    pub async fn keep_syncing(self: Arc<Self>, mut stopping: tokio::sync::watch::Receiver<bool>) {
        let arrivals = self.orders.arrivals();
        loop {
            if *stopping.borrow() {
                return;
            }
            let (mode, via) = self.way();
            let mut wait = Duration::from_secs(1);
            if matches!(mode, Mode::Online | Mode::Relay) {
                // Refunds first: a backlog of orders must not hold them back.
                self.deliver_refunds(via.as_ref()).await;
                let batch = self.manifest.current().manifest.uplink.sync.batch;
                match self.orders.claim_for_hub(self.clock.now(), batch).await {
                    Ok(claimed) if !claimed.is_empty() => {
                        let full = claimed.len() == batch as usize;
                        self.deliver(claimed, via.as_ref()).await;
                        if full {
                            continue;
                        }
                        // Orders may have arrived while this batch was out.
                        wait = Duration::from_millis(0);
                    }
                    Ok(_) => {
                        if let Ok(Some(due)) = self.orders.next_due().await {
                            let ms =
                                due.duration_since(self.clock.now()).as_millis().clamp(0, 1000);
                            wait = Duration::from_millis(ms as u64);
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot read the order queue"),
                }
            }
            tokio::select! {
                () = arrivals.notified() => {}
                () = self.changed.notified() => {}
                () = tokio::time::sleep(wait) => {}
                _ = stopping.wait_for(|s| *s) => return,
            }
        }
    }

    /// Sends the refunds that are due (after the orders, in their own batch) and records
    /// every outcome; nothing claimed is left `syncing`.
    async fn deliver_refunds(&self, via: Option<&RelayPeer>) {
        let now = self.clock.now();
        let claimed = match self.orders.claim_refunds(now, 100).await {
            Ok(c) if !c.is_empty() => c,
            Ok(_) => return,
            Err(e) => return tracing::warn!(error = %e, "cannot read the refunds"),
        };
        let batch = OrderBatch { orders: Vec::new(), refunds: claimed };
        let ids: Vec<String> = batch.refunds.iter().map(|r| r.refund_id.clone()).collect();
        let (synced, later): (Vec<String>, Vec<String>) = match self.send_batch(&batch, via).await {
            Ok(answer) => ids.into_iter().partition(|id| {
                answer.refunds.iter().any(|r| {
                    &r.refund_id == id
                        && matches!(r.outcome, Disposition::Stored | Disposition::Duplicate)
                })
            }),
            Err(Failure::Refused(_, message)) | Err(Failure::Transport(message)) => {
                tracing::warn!(%message, "refunds wait for the next try");
                (Vec::new(), ids)
            }
        };
        let retry = now + backoff(2);
        if let Err(e) = self.orders.settle_refunds(&synced, &later, self.clock.now(), retry).await {
            tracing::error!(error = %e, "could not record the refunds' outcome");
        }
    }

    /// Sends claimed orders and records every outcome; nothing claimed is left `syncing`.
    async fn deliver(&self, claimed: Vec<HubOrder>, via: Option<&RelayPeer>) {
        let max = if via.is_some() {
            MAX_RELAY_BYTES / 2
        } else {
            boothcloud_core::hub_protocol::wire::MAX_BATCH_BYTES / 2
        };
        let mut work: Vec<Vec<HubOrder>> = chunks(claimed, max);
        while let Some(chunk) = work.pop() {
            match self.send(&chunk, via).await {
                Ok(answer) => self.settle(&chunk, answer).await,
                Err(Failure::Refused(status, message))
                    if chunk.len() > 1 && !about_the_booth(status) =>
                {
                    // One bad order spoils a whole request only if the hub cannot read
                    // it; halve until the bad one is alone.
                    tracing::warn!(status, %message, orders = chunk.len(), "the hub refused a batch; splitting it");
                    let mut chunk = chunk;
                    let second = chunk.split_off(chunk.len() / 2);
                    work.push(second);
                    work.push(chunk);
                }
                Err(Failure::Refused(status, message)) if !about_the_booth(status) => {
                    let reason = format!("the hub refused it: {message}");
                    self.quarantine(&chunk[0].order_id, &reason).await;
                }
                Err(Failure::Refused(_, message)) | Err(Failure::Transport(message)) => {
                    let mut ids: Vec<String> = chunk.iter().map(|o| o.order_id.clone()).collect();
                    ids.extend(work.drain(..).flatten().map(|o| o.order_id));
                    self.retry_later(&ids, &message).await;
                    self.delivery_failed(via, &message).await;
                    return;
                }
            }
        }
    }

    async fn settle(&self, chunk: &[HubOrder], answer: BatchAnswer) {
        let now = self.clock.now();
        let mut synced = Vec::new();
        let mut later = Vec::new();
        for o in chunk {
            match answer.results.iter().find(|r| r.order_id == o.order_id) {
                Some(r) if matches!(r.outcome, Disposition::Stored | Disposition::Duplicate) => {
                    synced.push(o.order_id.clone())
                }
                Some(r) => {
                    let reason = r.reason.clone().unwrap_or_else(|| "the hub refused it".into());
                    self.quarantine(&o.order_id, &reason).await;
                }
                None => later.push(o.order_id.clone()),
            }
        }
        if let Err(e) = self.orders.mark_synced(&synced, now).await {
            // They stay `syncing` until the next start puts them back in line; the
            // hub deduplicates when they are sent again.
            tracing::error!(error = %e, "could not mark orders synced");
        }
        self.delivered(synced.len());
        if !later.is_empty() {
            self.retry_later(&later, "the hub's answer did not mention it").await;
        }
    }

    async fn quarantine(&self, order_id: &str, reason: &str) {
        tracing::warn!(order = order_id, reason, "order quarantined: the hub will not take it");
        if let Err(e) = self.orders.quarantine(order_id, reason, self.clock.now()).await {
            tracing::error!(error = %e, "could not quarantine an order");
        }
    }

    async fn retry_later(&self, ids: &[String], reason: &str) {
        let now = self.clock.now();
        // Attempts grow together for a batch; the first one's count stands for all.
        let attempts = match self.orders.get(&ids[0], false).await {
            Ok(o) => o.sync_attempts,
            Err(_) => 1,
        };
        let next = now + backoff(attempts - 1);
        if let Err(e) = self.orders.retry_later_many(ids, reason, next, now).await {
            tracing::error!(error = %e, "could not put orders back in line");
        }
        self.sync_error(reason);
    }

    /// The batch body and this booth's signature over it.
    fn signed_batch(&self, batch: &OrderBatch) -> Result<(Vec<u8>, String), Failure> {
        let loaded = self.manifest.current();
        let (_, booth, credential) = loaded
            .manifest
            .uplink
            .hub()
            .ok_or_else(|| Failure::Transport("no hub is set up".into()))?;
        let body = serde_json::to_vec(batch).expect("batches serialize");
        let sig =
            HubSignature::sign(credential, "POST", ORDERS_PATH, booth, self.hub_seconds(), &body);
        Ok((body, sig.to_header()))
    }

    async fn send(
        &self,
        orders: &[HubOrder],
        via: Option<&RelayPeer>,
    ) -> Result<BatchAnswer, Failure> {
        self.send_batch(&OrderBatch { orders: orders.to_vec(), refunds: Vec::new() }, via).await
    }

    async fn send_batch(
        &self,
        batch: &OrderBatch,
        via: Option<&RelayPeer>,
    ) -> Result<BatchAnswer, Failure> {
        let (body, auth_header) = self.signed_batch(batch)?;
        match via {
            None => {
                let upstream = self
                    .manifest
                    .current()
                    .manifest
                    .uplink
                    .upstream
                    .clone()
                    .ok_or_else(|| Failure::Transport("no hub".into()))?;
                let url =
                    upstream.join("hub/orders").map_err(|e| Failure::Transport(e.to_string()))?;
                let stamp = self.clock.stamp();
                let asked = request_bytes(
                    "POST",
                    &url,
                    &[(AUTH_HEADER, &auth_header), ("content-type", "application/json")],
                    body.len(),
                );
                let sent = self
                    .http
                    .post(url)
                    .header(AUTH_HEADER, auth_header)
                    .header("content-type", "application/json")
                    .body(body)
                    .timeout(DELIVERY_TIMEOUT)
                    .send()
                    .await
                    .map_err(|e| Failure::Transport(transport_words(&e, "the hub")))?;
                self.hub_refused(&sent, stamp);
                let status = sent.status().as_u16();
                let head = answer_bytes(sent.headers(), 0);
                let bytes = sent
                    .bytes()
                    .await
                    .map_err(|e| Failure::Transport(transport_words(&e, "the hub")))?;
                self.meters.upstream(Purpose::Sync, asked + head + bytes.len() as u64);
                read_answer(status, &bytes)
            }
            Some(peer) => self.send_via(peer, body, auth_header).await,
        }
    }

    async fn send_via(
        &self,
        peer: &RelayPeer,
        batch: Vec<u8>,
        auth_header: String,
    ) -> Result<BatchAnswer, Failure> {
        let envelope = RelayEnvelope {
            auth: auth_header,
            batch: String::from_utf8(batch).expect("JSON is UTF-8"),
        };
        let body = serde_json::to_vec(&envelope).expect("envelopes serialize");
        let sig = self
            .peers
            .sign(
                &peer.id,
                &boothcloud_core::signing::peer::Request {
                    method: "POST",
                    target: RELAY_PATH,
                    body: &body,
                },
            )
            .ok_or_else(|| Failure::Transport("this booth holds no pairing key".into()))?;
        let url = peer
            .url
            .as_ref()
            .and_then(|u| u.join(RELAY_PATH.trim_start_matches('/')).ok())
            .ok_or_else(|| {
            Failure::Transport(format!("{} has no usable address", peer.name))
        })?;
        let asked = self.clock.stamp();
        let signature = sig.to_header();
        let out = request_bytes(
            "POST",
            &url,
            &[(SIGNATURE_HEADER, &signature), ("content-type", "application/json")],
            body.len(),
        );
        let sent = self
            .http
            .post(url)
            .header(SIGNATURE_HEADER, signature)
            .header("content-type", "application/json")
            .body(body)
            .timeout(DELIVERY_TIMEOUT)
            .send()
            .await
            .map_err(|e| Failure::Transport(transport_words(&e, &peer.name)))?;
        self.peers.note_time(&peer.id, &sent, asked);
        let status = sent.status().as_u16();
        let proof =
            sent.headers().get(PROOF_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let from_hub = sent.headers().contains_key(RELAYED_HEADER);
        let head = answer_bytes(sent.headers(), 0);
        let bytes =
            sent.bytes().await.map_err(|e| Failure::Transport(transport_words(&e, &peer.name)))?;
        self.meters.upstream(Purpose::Peers, out + head + bytes.len() as u64);
        if !from_hub {
            // The relaying booth itself refused or failed: try another way.
            return Err(Failure::Transport(format!(
                "{} cannot relay: {}",
                peer.name,
                error_message(&bytes)
            )));
        }
        // Every relayed answer, refusals included, must prove it came through a holder
        // of the pairing key: a forged refusal would quarantine good orders.
        if !proof.is_some_and(|p| self.peers.check_answer(&sig, status, &bytes, &p)) {
            return Err(Failure::Transport(format!(
                "{}'s answer did not prove it holds the pairing key",
                peer.name
            )));
        }
        read_answer(status, &bytes)
    }

    /// The relaying side: forwards a paired booth's signed batch to the hub, adding
    /// this booth's own signature, and hands back the hub's answer verbatim. Only while
    /// this booth's own uplink is up (no chains of relays).
    pub async fn relay_for_peer(&self, envelope: &RelayEnvelope) -> Result<(u16, Vec<u8>), String> {
        if self.mode() != Mode::Online {
            return Err("this booth's own uplink is not up".into());
        }
        let loaded = self.manifest.current();
        let (upstream, booth, credential) =
            loaded.manifest.uplink.hub().ok_or("this booth has no hub")?;
        let url = upstream.join("hub/orders").map_err(|e| e.to_string())?;
        let mine = HubSignature::sign(
            credential,
            "POST",
            ORDERS_PATH,
            booth,
            self.hub_seconds(),
            envelope.batch.as_bytes(),
        );
        let mine = mine.to_header();
        let asked = request_bytes(
            "POST",
            &url,
            &[
                (AUTH_HEADER, &envelope.auth),
                (RELAY_HEADER, &mine),
                ("content-type", "application/json"),
            ],
            envelope.batch.len(),
        );
        let sent = self
            .http
            .post(url)
            .header(AUTH_HEADER, &envelope.auth)
            .header(RELAY_HEADER, mine)
            .header("content-type", "application/json")
            .body(envelope.batch.clone())
            .timeout(DELIVERY_TIMEOUT)
            .send()
            .await
            .map_err(|e| transport_words(&e, "the hub"))?;
        // A refusal here may be about the other booth's signature, not this one's: its
        // time is not taken for this booth's offset.
        let status = sent.status().as_u16();
        let head = answer_bytes(sent.headers(), 0);
        let body = sent.bytes().await.map_err(|e| transport_words(&e, "the hub"))?;
        self.meters.upstream(Purpose::Relay, asked + head + body.len() as u64);
        Ok((status, body.to_vec()))
    }
}

/// A refusal that says nothing about the orders: the booth is not authenticated (401),
/// revoked (403) or sending too much (429). The orders wait; none is quarantined.
fn about_the_booth(status: u16) -> bool {
    matches!(status, 401 | 403 | 429)
}

fn read_answer(status: u16, body: &[u8]) -> Result<BatchAnswer, Failure> {
    match status {
        200 => serde_json::from_slice(body)
            .map_err(|e| Failure::Transport(format!("the hub's answer could not be read: {e}"))),
        408 | 429 | 500..=599 => {
            Err(Failure::Transport(format!("the hub answered {status}: {}", error_message(body))))
        }
        s => Err(Failure::Refused(s, error_message(body))),
    }
}

fn transport_words(e: &reqwest::Error, whom: &str) -> String {
    if e.is_timeout() {
        format!("{whom} did not answer in time")
    } else if e.is_connect() {
        format!("{whom} cannot be reached")
    } else {
        format!("the connection to {whom} broke")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use boothcloud_core::signing::quote::TokenLine;
    use jiff::Timestamp;

    fn order(i: usize, lines: usize) -> HubOrder {
        HubOrder {
            order_id: format!("order-{i}"),
            event_id: "e".into(),
            currency: "EUR".into(),
            lines: (0..lines)
                .map(|l| TokenLine { sku: format!("SKU-{l}"), qty: 1, unit_price: 100, total: 100 })
                .collect(),
            subtotal: 100 * lines as i64,
            discount: 0,
            total: 100 * lines as i64,
            payment: "card".into(),
            created_at: Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn chunks_stay_under_the_byte_limit_and_keep_every_order_in_order() {
        let orders: Vec<HubOrder> = (0..300).map(|i| order(i, 1 + i % 7)).collect();
        let parts = chunks(orders.clone(), 8 * 1024);
        assert!(parts.len() > 1);
        for p in &parts {
            assert!(
                serde_json::to_vec(&OrderBatch { orders: p.clone(), refunds: Vec::new() })
                    .unwrap()
                    .len()
                    <= 8 * 1024
            );
        }
        assert_eq!(parts.concat(), orders);
        // One order larger than the limit still goes, alone.
        let big = chunks(vec![order(0, 400)], 1024);
        assert_eq!(big.len(), 1);
    }

    #[test]
    fn backoff_doubles_with_jitter_up_to_a_minute() {
        for attempts in 0..30 {
            let d = backoff(attempts).as_millis();
            let cap =
                (BACKOFF_BASE_MS * (1i64 << attempts.clamp(0, 16))).min(BACKOFF_MAX_MS) as i128;
            assert!(d >= cap / 2 && d <= cap, "attempt {attempts}: {d} ms");
        }
    }
}
