//! What the log needs of a disk: named files in one directory that can be
//! read, written at an offset, truncated, fsynced and renamed, and the
//! directory itself fsynced. [`FileDisk`] is the real one (optionally
//! "lazy": see below); [`super::simulated::SimDisk`] is the seeded
//! in-memory one the tests crash and corrupt.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A directory of files. Writes are not durable until [`Disk::sync`];
/// a file's creation or rename is not durable until [`Disk::sync_dir`].
pub trait Disk {
    /// The whole content of `name` as a read would see it, or `None` if it
    /// does not exist.
    fn read(&mut self, name: &str) -> io::Result<Option<Vec<u8>>>;
    /// Writes `bytes` at `offset`, creating the file if needed.
    fn write(&mut self, name: &str, offset: u64, bytes: &[u8]) -> io::Result<()>;
    fn truncate(&mut self, name: &str, len: u64) -> io::Result<()>;
    /// fsync: every write to `name` so far is durable when this returns Ok.
    fn sync(&mut self, name: &str) -> io::Result<()>;
    fn rename(&mut self, from: &str, to: &str) -> io::Result<()>;
    /// Removes `name` if it exists (not durable until [`Disk::sync_dir`]).
    fn remove(&mut self, name: &str) -> io::Result<()>;
    /// fsync of the directory: creations and renames so far are durable.
    fn sync_dir(&mut self) -> io::Result<()>;
    /// Where `name` is, for error messages.
    fn path(&self, name: &str) -> PathBuf;
    /// How long an fsync takes, for a simulated disk (see
    /// [`crate::driver::storage::Storage::modelled_sync_latency`]).
    fn modelled_sync_latency(&self) -> Option<std::time::Duration> {
        None
    }
}

/// Files in a real directory.
///
/// In **lazy** mode (in the spirit of Jepsen's lazyfs) a write stays in
/// this process's memory until the file is fsynced: only then does it reach
/// the kernel, and the fsync follows at once. A `SIGKILL` therefore loses
/// every write that was not fsynced, as a power loss could — where a plain
/// file would keep it in the kernel's page cache and hide a missing or
/// late fsync from a crash test. It models the power loss that loses all
/// unsynced writes; torn and reordered ones are the simulated disk's part.
pub struct FileDisk {
    directory: PathBuf,
    lazy: bool,
    open: BTreeMap<String, File>,
    /// Lazy mode: writes not yet handed to the kernel, per file, in order.
    unsynced: BTreeMap<String, Vec<(u64, Vec<u8>)>>,
    /// Fault injection: each fsync of a file waits this long first.
    sync_delay: Duration,
}

impl FileDisk {
    pub fn new(directory: &Path, lazy: bool) -> io::Result<FileDisk> {
        std::fs::create_dir_all(directory)?;
        Ok(FileDisk {
            directory: directory.to_owned(),
            lazy,
            open: BTreeMap::new(),
            unsynced: BTreeMap::new(),
            sync_delay: Duration::ZERO,
        })
    }

    /// Fault injection, for testing health-based abdication on a real
    /// process: every later fsync of a file (not of the directory) waits
    /// `delay` before it syncs, as a slow or overloaded disk would.
    pub fn with_sync_delay(mut self, delay: Duration) -> FileDisk {
        self.sync_delay = delay;
        self
    }

    fn file(&mut self, name: &str) -> io::Result<&mut File> {
        if !self.open.contains_key(name) {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(self.directory.join(name))?;
            self.open.insert(name.to_owned(), file);
        }
        Ok(self.open.get_mut(name).expect("just opened"))
    }

    fn write_through(&mut self, name: &str, offset: u64, bytes: &[u8]) -> io::Result<()> {
        let file = self.file(name)?;
        file.seek(SeekFrom::Start(offset))?;
        file.write_all(bytes)
    }

    /// Lazy mode: hands `name`'s unsynced writes to the kernel.
    fn flush(&mut self, name: &str) -> io::Result<()> {
        for (offset, bytes) in self.unsynced.remove(name).unwrap_or_default() {
            self.write_through(name, offset, &bytes)?;
        }
        Ok(())
    }
}

impl Disk for FileDisk {
    fn read(&mut self, name: &str) -> io::Result<Option<Vec<u8>>> {
        let mut bytes = match std::fs::read(self.directory.join(name)) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                if !self.unsynced.contains_key(name) {
                    return Ok(None);
                }
                Vec::new()
            }
            Err(error) => return Err(error),
        };
        for (offset, data) in self.unsynced.get(name).into_iter().flatten() {
            if data.is_empty() {
                // An empty write past the end extends nothing, as pwrite(2).
                continue;
            }
            let end = *offset as usize + data.len();
            if bytes.len() < end {
                bytes.resize(end, 0);
            }
            bytes[*offset as usize..end].copy_from_slice(data);
        }
        Ok(Some(bytes))
    }

    fn write(&mut self, name: &str, offset: u64, bytes: &[u8]) -> io::Result<()> {
        if self.lazy {
            self.unsynced
                .entry(name.to_owned())
                .or_default()
                .push((offset, bytes.to_vec()));
            return Ok(());
        }
        self.write_through(name, offset, bytes)
    }

    fn truncate(&mut self, name: &str, len: u64) -> io::Result<()> {
        self.flush(name)?;
        self.file(name)?.set_len(len)
    }

    fn sync(&mut self, name: &str) -> io::Result<()> {
        if !self.sync_delay.is_zero() {
            std::thread::sleep(self.sync_delay);
        }
        self.flush(name)?;
        self.file(name)?.sync_data()
    }

    fn rename(&mut self, from: &str, to: &str) -> io::Result<()> {
        self.flush(from)?;
        self.open.remove(from);
        self.open.remove(to);
        std::fs::rename(self.directory.join(from), self.directory.join(to))?;
        // Unsynced writes to the file the rename replaced died with it: they
        // must not land on the file renamed in. (A rename that failed
        // replaced nothing, and they stand.)
        self.unsynced.remove(to);
        Ok(())
    }

    fn remove(&mut self, name: &str) -> io::Result<()> {
        self.open.remove(name);
        self.unsynced.remove(name);
        match std::fs::remove_file(self.directory.join(name)) {
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
            result => result,
        }
    }

    fn sync_dir(&mut self) -> io::Result<()> {
        File::open(&self.directory)?.sync_all()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.directory.join(name)
    }
}
