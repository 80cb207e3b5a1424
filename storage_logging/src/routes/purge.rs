use std::sync::atomic::{AtomicBool, Ordering};

use actix_web::{HttpResponse, web};
use common::ApiError;
use common::datastore::Datastore;

use crate::settings::PurgeSettings;
use crate::storage_log;

/// One purge at a time in this instance: Cloud Scheduler's retries and a manual run can overlap,
/// and two purges would query and delete the same keys twice over.
#[derive(Default)]
pub struct PurgeGate(AtomicBool);

/// Held while a purge runs; opens the gate however the purge ends.
struct Running<'a>(&'a AtomicBool);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl PurgeGate {
    fn enter(&self) -> Option<Running<'_>> {
        self.0
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .ok()
            .map(|_| Running(&self.0))
    }
}

/// `GET /api/v1/purge` (Cloud Scheduler): deletes old `StorageLog`s;
/// `{"message": "succeeded.", "deleted": N, "complete": true}`; 409 at once while another runs.
pub async fn purge(
    datastore: web::Data<Datastore>,
    settings: web::Data<PurgeSettings>,
    gate: web::Data<PurgeGate>,
) -> Result<HttpResponse, ApiError> {
    let _running = gate
        .enter()
        .ok_or_else(|| ApiError::Conflict("a purge is already running; it continues.".into()))?;
    let report = storage_log::purge(&datastore, settings.retention, settings.time_budget).await?;
    Ok(HttpResponse::Ok().json(report))
}
