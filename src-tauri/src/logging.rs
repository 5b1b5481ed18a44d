//! `tracing` to a daily-rotated file in the app's log folder (7 files kept), plus stderr in
//! debug builds. Level from `INKSTONE_LOG` (an `EnvFilter` string), default `info`.

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter, Layer};

/// Keeps the background log writer alive; dropping it flushes and stops file logging.
pub struct LogGuard(#[allow(dead_code)] WorkerGuard);

#[derive(Debug, thiserror::Error)]
pub enum LoggingError {
    /// Occurs when the log folder cannot be created or the log file opened.
    #[error("cannot open the log file in {dir}: {source}")]
    File {
        dir: String,
        source: tracing_appender::rolling::InitError,
    },
}

/// Starts logging into `log_dir`. If a global subscriber is already set (tests that build
/// several apps in one process), the first one stays and this one only holds its writer.
pub fn init(log_dir: &Path) -> Result<LogGuard, LoggingError> {
    let appender = RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix("inkstone")
        .filename_suffix("log")
        .max_log_files(7)
        .build(log_dir)
        .map_err(|source| LoggingError::File {
            dir: log_dir.display().to_string(),
            source,
        })?;
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter =
        || EnvFilter::try_from_env("INKSTONE_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let file_layer = fmt::layer()
        .with_writer(writer)
        .with_ansi(false)
        .with_filter(filter());
    let stderr_layer = cfg!(debug_assertions).then(|| {
        fmt::layer()
            .with_writer(std::io::stderr)
            .with_filter(filter())
    });
    let _already_set = tracing_subscriber::registry()
        .with(file_layer)
        .with(stderr_layer)
        .try_init();
    Ok(LogGuard(guard))
}
