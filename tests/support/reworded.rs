//! A generated set of incidents, each reported one to four times in different languages and
//! words, through different channels, with the place written in the report's script, the
//! coordinates a little off (or missing) and the date a day off now and then: what
//! `ListSimilarAllegations` must tell apart. Deterministic: the same seed gives the same set.
//!
//! Distinct incidents at one place are at least four days apart: two reports of one place on
//! overlapping days are, for this measure, one incident (an officer would look at both anyway).

use docket_proto::docket::common::v1 as common;
use docket_proto::docket::intake::v1 as pb;

/// A place's name in English, Azerbaijani, Russian, Armenian and Ukrainian, and where it is.
struct Place {
    names: [&'static str; 5],
    latitude: f64,
    longitude: f64,
}

const PLACES: [Place; 10] = [
    Place {
        names: ["Ganja", "Gəncə", "Гянджа", "Գյանջա", "Гянджа"],
        latitude: 40.6828,
        longitude: 46.3606,
    },
    Place {
        names: [
            "Stepanakert",
            "Xankəndi",
            "Степанакерт",
            "Ստեփանակերտ",
            "Степанакерт",
        ],
        latitude: 39.8153,
        longitude: 46.7519,
    },
    Place {
        names: ["Shusha", "Şuşa", "Шуша", "Շուշի", "Шуша"],
        latitude: 39.7583,
        longitude: 46.7483,
    },
    Place {
        names: ["Aghdam", "Ağdam", "Агдам", "Աղդամ", "Агдам"],
        latitude: 39.9931,
        longitude: 46.9303,
    },
    Place {
        names: ["Hadrut", "Hadrut", "Гадрут", "Հադրութ", "Гадрут"],
        latitude: 39.5200,
        longitude: 47.0300,
    },
    Place {
        names: ["Tartar", "Tərtər", "Тертер", "Թարթառ", "Тертер"],
        latitude: 40.3419,
        longitude: 46.9322,
    },
    Place {
        names: ["Barda", "Bərdə", "Барда", "Բարդա", "Барда"],
        latitude: 40.3744,
        longitude: 47.1266,
    },
    Place {
        names: ["Martuni", "Xocavənd", "Мартуни", "Մարտունի", "Мартуні"],
        latitude: 39.7914,
        longitude: 47.1100,
    },
    Place {
        names: ["Fuzuli", "Füzuli", "Физули", "Ֆիզուլի", "Фізулі"],
        latitude: 39.6008,
        longitude: 47.1431,
    },
    Place {
        names: ["Lachin", "Laçın", "Лачин", "Լաչին", "Лачин"],
        latitude: 39.6383,
        longitude: 46.5461,
    },
];

/// What was hit, in the five languages.
const TARGETS: [[&str; 5]; 5] = [
    ["the market", "bazar", "рынок", "շուկան", "ринок"],
    ["a school", "məktəb", "школа", "դպրոցը", "школу"],
    [
        "the hospital",
        "xəstəxana",
        "больница",
        "հիվանդանոցը",
        "лікарню",
    ],
    [
        "houses on the main street",
        "əsas küçədəki evlər",
        "дома на главной улице",
        "գլխավոր փողոցի տները",
        "будинки на головній вулиці",
    ],
    [
        "a bus with civilians",
        "mülki şəxslərlə dolu avtobus",
        "автобус с мирными жителями",
        "խաղաղ բնակիչներով ավտոբուսը",
        "автобус з цивільними",
    ],
];

const LANGUAGES: [&str; 5] = ["en", "az", "ru", "hy", "uk"];

const CHANNELS: [pb::Channel; 4] = [
    pb::Channel::NgoSubmission,
    pb::Channel::Hotline,
    pb::Channel::WalkIn,
    pb::Channel::SocialMediaMonitoring,
];

/// The words of one report: two wordings per language.
fn narrative(language: usize, wording: usize, place: &str, target: &str, dead: u32) -> String {
    match (language, wording % 2) {
        (0, 0) => format!(
            "Artillery shelled {target} in {place} in the morning. {dead} civilians were killed and many wounded."
        ),
        (0, _) => format!(
            "A witness from {place} says rockets struck {target}; she counted {dead} dead among the neighbours."
        ),
        (1, 0) => format!(
            "{place} şəhərində {target} artilleriya atəşinə tutuldu. {dead} dinc sakin həlak oldu."
        ),
        (1, _) => format!(
            "Şahid deyir ki, {place} ərazisində raketlər {target} vurdu, {dead} nəfər öldü."
        ),
        (2, 0) => format!(
            "Утром в {place} артиллерия обстреляла {target}. Погибли {dead} мирных жителей, много раненых."
        ),
        (2, _) => format!(
            "Очевидец из {place} рассказывает, что ракеты попали в {target}; погибших {dead}."
        ),
        (3, 0) => {
            format!("{place}-ում հրետանին գնդակոծել է {target}։ Զոհվել է {dead} խաղաղ բնակիչ։")
        }
        (3, _) => {
            format!("Ականատեսը {place}-ից պատմում է, որ հրթիռները խոցել են {target}, {dead} զոհ։")
        }
        (4, 0) => {
            format!("Вранці в {place} артилерія обстріляла {target}. Загинули {dead} цивільних.")
        }
        (_, _) => {
            format!("Свідок з {place} розповідає, що ракети влучили в {target}; загиблих {dead}.")
        }
    }
}

/// A small deterministic generator (SplitMix64).
#[derive(Debug)]
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A number in [-1, 1).
    fn signed(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

/// One generated report and the incident it describes.
#[derive(Debug, Clone)]
pub struct Report {
    pub incident: usize,
    pub allegation: pb::Allegation,
}

/// `incidents` incidents, reported `reports` times in all (each at least once), from `seed`.
pub fn reworded_reports(seed: u64, incidents: usize, reports: usize) -> Vec<Report> {
    const DAY: i64 = 86_400;
    // 2020-09-27T00:00:00Z, the first day, and 45 days after it.
    const FIRST: i64 = 1_601_164_800;
    let mut dice = Dice(seed);
    // (place, day) of each incident, distinct incidents at one place at least four days apart.
    let mut chosen: Vec<(usize, i64, usize, u32)> = Vec::new();
    while chosen.len() < incidents {
        let place = dice.below(PLACES.len() as u64) as usize;
        let day = dice.below(45) as i64;
        if chosen
            .iter()
            .any(|(p, d, _, _)| *p == place && (d - day).abs() < 4)
        {
            continue;
        }
        let target = dice.below(TARGETS.len() as u64) as usize;
        let dead = 2 + dice.below(12) as u32;
        chosen.push((place, day, target, dead));
    }
    let mut out = Vec::with_capacity(reports);
    for n in 0..reports {
        // Every incident once, then the others spread over them.
        let incident = if n < incidents {
            n
        } else {
            dice.below(incidents as u64) as usize
        };
        let (place, day, target, dead) = chosen[incident];
        let language = dice.below(LANGUAGES.len() as u64) as usize;
        let wording = dice.below(2) as usize;
        let place_name = PLACES[place].names[language];
        // A day off now and then; a place with no coordinates in one report of five.
        let day = day + if dice.below(4) == 0 { 1 } else { 0 };
        let start = FIRST + day * DAY;
        let with_coordinates = dice.below(5) != 0;
        // Up to about 1.5 km off.
        let latitude = PLACES[place].latitude + dice.signed() * 0.01;
        let longitude = PLACES[place].longitude + dice.signed() * 0.01;
        let violation = if target == 4 {
            common::ViolationType::Killing
        } else {
            common::ViolationType::AttackOnCivilians
        };
        let allegation = pb::Allegation {
            channel: CHANNELS[dice.below(CHANNELS.len() as u64) as usize].into(),
            source: Some(pb::Source {
                anonymous: true,
                ..pb::Source::default()
            }),
            narrative: narrative(
                language,
                wording,
                place_name,
                TARGETS[target][language],
                // Sources disagree on the toll.
                dead + dice.below(2) as u32,
            ),
            language: LANGUAGES[language].into(),
            incident_period: Some(common::IncidentPeriod {
                start_time: Some(prost_types::Timestamp {
                    seconds: start,
                    nanos: 0,
                }),
                end_time: Some(prost_types::Timestamp {
                    seconds: start + DAY - 1,
                    nanos: 0,
                }),
                precision: common::TimePrecision::Day.into(),
            }),
            location: Some(common::Location {
                place_name: place_name.into(),
                latitude: with_coordinates.then_some(latitude),
                longitude: with_coordinates.then_some(longitude),
                precision: common::LocationPrecision::Settlement.into(),
                ..common::Location::default()
            }),
            violation_types: vec![violation.into()],
            alleged_perpetrators: vec![common::AllegedPerpetrator {
                party_code: if place % 2 == 0 { "AM" } else { "AZ" }.into(),
                ..common::AllegedPerpetrator::default()
            }],
            ..pb::Allegation::default()
        };
        out.push(Report {
            incident,
            allegation,
        });
    }
    out
}
