//! What the bytes themselves say: the media type by magic numbers (never trusting the
//! uploader's claim), and an image's EXIF capture time and GPS position. Only the first bytes of
//! a file are read, and the stored bytes are never changed.

use std::io::Cursor;

/// How many leading bytes of an upload are kept for extraction: enough for magic numbers and for
/// the EXIF segment, which JPEG and TIFF place near the start.
pub const PREFIX_BYTES: usize = 256 * 1024;

/// What was extracted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extracted {
    pub media_type: Option<String>,
    pub exif_capture_time: Option<String>,
    pub exif_position: Option<(f64, f64)>,
}

/// Extracts what it can from the first bytes of a file.
pub fn extract(prefix: &[u8]) -> Extracted {
    let media_type = infer::get(prefix).map(|kind| kind.mime_type().to_owned());
    let mut extracted = Extracted {
        media_type,
        ..Extracted::default()
    };
    let Ok(exif) = exif::Reader::new().read_from_container(&mut Cursor::new(prefix)) else {
        return extracted;
    };
    extracted.exif_capture_time = exif
        .get_field(exif::Tag::DateTimeOriginal, exif::In::PRIMARY)
        .or_else(|| exif.get_field(exif::Tag::DateTime, exif::In::PRIMARY))
        .map(|field| field.display_value().to_string());
    let coordinate = |value: exif::Tag, reference: exif::Tag, negative: &str| {
        let exif::Value::Rational(parts) = &exif.get_field(value, exif::In::PRIMARY)?.value else {
            return None;
        };
        let [d, m, s] = parts.as_slice() else {
            return None;
        };
        let degrees = d.to_f64() + m.to_f64() / 60.0 + s.to_f64() / 3600.0;
        let sign = exif
            .get_field(reference, exif::In::PRIMARY)
            .map(|f| f.display_value().to_string())
            .filter(|r| r.eq_ignore_ascii_case(negative))
            .map_or(1.0, |_| -1.0);
        Some(sign * degrees)
    };
    extracted.exif_position = coordinate(exif::Tag::GPSLatitude, exif::Tag::GPSLatitudeRef, "S")
        .zip(coordinate(
            exif::Tag::GPSLongitude,
            exif::Tag::GPSLongitudeRef,
            "W",
        ))
        .filter(|(lat, lon)| (-90.0..=90.0).contains(lat) && (-180.0..=180.0).contains(lon));
    extracted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_png_is_recognised_by_its_bytes() {
        let png = [
            0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R',
        ];
        assert_eq!(extract(&png).media_type.as_deref(), Some("image/png"));
    }

    #[test]
    fn unknown_bytes_yield_nothing() {
        assert_eq!(extract(b"just some text"), Extracted::default());
    }
}
