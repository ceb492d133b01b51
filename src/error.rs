//! The one error type of keju, [`Error`], with variants by kind.
//!
//! Every variant carries structured fields (`path`, `column`, `line`, `value`, `expected`) so
//! that `--format json` can report them; `Display` gives the one-line message the CLI prints:
//! lowercase, no final period, naming file, column and line, with an optional `hint:` line.

use serde::Serialize;

/// Result alias used across the crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Everything that can go wrong in keju, by kind.
///
/// Exit code: all variants map to exit 1 in the binary (usage errors from clap exit 2).
#[derive(Debug, thiserror::Error, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Error {
    /// A file could not be opened, read or written.
    #[error("{path}: {message}")]
    Io { path: String, message: String },

    /// A column named by the user is not in the data.
    #[error("{path}: column \"{column}\" not found{}", hint_line(.suggestion))]
    ColumnNotFound {
        path: String,
        column: String,
        suggestion: Option<String>,
    },

    /// A cell could not be read as the type the model needs.
    #[error("{path}: column \"{column}\", line {line}: \"{value}\" is not {expected}")]
    Parse {
        path: String,
        column: String,
        /// 1-based line as an editor shows it (the header is line 1).
        line: usize,
        value: String,
        expected: String,
    },

    /// The data do not have the shape a command needs (empty file, duplicate key, ...).
    #[error("{path}: {message}")]
    Schema { path: String, message: String },

    /// A formula or expression could not be parsed.
    #[error("formula \"{formula}\", at character {position}: {message}")]
    Formula {
        formula: String,
        /// 1-based character position of the problem.
        position: usize,
        message: String,
    },

    /// A spec (replication) file is invalid.
    #[error("{path}: key \"{key}\": {message}")]
    Spec {
        path: String,
        key: String,
        message: String,
    },

    /// A bad option value that the argument parser could not catch.
    #[error("{message}")]
    Usage { message: String },

    /// The model cannot be estimated on these data (no observations left, all terms dropped...).
    #[error("{message}")]
    Estimation { message: String },

    /// Any error, with what keju was doing when it happened.
    #[error("{context}: {source}")]
    Context {
        context: String,
        #[source]
        source: Box<Error>,
    },
}

fn hint_line(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(s) => format!("\nhint: did you mean \"{s}\"?"),
        None => String::new(),
    }
}

impl Error {
    /// Shorthand for an [`Error::Estimation`].
    pub fn estimation(message: impl Into<String>) -> Self {
        Error::Estimation {
            message: message.into(),
        }
    }

    /// Shorthand for an [`Error::Usage`].
    pub fn usage(message: impl Into<String>) -> Self {
        Error::Usage {
            message: message.into(),
        }
    }

    /// Wrap this error with what keju was doing.
    pub fn context(self, context: impl Into<String>) -> Self {
        Error::Context {
            context: context.into(),
            source: Box::new(self),
        }
    }

    /// The error as a JSON object (`{"error": {...,"message": "..."}}`), for `--format json`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        if let serde_json::Value::Object(ref mut m) = v {
            m.insert("message".into(), self.to_string().into());
        }
        serde_json::json!({ "error": v })
    }
}

/// The candidate closest to `name` by edit distance, if it is close enough to be a likely typo.
///
/// Used for "did you mean" hints on column and option names. Case is ignored.
pub fn closest<'a, I: IntoIterator<Item = &'a str>>(name: &str, candidates: I) -> Option<String> {
    let target: Vec<char> = name.to_lowercase().chars().collect();
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let cand: Vec<char> = c.to_lowercase().chars().collect();
        let d = edit_distance(&target, &cand);
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    let limit = (target.len() / 3).max(2);
    best.filter(|(d, _)| *d <= limit)
        .map(|(_, c)| c.to_string())
}

fn edit_distance(a: &[char], b: &[char]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_finds_typo() {
        assert_eq!(closest("fimr", ["firm", "year", "x"]), Some("firm".into()));
        assert_eq!(closest("zzzzzz", ["firm", "year"]), None);
    }

    #[test]
    fn column_not_found_message_has_hint() {
        let e = Error::ColumnNotFound {
            path: "a.csv".into(),
            column: "fimr".into(),
            suggestion: Some("firm".into()),
        };
        assert_eq!(
            e.to_string(),
            "a.csv: column \"fimr\" not found\nhint: did you mean \"firm\"?"
        );
        assert_eq!(e.to_json()["error"]["kind"], "column_not_found");
    }
}
