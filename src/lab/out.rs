//! `--out` folders, checked before anything runs: an output path problem is
//! a usage error (exit 2, no `reproduce:` line), not a failed expectation.

use std::path::{Path, PathBuf};

/// Why `out` cannot be an output folder, without writing anything: it is a
/// file, or one of its ancestors is. A missing folder is fine (it is
/// created); whether it can be created is learned by [`prepare`].
pub fn check(out: &Path) -> Result<(), String> {
    let shown = out.display();
    let mut here = Some(out);
    while let Some(p) = here {
        if p.as_os_str().is_empty() {
            break;
        }
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => return Ok(()),
            Ok(_) if p == out => return Err(format!("--out {shown}: exists and is not a folder")),
            Ok(_) => return Err(format!("--out {shown}: {} is a file, not a directory", p.display())),
            Err(e)
                if matches!(e.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory) =>
            {
                here = p.parent()
            }
            Err(e) => return Err(format!("--out {shown}: {}: {e}", p.display())),
        }
    }
    Ok(())
}

/// [`check`], then creates the folder (and its missing parents).
pub fn prepare(out: &Path) -> Result<(), String> {
    check(out)?;
    std::fs::create_dir_all(out)
        .map_err(|e| format!("--out {}: cannot create the folder: {e}", out.display()))
}

/// `out` made absolute and free of `..` and symlinks as far as it exists;
/// the missing rest is appended as given.
pub fn canonical(out: &Path) -> std::io::Result<PathBuf> {
    let mut missing = Vec::new();
    let mut here = out.to_path_buf();
    loop {
        if here.as_os_str().is_empty() {
            here = std::env::current_dir()?;
        }
        match here.canonicalize() {
            Ok(c) => {
                let mut c = c;
                for part in missing.iter().rev() {
                    c.push(part);
                }
                return Ok(c);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let Some(name) = here.file_name().map(|n| n.to_os_string()) else {
                    return Err(e);
                };
                missing.push(name);
                here.pop();
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_on_the_way_is_named() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("afile");
        std::fs::write(&file, "x").unwrap();
        let e = check(&file.join("sub/deeper")).unwrap_err();
        assert!(e.ends_with(&format!("{} is a file, not a directory", file.display())), "{e}");
        assert_eq!(
            check(&file).unwrap_err(),
            format!("--out {}: exists and is not a folder", file.display())
        );
        assert!(check(&tmp.path().join("new/folder")).is_ok());
        assert!(!tmp.path().join("new").exists(), "check writes nothing");
    }

    #[test]
    fn canonical_appends_the_missing_part() {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path().canonicalize().unwrap();
        std::fs::create_dir(base.join("a")).unwrap();
        let c = canonical(&tmp.path().join("a/../a/b/c")).unwrap();
        assert_eq!(c, base.join("a/b/c"));
    }
}
