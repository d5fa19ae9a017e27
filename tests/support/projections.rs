//! Comparing reporting instances: where each stands in the event streams, waiting until two have
//! applied the same events, and asking both the same question.

use std::time::Duration;

use docket_proto::docket::reporting::v1 as rep;

use crate::ReportingClient;

/// Where each stream stands: (stream, last sequence applied, lag).
pub async fn cursors(client: &mut ReportingClient) -> Vec<(String, i64, i64)> {
    client
        .get_projection_status(rep::GetProjectionStatusRequest {})
        .await
        .unwrap()
        .into_inner()
        .streams
        .into_iter()
        .map(|s| (s.stream, s.last_sequence, s.lag_events))
        .collect()
}

/// Waits, at most `within`, until both reportings have applied the same events of each stream,
/// with nothing left to apply, twice in a row (case management may still be opening cases, and
/// intake delivering again what case management lacked).
pub async fn caught_up_together(
    a: &mut ReportingClient,
    b: &mut ReportingClient,
    within: Duration,
) {
    let deadline = tokio::time::Instant::now() + within;
    let mut previous = None;
    loop {
        let now = (cursors(a).await, cursors(b).await);
        let settled = now.0 == now.1
            && now.0.iter().all(|(_, last, lag)| *last > 0 && *lag == 0)
            && previous.as_ref() == Some(&now);
        if settled {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the two reportings did not catch up: {now:?}"
        );
        previous = Some(now);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// The unfiltered answer without its time; `None` when the grouping does not apply to the
/// measure.
pub async fn statistics_without_time(
    client: &mut ReportingClient,
    measure: rep::Measure,
    group_by: &[rep::Dimension],
    audience: rep::Audience,
) -> Option<rep::QueryStatisticsResponse> {
    let answer = client
        .query_statistics(rep::QueryStatisticsRequest {
            measure: measure.into(),
            group_by: group_by.iter().map(|d| (*d).into()).collect(),
            filters: vec![],
            audience: audience.into(),
            include_uncounted: false,
        })
        .await;
    match answer {
        Ok(answer) => Some(rep::QueryStatisticsResponse {
            as_of: None,
            ..answer.into_inner()
        }),
        Err(status) if status.code() == tonic::Code::InvalidArgument => None,
        Err(status) => panic!("{measure:?} by {group_by:?}: {status:?}"),
    }
}
