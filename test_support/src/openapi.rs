//! The OpenAPI description of a service (`openapi/<service>.json`) checked against the service
//! itself, so that the two cannot drift: the operations it lists are the routes the code declares,
//! each operation's examples are answered as documented, other methods and paths are the JSON 405
//! and 404 it documents, and every answer fits its documented schema.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::{ServiceClient, read};

const METHODS: [&str; 6] = ["get", "head", "post", "put", "delete", "patch"];

pub struct Spec {
    document: Value,
}

impl Spec {
    /// `openapi/<service>.json` of the repository.
    pub fn of(service: &str) -> Self {
        let path = format!("{}/../openapi/{service}.json", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        Self {
            document: serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}")),
        }
    }

    /// Every documented `(method, path)`, methods in lower case.
    pub fn operations(&self) -> BTreeSet<(String, String)> {
        let paths = self.document["paths"].as_object().expect("paths");
        paths
            .iter()
            .flat_map(|(path, item)| {
                METHODS
                    .iter()
                    .filter(|m| item.get(**m).is_some())
                    .map(move |m| ((*m).to_owned(), path.clone()))
            })
            .collect()
    }

    /// Sends every operation's examples (each request body example, with the example of every
    /// header parameter), a body of the wrong type to every operation that takes one, every
    /// undocumented method to every path, and an unknown path; asserts that each answer has a
    /// documented status and fits the documented schema, and that the examples succeed.
    pub async fn check_against(&self, client: &ServiceClient) {
        for (method, path) in self.operations() {
            let operation = &self.document["paths"][&path][&method];
            let headers: Vec<(String, String)> = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "header")
                .map(|p| (str_of(&p["name"]), str_of(&p["example"])))
                .collect();
            let bodies = operation["requestBody"]["content"].as_object();
            let label = format!("{} {path}", method.to_uppercase());
            match bodies {
                None => {
                    let answer = self
                        .send(client, &method, &path, None, Vec::new(), &[])
                        .await;
                    self.assert_documented(operation, &label, answer, true);
                }
                Some(bodies) => {
                    for (content_type, media) in bodies {
                        let body = media["example"].to_string().into_bytes();
                        // Header parameters (CloudEvents binary mode) go with the JSON body only.
                        let with = if content_type == "application/json" {
                            &headers[..]
                        } else {
                            &[]
                        };
                        let answer = self
                            .send(client, &method, &path, Some(content_type), body, with)
                            .await;
                        let label = format!("{label} ({content_type} example)");
                        self.assert_documented(operation, &label, answer, true);
                    }
                    let answer = self
                        .send(
                            client,
                            &method,
                            &path,
                            Some("text/plain"),
                            b"hello".to_vec(),
                            &[],
                        )
                        .await;
                    let label = format!("{label} (text/plain body)");
                    self.assert_documented(operation, &label, answer, false);
                }
            }
        }
        self.check_other_methods(client).await;
        let (status, _, body) = self
            .send(client, "get", "/no/such/path", None, Vec::new(), &[])
            .await;
        assert_eq!(status, 404, "an unknown path: {body}");
        self.assert_fits(
            &Value::String("#/components/schemas/Error".into()),
            &body,
            "404",
        );
    }

    /// Every method a path does not document is a JSON 405 whose `Allow` lists the documented ones.
    async fn check_other_methods(&self, client: &ServiceClient) {
        let paths = self.document["paths"].as_object().expect("paths");
        for (path, item) in paths {
            let documented: Vec<String> = METHODS
                .iter()
                .filter(|m| item.get(**m).is_some())
                .map(|m| m.to_uppercase())
                .collect();
            for method in METHODS.iter().filter(|m| item.get(**m).is_none()) {
                let response = client
                    .request(&method.to_uppercase(), path, None, Vec::new())
                    .send()
                    .await
                    .expect("the service answers");
                let allow = response
                    .headers()
                    .get("allow")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let (status, _, body) = read(response).await;
                assert_eq!(status, 405, "{method} {path}: {body}");
                assert_eq!(allow, documented.join(", "), "{method} {path}");
                if *method != "head" {
                    self.assert_fits(
                        &Value::String("#/components/schemas/Error".into()),
                        &body,
                        path,
                    );
                }
            }
        }
    }

    async fn send(
        &self,
        client: &ServiceClient,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
        headers: &[(String, String)],
    ) -> (u16, String, String) {
        let mut request = client.request(&method.to_uppercase(), path, content_type, body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        read(request.send().await.expect("the service answers")).await
    }

    /// The answer's status is documented for the operation (and a success, for an example), and
    /// its body fits the schema documented for that status and content type.
    fn assert_documented(
        &self,
        operation: &Value,
        label: &str,
        (status, content_type, body): (u16, String, String),
        example: bool,
    ) {
        let documented = &operation["responses"][status.to_string()];
        assert!(
            documented.is_object(),
            "{label}: status {status} is not documented: {body}"
        );
        if example {
            assert_eq!(status, 200, "{label}: an example must succeed: {body}");
        }
        let media_type = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned();
        let Some(contents) = documented["content"].as_object() else {
            assert!(
                body.is_empty(),
                "{label}: documented without a body: {body}"
            );
            return;
        };
        let media = contents
            .get(&media_type)
            .unwrap_or_else(|| panic!("{label}: {status} {media_type} is not documented"));
        if media_type == "application/json" {
            self.assert_fits(&media["schema"], &body, label);
        } else if let Some(expected) = media["schema"]["const"].as_str()
            && !body.is_empty()
        {
            assert_eq!(body, expected, "{label}");
        }
    }

    fn assert_fits(&self, schema: &Value, body: &str, label: &str) {
        let schema = match schema {
            Value::String(reference) => json_ref(reference),
            other => other.clone(),
        };
        let value: Value = serde_json::from_str(body)
            .unwrap_or_else(|e| panic!("{label}: not JSON ({e}): {body}"));
        if let Err(mismatch) = self.fits(&schema, &value, "$") {
            panic!("{label}: {mismatch}\nin {body}");
        }
    }

    /// A small JSON Schema check: `$ref`, `oneOf`, `const`, `type`, `required`, `properties`,
    /// `additionalProperties: false`, `items`, `minimum`: what the descriptions use.
    fn fits(&self, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
        if let Some(reference) = schema["$ref"].as_str() {
            return self.fits(&self.resolve(reference), value, at);
        }
        if let Some(choices) = schema["oneOf"].as_array() {
            let fitting = choices
                .iter()
                .filter(|c| self.fits(c, value, at).is_ok())
                .count();
            return match fitting {
                1 => Ok(()),
                n => Err(format!(
                    "{at}: fits {n} of the oneOf schemas, not exactly 1"
                )),
            };
        }
        if let Some(expected) = schema.get("const")
            && expected != value
        {
            return Err(format!("{at}: {value} is not the constant {expected}"));
        }
        let fits_type = match schema["type"].as_str() {
            None => true,
            Some("object") => value.is_object(),
            Some("array") => value.is_array(),
            Some("string") => value.is_string(),
            Some("integer") => value.is_i64() || value.is_u64(),
            Some("number") => value.is_number(),
            Some("boolean") => value.is_boolean(),
            Some(other) => return Err(format!("{at}: the check does not know type {other}")),
        };
        if !fits_type {
            return Err(format!("{at}: {value} is not of type {}", schema["type"]));
        }
        if let (Some(minimum), Some(number)) = (schema["minimum"].as_f64(), value.as_f64())
            && number < minimum
        {
            return Err(format!("{at}: {number} is below {minimum}"));
        }
        if let Some(object) = value.as_object() {
            for name in schema["required"].as_array().into_iter().flatten() {
                let name = str_of(name);
                if !object.contains_key(&name) {
                    return Err(format!("{at}: required {name} is missing"));
                }
            }
            for (name, property) in object {
                match schema["properties"].get(name) {
                    Some(property_schema) => {
                        self.fits(property_schema, property, &format!("{at}.{name}"))?;
                    }
                    None if schema["additionalProperties"] == Value::Bool(false) => {
                        return Err(format!("{at}: {name} is not documented"));
                    }
                    None => {}
                }
            }
        }
        if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
            for (i, item) in array.iter().enumerate() {
                self.fits(items, item, &format!("{at}[{i}]"))?;
            }
        }
        Ok(())
    }

    fn resolve(&self, reference: &str) -> Value {
        let pointer = reference.strip_prefix('#').unwrap_or(reference);
        self.document
            .pointer(pointer)
            .cloned()
            .unwrap_or_else(|| panic!("unresolved {reference}"))
    }
}

fn json_ref(reference: &str) -> Value {
    serde_json::json!({ "$ref": reference })
}

fn str_of(value: &Value) -> String {
    value
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| value.to_string())
}

/// The `(method, path)` routes a service's `src/routes/mod.rs` declares through
/// `common::routes::{root, post, get}`: read from its source, so that a route added to the code
/// but not to the description fails the test.
pub fn declared_routes(routes_source: &str) -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    if routes_source.contains("common::routes::root(") {
        routes.insert(("get".to_owned(), "/".to_owned()));
        routes.insert(("head".to_owned(), "/".to_owned()));
    }
    for method in ["post", "get"] {
        let call = format!("common::routes::{method}(\"");
        for (start, _) in routes_source.match_indices(&call) {
            let rest = &routes_source[start + call.len()..];
            let path = rest.split('"').next().unwrap_or_default();
            routes.insert((method.to_owned(), path.to_owned()));
        }
    }
    routes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_read_from_the_declarations() {
        let source = r#"
            .service(common::routes::root(ROOT_TEXT))
            .service(common::routes::post("/api/v1/a", a))
            .service(common::routes::get("/api/v1/b", b));"#;
        let routes: Vec<(String, String)> = declared_routes(source).into_iter().collect();
        let expected = [
            ("get", "/"),
            ("get", "/api/v1/b"),
            ("head", "/"),
            ("post", "/api/v1/a"),
        ];
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(m, p)| ((*m).into(), (*p).into()))
            .collect();
        assert_eq!(routes, expected);
    }
}
