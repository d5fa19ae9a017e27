//! `docket evidence upload FILE --allegation ID` (or `--case ID`, for material registered
//! directly to a case): the file's SHA-256 first, then a resumable session, written from the offset intake holds until the whole file is there. What a run
//! learned (the session and the hash) is kept beside the file in `FILE.docket-upload`, so a run
//! after a killed one neither hashes nor sends again what it did.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{Context, bail};
use bytes::BytesMut;
use clap::{Args, ValueEnum};
use docket_platform::Settings;
use docket_proto::docket::intake::v1 as pb;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Code;

use super::client::{Target, failed, worth_retrying};
use super::progress::Progress;
use super::{Connection, beside, hash_file};

const CHUNK_BYTES: usize = 1024 * 1024;
/// Attempts in a row that moved no byte before giving up.
const MAX_FRUITLESS_ATTEMPTS: u32 = 8;

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("owner").required(true).multiple(false))]
pub struct UploadArgs {
    /// The file to upload.
    file: PathBuf,
    /// The allegation it belongs to: its UUID or reference (ALG-YYYY-NNNNNN). Give this or
    /// `--case`.
    #[arg(long, value_name = "ID", group = "owner")]
    allegation: Option<String>,
    /// The case it is registered to directly, for material gathered during an investigation
    /// that came with no allegation: its UUID or reference (CASE-YYYY-NNNNNN). Give this or
    /// `--allegation`. Intake asks case management first: an unknown or closed case is refused
    /// before a byte is sent.
    #[arg(long = "case", value_name = "ID", group = "owner")]
    case: Option<String>,
    /// Who collected it. Default: the user running the command.
    #[arg(long)]
    collected_by: Option<String>,
    /// How it was collected.
    #[arg(long, value_enum, default_value_t = Method::Other)]
    collection_method: Method,
    /// The media type, such as video/mp4 (intake also detects it from the bytes).
    #[arg(long)]
    media_type: Option<String>,
    /// Where the file was found online.
    #[arg(long, value_name = "URL")]
    source_url: Option<String>,
    #[command(flatten)]
    connection: Connection,
}

/// How the file was collected (see `CollectionMethod` in the proto).
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Method {
    SourceSubmission,
    WebCapture,
    PlatformDownload,
    DeviceExtraction,
    OfficeRecording,
    AuthorityTransfer,
    Other,
}

impl From<Method> for pb::CollectionMethod {
    fn from(method: Method) -> Self {
        match method {
            Method::SourceSubmission => Self::SourceSubmission,
            Method::WebCapture => Self::WebCapture,
            Method::PlatformDownload => Self::PlatformDownload,
            Method::DeviceExtraction => Self::DeviceExtraction,
            Method::OfficeRecording => Self::OfficeRecording,
            Method::AuthorityTransfer => Self::AuthorityTransfer,
            Method::Other => Self::Other,
        }
    }
}

/// What a run leaves beside the file for the next: valid while the file is unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Resume {
    server: String,
    allegation: String,
    /// Empty in files written before uploads could name a case.
    case: String,
    size: u64,
    modified: String,
    sha256: String,
    upload_id: String,
}

impl Resume {
    fn read(path: &Path) -> Option<Self> {
        let text = std::fs::read_to_string(path).ok()?;
        let value = |key: &str| {
            text.lines()
                .find_map(|line| line.strip_prefix(&format!("{key}=")))
                .map(str::to_owned)
        };
        Some(Self {
            server: value("server")?,
            allegation: value("allegation")?,
            case: value("case").unwrap_or_default(),
            size: value("size")?.parse().ok()?,
            modified: value("modified")?,
            sha256: value("sha256")?,
            upload_id: value("upload_id").unwrap_or_default(),
        })
    }

    fn write(&self, path: &Path) {
        let text = format!(
            "server={}\nallegation={}\ncase={}\nsize={}\nmodified={}\nsha256={}\nupload_id={}\n",
            self.server,
            self.allegation,
            self.case,
            self.size,
            self.modified,
            self.sha256,
            self.upload_id
        );
        if let Err(error) = std::fs::write(path, text) {
            eprintln!(
                "cannot write {} ({error}): a later run will not resume this upload",
                path.display()
            );
        }
    }
}

pub async fn run(settings: &Settings, args: UploadArgs) -> anyhow::Result<()> {
    let target = Target::new(settings, &args.connection)?;
    let meta = std::fs::metadata(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    if !meta.is_file() {
        bail!("{} is not a file", args.file.display());
    }
    let size = meta.len();
    if size == 0 {
        bail!(
            "{} is empty: there is nothing to upload",
            args.file.display()
        );
    }
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map(|d| format!("{}.{:09}", d.as_secs(), d.subsec_nanos()))
        .unwrap_or_default();
    let state_path = beside(&args.file, ".docket-upload");
    let allegation = args.allegation.clone().unwrap_or_default();
    let case = args.case.clone().unwrap_or_default();
    let mut resume = match Resume::read(&state_path) {
        Some(resume)
            if resume.server == target.url
                && resume.allegation == allegation
                && resume.case == case
                && resume.size == size
                && resume.modified == modified =>
        {
            resume
        }
        _ => {
            let hashing = Progress::new("hashing", size);
            let sha256 = hash_file(&args.file, &hashing).await?;
            hashing.finish();
            let resume = Resume {
                server: target.url.clone(),
                allegation,
                case,
                size,
                modified,
                sha256,
                upload_id: String::new(),
            };
            resume.write(&state_path);
            resume
        }
    };
    let mut client = target.client();
    let progress = Progress::new("uploading", size);
    let mut fruitless = 0;
    let completed = loop {
        if resume.upload_id.is_empty() {
            let started = client
                .start_upload(pb::StartUploadRequest {
                    metadata: Some(metadata(&args, &resume)?),
                })
                .await;
            match started {
                Ok(answer) => {
                    resume.upload_id = answer.into_inner().upload_id;
                    resume.write(&state_path);
                }
                Err(status) if worth_retrying(&status) => {
                    fruitless = give_up_after(fruitless, &target.url, &status, &progress).await?;
                    continue;
                }
                Err(status) => return Err(failed(&target.url, &status)),
            }
        }
        let status = client
            .get_upload_status(pb::GetUploadStatusRequest {
                upload_id: resume.upload_id.clone(),
            })
            .await;
        let offset = match status {
            Ok(status) => u64::try_from(status.into_inner().received_bytes).unwrap_or_default(),
            Err(status) if status.code() == Code::NotFound => {
                progress.note("intake no longer holds the upload session: starting a new one");
                resume.upload_id.clear();
                continue;
            }
            Err(status) if worth_retrying(&status) => {
                fruitless = give_up_after(fruitless, &target.url, &status, &progress).await?;
                continue;
            }
            Err(status) => return Err(failed(&target.url, &status)),
        };
        progress.resume_at(offset);
        let messages = send_from(&args.file, &resume.upload_id, offset, size, &progress).await?;
        match client.write_upload(messages).await {
            Ok(answer) => {
                let answer = answer.into_inner();
                if let Some(completed) = answer.completed {
                    break completed;
                }
                fruitless = 0;
            }
            Err(status) if status.code() == Code::FailedPrecondition => {
                // Another offset than the one read (a stream still ending on the server).
                progress.note(&format!("{}; asking again", status.message()));
                fruitless = give_up_after(fruitless, &target.url, &status, &progress).await?;
            }
            Err(status) if worth_retrying(&status) => {
                let moved = progress_since(&client, &resume.upload_id, offset).await;
                if moved {
                    fruitless = 0;
                }
                progress.note(&format!(
                    "the upload broke off ({:?}: {}); resuming",
                    status.code(),
                    status.message()
                ));
                fruitless = give_up_after(fruitless, &target.url, &status, &progress).await?;
            }
            Err(status) if status.code() == Code::NotFound => {
                progress.note("intake no longer holds the upload session: starting a new one");
                resume.upload_id.clear();
            }
            Err(status) => {
                if status.code() == Code::InvalidArgument {
                    // The session is gone with its bytes (a hash mismatch): start afresh next time.
                    let _ = std::fs::remove_file(&state_path);
                }
                return Err(failed(&target.url, &status));
            }
        }
    };
    progress.finish();
    let _ = std::fs::remove_file(&state_path);
    let Some(evidence) = completed.evidence else {
        bail!("intake completed the upload but named no evidence");
    };
    if evidence.sha256 != resume.sha256 {
        bail!(
            "intake recorded SHA-256 {}, not the file's {}",
            evidence.sha256,
            resume.sha256
        );
    }
    eprintln!(
        "uploaded {} ({} bytes, SHA-256 {}) as evidence {}",
        args.file.display(),
        size,
        evidence.sha256,
        evidence.id
    );
    for earlier in &completed.same_content {
        if earlier.allegation_id.is_empty() {
            eprintln!(
                "the same bytes were uploaded before as evidence {} registered to case {}",
                earlier.id, earlier.case_id
            );
        } else {
            eprintln!(
                "the same bytes were uploaded before as evidence {} of allegation {}",
                earlier.id, earlier.allegation_id
            );
        }
    }
    println!("{}", evidence.id);
    Ok(())
}

/// Counts one more fruitless attempt and waits before the next, or gives up.
async fn give_up_after(
    fruitless: u32,
    url: &str,
    status: &tonic::Status,
    progress: &Progress,
) -> anyhow::Result<u32> {
    let fruitless = fruitless + 1;
    if fruitless > MAX_FRUITLESS_ATTEMPTS {
        return Err(failed(url, status)).context("giving up; run the command again to resume");
    }
    let wait = Duration::from_millis(250 * 2u64.pow(fruitless.min(6)));
    progress.note(&format!("trying again in {wait:?}"));
    tokio::time::sleep(wait).await;
    Ok(fruitless)
}

/// Whether the session holds more than `offset` bytes now.
async fn progress_since(client: &super::client::Client, upload_id: &str, offset: u64) -> bool {
    let mut client = client.clone();
    client
        .get_upload_status(pb::GetUploadStatusRequest {
            upload_id: upload_id.to_owned(),
        })
        .await
        .ok()
        .and_then(|s| u64::try_from(s.into_inner().received_bytes).ok())
        .is_some_and(|received| received > offset)
}

/// The messages of one `WriteUpload` stream: the file from `offset` on, read as they are sent.
async fn send_from(
    path: &Path,
    upload_id: &str,
    offset: u64,
    size: u64,
    progress: &Progress,
) -> anyhow::Result<ReceiverStream<pb::WriteUploadRequest>> {
    let mut file = tokio::fs::File::open(path)
        .await
        .with_context(|| format!("cannot open {}", path.display()))?;
    file.seek(std::io::SeekFrom::Start(offset)).await?;
    let (sender, receiver) = mpsc::channel(4);
    let (upload_id, progress) = (upload_id.to_owned(), progress.clone());
    tokio::spawn(async move {
        let mut position = offset;
        if position >= size {
            // Everything arrived: an empty message asks intake to complete the upload.
            let _ = sender
                .send(pb::WriteUploadRequest {
                    upload_id,
                    offset: i64::try_from(position).unwrap_or(i64::MAX),
                    chunk: bytes::Bytes::new(),
                })
                .await;
            return;
        }
        while position < size {
            let mut buffer = BytesMut::zeroed(CHUNK_BYTES);
            let read = match file.read(&mut buffer).await {
                Ok(0) | Err(_) => return, // the file shrank or broke: the stream ends short
                Ok(read) => read,
            };
            buffer.truncate(read);
            let message = pb::WriteUploadRequest {
                upload_id: upload_id.clone(),
                offset: i64::try_from(position).unwrap_or(i64::MAX),
                chunk: buffer.freeze(),
            };
            if sender.send(message).await.is_err() {
                return; // the call ended
            }
            position += read as u64;
            progress.advance(read as u64);
        }
    });
    Ok(ReceiverStream::new(receiver))
}

fn metadata(args: &UploadArgs, resume: &Resume) -> anyhow::Result<pb::EvidenceMetadata> {
    let file_name = args
        .file
        .file_name()
        .and_then(|n| n.to_str())
        .context("the file name is not valid UTF-8")?
        .to_owned();
    let collected_by = args
        .collected_by
        .clone()
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "docket evidence upload".to_owned());
    Ok(pb::EvidenceMetadata {
        allegation_id: resume.allegation.clone(),
        case_id: resume.case.clone(),
        file_name,
        media_type: args.media_type.clone().unwrap_or_default(),
        declared_sha256: resume.sha256.clone(),
        source_url: args.source_url.clone().unwrap_or_default(),
        captured_time: None,
        collected_time: Some(docket_proto::timestamp(chrono::Utc::now())),
        collected_by,
        collection_method: pb::CollectionMethod::from(args.collection_method).into(),
        derived_from_evidence_id: String::new(),
        declared_size_bytes: i64::try_from(resume.size).unwrap_or(i64::MAX),
    })
}
