//! Signals: the first SIGINT/SIGTERM cancels the token so the pipeline stops
//! polling and drains; a second one exits at once. SIGHUP reloads the
//! configuration file: feeds, feed defaults and the rule pack.

use std::path::PathBuf;

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use crate::config::Settings;

/// Spawns the SIGHUP watcher: each SIGHUP reads and validates `config`
/// and, when it is valid, hands the new settings to the pipeline; an
/// invalid file is logged and the running configuration kept.
pub fn watch_reload(config: PathBuf) -> std::io::Result<mpsc::Receiver<Settings>> {
    let mut hangup = signal(SignalKind::hangup())?;
    let (tx, rx) = mpsc::channel(1);
    tokio::spawn(async move {
        while hangup.recv().await.is_some() {
            info!(config = %config.display(), "SIGHUP: reloading the configuration");
            match Settings::load(&config) {
                Ok(settings) => {
                    if tx.send(settings).await.is_err() {
                        return;
                    }
                }
                Err(err) => error!(
                    config = %config.display(),
                    error = %err,
                    "reload failed; the running configuration is kept"
                ),
            }
        }
    });
    Ok(rx)
}

/// Exit status used when a second signal cuts the drain short.
pub const EXIT_INTERRUPTED: i32 = 130;

/// Spawns the signal watcher for `token`.
pub fn watch_signals(token: CancellationToken) -> std::io::Result<()> {
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    tokio::spawn(async move {
        let mut received = 0;
        loop {
            let name = tokio::select! {
                _ = terminate.recv() => "SIGTERM",
                _ = interrupt.recv() => "SIGINT",
            };
            received += 1;
            if received == 1 {
                info!(
                    signal = name,
                    "shutting down: polling stopped, draining queued records"
                );
                token.cancel();
            } else {
                warn!(signal = name, "second signal: exiting now");
                std::process::exit(EXIT_INTERRUPTED);
            }
        }
    });
    Ok(())
}
