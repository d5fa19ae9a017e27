//! `docket.events.v1.EventService`.

use std::time::Duration;

use docket_proto::docket::events::v1 as pb;
use docket_proto::docket::events::v1::event_service_server::EventService;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use super::EventLog;
use crate::auth::{Access, MethodAccess, Role};
use crate::error;

/// Who may follow a service's events: other services, and supervisors.
pub const EVENT_ACCESS: &[MethodAccess] = &[(
    "StreamEvents",
    Access::Roles(&[Role::Service, Role::Supervisor]),
)];

/// Events read per query.
const BATCH: u64 = 500;
/// How often a caught-up follower looks again when no local commit woke it (events committed
/// by another replica).
const POLL: Duration = Duration::from_millis(250);
/// Events waiting to be sent to one reader.
const QUEUED: usize = 64;

/// The event stream of one service.
#[derive(Debug, Clone)]
pub struct EventApi {
    log: EventLog,
}

impl EventApi {
    pub fn new(log: EventLog) -> Self {
        Self { log }
    }
}

#[tonic::async_trait]
impl EventService for EventApi {
    type StreamEventsStream = ReceiverStream<Result<pb::StreamEventsResponse, Status>>;

    async fn stream_events(
        &self,
        request: Request<pb::StreamEventsRequest>,
    ) -> Result<Response<Self::StreamEventsStream>, Status> {
        let request = request.into_inner();
        if request.after_sequence < 0 {
            let violations =
                docket_domain::Violations::single("after_sequence", "must not be negative");
            return Err(error::invalid_argument(&violations));
        }
        let (sender, receiver) = mpsc::channel(QUEUED);
        let log = self.log.clone();
        tokio::spawn(async move {
            let mut after = request.after_sequence;
            loop {
                // Ask to be woken before reading, so a commit between the read and the wait is
                // not missed.
                let woken = log.notified();
                tokio::pin!(woken);
                woken.as_mut().enable();
                // The head is read after the events, so it is never behind them.
                let read = match log.read(after, BATCH).await {
                    Ok(events) => log.head().await.map(|head| (events, head)),
                    Err(cause) => Err(cause),
                };
                let (events, head) = match read {
                    Ok(read) => read,
                    Err(cause) => {
                        let _ = sender.send(Err(error::internal(&cause))).await;
                        return;
                    }
                };
                let caught_up = (events.len() as u64) < BATCH;
                for event in events {
                    after = event.sequence;
                    let message = pb::StreamEventsResponse {
                        event: Some(event),
                        head_sequence: head,
                    };
                    if sender.send(Ok(message)).await.is_err() {
                        return; // the reader went away
                    }
                }
                if caught_up {
                    if !request.follow {
                        return;
                    }
                    tokio::select! {
                        () = woken => {}
                        () = tokio::time::sleep(POLL) => {}
                        () = sender.closed() => return,
                    }
                }
            }
        });
        Ok(Response::new(ReceiverStream::new(receiver)))
    }
}
