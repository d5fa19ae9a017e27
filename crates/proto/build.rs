//! Generates the Rust code and the reflection descriptor set from `proto/`. Needs no protoc on
//! the machine: the vendored one is used unless `PROTOC` names another.

use std::env;
use std::error::Error;
use std::path::PathBuf;

const PROTO_ROOT: &str = "../../proto";
const PROTOS: &[&str] = &[
    "docket/audit/v1/audit.proto",
    "docket/bench/v1/bench.proto",
    "docket/cases/v1/case.proto",
    "docket/cases/v1/case_service.proto",
    "docket/cases/v1/legal.proto",
    "docket/common/v1/history.proto",
    "docket/common/v1/incident.proto",
    "docket/events/v1/events.proto",
    "docket/intake/v1/content.proto",
    "docket/intake/v1/evidence.proto",
    "docket/intake/v1/intake.proto",
    "docket/reporting/v1/reporting.proto",
];

fn main() -> Result<(), Box<dyn Error>> {
    let root = PathBuf::from(PROTO_ROOT);
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);

    let mut config = tonic_prost_build::Config::new();
    // File chunks stay `Bytes`: handed from the wire to the hasher and the store without copies.
    config.bytes(["."]);
    if env::var_os("PROTOC").is_none() {
        config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);
    }
    let well_known = protoc_bin_vendored::include_path()?;
    let protos: Vec<PathBuf> = PROTOS.iter().map(|p| root.join(p)).collect();

    tonic_prost_build::configure()
        .file_descriptor_set_path(out_dir.join("docket_descriptor.bin"))
        .compile_with_config(config, &protos, &[root.clone(), well_known])?;

    println!("cargo:rerun-if-changed={PROTO_ROOT}");
    println!("cargo:rerun-if-env-changed=PROTOC");
    Ok(())
}
