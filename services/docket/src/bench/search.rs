//! Full-text search among many allegations: intake's tantivy index (in this process, in a
//! temporary directory) filled with `items` generated allegations in five languages, in the
//! follower's batches of 2 000 with one commit each; then asked 2 000 questions (one to three
//! words, a third with a filter of party, period or a 30 km circle) and 500 similar-allegation
//! questions, one at a time.
//!
//! The indexing rate is of the index alone: the follower also reads each batch's allegations
//! from intake's database, which the submission step's own figure bounds.

use std::time::Instant;

use docket_intake::similar_candidates;
use docket_search::geo::Circle;
use docket_search::{Ask, Indexed, Live};

/// The figures of the step.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Searches {
    pub items: usize,
    /// Allegations indexed per second, commits included.
    pub indexed_per_second: f64,
    pub search_p50_ms: f64,
    pub search_p99_ms: f64,
    /// p99 of the questions of words alone, and of those with a party, a period or a circle.
    pub search_p99_by_kind_ms: [f64; 4],
    pub similar_p50_ms: f64,
    pub similar_p99_ms: f64,
    /// Questions that found nothing (a word of every question is in the index: should be 0).
    pub empty_answers: usize,
}

const BATCH: usize = 2_000;
const QUERIES: usize = 2_000;
const SIMILAR_QUERIES: usize = 500;

const PLACES: [(&str, f64, f64); 10] = [
    ("Gəncə", 40.6828, 46.3606),
    ("Степанакерт", 39.8153, 46.7519),
    ("Şuşa", 39.7583, 46.7483),
    ("Աղդամ", 39.9931, 46.9303),
    ("Hadrut", 39.52, 47.03),
    ("Тертер", 40.3419, 46.9322),
    ("Bərdə", 40.3744, 47.1266),
    ("Մարտունի", 39.7914, 47.11),
    ("Füzuli", 39.6008, 47.1431),
    ("Лачин", 39.6383, 46.5461),
];

/// Words of narratives, by language (en, az, ru, hy, uk).
const WORDS: [&[&str]; 5] = [
    &[
        "shelling",
        "rockets",
        "market",
        "school",
        "hospital",
        "civilians",
        "killed",
        "wounded",
        "houses",
        "burned",
        "prisoners",
        "executed",
        "drone",
        "street",
        "night",
        "morning",
        "children",
        "soldiers",
        "checkpoint",
        "convoy",
    ],
    &[
        "atəş",
        "raketlər",
        "bazar",
        "məktəb",
        "xəstəxana",
        "dinc",
        "sakinlər",
        "öldürüldü",
        "yaralandı",
        "evlər",
        "yandırıldı",
        "əsirlər",
        "güllələndi",
        "dron",
        "küçə",
        "gecə",
        "səhər",
        "uşaqlar",
        "əsgərlər",
        "avtobus",
    ],
    &[
        "обстрел",
        "ракеты",
        "рынок",
        "школа",
        "больница",
        "мирные",
        "жители",
        "убиты",
        "ранены",
        "дома",
        "сожжены",
        "пленные",
        "расстреляны",
        "дрон",
        "улица",
        "ночью",
        "утром",
        "дети",
        "солдаты",
        "колонна",
    ],
    &[
        "հրետակոծություն",
        "հրթիռներ",
        "շուկա",
        "դպրոց",
        "հիվանդանոց",
        "խաղաղ",
        "բնակիչներ",
        "զոհվել",
        "վիրավորվել",
        "տներ",
        "այրվել",
        "գերիներ",
        "գնդակահարվել",
        "անօդաչու",
        "փողոց",
        "գիշերը",
        "առավոտյան",
        "երեխաներ",
        "զինվորներ",
        "ավտոբուս",
    ],
    &[
        "обстріл",
        "ракети",
        "ринок",
        "школа",
        "лікарня",
        "цивільні",
        "мешканці",
        "вбиті",
        "поранені",
        "будинки",
        "спалені",
        "полонені",
        "розстріляні",
        "дрон",
        "вулиця",
        "вночі",
        "вранці",
        "діти",
        "солдати",
        "колона",
    ],
];
const LANGUAGES: [&str; 5] = ["en", "az", "ru", "hy", "uk"];

struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn generated(random: &mut SplitMix, n: usize) -> Indexed {
    let language = random.below(LANGUAGES.len());
    let (place, lat, lon) = PLACES[random.below(PLACES.len())];
    let words = WORDS[language];
    let mut narrative = String::new();
    for i in 0..(30 + random.below(60)) {
        if i % 11 == 5 {
            narrative.push_str(place);
        } else {
            narrative.push_str(words[random.below(words.len())]);
        }
        narrative.push(if i % 9 == 8 { '.' } else { ' ' });
    }
    let start = 1_601_164_800 + random.below(400 * 86_400) as i64;
    Indexed {
        id: format!("00000000-0000-7000-8000-{n:012x}"),
        reference: format!("ALG-2020-{n:06}"),
        status: 1,
        channel: 1 + random.below(6) as i32,
        language: LANGUAGES[language].into(),
        title: String::new(),
        narrative,
        other_text: place.into(),
        place_name: place.into(),
        violation_types: vec![1 + random.below(10) as i32],
        party_codes: vec![if random.below(2) == 0 { "AM" } else { "AZ" }.into()],
        latitude: Some(lat + (random.unit() - 0.5) * 0.2),
        longitude: Some(lon + (random.unit() - 0.5) * 0.2),
        period: Some((start, start + 3_600)),
        received: start + 86_400,
    }
}

/// Fills an index with `items` allegations and times searches among them.
pub fn measure(items: usize) -> anyhow::Result<Searches> {
    let dir = tempfile::tempdir()?;
    let (index, _) = Live::open(dir.path())?;
    let mut random = SplitMix(0x5eed_5ea7);
    let started = Instant::now();
    let mut batch = Vec::with_capacity(BATCH);
    let mut samples = Vec::new();
    for n in 0..items {
        let doc = generated(&mut random, n);
        if n % (items / SIMILAR_QUERIES).max(1) == 0 && samples.len() < SIMILAR_QUERIES {
            samples.push(doc.clone());
        }
        batch.push(doc);
        if batch.len() == BATCH || n + 1 == items {
            index.write(&batch, &[], n as i64 + 1)?;
            batch.clear();
            if (n + 1) % 100_000 < BATCH {
                eprintln!("  {} allegations indexed", n + 1);
            }
        }
    }
    let indexed_per_second = items as f64 / started.elapsed().as_secs_f64();
    let (mut times, mut empty) = (Vec::with_capacity(QUERIES), 0);
    let mut by_kind: [Vec<f64>; 4] = Default::default();
    for q in 0..QUERIES {
        let language = random.below(LANGUAGES.len());
        let words: Vec<&str> = (0..1 + random.below(3))
            .map(|_| WORDS[language][random.below(WORDS[language].len())])
            .collect();
        let mut ask = Ask {
            words: words.join(" "),
            ..Ask::default()
        };
        let mut circle = None;
        let kind = match q % 9 {
            0 => 1,
            3 => 2,
            6 => 3,
            _ => 0,
        };
        match q % 9 {
            0 => ask.party_codes = vec!["AM".into()],
            3 => {
                let from = 1_601_164_800 + random.below(360 * 86_400) as i64;
                ask.period = (Some(from), Some(from + 30 * 86_400));
            }
            6 => {
                let (_, lat, lon) = PLACES[random.below(PLACES.len())];
                let c = Circle {
                    latitude: lat,
                    longitude: lon,
                    radius_km: 30.0,
                };
                ask.boxed = Some(c.bounds());
                circle = Some(c);
            }
            _ => {}
        }
        let started = Instant::now();
        let (found, _) = index.search(&ask, circle, 0, 20, true)?;
        let ms = started.elapsed().as_secs_f64() * 1_000.0;
        times.push(ms);
        by_kind[kind].push(ms);
        if found.is_empty() {
            empty += 1;
        }
    }
    let mut similar = Vec::with_capacity(samples.len());
    for doc in &samples {
        let started = Instant::now();
        similar_candidates(&index, doc, 10)?;
        similar.push(started.elapsed().as_secs_f64() * 1_000.0);
    }
    times.sort_by(f64::total_cmp);
    similar.sort_by(f64::total_cmp);
    let search_p99_by_kind_ms = by_kind.map(|mut kind| {
        kind.sort_by(f64::total_cmp);
        percentile(&kind, 0.99)
    });
    Ok(Searches {
        items,
        indexed_per_second,
        search_p50_ms: percentile(&times, 0.5),
        search_p99_ms: percentile(&times, 0.99),
        search_p99_by_kind_ms,
        similar_p50_ms: percentile(&similar, 0.5),
        similar_p99_ms: percentile(&similar, 0.99),
        empty_answers: empty,
    })
}
