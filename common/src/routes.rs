//! Routes every service has: its root text, and JSON answers for unknown paths and methods.

use actix_web::{FromRequest, Handler, HttpRequest, HttpResponse, Resource, Responder, Route, web};

use crate::error::ApiError;

/// `GET /` (and `HEAD /`): the service's text, byte for byte as the original's Flask answer.
pub fn root(text: &'static str) -> Resource {
    let answer = move || async move {
        HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(text)
    };
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
    only(path, web::post().to(handler), "POST")
}

/// `GET path`, and a JSON 405 for any other method.
pub fn get<F, Args>(path: &str, handler: F) -> Resource
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
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

/// The app's default service: 404 for any path no route has.
pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound(format!(
        "No route for {} {}.",
        req.method(),
        req.path()
    )))
}
