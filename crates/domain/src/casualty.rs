//! Telling whether two reports name the same person: the pieces the casualty register's
//! matching is built from. Names arrive in Azerbaijani or Turkish Latin, in Russian or
//! Azerbaijani Cyrillic, in Armenian or in English spellings of any of them ("Məmmədov",
//! "Mamedov", "Мамедов"); each is brought to one plain Latin form ([`latin_form`]) and the forms
//! compared by Jaro-Winkler similarity ([`name_similarity`]), token by token so that the order
//! of given name and surname does not matter.
//!
//! Names are sealed at rest, so these run inside the service on opened values and nothing here
//! is stored: a key kept for blocking must be computed with a secret key (see DESIGN, "Trust").
//! The age band ([`age_band_of`]) is computed from an age or a year of birth, not from a name.

use crate::incident::{AgeBand, AgeGroup};

/// How similar two names must be to be proposed as the same person.
pub const CANDIDATE_SIMILARITY: f64 = 0.88;

/// One letter in a plain Latin spelling. Letters not listed are kept when ASCII letters and
/// dropped otherwise (marks, apostrophes, hyphens become separators).
fn latin(c: char) -> Option<&'static str> {
    Some(match c {
        // Azerbaijani and Turkish Latin.
        'ə' | 'ä' => "a",
        'ı' => "i",
        // The dot `İ` keeps when lower-cased.
        '\u{307}' => "",
        'ş' => "sh",
        'ç' => "ch",
        'ğ' => "gh",
        'ö' => "o",
        'ü' => "u",
        'x' => "kh",
        'é' | 'è' | 'ê' | 'ë' => "e",
        'á' | 'à' | 'â' => "a",
        'ó' | 'ò' | 'ô' => "o",
        'ú' | 'ù' | 'û' => "u",
        'í' | 'ì' | 'î' | 'ï' => "i",
        // Cyrillic, with the Azerbaijani letters.
        'а' | 'ә' => "a",
        'б' => "b",
        'в' => "v",
        'г' => "g",
        'ғ' => "gh",
        'д' => "d",
        'е' | 'ё' | 'э' => "e",
        'ж' => "zh",
        'з' => "z",
        'и' | 'і' | 'ы' => "i",
        'й' | 'ј' => "y",
        'к' | 'ҝ' => "k",
        'л' => "l",
        'м' => "m",
        'н' => "n",
        'о' | 'ө' => "o",
        'п' => "p",
        'р' => "r",
        'с' => "s",
        'т' => "t",
        'у' | 'ү' => "u",
        'ф' => "f",
        'х' => "kh",
        'һ' => "h",
        'ц' => "ts",
        'ч' => "ch",
        'ҹ' => "j",
        'ш' => "sh",
        'щ' => "shch",
        'ъ' | 'ь' => "",
        'ю' => "yu",
        'я' => "ya",
        // Armenian (`ու` is handled before, as `u`).
        'ա' => "a",
        'բ' => "b",
        'գ' => "g",
        'դ' => "d",
        'ե' | 'է' => "e",
        'զ' => "z",
        'ը' => "y",
        'թ' | 'տ' => "t",
        'ժ' => "zh",
        'ի' => "i",
        'լ' => "l",
        'խ' => "kh",
        'ծ' | 'ց' => "ts",
        'կ' | 'ք' => "k",
        'հ' => "h",
        'ձ' => "dz",
        'ղ' => "gh",
        'ճ' | 'չ' => "ch",
        'մ' => "m",
        'յ' => "y",
        'ն' => "n",
        'շ' => "sh",
        'ո' | 'օ' => "o",
        'պ' | 'փ' => "p",
        'ջ' => "j",
        'ռ' | 'ր' => "r",
        'ս' => "s",
        'վ' | 'ւ' => "v",
        'ֆ' => "f",
        'և' => "ev",
        _ => return None,
    })
}

/// `name` in one plain Latin spelling: lower case, transliterated, words separated by single
/// spaces, letters repeated in a row written once ("Məmmədov" → `mamadov`, "Мамедов" →
/// `mamedov`, "Հարությունյան" → `harutyunyan`).
pub fn latin_form(name: &str) -> String {
    let lower = name.to_lowercase().replace("ու", "u");
    let mut spelled = String::with_capacity(lower.len());
    for c in lower.chars() {
        match latin(c) {
            Some(text) => spelled.push_str(text),
            None if c.is_ascii_lowercase() => spelled.push(c),
            None => spelled.push(' '),
        }
    }
    let mut form = String::with_capacity(spelled.len());
    for word in spelled.split_whitespace() {
        if !form.is_empty() {
            form.push(' ');
        }
        let mut last = None;
        for c in word.chars() {
            if last != Some(c) {
                form.push(c);
            }
            last = Some(c);
        }
    }
    form
}

/// Jaro-Winkler similarity of `a` and `b`, from 0 (nothing alike) to 1 (equal).
pub fn jaro_winkler(a: &str, b: &str) -> f64 {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let window = (a.len().max(b.len()) / 2).saturating_sub(1);
    let mut a_matched = vec![false; a.len()];
    let mut b_matched = vec![false; b.len()];
    let mut matches = 0usize;
    for (i, ca) in a.iter().enumerate() {
        let from = i.saturating_sub(window);
        let to = (i + window + 1).min(b.len());
        for j in from..to {
            if !b_matched[j] && b[j] == *ca {
                a_matched[i] = true;
                b_matched[j] = true;
                matches += 1;
                break;
            }
        }
    }
    if matches == 0 {
        return 0.0;
    }
    let a_order = a
        .iter()
        .zip(&a_matched)
        .filter(|(_, m)| **m)
        .map(|(c, _)| c);
    let b_order = b
        .iter()
        .zip(&b_matched)
        .filter(|(_, m)| **m)
        .map(|(c, _)| c);
    let transpositions = a_order.zip(b_order).filter(|(x, y)| x != y).count() / 2;
    let m = matches as f64;
    let jaro = (m / a.len() as f64 + m / b.len() as f64 + (m - transpositions as f64) / m) / 3.0;
    let prefix = a.iter().zip(&b).take(4).take_while(|(x, y)| x == y).count();
    jaro + prefix as f64 * 0.1 * (1.0 - jaro)
}

/// How alike two names are, from 0 to 1, whatever script and word order each is written in:
/// each word of the name with fewer words is paired with its most similar word of the other,
/// and the similarities averaged.
pub fn name_similarity(a: &str, b: &str) -> f64 {
    form_similarity(&latin_form(a), &latin_form(b))
}

/// [`name_similarity`] of two names already in their [`latin_form`]: what an index of opened
/// names compares, having brought each name to its form once.
pub fn form_similarity(a: &str, b: &str) -> f64 {
    let a: Vec<&str> = a.split(' ').filter(|w| !w.is_empty()).collect();
    let b: Vec<&str> = b.split(' ').filter(|w| !w.is_empty()).collect();
    let (fewer, more) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if fewer.is_empty() {
        return 0.0;
    }
    let total: f64 = fewer
        .iter()
        .map(|word| {
            more.iter()
                .map(|other| jaro_winkler(word, other))
                .fold(0.0, f64::max)
        })
        .sum();
    total / fewer.len() as f64
}

/// The age group and, for a child, the age band of someone `years` old.
pub fn age_band_of(years: u32) -> (AgeGroup, Option<AgeBand>) {
    match years {
        0..=4 => (AgeGroup::Child, Some(AgeBand::Under5)),
        5..=11 => (AgeGroup::Child, Some(AgeBand::From5To11)),
        12..=17 => (AgeGroup::Child, Some(AgeBand::From12To17)),
        18..=64 => (AgeGroup::Adult, None),
        _ => (AgeGroup::Elderly, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_name_in_latin_cyrillic_and_armenian_scripts_has_one_latin_form() {
        assert_eq!(latin_form("Məmmədov"), "mamadov");
        assert_eq!(latin_form("Мамедов"), "mamedov");
        assert_eq!(latin_form("MAMEDOV"), "mamedov");
        assert_eq!(latin_form("Հարությունյան"), "harutyunyan");
        assert_eq!(latin_form("Harutyunyan"), "harutyunyan");
        assert_eq!(latin_form("Арутюнян"), "arutyunyan");
        assert_eq!(
            latin_form("  Əli   Məmmədov-Qasımov "),
            "ali mamadov qasimov"
        );
    }

    #[test]
    fn spellings_of_the_same_name_are_candidates_and_other_names_are_not() {
        for (a, b) in [
            ("Məmmədov", "Mamedov"),
            ("Məmmədov", "Мамедов"),
            ("Mamedov", "Мамедов"),
            ("Əli Məmmədov", "Мамедов Али"),
            ("Արայիկ Հարությունյան", "Arayik Harutyunyan"),
            ("Арутюнян Араик", "Arayik Harutyunyan"),
        ] {
            let similarity = name_similarity(a, b);
            assert!(
                similarity >= CANDIDATE_SIMILARITY,
                "{a} / {b}: {similarity}"
            );
        }
        for (a, b) in [
            ("Məmmədov", "Hüseynov"),
            ("Arayik Harutyunyan", "Davit Manukyan"),
            ("Əliyev", "Мамедов"),
        ] {
            let similarity = name_similarity(a, b);
            assert!(similarity < CANDIDATE_SIMILARITY, "{a} / {b}: {similarity}");
        }
    }

    #[test]
    fn jaro_winkler_matches_its_textbook_values() {
        assert!((jaro_winkler("martha", "marhta") - 0.961).abs() < 0.001);
        assert!((jaro_winkler("dwayne", "duane") - 0.84).abs() < 0.001);
        assert_eq!(jaro_winkler("", ""), 1.0);
        assert_eq!(jaro_winkler("abc", ""), 0.0);
    }

    #[test]
    fn an_age_gives_its_band() {
        assert_eq!(age_band_of(3), (AgeGroup::Child, Some(AgeBand::Under5)));
        assert_eq!(age_band_of(5), (AgeGroup::Child, Some(AgeBand::From5To11)));
        assert_eq!(
            age_band_of(17),
            (AgeGroup::Child, Some(AgeBand::From12To17))
        );
        assert_eq!(age_band_of(18), (AgeGroup::Adult, None));
        assert_eq!(age_band_of(65), (AgeGroup::Elderly, None));
    }
}
