//! The laptop's cores as the HTTP workers see them: which cores the node may run on,
//! holding a worker thread to one of them, and the core a connection's packets arrive
//! on (`SO_INCOMING_CPU`).
//!
//! Linux only; elsewhere nothing is pinned and no connection names a core, so workers
//! take connections in turn.

use std::io;
use std::thread::JoinHandle;

/// The cores this process may run on (its affinity mask), in order.
#[cfg(target_os = "linux")]
pub fn allowed() -> Vec<usize> {
    // SAFETY: a zeroed cpu_set_t is a valid empty set, and the kernel writes at most
    // `size_of::<cpu_set_t>()` bytes into it.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    if unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) } != 0 {
        return Vec::new();
    }
    (0..libc::CPU_SETSIZE as usize).filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) }).collect()
}

#[cfg(not(target_os = "linux"))]
pub fn allowed() -> Vec<usize> {
    Vec::new()
}

/// Holds `thread` to `cpu`.
#[cfg(target_os = "linux")]
pub fn pin<T>(thread: &JoinHandle<T>, cpu: usize) -> io::Result<()> {
    use std::os::unix::thread::JoinHandleExt;
    if cpu >= libc::CPU_SETSIZE as usize {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("core {cpu} is past the largest set")));
    }
    // SAFETY: as above; CPU_SET is in bounds (checked), and the pthread is alive while
    // its JoinHandle is held.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    unsafe { libc::CPU_SET(cpu, &mut set) };
    match unsafe { libc::pthread_setaffinity_np(thread.as_pthread_t(), std::mem::size_of::<libc::cpu_set_t>(), &set) } {
        0 => Ok(()),
        errno => Err(io::Error::from_raw_os_error(errno)),
    }
}

#[cfg(not(target_os = "linux"))]
pub fn pin<T>(_thread: &JoinHandle<T>, _cpu: usize) -> io::Result<()> {
    Err(io::Error::new(io::ErrorKind::Unsupported, "pinning threads is Linux only here"))
}

/// The core that handled the socket's latest incoming packet: the client's own core on
/// loopback, the receive queue's core for a network card. `None` when the kernel
/// does not say.
#[cfg(target_os = "linux")]
pub fn incoming(socket: &impl std::os::fd::AsRawFd) -> Option<usize> {
    let mut cpu: libc::c_int = -1;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: the option is an int; `cpu` and `len` describe it.
    let rc = unsafe { libc::getsockopt(socket.as_raw_fd(), libc::SOL_SOCKET, libc::SO_INCOMING_CPU, (&raw mut cpu).cast(), &mut len) };
    (rc == 0 && cpu >= 0).then_some(cpu as usize)
}

#[cfg(not(target_os = "linux"))]
pub fn incoming<S>(_socket: &S) -> Option<usize> {
    None
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn the_core_this_thread_runs_on_is_allowed() {
        let cores = allowed();
        assert!(cores.windows(2).all(|w| w[0] < w[1]), "{cores:?}");
        let now = unsafe { libc::sched_getcpu() };
        assert!(cores.contains(&(now as usize)), "core {now} not in {cores:?}");
    }

    #[test]
    fn a_pinned_thread_runs_on_its_core_and_a_connection_names_it() {
        let cores = allowed();
        let last = *cores.last().unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (go, wait) = std::sync::mpsc::channel::<()>();
        let client = std::thread::spawn(move || {
            wait.recv().unwrap();
            let core = unsafe { libc::sched_getcpu() };
            let stream = std::net::TcpStream::connect(addr).unwrap();
            (core, stream)
        });
        pin(&client, last).unwrap();
        go.send(()).unwrap();
        let (ran_on, _stream) = client.join().unwrap();
        assert_eq!(ran_on, last as i32, "the pinned thread ran on core {last}");
        let (accepted, _) = listener.accept().unwrap();
        // On loopback the client's core handles the handshake's packets.
        assert_eq!(incoming(&accepted), Some(last));
    }

    #[test]
    fn pinning_past_the_largest_set_is_refused() {
        let t = std::thread::spawn(|| ());
        assert!(pin(&t, libc::CPU_SETSIZE as usize).is_err());
        t.join().unwrap();
    }
}
