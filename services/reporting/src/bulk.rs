//! Loading many items at once, beside the projector: for a benchmark, or to bring in figures
//! from another system. Fact rows go in many to a statement, a transaction per call; the rollups
//! take the sum of every item's contribution once, at [`BulkLoad::finish`].

use docket_platform::db::begin_write;
use sea_orm::{DatabaseConnection, DbErr};

pub use crate::facts::{AllegationItem, CaseItem, ChargeRow, Point, UNKNOWN, VictimRow};
use crate::facts::{insert_allegations, insert_cases};
pub use crate::named::NamedRow;
use crate::rollup::Delta;

/// A load in progress. Items must be new: an item already stored makes its insert fail.
#[derive(Debug)]
pub struct BulkLoad {
    db: DatabaseConnection,
    delta: Delta,
}

impl BulkLoad {
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            delta: Delta::default(),
        }
    }

    /// Stores `allegations` and `cases` in one transaction.
    pub async fn add(
        &mut self,
        allegations: &[AllegationItem],
        cases: &[CaseItem],
    ) -> Result<(), DbErr> {
        let txn = begin_write(&self.db).await?;
        insert_allegations(&txn, allegations).await?;
        insert_cases(&txn, cases).await?;
        txn.commit().await?;
        for item in allegations {
            self.delta.allegation(None, Some(item));
        }
        for item in cases {
            self.delta.case(None, Some(item));
        }
        Ok(())
    }

    /// Adds what was loaded to the rollups; until then statistics that the rollups answer do
    /// not count it.
    pub async fn finish(self) -> Result<(), DbErr> {
        let txn = begin_write(&self.db).await?;
        self.delta.apply(&txn).await?;
        txn.commit().await
    }
}
