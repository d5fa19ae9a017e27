//! `ExportCases`: every case as a CSV record or a JSON line, for the office or for
//! publication.
//!
//! Cases are read a page at a time ([`read`]) and written one line per message ([`write`])
//! into a bounded channel, so an export of any size holds one page in memory and stops reading
//! as soon as the client goes away. Pages follow the case id, so a case changed during the
//! export appears once, as it was when its page was read.

mod read;
mod write;

use docket_domain::Violations;
use docket_proto::docket::reporting::v1 as pb;
use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;

use crate::error::ReportingError;

/// Cases read per query.
const PAGE_SIZE: u64 = 200;
/// Lines buffered ahead of a slow client.
const BUFFERED_LINES: usize = 64;

/// How lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    JsonLines,
}

/// A valid `ExportCasesRequest`.
#[derive(Debug, Clone)]
pub struct Export {
    pub format: Format,
    pub public: bool,
    pub filters: Vec<(pb::Dimension, Vec<String>)>,
}

/// Parses a request.
pub fn parse(request: pb::ExportCasesRequest) -> Result<Export, Violations> {
    let mut v = Violations::default();
    let format = match pb::ExportFormat::try_from(request.format) {
        Ok(pb::ExportFormat::Csv) => Some(Format::Csv),
        Ok(pb::ExportFormat::JsonLines) => Some(Format::JsonLines),
        Ok(pb::ExportFormat::Unspecified) | Err(_) => {
            v.add(
                "format",
                "is required: EXPORT_FORMAT_CSV or EXPORT_FORMAT_JSON_LINES",
            );
            None
        }
    };
    let public = crate::audience::parse(request.audience, &mut v);
    if request.filters.len() > 10 {
        v.add("filters", "at most ten filters");
    }
    let mut filters = Vec::new();
    for (i, filter) in request.filters.into_iter().enumerate() {
        let field = format!("filters[{i}]");
        match pb::Dimension::try_from(filter.dimension) {
            Ok(d) if read::filterable(d) => {
                if let Some(values) =
                    crate::statistics::filter_values(&mut v, &field, filter.values)
                {
                    filters.push((d, values));
                }
            }
            Ok(_) | Err(_) => v.add(
                format!("{field}.dimension"),
                "cases can be filtered by DIMENSION_PARTY, DIMENSION_CRIME_TYPE, \
                 DIMENSION_CASE_STATUS or DIMENSION_INCIDENT_WEEK",
            ),
        }
    }
    v.into_result().map(|()| Export {
        // `into_result` is Ok only when no violation was added, so a format was read.
        format: format.unwrap_or(Format::Csv),
        public,
        filters,
    })
}

/// The lines of `export`, streamed as they are read.
pub fn stream(
    db: DatabaseConnection,
    export: Export,
    threshold: i64,
) -> ReceiverStream<Result<pb::ExportCasesResponse, Status>> {
    let (sender, receiver) = mpsc::channel(BUFFERED_LINES);
    tokio::spawn(async move {
        if let Err(e) = send_all(&db, &export, threshold, PAGE_SIZE, &sender).await {
            // The client may be gone already; then nobody is told, and the log has the cause.
            let _ = sender.send(Err(ReportingError::from(e).into())).await;
        }
    });
    ReceiverStream::new(receiver)
}

type Sender = mpsc::Sender<Result<pb::ExportCasesResponse, Status>>;

/// Sends every line; returns early, without error, when the client has gone. Returns how many
/// pages it read.
async fn send_all(
    db: &DatabaseConnection,
    export: &Export,
    threshold: i64,
    page_size: u64,
    sender: &Sender,
) -> Result<usize, DbErr> {
    let edition = write::Edition {
        public: export.public,
        threshold,
    };
    if export.format == Format::Csv && !send(sender, edition.csv_header()).await {
        return Ok(0);
    }
    let mut after = String::new();
    let mut pages = 0;
    loop {
        let page = read::page(db, &export.filters, &after, page_size).await?;
        pages += 1;
        let last_page = (page.len() as u64) < page_size;
        for case in &page {
            let line = match export.format {
                Format::Csv => edition.csv(case),
                Format::JsonLines => edition.json(case),
            };
            if !send(sender, line).await {
                return Ok(pages);
            }
        }
        match page.last() {
            Some(case) if !last_page => after.clone_from(&case.case_id),
            Some(_) | None => return Ok(pages),
        }
    }
}

/// Sends one line; false when the client has gone.
async fn send(sender: &Sender, line: String) -> bool {
    sender
        .send(Ok(pb::ExportCasesResponse { line }))
        .await
        .is_ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use docket_proto::docket::common::v1 as common;
    use docket_proto::docket::events::v1 as ev;

    use super::*;

    /// A projection holding `n` cases, the even ones against `AM`, the odd ones against `AZ`.
    async fn projection(dir: &std::path::Path, n: usize) -> DatabaseConnection {
        let url = format!("sqlite://{}?mode=rwc", dir.join("reporting.db").display());
        let settings = docket_platform::Settings::defaults().unwrap();
        let db =
            docket_platform::db::connect_and_migrate::<crate::Migrator>(&url, &settings.database)
                .await
                .unwrap();
        for i in 0..n {
            let case = ev::CaseChanged {
                case_id: format!("case-{i:04}"),
                reference: format!("CASE-2020-{:06}", i + 1),
                status: "CASE_STATUS_OPEN".into(),
                party_codes: vec![if i % 2 == 0 { "AM" } else { "AZ" }.into()],
                victims: vec![common::VictimGroup {
                    count: 1,
                    status: common::VictimStatus::Civilian.into(),
                    harm: common::Harm::Killed.into(),
                    age_group: common::AgeGroup::Adult.into(),
                    sex: common::Sex::Female.into(),
                    ..Default::default()
                }],
                ..Default::default()
            };
            let payload = ev::EventPayload {
                kind: Some(ev::event_payload::Kind::CaseChanged(case)),
            };
            let mut delta = crate::rollup::Delta::default();
            crate::apply::apply_facts(&db, &payload, &mut delta)
                .await
                .unwrap();
            delta.apply(&db).await.unwrap();
        }
        db
    }

    async fn lines(db: &DatabaseConnection, export: &Export, page_size: u64) -> Vec<String> {
        let (sender, mut receiver) = mpsc::channel(1_000);
        send_all(db, export, 5, page_size, &sender).await.unwrap();
        drop(sender);
        let mut lines = Vec::new();
        while let Some(message) = receiver.recv().await {
            lines.push(message.unwrap().line);
        }
        lines
    }

    #[tokio::test]
    async fn pages_cover_every_case_once_whatever_their_size() {
        let dir = tempfile::tempdir().unwrap();
        let db = projection(dir.path(), 23).await;
        let mut export = Export {
            format: Format::Csv,
            public: false,
            filters: Vec::new(),
        };
        let expected: Vec<String> = (1..=23).map(|i| format!("CASE-2020-{i:06}")).collect();
        for page_size in [1, 5, 22, 23, 24, 200] {
            let lines = lines(&db, &export, page_size).await;
            assert!(lines[0].starts_with("reference,"));
            let references: Vec<String> = lines[1..]
                .iter()
                .map(|l| l.split(',').next().unwrap().to_owned())
                .collect();
            assert_eq!(references, expected, "pages of {page_size}");
        }
        export.filters = vec![(pb::Dimension::Party, vec!["AZ".into()])];
        export.format = Format::JsonLines;
        let odd = lines(&db, &export, 4).await;
        assert_eq!(odd.len(), 11);
        assert!(odd.iter().all(|l| l.contains("\"parties\":[\"AZ\"]")));
    }

    #[tokio::test]
    async fn an_export_to_a_client_that_has_gone_ends_quietly() {
        let dir = tempfile::tempdir().unwrap();
        let db = projection(dir.path(), 30).await;
        let export = Export {
            format: Format::JsonLines,
            public: true,
            filters: Vec::new(),
        };
        let (sender, receiver) = mpsc::channel(2);
        drop(receiver);
        // Returns at the first line it cannot send instead of reading every page.
        let pages = send_all(&db, &export, 5, 1, &sender).await.unwrap();
        assert_eq!(pages, 1);
    }
}
