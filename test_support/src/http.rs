/// A client for one service under test.
pub struct ServiceClient {
    pub address: String,
    client: reqwest::Client,
}

impl ServiceClient {
    /// For the service listening on `port` of this machine.
    pub fn new(port: u16) -> Self {
        // Idle connections are dropped before the server's 5 s keep-alive ends, so that a request
        // never goes out on a connection the server is closing (hyper's IncompleteMessage).
        let client = reqwest::Client::builder()
            .pool_idle_timeout(std::time::Duration::from_secs(2))
            .build()
            .expect("a plain HTTP client");
        Self {
            address: format!("http://127.0.0.1:{port}"),
            client,
        }
    }

    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        let body = body.to_string().into_bytes();
        self.send("POST", path, Some("application/json"), body)
            .await
    }

    /// Any method, any Content-Type (`None`: no header), any body.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> reqwest::Response {
        self.request(method, path, content_type, body)
            .send()
            .await
            .expect("the service answers")
    }

    /// The request [`send`](Self::send) sends, not yet sent.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> reqwest::RequestBuilder {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("valid method");
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.address))
            .body(body);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        request
    }
}

/// Status, Content-Type and body of a response.
pub async fn read(response: reqwest::Response) -> Answer {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().expect("ascii").to_owned())
        .unwrap_or_default();
    let body = response.text().await.expect("a body");
    Answer {
        status,
        content_type,
        body,
    }
}

/// What a service answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    /// The `Content-Type` header; empty when there is none.
    pub content_type: String,
    pub body: String,
}

/// `Sun, 27 Dec 2020 10:08:56 GMT`, as Flask writes datetimes.
pub fn is_http_date(text: &str) -> bool {
    const DAYS: [&str; 7] = ["Mon,", "Tue,", "Wed,", "Thu,", "Fri,", "Sat,", "Sun,"];
    let parts: Vec<&str> = text.split(' ').collect();
    parts.len() == 6
        && DAYS.contains(&parts[0])
        && parts[1].len() == 2
        && parts[3].len() == 4
        && parts[4].len() == 8
        && parts[5] == "GMT"
}
