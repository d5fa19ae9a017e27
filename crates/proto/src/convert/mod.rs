//! Conversions between wire messages and domain values, in both directions.

mod allegation;
mod enums;
mod time;

pub use allegation::parse_new_allegation;
pub use enums::decode_enum;
pub use time::{parse_time, timestamp};
