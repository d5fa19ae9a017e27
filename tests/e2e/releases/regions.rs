//! Places mapped to regions by coordinates: a place the gazetteer does not know by name is
//! counted in the region whose area holds the incident's coordinates, or as `unknown` outside
//! every area; neither the place nor its coordinates reach the public.

use docket_e2e::{Backend, TestApp, on_every_backend, snapshot};
use docket_platform::auth::Role;
use docket_proto::docket::common::v1 as common;
use docket_reporting::release::document;
use sha2::{Digest, Sha256};

use super::{create, export, get, settled, victims};

on_every_backend!(places_unknown_by_name_count_in_the_region_holding_their_coordinates);

/// A gazetteer with one place by name and one region by area: a square around 39.5° N 45.5° E.
const GAZETTEER: &str = "place,region\nGanja,Ganja\n\nregion,area\n\
                         Hills,39 45; 39 46; 40 46; 40 45\n";

/// Delivers an incident at `place` and `coordinates` with `count` people injured.
async fn incident(app: &TestApp, number: u32, place: &str, coordinates: (f64, f64), count: i32) {
    let mut sent = snapshot(number);
    let location = sent.location.as_mut().unwrap();
    location.place_name = place.into();
    location.latitude = Some(coordinates.0);
    location.longitude = Some(coordinates.1);
    sent.victims = vec![victims(
        count,
        common::Harm::Injured,
        common::AgeGroup::Adult,
    )];
    docket_e2e::deliver(app, sent).await;
}

async fn places_unknown_by_name_count_in_the_region_holding_their_coordinates(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |settings| {
        let file = settings.data_dir.join("gazetteer.csv");
        std::fs::write(&file, GAZETTEER).unwrap();
        settings.reporting.release.gazetteer_file = Some(file);
    })
    .await
    else {
        return;
    };
    // Known by name: the name decides, wherever its coordinates are.
    incident(&app, 801, "Ganja, a courtyard", (39.5, 45.5), 11).await;
    // Unknown by name, inside the Hills' area.
    incident(&app, 802, "A farm below the ridge", (39.25, 45.75), 20).await;
    // Unknown by name, outside every area.
    incident(&app, 803, "A farm by the sea", (41.5, 49.0), 13).await;
    settled(&app, None, 3).await;

    create(&mut app.reporting_as(Role::Supervisor).await, "Regions")
        .await
        .unwrap();
    let mut public = app.reporting_as(Role::PublicReporter).await;
    let release = get(&mut public, 1).await;
    let by_region: Vec<(String, i64, bool)> = release
        .tables
        .iter()
        .find(|t| t.name == "victims_by_region")
        .expect("the default catalogue has victims by region")
        .cells
        .iter()
        .map(|c| (c.keys.join("/"), c.value, c.withheld))
        .collect();
    assert_eq!(
        by_region,
        [
            ("Ganja".to_owned(), 11, false),
            ("Hills".to_owned(), 20, false),
            ("unknown".to_owned(), 13, false),
        ]
    );

    // The signed file names the gazetteer that shaped it, and shows no place or coordinate.
    let file = export(&mut public, 1).await;
    let verified = document::verify(&file, None).unwrap();
    assert_eq!(
        verified.document.settings.gazetteer_sha256,
        hex::encode(Sha256::digest(GAZETTEER.as_bytes()))
    );
    let text = String::from_utf8(file).unwrap();
    for secret in [
        "courtyard",
        "farm",
        "ridge",
        "39.25",
        "45.75",
        "41.5",
        "49.0",
    ] {
        assert!(!text.contains(secret), "{secret:?} is in the release");
    }
    app.stop().await;
}
