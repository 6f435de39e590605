"""PyTorch integration (torch itself is optional and never imported here).

``SamplerDataset`` is a map-style dataset whose keys carry the epoch
(``(epoch, i)``), so no mutable epoch state lives in worker copies; its
``__getitems__`` (which torch's fetcher calls with a whole batch of keys)
loads the batch in Rust in parallel with the GIL released, in one call.
``PlanSampler`` yields those keys with torch ``DistributedSampler``'s
sharding: every rank gets the same number of keys (padded by repeating the
epoch's first positions, or the tail dropped with ``drop_last``), because
ranks with different batch counts hang DDP::

    from torch.utils.data import DataLoader
    from ndsampler_rs import CocoSampler
    from ndsampler_rs.torch import SamplerDataset, PlanSampler, collate

    sampler = CocoSampler('data.kwcoco.json')
    targets = [sampler.regions.get_positive(i) for i in range(sampler.n_positives)]
    dataset = SamplerDataset(sampler, targets)
    keys = PlanSampler(len(dataset), seed=0, shuffle=True)     # rank from torch.distributed / RANK
    loader = DataLoader(dataset, batch_size=32, sampler=keys, num_workers=2,
                        collate_fn=collate, multiprocessing_context='spawn')
    for epoch in range(10):
        keys.set_epoch(epoch)
        for batch in loader: ...

Both pickle by recipe (the sampler's path and options, the target list),
so spawn and forkserver workers reopen the dataset cheaply.
"""
import math
import os

import numpy as np

from ndsampler_rs import CocoSampler, NativeTargets, _stacked_out, _with_annots

__all__ = ['SamplerDataset', 'PreselectDataset', 'PlanSampler', 'collate', 'shard_indices']


class SamplerDataset:
    """Map-style dataset over a fixed list of targets.

    A key is ``i`` or ``(epoch, i)`` (the epoch is accepted so that keys
    from ``PlanSampler`` pass through; a fixed plan gives the same window
    every epoch).

    ``stacked=False``: ``__getitems__`` returns a list of sample dicts
    (``transform(sample) -> item`` applied to each), for torch's default
    collate or ``collate``. ``stacked=True``: it returns the batch already
    stacked (``CocoSampler.load_batch_stacked``: one ``(N, ...)`` array and
    per-annotation arrays with a ``batch_index``), the fast path; use
    ``collate`` (which passes it through) as the DataLoader's ``collate_fn``.
    """

    def __init__(self, sampler, targets, with_annots=True, visible_thresh=0.0,
                 transform=None, stacked=False):
        self.sampler = sampler
        self.targets = [dict(t) for t in targets]
        self._texts = [self._to_json(t) for t in self.targets]
        self.with_annots = with_annots
        self.visible_thresh = visible_thresh
        self.transform = transform
        self.stacked = stacked

    def __len__(self):
        return len(self.targets)

    def _index(self, key):
        i = key[1] if isinstance(key, tuple) else key
        i = int(i)
        if not -len(self.targets) <= i < len(self.targets):
            raise IndexError(f'key {key!r} out of range for {len(self.targets)} targets')
        return i

    def __getitem__(self, key):
        i = self._index(key)
        s = self.sampler.load_sample(self.targets[i], with_annots=self.with_annots,
                                     visible_thresh=self.visible_thresh)
        return s if self.transform is None else self.transform(s)

    def _native_plan(self):
        """The targets parsed once in Rust (``NativeTargets``): stacked
        batches pass their keys, not JSON texts. Made on first use."""
        plan = self.__dict__.get('_plan')
        if plan is None:
            plan = self._plan = NativeTargets(self._texts)
        return plan

    def __getitems__(self, keys):
        if self.stacked:
            with_annots = 'boxes' if self.with_annots is True else self.with_annots
            if type(self.sampler).load_batch_stacked is CocoSampler.load_batch_stacked:
                # keys resolved as ``_index`` does, in Rust (one call a batch)
                if not isinstance(keys, list):
                    keys = list(keys)
                return _stacked_out(self.sampler._native.load_plan_stacked(
                    self._native_plan(), keys, _with_annots(with_annots),
                    float(self.visible_thresh), False))
        return self._load_texts([self._texts[self._index(k)] for k in keys])

    def _load_texts(self, texts):
        """A batch of target texts: stacked, or a list of samples through
        ``transform``."""
        if self.stacked:
            with_annots = 'boxes' if self.with_annots is True else self.with_annots
            return self.sampler.load_batch_stacked(texts, with_annots=with_annots,
                                                   visible_thresh=self.visible_thresh)
        batch = self.sampler.load_batch(texts, with_annots=self.with_annots,
                                        visible_thresh=self.visible_thresh)
        if self.transform is not None:
            batch = [self.transform(s) for s in batch]
        return batch

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop('_texts')
        state.pop('_plan', None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._texts = [self._to_json(t) for t in self.targets]

    def _to_json(self, target):
        """The target's JSON text, checked against the sampler's dataset when
        it can (``CocoSampler.target_to_json``)."""
        from ndsampler_rs import target_to_json
        to_json = getattr(self.sampler, 'target_to_json', None)
        return to_json(target) if to_json is not None else target_to_json(target)


class PreselectDataset(SamplerDataset):
    """A dataset whose epoch ``e`` is ``regions.preselect(..., rng=seed,
    epoch=e)``: every positive (or a covering subset) then that epoch's
    negative pool, as the reference's ``preselect`` + ``load_item`` loop, but a
    pure function of ``(seed, epoch)`` so that every worker and rank sees the
    same pool without sharing state. Keys are ``(epoch, i)`` (``PlanSampler``'s);
    a bare ``i`` is epoch 0. The length is epoch 0's; an epoch whose mining
    found fewer negatives repeats its first items to that length.
    ``preselect``: the keywords of ``regions.preselect`` (``n_neg`` or
    ``neg_to_pos_ratio``, ``window_dims``, ``thresh``, ``cover_dims``);
    ``target``: keys added to every target (``pad``, ``channels``, ...)."""

    def __init__(self, sampler, seed=0, preselect=None, target=None, with_annots=True,
                 visible_thresh=0.0, transform=None, stacked=False):
        self.sampler = sampler
        self.seed = int(seed)
        self.preselect = dict(preselect or {})
        self.extra = dict(target or {})
        self._epochs = {}
        super().__init__(sampler, self._epoch_targets(0), with_annots=with_annots,
                         visible_thresh=visible_thresh, transform=transform, stacked=stacked)

    def _epoch_targets(self, epoch):
        from ndsampler_rs import CocoRegions
        regions = CocoRegions(self.sampler)
        regions.preselect(rng=self.seed, epoch=epoch, **self.preselect)
        return [dict(regions.get_item(i), **self.extra) for i in range(len(regions))]

    def _epoch(self, epoch):
        """``(targets, texts)`` of ``epoch`` (the last two epochs are kept)."""
        epoch = int(epoch)
        if epoch == 0:
            return self.targets, self._texts
        got = self._epochs.get(epoch)
        if got is None:
            targets = self._epoch_targets(epoch)
            n = len(self.targets)
            targets = (targets * (n // max(len(targets), 1) + 1))[:n] if targets else targets
            got = (targets, [self._to_json(t) for t in targets])
            self._epochs = {k: v for k, v in self._epochs.items() if k == epoch - 1}
            self._epochs[epoch] = got
        return got

    def __getitem__(self, key):
        epoch = key[0] if isinstance(key, tuple) else 0
        targets, _ = self._epoch(epoch)
        i = self._index(key)
        s = self.sampler.load_sample(targets[i], with_annots=self.with_annots,
                                     visible_thresh=self.visible_thresh)
        return s if self.transform is None else self.transform(s)

    def __getitems__(self, keys):
        keys = list(keys)
        by_epoch = {k[0] if isinstance(k, tuple) else 0 for k in keys}
        if by_epoch <= {0}:
            return super().__getitems__(keys)
        if len(by_epoch) != 1:
            raise ValueError(f'one batch holds keys of epochs {sorted(by_epoch)}')
        _, texts = self._epoch(by_epoch.pop())
        return self._load_texts([texts[self._index(k)] for k in keys])

    def __getstate__(self):
        state = super().__getstate__()
        state['_epochs'] = {}
        return state


def _dist_rank_world():
    """Rank and world size from torch.distributed when initialised, else
    the RANK / WORLD_SIZE environment variables, else (0, 1)."""
    try:
        import sys
        dist = sys.modules.get('torch.distributed')
        if dist is not None and dist.is_available() and dist.is_initialized():
            return dist.get_rank(), dist.get_world_size()
    except Exception:  # pragma: no cover - torch missing or broken
        pass
    return int(os.environ.get('RANK', 0)), int(os.environ.get('WORLD_SIZE', 1))


def shard_indices(n, epoch, seed=0, shuffle=True, drop_last=False, rank=0, world_size=1):
    """Positions of an epoch of ``n`` for one rank, as torch's
    ``DistributedSampler`` computes them: the epoch's order (a permutation
    seeded by ``seed + epoch`` when shuffling), padded to a multiple of
    ``world_size`` by repeating its first positions (or cut to one with
    ``drop_last``), then every ``world_size``-th from ``rank``."""
    if world_size < 1 or not 0 <= rank < world_size:
        raise ValueError(f'rank {rank} is not in [0, world_size={world_size})')
    if shuffle:
        order = np.random.default_rng(seed + epoch).permutation(n).tolist()
    else:
        order = list(range(n))
    if drop_last and n % world_size != 0:
        per_rank = math.ceil((n - world_size) / world_size)
    else:
        per_rank = math.ceil(n / world_size)
    total = per_rank * world_size
    if not drop_last:
        padding = total - len(order)
        if padding > 0 and order:
            order += (order * math.ceil(padding / len(order)))[:padding]
    else:
        order = order[:total]
    return order[rank:total:world_size]


class PlanSampler:
    """The torch ``Sampler`` protocol over ``n`` positions: yields
    ``(epoch, i)`` keys for ``SamplerDataset``; ``set_epoch`` as torch's
    ``DistributedSampler``.

    Resumable mid-epoch (torchdata ``StatefulDataLoader``'s convention):
    ``state_dict()`` says where the current epoch is (``epoch``, ``yielded``
    keys, and the plan's ``n``/``seed``/shard); ``load_state_dict(state)``
    on a new sampler makes its next ``__iter__`` yield the rest of that
    epoch, the same keys a run that never stopped would have seen (the
    epoch's order is a pure function of ``(seed, epoch)``). ``start`` skips
    that many keys of the first epoch iterated."""

    def __init__(self, n, seed=0, shuffle=True, drop_last=False, rank=None, world_size=None,
                 start=0):
        r, w = _dist_rank_world()
        self.n = int(n)
        self.seed = int(seed)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.rank = r if rank is None else int(rank)
        self.world_size = w if world_size is None else int(world_size)
        self.epoch = 0
        if int(start) < 0:
            raise ValueError(f'start must be >= 0, not {start}')
        self._start = int(start)
        self._yielded = 0
        # fail early on a bad rank
        shard_indices(0, 0, rank=self.rank, world_size=self.world_size)

    def set_epoch(self, epoch):
        self.epoch = int(epoch)

    def __len__(self):
        return len(shard_indices(self.n, 0, self.seed, False, self.drop_last,
                                 self.rank, self.world_size))

    def __iter__(self):
        idx = shard_indices(self.n, self.epoch, self.seed, self.shuffle, self.drop_last,
                            self.rank, self.world_size)
        begin, self._start = min(self._start, len(idx)), 0
        self._yielded = begin
        epoch = self.epoch

        def keys():
            for i in idx[begin:]:
                self._yielded += 1
                yield (epoch, i)
        return keys()

    def state_dict(self):
        """Where the current epoch is: ``{'epoch', 'yielded', 'n', 'seed',
        'shuffle', 'drop_last', 'rank', 'world_size'}`` (plain ints and
        bools: it pickles and serializes as JSON)."""
        return {'epoch': self.epoch, 'yielded': self._yielded, 'n': self.n, 'seed': self.seed,
                'shuffle': self.shuffle, 'drop_last': self.drop_last, 'rank': self.rank,
                'world_size': self.world_size}

    def load_state_dict(self, state):
        """Resume from ``state_dict()``: the next ``__iter__`` yields the rest
        of ``state['epoch']``. A state of another plan (``n``, ``seed``,
        ``shuffle``, ``drop_last``, ``rank``, ``world_size``) is a ValueError
        naming the key, never a silently different order."""
        for key in ('n', 'seed', 'shuffle', 'drop_last', 'rank', 'world_size'):
            if key in state and state[key] != getattr(self, key):
                raise ValueError(f'PlanSampler.load_state_dict: {key} is {state[key]!r} in the '
                                 f'state but {getattr(self, key)!r} here')
        yielded = int(state.get('yielded', 0))
        if yielded < 0:
            raise ValueError(f'PlanSampler.load_state_dict: yielded {yielded} < 0')
        self.epoch = int(state.get('epoch', self.epoch))
        self._start = yielded
        self._yielded = yielded


def collate(samples):
    """Stack a batch's pixels (a torch tensor when torch is importable and
    the shapes agree, else a numpy array or a list) and keep the rest as
    lists. A batch that ``SamplerDataset(stacked=True)`` already stacked
    passes through (its pixels as a tensor when torch is importable)."""
    if isinstance(samples, dict):
        try:
            import torch
            samples = dict(samples, im=torch.from_numpy(samples['im']))
        except ImportError:
            pass
        return samples
    ims = [s['im'] for s in samples]
    if ims and all(im.shape == ims[0].shape for im in ims):
        stacked = np.stack(ims)
        try:
            import torch
            stacked = torch.from_numpy(stacked)
        except ImportError:
            pass
    else:
        stacked = ims
    return {'im': stacked,
            'target': [s['target'] for s in samples],
            'annots': [s['annots'] for s in samples]}
