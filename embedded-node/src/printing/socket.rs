//! Raw ESC/POS over TCP (port 9100): a receipt printer's own language, sent with short
//! connect and write timeouts, and its real-time status (DLE EOT) asked before a job.
//!
//! Owns: the conversation with one socket printer. Never: retries (the worker decides),
//! or waits on a printer longer than its timeouts.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
pub const STATUS_TIMEOUT: Duration = Duration::from_millis(1500);

/// What the printer says of itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Ready,
    /// It answered but cannot print: why, in words (paper out, cover open, offline).
    Cannot(String),
    /// It answered no status query (many network adapters do not pass them on): printed
    /// on trust.
    Silent,
}

#[derive(Debug, thiserror::Error)]
pub enum SocketError {
    /// Nothing was sent: safe to try again.
    #[error("the printer at {0} cannot be reached: {1}")]
    Unreachable(String, String),
    /// Part of the job may have reached the printer.
    #[error("the printer at {0} stopped taking the job part-way: {1}")]
    Broken(String, String),
}

impl SocketError {
    /// Whether any byte of the job may have reached the printer.
    pub fn may_have_printed(&self) -> bool {
        matches!(self, SocketError::Broken(..))
    }
}

async fn connect(addr: &str) -> Result<TcpStream, SocketError> {
    match timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await {
        Ok(Ok(s)) => Ok(s),
        Ok(Err(e)) => Err(SocketError::Unreachable(addr.into(), e.to_string())),
        Err(_) => Err(SocketError::Unreachable(addr.into(), "no answer within 3 s".into())),
    }
}

/// One DLE EOT `n` query and its one-byte answer.
async fn ask(stream: &mut TcpStream, n: u8) -> Option<u8> {
    stream.write_all(&[0x10, 0x04, n]).await.ok()?;
    let mut b = [0u8; 1];
    match timeout(STATUS_TIMEOUT, stream.read_exact(&mut b)).await {
        // A status byte always has bit 4 set and bits 0, 1 and 7 clear.
        Ok(Ok(_)) if b[0] & 0b1001_0011 == 0b0001_0010 => Some(b[0]),
        _ => None,
    }
}

/// Reads the printer's state: DLE EOT 1 (online), 2 (cover, paper feed), 4 (paper).
pub async fn status(stream: &mut TcpStream) -> Status {
    let Some(printer) = ask(stream, 1).await else { return Status::Silent };
    let offline = printer & 0b0000_1000 != 0;
    let cause = ask(stream, 2).await.unwrap_or(0);
    let paper = ask(stream, 4).await.unwrap_or(0);
    if paper & 0b0110_0000 != 0 {
        return Status::Cannot("out of paper".into());
    }
    if cause & 0b0000_0100 != 0 {
        return Status::Cannot("the cover is open".into());
    }
    if cause & 0b0010_0000 != 0 {
        return Status::Cannot("stopped: out of paper".into());
    }
    if cause & 0b0100_0000 != 0 {
        return Status::Cannot("in error".into());
    }
    if offline {
        return Status::Cannot("offline".into());
    }
    Status::Ready
}

/// Asks the printer its state without printing.
pub async fn check(addr: &str) -> Result<Status, SocketError> {
    let mut stream = connect(addr).await?;
    Ok(status(&mut stream).await)
}

/// Sends a job: status first (a printer that says it cannot print gets nothing), then
/// every byte within the write timeout. `Ok(Err(why))`: the printer refused, nothing
/// was sent.
pub async fn print(addr: &str, bytes: &[u8]) -> Result<Result<(), String>, SocketError> {
    let mut stream = connect(addr).await?;
    if let Status::Cannot(why) = status(&mut stream).await {
        return Ok(Err(why));
    }
    let written = timeout(WRITE_TIMEOUT, async {
        stream.write_all(bytes).await?;
        stream.flush().await?;
        stream.shutdown().await
    })
    .await;
    match written {
        Ok(Ok(())) => Ok(Ok(())),
        Ok(Err(e)) => Err(SocketError::Broken(addr.into(), e.to_string())),
        Err(_) => Err(SocketError::Broken(addr.into(), "the job was not taken within 5 s".into())),
    }
}
