//! Where and when a record says its events happened, as every service's documents keep it.

use docket_proto::docket::common::v1 as common;

/// A record's location and incident period, as an [`crate::Indexed`] holds them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Whereabouts {
    pub place_name: String,
    /// The place's words to search: its name and administrative area, those given.
    pub place_text: Vec<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// In seconds since the epoch; the end is the start when not given.
    pub period: Option<(i64, i64)>,
}

impl Whereabouts {
    pub fn of(
        location: Option<&common::Location>,
        period: Option<&common::IncidentPeriod>,
    ) -> Self {
        let mut found = Whereabouts {
            period: period.and_then(|p| {
                let start = p.start_time.as_ref()?.seconds;
                let end = p.end_time.as_ref().map_or(start, |t| t.seconds);
                Some((start, end))
            }),
            ..Whereabouts::default()
        };
        if let Some(location) = location {
            found.place_name.clone_from(&location.place_name);
            found.place_text = [&location.place_name, &location.admin_area]
                .into_iter()
                .filter(|s| !s.is_empty())
                .cloned()
                .collect();
            found.latitude = location.latitude;
            found.longitude = location.longitude;
        }
        found
    }
}
