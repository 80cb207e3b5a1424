//! Queries: the answer page by page ([`Pages`], which the purge and message_board's retrieve
//! stream and [`Datastore::query_all`] collects), and [`QueryBuilder`], which writes a query as the
//! original's Python client does.

use gcloud_sdk::google::datastore::v1::query_result_batch::MoreResultsType;
use gcloud_sdk::google::datastore::v1::{Entity, Query, QueryResultBatch};

use super::{Datastore, DatastoreError, pb};

/// The most bytes one answer may take: gRPC's default decoding limit. An entity is at most 1 MiB,
/// so a page of three always fits.
pub const MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;

/// A query's answer, one page per [`Pages::next`]: each page is fetched when asked for, so a caller
/// can work on one page while the next is on its way. Owns its client (a clone shares the
/// connection), so that an answer streamed to an HTTP client can hold it.
pub struct Pages {
    datastore: Datastore,
    query: Query,
    /// Where the next page starts; `None` before the first.
    cursor: Option<Vec<u8>>,
    finished: bool,
}

impl Pages {
    /// Whether the last page has been read: [`Pages::next`] would answer `None` without asking.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// The next page's entities, as many as the query's limit; `None` after the last page.
    pub async fn next(&mut self) -> Result<Option<Vec<Entity>>, DatastoreError> {
        self.next_sized(self.query.limit, MAX_ANSWER_BYTES).await
    }

    /// The next page of at most `limit` entities; `None` after the last page. An answer over
    /// `max_answer_bytes` is refused unread (`AnswerTooLarge`) and the page is still to read, as
    /// after any failure.
    pub async fn next_sized(
        &mut self,
        limit: Option<i32>,
        max_answer_bytes: usize,
    ) -> Result<Option<Vec<Entity>>, DatastoreError> {
        if self.finished {
            return Ok(None);
        }
        let mut query = self.query.clone();
        query.limit = limit;
        if let Some(cursor) = &self.cursor {
            query.start_cursor.clone_from(cursor);
        }
        let batch = self.datastore.run_query(query, max_answer_bytes).await?;
        self.cursor = next_page(&batch, limit);
        self.finished = self.cursor.is_none();
        Ok(Some(
            batch
                .entity_results
                .into_iter()
                .filter_map(|result| result.entity)
                .collect(),
        ))
    }
}

impl Datastore {
    /// The query's answer, page by page.
    pub fn pages(&self, query: Query) -> Pages {
        Pages {
            datastore: self.clone(),
            query,
            cursor: None,
            finished: false,
        }
    }

    /// Every entity the query finds, every page of it (Datastore answers in batches of about 300
    /// on the legacy emulator; one batch is not the answer), all within one deadline.
    pub async fn query_all(&self, query: Query) -> Result<Vec<Entity>, DatastoreError> {
        self.within_deadline(async {
            let mut pages = self.pages(query);
            let mut entities = Vec::new();
            while let Some(page) = pages.next().await? {
                entities.extend(page);
            }
            Ok(entities)
        })
        .await
    }
}

/// An entity's size in a query's answer.
pub fn entity_bytes(entity: &Entity) -> usize {
    gcloud_sdk::prost::Message::encoded_len(entity)
}

/// A query in the words of the original's Python client (`query(kind=...)`, `add_filter`,
/// `order`, `keys_only`), built into Datastore's protobuf `Query`.
#[derive(Debug, Clone, Default)]
pub struct QueryBuilder(pb::Query);

impl QueryBuilder {
    /// Entities of `kind`.
    pub fn kind(kind: &str) -> Self {
        Self(pb::Query {
            kind: vec![pb::KindExpression {
                name: kind.to_owned(),
            }],
            ..pb::Query::default()
        })
    }

    /// Only those with `property <op> value`; several filters must all hold.
    pub fn filter(
        mut self,
        property: &str,
        op: pb::property_filter::Operator,
        value: pb::Value,
    ) -> Self {
        let added = property_filter(property, op, value);
        self.0.filter = Some(match self.0.filter.take() {
            None => added,
            Some(pb::Filter {
                filter_type: Some(pb::filter::FilterType::CompositeFilter(mut all)),
            }) => {
                all.filters.push(added);
                composite_and(all.filters)
            }
            Some(first) => composite_and(vec![first, added]),
        });
        self
    }

    /// Ordered by `property`, lowest first.
    pub fn order_by(mut self, property: &str) -> Self {
        self.0.order.push(pb::PropertyOrder {
            property: Some(property_reference(property)),
            direction: pb::property_order::Direction::Ascending as i32,
        });
        self
    }

    /// Keys only, no properties.
    pub fn keys_only(mut self) -> Self {
        self.0.projection = vec![pb::Projection {
            property: Some(property_reference("__key__")),
        }];
        self
    }

    /// At most `limit` entities a page.
    pub fn limit(mut self, limit: i32) -> Self {
        self.0.limit = Some(limit);
        self
    }

    pub fn build(self) -> pb::Query {
        self.0
    }
}

fn property_reference(name: &str) -> pb::PropertyReference {
    pb::PropertyReference {
        name: name.to_owned(),
    }
}

fn property_filter(
    property: &str,
    op: pb::property_filter::Operator,
    value: pb::Value,
) -> pb::Filter {
    pb::Filter {
        filter_type: Some(pb::filter::FilterType::PropertyFilter(pb::PropertyFilter {
            property: Some(property_reference(property)),
            op: op as i32,
            value: Some(value),
        })),
    }
}

fn composite_and(filters: Vec<pb::Filter>) -> pb::Filter {
    pb::Filter {
        filter_type: Some(pb::filter::FilterType::CompositeFilter(
            pb::CompositeFilter {
                op: pb::composite_filter::Operator::And as i32,
                filters,
            },
        )),
    }
}

/// The cursor of the next page, or `None` when the batch was the last. Works on both emulators
/// and production (docs/design.md, "Datastore model"): go on while `NOT_FINISHED`; stop on an empty page, on
/// `NO_MORE_RESULTS`, or on any other state with a page smaller than the limit.
fn next_page(batch: &QueryResultBatch, limit: Option<i32>) -> Option<Vec<u8>> {
    let count = batch.entity_results.len();
    if count == 0 || batch.end_cursor.is_empty() {
        return None;
    }
    let go_on = match MoreResultsType::try_from(batch.more_results) {
        Ok(MoreResultsType::NotFinished) => true,
        Ok(MoreResultsType::NoMoreResults) => false,
        _ => limit.is_some_and(|limit| count >= usize::try_from(limit).unwrap_or(usize::MAX)),
    };
    go_on.then(|| batch.end_cursor.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use gcloud_sdk::google::datastore::v1::EntityResult;

    #[test]
    fn filters_all_hold_and_orders_are_ascending() {
        let one = QueryBuilder::kind("Message")
            .filter(
                "name",
                pb::property_filter::Operator::Equal,
                pb::Value::default(),
            )
            .order_by("timestamp")
            .build();
        assert_eq!(one.kind[0].name, "Message");
        assert!(matches!(
            one.filter.and_then(|f| f.filter_type),
            Some(pb::filter::FilterType::PropertyFilter(f)) if f.property.as_ref().is_some_and(|p| p.name == "name")
        ));
        assert_eq!(one.order.len(), 1);
        assert_eq!(
            one.order[0].direction,
            pb::property_order::Direction::Ascending as i32
        );
        let op = pb::property_filter::Operator::GreaterThan;
        let three = QueryBuilder::kind("K")
            .filter("a", op, pb::Value::default())
            .filter("b", op, pb::Value::default())
            .filter("c", op, pb::Value::default())
            .keys_only()
            .limit(7)
            .build();
        let Some(pb::filter::FilterType::CompositeFilter(all)) =
            three.filter.and_then(|f| f.filter_type)
        else {
            panic!("not a composite filter")
        };
        assert_eq!(all.op, pb::composite_filter::Operator::And as i32);
        assert_eq!(all.filters.len(), 3, "one AND of three, not nested");
        assert_eq!(
            three.projection[0]
                .property
                .as_ref()
                .map(|p| p.name.as_str()),
            Some("__key__")
        );
        assert_eq!(three.limit, Some(7));
    }

    fn batch(count: usize, more: MoreResultsType) -> QueryResultBatch {
        QueryResultBatch {
            entity_results: vec![EntityResult::default(); count],
            end_cursor: b"cursor".to_vec(),
            more_results: more as i32,
            ..QueryResultBatch::default()
        }
    }

    #[test]
    fn paging_follows_both_emulators_stop_rules() {
        use MoreResultsType::*;
        // Legacy emulator: 300 per batch, NOT_FINISHED until the end.
        assert!(next_page(&batch(300, NotFinished), None).is_some());
        // Firestore emulator and production: NO_MORE_RESULTS at the end, whatever the size.
        assert!(next_page(&batch(50, NoMoreResults), None).is_none());
        assert!(next_page(&batch(500, NoMoreResults), Some(500)).is_none());
        // Legacy emulator with a limit: MORE_RESULTS_AFTER_LIMIT on every full page...
        assert!(next_page(&batch(500, MoreResultsAfterLimit), Some(500)).is_some());
        // ...and on the last, smaller one.
        assert!(next_page(&batch(20, MoreResultsAfterLimit), Some(500)).is_none());
        assert!(next_page(&batch(0, NotFinished), None).is_none());
        assert!(next_page(&batch(10, MoreResultsAfterCursor), None).is_none());
    }
}
