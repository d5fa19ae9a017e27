//! `google.protobuf.Timestamp` ⇄ `chrono::DateTime<Utc>`.

use chrono::{DateTime, Utc};
use prost_types::Timestamp;

/// The instant a wire timestamp names, or why it names none.
pub fn parse_time(timestamp: &Timestamp) -> Result<DateTime<Utc>, String> {
    let nanos = u32::try_from(timestamp.nanos)
        .ok()
        .filter(|nanos| *nanos < 1_000_000_000)
        .ok_or_else(|| format!("has nanos {} outside 0 to 999 999 999", timestamp.nanos))?;
    DateTime::from_timestamp(timestamp.seconds, nanos).ok_or_else(|| {
        format!(
            "has seconds {} outside the supported range",
            timestamp.seconds
        )
    })
}

/// The wire form of an instant.
pub fn timestamp(time: DateTime<Utc>) -> Timestamp {
    Timestamp {
        seconds: time.timestamp(),
        // Always below 2 000 000 000 (leap seconds included), so it fits an i32.
        nanos: i32::try_from(time.timestamp_subsec_nanos()).unwrap_or(i32::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_round_trip_through_the_wire() {
        let time = DateTime::from_timestamp(1_602_345_600, 123_456_789).unwrap();
        assert_eq!(parse_time(&timestamp(time)), Ok(time));
    }

    #[test]
    fn out_of_range_nanos_are_refused() {
        assert!(
            parse_time(&Timestamp {
                seconds: 0,
                nanos: -1
            })
            .is_err()
        );
        assert!(
            parse_time(&Timestamp {
                seconds: 0,
                nanos: 1_000_000_000
            })
            .is_err()
        );
    }
}
