//! Routes every service has (its root text, JSON answers for unknown paths and methods), and the
//! [`Routes`] a service adds its endpoints to: the app when it serves, a list when the OpenAPI
//! tests compare the endpoints with the documents.

use actix_web::dev::HttpServiceFactory;
use actix_web::{FromRequest, Handler, HttpRequest, HttpResponse, Resource, Responder, Route, web};

use crate::error::ApiError;

/// A resource and what it serves: its path and its methods, in lower case as OpenAPI writes them.
pub struct Endpoint<R> {
    pub path: &'static str,
    pub methods: &'static [&'static str],
    resource: R,
}

impl<R> Endpoint<R> {
    /// The same endpoint, its resource given more (app data, middleware).
    pub fn map<U>(self, build: impl FnOnce(R) -> U) -> Endpoint<U> {
        Endpoint {
            path: self.path,
            methods: self.methods,
            resource: build(self.resource),
        }
    }
}

/// Where a service's endpoints go.
pub trait Routes {
    fn add<R>(&mut self, endpoint: Endpoint<R>)
    where
        R: HttpServiceFactory + 'static;
}

impl Routes for web::ServiceConfig {
    fn add<R>(&mut self, endpoint: Endpoint<R>)
    where
        R: HttpServiceFactory + 'static,
    {
        self.service(endpoint.resource);
    }
}

/// `GET /` (and `HEAD /`): the service's text, byte for byte as the original's Flask answer.
pub fn root(text: &'static str) -> Endpoint<Resource> {
    let answer = move || async move {
        HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(text)
    };
    Endpoint {
        path: "/",
        methods: &["get", "head"],
        resource: web::resource("/")
            .route(web::get().to(answer))
            .route(web::head().to(answer))
            .default_service(allow("GET, HEAD")),
    }
}

/// `POST path`, and a JSON 405 for any other method.
pub fn post<F, Args>(path: &'static str, handler: F) -> Endpoint<Resource>
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    only(path, &["post"], web::post().to(handler), "POST")
}

/// `GET path`, and a JSON 405 for any other method.
pub fn get<F, Args>(path: &'static str, handler: F) -> Endpoint<Resource>
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    only(path, &["get"], web::get().to(handler), "GET")
}

/// `path` with its one route; any other method is a JSON 405 naming `allowed`.
fn only(
    path: &'static str,
    methods: &'static [&'static str],
    route: Route,
    allowed: &'static str,
) -> Endpoint<Resource> {
    Endpoint {
        path,
        methods,
        resource: web::resource(path)
            .route(route)
            .default_service(allow(allowed)),
    }
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
