//! Near neighbours among 64-bit perceptual hashes, held in memory: multi-index hashing.
//!
//! Each hash is cut into four 16-bit blocks, and each block value lists the hashes that have it
//! there. Two hashes within `r` bits differ in some block by at most `r / 4` bits (four blocks
//! of more would make more than `r`), so a query looks up, in each block, its own value and the
//! values `r / 4` bits or less from it (696 of them at the largest radius, [`MAX_RADIUS`]), and
//! checks the full distance of what it finds. The lists are exact: nothing within the radius is
//! missed.
//!
//! Pictures and videos are indexed apart, since a query only ever asks for its own kind, and each
//! list holds the hashes themselves beside their item: a lookup reads each list it visits in one
//! sequential pass, with no jump elsewhere in memory per entry. That is what a video's lookup,
//! one per sampled second, spends its time on, waiting on memory: so the lists of a block are
//! one array, ordered by block value, with an array of where each value's list starts (one
//! random read per list, not two as with a list per value). Hashes added since the arrays were
//! last built are kept apart and compared in full by every query, until they are a thirty-second
//! of the rest and the arrays are built again (a counting sort; amortised over the additions).

use std::collections::HashMap;

/// The largest distance a query may ask for, in bits.
pub const MAX_RADIUS: u32 = 15;

const BLOCKS: usize = 4;
const BLOCK_VALUES: usize = 1 << 16;

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
    /// Its hashes are `hashes[first..first + count]`.
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

/// A hash in a block's list, with the item it belongs to: 12 bytes, read in place.
#[derive(Debug, Clone, Copy)]
#[repr(C, packed(4))]
struct Entry {
    hash: u64,
    item: u32,
}

impl Entry {
    /// The hash, read out of the packed entry.
    fn hash(&self) -> u64 {
        self.hash
    }
}

/// Hashes added since the arrays were built are merged in once they are this share of those in
/// the arrays (or [`MIN_RECENT`]): few enough that comparing them with every query costs little,
/// many enough that building the arrays again is paid for over many additions.
const RECENT_SHARE: usize = 32;
const MIN_RECENT: usize = 1_024;

/// The hashes of one kind of media.
#[derive(Debug, Default)]
struct Lists {
    /// Every hash with its item, in the order they came; the first `built` are in the arrays.
    all: Vec<Entry>,
    built: usize,
    /// For each block: where each value's list starts in `entries` (and, one past the last
    /// value, where the lists end).
    starts: Vec<Vec<u32>>,
    /// For each block: the first `built` hashes, ordered by their value in that block.
    entries: Vec<Vec<Entry>>,
}

impl Lists {
    fn push(&mut self, entry: Entry) {
        self.all.push(entry);
        let recent = self.all.len() - self.built;
        if recent >= MIN_RECENT.max(self.built / RECENT_SHARE) {
            self.build();
        }
    }

    /// Orders every hash into the arrays (a counting sort per block).
    fn build(&mut self) {
        self.starts = Vec::with_capacity(BLOCKS);
        self.entries = Vec::with_capacity(BLOCKS);
        for index in 0..BLOCKS {
            let mut starts = vec![0u32; BLOCK_VALUES + 1];
            for entry in &self.all {
                starts[block(entry.hash(), index) + 1] += 1;
            }
            for value in 0..BLOCK_VALUES {
                starts[value + 1] += starts[value];
            }
            let mut next = starts.clone();
            let mut entries = vec![Entry { hash: 0, item: 0 }; self.all.len()];
            for entry in &self.all {
                let slot = &mut next[block(entry.hash(), index)];
                entries[*slot as usize] = *entry;
                *slot += 1;
            }
            self.starts.push(starts);
            self.entries.push(entries);
        }
        self.built = self.all.len();
    }

    /// The list of `value` in block `index`, of the hashes in the arrays.
    fn list(&self, index: usize, value: usize) -> &[Entry] {
        let (Some(starts), Some(entries)) = (self.starts.get(index), self.entries.get(index))
        else {
            return &[];
        };
        let start = starts[value] as usize;
        let end = starts[value + 1] as usize;
        &entries[start..end]
    }

    /// The hashes not yet in the arrays.
    fn recent(&self) -> &[Entry] {
        &self.all[self.built..]
    }
}

/// The index.
#[derive(Debug, Default)]
pub struct HashIndex {
    items: Vec<Item>,
    by_sha256: HashMap<String, u32>,
    /// Every hash, in the order of the items.
    hashes: Vec<u64>,
    /// The lists of pictures' hashes, then of videos'.
    lists: [Lists; 2],
}

fn block(hash: u64, index: usize) -> usize {
    ((hash >> (16 * index)) & 0xffff) as usize
}

/// Every 16-bit value within `bits` (at most three) bits of `value`, itself first.
fn values_around(value: usize, bits: u32, mut visit: impl FnMut(usize)) {
    visit(value);
    if bits == 0 {
        return;
    }
    for i in 0..16 {
        let once = value ^ (1 << i);
        visit(once);
        if bits == 1 {
            continue;
        }
        for j in (i + 1)..16 {
            let twice = once ^ (1 << j);
            visit(twice);
            if bits == 2 {
                continue;
            }
            for k in (j + 1)..16 {
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
        self.hashes.len()
    }

    /// Adds the hashes of the content `sha256`, unless it is there already.
    pub fn insert(&mut self, sha256: &str, media: Media, hashes: &[u64]) {
        if self.by_sha256.contains_key(sha256) || hashes.is_empty() {
            return;
        }
        let Ok(item) = u32::try_from(self.items.len()) else {
            return;
        };
        self.items.push(Item {
            sha256: sha256.to_owned(),
            media,
            first: self.hashes.len(),
            hashes: hashes.len(),
        });
        self.by_sha256.insert(sha256.to_owned(), item);
        self.hashes.extend_from_slice(hashes);
        let lists = &mut self.lists[media.slot()];
        for &hash in hashes {
            lists.push(Entry { hash, item });
        }
    }

    /// What the content `sha256` is and its hashes, if it is in the index.
    pub fn hashes_of(&self, sha256: &str) -> Option<(Media, Vec<u64>)> {
        let item = &self.items[*self.by_sha256.get(sha256)? as usize];
        let hashes = self.hashes.get(item.first..item.first + item.hashes)?;
        Some((item.media, hashes.to_vec()))
    }

    /// Stored contents of the same `media` with a hash within `radius` bits (at most
    /// [`MAX_RADIUS`]) of some hash of `query`, leaving out `except`.
    pub fn near(&self, query: &[u64], media: Media, radius: u32, except: &str) -> Vec<Near> {
        let radius = radius.min(MAX_RADIUS);
        let around = radius / BLOCKS as u32;
        let lists = &self.lists[media.slot()];
        let mut found: HashMap<u32, Vec<u32>> = HashMap::new();
        let mut best: HashMap<u32, u32> = HashMap::new();
        for &hash in query {
            best.clear();
            let mut check = |entry: &Entry| {
                let (stored, item) = (entry.hash(), entry.item);
                let distance = (stored ^ hash).count_ones();
                if distance <= radius {
                    best.entry(item)
                        .and_modify(|b| *b = (*b).min(distance))
                        .or_insert(distance);
                }
            };
            for index in 0..BLOCKS {
                values_around(block(hash, index), around, |value| {
                    lists.list(index, value).iter().for_each(&mut check);
                });
            }
            lists.recent().iter().for_each(&mut check);
            for (&item, &distance) in &best {
                found.entry(item).or_default().push(distance);
            }
        }
        found
            .into_iter()
            .filter_map(|(item, matched)| {
                let item = &self.items[item as usize];
                (item.sha256 != except).then(|| Near {
                    sha256: item.sha256.clone(),
                    media: item.media,
                    stored_hashes: item.hashes,
                    matched,
                })
            })
            .collect()
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
