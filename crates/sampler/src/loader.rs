//! A parallel, ordered, bounded batch loader usable from a plain loop.
//!
//! Each worker thread loads **whole batches** (consecutive runs of the plan), as
//! PyTorch's `DataLoader` workers do; the consumer receives the batches **in plan
//! order** whatever the thread count, and at most `prefetch` batches are in
//! flight or waiting, so memory stays bounded however slow the consumer is.
//!
//! Handing out batches rather than single samples matters: a sample of a small
//! window takes tens of microseconds, about what one cross-thread hand-off
//! (queue, wake-up, context switch) costs, so per-sample hand-offs made two
//! threads slower than one on a 2-core machine. With one hand-off per batch the
//! overhead is divided by the batch size.
//!
//! ```
//! use sampler::loader::{Loader, LoaderConfig};
//! let items: Vec<u32> = (0..10).collect();
//! let loader = Loader::new(items, LoaderConfig { threads: 2, prefetch: 4, batch_size: 3 },
//!     |_i, x: &u32| -> Result<u32, String> { Ok(x * 2) });
//! let batches: Vec<Vec<u32>> = loader.map(|b| b.unwrap()).collect();
//! assert_eq!(batches, vec![vec![0, 2, 4], vec![6, 8, 10], vec![12, 14, 16], vec![18]]);
//! ```

use std::collections::VecDeque;
use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender, bounded, unbounded};

/// Loader settings.
#[derive(Debug, Clone, Copy)]
pub struct LoaderConfig {
    /// Worker threads (≥ 1).
    pub threads: usize,
    /// Maximum **batches** in flight or waiting to be consumed (≥ 1). Fewer
    /// than `threads` leaves workers idle; `2 × threads` keeps every worker
    /// busy while the consumer works on a batch.
    pub prefetch: usize,
    /// Samples per batch (≥ 1); the last batch may be shorter.
    pub batch_size: usize,
}

impl Default for LoaderConfig {
    fn default() -> Self {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        LoaderConfig {
            threads,
            prefetch: 2 * threads,
            batch_size: 16,
        }
    }
}

/// One batch of work: the plan position of its first item, its items, and
/// where to send the result.
type Job<I, T, E> = (usize, Vec<I>, Sender<Result<Vec<T>, E>>);

/// Iterator of batches (`Vec<T>`) loaded in parallel from `items` by `load`.
///
/// An error of one sample ends its batch with that error (the rest of that
/// batch is not loaded); iteration continues with the next batch, so a training
/// loop can log and skip.
pub struct Loader<I, T, E> {
    pending: VecDeque<Receiver<Result<Vec<T>, E>>>,
    items: std::vec::IntoIter<I>,
    next_index: usize,
    jobs: Option<Sender<Job<I, T, E>>>,
    workers: Vec<JoinHandle<()>>,
    cfg: LoaderConfig,
    len: usize,
}

impl<I, T, E> Loader<I, T, E>
where
    I: Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    /// Start `cfg.threads` workers that call `load(position, &item)` for the
    /// items of each batch, in order.
    pub fn new<F>(items: Vec<I>, cfg: LoaderConfig, load: F) -> Self
    where
        F: Fn(usize, &I) -> Result<T, E> + Send + Sync + 'static,
    {
        let cfg = LoaderConfig {
            threads: cfg.threads.max(1),
            prefetch: cfg.prefetch.max(1),
            batch_size: cfg.batch_size.max(1),
        };
        let (tx, rx) = unbounded::<Job<I, T, E>>();
        let load = Arc::new(load);
        let workers = (0..cfg.threads)
            .map(|_| {
                let rx = rx.clone();
                let load = Arc::clone(&load);
                std::thread::spawn(move || {
                    for (first, items, out) in rx.iter() {
                        let batch: Result<Vec<T>, E> = items
                            .iter()
                            .enumerate()
                            .map(|(k, item)| load(first + k, item))
                            .collect();
                        // The consumer may have gone away: ignore send errors.
                        let _ = out.send(batch);
                    }
                })
            })
            .collect();
        let len = items.len();
        let mut loader = Loader {
            pending: VecDeque::new(),
            items: items.into_iter(),
            next_index: 0,
            jobs: Some(tx),
            workers,
            cfg,
            len,
        };
        loader.fill();
        loader
    }

    /// Number of batches this loader yields in total.
    pub fn num_batches(&self) -> usize {
        self.len.div_ceil(self.cfg.batch_size)
    }

    /// Number of samples over all batches.
    pub fn num_samples(&self) -> usize {
        self.len
    }

    fn fill(&mut self) {
        while self.pending.len() < self.cfg.prefetch {
            let items: Vec<I> = self.items.by_ref().take(self.cfg.batch_size).collect();
            if items.is_empty() {
                break;
            }
            let (otx, orx) = bounded(1);
            let n = items.len();
            if let Some(jobs) = &self.jobs {
                // Workers live as long as `jobs`; sending cannot fail while we hold it.
                let _ = jobs.send((self.next_index, items, otx));
            }
            self.next_index += n;
            self.pending.push_back(orx);
        }
    }
}

impl<I, T, E> Iterator for Loader<I, T, E>
where
    I: Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    type Item = Result<Vec<T>, E>;

    fn next(&mut self) -> Option<Self::Item> {
        let rx = self.pending.pop_front()?;
        // A worker always answers each job it takes; recv fails only if a worker panicked.
        let batch = match rx.recv() {
            Ok(b) => b,
            Err(_) => panic!("a loader worker panicked"),
        };
        self.fill();
        Some(batch)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.pending.len() + self.items.len().div_ceil(self.cfg.batch_size);
        (left, Some(left))
    }
}

impl<I, T, E> ExactSizeIterator for Loader<I, T, E>
where
    I: Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
}

impl<I, T, E> Drop for Loader<I, T, E> {
    fn drop(&mut self) {
        self.jobs = None; // closes the job channel: workers finish and exit
        self.pending.clear();
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn order_is_stable_across_thread_counts() {
        let items: Vec<u64> = (0..97).collect();
        let run = |threads| {
            Loader::new(
                items.clone(),
                LoaderConfig {
                    threads,
                    prefetch: 5,
                    batch_size: 8,
                },
                |i, x: &u64| -> Result<(usize, u64), ()> {
                    // Uneven work so completion order differs from plan order.
                    std::thread::sleep(std::time::Duration::from_micros((x % 7) * 50));
                    Ok((i, x * 3))
                },
            )
            .flat_map(|b| b.unwrap())
            .collect::<Vec<_>>()
        };
        let one = run(1);
        assert_eq!(one.len(), 97);
        assert!(
            one.iter()
                .enumerate()
                .all(|(i, &(j, v))| i == j && v == 3 * i as u64)
        );
        assert_eq!(run(4), one);
    }

    #[test]
    fn prefetch_bounds_work_in_flight() {
        let started = Arc::new(AtomicUsize::new(0));
        let s = Arc::clone(&started);
        let mut loader = Loader::new(
            (0..100).collect::<Vec<u32>>(),
            LoaderConfig {
                threads: 3,
                prefetch: 3,
                batch_size: 2,
            },
            move |_, x: &u32| -> Result<u32, ()> {
                s.fetch_add(1, Ordering::SeqCst);
                Ok(*x)
            },
        );
        assert_eq!(loader.num_batches(), 50);
        assert_eq!(loader.len(), 50);
        let first = loader.next().unwrap().unwrap();
        assert_eq!(first, vec![0, 1]);
        assert_eq!(loader.len(), 49);
        std::thread::sleep(std::time::Duration::from_millis(50));
        // 1 batch consumed + at most 3 batches of 2 queued.
        let n = started.load(Ordering::SeqCst);
        assert!(n <= 8, "{n} samples started");
        assert!(n >= 2, "{n} samples started");
    }

    #[test]
    fn positions_passed_to_load_are_plan_positions() {
        let out: Vec<usize> = Loader::new(
            vec![(); 23],
            LoaderConfig {
                threads: 3,
                prefetch: 2,
                batch_size: 5,
            },
            |i, _: &()| -> Result<usize, ()> { Ok(i) },
        )
        .flat_map(|b| b.unwrap())
        .collect();
        assert_eq!(out, (0..23).collect::<Vec<_>>());
    }

    #[test]
    fn errors_end_their_batch_only() {
        let out: Vec<Result<Vec<u32>, String>> = Loader::new(
            (0..6).collect::<Vec<u32>>(),
            LoaderConfig {
                threads: 2,
                prefetch: 4,
                batch_size: 2,
            },
            |_, x: &u32| {
                if *x == 3 {
                    Err(format!("bad {x}"))
                } else {
                    Ok(*x)
                }
            },
        )
        .collect();
        assert_eq!(out.len(), 3);
        assert_eq!(out[0], Ok(vec![0, 1]));
        assert_eq!(out[1], Err("bad 3".to_string()));
        assert_eq!(out[2], Ok(vec![4, 5]));
    }
}
