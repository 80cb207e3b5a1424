//! Budgets of bytes an instance holds at once (request bodies admitted, retrieve pages held), built
//! from settings at start-up and handed to the routes as application state. Shares are waited for
//! in turn (a fair semaphore), never longer than the caller allows, and go back when dropped.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Shares are counted in KiB, so that a `u32` of units covers any budget a machine can hold.
const UNIT_BYTES: usize = 1024;

/// A number of bytes shared by everything that holds a part of it. Cheap to clone; every clone is
/// the same budget.
#[derive(Debug, Clone)]
pub struct ByteBudget {
    semaphore: Arc<Semaphore>,
    units: u32,
}

impl ByteBudget {
    pub fn new(bytes: usize) -> Self {
        let units = u32::try_from(units_of(bytes)).unwrap_or(u32::MAX).max(1);
        Self {
            semaphore: Arc::new(Semaphore::new(units as usize)),
            units,
        }
    }

    /// The whole budget.
    pub fn bytes(&self) -> usize {
        self.units as usize * UNIT_BYTES
    }

    /// What nobody holds now.
    pub fn available_bytes(&self) -> usize {
        self.semaphore.available_permits() * UNIT_BYTES
    }

    /// A share of `bytes` (at most the whole budget), waited for at most `wait`; `None` when it
    /// did not come in time.
    pub async fn share_within(&self, bytes: usize, wait: Duration) -> Option<Share> {
        let units = u32::try_from(units_of(bytes))
            .unwrap_or(self.units)
            .clamp(1, self.units);
        let permit =
            tokio::time::timeout(wait, Arc::clone(&self.semaphore).acquire_many_owned(units))
                .await
                .ok()?
                .ok()?;
        Some(Share { permit })
    }
}

/// A part of a [`ByteBudget`], held until dropped.
#[derive(Debug)]
pub struct Share {
    permit: OwnedSemaphorePermit,
}

impl Share {
    pub fn bytes(&self) -> usize {
        self.permit.num_permits() * UNIT_BYTES
    }

    /// Gives back all but `bytes` (rounded up to a KiB) at once; a share never grows.
    pub fn shrink_to(&mut self, bytes: usize) {
        let surplus = self.permit.num_permits().saturating_sub(units_of(bytes));
        drop(self.permit.split(surplus));
    }
}

fn units_of(bytes: usize) -> usize {
    bytes.div_ceil(UNIT_BYTES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn shares_shrink_and_go_back() {
        let budget = ByteBudget::new(10 * UNIT_BYTES);
        let wait = Duration::from_millis(10);
        let mut share = budget
            .share_within(8 * UNIT_BYTES, wait)
            .await
            .expect("room");
        assert_eq!(budget.available_bytes(), 2 * UNIT_BYTES);
        assert!(budget.share_within(3 * UNIT_BYTES, wait).await.is_none());
        share.shrink_to(UNIT_BYTES + 1);
        assert_eq!(share.bytes(), 2 * UNIT_BYTES);
        assert_eq!(budget.available_bytes(), 8 * UNIT_BYTES);
        share.shrink_to(5 * UNIT_BYTES);
        assert_eq!(share.bytes(), 2 * UNIT_BYTES, "a share never grows");
        let whole = budget.share_within(usize::MAX, wait);
        drop(share);
        assert_eq!(whole.await.map(|s| s.bytes()), Some(budget.bytes()));
        assert_eq!(budget.available_bytes(), budget.bytes());
    }
}
