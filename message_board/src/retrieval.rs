//! What retrieves share across the instance, and how one reads a name's messages page by page
//! within it (docs/design.md, "Retrieve").
//!
//! A page's size is unknown until it arrives, so each query reserves the most its answer may take
//! (the answer as it arrives and as it is decoded) and gives the rest back when it has arrived;
//! the page then holds what it takes, until its last message has been written out. The first
//! page asks for 21 messages within 512 KiB: a name of 20 messages of up to 10 KiB, what the
//! hands-on stores, is answered after one query. A larger answer is refused unread by gRPC and
//! asked for again: the same page with room for the size the refusal gave, or three messages,
//! which any answer holds. Later pages are sized from the largest message seen.

use std::collections::VecDeque;
use std::time::Duration;

use common::budget::{ByteBudget, Share};
use common::datastore::pb::Entity;
use common::datastore::{DatastoreError, MAX_ANSWER_BYTES, Pages, entity_bytes};
use futures_util::Stream;

use crate::settings::RetrieveSettings;

/// What retrieves share across the instance, built once at start-up.
#[derive(Debug, Clone)]
pub struct Retrieval {
    /// Bytes of Datastore answers held by retrieves at once.
    pub budget: ByteBudget,
    /// A client that takes no part of an answer for this long is cut off.
    pub reader_stall: Duration,
}

impl Retrieval {
    pub fn new(settings: RetrieveSettings) -> Self {
        Self {
            budget: ByteBudget::new(settings.budget),
            reader_stall: settings.reader_stall,
        }
    }
}

/// How long a retrieve waits for its share before it gives up (503, or a cut answer after the
/// first page): shares are handed out in turn, and a reader that stalls gives its share back
/// within `READER_STALL_SECONDS` (at most 300), so 80 retrieves of 20 MB names all finish.
const SHARE_WAIT: Duration = Duration::from_secs(30);

/// A decoded entity takes its encoded size plus its maps and strings' own overhead: a KiB is more
/// than three properties and a key take.
const ENTITY_OVERHEAD_BYTES: usize = 1024;

/// What a retrieve asks Datastore for next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PageSize {
    messages: i32,
    /// The most bytes the answer may take: gRPC refuses a larger one unread.
    answer_bytes: usize,
}

impl PageSize {
    /// 20 messages of 10 KiB and one more, to see the end, in one answer with their keys.
    const FIRST: Self = Self {
        messages: 21,
        answer_bytes: 512 * 1024,
    };
    /// Any three entities (at most 1 MiB each) fit the largest answer.
    const SAFE: Self = Self {
        messages: 3,
        answer_bytes: MAX_ANSWER_BYTES,
    };

    /// What a query reserves before it asks: its answer as it arrives and as it is decoded.
    fn reserve(self) -> usize {
        2 * self.answer_bytes
    }

    /// After a page whose largest entity so far took `largest` bytes: as many of that size as
    /// half the largest answer holds, the other half room for larger ones.
    fn after_page(largest: usize) -> Self {
        let messages = (MAX_ANSWER_BYTES / 2 / largest.max(1)).clamp(3, 500);
        Self {
            messages: i32::try_from(messages).unwrap_or(3),
            answer_bytes: (messages * largest * 2)
                .clamp(Self::FIRST.answer_bytes, MAX_ANSWER_BYTES),
        }
    }

    /// After this page's answer was refused, `bytes` long if tonic said: the same page if it fits
    /// the largest answer, else three; `None` when even that was refused.
    fn after_refusal(self, bytes: Option<usize>) -> Option<Self> {
        match bytes {
            _ if self == Self::SAFE => None,
            Some(bytes) if bytes <= MAX_ANSWER_BYTES && self.answer_bytes < MAX_ANSWER_BYTES => {
                Some(Self {
                    answer_bytes: MAX_ANSWER_BYTES,
                    ..self
                })
            }
            _ => Some(Self::SAFE),
        }
    }
}

// The hands-on's names (21 messages of 10 KiB with their keys) fit the first answer, and any three
// of the largest entities, with their keys and cursors, the largest.
const _: () = assert!(21 * (10 * 1024 + ENTITY_OVERHEAD_BYTES) < PageSize::FIRST.answer_bytes);
const _: () = assert!(3 * (1024 * 1024 + 64 * 1024) < MAX_ANSWER_BYTES);

/// The entities of `pages`, one at a time, each page read within `budget` when the previous one
/// is out: what a retrieve holds is bounded whatever a name holds.
pub fn entities(
    pages: Pages,
    budget: ByteBudget,
) -> impl Stream<Item = Result<Entity, DatastoreError>> + 'static {
    let reading = Reading {
        pages,
        budget,
        next: PageSize::FIRST,
        largest: 0,
        held: None,
    };
    futures_util::stream::try_unfold(reading, next_entity)
}

/// Where a retrieve is: its query's pages, the next page's size, and the page it holds.
struct Reading {
    pages: Pages,
    budget: ByteBudget,
    next: PageSize,
    /// The largest entity seen, in bytes.
    largest: usize,
    held: Option<HeldPage>,
}

/// A page of entities, and the share of the budget it holds.
struct HeldPage {
    entities: VecDeque<Entity>,
    _share: Share,
}

async fn next_entity(mut reading: Reading) -> Result<Option<(Entity, Reading)>, DatastoreError> {
    loop {
        if let Some(entity) = reading
            .held
            .as_mut()
            .and_then(|page| page.entities.pop_front())
        {
            return Ok(Some((entity, reading)));
        }
        // The page is out, the JSON of its last message written: its share goes back before the
        // next page is asked for, and the end needs none.
        reading.held = None;
        if reading.pages.is_finished() {
            return Ok(None);
        }
        let size = reading.next;
        let mut share = reading
            .budget
            .share_within(size.reserve(), SHARE_WAIT)
            .await
            .ok_or_else(|| {
                DatastoreError::Unavailable(format!(
                    "no room for a page within {SHARE_WAIT:?}: {} bytes of pages held",
                    reading.budget.bytes()
                ))
            })?;
        let page = match reading
            .pages
            .next_sized(Some(size.messages), size.answer_bytes)
            .await
        {
            Ok(Some(page)) => page,
            Ok(None) => return Ok(None),
            Err(DatastoreError::AnswerTooLarge { bytes }) => {
                log::debug!("a page of {size:?} was {bytes:?} bytes: asked for again");
                reading.next = size
                    .after_refusal(bytes)
                    .ok_or(DatastoreError::AnswerTooLarge { bytes })?;
                continue;
            }
            Err(e) => return Err(e),
        };
        let sizes: Vec<usize> = page.iter().map(entity_bytes).collect();
        reading.largest = sizes.iter().copied().fold(reading.largest, usize::max);
        // The page, and the largest message twice more: as the answer's value and as its JSON.
        share.shrink_to(
            sizes.iter().sum::<usize>() + page.len() * ENTITY_OVERHEAD_BYTES + 2 * reading.largest,
        );
        reading.next = PageSize::after_page(reading.largest);
        reading.held = Some(HeldPage {
            entities: page.into(),
            _share: share,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: usize = 1024 * 1024;

    #[test]
    fn pages_are_sized_to_fit_one_answer() {
        // Short messages: many a page, in a small answer.
        assert_eq!(
            PageSize::after_page(300),
            PageSize {
                messages: 500,
                answer_bytes: 512 * 1024
            }
        );
        // The largest: three a page, any three fit.
        assert_eq!(PageSize::after_page(MIB), PageSize::SAFE);
        assert_eq!(
            PageSize::after_page(100 * 1024),
            PageSize {
                messages: 20,
                answer_bytes: 2 * 20 * 100 * 1024
            }
        );
    }

    #[test]
    fn a_refused_page_is_asked_for_again_so_that_it_fits() {
        let first = PageSize::FIRST;
        assert_eq!(
            first.after_refusal(Some(MIB)),
            Some(PageSize {
                messages: 21,
                answer_bytes: MAX_ANSWER_BYTES
            })
        );
        assert_eq!(first.after_refusal(Some(20 * MIB)), Some(PageSize::SAFE));
        assert_eq!(first.after_refusal(None), Some(PageSize::SAFE));
        let retried = first.after_refusal(Some(MIB)).expect("retried");
        assert_eq!(retried.after_refusal(Some(MIB)), Some(PageSize::SAFE));
        assert_eq!(PageSize::SAFE.after_refusal(Some(5 * MIB)), None);
    }
}
