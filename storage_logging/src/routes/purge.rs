use actix_web::{HttpResponse, web};
use common::ApiError;
use common::datastore::Datastore;

use crate::settings::PurgeSettings;
use crate::storage_log;

/// `GET /api/v1/purge` (Cloud Scheduler): deletes old `StorageLog`s;
/// `{"message": "succeeded.", "deleted": N, "complete": true}`.
pub async fn purge(
    datastore: web::Data<Datastore>,
    settings: web::Data<PurgeSettings>,
) -> Result<HttpResponse, ApiError> {
    let report = storage_log::purge(&datastore, settings.retention, settings.time_budget).await?;
    Ok(HttpResponse::Ok().json(report))
}
