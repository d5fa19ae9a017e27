//! Matching candidates in the casualty register: an index of N named victims (names in
//! Azerbaijani Latin, Russian Cyrillic and Armenian, dates of harm over two years, twenty
//! places, both sexes, years of birth over 85 years), then the candidates of new persons, one
//! at a time. Measured on the register's own index in this process, as case management runs it
//! inside `ListCasualtyCandidates`: the call adds one loopback round trip (the echo rows above).

use std::time::Instant;

use chrono::NaiveDate;
use docket_case_management::register::{Index, Report};
use docket_domain::incident::Sex;
use uuid::Uuid;

use super::load::Stats;

const GIVEN: [&str; 12] = [
    "Əli",
    "Vüqar",
    "Aynur",
    "Leyla",
    "Арайик",
    "Давит",
    "Тигран",
    "Анна",
    "Արամ",
    "Գոհար",
    "Mikael",
    "Günel",
];
const FAMILY: [&str; 12] = [
    "Məmmədov",
    "Hüseynov",
    "Əliyeva",
    "Quliyev",
    "Мамедов",
    "Арутюнян",
    "Манукян",
    "Григорян",
    "Հարությունյան",
    "Պետրոսյան",
    "Arzumanyan",
    "Babayev",
];
const PLACES: [&str; 20] = [
    "Ganja",
    "Barda",
    "Tartar",
    "Aghdam",
    "Fuzuli",
    "Jabrayil",
    "Shusha",
    "Stepanakert",
    "Martuni",
    "Hadrut",
    "Askeran",
    "Lachin",
    "Kalbajar",
    "Gubadli",
    "Zangilan",
    "Mingachevir",
    "Naftalan",
    "Goranboy",
    "Aghjabadi",
    "Beylagan",
];

/// A small deterministic generator: the same register on every run.
struct Draw(u64);

impl Draw {
    fn next(&mut self, below: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % below as u64) as usize
    }

    fn report(&mut self, serial: usize) -> Report {
        let start = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap_or_default();
        let day = start + chrono::Days::new(self.next(730) as u64);
        // A serial number in the name makes most names unique, as a real register's are, while
        // the shared given and family names keep the comparisons honest.
        let name = format!(
            "{} {} {}",
            GIVEN[self.next(GIVEN.len())],
            FAMILY[self.next(FAMILY.len())],
            serial
        );
        let sex = if self.next(2) == 0 {
            Sex::Male
        } else {
            Sex::Female
        };
        Report::new(
            Uuid::now_v7(),
            Uuid::now_v7(),
            &name,
            sex,
            Some(1935 + self.next(85) as i32),
            Some(day),
            Some(PLACES[self.next(PLACES.len())]),
        )
    }
}

#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct RegisterRow {
    pub registered: usize,
    pub build_seconds: f64,
    pub candidates: Stats,
    /// Candidates found on average per new person.
    pub mean_found: f64,
}

/// Builds a register of `registered` reports and times the candidates of `asked` new persons.
pub fn measure(registered: usize, asked: usize) -> RegisterRow {
    let mut draw = Draw(17);
    let started = Instant::now();
    let mut index = Index::default();
    for serial in 0..registered {
        index.put(draw.report(serial));
    }
    let build_seconds = started.elapsed().as_secs_f64();
    let mut latencies = Vec::with_capacity(asked);
    let mut found = 0;
    let began = Instant::now();
    for serial in 0..asked {
        // A new person drawn like the registered ones: the same given and family names in the
        // same blocks, so each is compared with a whole block (their serial makes them new).
        let mut asking = draw.report(serial % registered.max(1));
        asking.person = Uuid::now_v7();
        let at = Instant::now();
        found += index.candidates(&asking).len();
        latencies.push(at.elapsed());
    }
    let elapsed = began.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let percentile = |p: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * p).round() as usize)
            .map_or(0.0, |d| d.as_secs_f64() * 1_000.0)
    };
    RegisterRow {
        registered,
        build_seconds,
        candidates: Stats {
            calls: asked,
            errors: 0,
            per_second: asked as f64 / elapsed,
            p50_ms: percentile(0.50),
            p99_ms: percentile(0.99),
        },
        mean_found: found as f64 / asked.max(1) as f64,
    }
}
