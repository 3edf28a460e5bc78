//! The memory tier's large bodies, kept in sealed memory files so that the socket
//! writer can hand their pages to the kernel (`sendfile`) instead of copying each answer
//! into the socket: what nginx's `sendfile` does from its disk cache, without the disk.
//!
//! A body of [`SEALED_FROM`] bytes or more is copied once into a `memfd`, sealed against
//! any change of size or content, and mapped read-only; the `Bytes` the store keeps
//! point into that mapping. [`Pages::find`] tells the writer which memory file and
//! offset lie behind a slice it was asked to send (a whole body, or a range of one).
//! With 256 connections each fetching a 200 KiB object, the copies were ~51 MB in
//! flight where nginx's answers referenced the same page-cache pages.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::{Arc, RwLock};

use bytes::Bytes;

/// Bodies at least this large are sealed; smaller ones are copied faster than their
/// pages are handed over.
pub const SEALED_FROM: usize = 64 * 1024;

/// At most this many bodies are sealed at once: each holds a file descriptor, and the
/// node must not run out of them for connections (a 64 MiB memory tier could hold a
/// thousand 64 KiB bodies). Past it, bodies stay on the heap and are copied as before.
pub const MAX_SEALED: usize = 256;

/// The sealed bodies alive now, by the address their mapping starts at.
#[derive(Default)]
pub struct Pages {
    regions: RwLock<BTreeMap<usize, Region>>,
}

#[derive(Clone)]
struct Region {
    len: usize,
    file: Arc<OwnedFd>,
}

/// Where a slice's bytes live: a sealed memory file and the offset in it. Holding it
/// keeps the file open; the caller holds the slice, which keeps the mapping.
pub struct Behind {
    file: Arc<OwnedFd>,
    pub offset: usize,
}

impl Behind {
    pub fn fd(&self) -> RawFd {
        self.file.as_raw_fd()
    }
}

impl Pages {
    /// `body` in a sealed memory file, when it is large enough and the kernel allows;
    /// otherwise `body` as it is.
    pub fn seal(self: &Arc<Self>, body: Bytes) -> Bytes {
        if body.len() < SEALED_FROM || self.regions.read().unwrap_or_else(|e| e.into_inner()).len() >= MAX_SEALED {
            return body;
        }
        match Sealed::new(self, &body) {
            Ok(sealed) => Bytes::from_owner(sealed),
            Err(e) => {
                tracing::debug!(error = %e, "cannot seal a body; it stays on the heap");
                body
            }
        }
    }

    /// The memory file behind `slice`, when all of it lies inside one sealed body.
    pub fn find(&self, slice: &[u8]) -> Option<Behind> {
        let start = slice.as_ptr() as usize;
        let regions = self.regions.read().unwrap_or_else(|e| e.into_inner());
        let (&base, region) = regions.range(..=start).next_back()?;
        (start + slice.len() <= base + region.len).then(|| Behind { file: region.file.clone(), offset: start - base })
    }

    fn add(&self, base: usize, region: Region) {
        self.regions.write().unwrap_or_else(|e| e.into_inner()).insert(base, region);
    }

    fn remove(&self, base: usize) {
        self.regions.write().unwrap_or_else(|e| e.into_inner()).remove(&base);
    }
}

/// One sealed body: its memory file and the read-only mapping of it. Unregistered and
/// unmapped when the last `Bytes` pointing into it goes.
struct Sealed {
    base: *const u8,
    len: usize,
    pages: Arc<Pages>,
}

// SAFETY: the mapping is read-only and sealed against writes and shrinking, so every
// thread sees the same bytes for as long as it exists; `base` is only read.
unsafe impl Send for Sealed {}
unsafe impl Sync for Sealed {}

impl Sealed {
    fn new(pages: &Arc<Pages>, body: &[u8]) -> io::Result<Sealed> {
        // SAFETY: a NUL-terminated name and valid flags; the fd is checked and owned at once.
        let fd = unsafe { libc::memfd_create(c"boothcloud-asset".as_ptr(), libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let file = unsafe { OwnedFd::from_raw_fd(fd) };
        let mut writer = std::fs::File::from(file.try_clone()?);
        writer.write_all(body)?;
        drop(writer);
        let seals = libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE | libc::F_SEAL_SEAL;
        if unsafe { libc::fcntl(file.as_raw_fd(), libc::F_ADD_SEALS, seals) } < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a fresh read-only shared mapping of a sealed file of exactly `len` bytes.
        let base = unsafe { libc::mmap(std::ptr::null_mut(), body.len(), libc::PROT_READ, libc::MAP_SHARED, file.as_raw_fd(), 0) };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let sealed = Sealed { base: base as *const u8, len: body.len(), pages: pages.clone() };
        pages.add(base as usize, Region { len: body.len(), file: Arc::new(file) });
        Ok(sealed)
    }
}

impl AsRef<[u8]> for Sealed {
    fn as_ref(&self) -> &[u8] {
        // SAFETY: `base` maps `len` readable bytes until `drop`.
        unsafe { std::slice::from_raw_parts(self.base, self.len) }
    }
}

impl Drop for Sealed {
    fn drop(&mut self) {
        self.pages.remove(self.base as usize);
        // SAFETY: the mapping made in `new`, unmapped once; no slice of it outlives the
        // last `Bytes` that owns this.
        unsafe { libc::munmap(self.base as *mut libc::c_void, self.len) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(len: usize) -> Bytes {
        (0..len).map(|i| (i % 251) as u8).collect::<Vec<u8>>().into()
    }

    #[test]
    fn a_large_body_is_sealed_and_found_by_any_slice_of_it() {
        let pages = Arc::new(Pages::default());
        let original = body(200 * 1024);
        let sealed = pages.seal(original.clone());
        assert_eq!(sealed, original);
        assert!(!std::ptr::eq(sealed.as_ptr(), original.as_ptr()), "copied into the memory file");
        let behind = pages.find(&sealed).expect("the whole body");
        assert_eq!(behind.offset, 0);
        let part = sealed.slice(1000..5000);
        assert_eq!(pages.find(&part).expect("a range of it").offset, 1000);
        // The memory file holds the same bytes.
        let mut read = vec![0u8; 4000];
        let n = unsafe { libc::pread(behind.fd(), read.as_mut_ptr().cast(), 4000, 1000) };
        assert_eq!(n, 4000);
        assert_eq!(read, &original[1000..5000]);
        assert!(pages.find(&original).is_none(), "heap bytes are not behind a memory file");
    }

    #[test]
    fn a_small_body_stays_on_the_heap() {
        let pages = Arc::new(Pages::default());
        let small = body(SEALED_FROM - 1);
        let kept = pages.seal(small.clone());
        assert!(std::ptr::eq(kept.as_ptr(), small.as_ptr()));
        assert!(pages.find(&kept).is_none());
    }

    #[test]
    fn the_last_slice_gone_the_body_is_forgotten() {
        let pages = Arc::new(Pages::default());
        let sealed = pages.seal(body(SEALED_FROM));
        let part = sealed.slice(10..20);
        drop(sealed);
        assert!(pages.find(&part).is_some(), "a slice keeps it");
        drop(part);
        assert!(pages.regions.read().unwrap().is_empty());
    }

    #[test]
    fn past_the_bound_bodies_stay_on_the_heap() {
        let pages = Arc::new(Pages::default());
        let sealed: Vec<Bytes> = (0..MAX_SEALED).map(|_| pages.seal(body(SEALED_FROM))).collect();
        assert!(sealed.iter().all(|b| pages.find(b).is_some()));
        let one_more = pages.seal(body(SEALED_FROM));
        assert!(pages.find(&one_more).is_none());
        drop(sealed);
        assert!(pages.find(&pages.seal(body(SEALED_FROM))).is_some(), "room again once bodies go");
    }

    #[test]
    fn the_memory_file_cannot_be_changed() {
        let pages = Arc::new(Pages::default());
        let sealed = pages.seal(body(SEALED_FROM));
        let behind = pages.find(&sealed).unwrap();
        let n = unsafe { libc::pwrite(behind.fd(), b"x".as_ptr().cast(), 1, 0) };
        assert_eq!(n, -1, "sealed against writes");
        assert_eq!(unsafe { libc::ftruncate(behind.fd(), 0) }, -1, "and against shrinking");
    }
}
