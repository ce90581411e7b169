//! Scenario load errors: file, line:column, key, and what is allowed.

use std::fmt;

/// An error found at a byte span of the scenario text, not yet located.
#[derive(Debug)]
pub struct SpanError {
    pub key: String,
    pub span: Option<std::ops::Range<usize>>,
    pub message: String,
}

impl SpanError {
    pub fn located(self, src: &str, file: &str) -> LoadError {
        let offset = self.span.map_or(0, |s| s.start).min(src.len());
        let before = &src[..offset];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        let key = if self.key.is_empty() || self.key == "." { "(file)".to_string() } else { self.key };
        LoadError::Invalid { file: file.to_string(), line, col, key, message: self.message }
    }
}

/// Why a scenario could not be loaded. Its `Display` is the one-line message
/// the CLI prints before exiting with status 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadError {
    Io { file: String, error: String },
    Invalid { file: String, line: usize, col: usize, key: String, message: String },
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Io { file, error } => write!(f, "{file}: cannot read the scenario: {error}"),
            LoadError::Invalid { file, line, col, key, message } => {
                write!(f, "{file}:{line}:{col}: {key}: {message}")
            }
        }
    }
}

impl std::error::Error for LoadError {}
