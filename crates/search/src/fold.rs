//! Folding words to a script-independent key, so that a name or place written in Azerbaijani
//! Latin, Cyrillic, Armenian or an English spelling is found from any of the others:
//! "Xocalı", "Ходжалы", "Խոջալու" and "Khojaly" all fold to `hjl`. The key is deliberately
//! coarse: it finds spellings, and ranking weighs it below the words as written.
//!
//! A word is first brought to its plain Latin form ([`latin_form`], shared with the casualty
//! register), then sounds that the spellings render differently are merged (`kh`/`x`/`h`/`g`,
//! `j`/`c`/`dzh`/`zh`, `sh`/`s`, …) and vowels after the first letter dropped, since the
//! scripts and transliterations disagree most on vowels (`Мамедов`/`Məmmədov`).

use docket_domain::casualty::latin_form;

/// Folded words shorter than this carry too little to be told apart, and are left out.
const MIN_KEY: usize = 2;

/// The folded key of one word; empty when nothing is left of it.
pub fn fold_word(word: &str) -> String {
    let latin = latin_form(word);
    fold_latin(&latin.replace(' ', ""))
}

fn fold_latin(latin: &str) -> String {
    // Longest spellings first, so that `shch` is not read as `sh` + `ch`.
    const MERGES: [(&str, &str); 12] = [
        ("shch", "s"),
        ("dzh", "j"),
        ("dj", "j"),
        ("zh", "j"),
        ("kh", "h"),
        ("gh", "h"),
        ("sh", "s"),
        ("ch", "c"),
        ("ts", "c"),
        ("ph", "f"),
        ("th", "t"),
        ("ck", "k"),
    ];
    let mut rest = latin;
    let mut merged = String::with_capacity(latin.len());
    'outer: while !rest.is_empty() {
        for (from, to) in MERGES {
            if let Some(after) = rest.strip_prefix(from) {
                merged.push_str(to);
                rest = after;
                continue 'outer;
            }
        }
        let mut chars = rest.chars();
        let Some(c) = chars.next() else { break };
        merged.push(match c {
            // Russian writes the `h` of Armenian and Azerbaijani names as `г` (Гадрут).
            'x' | 'g' => 'h',
            'q' => 'k',
            'w' => 'v',
            // Azerbaijani `c` is the sound of `j`; `y` is a vowel or a glide everywhere.
            'c' => 'j',
            'y' => 'i',
            other => other,
        });
        rest = chars.as_str();
    }
    let mut key = String::with_capacity(merged.len());
    let mut last = None;
    for (i, c) in merged.chars().enumerate() {
        let vowel = matches!(c, 'a' | 'e' | 'i' | 'o' | 'u');
        if i == 0 && vowel {
            key.push('a');
        } else if !vowel && last != Some(c) {
            key.push(c);
        }
        last = Some(c);
    }
    if key.chars().count() < MIN_KEY {
        String::new()
    } else {
        key
    }
}

/// The folded keys of every word of `text`, separated by spaces.
pub fn fold_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() / 2);
    for word in text.split(|c: char| !c.is_alphanumeric()) {
        if word.is_empty() || word.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let key = fold_word(word);
        if !key.is_empty() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(&key);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(words: &[&str]) {
        let keys: Vec<String> = words.iter().map(|w| fold_word(w)).collect();
        assert!(
            keys.iter().all(|k| k == &keys[0] && !k.is_empty()),
            "{words:?} fold to {keys:?}"
        );
    }

    #[test]
    fn places_and_names_fold_alike_in_every_script() {
        same(&["Xocalı", "Ходжалы", "Khojaly", "Խոջալու"]);
        same(&["Şuşa", "Шуша", "Shusha", "Շուշա"]);
        same(&["Stepanakert", "Степанакерт", "Ստեփանակերտ"]);
        same(&["Məmmədov", "Мамедов", "Mammadov", "Mamedov"]);
        same(&["Ağdam", "Агдам", "Aghdam", "Աղդամ"]);
        same(&["Hadrut", "Гадрут", "Հադրութ"]);
    }

    #[test]
    fn different_places_stay_apart() {
        assert_ne!(fold_word("Şuşa"), fold_word("Ağdam"));
        assert_ne!(fold_word("Xocalı"), fold_word("Hadrut"));
        assert_eq!(fold_text("12 дом, Шуша"), "dm ss");
    }
}
