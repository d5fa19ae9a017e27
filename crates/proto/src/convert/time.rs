//! `google.protobuf.Timestamp` ⇄ `chrono::DateTime<Utc>`.

use chrono::{DateTime, Utc};
use prost_types::Timestamp;

/// The first second a `google.protobuf.Timestamp` may name: 0001-01-01T00:00:00Z.
const MIN_SECONDS: i64 = -62_135_596_800;
/// The last: 9999-12-31T23:59:59Z.
const MAX_SECONDS: i64 = 253_402_300_799;

/// The instant a wire timestamp names, or why it names none. Only the range the protobuf
/// contract gives a `Timestamp` is accepted, years 1 to 9999: chrono reaches further, SQLite
/// would store it, and PostgreSQL would refuse it (its timestamps start in 4713 BC) — the same
/// request must get the same answer on either database.
pub fn parse_time(timestamp: &Timestamp) -> Result<DateTime<Utc>, String> {
    let nanos = u32::try_from(timestamp.nanos)
        .ok()
        .filter(|nanos| *nanos < 1_000_000_000)
        .ok_or_else(|| format!("has nanos {} outside 0 to 999 999 999", timestamp.nanos))?;
    if !(MIN_SECONDS..=MAX_SECONDS).contains(&timestamp.seconds) {
        return Err(format!(
            "has seconds {} outside the years 1 to 9999 a timestamp may name",
            timestamp.seconds
        ));
    }
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
    fn only_the_years_1_to_9999_are_accepted() {
        let at = |seconds| parse_time(&Timestamp { seconds, nanos: 0 });
        assert!(at(MIN_SECONDS).is_ok());
        assert!(at(MAX_SECONDS).is_ok());
        assert!(at(MIN_SECONDS - 1).is_err());
        assert!(at(MAX_SECONDS + 1).is_err());
        // 5000 BC.
        assert!(at(-219_936_441_600).is_err());
        assert_eq!(
            at(MIN_SECONDS).unwrap().to_rfc3339(),
            "0001-01-01T00:00:00+00:00"
        );
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
