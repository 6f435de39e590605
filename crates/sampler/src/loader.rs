//! A parallel, ordered, bounded batch loader usable from a plain loop.
//!
//! Worker threads load samples; the consumer receives them **in plan order**
//! whatever the thread count, and at most `prefetch` samples are in flight or
//! waiting, so memory stays bounded however slow the consumer is.
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
    /// Maximum samples in flight or waiting to be consumed (≥ 1).
    pub prefetch: usize,
    /// Samples per batch (≥ 1); the last batch may be shorter.
    pub batch_size: usize,
}

impl Default for LoaderConfig {
    fn default() -> Self {
        LoaderConfig {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            prefetch: 32,
            batch_size: 16,
        }
    }
}

type Job<I, T, E> = (usize, Arc<I>, Sender<Result<T, E>>);

/// Iterator of batches (`Vec<T>`) loaded in parallel from `items` by `load`.
///
/// An error of one sample ends its batch with that error; iteration continues
/// with the next batch, so a training loop can log and skip.
pub struct Loader<I, T, E> {
    pending: VecDeque<Receiver<Result<T, E>>>,
    items: std::vec::IntoIter<I>,
    next_index: usize,
    jobs: Option<Sender<Job<I, T, E>>>,
    workers: Vec<JoinHandle<()>>,
    cfg: LoaderConfig,
    len: usize,
}

impl<I, T, E> Loader<I, T, E>
where
    I: Send + Sync + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    /// Start `cfg.threads` workers that call `load(position, &item)`.
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
                    for (i, item, out) in rx.iter() {
                        // The consumer may have gone away: ignore send errors.
                        let _ = out.send(load(i, &item));
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

    fn fill(&mut self) {
        while self.pending.len() < self.cfg.prefetch {
            let Some(item) = self.items.next() else { break };
            let (otx, orx) = bounded(1);
            if let Some(jobs) = &self.jobs {
                // Workers live as long as `jobs`; sending cannot fail while we hold it.
                let _ = jobs.send((self.next_index, Arc::new(item), otx));
            }
            self.next_index += 1;
            self.pending.push_back(orx);
        }
    }
}

impl<I, T, E> Iterator for Loader<I, T, E>
where
    I: Send + Sync + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    type Item = Result<Vec<T>, E>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.pending.is_empty() {
            return None;
        }
        let mut batch = Vec::with_capacity(self.cfg.batch_size);
        let mut failure = None;
        let mut taken = 0;
        while taken < self.cfg.batch_size {
            taken += 1;
            let Some(rx) = self.pending.pop_front() else {
                break;
            };
            // A worker always answers each job it takes; recv fails only if a worker panicked.
            match rx.recv() {
                Ok(Ok(t)) => batch.push(t),
                Ok(Err(e)) => {
                    if failure.is_none() {
                        failure = Some(e);
                    }
                }
                Err(_) => panic!("a loader worker panicked"),
            }
            self.fill();
        }
        Some(match failure {
            Some(e) => Err(e),
            None => Ok(batch),
        })
    }
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
                prefetch: 6,
                batch_size: 2,
            },
            move |_, x: &u32| -> Result<u32, ()> {
                s.fetch_add(1, Ordering::SeqCst);
                Ok(*x)
            },
        );
        assert_eq!(loader.num_batches(), 50);
        let first = loader.next().unwrap().unwrap();
        assert_eq!(first, vec![0, 1]);
        std::thread::sleep(std::time::Duration::from_millis(50));
        // 2 consumed + at most 6 queued.
        assert!(
            started.load(Ordering::SeqCst) <= 8,
            "{}",
            started.load(Ordering::SeqCst)
        );
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
