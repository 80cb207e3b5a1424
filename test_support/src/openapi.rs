//! The OpenAPI description of a service (`openapi/<service>.json`) checked against the service
//! itself, so that the two cannot drift: the operations it lists are the routes the code declares,
//! each operation's examples are answered as documented, other methods and paths are the JSON 405
//! and 404 it documents, and every answer fits its documented schema.

use std::collections::BTreeSet;

use actix_web::dev::HttpServiceFactory;
use common::routes::{Endpoint, Routes};
use serde_json::Value;

use crate::{Answer, ServiceClient, read};

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

    /// The documented operations are exactly the service's endpoints, listed by `endpoints` (the
    /// function its app adds them with).
    pub fn check_routes(&self, endpoints: impl FnOnce(&mut EndpointList)) {
        let mut listed = EndpointList::default();
        endpoints(&mut listed);
        assert_eq!(
            self.operations(),
            listed.0,
            "documented (left) and served (right) routes differ"
        );
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
        let Answer { status, body, .. } = self
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
                let Answer { status, body, .. } = read(response).await;
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
    ) -> Answer {
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
        Answer {
            status,
            content_type,
            body,
        }: Answer,
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

    /// `body` fits `schema` (a schema, or a reference into the document) by a JSON Schema
    /// validator for draft 2020-12, the dialect of OpenAPI 3.1's schemas.
    fn assert_fits(&self, schema: &Value, body: &str, label: &str) {
        let schema = match schema {
            Value::String(reference) => json_ref(reference),
            other => other.clone(),
        };
        let value: Value = serde_json::from_str(body)
            .unwrap_or_else(|e| panic!("{label}: not JSON ({e}): {body}"));
        // The document's components beside the schema, so that its `#/components/...` resolve.
        let root = serde_json::json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "components": self.document["components"],
            "allOf": [schema],
        });
        let validator = jsonschema::draft202012::new(&root)
            .unwrap_or_else(|e| panic!("{label}: the documented schema is not valid: {e}"));
        let mismatches: Vec<String> = validator
            .iter_errors(&value)
            .map(|error| format!("at {}: {error}", error.instance_path()))
            .collect();
        assert!(
            mismatches.is_empty(),
            "{label}: {}\nin {body}",
            mismatches.join("; ")
        );
    }
}

/// A service's endpoints as `(method, path)`, methods in lower case, as [`Spec::operations`].
#[derive(Default)]
pub struct EndpointList(BTreeSet<(String, String)>);

impl Routes for EndpointList {
    fn add<R>(&mut self, endpoint: Endpoint<R>)
    where
        R: HttpServiceFactory + 'static,
    {
        for method in endpoint.methods {
            self.0
                .insert(((*method).to_owned(), endpoint.path.to_owned()));
        }
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

/// The two tests that keep `openapi/<service>.json` and the service from drifting apart, for the
/// service that `spawn` (an async fn returning a `TestApp`) starts: the documented operations are
/// the endpoints that `endpoints` adds, and the service answers as documented.
#[macro_export]
macro_rules! openapi_tests {
    ($service:literal, $spawn:path, $endpoints:path) => {
        #[test]
        fn the_description_lists_exactly_the_routes_the_service_serves() {
            $crate::openapi::Spec::of($service).check_routes(|list| $endpoints(list));
        }

        #[actix_web::test]
        async fn the_service_answers_as_its_description_says() {
            let app = $spawn().await;
            $crate::openapi::Spec::of($service)
                .check_against(&app.client)
                .await;
        }
    };
}
