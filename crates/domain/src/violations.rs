//! Collecting every problem with an input at once, each tied to the field it concerns.

use std::fmt;

/// One problem with one field. `field` is a path such as `victims[2].count`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    pub description: String,
}

/// Every problem found in an input. Empty means the input was valid.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Violations(Vec<FieldViolation>);

impl Violations {
    /// A single violation.
    pub fn single(field: impl Into<String>, description: impl Into<String>) -> Self {
        let mut violations = Self::default();
        violations.add(field, description);
        violations
    }

    /// Records a problem with `field`. Only the first problem found with a field is kept: a
    /// client fixing one field at a time is helped more by one clear reason than by two that
    /// repeat each other (an unknown enum value that is then also "required", say).
    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        let field = field.into();
        if self.0.iter().all(|known| known.field != field) {
            self.0.push(FieldViolation {
                field,
                description: description.into(),
            });
        }
    }

    /// Keeps the value of `result`, or records its error against `field`.
    pub fn check<T, E: fmt::Display>(&mut self, field: &str, result: Result<T, E>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.add(field, error.to_string());
                None
            }
        }
    }

    /// Keeps the value of `result`, or records its violations under `prefix`.
    pub fn nest<T>(&mut self, prefix: &str, result: Result<T, Violations>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(inner) => {
                self.absorb(prefix, inner);
                None
            }
        }
    }

    /// Records every violation of `inner` under `prefix`.
    pub fn absorb(&mut self, prefix: &str, inner: Violations) {
        for violation in inner.0 {
            let field = match (prefix.is_empty(), violation.field.is_empty()) {
                (true, _) => violation.field,
                (false, true) => prefix.to_owned(),
                (false, false) => format!("{prefix}.{}", violation.field),
            };
            self.add(field, violation.description);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &FieldViolation> {
        self.0.iter()
    }

    /// `Ok(())` when nothing was recorded.
    pub fn into_result(self) -> Result<(), Violations> {
        if self.is_empty() { Ok(()) } else { Err(self) }
    }
}

impl fmt::Display for Violations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for violation in &self.0 {
            if !first {
                f.write_str("; ")?;
            }
            first = false;
            write!(f, "{}: {}", violation.field, violation.description)?;
        }
        Ok(())
    }
}

impl std::error::Error for Violations {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_violations_carry_the_full_field_path() {
        let mut outer = Violations::default();
        let inner = Violations::single("count", "must be at least 1");
        outer.absorb("allegation.victims[3]", inner);
        let fields: Vec<_> = outer.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["allegation.victims[3].count"]);
    }

    #[test]
    fn an_empty_collection_is_ok() {
        assert!(Violations::default().into_result().is_ok());
        assert!(Violations::single("x", "bad").into_result().is_err());
    }
}
