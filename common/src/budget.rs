//! Process-wide budgets (request bodies in flight, retrieve pages held): a fair semaphore whose
//! shares are waited for in turn, never longer than the caller allows.

use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};

/// `units` of `budget`, waited for at most `wait`; `None` when they did not come in time. The
/// share goes back when the permit is dropped.
pub async fn share_within(
    budget: &'static Semaphore,
    units: u32,
    wait: Duration,
) -> Option<SemaphorePermit<'static>> {
    tokio::time::timeout(wait, budget.acquire_many(units))
        .await
        .ok()?
        .ok()
}
