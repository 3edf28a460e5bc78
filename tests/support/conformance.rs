//! Answers held against the OpenAPI document: the path and method are described, the
//! status is listed for that operation, and a JSON body matches the schema the document
//! gives for it. Used by the node's router tests and by every black-box answer here.

use std::process::Command;
use std::sync::OnceLock;

use serde_json::{json, Value};

/// An OpenAPI document to check answers against.
pub struct Document(Value);

impl Document {
    pub fn new(doc: Value) -> Document {
        Document(doc)
    }

    /// The document of the node binary under test (`boothcloud-node openapi`), read once.
    pub fn of_node() -> &'static Document {
        static DOC: OnceLock<Document> = OnceLock::new();
        DOC.get_or_init(|| {
            let out = Command::new(crate::node_binary())
                .arg("openapi")
                .output()
                .expect("boothcloud-node openapi");
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            Document(serde_json::from_slice(&out.stdout).expect("the document is JSON"))
        })
    }

    pub fn value(&self) -> &Value {
        &self.0
    }

    /// The path template `path` matches (`{name}` matches one segment; `/assets/{path}`
    /// takes the rest).
    fn template_of(&self, path: &str) -> Option<&str> {
        let path = path.split('?').next().unwrap_or(path);
        let segments: Vec<&str> = path.split('/').collect();
        self.0["paths"].as_object()?.keys().map(String::as_str).find(|template| {
            if *template == "/assets/{path}" {
                return path.starts_with("/assets/") && path.len() > "/assets/".len();
            }
            let parts: Vec<&str> = template.split('/').collect();
            parts.len() == segments.len()
                && parts
                    .iter()
                    .zip(&segments)
                    .all(|(t, s)| (t.starts_with('{') && !s.is_empty()) || t == s)
        })
    }

    /// Panics unless `method path` answering `status` with `body` (JSON, or null) is
    /// what the document says.
    pub fn check(&self, method: &str, path: &str, status: u16, body: &Value) {
        // What the router answers for a path it does not have, or a method a path does
        // not take, is its fallback, the same for every path: not an operation's answer.
        let Some(template) = self.template_of(path) else {
            assert!(
                status == 404 || status == 405,
                "{method} {path} answered {status} but the document has no such path"
            );
            return;
        };
        let op = &self.0["paths"][template][method.to_ascii_lowercase()];
        if op.is_null() {
            assert!(
                status == 405 || method == "OPTIONS",
                "{method} {template} answered {status} but the document has no such operation"
            );
            return;
        }
        let responses = &op["responses"];
        let response = responses.get(status.to_string()).or_else(|| responses.get("default"));
        let Some(response) = response else {
            let listed: Vec<&String> =
                responses.as_object().map(|r| r.keys().collect()).unwrap_or_default();
            panic!("{method} {template} answered {status}, which the document does not list ({listed:?}): {body}")
        };
        let Some(schema) = response["content"]["application/json"].get("schema") else { return };
        if body.is_null() {
            return;
        }
        let mut root = self.0.clone();
        root["$defs"] = json!({ "answer": schema });
        root["$ref"] = Value::String("#/$defs/answer".into());
        let validator = jsonschema::validator_for(&root).expect("the document's schemas compile");
        let errors: Vec<String> = validator
            .iter_errors(body)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .take(5)
            .collect();
        assert!(errors.is_empty(), "{method} {template} {status}: the body does not match the document: {errors:?}\n{body:.2000}");
    }
}
