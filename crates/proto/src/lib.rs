//! The wire contract: code generated from `proto/`, the descriptor set that reflection serves,
//! and the conversions between wire messages and domain values.
//!
//! Conversions from the wire into the domain go through the domain's parsers, so a request that
//! converts is valid; each problem is reported with the path of the field in the request
//! (`allegation.victims[2].count`).

#![allow(missing_debug_implementations)] // generated service wrappers

mod convert;
/// Generated request messages for property tests and fuzzing; not built into the service.
#[cfg(feature = "generate")]
pub mod generate;

/// Generated code, one module per protobuf package.
pub mod docket {
    pub mod audit {
        pub mod v1 {
            tonic::include_proto!("docket.audit.v1");
        }
    }
    pub mod bench {
        pub mod v1 {
            tonic::include_proto!("docket.bench.v1");
        }
    }
    pub mod cases {
        pub mod v1 {
            tonic::include_proto!("docket.cases.v1");
        }
    }
    pub mod common {
        pub mod v1 {
            tonic::include_proto!("docket.common.v1");
        }
    }
    pub mod events {
        pub mod v1 {
            tonic::include_proto!("docket.events.v1");
        }
    }
    pub mod intake {
        pub mod v1 {
            tonic::include_proto!("docket.intake.v1");
        }
    }
    pub mod reporting {
        pub mod v1 {
            tonic::include_proto!("docket.reporting.v1");
        }
    }
}

pub use convert::describe;
pub use convert::{
    decode_enum, parse_case_content, parse_new_allegation, parse_received_allegation, parse_time,
    parse_uuid, timestamp,
};

/// The encoded `FileDescriptorSet` of every Docket proto file, for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("docket_descriptor");
