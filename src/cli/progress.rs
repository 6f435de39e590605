//! Progress bars of the CLI (libraries report progress through callbacks;
//! drawing is the binary's job). Bars go to stderr and stay hidden when stderr
//! is not a terminal.

use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Draws `toydata`'s progress events as one bar per stage.
#[derive(Default)]
pub struct ToydataBar {
    bar: Mutex<Option<ProgressBar>>,
}

impl ToydataBar {
    /// Handles one event (the callback given to `toydata::generate_with_progress`).
    pub fn report(&self, event: toydata::Progress<'_>) {
        // A poisoned lock only means another thread panicked while drawing.
        let mut slot = self.bar.lock().unwrap_or_else(|e| e.into_inner());
        match event {
            toydata::Progress::Start { stage, total } => {
                let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
                bar.set_style(
                    ProgressStyle::with_template(
                        "{msg:>12} [{elapsed_precise}] {wide_bar} {pos}/{len} (eta {eta})",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                bar.set_message(stage.to_string());
                *slot = Some(bar);
            }
            toydata::Progress::Advance(n) => {
                if let Some(bar) = slot.as_ref() {
                    bar.inc(n);
                }
            }
            toydata::Progress::Finish => {
                if let Some(bar) = slot.take() {
                    bar.finish_and_clear();
                }
            }
        }
    }
}

/// `toydata::generate_with_progress` with a bar on stderr.
pub fn generate_toydata(
    key: &str,
    seed: Option<u64>,
    out: &std::path::Path,
    allow_large: bool,
) -> anyhow::Result<toydata::Summary> {
    let bar = ToydataBar::default();
    let progress = |p: toydata::Progress<'_>| bar.report(p);
    let opts = toydata::GenerateOptions {
        allow_large,
        progress: Some(&progress),
    };
    Ok(toydata::generate_with(key, seed, out, opts)?)
}
