//! One open review flag per flagged content and near-duplicate. Two fabricated verdicts on the
//! same bytes committed at once (or a verdict and the hashing of a later copy) each read that no
//! flag was open and each raised one; on PostgreSQL both committed. A partial unique index now
//! lets one in and the other's insert does nothing. Flags doubled before are closed first,
//! keeping the oldest, so the index can be built.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(
            "UPDATE content_review_flags SET cleared_at = raised_at, \
             cleared_reason = 'a second open flag for the same near-duplicate, raised by \
             concurrent verdicts' \
             WHERE cleared_at IS NULL AND EXISTS (SELECT 1 FROM content_review_flags AS older \
             WHERE older.sha256 = content_review_flags.sha256 \
             AND older.because_sha256 = content_review_flags.because_sha256 \
             AND older.cleared_at IS NULL AND older.id < content_review_flags.id)",
        )
        .await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX ux_content_review_flags_open \
             ON content_review_flags (sha256, because_sha256) WHERE cleared_at IS NULL",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX ux_content_review_flags_open")
            .await?;
        Ok(())
    }
}
