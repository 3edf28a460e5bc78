//! Every answer the router tests get is held against the OpenAPI document: its path and
//! method are described, its status is listed for that operation, and a JSON body
//! matches the schema the document gives for it. The document itself must be whole:
//! every `$ref` resolves.

use std::sync::OnceLock;

use serde_json::Value;

fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(crate::http::document)
}

/// The document's path template `path` matches (`{name}` matches one segment; a final
/// `{path}` of `/assets/` takes the rest).
fn template_of(path: &str) -> Option<&'static str> {
    let path = path.split('?').next().unwrap_or(path);
    let segments: Vec<&str> = path.split('/').collect();
    document()["paths"].as_object()?.keys().map(String::as_str).find(|template| {
        let parts: Vec<&str> = template.split('/').collect();
        if *template == "/assets/{path}" {
            return path.starts_with("/assets/") && path.len() > "/assets/".len();
        }
        parts.len() == segments.len()
            && parts
                .iter()
                .zip(&segments)
                .all(|(t, s)| (t.starts_with('{') && !s.is_empty()) || t == s)
    })
}

/// Panics unless `method path` answering `status` with `body` is what the document says.
pub fn check(method: &str, path: &str, status: u16, body: &Value) {
    // What the router answers for a path it does not have, or a method a path does not
    // take, is its fallback, the same for every path: not an operation's answer.
    let Some(template) = template_of(path) else {
        assert!(
            status == 404 || status == 405,
            "{method} {path} answered {status} but the document has no such path"
        );
        return;
    };
    let op = &document()["paths"][template][method.to_ascii_lowercase()];
    if op.is_null() {
        assert!(
            status == 405 || method == "OPTIONS",
            "{method} {template} answered {status} but the document has no such operation"
        );
        return;
    }
    let responses = &op["responses"];
    let response = responses.get(status.to_string()).or_else(|| responses.get("default"));
    let response = response.unwrap_or_else(|| {
        let listed: Vec<&String> = responses.as_object().map(|r| r.keys().collect()).unwrap_or_default();
        panic!("{method} {template} answered {status}, which the document does not list ({listed:?}): {body}")
    });
    let Some(schema) = response["content"]["application/json"].get("schema") else { return };
    if body.is_null() {
        return;
    }
    let mut root = document().clone();
    root["$defs"] = serde_json::json!({ "answer": schema });
    root["$ref"] = Value::String("#/$defs/answer".into());
    let validator = jsonschema::validator_for(&root).expect("the document's schemas compile");
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .take(5)
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {template} {status}: the body does not match the document: {errors:?}\n{body}"
    );
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
