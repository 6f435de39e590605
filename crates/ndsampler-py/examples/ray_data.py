"""Loading ndsampler windows with Ray Data.

A plan (a list of targets, here a sliding-window grid) is fixed up front;
Ray Data streams its *keys* (plan positions) and a pool of actors turns
batches of keys into batches of pixels. Each actor opens the sampler once
(``LoadWindows.__init__``) and loads every batch in one Rust call with the
GIL released (``SamplerDataset(stacked=True).__getitems__``), so an actor
costs one dataset open, not one per batch::

    python examples/ray_data.py tests/fixtures/shapes4/data.kwcoco.json --window 64,64
    python examples/ray_data.py DATASET --rank 0 --world-size 2   # this rank's shard only
    python examples/ray_data.py DATASET --wds shards/             # `ndsampler export-wds` output

``--wds DIR`` reads the tar shards that ``ndsampler export-wds DATASET
--plan PLAN --out DIR`` wrote with ``ray.data.read_webdataset`` instead
(no sampler on the workers: the pixels are in the shards).

Needs ``pip install "ray[data]"`` (ray, pyarrow, pandas) and ``ndsampler_rs``.
"""
import argparse
import json
import time

import numpy as np

from ndsampler_rs import CocoSampler
from ndsampler_rs.torch import SamplerDataset, shard_indices


def _ragged(parts):
    """A 1-d object array holding one array per sample (Ray stores it as a
    variable-shaped tensor column). ``np.array(parts)`` would stack equal
    shapes into one array instead."""
    out = np.empty(len(parts), dtype=object)
    for k, p in enumerate(parts):
        out[k] = p
    return out


class LoadWindows:
    """The ``map_batches`` callable class: one per actor.

    ``__init__`` opens the sampler (``backend``/``workdir`` as
    ``CocoSampler``; ``threads=1`` as the actor is the unit of parallelism)
    and keeps the plan; ``__call__`` takes a batch ``{'index': (N,)}`` of
    plan positions and returns numpy columns, one row per window:

    * ``index`` (N,) the plan positions, ``im`` (N, H, W, C) the pixels,
    * ``aids`` (N,) ragged int arrays, ``boxes`` (N,) ragged (k, 4) xywh
      arrays in window coordinates, ``cids`` (N,) ragged category ids.
    """

    def __init__(self, dataset, targets, backend=None, workdir=None, threads=1,
                 visible_thresh=0.0):
        self.sampler = CocoSampler(dataset, backend=backend, workdir=workdir, threads=threads)
        self.data = SamplerDataset(self.sampler, targets, stacked=True,
                                   visible_thresh=visible_thresh)

    def __call__(self, batch):
        index = np.asarray(batch['index'], dtype=np.int64)
        b = self.data.__getitems__(index.tolist())
        n = len(index)
        # per-annotation rows (batch_index says whose) split into one row per window
        order = np.argsort(b['batch_index'], kind='stable')
        cuts = np.searchsorted(b['batch_index'][order], np.arange(1, n))
        rows = np.split(order, cuts)
        return {
            'index': index,
            'im': b['im'],
            'aids': _ragged([b['aids'][r] for r in rows]),
            'cids': _ragged([b['cids'][r] for r in rows]),
            'boxes': _ragged([np.asarray(b['rel_boxes'][r], dtype=np.float64).reshape(-1, 4)
                              for r in rows]),
        }


def plan_keys(n, epoch=0, seed=0, shuffle=True, rank=0, world_size=1, drop_last=False):
    """A Ray Dataset of this rank's plan positions for ``epoch`` (the order and
    shard ``PlanSampler``/torch's ``DistributedSampler`` give)."""
    import ray.data
    keys = shard_indices(n, epoch, seed=seed, shuffle=shuffle, drop_last=drop_last,
                         rank=rank, world_size=world_size)
    return ray.data.from_items([{'index': i} for i in keys])


def windows(dataset, targets, keys, batch_size=32, concurrency=2, backend=None,
            workdir=None, num_cpus=1):
    """``keys`` (a Dataset with an ``index`` column) mapped to windows by a
    pool of ``concurrency`` ``LoadWindows`` actors (``num_cpus`` each)."""
    import ray.data
    return keys.map_batches(
        LoadWindows,
        fn_constructor_kwargs=dict(dataset=str(dataset), targets=targets, backend=backend,
                                   workdir=None if workdir is None else str(workdir)),
        batch_size=batch_size, batch_format='numpy',
        compute=ray.data.ActorPoolStrategy(size=concurrency),  # `concurrency=` before Ray 2.51
        num_cpus=num_cpus)


def read_shards(directory):
    """``ndsampler export-wds`` shards as a Ray Dataset: columns ``__key__``,
    ``npy`` (the window's pixels, decoded) and ``json`` (its target and
    annotations, decoded; ``plan_index`` is the plan position)."""
    import ray.data
    return ray.data.read_webdataset(str(directory), decoder=True, file_extensions=['tar'])


def main():
    import ray
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('dataset')
    p.add_argument('--window', default='64,64', help='grid window H,W')
    p.add_argument('--plan', help='a JSON plan (a list of targets or `ndsampler grid` output) '
                                  'instead of the grid')
    p.add_argument('--backend')
    p.add_argument('--workdir')
    p.add_argument('--batch-size', type=int, default=32)
    p.add_argument('--concurrency', type=int, default=2, help='loader actors')
    p.add_argument('--epoch', type=int, default=0)
    p.add_argument('--rank', type=int, default=0)
    p.add_argument('--world-size', type=int, default=1)
    p.add_argument('--wds', help='read `ndsampler export-wds` shards from this directory instead')
    p.add_argument('--num-cpus', type=int, default=2)
    args = p.parse_args()

    ray.init(num_cpus=args.num_cpus, include_dashboard=False)
    if args.wds:
        t0 = time.perf_counter()
        n = 0
        for batch in read_shards(args.wds).iter_batches(batch_size=args.batch_size,
                                                        batch_format='numpy'):
            n += len(batch['__key__'])
        print(f'{n} samples from the shards in {time.perf_counter() - t0:.2f} s')
        return

    if args.plan:
        plan = json.loads(open(args.plan).read())
        targets = plan['targets'] if isinstance(plan, dict) else plan
    else:
        h, w = (int(x) for x in args.window.split(','))
        sampler = CocoSampler(args.dataset, backend=args.backend, workdir=args.workdir)
        targets = sampler.new_sample_grid('image_detection', (h, w))['targets']
    keys = plan_keys(len(targets), epoch=args.epoch, rank=args.rank,
                     world_size=args.world_size)
    ds = windows(args.dataset, targets, keys, batch_size=args.batch_size,
                 concurrency=args.concurrency, backend=args.backend, workdir=args.workdir)
    t0 = time.perf_counter()
    n = n_annots = 0
    # iter_torch_batches(...) yields the same columns as torch tensors (the
    # ragged ones stay lists); a Ray Train worker would use
    # ray.train.get_dataset_shard(...).iter_torch_batches(...) instead.
    for batch in ds.iter_batches(batch_size=args.batch_size, batch_format='numpy'):
        n += len(batch['index'])
        n_annots += sum(len(a) for a in batch['aids'])
    dt = time.perf_counter() - t0
    print(f'{n} windows ({n_annots} annotations) of {len(targets)} in the plan, '
          f'rank {args.rank}/{args.world_size}, in {dt:.2f} s ({n / dt:.0f} windows/s)')


if __name__ == '__main__':
    main()
