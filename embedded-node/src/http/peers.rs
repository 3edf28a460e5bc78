//! The peer API (booth to booth, signed) and the operator's views of the neighbourhood:
//! the device inventory, the fleet, pairing and unpairing, pairing codes.
//!
//! Peer routes live under `/api/v1/peer/`. `hello` is public (who a node is, nothing
//! secret) and `pair` is guarded by the pairing code; every other peer route takes a
//! request signed under the pairing key ([`SignedPeer`]) and answers with a proof.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, Operator};
use crate::peers::code::CodeError;
use crate::peers::{Booth, ClaimBody, GrantBody, Hello, PeerStatus, PeersError};
use crate::services::Services;
use crate::telemetry::serves_customers;
use crate::uplink::sync::{RelayEnvelope, MAX_RELAY_BYTES, RELAYED_HEADER, RELAY_PATH};
use boothcloud_core::devices::inventory::{BoothTxt, DeviceKind, Liveness};
use boothcloud_core::signing::peer::{
    self, PeerAuthError, Signature, PROOF_HEADER, SIGNATURE_HEADER,
};

pub fn routes() -> OpenApiRouter<Services> {
    OpenApiRouter::new()
        .routes(routes!(hello))
        .routes(routes!(peer_status))
        .routes(routes!(relay_orders))
        .routes(routes!(claim))
        .routes(routes!(devices))
        .routes(routes!(fleet))
        .routes(routes!(pair))
        .routes(routes!(unpair))
        .routes(routes!(show_code, code_on_show, withdraw_code))
}

/// Why a peer request was refused, as the one error shape.
pub fn refusal(e: PeerAuthError) -> ApiError {
    let (status, code) = match e {
        PeerAuthError::NotPaired => (StatusCode::FORBIDDEN, "peer_not_paired"),
        PeerAuthError::Unpaired => (StatusCode::FORBIDDEN, "peer_unpaired"),
        PeerAuthError::Missing => (StatusCode::UNAUTHORIZED, "peer_signature_missing"),
        PeerAuthError::Malformed => (StatusCode::UNAUTHORIZED, "peer_signature_malformed"),
        PeerAuthError::WrongAudience | PeerAuthError::BadSignature => {
            (StatusCode::UNAUTHORIZED, "peer_signature_invalid")
        }
        PeerAuthError::Expired => (StatusCode::UNAUTHORIZED, "peer_signature_expired"),
        PeerAuthError::Replayed => (StatusCode::UNAUTHORIZED, "peer_request_replayed"),
        PeerAuthError::Busy => (StatusCode::SERVICE_UNAVAILABLE, "peer_busy"),
    };
    ApiError::new(status, code, e.to_string())
}

impl From<PeersError> for ApiError {
    fn from(e: PeersError) -> ApiError {
        let (status, code) = match &e {
            PeersError::Database(_) | PeersError::Secrets(_) => return ApiError::internal(e),
            PeersError::Code(CodeError::Malformed) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "pairing_code_malformed")
            }
            PeersError::Code(CodeError::BadGrant) => (StatusCode::BAD_GATEWAY, "pairing_failed"),
            PeersError::Code(_) => (StatusCode::FORBIDDEN, "pairing_code_refused"),
            PeersError::UnknownBooth(_) => (StatusCode::NOT_FOUND, "unknown_booth"),
            PeersError::ManifestKey | PeersError::NeedsCode => {
                (StatusCode::CONFLICT, "pairing_key_differs")
            }
            PeersError::Unreachable(_) => (StatusCode::BAD_GATEWAY, "booth_unreachable"),
            PeersError::Refused(_) => (StatusCode::BAD_GATEWAY, "booth_refused"),
        };
        ApiError::new(status, code, e.to_string())
    }
}

/// A request signed by a paired booth, checked, with its body.
pub struct SignedPeer {
    pub sig: Signature,
    pub body: Bytes,
}

impl FromRequest<Services> for SignedPeer {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &Services) -> Result<Self, ApiError> {
        let (parts, body) = req.into_parts();
        // A relayed batch may be larger than any other peer request.
        let limit =
            if parts.uri.path() == RELAY_PATH { MAX_RELAY_BYTES } else { super::MAX_BODY_BYTES };
        let body = axum::body::to_bytes(body, limit).await.map_err(|_| {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", "the body is too large")
        })?;
        let target = parts.uri.path_and_query().map_or(parts.uri.path(), |p| p.as_str());
        let header = parts.headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
        let sig = state
            .peers
            .verify(header, &peer::Request { method: parts.method.as_str(), target, body: &body })
            .inspect_err(|e| tracing::warn!(error = %e, "refused a peer request"))
            .map_err(refusal)?;
        Ok(SignedPeer { sig, body })
    }
}

/// A JSON answer to a signed request, with its proof.
pub(super) fn proven<T: Serialize>(
    state: &Services,
    sig: &Signature,
    value: &T,
) -> Result<Response, ApiError> {
    let body = serde_json::to_vec(value).map_err(ApiError::internal)?;
    let proof = state
        .peers
        .prove(sig, 200, &peer::body_digest(&body))
        .ok_or_else(|| refusal(PeerAuthError::NotPaired))?;
    let mut res = ([(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response();
    res.headers_mut()
        .insert(PROOF_HEADER, HeaderValue::from_str(&proof).map_err(ApiError::internal)?);
    Ok(res)
}

/// Who this node is: id, event, role, version and pairing fingerprint. Public and
/// secret-free; a booth named by address in a manifest learns the node id from it.
#[utoipa::path(get, path = "/api/v1/peer/hello", tag = "peers", responses((status = 200, body = Hello)))]
async fn hello(State(state): State<Services>) -> Json<Hello> {
    Json(state.peers.hello())
}

/// This booth's health for a paired booth: mode, uplink, queue, p99, hit ratio, spend.
/// Needs `X-Boothcloud-Signature`; answers with `X-Boothcloud-Proof`.
#[utoipa::path(get, path = "/api/v1/peer/status", tag = "peers",
    params(("x-boothcloud-signature" = String, Header, description = "v1 from=… to=… ts=… nonce=… mac=…")),
    responses((status = 200, body = PeerStatus), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn peer_status(
    State(state): State<Services>,
    signed: SignedPeer,
) -> Result<Response, ApiError> {
    let status = own_status(&state).await?;
    proven(&state, &signed.sig, &status)
}

/// Carries a paired booth's batch of orders to the hub while that booth's uplink is
/// down: the batch goes as that booth signed it, with this booth's signature added, and
/// the hub's answer comes back verbatim (`X-Boothcloud-Relayed`) with a proof. Only
/// while this booth's own uplink is up.
#[utoipa::path(post, path = "/api/v1/peer/relay/orders", tag = "peers", request_body = RelayEnvelope,
    params(("x-boothcloud-signature" = String, Header, description = "v1 from=… to=… ts=… nonce=… mac=…")),
    responses((status = 200, body = boothcloud_core::hub_protocol::wire::BatchAnswer), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 503, description = "this booth cannot relay now", body = ErrorBody)))]
async fn relay_orders(
    State(state): State<Services>,
    signed: SignedPeer,
) -> Result<Response, ApiError> {
    let envelope: RelayEnvelope = serde_json::from_slice(&signed.body).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_relay",
            format!("the relay request could not be read: {e}"),
        )
    })?;
    let (status, body) = state.uplink.relay_for_peer(&envelope).await.map_err(|why| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "cannot_relay",
            format!("This booth cannot relay now: {why}."),
        )
    })?;
    tracing::info!(from = %signed.sig.from, status, "relayed a batch of orders to the hub");
    let proof = state
        .peers
        .prove(&signed.sig, status, &peer::body_digest(&body))
        .ok_or_else(|| refusal(PeerAuthError::NotPaired))?;
    let mut res = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY),
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response();
    res.headers_mut()
        .insert(PROOF_HEADER, HeaderValue::from_str(&proof).map_err(ApiError::internal)?);
    res.headers_mut().insert(RELAYED_HEADER, HeaderValue::from_static("hub"));
    Ok(res)
}

/// What this booth tells its peers about itself.
pub async fn own_status(state: &Services) -> Result<PeerStatus, ApiError> {
    let now = state.clock.now();
    let loaded = state.manifest.current();
    let m = &loaded.manifest;
    let since =
        now.to_zoned(m.event.timezone.clone()).start_of_day().map(|z| z.timestamp()).unwrap_or(now);
    let (orders_today, revenue_today) = state.orders.taken_since(since).await?;
    let counts = state.orders.counts().await?;
    let spend = state.spend.view(now, m);
    let p99 = state
        .telemetry
        .last_minute()
        .into_iter()
        .filter(|(_, route, minute)| serves_customers(route) && minute.requests > 0)
        .map(|(_, _, minute)| minute.p99_us)
        .max();
    Ok(PeerStatus {
        id: state.peers.id().to_owned(),
        name: m.node.name.clone(),
        event: m.event.id.clone(),
        role: m.discovery.role.clone(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        mode: state.uplink.mode().as_str().into(),
        uplink: match state.uplink.health() {
            boothcloud_core::uplink::watch::LinkHealth::Up => "up",
            boothcloud_core::uplink::watch::LinkHealth::Down => "down",
            boothcloud_core::uplink::watch::LinkHealth::Checking => "not_checked",
        }
        .into(),
        queue_depth: counts.captured + counts.syncing,
        oldest_unsynced: counts.oldest_unsynced,
        quarantined: counts.quarantined,
        orders_today,
        revenue_today,
        currency: m.event.currency.to_string(),
        p99_ms: p99.map(|us| us as f64 / 1000.0),
        hit_ratio: state.assets.figures().view().hit_ratio_now,
        spend: spend.total.spent,
        budget: spend.total.budget,
        spend_state: serde_json::to_value(spend.state)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        at: state.clock.now(),
        hub_offset_ms: state.uplink.proven_hub_offset_ms(),
        clock_in_doubt: state.booth_clock.standing().in_doubt,
        ca: match state.tls.server.source() {
            crate::tls::server::CertificateSource::BoothCa => Some(state.tls.ca_fingerprint()),
            crate::tls::server::CertificateSource::Manifest => None,
        },
        printers_attention: state.printing.attention().printers,
    })
}

/// Claims the pairing code on show here; the answer carries the pairing key wrapped
/// under the code. A code works once, for five minutes, and five wrong claims burn it.
#[utoipa::path(post, path = "/api/v1/peer/pair", tag = "peers", request_body = ClaimBody,
    responses((status = 200, body = GrantBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn claim(
    State(state): State<Services>,
    ApiJson(body): ApiJson<ClaimBody>,
) -> Result<Json<GrantBody>, ApiError> {
    if body.node.len() > 64 || body.nonce.len() != 32 || body.proof.len() > 128 {
        return Err(PeersError::Code(CodeError::Malformed).into());
    }
    let grant = state.peers.grant(&body).inspect_err(
        |e| tracing::warn!(peer = %body.node, error = %e, "refused a pairing-code claim"),
    )?;
    Ok(Json(grant))
}

/// How this node shows itself on the LAN.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DiscoveryStatus {
    /// Whether mDNS runs (`[discovery] enabled`, and not `serve --no-discovery`).
    enabled: bool,
    node_id: String,
    /// The instance name advertised as `_boothcloud._tcp`, while advertised.
    advertised_as: Option<String>,
    port: Option<u16>,
    /// This booth's pairing fingerprint, and where its key comes from: `manifest`,
    /// `pairing_code`, `published` (the manifest's key is public: refused) or `none`.
    fingerprint: String,
    key_source: &'static str,
    /// Why this booth does not pair by its manifest's key, in words, when it does not.
    key_notice: Option<&'static str>,
    /// When this node began looking (its mDNS browsers started, or restarted after an
    /// address change); a device's `first_seen` minus this is how long finding it took.
    #[schema(value_type = Option<String>, format = DateTime)]
    browsing_since: Option<Timestamp>,
    /// mDNS events taken in, and devices turned away because the inventory was full.
    events_seen: u64,
    refused: u64,
    /// Service types not browsed for now: each brought a flood of new names (hundreds
    /// within seconds), which would keep mDNS busy on a full core.
    paused: Vec<PausedType>,
}

/// A service type whose browsing the flood guard has paused.
#[derive(Serialize, utoipa::ToSchema)]
pub struct PausedType {
    service_type: String,
    /// When it is browsed again.
    #[schema(value_type = String, format = DateTime)]
    until: Timestamp,
    /// New names it brought within 10 s, the flood that paused it.
    names: u32,
}

/// One device on the LAN.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DeviceView {
    /// Stable identity: `booth:<node id>`, or the DNS-SD full name.
    key: String,
    kind: DeviceKind,
    service_type: String,
    name: String,
    host: String,
    port: u16,
    addresses: Vec<String>,
    state: Liveness,
    #[schema(value_type = String, format = DateTime)]
    first_seen: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    last_seen: Timestamp,
    /// Round trip of the last reachability probe (TCP connect), when it answered.
    rtt_ms: Option<f64>,
    failed_probes: u32,
    /// Times its address changed.
    moves: u32,
    txt: BTreeMap<String, String>,
    /// For Boothcloud nodes: what it advertises, and whether it is paired with this one.
    booth: Option<BoothTxt>,
    paired: Option<bool>,
    /// For Boothcloud nodes this one has heard from: their clock minus this booth's (ms).
    clock_offset_ms: Option<i64>,
    /// "Its clock is 3 min 00 s ahead of this booth's.", when over 10 s apart.
    clock_words: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DevicesView {
    discovery: DiscoveryStatus,
    alive: usize,
    gone: usize,
    devices: Vec<DeviceView>,
}

fn timestamp(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Every device found on the LAN: booths first, then printers and the rest; alive
/// before gone.
#[utoipa::path(get, path = "/api/v1/ops/devices", tag = "operator", security(("operator" = [])),
    responses((status = 200, body = DevicesView), (status = 401, body = ErrorBody)))]
async fn devices(_: Operator, State(state): State<Services>) -> Json<DevicesView> {
    let now = state.clock.now().as_millisecond();
    let advert = state.discovery.as_ref().and_then(|d| d.advertised());
    let mut list: Vec<DeviceView> = match &state.discovery {
        None => Vec::new(),
        Some(d) => {
            let gone_after = d.gone_after_ms();
            d.inventory()
                .devices()
                .map(|dev| DeviceView {
                    key: dev.key.clone(),
                    kind: dev.kind,
                    service_type: dev.service_type.clone(),
                    name: dev
                        .booth
                        .as_ref()
                        .and_then(|b| b.name.clone())
                        .unwrap_or_else(|| dev.name.clone()),
                    host: dev.host.clone(),
                    port: dev.port,
                    addresses: dev.addresses.iter().map(ToString::to_string).collect(),
                    state: dev.liveness(now, gone_after),
                    first_seen: timestamp(dev.first_seen_ms),
                    last_seen: timestamp(dev.last_seen_ms()),
                    rtt_ms: dev.rtt_us.map(|us| us as f64 / 1000.0),
                    failed_probes: dev.failed_probes,
                    moves: dev.moves,
                    txt: dev.txt.clone(),
                    paired: dev.booth.as_ref().map(|b| state.peers.is_paired(&b.id)),
                    clock_offset_ms: dev.booth.as_ref().and_then(|b| state.peers.offset_ms(&b.id)),
                    clock_words: dev
                        .booth
                        .as_ref()
                        .and_then(|b| state.peers.offset_ms(&b.id))
                        .and_then(crate::peers::skew_words),
                    booth: dev.booth.clone(),
                })
                .collect()
        }
    };
    let rank = |k: DeviceKind| match k {
        DeviceKind::Booth => 0,
        DeviceKind::Printer => 1,
        DeviceKind::Other => 2,
        DeviceKind::WebDevice => 3,
    };
    list.sort_by(|a, b| {
        (a.state == Liveness::Gone, rank(a.kind), &a.name).cmp(&(
            b.state == Liveness::Gone,
            rank(b.kind),
            &b.name,
        ))
    });
    let alive = list.iter().filter(|d| d.state == Liveness::Alive).count();
    Json(DevicesView {
        discovery: DiscoveryStatus {
            enabled: state.discovery.is_some(),
            node_id: state.peers.id().to_owned(),
            advertised_as: advert.as_ref().map(|a| a.instance()),
            port: advert.as_ref().map(|a| a.port),
            fingerprint: state.peers.fingerprint(),
            key_source: state.peers.key_source(),
            key_notice: state.peers.key_notice(),
            browsing_since: state.discovery.as_ref().map(|d| timestamp(d.browsing_since_ms())),
            events_seen: state.discovery.as_ref().map_or(0, |d| d.events_seen()),
            refused: state.discovery.as_ref().map_or(0, |d| d.inventory().refused),
            paused: state.discovery.as_ref().map_or_else(Vec::new, |d| {
                d.paused()
                    .into_iter()
                    .map(|p| PausedType {
                        service_type: p.service_type,
                        until: timestamp(p.until_ms),
                        names: p.names,
                    })
                    .collect()
            }),
        },
        gone: list.len() - alive,
        alive,
        devices: list,
    })
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FleetView {
    /// This booth, as its peers see it.
    me: PeerStatus,
    fingerprint: String,
    key_source: &'static str,
    /// Why this booth does not pair by its manifest's key, in words, when it does not.
    key_notice: Option<&'static str>,
    /// Other booths: paired first, then by name.
    booths: Vec<Booth>,
}

/// The booths of the fleet — paired ones with their last status — and this one.
#[utoipa::path(get, path = "/api/v1/ops/fleet", tag = "operator", security(("operator" = [])),
    responses((status = 200, body = FleetView), (status = 401, body = ErrorBody)))]
async fn fleet(_: Operator, State(state): State<Services>) -> Result<Json<FleetView>, ApiError> {
    let mut booths = state.peers.fleet();
    booths.sort_by(|a, b| {
        (!a.paired, !a.reachable, &a.name).cmp(&(!b.paired, !b.reachable, &b.name))
    });
    Ok(Json(FleetView {
        me: own_status(&state).await?,
        fingerprint: state.peers.fingerprint(),
        key_source: state.peers.key_source(),
        key_notice: state.peers.key_notice(),
        booths,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PairBody {
    /// The pairing code shown on that booth, when it holds another key (or this one none).
    code: Option<String>,
}

/// Pairs with a booth of the fleet: lifts an unpairing and, with the code shown on that
/// booth, takes its pairing key. Answers the booth as checked just now.
#[utoipa::path(post, path = "/api/v1/ops/peers/{id}/pair", tag = "operator", security(("operator" = [])),
    params(("id" = String, Path, description = "The booth's node id")), request_body = PairBody,
    responses((status = 200, body = Booth), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 502, body = ErrorBody)))]
async fn pair(
    op: Operator,
    State(state): State<Services>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PairBody>,
) -> Result<Json<Booth>, ApiError> {
    if body.code.as_ref().is_some_and(|c| c.len() > 64) {
        return Err(PeersError::Code(CodeError::Malformed).into());
    }
    let how = if body.code.is_some() { "with a pairing code" } else { "again" };
    let done = state.peers.pair(&id, body.code.as_deref()).await;
    state
        .audit
        .record(
            &op.who,
            "pair booth",
            None,
            Some(format!("{id} ({how})")),
            done.as_ref().map(|_| ()).map_err(ToString::to_string),
        )
        .await;
    Ok(Json(done?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Unpaired {
    id: String,
    unpaired: bool,
}

/// Stops trusting a booth: its signed requests are refused and it is asked nothing,
/// until paired again. Kept across restarts.
#[utoipa::path(post, path = "/api/v1/ops/peers/{id}/unpair", tag = "operator", security(("operator" = [])),
    params(("id" = String, Path, description = "The booth's node id")),
    responses((status = 200, body = Unpaired), (status = 422, body = ErrorBody)))]
async fn unpair(
    op: Operator,
    State(state): State<Services>,
    Path(id): Path<String>,
) -> Result<Json<Unpaired>, ApiError> {
    if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_node_id",
            "a node id is 1 to 64 letters, digits or '-'",
        ));
    }
    let done = state.peers.unpair(&id).await;
    state
        .audit
        .record(
            &op.who,
            "unpair booth",
            None,
            Some(id.clone()),
            done.as_ref().map(|_| ()).map_err(ToString::to_string),
        )
        .await;
    done?;
    Ok(Json(Unpaired { id, unpaired: true }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CodeOnShow {
    /// `7KQ2-M9XD-4TRB-H3WN`: type it on the other booth's Devices screen.
    code: String,
    #[schema(value_type = String, format = DateTime)]
    expires_at: Timestamp,
}

/// Shows a new pairing code on this booth (replacing any other). A booth with no
/// pairing key makes one first.
#[utoipa::path(post, path = "/api/v1/ops/pairing-code", tag = "operator", security(("operator" = [])),
    responses((status = 200, body = CodeOnShow), (status = 401, body = ErrorBody)))]
async fn show_code(
    _: Operator,
    State(state): State<Services>,
) -> Result<Json<CodeOnShow>, ApiError> {
    let (code, expires_at) = state.peers.show_code().await?;
    Ok(Json(CodeOnShow { code, expires_at }))
}

/// The pairing code on show, if any.
#[utoipa::path(get, path = "/api/v1/ops/pairing-code", tag = "operator", security(("operator" = [])),
    responses((status = 200, body = CodeOnShow), (status = 404, body = ErrorBody)))]
async fn code_on_show(
    _: Operator,
    State(state): State<Services>,
) -> Result<Json<CodeOnShow>, ApiError> {
    let (code, expires_at) =
        state.peers.code_on_show().ok_or_else(|| ApiError::not_found("a pairing code on show"))?;
    Ok(Json(CodeOnShow { code, expires_at }))
}

/// Takes the pairing code off the screen; it can no longer be claimed.
#[utoipa::path(delete, path = "/api/v1/ops/pairing-code", tag = "operator", security(("operator" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
async fn withdraw_code(_: Operator, State(state): State<Services>) -> StatusCode {
    state.peers.withdraw_code();
    StatusCode::NO_CONTENT
}

/// States this booth's time (`X-Boothcloud-Time`, Unix ms) on every answer to a peer:
/// the peer API's, any request a peer signed (the asset mesh), and signed uploads (a
/// booth forwarding media). Refusals included: a sender whose signature was too far off
/// learns the time to sign in next.
pub async fn stamp_time(
    State(clock): State<std::sync::Arc<dyn boothcloud_core::clock::Clock>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let to_peer = req.uri().path().starts_with("/api/v1/peer/")
        || req.headers().contains_key(boothcloud_core::signing::peer::SIGNATURE_HEADER)
        || req.headers().contains_key(boothcloud_core::signing::upload::SIGNATURE_HEADER);
    let mut res = next.run(req).await;
    if to_peer {
        res.headers_mut().insert(crate::peers::TIME_HEADER, HeaderValue::from(clock.now_ms()));
    }
    res
}
