//! Bounded readers of the files fraclab writes, for every consumer (plots,
//! sweep merge and `--resume`, `Summary::read`): a size limit first, then
//! the typed schema, with errors that name the file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::schema::{Manifest, Row};

/// The largest `summary.json` or `sweep.json` a reader accepts.
pub const JSON_FILE_MAX: u64 = 256 << 20;

/// A file of at most `max` bytes, as text.
pub fn read_bounded(path: &Path, max: u64) -> Result<String, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    if bytes.len() as u64 > max {
        return Err(format!("{}: larger than {max} bytes; not a file fraclab writes", path.display()));
    }
    String::from_utf8(bytes).map_err(|e| format!("{}: not UTF-8 text: {e}", path.display()))
}

/// Reads `dir/sweep.json`: the format string exactly, then every size
/// within the limits `fraclab sweep` itself enforces, the run count and the
/// columns consistent with the grid. Errors name the file, line and key.
pub fn read_manifest(dir: &Path) -> Result<Manifest, String> {
    let path = dir.join("sweep.json");
    if !path.exists() {
        return Err(format!("{}: not a sweep folder (no sweep.json)", dir.display()));
    }
    let text = read_bounded(&path, JSON_FILE_MAX)?;
    Manifest::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The longest row a reader accepts (a real row is a few hundred bytes).
const ROW_BYTES_MAX: u64 = 16 << 10;

/// Why `sweep.csv` could not be read.
#[derive(Debug)]
pub enum RowsError {
    /// The file could not be read.
    Io(PathBuf, std::io::Error),
    /// It is not this sweep's: `sweep.csv:LINE: column X: …`.
    Bad(String),
}

/// The complete rows of `dir/sweep.csv`, by run index, each checked
/// against the manifest ([`Manifest::parse_rows`]), and the count of a last
/// line cut off mid-write. A missing file has no rows.
pub fn read_rows(dir: &Path, m: &Manifest) -> Result<(BTreeMap<u64, Row>, usize), RowsError> {
    let path = dir.join("sweep.csv");
    let held = m.held_runs();
    let max = (held + 1).saturating_mul(ROW_BYTES_MAX);
    let bytes = match std::fs::metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((BTreeMap::new(), 0)),
        Err(e) => return Err(RowsError::Io(path, e)),
        Ok(meta) if meta.len() > max => {
            return Err(RowsError::Bad(format!(
                "{}: {} bytes, more than {} rows of this sweep can hold",
                path.display(),
                meta.len(),
                held
            )));
        }
        Ok(_) => std::fs::read(&path).map_err(|e| RowsError::Io(path.clone(), e))?,
    };
    m.parse_rows(&bytes).map_err(|(line, what)| RowsError::Bad(format!("{}:{line}: {what}", path.display())))
}
