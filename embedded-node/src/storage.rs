//! The node's SQLite database: one file in the data directory, WAL, migrations at start.
//!
//! Owns: how the database is opened. `synchronous = FULL` because an order is
//! acknowledged only after its commit, and that promise must hold through a power cut,
//! not only a crash of the process; the cost is paid once per group commit (see
//! `orders::queue`). Never: holds a global pool — the pool is part of the node's state.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::ConnectOptions;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("cannot open the database {path}: {source}")]
    Open { path: String, source: sqlx::Error },
    #[error("cannot migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

pub fn options(path: &Path) -> SqliteConnectOptions {
    SqliteConnectOptions::from_str("sqlite://")
        .expect("static URL")
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true)
        .pragma("temp_store", "memory")
}

/// Opens the database (creating it), runs migrations, and returns the read/write pool
/// plus the dedicated connection the order writer owns.
pub async fn open(path: &Path) -> Result<(SqlitePool, SqliteConnection), StorageError> {
    let opts = options(path);
    let open_err = |source| StorageError::Open { path: path.display().to_string(), source };
    let pool = SqlitePoolOptions::new().max_connections(4).min_connections(1).connect_with(opts.clone()).await.map_err(open_err)?;
    MIGRATOR.run(&pool).await?;
    let writer = opts.connect().await.map_err(open_err)?;
    Ok((pool, writer))
}
