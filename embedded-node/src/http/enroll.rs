//! Enrollment: how a kiosk or tablet comes to trust the booth. The booth CA's
//! certificate (`/ca.pem`, `/ca.crt`), a page with the steps for each platform
//! (`/enroll`), and for the lead the QR code that opens that page
//! (`/api/v1/ops/enrollment`).
//!
//! Owns: those routes and the page's words. Never: serves anything secret — everything
//! here but the lead's view is public, on both ports, by design.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{Html, IntoResponse, Response};
use axum::{Extension, Json};
use serde::Serialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::{ApiError, ErrorBody};
use super::extract::Operator;
use super::Ports;
use crate::services::Services;
use crate::tls::pins;
use crate::tls::server::CertificateSource;

pub fn routes() -> OpenApiRouter<Services> {
    OpenApiRouter::new()
        .routes(routes!(ca_pem))
        .routes(routes!(ca_der))
        .routes(routes!(page))
        .routes(routes!(view))
}

/// The booth CA's certificate, PEM: install it on a kiosk to trust this booth.
#[utoipa::path(get, path = "/ca.pem", tag = "enrollment",
    responses((status = 200, description = "The booth CA certificate (PEM)", content_type = "application/x-pem-file", body = String)))]
async fn ca_pem(State(state): State<Services>) -> Response {
    let pem = state.tls.server.ca().pem().to_owned();
    certificate(pem.into_bytes(), "application/x-pem-file", "boothcloud-booth-ca.pem")
}

/// The booth CA's certificate, DER (`.crt`): what Android, iOS and Windows install.
#[utoipa::path(get, path = "/ca.crt", tag = "enrollment",
    responses((status = 200, description = "The booth CA certificate (DER)", content_type = "application/x-x509-ca-cert", body = Vec<u8>)))]
async fn ca_der(State(state): State<Services>) -> Response {
    let der = state.tls.server.ca().der().to_vec();
    certificate(der, "application/x-x509-ca-cert", "boothcloud-booth-ca.crt")
}

fn certificate(body: Vec<u8>, kind: &'static str, name: &str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    response
}

/// What the lead shows a kiosk to enroll it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Enrollment {
    /// SHA-256 of the booth CA certificate, `AB:12:…`, as devices show it.
    ca_fingerprint: String,
    /// `booth_ca` (kiosks enroll) or `manifest` (the organisation's certificate).
    source: CertificateSource,
    /// The enrollment page on each of the booth's addresses (plain HTTP).
    urls: Vec<String>,
    /// The booth's HTTPS address on each of them.
    https: Vec<String>,
    /// A QR code of the first enrollment URL (with the fingerprint), as SVG.
    qr_svg: String,
    /// How many times the server certificate was issued again since start (new addresses).
    reissued: u64,
}

/// The enrollment page's addresses, the CA's fingerprint and the QR code to show.
#[utoipa::path(get, path = "/api/v1/ops/enrollment", tag = "operator", security(("operator" = [])),
    responses((status = 200, body = Enrollment), (status = 401, body = ErrorBody)))]
async fn view(
    _op: Operator,
    State(state): State<Services>,
    Extension(ports): Extension<Ports>,
) -> Result<Json<Enrollment>, ApiError> {
    let fp = state.tls.server.ca().fingerprint();
    // Bound to one address, the booth is reachable there only; else on every address
    // the certificate covers, and by its mDNS name.
    let addresses = if ports.bound.is_unspecified() {
        state.tls.server.addresses().into_iter().filter(|ip| !ip.is_loopback()).collect()
    } else {
        vec![ports.bound]
    };
    let by_name = !ports.bound.is_loopback();
    let hosts: Vec<String> = addresses
        .into_iter()
        .filter(
            |ip| !matches!(ip, std::net::IpAddr::V6(v6) if (v6.segments()[0] & 0xffc0) == 0xfe80),
        )
        .map(|ip| match ip {
            std::net::IpAddr::V4(v4) => v4.to_string(),
            std::net::IpAddr::V6(v6) => format!("[{v6}]"),
        })
        .chain(by_name.then(|| crate::tls::host_name(state.peers.id())))
        .collect();
    let urls: Vec<String> = hosts
        .iter()
        .map(|h| format!("http://{h}:{}/enroll?ca={}", ports.http, pins::to_hex(&fp)))
        .collect();
    let https = hosts.iter().map(|h| format!("https://{h}:{}/", ports.https)).collect();
    let qr = qrcode::QrCode::new(urls[0].as_bytes()).map_err(ApiError::internal)?;
    let qr_svg = qr
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build();
    Ok(Json(Enrollment {
        ca_fingerprint: pins::for_people(&fp),
        source: state.tls.server.source(),
        urls,
        https,
        qr_svg,
        reissued: state.tls.server.reissued(),
    }))
}

/// The enrollment page: the CA's fingerprint and the steps for each platform.
#[utoipa::path(get, path = "/enroll", tag = "enrollment",
    responses((status = 200, description = "The enrollment page (HTML)", content_type = "text/html", body = String)))]
async fn page(
    State(state): State<Services>,
    Extension(ports): Extension<Ports>,
    headers: axum::http::HeaderMap,
) -> Response {
    let fp = pins::for_people(&state.tls.server.ca().fingerprint());
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(super::plain::host_only)
        .filter(|h| super::plain::valid_host(h))
        .unwrap_or("localhost")
        .to_owned();
    let name =
        state.manifest.current().manifest.node.name.clone().unwrap_or_else(|| "this booth".into());
    let https = format!("https://{host}:{}/", ports.https);
    let mut response = Html(enroll_html(&escape(&name), &fp, &escape(&https))).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ),
    );
    response
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn enroll_html(name: &str, fp: &str, https: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Trust {name}</title>
<style>
body{{font:18px/1.5 system-ui,sans-serif;margin:0;padding:24px;background:#fff;color:#111;max-width:46rem}}
h1{{font-size:1.6rem}} h2{{font-size:1.2rem;margin-top:1.6rem}}
.fp{{font:600 1.05rem ui-monospace,monospace;word-break:break-all;background:#f1f1f1;padding:12px;border-radius:8px}}
a.button{{display:inline-block;min-height:48px;line-height:48px;padding:0 20px;margin:6px 8px 6px 0;background:#0b5394;color:#fff;border-radius:8px;text-decoration:none;font-weight:600}}
details{{border:1px solid #bbb;border-radius:8px;margin:8px 0;padding:0 12px}} summary{{min-height:48px;line-height:48px;font-weight:600;cursor:pointer}}
</style></head><body>
<h1>Trust {name} on this device</h1>
<p>Kiosks and staff tablets talk to the booth over an encrypted connection. This device must trust the booth's own certificate authority once. Phones of customers do not need this.</p>
<p>The booth's fingerprint (SHA-256). Your device shows it when you install the certificate: it must be exactly this, and the same as on the booth laptop's Devices screen.</p>
<p class="fp">{fp}</p>
<p><a class="button" href="/ca.crt">Download the certificate (.crt)</a><a class="button" href="/ca.pem">PEM (.pem)</a></p>
<h2>Then, on this device</h2>
<details><summary>Android</summary><ol><li>Download the .crt above.</li><li>Settings → Security → More security settings → Encryption &amp; credentials → Install a certificate → CA certificate.</li><li>Choose the downloaded file and confirm.</li></ol></details>
<details><summary>iPhone and iPad</summary><ol><li>Open this page in Safari and download the .crt; allow the profile.</li><li>Settings → General → VPN &amp; Device Management → install the Boothcloud profile.</li><li>Settings → General → About → Certificate Trust Settings → turn on full trust for the Boothcloud booth CA.</li></ol></details>
<details><summary>ChromeOS</summary><ol><li>Download the .crt.</li><li>Settings → Privacy and security → Security → Manage certificates → Authorities → Import.</li><li>Tick "Trust this certificate for identifying websites".</li></ol></details>
<details><summary>Windows</summary><ol><li>Download the .crt and open it.</li><li>Install Certificate → Local Machine → Place all certificates in: Trusted Root Certification Authorities.</li><li>Restart the browser.</li></ol></details>
<details><summary>macOS</summary><ol><li>Download the .crt and open it: Keychain Access adds it to the System keychain.</li><li>Double-click it, open Trust, set "When using this certificate" to Always Trust.</li></ol></details>
<h2>Done?</h2>
<p><a class="button" href="{https}">Open the booth over HTTPS</a></p>
<p>If the browser still warns, the certificate is not trusted yet: check the steps again. Never continue past a warning on a kiosk.</p>
</body></html>
"#
    )
}
