//! Every answer the router tests get is held against the OpenAPI document (the check is
//! the black-box tests' own, `boothcloud_tests::conformance`), and the document itself
//! must be whole: every `$ref` resolves, and every operation lists what the edge answers.

use std::sync::OnceLock;

use boothcloud_tests::conformance::Document;
use serde_json::Value;

fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(crate::http::document)
}

/// Panics unless `method path` answering `status` with `body` is what the document says.
pub fn check(method: &str, path: &str, status: u16, body: &Value) {
    static CHECKER: OnceLock<Document> = OnceLock::new();
    CHECKER.get_or_init(|| Document::new(document().clone())).check(method, path, status, body);
}

#[test]
fn every_reference_in_the_document_resolves() {
    fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    match (k.as_str(), v) {
                        ("$ref", Value::String(r)) => out.push(r),
                        _ => refs(v, out),
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(document(), &mut all);
    assert!(all.len() > 100, "the document refers to its schemas: {}", all.len());
    for r in all {
        let pointer = r.strip_prefix('#').unwrap_or_else(|| panic!("{r} is not in the document"));
        assert!(document().pointer(pointer).is_some(), "{r} does not resolve");
    }
}

#[test]
fn every_operation_lists_what_the_edge_answers() {
    for (path, item) in document()["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let listed = |s: &str| op["responses"].get(s).is_some();
            let name = format!("{} {path}", method.to_uppercase());
            assert!(listed("500"), "{name} lists no 500");
            if op["security"]
                .as_array()
                .is_some_and(|s| s.iter().any(|r| r.get("operator").is_some()))
            {
                assert!(listed("401"), "{name} is the operator's but lists no 401");
            }
            if op["requestBody"]["content"].get("application/json").is_some() {
                for s in ["400", "413", "415", "422"] {
                    assert!(listed(s), "{name} takes JSON but lists no {s}");
                }
            }
            for (status, response) in op["responses"].as_object().unwrap() {
                let error = status.starts_with('4') || status.starts_with('5');
                let plain = matches!(status.as_str(), "416");
                if error && !plain {
                    assert_eq!(
                        response["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/ErrorBody",
                        "{name} {status} does not say it answers the error body"
                    );
                }
            }
        }
    }
}

#[test]
fn every_operation_has_its_own_id_and_query_parameters_say_where_they_go() {
    let mut seen = std::collections::BTreeSet::new();
    for (path, item) in document()["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let name = format!("{} {path}", method.to_uppercase());
            let id =
                op["operationId"].as_str().unwrap_or_else(|| panic!("{name} has no operationId"));
            assert!(seen.insert(id.to_string()), "{name}: operationId {id} is used twice");
            for p in op["parameters"].as_array().into_iter().flatten() {
                let at = p["in"].as_str().unwrap_or_default();
                assert!(
                    matches!(at, "query" | "path" | "header"),
                    "{name}: parameter {} is in {at:?}",
                    p["name"]
                );
            }
        }
    }
}
