//! The storage logging service: Cloud Storage upload events, pushed by Pub/Sub, stored as
//! `StorageLog` entities exactly once per message; and a purge for Cloud Scheduler.

pub mod cloud_event;
pub mod envelope;
pub mod notification;
pub mod push_auth;
pub mod routes;
pub mod settings;
pub mod startup;
pub mod storage_log;
