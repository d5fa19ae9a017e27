//! Verdicts on content, as reporting follows them: which bytes each evidence record holds,
//! whether the latest verdict on those bytes judges them fabricated, and which evidence each case
//! links now. A case rests only on fabricated material when every item it links stands judged
//! fabricated by its content's verdict (or, where the content has none, by the case's own).
//! Cases projected before keep the flag their last event gave until their next event.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("evidence_content"))
                    .col(string(Alias::new("evidence_id")).primary_key())
                    .col(string(Alias::new("sha256")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_evidence_content_sha256")
                    .table(Alias::new("evidence_content"))
                    .col(Alias::new("sha256"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("content_standing"))
                    .col(string(Alias::new("sha256")).primary_key())
                    .col(string(Alias::new("verdict")))
                    .col(boolean(Alias::new("fabricated")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("case_evidence_links"))
                    .col(string(Alias::new("case_id")))
                    .col(string(Alias::new("evidence_id")))
                    .col(boolean(Alias::new("case_fabricated")))
                    .primary_key(
                        Index::create()
                            .col(Alias::new("case_id"))
                            .col(Alias::new("evidence_id")),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_case_evidence_links_evidence")
                    .table(Alias::new("case_evidence_links"))
                    .col(Alias::new("evidence_id"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "case_evidence_links",
            "content_standing",
            "evidence_content",
        ] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
