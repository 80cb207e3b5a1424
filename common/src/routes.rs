//! Routes every service has: its root text, and JSON answers for unknown paths and methods; and
//! the record of every route registered through them, which the OpenAPI tests compare with the
//! documents.

use std::collections::BTreeSet;
use std::sync::Mutex;

use actix_web::{FromRequest, Handler, HttpRequest, HttpResponse, Resource, Responder, Route, web};

use crate::error::ApiError;

/// `GET /` (and `HEAD /`): the service's text, byte for byte as the original's Flask answer.
pub fn root(text: &'static str) -> Resource {
    let answer = move || async move {
        HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(text)
    };
    record(&["get", "head"], "/");
    web::resource("/")
        .route(web::get().to(answer))
        .route(web::head().to(answer))
        .default_service(allow("GET, HEAD"))
}

/// `POST path`, and a JSON 405 for any other method.
pub fn post<F, Args>(path: &str, handler: F) -> Resource
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    record(&["post"], path);
    only(path, web::post().to(handler), "POST")
}

/// `GET path`, and a JSON 405 for any other method.
pub fn get<F, Args>(path: &str, handler: F) -> Resource
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    record(&["get"], path);
    only(path, web::get().to(handler), "GET")
}

/// `path` with its one route; any other method is a JSON 405 naming `method`.
fn only(path: &str, route: Route, method: &'static str) -> Resource {
    web::resource(path)
        .route(route)
        .default_service(allow(method))
}

/// The default service of a resource: 405 naming the methods it has.
fn allow(methods: &'static str) -> Route {
    web::route().to(move || async move {
        Err::<HttpResponse, _>(ApiError::MethodNotAllowed { allow: methods })
    })
}

/// Every `(method, path)` registered through [`root`], [`post`] and [`get`] in this process,
/// methods in lower case as OpenAPI writes them: each HTTP worker adds its routes once, at start.
static REGISTERED: Mutex<Vec<(&'static str, String)>> = Mutex::new(Vec::new());

fn record(methods: &[&'static str], path: &str) {
    let mut registered = REGISTERED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    // A list, not a set: the set's code would be in every service binary (4.4 KB in hello_world),
    // the list's is a few instructions; `registered` makes the set, for the tests.
    for &method in methods {
        registered.push((method, path.to_owned()));
    }
}

/// What the routes of this process registered so far (see [`REGISTERED`]).
pub fn registered() -> BTreeSet<(String, String)> {
    let registered = REGISTERED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    registered
        .iter()
        .map(|(method, path)| ((*method).to_owned(), path.clone()))
        .collect()
}

/// The app's default service: 404 for any path no route has.
pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound(format!(
        "No route for {} {}.",
        req.method(),
        req.path()
    )))
}
