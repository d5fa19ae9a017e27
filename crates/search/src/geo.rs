//! Places on the globe: circles around a point, and distances.

use crate::Indexed;

/// A point and a radius, in degrees and kilometres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Circle {
    pub latitude: f64,
    pub longitude: f64,
    pub radius_km: f64,
}

impl Circle {
    /// Whether `doc`'s coordinates lie within the circle.
    pub fn contains(&self, doc: &Indexed) -> bool {
        match (doc.latitude, doc.longitude) {
            (Some(lat), Some(lon)) => km(self.latitude, self.longitude, lat, lon) <= self.radius_km,
            _ => false,
        }
    }

    /// The latitude/longitude box around the circle (clamped at the poles and the antimeridian).
    pub fn bounds(&self) -> (f64, f64, f64, f64) {
        let dlat = self.radius_km / 111.0;
        let cos = self.latitude.to_radians().cos().max(0.01);
        let dlon = self.radius_km / (111.32 * cos);
        (
            (self.latitude - dlat).max(-90.0),
            (self.longitude - dlon).max(-180.0),
            (self.latitude + dlat).min(90.0),
            (self.longitude + dlon).min(180.0),
        )
    }
}

/// Great-circle distance in kilometres.
pub fn km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6371.0 * a.sqrt().min(1.0).asin()
}
