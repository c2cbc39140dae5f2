//! Signals: the first SIGINT/SIGTERM cancels the token so the pipeline stops
//! polling and drains; a second one exits at once.

use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

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
