//! Near-duplicates: pictures and clips generated with ffmpeg, then re-encoded, resized, cropped
//! by 10 %, watermarked or trimmed, are found from one another by `FindSimilarEvidence`, and
//! unrelated ones are not: precision and recall of at least 0.95 each.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use docket_e2e::{
    Backend, IntakeClient, TestApp, allegation, field_violations, on_every_backend, submit_request,
};
use docket_platform::auth::Role;
use docket_proto::docket::intake::v1 as pb;
use tonic::Code;

use crate::evidence::{metadata, upload};

on_every_backend!(
    copies_of_pictures_and_clips_are_found_and_unrelated_ones_are_not,
    without_ffmpeg_pictures_are_hashed_and_videos_wait_for_it,
    a_similarity_question_must_name_evidence_and_a_sane_bound,
);

/// Runs ffmpeg with `args`, quietly; panics with its error output when it fails.
pub(crate) fn ffmpeg(args: &[&str]) {
    let output = Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg runs (Debian's `ffmpeg` package; .ci/run installs it)");
    assert!(
        output.status.success(),
        "ffmpeg {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Edits applied to an original: (name, video filter or extra arguments).
const PICTURE_EDITS: [(&str, &str); 4] = [
    ("resized", "scale=iw/2:ih/2"),
    ("cropped", "crop=iw*0.9:ih*0.9"),
    (
        "watermarked",
        "drawbox=x=12:y=12:w=iw/3:h=ih/8:color=white@0.8:t=fill",
    ),
    ("reencoded", "null"),
];

/// A group of files that are the same picture or clip; unrelated files are groups of one.
#[derive(Debug)]
struct Generated {
    /// File path, group.
    files: Vec<(std::path::PathBuf, usize)>,
}

fn pictures(dir: &Path) -> Generated {
    // Structured pictures: pure noise would be a poor test of a perceptual hash.
    let originals = [
        "testsrc2=size=320x240:rate=1",
        "mandelbrot=size=320x240:rate=1",
        "testsrc=size=320x240:rate=1",
        "nullsrc=size=320x240:rate=1,geq=lum='128+120*sin(hypot(X-160,Y-120)/30)':cb=128:cr=128",
        "nullsrc=size=320x240:rate=1,geq=lum='128+100*sin(X/17)*cos(Y/23)':cb=128:cr=128",
    ];
    let unrelated = [
        "smptehdbars=size=320x240:rate=1",
        "sierpinski=size=320x240:rate=1:seed=11",
        "nullsrc=size=320x240:rate=1,geq=lum='128+100*sin(X*Y/900)':cb=128:cr=128",
        "nullsrc=size=320x240:rate=1,geq=lum='255*gt(mod(X*X+Y*Y,5000),2500)':cb=128:cr=128",
        "nullsrc=size=320x240:rate=1,geq=lum='128+100*sin(hypot(X-50,Y-200)/20)':cb=128:cr=128",
    ];
    let mut files = Vec::new();
    for (group, source) in originals.iter().chain(unrelated.iter()).enumerate() {
        let original = dir.join(format!("p{group}.png"));
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            source,
            "-ss",
            "2",
            "-frames:v",
            "1",
            original.to_str().unwrap(),
        ]);
        files.push((original.clone(), group));
        if group >= originals.len() {
            continue;
        }
        for (name, filter) in PICTURE_EDITS {
            // Every copy is a JPEG, re-compressed hard: the bytes differ from the original's.
            let copy = dir.join(format!("p{group}-{name}.jpg"));
            ffmpeg(&[
                "-i",
                original.to_str().unwrap(),
                "-vf",
                filter,
                "-q:v",
                "12",
                copy.to_str().unwrap(),
            ]);
            files.push((copy, group));
        }
    }
    Generated { files }
}

fn clips(dir: &Path, first_group: usize) -> Generated {
    let originals = [
        "testsrc2=size=160x120:rate=10",
        "mandelbrot=size=160x120:rate=10",
        "nullsrc=size=160x120:rate=10,geq=lum='128+120*sin(hypot(X-80,Y-60)/12-T*0.8)':cb=128:cr=128",
        "nullsrc=size=160x120:rate=10,geq=lum='128+100*sin((X+4*T)/11)*cos(Y/13)':cb=128:cr=128",
    ];
    let unrelated = [
        "testsrc=size=160x120:rate=10",
        "smptehdbars=size=160x120:rate=10",
        "life=size=160x120:rate=10:seed=42:ratio=0.6:mold=5",
        "nullsrc=size=160x120:rate=10,geq=lum='255*gt(mod(X*X+Y*Y+2000*T,3000),1500)':cb=128:cr=128",
    ];
    let encode = [
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
    ];
    let mut files = Vec::new();
    for (n, source) in originals.iter().chain(unrelated.iter()).enumerate() {
        let group = first_group + n;
        let original = dir.join(format!("v{n}.mp4"));
        let mut args = vec!["-f", "lavfi", "-i", source, "-t", "8"];
        args.extend(encode);
        args.extend(["-crf", "23", original.to_str().unwrap()]);
        ffmpeg(&args);
        files.push((original.clone(), group));
        if n >= originals.len() {
            continue;
        }
        let edits: [(&str, &[&str]); 5] = [
            ("reencoded", &["-crf", "38"]),
            ("resized", &["-vf", "scale=96:72", "-crf", "30"]),
            ("cropped", &["-vf", "crop=iw*0.9:ih*0.9", "-crf", "30"]),
            (
                "watermarked",
                &[
                    "-vf",
                    "drawbox=x=6:y=6:w=iw/3:h=ih/8:color=white@0.8:t=fill",
                    "-crf",
                    "30",
                ],
            ),
            ("trimmed", &["-ss", "3", "-crf", "30"]),
        ];
        for (name, extra) in edits {
            let copy = dir.join(format!("v{n}-{name}.mp4"));
            let mut args = vec!["-i", original.to_str().unwrap()];
            args.extend_from_slice(extra);
            args.extend(encode);
            args.push(copy.to_str().unwrap());
            ffmpeg(&args);
            files.push((copy, group));
        }
    }
    Generated { files }
}

async fn new_allegation(intake: &mut IntakeClient) -> String {
    intake
        .submit_allegation(submit_request(allegation()))
        .await
        .unwrap()
        .into_inner()
        .allegation
        .unwrap()
        .id
}

/// Uploads `path` to `allegation_id`; returns the evidence id.
pub(crate) async fn upload_file(
    intake: &mut IntakeClient,
    allegation_id: &str,
    path: &Path,
) -> String {
    let bytes = std::fs::read(path).unwrap();
    let mut meta = metadata(allegation_id, "");
    meta.file_name = path.file_name().unwrap().to_string_lossy().into_owned();
    meta.media_type = String::new();
    upload(intake, meta, &bytes, 1024 * 1024)
        .await
        .unwrap()
        .evidence
        .unwrap()
        .id
}

/// Asks until the hashing of `id` is no longer pending.
pub(crate) async fn similar(
    intake: &mut IntakeClient,
    id: &str,
) -> pb::FindSimilarEvidenceResponse {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let answer = intake
            .find_similar_evidence(pb::FindSimilarEvidenceRequest {
                evidence_id: id.into(),
                max_candidates: 100,
            })
            .await
            .unwrap()
            .into_inner();
        if answer.hash_state() != pb::PerceptualHashState::Pending {
            return answer;
        }
        assert!(
            Instant::now() < deadline,
            "evidence {id} is still not hashed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn copies_of_pictures_and_clips_are_found_and_unrelated_ones_are_not(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut files = pictures(dir.path()).files;
    files.extend(clips(dir.path(), files.len()).files);
    let mut intake = app.intake_as(Role::Analyst).await;
    let allegation_id = new_allegation(&mut app.intake().await).await;
    let mut uploaded = Vec::new();
    for (path, group) in &files {
        let id = upload_file(&mut intake, &allegation_id, path).await;
        uploaded.push((
            id,
            *group,
            path.file_name().unwrap().to_string_lossy().into_owned(),
        ));
    }
    let by_id: HashMap<&str, (usize, &str)> = uploaded
        .iter()
        .map(|(id, group, name)| (id.as_str(), (*group, name.as_str())))
        .collect();
    // Every file hashed first: a question asked before the others are hashed cannot find them.
    for (id, _, _) in &uploaded {
        similar(&mut intake, id).await;
    }
    let (mut true_positives, mut false_positives, mut false_negatives) = (0, 0, 0);
    let mut mistakes = Vec::new();
    for (id, group, name) in &uploaded {
        let answer = similar(&mut intake, id).await;
        assert_eq!(
            answer.hash_state(),
            pb::PerceptualHashState::Hashed,
            "{name}: {}",
            answer.hash_state_detail
        );
        let found: BTreeSet<&str> = answer
            .candidates
            .iter()
            .flat_map(|c| c.evidence_ids.iter().map(String::as_str))
            .collect();
        assert!(
            !found.contains(id.as_str()),
            "{name} is not its own near-duplicate"
        );
        for (other, other_group, other_name) in &uploaded {
            if other == id {
                continue;
            }
            let expected = other_group == group;
            match (expected, found.contains(other.as_str())) {
                (true, true) => true_positives += 1,
                (true, false) => {
                    false_negatives += 1;
                    mistakes.push(format!("{name} missed {other_name}"));
                }
                (false, true) => {
                    false_positives += 1;
                    let candidate = answer
                        .candidates
                        .iter()
                        .find(|c| c.evidence_ids.contains(other))
                        .unwrap();
                    mistakes.push(format!(
                        "{name} wrongly found {other_name} ({:.1} bits, {:.2} of frames)",
                        candidate.distance_bits, candidate.matched_fraction
                    ));
                }
                (false, false) => {}
            }
        }
        for candidate in &answer.candidates {
            for other in &candidate.evidence_ids {
                assert!(
                    by_id.contains_key(other.as_str()),
                    "an unknown candidate {other}"
                );
            }
        }
    }
    let precision = f64::from(true_positives) / f64::from(true_positives + false_positives);
    let recall = f64::from(true_positives) / f64::from(true_positives + false_negatives);
    eprintln!(
        "{} files: precision {precision:.3}, recall {recall:.3}; {mistakes:#?}",
        uploaded.len()
    );
    assert!(precision >= 0.95, "precision {precision:.3}: {mistakes:#?}");
    assert!(recall >= 0.95, "recall {recall:.3}: {mistakes:#?}");
}

async fn without_ffmpeg_pictures_are_hashed_and_videos_wait_for_it(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |settings| {
        settings.intake.ffmpeg = "/nonexistent/ffmpeg".into();
    })
    .await
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let picture = dir.path().join("still.png");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=1",
        "-frames:v",
        "1",
        picture.to_str().unwrap(),
    ]);
    let clip = dir.path().join("clip.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=160x120:rate=10",
        "-t",
        "4",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        clip.to_str().unwrap(),
    ]);
    let mut intake = app.intake_as(Role::Analyst).await;
    let allegation_id = new_allegation(&mut app.intake().await).await;
    let still = upload_file(&mut intake, &allegation_id, &picture).await;
    let video = upload_file(&mut intake, &allegation_id, &clip).await;
    assert_eq!(
        similar(&mut intake, &still).await.hash_state(),
        pb::PerceptualHashState::Hashed
    );
    let answer = similar(&mut intake, &video).await;
    assert_eq!(answer.hash_state(), pb::PerceptualHashState::Unsupported);
    assert!(
        answer.hash_state_detail.contains("ffmpeg"),
        "{}",
        answer.hash_state_detail
    );

    // Started again with ffmpeg, the video set aside is hashed.
    let mut app = app;
    app.settings.intake.ffmpeg = "ffmpeg".into();
    let app = app.restart().await;
    let mut intake = app.intake_as(Role::Analyst).await;
    assert_eq!(
        similar(&mut intake, &video).await.hash_state(),
        pb::PerceptualHashState::Hashed
    );
    // And a plain file is never hashed, and says why.
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not a picture at all, only words about one").unwrap();
    let notes = upload_file(&mut intake, &allegation_id, &text).await;
    let answer = similar(&mut intake, &notes).await;
    assert_eq!(answer.hash_state(), pb::PerceptualHashState::NotHashable);
    assert!(answer.candidates.is_empty());
}

async fn a_similarity_question_must_name_evidence_and_a_sane_bound(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut intake = app.intake_as(Role::Analyst).await;
    let refused = intake
        .find_similar_evidence(pb::FindSimilarEvidenceRequest {
            evidence_id: "not-a-uuid".into(),
            max_candidates: 101,
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(
        field_violations(&refused),
        vec!["evidence_id".to_owned(), "max_candidates".to_owned()]
    );
    let refused = intake
        .find_similar_evidence(pb::FindSimilarEvidenceRequest {
            evidence_id: uuid::Uuid::now_v7().to_string(),
            max_candidates: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::NotFound);
}
