//! Perceptual hashes of the bytes: a 64-bit gradient hash (dHash) of an image, or of frames of
//! a video that `ffmpeg` samples at one a second into a private temporary directory.
//!
//! dHash, because it separates best here (ECOSYSTEM.md: a resized, re-compressed copy 0 bits
//! off, an unrelated picture 39; pHash 1 and 18). A frame with almost no gradient (black, one
//! flat colour) hashes to nearly all zeros and would look like every other such frame: it is
//! left out.

use std::io::Cursor;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use image_hasher::{HashAlg, HasherConfig};

use super::index::Media;

/// Frames sampled from one video at most: its first ten minutes at one a second.
pub const MAX_FRAMES: usize = 600;
/// An image larger than this is not decoded (a decompression bomb stays a file).
pub const MAX_IMAGE_BYTES: u64 = 256 * 1024 * 1024;
/// How long ffmpeg may take over one video.
const FFMPEG_TIMEOUT: Duration = Duration::from_secs(600);
/// Hashes with fewer set bits than this (or as few unset) say nothing about the picture.
const MIN_INFORMATIVE_BITS: u32 = 4;

/// Why bytes were not hashed.
#[derive(Debug, thiserror::Error)]
pub enum NotHashed {
    /// Not a picture or video this service hashes: nothing to do, ever.
    #[error("{0}")]
    NotMedia(String),
    /// A video, but ffmpeg is missing: it can be hashed once ffmpeg is installed.
    #[error("video not hashed: ffmpeg cannot be run ({0})")]
    NoFfmpeg(String),
    /// Something failed that may work another time.
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

/// What a media type says the bytes are, if they are hashed at all.
pub fn media_of(media_type: Option<&str>) -> Result<Media, NotHashed> {
    match media_type {
        Some("image/png" | "image/jpeg") => Ok(Media::Image),
        Some(video) if video.starts_with("video/") => Ok(Media::Video),
        Some(other) => Err(NotHashed::NotMedia(format!(
            "not hashed: {other} is not a picture (PNG, JPEG) or a video"
        ))),
        None => Err(NotHashed::NotMedia(
            "not hashed: the media type of the bytes is unknown".to_owned(),
        )),
    }
}

fn hasher() -> image_hasher::Hasher {
    HasherConfig::new()
        .hash_alg(HashAlg::Gradient)
        .hash_size(8, 8)
        .to_hasher()
}

fn informative(hash: u64) -> bool {
    let ones = hash.count_ones();
    (MIN_INFORMATIVE_BITS..=64 - MIN_INFORMATIVE_BITS).contains(&ones)
}

/// The 64-bit dHash of a decoded image.
fn hash_of(hasher: &image_hasher::Hasher, image: &image::DynamicImage) -> u64 {
    let hash = hasher.hash_image(image);
    let mut bytes = [0u8; 8];
    for (to, from) in bytes.iter_mut().zip(hash.as_bytes()) {
        *to = *from;
    }
    u64::from_be_bytes(bytes)
}

fn decode(bytes: &[u8]) -> anyhow::Result<image::DynamicImage> {
    let mut reader = image::ImageReader::new(Cursor::new(bytes)).with_guessed_format()?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(20_000);
    limits.max_image_height = Some(20_000);
    limits.max_alloc = Some(MAX_IMAGE_BYTES);
    reader.limits(limits);
    Ok(reader.decode()?)
}

/// The hash of the picture in `bytes` (CPU-bound: run it off the async threads).
pub fn hash_image(bytes: &[u8]) -> Result<Vec<u64>, NotHashed> {
    let image = decode(bytes).map_err(|error| {
        NotHashed::NotMedia(format!(
            "not hashed: the picture cannot be decoded ({error})"
        ))
    })?;
    let hash = hash_of(&hasher(), &image);
    if informative(hash) {
        Ok(vec![hash])
    } else {
        Err(NotHashed::NotMedia(
            "not hashed: the picture is nearly flat, its hash would match any other".to_owned(),
        ))
    }
}

/// The hashes of frames of the video in the file `video`, sampled by `ffmpeg` into `frames` (a
/// private directory), in order.
pub async fn hash_video(ffmpeg: &str, video: &Path, frames: &Path) -> Result<Vec<u64>, NotHashed> {
    let mut command = tokio::process::Command::new(ffmpeg);
    command
        .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-i"])
        .arg(video)
        // One frame a second, made small and grey here: the hash looks at 9×8 pixels anyway.
        .args([
            "-vf",
            "fps=1,scale=64:64:flags=area,format=gray",
            "-frames:v",
            &MAX_FRAMES.to_string(),
            "-f",
            "image2",
        ])
        .arg(frames.join("f%05d.png"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = match command.spawn() {
        Ok(child) => child,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(NotHashed::NoFfmpeg(format!("{ffmpeg}: not found")));
        }
        Err(error) if error.kind() == std::io::ErrorKind::PermissionDenied => {
            return Err(NotHashed::NoFfmpeg(format!("{ffmpeg}: {error}")));
        }
        Err(error) => return Err(anyhow::anyhow!("cannot start {ffmpeg}: {error}").into()),
    };
    let output = tokio::time::timeout(FFMPEG_TIMEOUT, child.wait_with_output())
        .await
        .map_err(|_| anyhow::anyhow!("ffmpeg took longer than {FFMPEG_TIMEOUT:?}"))?
        .map_err(|error| anyhow::anyhow!("ffmpeg: {error}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr.lines().last().unwrap_or("").chars().take(300);
        return Err(NotHashed::NotMedia(format!(
            "not hashed: ffmpeg cannot read the video ({}: {})",
            output.status,
            last.collect::<String>()
        )));
    }
    let frames = frames.to_owned();
    let hashes = tokio::task::spawn_blocking(move || hash_frames(&frames))
        .await
        .map_err(|error| anyhow::anyhow!("hashing frames: {error}"))??;
    if hashes.is_empty() {
        return Err(NotHashed::NotMedia(
            "not hashed: the video has no frame with detail to hash".to_owned(),
        ));
    }
    Ok(hashes)
}

fn hash_frames(dir: &Path) -> anyhow::Result<Vec<u64>> {
    let mut names: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "png"))
        .collect();
    names.sort();
    let hasher = hasher();
    let mut hashes = Vec::with_capacity(names.len());
    for path in names.iter().take(MAX_FRAMES) {
        let image = decode(&std::fs::read(path)?)?;
        let hash = hash_of(&hasher, &image);
        if informative(hash) {
            hashes.push(hash);
        }
    }
    Ok(hashes)
}

/// Whether `ffmpeg` can be run here, and if not why.
pub async fn ffmpeg_available(ffmpeg: &str) -> Result<(), String> {
    let status = tokio::process::Command::new(ffmpeg)
        .arg("-version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .status()
        .await;
    match status {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!("{ffmpeg} -version: {status}")),
        Err(error) => Err(format!("{ffmpeg}: {error}")),
    }
}

#[cfg(test)]
mod probe {
    #[test]
    #[ignore = "a probe: FRAMES_A and FRAMES_B name directories of PNG frames"]
    fn distances_between_two_frame_directories() {
        let (Ok(a), Ok(b)) = (std::env::var("FRAMES_A"), std::env::var("FRAMES_B")) else {
            return;
        };
        let hashes = |dir: &str| super::hash_frames(std::path::Path::new(dir)).unwrap();
        let (a, b) = (hashes(&a), hashes(&b));
        for x in &a {
            let row: Vec<u32> = b.iter().map(|y| (x ^ y).count_ones()).collect();
            eprintln!("{x:016x} {row:?}");
        }
    }
}
