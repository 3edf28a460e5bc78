//! A connection's socket as hyper writes to it: what lies in one of the memory tier's
//! sealed bodies (see `assets::pages`) goes out with `sendfile` from its memory file,
//! the kernel referencing those pages instead of copying them; everything else is
//! written as before. Reads pass straight through.
//!
//! hyper hands an answer over as vectored writes (its head, then the body's `Bytes`),
//! so the body arrives here as a slice of the mapping the store keeps; the head before
//! it is sent with `MSG_MORE`, so the two still leave in full segments.

use std::io::{self, IoSlice};
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::TcpStream;

use crate::assets::pages::{Pages, SEALED_FROM};

pub struct Wire {
    stream: TcpStream,
    pages: Option<Arc<Pages>>,
}

impl Wire {
    pub fn new(stream: TcpStream, pages: Option<Arc<Pages>>) -> Wire {
        Wire { stream, pages }
    }

    /// Runs `io` when the socket is writable, as often as it would block.
    fn poll_send(&self, cx: &mut Context<'_>, io: impl Fn(i32) -> isize) -> Poll<io::Result<usize>> {
        let fd = self.stream.as_raw_fd();
        loop {
            ready!(self.stream.poll_write_ready(cx))?;
            let sent = self.stream.try_io(Interest::WRITABLE, || match io(fd) {
                n if n < 0 => Err(io::Error::last_os_error()),
                n => Ok(n as usize),
            });
            match sent {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                other => return Poll::Ready(other),
            }
        }
    }
}

impl AsyncRead for Wire {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Wire {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.poll_write_vectored(cx, &[IoSlice::new(buf)])
    }

    fn poll_write_vectored(self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[IoSlice<'_>]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let Some(pages) = &this.pages else { return Pin::new(&mut this.stream).poll_write_vectored(cx, bufs) };
        let sealed =
            bufs.iter().enumerate().find_map(|(i, b)| (b.len() >= SEALED_FROM / 2).then(|| pages.find(b)).flatten().map(|at| (i, at)));
        match sealed {
            None => Pin::new(&mut this.stream).poll_write_vectored(cx, bufs),
            // What comes before the sealed slice (the head), marked as more to come.
            Some((i, _)) if i > 0 => {
                let head = &bufs[..i];
                this.poll_send(cx, |fd| {
                    // SAFETY: `head` is a live array of IoSlices, which have iovec's layout.
                    let msg = libc::msghdr {
                        msg_name: std::ptr::null_mut(),
                        msg_namelen: 0,
                        msg_iov: head.as_ptr() as *mut libc::iovec,
                        msg_iovlen: head.len(),
                        msg_control: std::ptr::null_mut(),
                        msg_controllen: 0,
                        msg_flags: 0,
                    };
                    unsafe { libc::sendmsg(fd, &msg, libc::MSG_MORE | libc::MSG_NOSIGNAL) }
                })
            }
            Some((_, at)) => {
                let len = bufs[0].len();
                this.poll_send(cx, |fd| {
                    let mut offset = at.offset as libc::off_t;
                    // SAFETY: both descriptors are open (the stream and `at`'s memory
                    // file), and `offset` is a local the kernel may advance.
                    unsafe { libc::sendfile(fd, at.fd(), &mut offset, len) }
                })
            }
        }
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Writes `parts` in order through `wire`, as hyper does: vectored writes, resumed
    /// after each partial one.
    async fn write_all_vectored(wire: &mut Wire, parts: &[Bytes]) {
        let mut parts: Vec<Bytes> = parts.to_vec();
        while parts.iter().any(|p| !p.is_empty()) {
            let slices: Vec<IoSlice<'_>> = parts.iter().filter(|p| !p.is_empty()).map(|p| IoSlice::new(p)).collect();
            let mut n = wire.write_vectored(&slices).await.unwrap();
            assert!(n > 0);
            for part in parts.iter_mut() {
                let take = n.min(part.len());
                let _ = part.split_to(take);
                n -= take;
            }
        }
        wire.flush().await.unwrap();
    }

    async fn pair(sndbuf: Option<usize>) -> (TcpStream, TcpStream) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        if let Some(size) = sndbuf {
            set_send_buffer(&server, size);
        }
        (server, client)
    }

    fn set_send_buffer(stream: &TcpStream, size: usize) {
        let size = size as libc::c_int;
        let rc = unsafe {
            libc::setsockopt(
                stream.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_SNDBUF,
                (&raw const size).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        assert_eq!(rc, 0);
    }

    async fn round_trip(sndbuf: Option<usize>) {
        let pages = Arc::new(Pages::default());
        let body: Bytes = (0..300_000u32).map(|i| (i % 253) as u8).collect::<Vec<u8>>().into();
        let sealed = pages.seal(body.clone());
        assert!(pages.find(&sealed).is_some());
        let head = Bytes::from_static(b"HTTP/1.1 200 OK\r\ncontent-length: 300000\r\n\r\n");
        let range = sealed.slice(70_000..270_000);
        let (server, mut client) = pair(sndbuf).await;
        let mut wire = Wire::new(server, Some(pages.clone()));
        let writer = tokio::spawn(async move {
            write_all_vectored(&mut wire, &[head, sealed, Bytes::from_static(b"tail"), range]).await;
            wire.shutdown().await.unwrap();
        });
        let mut got = Vec::new();
        client.read_to_end(&mut got).await.unwrap();
        writer.await.unwrap();
        let expected = [&b"HTTP/1.1 200 OK\r\ncontent-length: 300000\r\n\r\n"[..], &body, b"tail", &body[70_000..270_000]].concat();
        assert_eq!(got.len(), expected.len());
        assert!(got == expected, "the bytes sent from the memory file are the body's, in order");
    }

    #[tokio::test]
    async fn sealed_bodies_and_ranges_arrive_whole_and_in_order() {
        round_trip(None).await;
    }

    #[tokio::test]
    async fn with_a_small_send_buffer_partial_sends_resume_where_they_stopped() {
        round_trip(Some(4096)).await;
    }
}
