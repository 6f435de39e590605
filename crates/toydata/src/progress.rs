//! Progress reports of long generations, handed to the caller's callback
//! (the `ndsampler` CLI draws them as a bar; a library user may log them or
//! ignore them). This crate draws nothing itself.

/// One progress event of [`generate_with_progress`](crate::generate_with_progress).
///
/// A generation reports `Start` once per stage, then `Advance` steps whose
/// sum reaches the stage's `total`, then `Finish`. Events may come from
/// several threads at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress<'a> {
    /// A stage begins: `total` units of work (images, frames or pixel rows).
    Start {
        /// The stage's name (`"shapes"`, `"vidshapes"`, `"big"`).
        stage: &'a str,
        /// Units of work in the stage.
        total: u64,
    },
    /// `n` more units are done.
    Advance(u64),
    /// The stage is over.
    Finish,
}

/// The callback type taken by [`generate_with_progress`](crate::generate_with_progress).
pub type ProgressFn<'a> = &'a (dyn Fn(Progress<'_>) + Sync);

/// A stage's reporter: forwards to the callback, or does nothing.
#[derive(Clone, Copy)]
pub(crate) struct Reporter<'a> {
    callback: Option<ProgressFn<'a>>,
}

impl<'a> Reporter<'a> {
    /// Reports the start of a stage of `total` units.
    pub(crate) fn start(callback: Option<ProgressFn<'a>>, total: u64, stage: &str) -> Self {
        if let Some(f) = callback {
            f(Progress::Start { stage, total });
        }
        Reporter { callback }
    }

    pub(crate) fn inc(&self, n: u64) {
        if let Some(f) = self.callback {
            f(Progress::Advance(n));
        }
    }

    pub(crate) fn finish(&self) {
        if let Some(f) = self.callback {
            f(Progress::Finish);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn forwards_events_in_order_or_stays_silent() {
        let seen = Mutex::new(Vec::new());
        let record = |p: Progress<'_>| seen.lock().unwrap().push(format!("{p:?}"));
        let r = Reporter::start(Some(&record), 3, "big");
        r.inc(2);
        r.inc(1);
        r.finish();
        assert_eq!(
            *seen.lock().unwrap(),
            [
                "Start { stage: \"big\", total: 3 }",
                "Advance(2)",
                "Advance(1)",
                "Finish"
            ]
        );
        let silent = Reporter::start(None, 3, "big");
        silent.inc(1);
        silent.finish();
        assert_eq!(seen.lock().unwrap().len(), 4);
    }
}
