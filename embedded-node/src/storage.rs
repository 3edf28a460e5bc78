//! The node's SQLite database: one file in the data directory, WAL, migrations at start.
//!
//! Owns: how the database is opened. `synchronous = FULL` because an order is
//! acknowledged only after its commit, and that promise must hold through a power cut,
//! not only a crash of the process; the cost is paid once per group commit (see
//! `orders::queue`). Never: holds a global pool — the pool is part of the node's state.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("cannot open the database {path}: {source}")]
    Open { path: String, source: sqlx::Error },
    #[error("cannot open the order writer's connection to {path}: {source}")]
    Writer { path: String, source: rusqlite::Error },
    #[error("cannot migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// How long a connection waits for another's write lock before it gives up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

pub fn options(path: &Path) -> SqliteConnectOptions {
    SqliteConnectOptions::from_str("sqlite://")
        .expect("static URL")
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(BUSY_TIMEOUT)
        .foreign_keys(true)
        .pragma("temp_store", "memory")
}

/// Opens the database (creating it), runs migrations, and returns the read/write pool
/// plus the dedicated connection the order writer owns (synchronous: it lives on the
/// writer's own thread, see `orders::queue`), with the same settings as the pool's.
pub async fn open(path: &Path) -> Result<(SqlitePool, rusqlite::Connection), StorageError> {
    let opts = options(path);
    let open_err = |source| StorageError::Open { path: path.display().to_string(), source };
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .min_connections(1)
        .connect_with(opts)
        .await
        .map_err(open_err)?;
    MIGRATOR.run(&pool).await?;
    // Opened in place: a file that exists and is migrated opens in well under a
    // millisecond, once, at start-up.
    let writer = open_writer(path)
        .map_err(|source| StorageError::Writer { path: path.display().to_string(), source })?;
    Ok((pool, writer))
}

/// The order writer's connection: WAL (already set on the file by the pool),
/// synchronous = FULL, the same busy timeout, foreign keys on.
fn open_writer(path: &Path) -> Result<rusqlite::Connection, rusqlite::Error> {
    let conn = rusqlite::Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY;")?;
    Ok(conn)
}
