//! Conversions between wire messages and domain values, in both directions.

mod allegation;
mod case;
mod delivery;
pub mod describe;
mod enums;
mod incident;
#[cfg(test)]
mod round_trip_properties;
mod time;

pub use allegation::parse_new_allegation;
pub use case::{parse_case_content, parse_received_allegation, parse_uuid};
pub use enums::decode_enum;
pub use time::{parse_time, timestamp};
