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
use docket_platform::error;
use docket_proto::docket::reporting::v1 as pb;
use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;

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
                if filter.values.is_empty() || filter.values.len() > 100 {
                    v.add(format!("{field}.values"), "give 1 to 100 values");
                } else {
                    filters.push((d, filter.values));
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
        if let Err(e) = send_all(&db, &export, threshold, &sender).await {
            // The client may be gone already; then nobody is told, and the log has the cause.
            let _ = sender.send(Err(error::internal(&e))).await;
        }
    });
    ReceiverStream::new(receiver)
}

type Sender = mpsc::Sender<Result<pb::ExportCasesResponse, Status>>;

/// Sends every line; returns early, without error, when the client has gone.
async fn send_all(
    db: &DatabaseConnection,
    export: &Export,
    threshold: i64,
    sender: &Sender,
) -> Result<(), DbErr> {
    let edition = write::Edition {
        public: export.public,
        threshold,
    };
    if export.format == Format::Csv && !send(sender, edition.csv_header()).await {
        return Ok(());
    }
    let mut after = String::new();
    loop {
        let page = read::page(db, &export.filters, &after, PAGE_SIZE).await?;
        let last_page = (page.len() as u64) < PAGE_SIZE;
        for case in &page {
            let line = match export.format {
                Format::Csv => edition.csv(case),
                Format::JsonLines => edition.json(case),
            };
            if !send(sender, line).await {
                return Ok(());
            }
        }
        match page.last() {
            Some(case) if !last_page => after.clone_from(&case.case_id),
            Some(_) | None => return Ok(()),
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
