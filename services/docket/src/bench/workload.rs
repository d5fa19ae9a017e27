//! The calls the benchmark makes.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use bytes::Bytes;
use docket_proto::docket::bench::v1 as bench;
use docket_proto::docket::bench::v1::bench_service_client::BenchServiceClient;
use docket_proto::docket::common::v1 as common;
use docket_proto::docket::intake::v1 as pb;
use docket_proto::docket::intake::v1::intake_service_client::IntakeServiceClient;
use docket_proto::docket::intake::v1::upload_evidence_request::Payload;
use sha2::{Digest, Sha256};
use tonic::metadata::MetadataValue;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use super::load::{self, Stats};

type Intake = IntakeServiceClient<InterceptedService<Channel, Bearer>>;

#[derive(Clone)]
pub struct Bearer(MetadataValue<tonic::metadata::Ascii>);

impl Bearer {
    pub fn new(token: &str) -> anyhow::Result<Self> {
        Ok(Self(format!("Bearer {token}").parse()?))
    }
}

impl tonic::service::Interceptor for Bearer {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        request
            .metadata_mut()
            .insert("authorization", self.0.clone());
        Ok(request)
    }
}

/// Upload throughput, in MB/s (10^6 bytes per second).
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Uploads {
    pub raw_sha256_mb_s: f64,
    pub bare_hashing_upload_mb_s: f64,
    /// The same bytes written to a file beside intake's evidence and made durable as intake
    /// makes a blob durable (one `fsync` of the file, then of its directory): the disk's own
    /// bound on any upload kept without weaker durability.
    pub durable_write_mb_s: f64,
    pub evidence_upload_mb_s: f64,
}

pub struct Workload {
    baseline: BenchServiceClient<Channel>,
    intake: Intake,
}

pub async fn connect(addr: SocketAddr) -> anyhow::Result<Channel> {
    Ok(Channel::from_shared(format!("http://{addr}"))?
        .tcp_nodelay(true)
        .http2_adaptive_window(true)
        .connect()
        .await?)
}

/// A submission of about 1.5 KB, as an NGO would send it.
fn allegation() -> pb::Allegation {
    pb::Allegation {
        channel: pb::Channel::NgoSubmission.into(),
        source: Some(pb::Source {
            name: "A witness of the shelling".into(),
            contact: "+994 50 000 00 00".into(),
            ..Default::default()
        }),
        narrative: "At about 02:00 several rockets hit a residential street. Two women were \
                    killed in their home and a boy of eight was injured by shrapnel. Neighbours \
                    saw the impacts and the fires that followed; the street had no military \
                    objects. "
            .repeat(4),
        language: "az".into(),
        incident_period: Some(common::IncidentPeriod {
            start_time: Some(prost_types::Timestamp {
                seconds: 1_602_381_600,
                nanos: 0,
            }),
            end_time: None,
            precision: common::TimePrecision::Hour.into(),
        }),
        location: Some(common::Location {
            place_name: "Ganja".into(),
            country_code: "AZ".into(),
            latitude: Some(40.68),
            longitude: Some(46.36),
            precision: common::LocationPrecision::Settlement.into(),
            ..Default::default()
        }),
        violation_types: vec![common::ViolationType::AttackOnCivilians.into()],
        alleged_perpetrators: vec![common::AllegedPerpetrator {
            party_code: "AM".into(),
            description: "rocket artillery".into(),
            ..Default::default()
        }],
        victims: vec![common::VictimGroup {
            count: 2,
            status: common::VictimStatus::Civilian.into(),
            harm: common::Harm::Killed.into(),
            age_group: common::AgeGroup::Adult.into(),
            sex: common::Sex::Female.into(),
            ..Default::default()
        }],
        source_urls: vec!["https://example.org/reports/ganja".into()],
        ..Default::default()
    }
}

impl Workload {
    pub async fn connect(
        baseline: SocketAddr,
        intake: SocketAddr,
        token: &str,
    ) -> anyhow::Result<Self> {
        let bearer = Bearer::new(token)?;
        Ok(Self {
            baseline: BenchServiceClient::new(connect(baseline).await?),
            intake: IntakeServiceClient::with_interceptor(connect(intake).await?, bearer),
        })
    }

    pub async fn echo(&self, concurrency: usize, duration: Duration) -> Stats {
        let client = self.baseline.clone();
        let payload = Bytes::from(vec![7u8; 1_500]);
        load::run(concurrency, duration, move |_, _| {
            let mut client = client.clone();
            let payload = payload.clone();
            async move {
                client
                    .echo(bench::EchoRequest { payload })
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        })
        .await
    }

    pub async fn submit(&self, concurrency: usize, duration: Duration) -> Stats {
        let client = self.intake.clone();
        let template = allegation();
        let run = uuid::Uuid::now_v7();
        load::run(concurrency, duration, move |worker, n| {
            let mut client = client.clone();
            let request = pb::SubmitAllegationRequest {
                request_id: format!("bench-{run}-{concurrency}-{worker}-{n}"),
                allegation: Some(template.clone()),
            };
            async move {
                client
                    .submit_allegation(request)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        })
        .await
    }

    /// The naive service's submissions, with the same allegation as [`Workload::submit`].
    pub async fn naive(&self, concurrency: usize, duration: Duration) -> Stats {
        let client = self.baseline.clone();
        let template = allegation();
        let run = uuid::Uuid::now_v7();
        load::run(concurrency, duration, move |worker, n| {
            let mut client = client.clone();
            let request = bench::NaiveSubmitRequest {
                request_id: format!("naive-{run}-{concurrency}-{worker}-{n}"),
                allegation: Some(template.clone()),
            };
            async move {
                client
                    .naive_submit(request)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        })
        .await
    }

    /// Times hashing, the bare hashing upload, a durable write into `dir` and `UploadEvidence`
    /// of the same `mib` MiB.
    pub async fn uploads(&self, mib: usize, dir: &Path) -> anyhow::Result<Uploads> {
        let file: Bytes = (0..mib * 1024 * 1024)
            .map(|i| (i % 251) as u8)
            .collect::<Vec<u8>>()
            .into();
        let chunks = || {
            (0..file.len())
                .step_by(1024 * 1024)
                .map(|at| file.slice(at..(at + 1024 * 1024).min(file.len())))
        };
        let megabytes = file.len() as f64 / 1e6;

        let started = Instant::now();
        let digest = hex::encode(Sha256::digest(&file));
        let raw = megabytes / started.elapsed().as_secs_f64();

        let started = Instant::now();
        let messages: Vec<_> = chunks()
            .map(|chunk| bench::HashUploadRequest { chunk })
            .collect();
        let answer = self
            .baseline
            .clone()
            .hash_upload(tokio_stream::iter(messages))
            .await?
            .into_inner();
        let bare = megabytes / started.elapsed().as_secs_f64();
        anyhow::ensure!(answer.sha256 == digest, "the baseline hashed differently");

        let durable = megabytes
            / tokio::task::spawn_blocking({
                let file = file.clone();
                let dir = dir.to_owned();
                move || durable_write(&file, &dir)
            })
            .await??;

        let mut intake = self.intake.clone();
        let allegation_id = intake
            .submit_allegation(pb::SubmitAllegationRequest {
                request_id: format!("bench-upload-{}", uuid::Uuid::now_v7()),
                allegation: Some(allegation()),
            })
            .await?
            .into_inner()
            .allegation
            .map(|a| a.id)
            .unwrap_or_default();
        let metadata = pb::EvidenceMetadata {
            allegation_id,
            file_name: "bench.bin".into(),
            declared_sha256: digest.clone(),
            collected_time: Some(prost_types::Timestamp {
                seconds: 1_603_000_000,
                nanos: 0,
            }),
            collected_by: "bench".into(),
            collection_method: pb::CollectionMethod::Other.into(),
            ..Default::default()
        };
        let mut messages = vec![pb::UploadEvidenceRequest {
            payload: Some(Payload::Metadata(metadata)),
        }];
        messages.extend(chunks().map(|chunk| pb::UploadEvidenceRequest {
            payload: Some(Payload::Chunk(chunk)),
        }));
        let started = Instant::now();
        let stored = intake
            .upload_evidence(tokio_stream::iter(messages))
            .await?
            .into_inner();
        let evidence = megabytes / started.elapsed().as_secs_f64();
        anyhow::ensure!(
            stored.evidence.is_some_and(|e| e.sha256 == digest),
            "the evidence was stored under another hash"
        );
        Ok(Uploads {
            raw_sha256_mb_s: raw,
            bare_hashing_upload_mb_s: bare,
            durable_write_mb_s: durable,
            evidence_upload_mb_s: evidence,
        })
    }
}

/// Writes `bytes` to a new file in `dir` in parts of 8 MiB (the parts intake writes), syncs the
/// file and the directory, removes it, and returns the seconds the write and syncs took.
fn durable_write(bytes: &[u8], dir: &Path) -> anyhow::Result<f64> {
    use std::io::Write as _;
    let path = dir.join(format!("bench-durable-{}", uuid::Uuid::now_v7()));
    let started = Instant::now();
    let mut out = std::fs::File::create(&path)?;
    for part in bytes.chunks(8 * 1024 * 1024) {
        out.write_all(part)?;
    }
    out.sync_all()?;
    std::fs::File::open(dir)?.sync_all()?;
    let seconds = started.elapsed().as_secs_f64();
    std::fs::remove_file(&path)?;
    Ok(seconds)
}
