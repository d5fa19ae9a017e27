//! Creating, listing and reading releases: what the gRPC methods call.

use std::sync::Arc;

use anyhow::Context;
use docket_domain::Violations;
use docket_platform::Settings;
use docket_platform::settings::Mode;
use docket_proto::docket::reporting::v1 as pb;
use ed25519_dalek::SigningKey;
use sea_orm::DatabaseConnection;

use crate::error::ReportingError;

use super::catalogue::{self, TableSpec};
use super::document::{self, Document};
use super::gazetteer::Gazetteer;
use super::protect::{self, EarlierCell, Withheld};
use super::publication::Words;
use super::{store, tables};

/// Everything a release needs, read once from settings.
#[derive(Clone)]
pub struct Releases {
    pub(super) db: DatabaseConnection,
    pub(super) catalogue: Arc<Vec<TableSpec>>,
    pub(super) gazetteer: Arc<Gazetteer>,
    threshold: i64,
    min_range: i64,
    pub(super) key: Arc<SigningKey>,
    words: Arc<Words>,
}

impl std::fmt::Debug for Releases {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Releases")
            .field("catalogue", &self.catalogue)
            .field("threshold", &self.threshold)
            .field("min_range", &self.min_range)
            .field("public_key", &document::public_key(&self.key))
            .finish_non_exhaustive()
    }
}

/// The office's signing key: from settings, or in development generated once under `data_dir`.
pub fn signing_key(settings: &Settings) -> anyhow::Result<SigningKey> {
    let hex_seed = match (&settings.reporting.release.signing_key, settings.mode) {
        (Some(configured), _) => configured.trim().to_owned(),
        (None, Mode::Development) => docket_platform::secrets::load_or_create(
            &settings.data_dir.join("release-signing-dev.key"),
        )
        .context("cannot keep the development release signing key")?,
        (None, Mode::Production) => {
            anyhow::bail!("production mode needs `reporting.release.signing_key`")
        }
    };
    let seed: [u8; 32] = hex::decode(&hex_seed)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .context("`reporting.release.signing_key` must be 64 hex characters (32 bytes)")?;
    Ok(SigningKey::from_bytes(&seed))
}

fn number(raw: i64) -> Result<i64, ReportingError> {
    parse_number(raw).map_err(ReportingError::Invalid)
}

/// The title of a new release: 1 to 200 characters once trimmed, no control character but tab
/// and line breaks (PostgreSQL refuses a NUL in text; the title is signed and shown).
pub fn parse_title(raw: &str) -> Result<&str, Violations> {
    let title = raw.trim();
    if title.is_empty() || title.chars().count() > 200 {
        return Err(Violations::single("title", "give 1 to 200 characters"));
    }
    if let Some(c) = title
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        return Err(Violations::single(
            "title",
            format!(
                "must not contain control characters (found U+{:04X}); tab and line breaks \
                 are allowed",
                u32::from(c)
            ),
        ));
    }
    Ok(title)
}

/// A release number as requested: from 1.
pub fn parse_number(raw: i64) -> Result<i64, Violations> {
    if raw < 1 {
        return Err(Violations::single(
            "number",
            "is required: a release number from 1",
        ));
    }
    Ok(raw)
}

impl Releases {
    pub fn from_settings(db: DatabaseConnection, settings: &Settings) -> anyhow::Result<Self> {
        let release = &settings.reporting.release;
        let threshold = settings.reporting.suppression_threshold;
        Ok(Self {
            db,
            catalogue: Arc::new(catalogue::parse(&release.tables)?),
            gazetteer: Arc::new(Gazetteer::load(release.gazetteer_file.as_deref())?),
            threshold,
            min_range: release.min_range.unwrap_or(threshold).max(0),
            key: Arc::new(signing_key(settings)?),
            words: Arc::new(Words::from_settings(settings)?),
        })
    }

    /// Computes, protects, signs and stores a release.
    pub async fn create(&self, title: &str) -> Result<pb::Release, ReportingError> {
        let title = parse_title(title).map_err(ReportingError::Invalid)?;
        // Where the time goes, logged with the release: reading, protecting, the rest.
        let started = std::time::Instant::now();
        let earlier = store::earlier(&self.db).await?;
        let mut accumulator = tables::Accumulator::new(&self.catalogue, &self.gazetteer);
        let positions = store::snapshot(&self.db, |case| accumulator.add(case)).await?;
        let computed = accumulator.finish();
        let read = started.elapsed();
        let number = earlier.last().map_or(0, |e| e.number) + 1;
        let created_time = chrono::Utc::now();
        let (document, kept) =
            self.compose(number, title, created_time, &positions, computed, &earlier)?;
        let protected = started.elapsed() - read;
        let signed = document::sign(&document, &self.key).context("cannot write the release")?;
        let file = String::from_utf8(signed.file).context("the release is not UTF-8")?;
        let txn = docket_platform::db::begin_write(&self.db).await?;
        let last = store::last_number(&txn).await?;
        if last != number - 1 {
            return Err(ReportingError::Raced(last));
        }
        store::insert(
            &txn,
            number,
            title,
            created_time,
            &signed.document_sha256,
            &file,
            &kept,
        )
        .await?;
        txn.commit().await?;
        tracing::info!(
            number,
            sha256 = %signed.document_sha256,
            read_ms = read.as_millis() as u64,
            protect_ms = protected.as_millis() as u64,
            total_ms = started.elapsed().as_millis() as u64,
            "release published"
        );
        Ok(to_pb(
            &document,
            &signed.document_sha256,
            &signed.public_key,
            true,
        ))
    }

    /// The document of release `number` of the tables `computed` at `positions`, and the true
    /// value of every cell.
    pub fn compose(
        &self,
        number: i64,
        title: &str,
        created_time: chrono::DateTime<chrono::Utc>,
        positions: &store::Positions,
        computed: tables::Computed,
        earlier: &[store::Earlier],
    ) -> Result<(Document, Vec<EarlierCell>), ReportingError> {
        let earlier_cells: Vec<EarlierCell> = earlier
            .iter()
            .flat_map(|e| e.cells.iter().cloned())
            .collect();
        let protection =
            protect::protect(&computed, &earlier_cells, self.threshold, self.min_range)?;
        let mut kept = Vec::new();
        let tables: Vec<document::Table> = computed
            .tables
            .iter()
            .zip(&protection.withheld)
            .map(|(table, withheld)| document::Table {
                name: table.spec.name.clone(),
                measure: table.spec.measure.name().to_owned(),
                dimensions: table.spec.by.iter().map(|d| d.name().to_owned()).collect(),
                cells: table
                    .cells
                    .iter()
                    .zip(withheld)
                    .map(|(cell, w)| {
                        kept.push(EarlierCell {
                            table: table.spec.name.clone(),
                            keys: cell.keys.clone(),
                            value: cell.value,
                            withheld: w.is_some(),
                        });
                        document::Cell {
                            keys: cell.keys.clone(),
                            value: if w.is_some() { 0 } else { cell.value },
                            withheld: w.is_some(),
                        }
                    })
                    .collect(),
            })
            .collect();
        let audit = document::Audit {
            threshold: self.threshold,
            min_range: self.min_range,
            primary_withheld: protection.count(Withheld::Primary) as i64,
            secondary_withheld: protection.count(Withheld::Secondary) as i64,
            cells: protection
                .ranges
                .iter()
                .map(|r| document::AuditedCell {
                    table: computed.tables[r.table].spec.name.clone(),
                    keys: computed.tables[r.table].cells[r.cell].keys.clone(),
                    lower: r.lower,
                    upper: r.upper,
                })
                .collect(),
        };
        let document = Document {
            format: document::FORMAT.to_owned(),
            number,
            title: title.to_owned(),
            created_time: created_time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            positions: positions
                .iter()
                .map(|(stream, sequence)| document::Position {
                    stream: stream.clone(),
                    sequence: *sequence,
                })
                .collect(),
            settings: document::Shaping {
                threshold: self.threshold,
                min_range: self.min_range,
                catalogue: self
                    .catalogue
                    .iter()
                    .map(|s| document::TableSpec {
                        name: s.name.clone(),
                        measure: s.measure.name().to_owned(),
                        by: s.by.iter().map(|d| d.name().to_owned()).collect(),
                    })
                    .collect(),
                gazetteer_sha256: self.gazetteer.sha256.clone(),
                publication: self.words.for_tables(&computed.tables),
            },
            earlier_releases: earlier
                .iter()
                .map(|e| document::EarlierRelease {
                    number: e.number,
                    document_sha256: e.document_sha256.clone(),
                })
                .collect(),
            tables_csv: document::tables_csv(&tables),
            tables,
            audit,
        };
        Ok((document, kept))
    }

    /// Every release, newest first, without tables.
    pub async fn list(&self) -> Result<Vec<pb::Release>, ReportingError> {
        store::files(&self.db)
            .await?
            .iter()
            .map(|file| read(file).map(|(d, sha, key)| to_pb(&d, &sha, &key, false)))
            .collect()
    }

    /// Release `number` with its tables.
    pub async fn get(&self, raw: i64) -> Result<pb::Release, ReportingError> {
        let (document, sha, key) = read(&self.signed_file(raw).await?)?;
        Ok(to_pb(&document, &sha, &key, true))
    }

    /// The public report of release `number`.
    pub async fn render(&self, raw: i64) -> Result<String, ReportingError> {
        let file = self.signed_file(raw).await?;
        let verified =
            document::verify(file.as_bytes(), None).context("a stored release does not verify")?;
        Ok(crate::report::published::document(
            &crate::report::published::Signed {
                document: &verified.document,
                document_sha256: &verified.document_sha256,
                public_key: &verified.public_key,
            },
        ))
    }

    /// The signed file of release `number`.
    pub async fn signed_file(&self, raw: i64) -> Result<String, ReportingError> {
        let number = number(raw)?;
        store::file(&self.db, number)
            .await?
            .ok_or(ReportingError::ReleaseNotFound(number))
    }
}

/// A stored file, read back (and checked: a stored release that no longer verifies is a fault).
fn read(file: &str) -> Result<(Document, String, String), ReportingError> {
    let verified =
        document::verify(file.as_bytes(), None).context("a stored release does not verify")?;
    Ok((
        verified.document,
        verified.document_sha256,
        verified.public_key,
    ))
}

fn to_pb(document: &Document, sha256: &str, public_key: &str, full: bool) -> pb::Release {
    let created_time = chrono::DateTime::parse_from_rfc3339(&document.created_time)
        .ok()
        .map(|t| docket_proto::timestamp(t.with_timezone(&chrono::Utc)));
    pb::Release {
        number: document.number,
        title: document.title.clone(),
        created_time,
        positions: document
            .positions
            .iter()
            .map(|p| pb::ReleasePosition {
                stream: p.stream.clone(),
                sequence: p.sequence,
            })
            .collect(),
        tables: if full {
            document
                .tables
                .iter()
                .map(|t| pb::ReleaseTable {
                    name: t.name.clone(),
                    measure: t.measure.clone(),
                    dimensions: t.dimensions.clone(),
                    cells: t
                        .cells
                        .iter()
                        .map(|c| pb::ReleaseCell {
                            keys: c.keys.clone(),
                            value: c.value,
                            withheld: c.withheld,
                        })
                        .collect(),
                })
                .collect()
        } else {
            Vec::new()
        },
        audit: full.then(|| pb::ReleaseAudit {
            threshold: document.audit.threshold,
            min_range: document.audit.min_range,
            primary_withheld: document.audit.primary_withheld,
            secondary_withheld: document.audit.secondary_withheld,
            cells: document
                .audit
                .cells
                .iter()
                .map(|c| pb::AuditedCell {
                    table: c.table.clone(),
                    keys: c.keys.clone(),
                    lower: c.lower,
                    upper: c.upper,
                })
                .collect(),
        }),
        document_sha256: sha256.to_owned(),
        public_key: public_key.to_owned(),
    }
}
