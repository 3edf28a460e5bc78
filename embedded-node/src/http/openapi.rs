//! The OpenAPI document: generated from the handlers' own annotations (utoipa), then
//! completed with the answers the edge gives on every route of a kind, so that each
//! operation lists every status it can answer:
//!
//! - an operator route (`security: operator`) answers `401` without the token;
//! - a JSON body answers `400` (malformed), `413` (over the limit), `415` (not JSON)
//!   and `422` (the wrong shape), from `ApiJson`;
//! - query parameters answer `400` (`ApiQuery`);
//! - a sheddable route answers `503` while the degrade level pauses it;
//! - a rate-limited route (quotes, orders, uploads, assets) answers `429`, and `401`
//!   for a kiosk token that is unknown or revoked;
//! - every route answers `500` if a handler fails (the panic guard);
//! - on the plain-HTTP port, from the network, a route that is not public answers `403`
//!   (`https_required`) and a page `308` to HTTPS.
//!
//! What is added carries the one error body, `ErrorBody`. Never: describes a route the
//! router does not serve (the document is built from the same route table).

use serde_json::{json, Map, Value};

/// Routes the degrade levels may shed (`Sheddable`), as the document names them.
const SHEDDABLE: [&str; 2] = ["/metrics", "/api/v1/ops/charts/{chart}"];

/// Where the node serves this document (the router adds the route; `complete` describes it).
pub const DOCUMENT_PATH: &str = "/api/v1/openapi.json";

const ERROR_BODY: &str = "#/components/schemas/ErrorBody";

/// The document, completed.
pub fn complete(openapi: utoipa::openapi::OpenApi) -> Value {
    let mut doc = serde_json::to_value(openapi).expect("the OpenAPI document serializes");
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else { return doc };
    paths.insert(
        DOCUMENT_PATH.into(),
        json!({ "get": {
        "tags": ["status"],
        "operationId": "openapi",
        "summary": "This document.",
        "responses": { "200": {
            "description": "the OpenAPI document of this node",
            "content": { "application/json": { "schema": { "type": "object" } } }
        } }
    } }),
    );
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else { continue };
        for (method, op) in item.iter_mut() {
            if !matches!(
                method.as_str(),
                "get" | "put" | "post" | "delete" | "patch" | "head" | "options"
            ) {
                continue;
            }
            complete_operation(method, path, op);
        }
    }
    doc
}

fn complete_operation(method: &str, path: &str, op: &mut Value) {
    let operator = op["security"]
        .as_array()
        .is_some_and(|reqs| reqs.iter().any(|r| r.get("operator").is_some()));
    let json_body = op["requestBody"]["content"].get("application/json").is_some();
    let query = op["parameters"].as_array().is_some_and(|ps| ps.iter().any(|p| p["in"] == "query"));
    let responses = op
        .as_object_mut()
        .expect("an operation is an object")
        .entry("responses")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .expect("responses are an object");
    let mut add = |status: &str, description: &str| {
        responses.entry(status).or_insert_with(|| error_response(description));
    };
    if operator {
        add("401", "no operator token, or the wrong one (`unauthorized`)");
    }
    if json_body {
        add("400", "the body is not JSON (`malformed_json`)");
        add("413", "the body is larger than the node accepts (`body_too_large`)");
        add("415", "the body is not sent as application/json (`unsupported_media_type`)");
        add("422", "the body is JSON of the wrong shape (`invalid_body`)");
    }
    if query {
        add("400", "a query parameter is malformed (`invalid_query`)");
    }
    let limited = crate::limits::Group::of(&method.to_uppercase(), path, false).is_some();
    if limited {
        add("429", "this client is over its rate limit; see Retry-After (`rate_limited`)");
    }
    if SHEDDABLE.contains(&path) {
        add("503", "paused by the booth's degrade level; see Retry-After (`shed`)");
    }
    add("500", "the node hit an internal error; it has been logged (`internal`)");
    if limited {
        const WHY: &str =
            "an `X-Boothcloud-Kiosk` token that is unknown or revoked (`kiosk_not_enrolled`)";
        match responses.get_mut("401") {
            Some(r) => {
                let before = r["description"].as_str().unwrap_or_default().to_owned();
                r["description"] = Value::String(format!("{before}; or {WHY}"));
            }
            None => {
                responses.insert("401".into(), error_response(WHY));
            }
        }
    }
    // What the plain-HTTP port answers the network instead (see `http::plain`).
    let method = method.to_uppercase().parse().unwrap_or(axum::http::Method::GET);
    match super::plain::verdict(&method, path, true) {
        super::plain::Verdict::Serve => {}
        super::plain::Verdict::Refuse => {
            const WHY: &str =
                "asked on the plain-HTTP port from the network: HTTPS only (`https_required`)";
            match responses.get_mut("403") {
                Some(r) => {
                    let before = r["description"].as_str().unwrap_or_default().to_owned();
                    r["description"] = Value::String(format!("{before}; or {WHY}"));
                }
                None => {
                    responses.insert("403".into(), error_response(WHY));
                }
            }
        }
        super::plain::Verdict::Redirect => {
            responses.entry("308").or_insert_with(|| {
                json!({ "description": "asked on the plain-HTTP port from the network: the same path over HTTPS (Location)" })
            });
        }
    }
}

fn error_content() -> Value {
    json!({ "application/json": { "schema": { "$ref": ERROR_BODY } } })
}

fn error_response(description: &str) -> Value {
    let mut r = Map::new();
    r.insert("description".into(), Value::String(description.into()));
    r.insert("content".into(), error_content());
    Value::Object(r)
}
