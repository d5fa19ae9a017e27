//! Near-duplicate lookups among many stored items: intake's in-memory perceptual hash index
//! filled with `items` contents (four in five pictures of one hash, one in five videos of 30
//! sampled seconds), then asked about altered copies of stored ones, one query at a time.
//!
//! Hashes are random 64-bit values, spread evenly; real pictures' hashes are not, so block
//! lists are longer in practice than here (the figure is of the index, not of the RPC, which
//! adds one read of the record and one of the candidates' records).

use std::time::Instant;

use docket_intake::{HashIndex, Media, rank};

/// The figures of the step.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Lookups {
    pub items: usize,
    pub hashes: usize,
    pub build_seconds: f64,
    pub picture_p50_ms: f64,
    pub picture_p99_ms: f64,
    pub video_p50_ms: f64,
    pub video_p99_ms: f64,
    /// Queries whose altered original was not the best candidate (should be 0).
    pub misses: usize,
}

const FRAMES: usize = 30;
const QUERIES: usize = 2_000;

struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// `hash` with `bits` of its bits flipped (some may flip back: at most `bits` apart).
    fn altered(&mut self, hash: u64, bits: u32) -> u64 {
        (0..bits).fold(hash, |h, _| h ^ (1 << (self.next() % 64)))
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Fills an index with `items` contents and times lookups of altered copies.
pub fn measure(items: usize) -> Lookups {
    let mut random = SplitMix(0x5eed);
    let started = Instant::now();
    let mut index = HashIndex::default();
    let mut stored: Vec<(String, Media, Vec<u64>)> = Vec::new();
    for item in 0..items {
        let (media, count) = if item % 5 == 4 {
            (Media::Video, FRAMES)
        } else {
            (Media::Image, 1)
        };
        let hashes: Vec<u64> = (0..count).map(|_| random.next()).collect();
        let sha256 = format!("{item:064x}");
        index.insert(&sha256, media, &hashes);
        // Every 49th: not a multiple of 5, so one query in five is a video.
        if item % 49 == 0 && stored.len() < QUERIES {
            stored.push((sha256, media, hashes));
        }
    }
    let build_seconds = started.elapsed().as_secs_f64();
    let (mut pictures, mut videos, mut misses) = (Vec::new(), Vec::new(), 0);
    for (sha256, media, hashes) in &stored {
        // A copy: each hash 0 to 8 bits off, a video trimmed by 5 seconds.
        let query: Vec<u64> = hashes
            .iter()
            .skip(if *media == Media::Video { 5 } else { 0 })
            .map(|hash| {
                let bits = (random.next() % 9) as u32;
                random.altered(*hash, bits)
            })
            .collect();
        let started = Instant::now();
        let found = rank(&index, *media, &query, "", 20);
        let ms = started.elapsed().as_secs_f64() * 1_000.0;
        if found.first().map(|c| c.sha256.as_str()) != Some(sha256.as_str()) {
            misses += 1;
        }
        match media {
            Media::Image => pictures.push(ms),
            Media::Video => videos.push(ms),
        }
    }
    pictures.sort_by(f64::total_cmp);
    videos.sort_by(f64::total_cmp);
    Lookups {
        items,
        hashes: index.hash_count(),
        build_seconds,
        picture_p50_ms: percentile(&pictures, 0.5),
        picture_p99_ms: percentile(&pictures, 0.99),
        video_p50_ms: percentile(&videos, 0.5),
        video_p99_ms: percentile(&videos, 0.99),
        misses,
    }
}
