//! The histories a `lincheck` run covers: each path given is a history
//! file, or a directory searched (recursively) for `.edn` and `.jsonl`
//! files. Files come in sorted order, so every run lists them alike.

use std::path::{Path, PathBuf};

/// The extensions a directory is searched for.
const HISTORY_EXTENSIONS: [&str; 2] = ["edn", "jsonl"];

/// Why a path given on the command line yields no history.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct InputError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// The history files under `paths`, each path's files sorted. A path that
/// cannot be listed is an error in its place, so one bad path does not
/// hide the verdicts of the others.
pub fn history_files(paths: &[PathBuf]) -> Vec<Result<PathBuf, InputError>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found = Vec::new();
            match search(path, &mut found) {
                Ok(()) => {
                    found.sort();
                    files.extend(found.into_iter().map(Ok));
                }
                Err(error) => files.push(Err(error)),
            }
        } else {
            // A file, or a path that does not exist: reading it will say so.
            files.push(Ok(path.clone()));
        }
    }
    files
}

fn search(directory: &Path, found: &mut Vec<PathBuf>) -> Result<(), InputError> {
    let error = |source| InputError {
        path: directory.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(directory).map_err(error)? {
        let path = entry.map_err(error)?.path();
        if path.is_dir() {
            search(&path, found)?;
        } else if path
            .extension()
            .and_then(|extension| extension.to_str())
            .is_some_and(|extension| HISTORY_EXTENSIONS.contains(&extension))
        {
            found.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_are_searched_recursively_in_sorted_order() {
        let root = std::env::temp_dir().join(format!("electorate-inputs-{}", std::process::id()));
        std::fs::create_dir_all(root.join("b")).unwrap();
        for file in ["b/2.jsonl", "a.edn", "notes.txt", "b/1.edn"] {
            std::fs::write(root.join(file), "").unwrap();
        }
        let files: Vec<PathBuf> = history_files(&[root.clone(), root.join("missing.edn")])
            .into_iter()
            .map(Result::unwrap)
            .collect();
        std::fs::remove_dir_all(&root).unwrap();
        let expected: Vec<PathBuf> = ["a.edn", "b/1.edn", "b/2.jsonl", "missing.edn"]
            .iter()
            .map(|file| root.join(file))
            .collect();
        assert_eq!(files, expected);
    }
}
