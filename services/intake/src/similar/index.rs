//! Near neighbours among 64-bit perceptual hashes, held in memory: multi-index hashing.
//!
//! Each hash is cut into five blocks (four of 13 bits and one of 12), and each block value lists
//! the hashes that have it there. Two hashes within `r` bits cannot differ in every block by more
//! than that block's threshold when the thresholds add up to `r - 4` (each block over its
//! threshold by one bit or more would make `r + 1`): at the largest radius, [`MAX_RADIUS`], one
//! block is read 3 bits around the query's value and the others 2 bits around (733 values in
//! all, against 2 788 with four 16-bit blocks each read 3 bits around), and what is found is
//! checked at its full distance. The lists are exact: nothing within the radius is missed.
//!
//! Pictures and videos are indexed apart, since a query only ever asks for its own kind. The
//! lists of a block are one array of hashes, ordered by block value, beside the array of their
//! items and one of where each value's list starts, so a list is read in one sequential pass.
//! A video asks about all its frames at once: the values its frames need in a block are sorted
//! first, so that the block is read from one end to the other instead of at a random place per
//! list, which is what a lookup waits on. Hashes added since the arrays were last built are kept
//! apart and compared in full by every query, until they are a thirty-second of the rest and the
//! arrays are built again (a counting sort; amortised over the additions).

use std::collections::HashMap;

/// The largest distance a query may ask for, in bits.
pub const MAX_RADIUS: u32 = 15;

/// The blocks a hash is cut into: their first bit and their width.
const BLOCKS: [Block; 5] = [
    Block {
        shift: 0,
        width: 13,
    },
    Block {
        shift: 13,
        width: 13,
    },
    Block {
        shift: 26,
        width: 13,
    },
    Block {
        shift: 39,
        width: 13,
    },
    Block {
        shift: 52,
        width: 12,
    },
];

// `values_around` reads at most three bits around a value.
const _: () = assert!((MAX_RADIUS + 1).div_ceil(BLOCKS.len() as u32) <= 4);

#[derive(Debug, Clone, Copy)]
struct Block {
    shift: u32,
    width: u32,
}

impl Block {
    fn value(self, hash: u64) -> usize {
        ((hash >> self.shift) & ((1 << self.width) - 1)) as usize
    }

    fn values(self) -> usize {
        1 << self.width
    }
}

/// How far from the query's value each block is read at `radius`, or `None` where it need not
/// be read: `radius + 1` units spread over the blocks, the wider ones first, a block with `u`
/// units read `u - 1` bits around.
fn thresholds(radius: u32) -> [Option<u32>; BLOCKS.len()] {
    let blocks = BLOCKS.len() as u32;
    std::array::from_fn(|i| {
        let units = (radius + 1) / blocks + u32::from((i as u32) < (radius + 1) % blocks);
        units.checked_sub(1)
    })
}

/// What a stored content is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Media {
    Image,
    Video,
}

impl Media {
    pub fn code(self) -> &'static str {
        match self {
            Media::Image => "image",
            Media::Video => "video",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [Media::Image, Media::Video]
            .into_iter()
            .find(|media| media.code() == code)
    }

    fn slot(self) -> usize {
        match self {
            Media::Image => 0,
            Media::Video => 1,
        }
    }
}

#[derive(Debug)]
struct Item {
    sha256: String,
    media: Media,
    /// Its hashes are `hashes[first..first + count]` of its media's lists.
    first: usize,
    hashes: usize,
}

/// One stored content close to a query, frame by frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Near {
    pub sha256: String,
    pub media: Media,
    /// How many of the stored content's hashes it has.
    pub stored_hashes: usize,
    /// For each hash of the query that has a stored hash within the radius: the distance to the
    /// closest, in bits.
    pub matched: Vec<u32>,
}

/// A [`Near`] while it is gathered, with the item it is.
struct Found {
    item: u32,
    near: Near,
}

/// Hashes added since the arrays were built are merged in once they are this share of those in
/// the arrays (or [`MIN_RECENT`]): few enough that comparing them with every query costs little,
/// many enough that building the arrays again is paid for over many additions.
const RECENT_SHARE: usize = 32;
const MIN_RECENT: usize = 1_024;

/// Hashes beside the items they belong to.
#[derive(Debug, Default)]
struct Entries {
    hashes: Vec<u64>,
    items: Vec<u32>,
}

impl Entries {
    /// Each entry of `range` within `radius` bits of `hash`, as (item, distance).
    fn within(
        &self,
        range: std::ops::Range<usize>,
        hash: u64,
        radius: u32,
        mut found: impl FnMut(u32, u32),
    ) {
        let Some(hashes) = self.hashes.get(range.clone()) else {
            return;
        };
        for (at, stored) in range.zip(hashes) {
            let distance = (stored ^ hash).count_ones();
            if distance <= radius {
                found(self.items[at], distance);
            }
        }
    }
}

/// The hashes of one kind of media.
#[derive(Debug, Default)]
struct Lists {
    /// Every hash with its item, in the order they came; the first `built` are in the arrays.
    all: Entries,
    built: usize,
    /// For each block: where each value's list starts in `entries` (and, one past the last
    /// value, where the lists end).
    starts: Vec<Vec<u32>>,
    /// For each block: the first `built` hashes, ordered by their value in that block.
    entries: Vec<Entries>,
}

impl Lists {
    fn push(&mut self, hash: u64, item: u32) {
        self.all.hashes.push(hash);
        self.all.items.push(item);
        let recent = self.all.hashes.len() - self.built;
        if recent >= MIN_RECENT.max(self.built / RECENT_SHARE) {
            self.build();
        }
    }

    /// Orders every hash into the arrays (a counting sort per block).
    fn build(&mut self) {
        let count = self.all.hashes.len();
        self.starts = Vec::with_capacity(BLOCKS.len());
        self.entries = Vec::with_capacity(BLOCKS.len());
        for block in BLOCKS {
            let mut starts = vec![0u32; block.values() + 1];
            for &hash in &self.all.hashes {
                starts[block.value(hash) + 1] += 1;
            }
            for value in 0..block.values() {
                starts[value + 1] += starts[value];
            }
            let mut next = starts.clone();
            let mut entries = Entries {
                hashes: vec![0; count],
                items: vec![0; count],
            };
            for (&hash, &item) in self.all.hashes.iter().zip(&self.all.items) {
                let slot = &mut next[block.value(hash)];
                entries.hashes[*slot as usize] = hash;
                entries.items[*slot as usize] = item;
                *slot += 1;
            }
            self.starts.push(starts);
            self.entries.push(entries);
        }
        self.built = count;
    }

    /// Where the list of `value` in block `index` is in that block's entries.
    fn list(&self, index: usize, value: usize) -> std::ops::Range<usize> {
        match self.starts.get(index) {
            Some(starts) => starts[value] as usize..starts[value + 1] as usize,
            None => 0..0,
        }
    }
}

/// The index.
#[derive(Debug, Default)]
pub struct HashIndex {
    items: Vec<Item>,
    by_sha256: HashMap<String, u32>,
    /// The lists of pictures' hashes, then of videos'.
    lists: [Lists; 2],
}

/// Every value of `width` bits within `bits` (at most three) bits of `value`, itself first.
fn values_around(value: usize, width: u32, bits: u32, mut visit: impl FnMut(usize)) {
    visit(value);
    if bits == 0 {
        return;
    }
    for i in 0..width {
        let once = value ^ (1 << i);
        visit(once);
        if bits == 1 {
            continue;
        }
        for j in (i + 1)..width {
            let twice = once ^ (1 << j);
            visit(twice);
            if bits == 2 {
                continue;
            }
            for k in (j + 1)..width {
                visit(twice ^ (1 << k));
            }
        }
    }
}

impl HashIndex {
    /// How many contents it holds.
    pub fn len(&self) -> usize {
        self.by_sha256.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_sha256.is_empty()
    }

    /// How many hashes it holds.
    pub fn hash_count(&self) -> usize {
        self.lists.iter().map(|lists| lists.all.hashes.len()).sum()
    }

    /// Adds the hashes of the content `sha256`, unless it is there already.
    pub fn insert(&mut self, sha256: &str, media: Media, hashes: &[u64]) {
        if self.by_sha256.contains_key(sha256) || hashes.is_empty() {
            return;
        }
        let Ok(item) = u32::try_from(self.items.len()) else {
            return;
        };
        let lists = &mut self.lists[media.slot()];
        self.items.push(Item {
            sha256: sha256.to_owned(),
            media,
            first: lists.all.hashes.len(),
            hashes: hashes.len(),
        });
        self.by_sha256.insert(sha256.to_owned(), item);
        for &hash in hashes {
            lists.push(hash, item);
        }
    }

    /// What the content `sha256` is and its hashes, if it is in the index.
    pub fn hashes_of(&self, sha256: &str) -> Option<(Media, Vec<u64>)> {
        let item = &self.items[*self.by_sha256.get(sha256)? as usize];
        let all = &self.lists[item.media.slot()].all.hashes;
        let hashes = all.get(item.first..item.first + item.hashes)?;
        Some((item.media, hashes.to_vec()))
    }

    /// Stored contents of the same `media` with a hash within `radius` bits (at most
    /// [`MAX_RADIUS`]) of some hash of `query`, leaving out `except`.
    pub fn near(&self, query: &[u64], media: Media, radius: u32, except: &str) -> Vec<Near> {
        let radius = radius.min(MAX_RADIUS);
        let lists = &self.lists[media.slot()];
        // Every stored hash within the radius of a query hash: (item, query hash, distance).
        let mut hits: Vec<(u32, u32, u32)> = Vec::new();
        // The lists to read in a block, in the order of the block's values: (value, query hash).
        let mut reads: Vec<(u32, u32)> = Vec::new();
        for ((index, block), threshold) in BLOCKS.into_iter().enumerate().zip(thresholds(radius)) {
            let Some(threshold) = threshold else {
                continue;
            };
            reads.clear();
            for (at, &hash) in (0u32..).zip(query) {
                values_around(block.value(hash), block.width, threshold, |value| {
                    reads.push((value as u32, at));
                });
            }
            reads.sort_unstable();
            let Some(entries) = lists.entries.get(index) else {
                continue;
            };
            for &(value, at) in &reads {
                let range = lists.list(index, value as usize);
                entries.within(range, query[at as usize], radius, |item, distance| {
                    hits.push((item, at, distance));
                });
            }
        }
        for (at, &hash) in (0u32..).zip(query) {
            let recent = lists.built..lists.all.hashes.len();
            lists.all.within(recent, hash, radius, |item, distance| {
                hits.push((item, at, distance));
            });
        }
        // The closest stored hash to each query hash, for each item (one hash may be found in
        // several blocks).
        hits.sort_unstable();
        hits.dedup_by(|later, first| (later.0, later.1) == (first.0, first.1));
        let except = self.by_sha256.get(except).copied();
        let mut near: Vec<Found> = Vec::new();
        for (item, _, distance) in hits {
            if Some(item) == except {
                continue;
            }
            if near.last().map(|found| found.item) != Some(item) {
                let stored = &self.items[item as usize];
                near.push(Found {
                    item,
                    near: Near {
                        sha256: stored.sha256.clone(),
                        media: stored.media,
                        stored_hashes: stored.hashes,
                        matched: Vec::new(),
                    },
                });
            }
            if let Some(found) = near.last_mut() {
                found.near.matched.push(distance);
            }
        }
        near.into_iter().map(|found| found.near).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reproducible stream of hashes (SplitMix64).
    fn hashes(seed: u64, n: usize) -> Vec<u64> {
        let mut state = seed;
        (0..n)
            .map(|_| {
                state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
                let mut z = state;
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                z ^ (z >> 31)
            })
            .collect()
    }

    #[test]
    fn finds_exactly_what_a_full_scan_finds_within_the_radius() {
        let stored = hashes(7, 5_000);
        let mut index = HashIndex::default();
        for (i, hash) in stored.iter().enumerate() {
            index.insert(&format!("{i}"), Media::Image, &[*hash]);
        }
        // Queries at every distance up to the radius and beyond from stored hashes.
        let flips = hashes(11, 400);
        for (n, flip) in flips.iter().enumerate() {
            let target = stored[n * 7 % stored.len()];
            let bits = (n % 18) as u32;
            let mut query = target;
            let mut set = 0;
            for bit in 0..64 {
                if set == bits {
                    break;
                }
                if flip >> bit & 1 == 1 {
                    query ^= 1 << bit;
                    set += 1;
                }
            }
            // Every radius, as each reads a different neighbourhood of the blocks.
            let radius = (n % 16) as u32;
            let mut expected: Vec<String> = stored
                .iter()
                .enumerate()
                .filter(|(_, h)| (*h ^ query).count_ones() <= radius)
                .map(|(i, _)| format!("{i}"))
                .collect();
            expected.sort();
            let mut got: Vec<String> = index
                .near(&[query], Media::Image, radius, "")
                .into_iter()
                .map(|near| near.sha256)
                .collect();
            got.sort();
            assert_eq!(got, expected, "query {n} at {bits} bits, radius {radius}");
        }
    }

    #[test]
    fn finds_for_each_frame_of_a_video_its_closest_stored_frame_as_a_full_scan_does() {
        // Like a film's seconds, each frame is a couple of bits from the one before, so that a
        // query frame is near several of a video's frames, at different distances.
        let videos: Vec<Vec<u64>> = hashes(3, 9_000)
            .chunks(30)
            .map(|random| {
                let mut frame = random[0];
                random
                    .iter()
                    .map(|r| {
                        frame ^= 1 << (r % 64) | 1 << (r >> 8 & 63);
                        frame
                    })
                    .collect()
            })
            .collect();
        let mut index = HashIndex::default();
        for (i, video) in videos.iter().enumerate() {
            index.insert(&format!("{i}"), Media::Video, video);
        }
        let flips = hashes(5, 25 * 40);
        for (n, flips) in flips.chunks(25).enumerate() {
            // Frames of one stored video, each 0 to 15 bits off, and of another, far off.
            let near = &videos[n * 7 % videos.len()];
            let query: Vec<u64> = (0..25)
                .map(|f| {
                    let bits = (f + n) as u32 % 16;
                    let mask = (0..64)
                        .filter(|bit| flips[f] >> bit & 1 == 1)
                        .take(bits as usize)
                        .fold(0u64, |mask, bit| mask | 1 << bit);
                    near[f] ^ mask
                })
                .chain(videos[(n * 13 + 1) % videos.len()].iter().map(|h| !h))
                .collect();
            let mut expected: Vec<(String, Vec<u32>)> = videos
                .iter()
                .enumerate()
                .filter_map(|(i, video)| {
                    let mut matched: Vec<u32> = query
                        .iter()
                        .filter_map(|q| video.iter().map(|h| (h ^ q).count_ones()).min())
                        .filter(|&d| d <= MAX_RADIUS)
                        .collect();
                    matched.sort();
                    (!matched.is_empty()).then(|| (format!("{i}"), matched))
                })
                .collect();
            expected.sort();
            let mut got: Vec<(String, Vec<u32>)> = index
                .near(&query, Media::Video, MAX_RADIUS, "")
                .into_iter()
                .map(|mut near| {
                    near.matched.sort();
                    (near.sha256, near.matched)
                })
                .collect();
            got.sort();
            assert_eq!(got, expected, "query {n}");
        }
    }

    #[test]
    fn keeps_media_apart_and_leaves_out_the_query_itself() {
        let mut index = HashIndex::default();
        index.insert("a", Media::Image, &[42]);
        index.insert("b", Media::Video, &[42, 43]);
        index.insert("c", Media::Image, &[43]);
        let near = index.near(&[42], Media::Image, 3, "a");
        assert_eq!(near.len(), 1);
        assert_eq!(near[0].sha256, "c");
        assert_eq!(near[0].matched, vec![1]);
    }
}
