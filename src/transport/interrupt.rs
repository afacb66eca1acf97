//! Ctrl-C for a run over many hosts: the first press cancels a token (no new
//! host starts; commands in flight are stopped and their shells closed), the
//! second quits at once with exit code 130.

use tokio_util::sync::CancellationToken;

/// Listen for Ctrl-C in the background; returns the token it cancels.
pub fn watch_ctrl_c() -> CancellationToken {
    let token = CancellationToken::new();
    let trigger = token.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_err() {
            return; // No signal handling here: nothing to watch.
        }
        eprintln!(
            "\ninterrupted: stopping commands and closing shells (Ctrl-C again to quit at once)"
        );
        trigger.cancel();
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!(
                "interrupted again: quitting; shells still open are reaped by the hosts when idle"
            );
            std::process::exit(crate::exit::INTERRUPTED);
        }
    });
    token
}
