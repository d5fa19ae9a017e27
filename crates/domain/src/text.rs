//! Bounded free text: trimmed of surrounding white space, measured in characters, and free of
//! control characters. Every text field of every request passes through [`bounded`], so what
//! one database stores the other stores too: PostgreSQL refuses a NUL in text, SQLite keeps it,
//! and neither has any use for a control character beyond tab and line breaks.

/// Declares a newtype over `String` holding 1 to `$max` characters of text that is not only white
/// space, with `parse` as the only way in.
macro_rules! bounded_text {
    ($(#[$meta:meta])* $name:ident, $max:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            /// The longest accepted value, in characters.
            pub const MAX_CHARS: usize = $max;

            pub fn parse(value: impl Into<String>) -> Result<Self, String> {
                $crate::text::bounded(value.into(), Self::MAX_CHARS).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

pub(crate) use bounded_text;

/// Trims `value` and checks it holds 1 to `max` characters and no control character but tab,
/// line feed and carriage return.
pub(crate) fn bounded(value: String, max: usize) -> Result<String, String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if let Some(control) = trimmed.chars().find(|&c| is_forbidden_control(c)) {
        return Err(format!(
            "must not contain control characters (found U+{:04X}); tab and line breaks are allowed",
            u32::from(control)
        ));
    }
    let chars = trimmed.chars().count();
    if chars > max {
        return Err(format!("must be at most {max} characters, got {chars}"));
    }
    Ok(if trimmed.len() == value.len() {
        value
    } else {
        trimmed.to_owned()
    })
}

/// A control character that has no place in text: all but tab, line feed and carriage return.
fn is_forbidden_control(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// Whether `c` is an invisible character that changes how the text around it is shown: the
/// bidirectional controls (which make `CON\u{202E}gpj.exe` read as `CONexe.jpg`), and the other
/// format characters that show nothing (soft hyphen, zero-width space, word joiner, byte order
/// mark, invisible operators, tags…), as well as line and paragraph separators. The zero-width
/// non-joiner and joiner are not among them: Persian and other scripts, and emoji, need them.
pub(crate) fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'
            | '\u{200E}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// Like [`bounded`] but an empty or blank value is `None`.
pub(crate) fn optional_bounded(value: String, max: usize) -> Result<Option<String>, String> {
    if value.trim().is_empty() {
        Ok(None)
    } else {
        bounded(value, max).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_and_bounded_in_characters() {
        assert_eq!(bounded("  a ".into(), 1).as_deref(), Ok("a"));
        assert!(bounded("   ".into(), 5).is_err());
        // Five characters, ten bytes: the bound counts characters.
        assert!(bounded("ağrı!".into(), 5).is_ok());
        assert!(bounded("ağrı!!".into(), 5).is_err());
        assert_eq!(optional_bounded(" ".into(), 5), Ok(None));
    }

    #[test]
    fn control_characters_are_refused_but_tabs_and_line_breaks_kept() {
        assert!(bounded("a\0b".into(), 10).is_err());
        assert!(bounded("\0".into(), 10).is_err());
        assert!(optional_bounded("unit\u{7}".into(), 10).is_err());
        assert!(bounded("a\u{85}b".into(), 10).is_err());
        assert!(bounded("line one\r\n\tline two".into(), 30).is_ok());
        // Right-to-left text with its marks is text.
        assert!(bounded("\u{200F}שלום\u{200F}".into(), 30).is_ok());
    }

    #[test]
    fn bidirectional_controls_and_invisible_formatting_are_told_apart_from_joiners() {
        for c in [
            '\u{202E}', '\u{2066}', '\u{200E}', '\u{061C}', '\u{200B}', '\u{FEFF}',
        ] {
            assert!(is_invisible_format(c), "U+{:04X}", u32::from(c));
        }
        for c in ['a', 'ş', '\u{200C}', '\u{200D}', ' ', '.'] {
            assert!(!is_invisible_format(c), "U+{:04X}", u32::from(c));
        }
    }
}
