//! Bounded free text: trimmed of surrounding white space, measured in characters.

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

/// Trims `value` and checks it holds 1 to `max` characters.
pub(crate) fn bounded(value: String, max: usize) -> Result<String, String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err("must not be empty".to_owned());
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
}
