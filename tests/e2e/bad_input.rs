//! Every rule about bad input: `INVALID_ARGUMENT`, a `google.rpc.BadRequest` naming each bad
//! field, and nothing written.

use docket_e2e::{
    Backend, TestApp, allegation, field_violations, on_every_backend, submit_request,
};
use docket_proto::docket::common::v1 as common;
use docket_proto::docket::intake::v1 as pb;
use tonic::Code;

use crate::submission::count;

on_every_backend!(
    each_bad_submission_is_refused_field_by_field_and_writes_nothing,
    a_party_outside_the_configured_list_is_refused,
    bad_reads_and_triage_requests_name_their_fields,
    what_only_one_database_could_store_is_refused_on_both,
);

fn timestamp(seconds: i64) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp { seconds, nanos: 0 })
}

/// 1 January 5000 BC: chrono and SQLite take it, PostgreSQL does not.
const YEAR_5000_BC: i64 = -219_936_441_600;

fn now_seconds() -> i64 {
    chrono::Utc::now().timestamp()
}

type Mutation = fn(&mut pb::SubmitAllegationRequest);

/// Each bad submission, the fields it must be refused for.
fn cases() -> Vec<(&'static str, Mutation, Vec<&'static str>)> {
    fn a(request: &mut pb::SubmitAllegationRequest) -> &mut pb::Allegation {
        request.allegation.as_mut().unwrap()
    }
    vec![
        (
            "no request id",
            |r| r.request_id.clear(),
            vec!["request_id"],
        ),
        (
            "a request id with spaces",
            |r| r.request_id = "a b".into(),
            vec!["request_id"],
        ),
        ("no allegation", |r| r.allegation = None, vec!["allegation"]),
        (
            "an empty narrative",
            |r| a(r).narrative.clear(),
            vec!["allegation.narrative"],
        ),
        (
            "a blank narrative",
            |r| a(r).narrative = " \n\t ".into(),
            vec!["allegation.narrative"],
        ),
        (
            "a narrative over 100 000 characters",
            |r| a(r).narrative = "ş".repeat(100_001),
            vec!["allegation.narrative"],
        ),
        (
            "a latitude beyond 90",
            |r| a(r).location.as_mut().unwrap().latitude = Some(90.5),
            vec!["allegation.location.latitude"],
        ),
        (
            "a longitude beyond -180",
            |r| a(r).location.as_mut().unwrap().longitude = Some(-180.01),
            vec!["allegation.location.longitude"],
        ),
        (
            "an end before the start",
            |r| {
                let period = a(r).incident_period.as_mut().unwrap();
                period.end_time = timestamp(period.start_time.unwrap().seconds - 60);
            },
            vec!["allegation.incident_period.end_time"],
        ),
        (
            "an incident in the future",
            |r| {
                let period = a(r).incident_period.as_mut().unwrap();
                period.start_time = timestamp(now_seconds() + 86_400);
                period.end_time = None;
            },
            vec!["allegation.incident_period.start_time"],
        ),
        (
            "a zero victim count",
            |r| a(r).victims[0].count = 0,
            vec!["allegation.victims[0].count"],
        ),
        (
            "a negative victim count",
            |r| a(r).victims[1].count = -4,
            vec!["allegation.victims[1].count"],
        ),
        (
            "an unspecified channel",
            |r| a(r).channel = 0,
            vec!["allegation.channel"],
        ),
        (
            "a channel number the contract lacks",
            |r| a(r).channel = 99,
            vec!["allegation.channel"],
        ),
        (
            "an unspecified harm",
            |r| a(r).victims[1].harm = common::Harm::Unspecified.into(),
            vec!["allegation.victims[1].harm"],
        ),
        (
            "an unspecified violation type",
            |r| a(r).violation_types = vec![0],
            vec!["allegation.violation_types[0]"],
        ),
        (
            "no violation type",
            |r| a(r).violation_types.clear(),
            vec!["allegation.violation_types"],
        ),
        (
            "a location without precision",
            |r| a(r).location.as_mut().unwrap().precision = 0,
            vec!["allegation.location.precision"],
        ),
        (
            "a malformed party code",
            |r| a(r).alleged_perpetrators[0].party_code = "am".into(),
            vec!["allegation.alleged_perpetrators[0].party_code"],
        ),
        (
            "a malformed victims' side",
            |r| a(r).victims[0].affiliation_party_code = "az".into(),
            vec!["allegation.victims[0].affiliation_party_code"],
        ),
        (
            "an age band for adults",
            |r| a(r).victims[0].age_band = common::AgeBand::Under5.into(),
            vec!["allegation.victims[0].age_band"],
        ),
        (
            "an age band the contract lacks",
            |r| a(r).victims[1].age_band = 99,
            vec!["allegation.victims[1].age_band"],
        ),
        (
            "more than 100 victim groups",
            |r| {
                let group = a(r).victims[0].clone();
                a(r).victims = vec![group; 101];
            },
            vec!["allegation.victims"],
        ),
        (
            "more than 100 source URLs",
            |r| a(r).source_urls = vec!["https://example.org/".into(); 101],
            vec!["allegation.source_urls"],
        ),
        (
            "a URL that does not parse",
            |r| a(r).source_urls = vec!["https://exa mple.org/x".into()],
            vec!["allegation.source_urls[0]"],
        ),
        (
            "a URL that is not http",
            |r| a(r).source_urls = vec!["ok".into(), "ftp://example.org/x".into()],
            vec!["allegation.source_urls[0]", "allegation.source_urls[1]"],
        ),
        (
            "an anonymous source with a name",
            |r| a(r).source.as_mut().unwrap().anonymous = true,
            vec!["allegation.source.name", "allegation.source.contact"],
        ),
        (
            "an identified source without a name",
            |r| a(r).source.as_mut().unwrap().name.clear(),
            vec!["allegation.source.name"],
        ),
        (
            "a malformed language",
            |r| a(r).language = "azerbaijani".into(),
            vec!["allegation.language"],
        ),
        (
            "a lower-case country code",
            |r| a(r).location.as_mut().unwrap().country_code = "az".into(),
            vec!["allegation.location.country_code"],
        ),
        // PostgreSQL refuses a NUL in text and a year before 4713 BC where SQLite stores them:
        // both must refuse them alike, before writing anything.
        (
            "a NUL in the narrative",
            |r| a(r).narrative.push('\0'),
            vec!["allegation.narrative"],
        ),
        (
            "a NUL in a place name",
            |r| a(r).location.as_mut().unwrap().place_name = "Ganja\0".into(),
            vec!["allegation.location.place_name"],
        ),
        (
            "a NUL in a unit",
            |r| a(r).alleged_perpetrators[0].unit = "\0".into(),
            vec!["allegation.alleged_perpetrators[0].unit"],
        ),
        (
            "a NUL in the source's name",
            |r| a(r).source.as_mut().unwrap().name = "Leyla\0Mammadova".into(),
            vec!["allegation.source.name"],
        ),
        (
            "another control character in a description",
            |r| a(r).alleged_perpetrators[0].description = "rocket\u{1b}[31m artillery".into(),
            vec!["allegation.alleged_perpetrators[0].description"],
        ),
        (
            "an incident in 5000 BC",
            |r| {
                let period = a(r).incident_period.as_mut().unwrap();
                period.start_time = timestamp(YEAR_5000_BC);
                period.end_time = None;
            },
            vec!["allegation.incident_period.start_time"],
        ),
        (
            "an incident ending after the year 9999",
            |r| a(r).incident_period.as_mut().unwrap().end_time = timestamp(253_402_300_800),
            vec!["allegation.incident_period.end_time"],
        ),
        (
            "several faults at once",
            |r| {
                a(r).narrative.clear();
                a(r).victims[0].count = 0;
                a(r).location.as_mut().unwrap().latitude = Some(-91.0);
            },
            vec![
                "allegation.narrative",
                "allegation.location.latitude",
                "allegation.victims[0].count",
            ],
        ),
    ]
}

async fn each_bad_submission_is_refused_field_by_field_and_writes_nothing(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut intake = app.intake().await;
    for (case, mutate, expected) in cases() {
        let mut request = submit_request(allegation());
        mutate(&mut request);
        let status = intake.submit_allegation(request).await.expect_err(case);
        assert_eq!(status.code(), Code::InvalidArgument, "{case}: {status:?}");
        assert_eq!(
            field_violations(&status),
            expected,
            "{case}: {}",
            status.message()
        );
    }
    assert_eq!(count(&app).await, 0, "no bad submission may be stored");

    // The limits themselves are allowed.
    let mut at_the_limits = allegation();
    at_the_limits.narrative = "ş".repeat(100_000);
    at_the_limits.location.as_mut().unwrap().latitude = Some(-90.0);
    at_the_limits.location.as_mut().unwrap().longitude = Some(180.0);
    at_the_limits.source_urls = vec!["https://example.org/".into(); 100];
    intake
        .submit_allegation(submit_request(at_the_limits))
        .await
        .unwrap();
    assert_eq!(count(&app).await, 1);
    app.stop().await;
}

async fn a_party_outside_the_configured_list_is_refused(backend: Backend) {
    let parties = |s: &mut docket_platform::Settings| {
        s.parties = vec!["AZ".into(), "AM".into(), "AM-NK".into()];
    };
    let Some(app) = TestApp::spawn_with(backend, parties).await else {
        return;
    };
    let mut intake = app.intake().await;
    let mut sent = allegation();
    sent.alleged_perpetrators.push(common::AllegedPerpetrator {
        party_code: "RU".into(),
        ..Default::default()
    });
    let status = intake
        .submit_allegation(submit_request(sent))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        field_violations(&status),
        ["allegation.alleged_perpetrators[1].party_code"]
    );
    let mut sent = allegation();
    sent.alleged_perpetrators[0].party_code = "AM-NK".into();
    intake
        .submit_allegation(submit_request(sent))
        .await
        .unwrap();
    assert_eq!(count(&app).await, 1);
    app.stop().await;
}

async fn bad_reads_and_triage_requests_name_their_fields(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut intake = app.intake().await;
    let id = intake
        .submit_allegation(submit_request(allegation()))
        .await
        .unwrap()
        .into_inner()
        .allegation
        .unwrap()
        .id;

    let get = intake
        .get_allegation(pb::GetAllegationRequest {
            id: "ALG-2026-1".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(field_violations(&get), ["id"]);
    let list = intake
        .list_allegations(pb::ListAllegationsRequest {
            page_size: -1,
            party_code: "a m".into(),
            received_after: timestamp(now_seconds()),
            received_before: timestamp(now_seconds() - 10),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        field_violations(&list),
        ["page_size", "party_code", "received_before"]
    );
    let review = intake
        .start_review(pb::StartReviewRequest { id: "42".into() })
        .await
        .unwrap_err();
    assert_eq!(field_violations(&review), ["id"]);
    let reject = intake
        .reject_allegation(pb::RejectAllegationRequest {
            id: id.clone(),
            reason: "  ".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(field_violations(&reject), ["reason"]);
    let duplicate = intake
        .mark_duplicate(pb::MarkDuplicateRequest {
            id: id.clone(),
            duplicate_of_id: id.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(field_violations(&duplicate), ["duplicate_of_id"]);
    for status in [get, list, review, reject, duplicate] {
        assert_eq!(status.code(), Code::InvalidArgument);
    }

    // Nothing moved.
    let still = intake
        .get_allegation(pb::GetAllegationRequest { id })
        .await
        .unwrap()
        .into_inner()
        .allegation
        .unwrap();
    assert_eq!(still.status(), pb::AllegationStatus::Received);
    app.stop().await;
}

/// Input SQLite would store and PostgreSQL refuse (a NUL in text, a year before 4713 BC), or
/// that would mislead whoever reads it (a file name reversed by a bidirectional control), in
/// the other requests: a list filter, an upload's metadata (refused before a byte is stored),
/// a case opened by hand. The same answer on both databases, and nothing written.
async fn what_only_one_database_could_store_is_refused_on_both(backend: Backend) {
    use docket_proto::docket::intake::v1::upload_evidence_request::Payload;
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut intake = app.intake().await;
    let list = intake
        .list_allegations(pb::ListAllegationsRequest {
            received_after: timestamp(YEAR_5000_BC),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(list.code(), Code::InvalidArgument, "{list:?}");
    assert_eq!(field_violations(&list), ["received_after"]);

    let allegation_id = intake
        .submit_allegation(submit_request(allegation()))
        .await
        .unwrap()
        .into_inner()
        .allegation
        .unwrap()
        .id;
    let metadata = pb::EvidenceMetadata {
        allegation_id: allegation_id.clone(),
        file_name: "video.mp4".into(),
        collected_time: timestamp(1_603_000_000),
        collected_by: "analyst.petrosyan".into(),
        collection_method: pb::CollectionMethod::PlatformDownload.into(),
        ..Default::default()
    };
    let uploads = [
        (
            "a NUL in who collected it",
            pb::EvidenceMetadata {
                collected_by: "analyst\0petrosyan".into(),
                ..metadata.clone()
            },
            "metadata.collected_by",
        ),
        (
            "a right-to-left override in the file name",
            pb::EvidenceMetadata {
                file_name: "CON\u{202e}gpj.exe".into(),
                ..metadata.clone()
            },
            "metadata.file_name",
        ),
        (
            "a zero-width space in the file name",
            pb::EvidenceMetadata {
                file_name: "video\u{200b}.mp4".into(),
                ..metadata.clone()
            },
            "metadata.file_name",
        ),
        (
            "a collection in 5000 BC",
            pb::EvidenceMetadata {
                collected_time: timestamp(YEAR_5000_BC),
                ..metadata.clone()
            },
            "metadata.collected_time",
        ),
    ];
    for (case, metadata, field) in uploads {
        let status = intake
            .upload_evidence(tokio_stream::iter([
                pb::UploadEvidenceRequest {
                    payload: Some(Payload::Metadata(metadata)),
                },
                pb::UploadEvidenceRequest {
                    payload: Some(Payload::Chunk(b"a video".to_vec().into())),
                },
            ]))
            .await
            .expect_err(case);
        assert_eq!(status.code(), Code::InvalidArgument, "{case}: {status:?}");
        assert_eq!(field_violations(&status), [field], "{case}");
    }
    let evidence = intake
        .list_evidence(pb::ListEvidenceRequest {
            allegation_id,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .evidence;
    assert!(evidence.is_empty(), "no record of a refused upload");
    let blobs = app.settings.data_dir.join("blobs/sha256");
    assert!(
        std::fs::read_dir(&blobs).map_or(true, |mut d| d.next().is_none()),
        "a refused upload left a file"
    );

    let mut cases = app.cases().await;
    let mut case = docket_e2e::case_message("Execution of prisoners\0of war", "AZ");
    case.summary = "Opened\0".into();
    let status = cases
        .open_case(docket_proto::docket::cases::v1::OpenCaseRequest { r#case: Some(case) })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert_eq!(field_violations(&status), ["case.title", "case.summary"]);
    app.stop().await;
}
