//! The hello world service: `GET /` and `POST /api/v1/hello`.

pub mod routes;
pub mod startup;
