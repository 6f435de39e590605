"""ndsampler_rs: windows of kwcoco images and videos with their annotations,
loaded in Rust.

A drop-in for the reference's ``ndsampler.CocoSampler``::

    import ndsampler_rs as ndsampler
    sampler = ndsampler.CocoSampler('data.kwcoco.json')
    sample = sampler.load_sample({'gid': 1, 'space_slice': (slice(0, 64), slice(0, 64))})
    sample['im']          # numpy (H, W, C); (T, H, W, C) for video targets
    sample['annots']      # aids, cids, rel_frame_index, rel_boxes (N x 4 xywh), ...

Pixels come back as numpy arrays that own the Rust buffer (no copy); every
call that reads pixels releases the GIL, and ``load_batch`` loads a whole
batch in parallel. Targets take the reference's keys (``gid``, ``vidid``,
``gids``, ``aid``, ``cx``/``cy``/``width``/``height``, ``space_slice`` as
slices or pairs, ``time_slice``, ``channels``, ``pad``, ``scale``,
``dtype``, ``nodata``) as well as docs/DESIGN.md section 4's JSON form.
Objects pickle by recipe (paths and options), never by their data.
"""
import json
import numbers
import os

import numpy as np

from ndsampler_rs._native import NativeSampler, NativeTargets, __version__  # noqa: F401

__all__ = ['CocoSampler', 'Categories', 'target_to_json', 'to_kwimage', '__version__']

# Keys the reference puts in targets that carry no request here.
_IGNORED_KEYS = {'legacy_annots', 'as_xarray', 'use_experimental_loader',
                 'annot_idx', 'main_idx', 'label', 'rel_cx', 'rel_cy',
                 'rel_frame_index', 'main_gid', 'main_aid', 'padkw',
                 'get_annots', 'verbose_ndsample'}


def _plain(v):
    """JSON-ready value: slices become [start, stop], numpy scalars numbers."""
    if isinstance(v, slice):
        if v.step not in (None, 1):
            raise ValueError(f'slices with a step are not supported: {v!r}')
        return [_plain(v.start), _plain(v.stop)]
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return [_plain(x) for x in v.tolist()]
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, bool) or v is None or isinstance(v, (str, numbers.Number)):
        return v
    raise TypeError(f'cannot use {type(v).__name__} in a target: {v!r}')


def _json_default(v):
    """json.dumps hook for what JSON does not know: slices, numpy values."""
    if isinstance(v, slice):
        if v.step not in (None, 1):
            raise ValueError(f'slices with a step are not supported: {v!r}')
        return [_plain(v.start), _plain(v.stop)]
    if isinstance(v, (np.generic, np.ndarray)):
        return v.tolist()
    raise TypeError(f'cannot use {type(v).__name__} in a target: {v!r}')


def target_to_json(target):
    """The JSON text of a reference-style target dict (see the module docs)."""
    if not isinstance(target, dict):
        raise TypeError(f'a target is a dict, not {type(target).__name__}')
    if not _IGNORED_KEYS.isdisjoint(target) or None in target.values():
        target = {k: v for k, v in target.items() if k not in _IGNORED_KEYS and v is not None}
    return json.dumps(target, default=_json_default)


def _with_annots(with_annots):
    if with_annots is True or with_annots is None:
        return 'boxes+segmentation+keypoints'
    if with_annots is False:
        return ''
    if isinstance(with_annots, str):
        return with_annots.replace(',', '+')
    return '+'.join(with_annots)


def _slices(pairs):
    return tuple(slice(a, b) for a, b in pairs)


def _build_sample(im, meta_json):
    meta = json.loads(meta_json)
    target = meta['target']
    # the reference's key names beside ours, slices as slices
    for ours, theirs in (('image_id', 'gid'), ('video_id', 'vidid'),
                         ('image_ids', 'gids'), ('annot_id', 'aid')):
        if ours in target:
            target[theirs] = target[ours]
    if 'space_slice' in target:
        target['space_slice'] = _slices(target['space_slice'])
    if 'time_slice' in target:
        target['time_slice'] = slice(*target['time_slice'])
    frames = meta['frames']
    aids, cids, fidx, boxes, ssegs, kpts, kpnames = [], [], [], [], [], [], []
    for i, frame in enumerate(frames):
        for a in frame['annots']:
            aids.append(a['id'])
            cid = a.get('category_id')
            cids.append(-1 if cid is None else cid)
            fidx.append(i)
            boxes.append(a['bbox'])
            ssegs.append(a.get('segmentation'))
            kpts.append(a.get('keypoints'))
            kpnames.append(a.get('keypoint_names'))
    fidx = np.array(fidx, dtype=np.int64)
    annots = {
        'aids': np.array(aids, dtype=np.int64),
        'cids': np.array(cids, dtype=np.int64),
        'rel_frame_index': fidx,
        'frame_index': fidx,
        'rel_boxes': np.array(boxes, dtype=np.float64).reshape(-1, 4),
        'rel_ssegs': ssegs,
        'rel_kpts': kpts,
        'kp_names': kpnames,
        'frames': frames,
    }
    params = meta['params']
    if 'native' in meta:
        # use_native_scale: `im` is a list (frames) of lists (parts); the
        # reference's jagged_meta beside our exact part_from_image warps
        params['jagged_meta'] = [{
            'chans': ['|'.join(p['channels']) for p in parts],
            'align': [np.array(p['align']) for p in parts],
            'grid_to_part_warps': [np.array(p['grid_to_part']) for p in parts],
            'part_from_image': [np.array(p['part_from_image']) for p in parts],
        } for parts in meta['native']]
    return {'im': im, 'target': target, 'params': params, 'annots': annots,
            'shape': tuple(meta['shape']), 'dtype': meta['dtype']}


def _stacked_out(out):
    """A stacked batch from the native layer with its JSON parts parsed."""
    if 'geometry' in out:
        out['geometry'] = json.loads(out['geometry'])
    if 'meta' in out:
        out['meta'] = json.loads(out['meta'])
    return out


def to_kwimage(annots, classes=None):
    """The reference's annotation objects (``kwimage.Boxes``, and one
    ``kwimage.Detections`` per frame as ``frame_dets``) for an ``annots``
    dict; needs kwimage installed."""
    import kwimage
    out = dict(annots)
    out['rel_boxes'] = kwimage.Boxes(annots['rel_boxes'], 'xywh')
    frame_dets = []
    for i, frame in enumerate(annots['frames']):
        sel = annots['rel_frame_index'] == i
        dets = kwimage.Detections(
            boxes=kwimage.Boxes(annots['rel_boxes'][sel], 'xywh'),
            aids=annots['aids'][sel], cids=annots['cids'][sel],
            classes=classes, datakeys=['aids', 'cids'])
        frame_dets.append(dets)
    out['frame_dets'] = frame_dets
    return out


class _Frames:
    """``sampler.frames``: the pixel cache."""

    def __init__(self, sampler):
        self._sampler = sampler

    def prepare(self, workers=0, progress=None):
        """Build the backend's cache (npy / COG) of every file the dataset
        reads, on ``workers`` threads (0: one per core); returns how many
        files there are. ``progress``: None (a bar on stderr when it is a
        terminal), True, False, or a callable ``progress(done, total)``."""
        import sys
        files = self._sampler._native.cache_files()
        total = len(files)
        if progress is None:
            progress = sys.stderr.isatty()
        if progress is True:
            def progress(done, total):
                width = 30
                fill = width * done // max(total, 1)
                end = '\n' if done == total else ''
                sys.stderr.write(f'\rcaching [{"=" * fill}{" " * (width - fill)}] '
                                 f'{done}/{total} files{end}')
                sys.stderr.flush()
        step = max(8 * max(int(workers), 1), 16)
        for i in range(0, total, step):
            self._sampler._native.prepare_files(files[i:i + step], int(workers))
            if progress:
                progress(min(i + step, total), total)
        return total

class _Regions:
    """``sampler.regions``: positives (annotations) and mined negatives."""

    def __init__(self, sampler):
        self._sampler = sampler
        self._neg_seed = 0

    @property
    def n_positives(self):
        return self._sampler._native.n_positives()

    def get_positive(self, index=None, rng=None):
        """The target of positive ``index`` (a random one when None)."""
        n = self.n_positives
        if index is None:
            rng = np.random.default_rng(rng)
            index = int(rng.integers(n))
        return json.loads(self._sampler._native.positive_target(int(index)))

    def get_negative(self, index=None, rng=None, window_dims=None, thresh=0.0):
        """A negative target: a window overlapping no annotation. ``index``
        (or the rng) seeds the mining, so the same index gives the same
        window."""
        if index is None:
            rng = np.random.default_rng(rng)
            seed = int(rng.integers(2 ** 63))
        else:
            seed = int(index)
        found = self._sampler._native.negative_targets(
            1, seed, None if window_dims is None else [int(x) for x in window_dims], thresh)
        if not found:
            raise ValueError('no negative window could be found')
        return json.loads(found[0])


class Categories:
    """``sampler.classes``: the categories, indexable by position like the
    reference's ``CategoryTree`` (``idx_to_node``, ``id_to_idx``, ...)."""

    def __init__(self, cats):
        self._cats = cats
        self.idx_to_node = [c['name'] for c in cats]
        self.idx_to_id = [c['id'] for c in cats]
        self.node_to_idx = {n: i for i, n in enumerate(self.idx_to_node)}
        self.id_to_idx = {c: i for i, c in enumerate(self.idx_to_id)}
        self.node_to_id = dict(zip(self.idx_to_node, self.idx_to_id))

    def __len__(self):
        return len(self._cats)

    def __iter__(self):
        return iter(self.idx_to_node)

    def __getitem__(self, i):
        return self.idx_to_node[i]

    def index(self, name):
        return self.node_to_idx[name]

    def __repr__(self):
        return f'Categories({self.idx_to_node!r})'


class CocoSampler:
    """Random access to windows of a kwcoco dataset with their annotations.

    ``dset``: a path to a kwcoco file or bundle directory, or a
    ``kwcoco.CocoDataset``: read from its file when it was loaded from one
    and not modified since (kwcoco's own test; ``use_file`` forces either
    way), else from its in-memory data. ``backend``: None
    (raw files), ``'npy'`` or ``'cog'`` (a cache under ``workdir``, built by
    ``frames.prepare()`` or on first use). ``threads``: threads of
    ``load_batch`` (0: one per core; use 1 in each DataLoader worker: one
    thread loads on the calling thread, with the GIL released).
    """

    def __init__(self, dset, workdir=None, backend=None, use_file=None, threads=0):
        if isinstance(backend, dict):
            backend = backend.get('type')
        if backend == 'auto':
            backend = 'npy' if workdir is not None else None
        self._backend = backend
        self._workdir = None if workdir is None else os.fspath(workdir)
        if isinstance(dset, (str, os.PathLike)):
            self._path = os.fspath(dset)
            self._json = None
            self._bundle = None
        else:
            fpath = getattr(dset, 'fpath', None)
            if use_file is None:
                # kwcoco's own rule for trusting the file (``_cached_hashid``):
                # loaded from it and not modified since
                state = getattr(dset, '_state', None) or {}
                use_file = bool(state.get('was_loaded')) and not state.get('was_modified')
            if use_file and fpath and os.path.exists(fpath):
                self._path, self._json, self._bundle = os.fspath(fpath), None, None
            else:
                data = getattr(dset, 'dataset', dset)
                self._path = None
                self._json = json.dumps(data)
                self._bundle = os.fspath(getattr(dset, 'bundle_dpath', None) or '.')
        self._threads = int(threads)
        self._native = NativeSampler(self._path, self._json, self._bundle,
                                     self._backend, self._workdir, self._threads)
        self.frames = _Frames(self)
        self.regions = _Regions(self)
        self._classes = None
        self._dset = None

    def __reduce__(self):
        # by recipe: the path (or the dataset's JSON when it has no file)
        data = self._path if self._path is not None else _JsonDataset(
            self._native.dataset_json() if self._json is None else self._json, self._bundle)
        return (CocoSampler, (data, self._workdir, self._backend, None, self._threads))

    @property
    def classes(self):
        """The categories: a ``kwcoco.CategoryTree`` (hierarchy, softmax,
        decision) when kwcoco is importable, as the reference returns, else
        a flat ``Categories``."""
        if self._classes is None:
            cats = json.loads(self._native.categories_json())
            try:
                import kwcoco
            except ImportError:
                self._classes = Categories(cats)
            else:
                self._classes = kwcoco.CategoryTree.from_coco(
                    [{k: v for k, v in c.items() if v is not None} for c in cats])
        return self._classes

    @property
    def dset(self):
        """A read-only view of the dataset in kwcoco's shape: ``dataset``
        (the JSON dict), ``imgs``, ``anns``, ``cats``, ``videos`` (by id),
        ``name_to_cat``, ``gid_to_aids``. Built on first use."""
        if self._dset is None:
            self._dset = _DatasetView(json.loads(self._native.dataset_json()))
        return self._dset

    @property
    def n_positives(self):
        return self.regions.n_positives

    def load_sample(self, target, with_annots=True, visible_thresh=0.0, annot_ids=None):
        """Load one window (see the module docs for the target keys).

        Returns ``{'im', 'target', 'params', 'annots'}`` like the reference.
        """
        target = dict(target)
        if annot_ids is None and target.get('annot_ids') is not None:
            annot_ids = target.pop('annot_ids')
        visible_thresh = target.pop('visible_thresh', visible_thresh)
        ids = None if annot_ids is None else [int(a) for a in annot_ids]
        im, meta = self._native.load_sample(
            target_to_json(target), _with_annots(with_annots), float(visible_thresh), ids)
        return _build_sample(im, meta)

    def load_batch(self, targets, with_annots=True, visible_thresh=0.0):
        """Load many windows in parallel in Rust (GIL released, one call)."""
        texts = [t if isinstance(t, str) else target_to_json(dict(t)) for t in targets]
        out = self._native.load_batch(texts, _with_annots(with_annots), float(visible_thresh))
        return [_build_sample(im, meta) for im, meta in out]

    def new_sample_grid(self, task, window_dims, window_overlap=0, classes_of_interest=None,
                        ignore_classes=None):
        """The reference's sample grid: ``{'targets', 'positives_indexes',
        'negatives_indexes'}`` (plus ``'ignored_indexes'``) for
        ``task='image_detection'`` (``window_dims=(h, w)``) or
        ``'video_detection'`` (``(t, h, w)``)."""
        return json.loads(self._native.sample_grid(
            task, [int(d) for d in window_dims], float(window_overlap),
            None if classes_of_interest is None else list(classes_of_interest),
            None if ignore_classes is None else list(ignore_classes)))

    def load_batch_stacked(self, targets, with_annots='boxes', visible_thresh=0.0,
                           with_meta=False):
        """Load a batch for a training step in one call: ``{'im': (N, ...)
        array, 'aids', 'cids', 'batch_index', 'frame_index', 'rel_boxes'}``
        (one row per annotation; ``batch_index`` says which sample), plus
        ``'geometry'`` (segmentations / keypoints per annotation) when asked
        for and ``'meta'`` (each sample's target and params) with
        ``with_meta``. Every window must have one shape. ``targets`` may be
        dicts or their JSON text (``target_to_json``)."""
        texts = [t if isinstance(t, str) else target_to_json(t) for t in targets]
        return _stacked_out(self._native.load_batch_stacked(
            texts, _with_annots(with_annots), float(visible_thresh), bool(with_meta)))

    def load_positive(self, index=None, with_annots=True, rng=None, pad=None):
        target = self.regions.get_positive(index, rng=rng)
        if pad is not None:
            target['pad'] = pad
        return self.load_sample(target, with_annots=with_annots)

    def load_negative(self, index=None, with_annots=True, rng=None, window_dims=None):
        target = self.regions.get_negative(index, rng=rng, window_dims=window_dims)
        return self.load_sample(target, with_annots=with_annots)


class _DatasetView:
    """What ``CocoSampler.dset`` returns (see there)."""

    def __init__(self, data):
        self.dataset = data
        self.imgs = {g['id']: g for g in data.get('images', [])}
        self.anns = {a['id']: a for a in data.get('annotations', [])}
        self.cats = {c['id']: c for c in data.get('categories', [])}
        self.videos = {v['id']: v for v in data.get('videos', [])}
        self.name_to_cat = {c['name']: c for c in data.get('categories', [])}
        self.gid_to_aids = {gid: [] for gid in self.imgs}
        for a in data.get('annotations', []):
            self.gid_to_aids.setdefault(a.get('image_id'), []).append(a['id'])

    @property
    def n_images(self):
        return len(self.imgs)

    @property
    def n_annots(self):
        return len(self.anns)


class _JsonDataset:
    """A dataset given as JSON text (what a sampler over an in-memory dataset
    pickles to)."""

    def __init__(self, text, bundle):
        self.dataset = json.loads(text)
        self.bundle_dpath = bundle
        self.fpath = None
