//! The index against full sorts and brute-force filters, and its repair.

use std::collections::BTreeSet;

use super::*;

fn doc(n: usize) -> Indexed {
    Indexed {
        id: format!("00000000-0000-0000-0000-{n:012}"),
        reference: format!("ALG-2026-{n:06}"),
        language: "en".into(),
        narrative: format!("Shelling of the market, report {n}"),
        received: n as i64,
        ..Indexed::default()
    }
}

fn everything(live: &Live) -> u64 {
    live.search(&Ask::default(), None, 0, 100, false)
        .expect("the index answers")
        .1
        .count
}

/// A directory whose `meta.json` names segments that are gone — what a merge of an index
/// deleted under the service used to leave in the new one's place — opens as a new, empty
/// index to be rebuilt, not as an error on every try.
#[test]
fn a_damaged_index_is_opened_empty_to_be_rebuilt() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (live, _) = Live::open(dir.path()).expect("a new index");
    for n in 0..3 {
        live.write(&[doc(n)], &[], n as i64 + 1).expect("written");
    }
    assert_eq!(everything(&live), 3);
    live.close();
    drop(live);
    for entry in std::fs::read_dir(dir.path()).expect("listed") {
        let path = entry.expect("an entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if !name.ends_with(".json") && !name.starts_with('.') {
            std::fs::remove_file(&path).expect("a segment file removed");
        }
    }

    let (live, applied) = Live::open(dir.path()).expect("opened, empty");
    assert_eq!(applied, 0, "the rebuild starts from the first event");
    assert_eq!(everything(&live), 0);
    live.write(&[doc(7)], &[], 1).expect("written");
    assert_eq!(everything(&live), 1);
}

/// The pruned page is the page of a full sort by (score, key), ties included, whatever the
/// order the documents were written in and however many segments hold them.
#[test]
fn a_pruned_page_is_the_page_of_a_full_sort_by_score_then_key() {
    use tantivy::collector::sort_key::SortBySimilarityScore;

    let dir = tempfile::tempdir().expect("a temporary directory");
    let (live, _) = Live::open(dir.path()).expect("a new index");
    let words = ["market", "shelling", "school", "night", "drone", "convoy"];
    // Keys written out of order, in several commits (segments); narratives repeat, so
    // that many documents score the same.
    let mut docs: Vec<Indexed> = (0..600)
        .map(|n| {
            let key = (n * 7_919) % 600;
            let mut doc = doc(key);
            doc.narrative = (0..1 + n % 5)
                .map(|i| words[(n / 3 + i * (n % 4)) % words.len()])
                .collect::<Vec<_>>()
                .join(" ");
            doc
        })
        .collect();
    for (n, chunk) in docs.chunks_mut(150).enumerate() {
        live.write(chunk, &[], n as i64 + 1).expect("written");
    }
    let searcher = live.reader.searcher();
    let long = "market school night drone convoy shelling market school night";
    for question in [
        "market",
        "market school",
        "night drone convoy",
        "shelling",
        long,
    ] {
        let (query, terms) = live.words_query(question).expect("a query").expect("words");
        assert_eq!(
            terms > PRUNED_TERMS,
            question == long,
            "both ways are tried"
        );
        let full: Vec<String> = searcher
            .search(
                &query,
                &TopDocs::with_limit(1_000).order_by((
                    (SortBySimilarityScore, Order::Desc),
                    (SortByStaticFastValue::<u64>::for_field("key"), Order::Asc),
                )),
            )
            .expect("sorted in full")
            .into_iter()
            .map(|(_, address)| {
                let doc: TantivyDocument = searcher.doc(address).expect("stored");
                live.read(&doc).id
            })
            .collect();
        // Unfiltered, and with a filter (all but the best).
        for except in [None, Some(full[0].clone())] {
            let admitted: Vec<&String> = full
                .iter()
                .filter(|id| Some(*id) != except.as_ref())
                .collect();
            for (offset, limit) in [(0, 1), (0, 3), (2, 5), (0, 20), (40, 60), (0, 700)] {
                let expected: Vec<String> = admitted
                    .iter()
                    .skip(offset)
                    .take(limit)
                    .map(|id| (*id).clone())
                    .collect();
                let ask = Ask {
                    words: question.into(),
                    except: except.clone(),
                    ..Ask::default()
                };
                let (found, total) = live
                    .search(&ask, None, offset, limit, false)
                    .expect("searched");
                let got: Vec<String> = found.into_iter().map(|f| f.doc.id).collect();
                assert_eq!(
                    got, expected,
                    "{question:?} at {offset}+{limit}, {except:?}"
                );
                assert_eq!(total, Total::exact(admitted.len() as u64));
            }
        }
    }
}

/// Periods, boxes and circles, checked on each candidate of words or found as ranges
/// without words, admit exactly the documents they hold, counted in full.
#[test]
fn periods_boxes_and_circles_admit_exactly_what_they_hold() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (live, _) = Live::open(dir.path()).expect("a new index");
    let docs: Vec<Indexed> = (0..400)
        .map(|n| {
            let mut doc = doc(n);
            doc.narrative = ["market shelling", "school drone", "market convoy"][n % 3].into();
            // Every seventh without a period, every eleventh without coordinates.
            if n % 7 != 0 {
                let start = (n as i64 * 37) % 100;
                doc.period = Some((start, start + (n as i64 % 5)));
            }
            if n % 11 != 0 {
                doc.latitude = Some(39.0 + (n % 20) as f64 * 0.05);
                doc.longitude = Some(46.0 + (n % 13) as f64 * 0.05);
            }
            doc
        })
        .collect();
    for (n, chunk) in docs.chunks(100).enumerate() {
        live.write(chunk, &[], n as i64 + 1).expect("written");
    }
    let circle = Circle {
        latitude: 39.4,
        longitude: 46.3,
        radius_km: 20.0,
    };
    let questions: Vec<(Ask, Option<Circle>)> = vec![
        (
            Ask {
                period: (Some(20), Some(40)),
                ..Ask::default()
            },
            None,
        ),
        (
            Ask {
                period: (None, Some(10)),
                ..Ask::default()
            },
            None,
        ),
        (
            Ask {
                period: (Some(95), None),
                ..Ask::default()
            },
            None,
        ),
        (
            Ask {
                boxed: Some((39.2, 46.1, 39.6, 46.4)),
                ..Ask::default()
            },
            None,
        ),
        (
            Ask {
                boxed: Some(circle.bounds()),
                ..Ask::default()
            },
            Some(circle),
        ),
        (
            Ask {
                period: (Some(30), Some(60)),
                boxed: Some(circle.bounds()),
                ..Ask::default()
            },
            Some(circle),
        ),
    ];
    for (filters, circle) in questions {
        let holds = |d: &Indexed| {
            let (from, to) = filters.period;
            let in_period = match (from, to, d.period) {
                (None, None, _) => true,
                (_, _, None) => false,
                (from, to, Some((start, end))) => {
                    from.is_none_or(|from| end >= from) && to.is_none_or(|to| start <= to)
                }
            };
            let in_box = match (filters.boxed, d.latitude.zip(d.longitude)) {
                (None, _) => true,
                (Some(_), None) => false,
                (Some((a, b, c, e)), Some((lat, lon))) => {
                    a <= lat && lat <= c && b <= lon && lon <= e
                }
            };
            in_period && in_box && circle.is_none_or(|c| c.contains(d))
        };
        for words in ["", "market", "school drone"] {
            let ask = Ask {
                words: words.into(),
                ..filters.clone()
            };
            let expected: BTreeSet<String> = docs
                .iter()
                .filter(|d| holds(d))
                .filter(|d| {
                    words.is_empty()
                        || words
                            .split(' ')
                            .any(|w| d.narrative.split(' ').any(|n| n == w))
                })
                .map(|d| d.id.clone())
                .collect();
            assert!(!expected.is_empty(), "{ask:?} finds something");
            let (found, total) = live.search(&ask, circle, 0, 500, false).expect("searched");
            let got: BTreeSet<String> = found.into_iter().map(|f| f.doc.id).collect();
            assert_eq!(got, expected, "{ask:?} {circle:?}");
            assert_eq!(total, Total::exact(expected.len() as u64), "{ask:?}");
        }
    }
}

/// Counts stop at the cap across segments, and are exact under it.
#[test]
fn counts_are_capped_across_segments_and_exact_under_the_cap() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (live, _) = Live::open(dir.path()).expect("a new index");
    let docs: Vec<Indexed> = (0..16_000)
        .map(|n| {
            let mut doc = doc(n);
            doc.narrative = if n % 4 == 0 { "convoy" } else { "market" }.into();
            doc
        })
        .collect();
    for (n, chunk) in docs.chunks(4_000).enumerate() {
        live.write(chunk, &[], n as i64 + 1).expect("written");
    }
    let total = |words: &str| {
        let ask = Ask {
            words: words.into(),
            ..Ask::default()
        };
        live.search(&ask, None, 0, 10, false).expect("searched").1
    };
    assert_eq!(
        total("market"),
        Total {
            count: COUNT_CAP,
            more: true
        }
    );
    assert_eq!(total("convoy"), Total::exact(4_000));
}

/// A closed index writes nothing more: a late write is refused rather than landing in a
/// directory that another index now owns.
#[test]
fn a_closed_index_writes_nothing() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (live, _) = Live::open(dir.path()).expect("a new index");
    live.close();
    assert!(live.write(&[doc(1)], &[], 1).is_err());
    let (again, applied) = Live::open(dir.path()).expect("reopened: the lock is free");
    assert_eq!((applied, everything(&again)), (0, 0));
}
