"""ndsampler_rs: windows of kwcoco images and videos with their annotations,
loaded in Rust.

A drop-in for the reference's ``ndsampler`` (0.8.1): code written for it runs
after changing the import::

    import ndsampler_rs as ndsampler
    sampler = ndsampler.CocoSampler('data.kwcoco.json')      # or a kwcoco.CocoDataset, or .demo()
    sample = sampler.load_sample({'gid': 1, 'space_slice': (slice(0, 64), slice(0, 64))})
    sample['im']          # numpy (H, W, C); (T, H, W, C) for video targets
    sample['annots']      # aids, cids, rel_boxes, frame_dets (kwimage), ...
    sampler.regions.preselect(neg_to_pos_ratio=1, window_dims=(64, 64), rng=0, epoch=0)
    sampler.load_item(0)  # positives, then negatives

Pixels come back as numpy arrays that own the Rust buffer (no copy); every
call that reads pixels releases the GIL, and ``load_batch`` /
``load_batch_stacked`` load a whole batch in parallel. Targets take the
reference's keys (``gid``, ``vidid``, ``gids``, ``aid``, ``cx``/``cy``/``width``/
``height``, ``window_dims``, ``space_slice``/``time_slice``/``slices`` as slices
or pairs, ``channels``, ``pad``, ``padkw``, ``scale``, ``dtype``, ``nodata``,
``use_native_scale``, ...) as well as docs/DESIGN.md section 4's JSON form;
``normalize_target`` says what happens to each key. Objects pickle by recipe
(paths and options), never by their data.
"""
import json
import math
import numbers
import os

import numpy as np

from ndsampler_rs._native import NativeSampler, NativeTargets, __version__  # noqa: F401
from ndsampler_rs._native import HAS_REMOTE  # noqa: F401

if HAS_REMOTE:
    from ndsampler_rs._native import set_store_options  # noqa: F401
else:
    def set_store_options(store, options):
        """Options of the object store of ``store`` (``'s3://bucket'``); this
        build has no remote sources (the cargo feature ``remote``)."""
        raise RuntimeError('ndsampler_rs was built without the cargo feature "remote": '
                           'no s3://, gs://, az://, http(s):// datasets')
from ndsampler_rs._native import locality_order as _locality_order

__all__ = ['CocoSampler', 'CocoRegions', 'CategoryTree', 'Categories', 'MissingNegativePool',
           'new_image_sample_grid', 'new_video_sample_grid', 'select_positive_regions',
           'tabular_coco_targets', 'coerce_data', 'coco_sampler', 'coco_regions',
           'locality_order', 'apply_locality', 'normalize_target', 'target_to_json',
           'to_kwimage', 'HAS_REMOTE', 'set_store_options', '__version__']

# Target keys, by what happens to them (docs: the module docstring, docs/python.md
# "From Python"). Every key the Rust target accepts is passed to Rust as given:
_RUST_KEYS = frozenset({
    'image_id', 'gid', 'video_id', 'vidid', 'image_ids', 'gids', 'annot_id', 'aid',
    'category_id', 'cx', 'cy', 'width', 'height', 'window_dims', 'space_slice',
    'time_slice', 'slices', 'pad', 'padkw', 'channels', 'scale', 'use_native_scale',
    'realign_native', 'interpolation', 'antialias', 'dtype', 'nodata',
    'visible_thresh', 'with_annots', 'annot_ids', 'augment'})
# Keys the reference writes into the targets it makes (grids, regions,
# resolved targets) as information and never reads back as a request: any
# value is ignored, as the reference ignores it.
_INFO_KEYS = frozenset({
    'aids', 'img_width', 'img_height', 'rel_cx', 'rel_cy', 'rel_frame_index',
    'annot_idx', 'main_idx', 'main_gid', 'main_aid', 'label', 'space_dims',
    'data_dims', '_data_gids', 'use_experimental_loader', 'get_annots'})
# Keys the reference reads that change nothing here at their default value
# (ignored then); any other value is a ValueError naming the key.
_DEFAULT_ONLY = {'as_xarray': (False, None), 'optimize': (True, None)}
# Values of the reference meaning "not given".
_AUTO = {'interpolation': 'auto', 'antialias': 'auto'}
# Keys handled in Python: (default, accepted values).
_PY_KEYS = {'legacy_annots': True, 'legacy_target': True, 'finalize': True,
            'verbose_ndsample': False}
_ALIASES = (('image_id', 'gid'), ('video_id', 'vidid'), ('image_ids', 'gids'),
            ('annot_id', 'aid'))


def _plain(v):
    """JSON-ready value: slices become [start, stop], numpy scalars numbers."""
    if isinstance(v, slice):
        if v.step not in (None, 1):
            raise ValueError(f'slices with a step are not supported: {v!r}')
        return [_plain(v.start), _plain(v.stop)]
    if isinstance(v, np.dtype) or (isinstance(v, type) and (
            issubclass(v, np.generic) or v in (float, int, bool))):
        return np.dtype(v).name
    if hasattr(v, 'spec') and type(v).__name__.endswith('ChannelSpec'):
        return v.spec  # delayed_image / kwcoco channel specs
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


def _same(a, b):
    return _plain(a) == _plain(b)


def normalize_target(target):
    """A reference-style target dict as the plain dict Rust reads, and the
    Python-side options it carries: ``(rust_target, py_options)``.

    * Keys the Rust target accepts pass as given (slices and numpy values
      made plain); ``None`` values mean "not given", as in the reference.
    * The reference's informational keys (``aids``, ``img_width``,
      ``rel_cx``, ...) are dropped whatever their value, as the reference
      ignores them; ``aid=-1`` (its negatives' marker) means no annotation.
    * ``as_xarray``/``optimize`` are accepted at the reference's default
      only, ``interpolation``/``antialias`` ``'auto'`` mean the default;
      any other value is a ``ValueError`` naming the key.
    * ``legacy_annots``, ``legacy_target``, ``finalize``,
      ``verbose_ndsample`` are returned in ``py_options``.
    * An alias given with its canonical key (``gid`` and ``image_id``,
      ``slices`` and ``space_slice``, ...) must agree; one is kept.
    * Any other key is passed on, and Rust rejects it naming the key.
    """
    if not isinstance(target, dict):
        raise TypeError(f'a target is a dict, not {type(target).__name__}')
    out = {}
    py = dict(_PY_KEYS)
    for k, v in target.items():
        if v is None or k in _INFO_KEYS or type(v).__name__ == 'NoParamType':
            continue  # ubelt's NoParam: the reference's "not given"
        if k in _PY_KEYS:
            py[k] = v
            continue
        if k in _DEFAULT_ONLY:
            if any(v is d or (d is not None and v == d) for d in _DEFAULT_ONLY[k]):
                continue
            raise ValueError(
                f'target key {k!r}={v!r} is not supported by ndsampler_rs '
                f'(only its default {_DEFAULT_ONLY[k][0]!r})')
        if k in _AUTO and v == _AUTO[k]:
            continue
        if k in ('aid', 'annot_id') and isinstance(v, (int, np.integer)) and v == -1:
            continue
        out[k] = v
    for canon, alias in _ALIASES:
        if canon in out and alias in out:
            if not _same(out[canon], out[alias]):
                raise ValueError(f'target keys {canon!r}={out[canon]!r} and {alias!r}='
                                 f'{out[alias]!r} disagree')
            del out[alias]
    if 'slices' in out and ('space_slice' in out or 'time_slice' in out):
        sl = list(out['slices'])
        space, time = sl[-2:], (sl[0] if len(sl) == 3 else None)
        if ('space_slice' in out and not _same(space, out['space_slice'])) or (
                'time_slice' in out and time is not None
                and not _same(time, out['time_slice'])):
            raise ValueError(f'target keys slices={out["slices"]!r} and space_slice/'
                             'time_slice disagree')
        if time is not None and 'time_slice' not in out and not (
                'image_ids' in out or 'gids' in out):
            out['time_slice'] = time
        if 'space_slice' not in out:
            out['space_slice'] = space
        del out['slices']
    if py['finalize'] not in (True, False) or py['legacy_annots'] not in (True, False) or \
            py['legacy_target'] not in (True, False):
        raise ValueError('target keys finalize, legacy_annots and legacy_target are booleans')
    return _plain(out), py


def _resolve_listed_frames(t, video_frames):
    """The reference's video grid targets carry ``gids``, ``vidid`` and the
    ``time_slice`` that selected those frames of the video: the frames must
    be those (else a ``ValueError``), and then ``time_slice`` is dropped (Rust
    would read it as positions in the listed frames). ``video_frames(vid)``:
    the video's image ids in order; None: such a target is refused."""
    gids = t.get('image_ids', t.get('gids'))
    vid = t.get('video_id', t.get('vidid'))
    if gids is None or vid is None or 'time_slice' not in t:
        return t
    if video_frames is None:
        raise ValueError('a target with image_ids, video_id and time_slice needs the sampler '
                         'to check them against the video: use CocoSampler.target_to_json')
    t0, t1 = t['time_slice']
    if list(gids) != video_frames(int(vid))[slice(t0, t1)]:
        raise ValueError(f'target keys gids={list(gids)} and time_slice={t["time_slice"]} '
                         f'select different frames of video {vid}')
    t = dict(t)
    del t['time_slice']
    return t


def target_to_json(target, video_frames=None):
    """The JSON text of a reference-style target dict (see
    ``normalize_target``), for the batch paths: there the Python-side keys
    (``finalize``, ``legacy_annots``, ...) must have their defaults.
    ``CocoSampler.target_to_json`` also takes the reference's video grid
    targets (``gids`` with ``vidid`` and ``time_slice``)."""
    t, py = normalize_target(target)
    for k, default in _PY_KEYS.items():
        if py[k] != default:
            raise ValueError(f'target key {k!r}={py[k]!r} only works with load_sample')
    return json.dumps(_resolve_listed_frames(t, video_frames))


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


def _kwimage():
    """kwimage when it is importable (the reference's annotation objects)."""
    try:
        import kwimage
    except ImportError:
        return None
    return kwimage


def _reference_target(target):
    """Our resolved target with the reference's key names beside ours and
    slices as slices."""
    for ours, theirs in (('image_id', 'gid'), ('video_id', 'vidid'),
                         ('image_ids', 'gids'), ('annot_id', 'aid')):
        if ours in target:
            target[theirs] = target[ours]
    if 'space_slice' in target:
        target['space_slice'] = _slices(target['space_slice'])
    if 'time_slice' in target:
        target['time_slice'] = slice(*target['time_slice'])
    if isinstance(target.get('window_dims'), list):
        target['window_dims'] = tuple(target['window_dims'])
    return target


def _reference_params(params, target, is_video, n_video_frames=None):
    """The reference's ``params`` keys beside ours: ``offset`` (array),
    ``tf_rel_to_abs`` (3x3: sample -> sampled space), ``sample_tlbr``
    (``kwimage.Boxes`` ltrb when kwimage is importable, else an array),
    ``st_dims`` (``[(y0, y1), (x0, x1)]`` of the padded window), ``data_dims``
    (the sampled space's ``(h, w)``, ``(frames, h, w)`` for videos), ``pad``
    (as the target gave it); for video targets also
    ``frame_sample_from_grid_warps`` (``kwimage.Affine``, else 3x3 arrays)
    and ``request_chanspec`` (a kwcoco ``FusedChannelSpec`` when kwcoco is
    importable, else the code). Ours stay: ``sample_ltrb``, ``scale``,
    ``channels``, ``warps`` (image -> sample per frame), ``time_span``."""
    kwimage = _kwimage()
    x0, y0, x1, y1 = params['sample_ltrb']
    sx, sy = params.get('scale', [1.0, 1.0])
    sample_from_grid = np.array([[sx, 0, -x0 * sx], [0, sy, -y0 * sy], [0, 0, 1]], dtype=float)
    params['offset'] = np.array(params['offset'])
    # the inverse of scale-after-translate, in closed form
    params['tf_rel_to_abs'] = np.array([[1 / sx, 0, x0], [0, 1 / sy, y0], [0, 0, 1]], dtype=float)
    ltrb = np.array([x0, y0, x1, y1]) if not is_video else np.array([[x0, y0, x1, y1]])
    params['sample_tlbr'] = kwimage.Boxes(ltrb, 'ltrb') if kwimage is not None else ltrb
    params['st_dims'] = [tuple(d) for d in params['st_dims']]
    data_dims = tuple(params['data_dims'])
    pad = target.get('pad')
    pad = tuple(pad) if isinstance(pad, list) else pad
    if is_video:
        if n_video_frames is not None:
            data_dims = (n_video_frames,) + data_dims
        params['frame_sample_from_grid_warps'] = [
            kwimage.Affine(sample_from_grid) if kwimage is not None else sample_from_grid
            for _ in params.get('warps', [])]
        code = '|'.join(params.get('channels', []))
        try:
            import kwcoco
            params['request_chanspec'] = kwcoco.FusedChannelSpec.coerce(code) if code else None
        except ImportError:
            params['request_chanspec'] = code or None
    elif pad is None:
        pad = (0, 0)
    params['data_dims'] = data_dims
    params['pad'] = pad
    return params


def _annots_dict(frames, kp_classes=None, legacy=True):
    """``sample['annots']``: per annotation ``aids``, ``cids``,
    ``rel_frame_index`` (and ``frame_index``), ``rel_boxes`` (N x 4 xywh),
    ``rel_ssegs``, ``rel_kpts``, ``kp_names``, plus ``frames`` (our
    per-frame JSON). With kwimage importable, as the reference:
    ``rel_boxes`` is a ``kwimage.Boxes``, ``rel_ssegs`` a
    ``kwimage.PolygonList`` (of segmentations), ``rel_kpts`` a ``kwimage.PointsList``, and
    ``frame_dets`` one ``kwimage.Detections`` per frame (``boxes``,
    ``segmentations``, ``keypoints``, ``aids``, ``cids``); without it those
    are numpy arrays / JSON lists and ``frame_dets`` is absent.
    ``legacy=False`` (the reference's ``legacy_annots``) keeps only
    ``frame_dets`` (and ``frames``)."""
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
    aids = np.array(aids, dtype=np.int64)
    cids = np.array(cids, dtype=np.int64)
    boxes = np.array(boxes, dtype=np.float64).reshape(-1, 4)
    annots = {
        'aids': aids,
        'cids': cids,
        'rel_frame_index': fidx,
        'frame_index': fidx,
        'rel_boxes': boxes,
        'rel_ssegs': ssegs,
        'rel_kpts': kpts,
        'kp_names': kpnames,
        'frames': frames,
    }
    if _kwimage() is None:
        if not legacy:
            return {'frames': frames}
        return annots
    return _Annots(annots, (frames, fidx, aids, cids, boxes, ssegs, kpts, kp_classes), legacy)


def _kwimage_forms(frames, fidx, aids, cids, boxes, ssegs, kpts, kp_classes):
    """The kwimage objects of ``_annots_dict``."""
    kwimage = _kwimage()
    kw_ssegs = [_kw_sseg(kwimage, s) for s in ssegs]
    kw_kpts = [_kw_kpts(kwimage, k, kp_classes) for k in kpts]
    frame_dets = []
    for i, frame in enumerate(frames):
        sel = np.flatnonzero(fidx == i)
        dets = kwimage.Detections(
            boxes=kwimage.Boxes(boxes[sel], 'xywh'),
            segmentations=kwimage.SegmentationList([kw_ssegs[j] for j in sel]),
            keypoints=kwimage.PointsList([kw_kpts[j] for j in sel]),
            aids=aids[sel], cids=cids[sel], gid=frame.get('image_id'),
            rel_frame_index=i, datakeys=['aids', 'cids'],
            metakeys=['gid', 'rel_frame_index'])
        frame_dets.append(dets)
    rel_kpts = kwimage.PointsList(kw_kpts)
    if kp_classes is not None:
        rel_kpts.meta['classes'] = kp_classes
    return {'frame_dets': frame_dets, 'rel_boxes': kwimage.Boxes(boxes, 'xywh'),
            'rel_ssegs': kwimage.PolygonList(kw_ssegs), 'rel_kpts': rel_kpts}


class _Annots(dict):
    """``sample['annots']`` with kwimage importable: a dict whose kwimage
    objects (``frame_dets``, ``rel_boxes``, ``rel_ssegs``, ``rel_kpts``) are
    built on first access of any of them (building them took twice as long
    as loading a small window), then kept. Every dict operation sees them."""

    _LAZY = ('frame_dets', 'rel_boxes', 'rel_ssegs', 'rel_kpts')

    def __init__(self, plain, parts, legacy=True):
        if legacy:
            super().__init__(plain)
            for k in self._LAZY:
                dict.__setitem__(self, k, None)
        else:
            super().__init__({'frame_dets': None, 'frames': plain['frames']})
        self._parts = parts

    def _materialize(self):
        parts = self.__dict__.pop('_parts', None)
        if parts is not None:
            forms = _kwimage_forms(*parts)
            for k, v in forms.items():
                if dict.__contains__(self, k):
                    dict.__setitem__(self, k, v)

    def __getitem__(self, key):
        if key in self._LAZY:
            self._materialize()
        return dict.__getitem__(self, key)

    def __iter__(self):  # also keeps dict(annots) off the C fast path
        return dict.__iter__(self)

    def get(self, key, default=None):
        return self[key] if key in self else default

    def items(self):
        self._materialize()
        return dict.items(self)

    def values(self):
        self._materialize()
        return dict.values(self)

    def pop(self, key, *default):
        self._materialize()
        return dict.pop(self, key, *default)

    def copy(self):
        self._materialize()
        return dict(dict.items(self))

    def __eq__(self, other):
        self._materialize()
        return dict.__eq__(self, other)

    __hash__ = None

    def __repr__(self):
        self._materialize()
        return dict.__repr__(self)

    def __reduce__(self):
        self._materialize()
        return (dict, (dict(dict.items(self)),))


def _kw_sseg(kwimage, s):
    if s is None:
        return None
    try:
        return kwimage.Segmentation.coerce(s)
    except Exception:  # a form kwimage does not read: keep the JSON
        return s


def _kw_kpts(kwimage, k, classes):
    if k is None:
        return None
    try:
        return kwimage.Points.from_coco(k, classes=classes)
    except Exception:
        return k


def _build_sample(im, meta_json, sampler=None, py=None):
    """The sample dict in the reference's shape (see ``CocoSampler.load_sample``)."""
    meta = json.loads(meta_json)
    py = _PY_KEYS if py is None else py
    raw_target = meta['target']
    is_video = 'image_ids' in raw_target or 'video_id' in raw_target
    n_video_frames = None
    if is_video and sampler is not None and raw_target.get('video_id') is not None:
        n_video_frames = len(sampler._video_frames(raw_target['video_id']))
    target = _reference_target(raw_target)
    frames = meta['frames']
    kp_classes = None if sampler is None else sampler.kp_classes
    params = _reference_params(meta['params'], target, is_video, n_video_frames)
    # the reference's resolved-target keys (information: ignored when fed back)
    target['space_dims'] = tuple(meta['params']['data_dims'][-2:])
    target['data_dims'] = params['data_dims']
    if 'space_slice' in target:
        target['slices'] = target['space_slice'] if not is_video else (
            (target.get('time_slice'),) + target['space_slice'])
    if 'native' in meta:
        # use_native_scale: `im` is a list (frames) of lists (parts); the
        # reference's jagged_meta beside our exact part_from_image warps
        params['jagged_meta'] = [{
            'chans': ['|'.join(p['channels']) for p in parts],
            'align': [np.array(p['align']) for p in parts],
            'grid_to_part_warps': [np.array(p['grid_to_part']) for p in parts],
            'part_from_image': [np.array(p['part_from_image']) for p in parts],
        } for parts in meta['native']]
    annots = _annots_dict(frames, kp_classes, legacy=py['legacy_annots'])
    main = target.get('annot_id')
    if 'aids' in annots:
        hit = [] if main is None else np.flatnonzero(annots['aids'] == main)
        target['annot_idx'] = int(hit[0]) if len(hit) else -1
    sample = {'im': im, 'target': target, 'params': params, 'annots': annots}
    if sampler is not None:
        sample['classes'] = sampler.classes
        sample['kp_classes'] = kp_classes
    if py['legacy_target']:
        sample['tr'] = target
    return sample


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
    boxes = np.asarray(getattr(annots['rel_boxes'], 'data', annots['rel_boxes']))
    if isinstance(annots['rel_boxes'], kwimage.Boxes):
        boxes = annots['rel_boxes'].to_xywh().data
    out['rel_boxes'] = kwimage.Boxes(boxes, 'xywh')
    frame_dets = []
    for i, frame in enumerate(annots['frames']):
        sel = annots['rel_frame_index'] == i
        dets = kwimage.Detections(
            boxes=kwimage.Boxes(boxes[sel], 'xywh'),
            aids=annots['aids'][sel], cids=annots['cids'][sel],
            classes=classes, datakeys=['aids', 'cids'])
        frame_dets.append(dets)
    out['frame_dets'] = frame_dets
    return out


def _seed(rng):
    """A 63-bit seed from the reference's ``rng`` forms: an int is the seed
    itself; None draws one from numpy's global state (as the reference's
    ``kwarray.ensure_rng(None)``); a ``RandomState``/``Generator`` draws one."""
    if rng is None:
        return int(np.random.randint(0, 2 ** 62))
    if isinstance(rng, (bool, np.bool_)):
        raise TypeError('rng must be None, an int or a numpy random state, not a bool')
    if isinstance(rng, (int, np.integer)):
        return int(rng) & (2 ** 63 - 1)
    if isinstance(rng, float):
        return int(rng) & (2 ** 63 - 1)
    if isinstance(rng, np.random.RandomState):
        return int(rng.randint(0, 2 ** 62))
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(0, 2 ** 62))
    if hasattr(rng, 'randint'):  # python's random.Random
        return int(rng.randint(0, 2 ** 62))
    raise TypeError(f'cannot use {type(rng).__name__} as an rng')


def _ensure_rng(rng):
    """``kwarray.ensure_rng``: a ``RandomState`` for an int, numpy's global
    one for None, the object itself otherwise."""
    if rng is None:
        return np.random.mtrand._rand
    if isinstance(rng, (int, np.integer, float)):
        return np.random.RandomState(int(rng))
    return rng


class _Frames:
    """``sampler.frames``: the pixel cache (the reference's ``CocoFrames``)."""

    def __init__(self, sampler):
        self._sampler = sampler

    @property
    def _backend(self):
        return {'type': self._sampler._backend, 'config': {}}

    @property
    def cache_dpath(self):
        """Where the backend's cache lives (``WORKDIR/_frame_cache``), None
        for the raw backend."""
        if self._sampler._backend is None or self._sampler._workdir is None:
            return None
        return os.path.join(self._sampler._workdir, '_frame_cache')

    @property
    def image_ids(self):
        return self._sampler.image_ids

    def __len__(self):
        return len(self.image_ids)

    def load_image(self, image_id, channels=None, cache=True):
        """The whole image ``image_id`` as a numpy array (``(H, W, C)``) in
        its own bands, or ``channels`` (a kwcoco channel code). ``cache`` is
        accepted for the reference's signature: reads go through the
        backend's cache whenever the sampler has one."""
        target = {'image_id': int(image_id)}
        if channels is not None:
            target['channels'] = channels
        return self._sampler.load_sample(target, with_annots=False)['im']

    def load_region(self, image_id, region=None, channels=None):
        """A region (``(slice(y0, y1), slice(x0, x1))``, None: all) of image
        ``image_id``."""
        target = {'image_id': int(image_id)}
        if region is not None:
            target['space_slice'] = region
        if channels is not None:
            target['channels'] = channels
        return self._sampler.load_sample(target, with_annots=False)['im']

    def prepare(self, gids=None, workers=0, use_stamp=True, progress=None):
        """Build the backend's cache (npy / COG) of every file the dataset
        reads (or the files of images ``gids``), on ``workers`` threads (0:
        one per core); returns how many files there are. ``use_stamp`` is
        the reference's: cache entries here are checked by content, so it
        changes nothing. ``progress``: None (a bar on stderr when it is a
        terminal), True, False, or a callable ``progress(done, total)``."""
        import sys
        files = self._sampler._native.cache_files(
            None if gids is None else [int(g) for g in gids])
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


class MissingNegativePool(AssertionError):
    """The reference's error for a negative index without a preselected pool
    (not raised here: an index without a pool mines a window seeded by it)."""


def _positive_target(row, dims):
    """A positive as the reference writes it (``tabular_coco_targets``' row)."""
    t = {'aid': row['aid'], 'gid': row['gid'], 'category_id': row['category_id'],
         'cx': row['cx'], 'cy': row['cy'], 'width': row['width'], 'height': row['height']}
    if dims is not None:
        t['img_height'], t['img_width'] = dims
    return t


def _negative_target(t, dims, background):
    """A mined negative (Rust's centre form) with the reference's keys."""
    out = {'gid': t['image_id'], 'aid': -1,
           'category_id': t.get('category_id', background),
           'cx': t['cx'], 'cy': t['cy'], 'width': t['width'], 'height': t['height']}
    if dims is not None:
        out['img_height'], out['img_width'] = dims
    return out


class CocoRegions:
    """``sampler.regions`` (the reference's ``CocoRegions``): the positives
    (one per annotation with a box), mined negatives, a per-epoch
    preselection of both, random windows, sample grids and overlap queries.

    Targets use the reference's keys: positives ``{'aid', 'gid',
    'category_id', 'cx', 'cy', 'width', 'height', 'img_width',
    'img_height'}``, negatives the same with ``aid = -1`` and the background
    class. ``CocoRegions(dset)`` takes what ``CocoSampler`` takes.
    """

    def __init__(self, dset, workdir=None, verbose=1):
        sampler = dset if isinstance(dset, CocoSampler) else CocoSampler(dset, workdir=workdir)
        self._sampler = sampler
        self.workdir = workdir
        self.verbose = verbose
        self._table = None
        self._pos_select_idxs = None
        self._negative_pool = None
        self._negative_idx = 0
        self._preselect_recipe = None

    @classmethod
    def demo(cls):
        """The reference's demo: regions of kwcoco's ``shapes8``."""
        import kwcoco
        return cls(kwcoco.CocoDataset.demo('shapes8'))

    def __getstate__(self):
        # by recipe: the sampler (itself a recipe) and the preselection's
        # arguments (replayed, as it is a pure function of its seed)
        return {'sampler': self._sampler, 'workdir': self.workdir, 'verbose': self.verbose,
                'preselect': self._preselect_recipe}

    def __setstate__(self, state):
        self.__init__(state['sampler'], state['workdir'], state['verbose'])
        if state['preselect'] is not None:
            self._apply_preselect(**state['preselect'])

    @property
    def dset(self):
        """The dataset (``CocoSampler.dset``)."""
        return self._sampler.dset

    @property
    def classes(self):
        return self._sampler.classes

    catgraph = classes

    @property
    def BACKGROUND_CLASS_ID(self):
        ids = {c['name'].lower(): c['id'] for c in self._sampler._categories()}
        return ids.get('background', 0)

    @property
    def n_positives(self):
        """Positives in the pool: all, or the preselected ones."""
        if self._pos_select_idxs is not None:
            return len(self._pos_select_idxs)
        return self._sampler._native.n_positives()

    @property
    def n_negatives(self):
        return 0 if self._negative_pool is None else len(self._negative_pool)

    @property
    def n_samples(self):
        return self.n_positives + self.n_negatives

    def __len__(self):
        return self.n_samples

    @property
    def n_annots(self):
        return self._sampler.n_annots

    @property
    def n_images(self):
        return self._sampler.n_images

    @property
    def n_categories(self):
        return len(self._sampler._categories())

    @property
    def class_ids(self):
        return [c['id'] for c in self._sampler._categories()]

    @property
    def image_ids(self):
        return self._sampler.image_ids

    def lookup_class_name(self, class_id):
        return {c['id']: c['name'] for c in self._sampler._categories()}[class_id]

    def lookup_class_id(self, class_name):
        return {c['name']: c['id'] for c in self._sampler._categories()}[class_name]

    def _positives(self):
        if self._table is None:
            self._table = json.loads(self._sampler._native.positives_table())
        return self._table

    @property
    def targets(self):
        """Every positive as a table (``tabular_coco_targets``)."""
        return _table_out(self._positives(), self._sampler)

    def _dims(self, gid):
        d = self._sampler._native.image_dims(int(gid))
        return None if d is None else tuple(d)

    def get_positive(self, index=None, rng=None):
        """The target of positive ``index`` (of the preselected pool when
        ``preselect`` ran), a random one (from ``rng``) when None."""
        n = self.n_positives
        if index is None:
            if n == 0:
                raise IndexError('there are no positives')
            index = int(_ensure_rng(rng).randint(0, n))
        index = int(index)
        if not -n <= index < n:
            raise IndexError(f'positive {index} out of range (there are {n})')
        if self._pos_select_idxs is not None:
            index = int(self._pos_select_idxs[index])
        tab = self._positives()
        row = {k: tab[k][index] for k in tab}
        t = _positive_target(row, self._dims(row['gid']))
        if self._preselect_recipe and self._preselect_recipe.get('cover') is not None:
            t['window_dims'] = tuple(self._preselect_recipe['cover'])
        return t

    def get_negative(self, index=None, rng=None, window_dims=None, thresh=None):
        """A negative target: a window inside an image that overlaps no
        annotation by ``thresh`` (default 0.3, the reference's) or more of its
        area. With a preselected pool: item ``index`` of it, or the next one
        in turn when None (the pool is mined again after its end, as the
        reference). Without one: a window mined from ``rng`` when ``index`` is
        None, else seeded by ``index`` (the same index, the same window; the
        reference raises ``MissingNegativePool`` there). ``window_dims``:
        ``(h, w)``, None: sizes learned from the positives."""
        if self._negative_pool is not None and window_dims is None and thresh is None:
            if index is None:
                t = self._negative_pool[self._negative_idx]
                self._negative_idx += 1
                if self._negative_idx == len(self._negative_pool):
                    self._negative_pool = None
                    self._negative_idx = 0
                return dict(t)
            return dict(self._negative_pool[int(index)])
        seed = _seed(_ensure_rng(rng)) if index is None else int(index)
        found = self._sampler._native.negative_targets(
            1, seed, None if window_dims is None else [int(x) for x in window_dims],
            0.3 if thresh is None else float(thresh))
        if not found:
            raise ValueError('no negative window could be found')
        t = json.loads(found[0])
        return _negative_target(t, self._dims(t['image_id']), self.BACKGROUND_CLASS_ID)

    def get_item(self, index, rng=None):
        """Positives, then negatives (the reference's ``get_item``)."""
        if index is None:
            index = int(_ensure_rng(rng).randint(0, self.n_samples))
        if index < self.n_positives:
            return self.get_positive(index, rng=rng)
        return self.get_negative(index - self.n_positives, rng=rng)

    def preselect(self, n_pos=None, n_neg=None, neg_to_pos_ratio=None, window_dims=None,
                  rng=None, verbose=0, epoch=0, thresh=0.3, cover_dims=None):
        """Choose this epoch's pool: every positive (or, with ``cover_dims =
        (h, w)``, a seeded covering subset whose windows of that size hold
        every positive's centre) and ``n_neg`` negatives (or
        ``neg_to_pos_ratio`` x the positives; neither: none, as the
        reference), of size ``window_dims`` (None: learned). The pool is a
        pure function of ``(rng, epoch)`` for an int ``rng``; call it again
        with the next ``epoch`` for a fresh one. ``n_pos`` is ignored with a
        warning (the reference ignores it silently). Returns
        ``(n_pos, n_neg)``: the counts actually chosen."""
        if n_neg is not None and neg_to_pos_ratio is not None:
            raise ValueError('Cannot specify both neg_to_pos_ratio and n_neg')
        if n_pos is not None:
            import warnings
            warnings.warn(f'preselect(n_pos={n_pos!r}) is ignored, as the reference ignores it: '
                          'every positive is taken (or a covering subset with cover_dims)',
                          UserWarning, stacklevel=2)
        recipe = {'seed': _seed(rng), 'epoch': int(epoch),
                  'n_neg': None if n_neg is None else int(n_neg),
                  'ratio': None if neg_to_pos_ratio is None else float(neg_to_pos_ratio),
                  'window': None if window_dims is None else [int(x) for x in window_dims],
                  'thresh': float(thresh),
                  'cover': None if cover_dims is None else [int(x) for x in cover_dims]}
        self._apply_preselect(**recipe)
        if verbose:
            print(f'Preselected {self.n_positives} positives, {self.n_negatives} negatives')
        return self.n_positives, self.n_negatives

    def _apply_preselect(self, seed, epoch, n_neg, ratio, window, thresh, cover):
        sel = json.loads(self._sampler._native.preselect(
            seed, epoch, n_neg, ratio, window, thresh, cover))
        self._preselect_recipe = {'seed': seed, 'epoch': epoch, 'n_neg': n_neg,
                                  'ratio': ratio, 'window': window, 'thresh': thresh,
                                  'cover': cover}
        self._pos_select_idxs = np.array(sel['positives'], dtype=np.int64)
        bg = self.BACKGROUND_CLASS_ID
        self._negative_pool = [_negative_target(t, self._dims(t['image_id']), bg)
                               for t in sel['negatives']] or None
        self._negative_idx = 0

    def random_windows(self, window_dims, count, rng=None, epoch=0, gids=None):
        """``count`` windows of ``(h, w)`` at random places of random images
        (of ``gids``, None: all), as ``{'gid', 'space_slice'}`` targets; window
        ``i`` of ``epoch`` is a pure function of ``(rng, epoch, i)`` for an
        int ``rng`` (Rust's ``plan::RandomWindows``)."""
        texts = self._sampler._native.random_windows(
            [int(x) for x in window_dims], int(count), _seed(rng), int(epoch),
            None if gids is None else [int(g) for g in gids])
        out = []
        for text in texts:
            t = json.loads(text)
            out.append({'gid': t['image_id'], 'space_slice': _slices(t['space_slice'])})
        return out

    def overlapping_aids(self, gid, region, visible_thresh=0.0):
        """Ids of the annotations of image ``gid`` overlapping ``region`` (a
        ``kwimage.Boxes``/``Box`` or ``[x0, y0, x1, y1]``), touching included;
        with ``visible_thresh > 0`` only those with visibility (intersection
        over their own box area) above it."""
        if hasattr(region, 'to_ltrb'):
            ltrb = np.asarray(region.to_ltrb().data, dtype=float).reshape(-1, 4)
        else:
            ltrb = np.asarray(region, dtype=float).reshape(-1, 4)
        if len(ltrb) != 1:
            raise ValueError(f'region must be one box, got {len(ltrb)}')
        return self._sampler._native.overlapping_aids(int(gid), ltrb[0].tolist(),
                                                      float(visible_thresh))

    def get_segmentations(self, aids):
        """The segmentations of ``aids`` (``kwimage.MultiPolygon`` when
        kwimage is importable, else the JSON), None where there is none."""
        kwimage = _kwimage()
        anns = self.dset.anns
        out = []
        for aid in aids:
            s = anns[aid].get('segmentation')
            out.append(None if s is None else (
                kwimage.MultiPolygon.coerce(s) if kwimage is not None else s))
        return out

    def new_sample_grid(self, task, window_dims, window_overlap=0, **kwargs):
        """``CocoSampler.new_sample_grid``."""
        return self._sampler.new_sample_grid(task, window_dims, window_overlap, **kwargs)


def _table_out(tab, sampler):
    """The positive table as the reference's ``tabular_coco_targets``: a
    ``kwarray.DataFrameArray`` when kwarray is importable, else a dict of
    numpy columns (``aid``, ``gid``, ``category_id``, ``cx``, ``cy``,
    ``width``, ``height``, ``img_width``, ``img_height``)."""
    cols = {
        'aid': np.array(tab['aid'], dtype=np.int64),
        'gid': np.array(tab['gid'], dtype=np.int64),
        'category_id': np.array([-1 if c is None else c for c in tab['category_id']],
                                dtype=np.int64),
        'cx': np.array(tab['cx'], dtype=np.float64),
        'cy': np.array(tab['cy'], dtype=np.float64),
        'width': np.array(tab['width'], dtype=np.float64),
        'height': np.array(tab['height'], dtype=np.float64),
    }
    dims = {}
    for g in set(cols['gid'].tolist()):
        dims[g] = sampler._native.image_dims(g) or [-1, -1]
    cols['img_width'] = np.array([dims[g][1] for g in cols['gid'].tolist()], dtype=np.int64)
    cols['img_height'] = np.array([dims[g][0] for g in cols['gid'].tolist()], dtype=np.int64)
    try:
        import kwarray
    except ImportError:
        return cols
    return kwarray.DataFrameArray(cols)


class Categories:
    """``sampler.classes`` without kwcoco: the categories, indexable by
    position like the reference's ``CategoryTree`` (``idx_to_node``,
    ``id_to_idx``, ...)."""

    def __init__(self, cats):
        self._cats = cats
        self.idx_to_node = [c['name'] for c in cats]
        self.idx_to_id = [c['id'] for c in cats]
        self.node_to_idx = {n: i for i, n in enumerate(self.idx_to_node)}
        self.id_to_idx = {c: i for i, c in enumerate(self.idx_to_id)}
        self.node_to_id = dict(zip(self.idx_to_node, self.idx_to_id))
        self.id_to_node = dict(zip(self.idx_to_id, self.idx_to_node))

    @classmethod
    def from_coco(cls, cats):
        return cls(list(cats))

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


def _category_tree():
    try:
        import kwcoco
    except ImportError:
        return Categories
    return kwcoco.CategoryTree


class _Deferred:
    """``im`` of a ``finalize=False`` sample (the reference's delayed image):
    no pixels are read until ``finalize()``, which loads and returns them
    (and keeps them). ``shape`` is known before; ``dtype`` reads them."""

    def __init__(self, sampler, target, shape):
        self._sampler = sampler
        self._target = target
        self.shape = shape
        self._im = None

    def finalize(self):
        if self._im is None:
            self._im = self._sampler.load_sample(self._target, with_annots=False)['im']
        return self._im

    @property
    def dtype(self):
        return self.finalize().dtype

    def __repr__(self):
        return f'<deferred window shape={self.shape}>'


def _planned_shape(params, is_video):
    """The pixel shape a sample's ``params`` describe (what a
    ``skip_pixels`` load would have read)."""
    (y0, y1), (x0, x1) = params['st_dims'][-2:]
    sx, sy = params.get('scale', [1.0, 1.0])
    def extent(n, scale):  # Rust's f64::round: halves away from zero
        return max(int(math.floor(n * scale + 0.5)), 0)
    hw = (extent(y1 - y0, sy), extent(x1 - x0, sx), len(params['channels']))
    return (len(params['warps']),) + hw if is_video else hw


_NOT_GIVEN = object()


class CocoSampler:
    """Random access to windows of a kwcoco dataset with their annotations.

    ``dset``: a path (or URL, with the ``remote`` build) to a kwcoco file or
    bundle directory, or a ``kwcoco.CocoDataset``: read from its file when it
    was loaded from one and not modified since (kwcoco's own test;
    ``use_file`` forces either way), else from its in-memory data (a
    snapshot: later changes to the object are not seen). ``backend``: None
    (raw files), ``'npy'`` or ``'cog'`` (a cache under ``workdir``, built by
    ``frames.prepare()`` or on first use). ``threads``: threads of
    ``load_batch`` (0: one per core; use 1 in each DataLoader worker: one
    thread loads on the calling thread, with the GIL released).
    ``max_sample_bytes``: most bytes one sample's pixels may take (None:
    the Rust default, 4 GiB), checked before anything is allocated.
    ``autoinit``/``verbose`` are the reference's (everything is ready at
    once here).
    """

    def __init__(self, dset, workdir=None, autoinit=True, backend=None, verbose=0,
                 use_file=None, threads=0, max_sample_bytes=None):
        if isinstance(autoinit, str) or autoinit is None:
            # the previous positional order (dset, workdir, backend, ...)
            autoinit, backend = True, autoinit
        if isinstance(backend, dict):
            backend = backend.get('type')
        if backend == 'auto':
            backend = 'npy' if workdir is not None else None
        self._backend = backend
        self._workdir = None if workdir is None else os.fspath(workdir)
        self.workdir = self._workdir
        self.verbose = verbose
        self._given = None
        if isinstance(dset, (str, os.PathLike)):
            self._path = os.fspath(dset)
            self._json = None
            self._bundle = None
        else:
            if not isinstance(dset, _JsonDataset):
                self._given = dset
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
                self._json = data if isinstance(data, str) else json.dumps(data)
                self._bundle = os.fspath(getattr(dset, 'bundle_dpath', None) or '.')
        if (not HAS_REMOTE and self._path is not None
                and self._path.split('://', 1)[0].lower() in ('s3', 'gs', 'az', 'http', 'https')
                and '://' in self._path):
            raise OSError(f'{self._path}: URLs need ndsampler_rs built with its cargo feature '
                          '"remote" (maturin develop --features remote); this build lacks it')
        self._threads = int(threads)
        self._max_sample_bytes = None if max_sample_bytes is None else int(max_sample_bytes)
        self._native = NativeSampler(self._path, self._json, self._bundle,
                                     self._backend, self._workdir, self._threads,
                                     self._max_sample_bytes)
        self.frames = _Frames(self)
        self.regions = CocoRegions(self, workdir=self._workdir, verbose=verbose)
        self._classes = None
        self._kp_classes = _NOT_GIVEN
        self._dset = None
        self._cats = None

    @classmethod
    def demo(cls, key='shapes', workdir=None, backend=None, **kw):
        """A sampler over ``kwcoco.CocoDataset.demo(key, **kw)`` (keys such
        as ``'shapes8'``, ``'photos'``, ``'vidshapes5-multispectral'``; needs
        kwcoco), as the reference's: ``'photos'`` loses its annotations
        without a box and gains a ``background`` class; a cache ``backend``
        without a ``workdir`` caches under ``$XDG_CACHE_HOME/ndsampler``
        (``~/.cache/ndsampler``)."""
        import kwcoco
        dset = kwcoco.CocoDataset.demo(key=key, **kw)
        if key == 'photos':
            toremove = [ann for ann in dset.anns.values() if 'bbox' not in ann]
            dset.remove_annotations(toremove)
            dset.add_category('background', id=0)
        if workdir is None and backend not in (None, 'raw'):
            # the reference's default workdir (ubelt's appdir 'ndsampler')
            base = os.environ.get('XDG_CACHE_HOME') or os.path.expanduser('~/.cache')
            workdir = os.path.join(base, 'ndsampler')
            os.makedirs(workdir, exist_ok=True)
        return cls(dset, workdir=workdir, backend=backend)

    @classmethod
    def coerce(cls, data, **kwargs):
        """A sampler from a sampler (returned as is), a path, or anything
        ``kwcoco.CocoDataset.coerce`` takes."""
        if isinstance(data, cls):
            if kwargs:
                raise ValueError('data is already a sampler, cannot change kwargs')
            return data
        if isinstance(data, (str, os.PathLike)) and os.path.exists(data):
            return cls(data, **kwargs)
        import kwcoco
        return cls(kwcoco.CocoDataset.coerce(data), **kwargs)

    def __reduce__(self):
        # by recipe: the path (or the dataset's JSON when it has no file)
        data = self._path if self._path is not None else _JsonDataset(
            self._native.dataset_json() if self._json is None else self._json, self._bundle)
        args = (data, self._workdir, True, self._backend, self.verbose, None, self._threads,
                self._max_sample_bytes)
        # the regions' preselection too (replayed: a pure function of its seed),
        # as the reference's pickle keeps the pools that load_item reads
        return (_restore_sampler, (args, self.regions._preselect_recipe))

    def _categories(self):
        if self._cats is None:
            self._cats = json.loads(self._native.categories_json())
        return self._cats

    @property
    def classes(self):
        """The categories: a ``kwcoco.CategoryTree`` (hierarchy, softmax,
        decision) when kwcoco is importable, as the reference returns, else
        a flat ``Categories``."""
        if self._classes is None:
            cats = self._categories()
            try:
                import kwcoco
            except ImportError:
                self._classes = Categories(cats)
            else:
                self._classes = kwcoco.CategoryTree.from_coco(
                    [{k: v for k, v in c.items() if v is not None} for c in cats])
        return self._classes

    catgraph = classes

    @property
    def kp_classes(self):
        """The keypoint categories (``dset.keypoint_categories()`` with
        kwcoco, else their names), None without any."""
        if self._kp_classes is _NOT_GIVEN:
            d = self.dset
            if hasattr(d, 'keypoint_categories'):
                self._kp_classes = d.keypoint_categories()
            else:
                kpcats = d.dataset.get('keypoint_categories') or []
                self._kp_classes = [c['name'] for c in kpcats] or None
        return self._kp_classes

    @property
    def BACKGROUND_CLASS_ID(self):
        return self.regions.BACKGROUND_CLASS_ID

    @property
    def dset(self):
        """The dataset: the ``kwcoco.CocoDataset`` given, or (for a path or
        data) one opened from it when kwcoco is importable, else a read-only
        view in kwcoco's shape (``dataset``, ``imgs``, ``anns``, ``cats``,
        ``videos``, ``name_to_cat``, ``gid_to_aids``). Built on first use;
        the sampler reads its own copy (changes to this object are not seen)."""
        if self._dset is None:
            if self._given is not None:
                self._dset = self._given
            else:
                try:
                    import kwcoco
                except ImportError:
                    self._dset = _DatasetView(json.loads(self._native.dataset_json()))
                else:
                    if self._path is not None and os.path.exists(self._path):
                        self._dset = kwcoco.CocoDataset(self._path)
                    else:
                        data = json.loads(self._native.dataset_json() if self._json is None
                                          else self._json)
                        self._dset = kwcoco.CocoDataset(data, bundle_dpath=self._bundle)
        return self._dset

    @property
    def n_positives(self):
        return self.regions.n_positives

    @property
    def n_samples(self):
        return self.regions.n_samples

    def __len__(self):
        return self.n_samples

    @property
    def n_annots(self):
        return self._native.n_annots()

    @property
    def n_images(self):
        return len(self.image_ids)

    @property
    def n_categories(self):
        return len(self._categories())

    @property
    def class_ids(self):
        return self.regions.class_ids

    @property
    def image_ids(self):
        """Every image id, sorted as the reference's (without building ``dset``)."""
        ids = self.__dict__.get('_image_ids')
        if ids is None:
            ids = self._image_ids = sorted(self._native.image_ids())
        return list(ids)

    def lookup_class_name(self, class_id):
        return self.regions.lookup_class_name(class_id)

    def lookup_class_id(self, class_name):
        return self.regions.lookup_class_id(class_name)

    def preselect(self, **kwargs):
        """``regions.preselect``."""
        return self.regions.preselect(**kwargs)

    def _prepare(self, target, kwargs):
        """The Rust target and Python options of a ``load_sample`` call."""
        if target is None:
            target = kwargs.pop('tr', None)
        if target is None:
            raise ValueError('The target dictionary must be specified')
        target = dict(target)
        for key in ('pad', 'padkw', 'dtype', 'nodata'):
            # the reference's deprecated keywords, moved into the target
            if key in kwargs:
                target[key] = kwargs.pop(key)
        if kwargs:
            raise TypeError(f'load_sample got unexpected keyword arguments {sorted(kwargs)}')
        t, py = normalize_target(target)
        return _resolve_listed_frames(t, self._video_frames), py

    def target_to_json(self, target):
        """``target_to_json`` with the reference's video grid targets checked
        against this dataset's videos (the form the batch paths take)."""
        return target_to_json(target, self._video_frames)

    def load_sample(self, target=None, with_annots=_NOT_GIVEN, annot_ids=None,
                    visible_thresh=_NOT_GIVEN, **kwargs):
        """Load one window and the annotations in it.

        ``target``: a dict with the reference's keys or docs/DESIGN.md
        section 4's (see ``normalize_target`` for what each key does); the
        reference's deprecated keywords ``tr``, ``pad``, ``padkw``, ``dtype``,
        ``nodata`` are moved into it. ``with_annots`` (True, False, or
        ``'boxes+segmentation+keypoints'`` / a list), ``visible_thresh``
        and ``annot_ids`` override the target's keys of those names.

        Returns the reference's dict: ``im`` (numpy ``(H, W, C)`` or ``(T, H,
        W, C)``; a list of lists of parts with ``use_native_scale``; a
        deferred image with ``finalize=False``), ``target`` (resolved, with
        the reference's key names beside ours; also as ``tr`` unless
        ``legacy_target=False``), ``params`` (see ``_reference_params``),
        ``annots`` (see ``_annots_dict``), ``classes``, ``kp_classes``.
        """
        t, py = self._prepare(target, kwargs)
        wa = None if with_annots is _NOT_GIVEN else _with_annots(with_annots)
        vt = None if visible_thresh is _NOT_GIVEN else float(visible_thresh)
        ids = None if annot_ids is None else [int(a) for a in annot_ids]
        text = json.dumps(t)
        if py['verbose_ndsample']:
            print('Load Sample:')
            print('target_ = {}'.format(self._native.resolve_target(text)))
        im, meta = self._native.load_sample(text, wa, vt, ids, not py['finalize'])
        sample = _build_sample(im, meta, self, py)
        if not py['finalize']:
            is_video = 'frame_sample_from_grid_warps' in sample['params']
            sample['im'] = _Deferred(self, dict(t), _planned_shape(sample['params'], is_video))
        return sample

    def _infer_target_attributes(self, target, **kwargs):
        """The resolved target (every inferred key filled in, reference key
        names beside ours), without reading pixels."""
        t, _ = self._prepare(target, dict(kwargs))
        return _reference_target(json.loads(self._native.resolve_target(json.dumps(t))))

    def load_item(self, index, with_annots=True, target=None, rng=None, **kw):
        """Item ``index`` of the pool: positives first, then negatives."""
        if index < self.n_positives:
            return self.load_positive(index, with_annots=with_annots, target=target,
                                      rng=rng, **kw)
        return self.load_negative(index - self.n_positives, with_annots=with_annots,
                                  target=target, rng=rng, **kw)

    def load_positive(self, index=None, with_annots=True, target=None, rng=None, **kw):
        """Load positive ``index`` (random from ``rng`` when None);
        ``target`` (or the deprecated ``tr``) updates its target (``pad``,
        ``window_dims``, ...); other keywords go to ``load_sample``."""
        if 'tr' in kw:
            target = kw.pop('tr')
        target_ = self.regions.get_positive(index, rng=rng)
        if target:
            target_.update(target)
        return self.load_sample(target_, with_annots=with_annots, **kw)

    def load_negative(self, index=None, with_annots=True, target=None, rng=None,
                      window_dims=None, **kw):
        """Load a negative (see ``regions.get_negative``); ``target`` (or the
        deprecated ``tr``) updates its target; other keywords go to
        ``load_sample``."""
        if 'tr' in kw:
            target = kw.pop('tr')
        target_ = self.regions.get_negative(index, rng=rng, window_dims=window_dims)
        if target:
            target_.update(target)
        return self.load_sample(target_, with_annots=with_annots, **kw)

    def load_image(self, image_id, cache=True):
        """The whole image (``frames.load_image``)."""
        return self.frames.load_image(image_id, cache=cache)

    def load_annotations(self, image_id):
        """The annotation dicts of image ``image_id``."""
        d = self.dset
        index = getattr(d, 'index', d)
        return [d.anns[aid] for aid in index.gid_to_aids[image_id]]

    def load_image_with_annots(self, image_id, cache=True):
        """``(img, anns)``: the image dict with its pixels as ``img['imdata']``,
        and its annotation dicts."""
        img = dict(self.dset.imgs[image_id])
        img['imdata'] = self.load_image(image_id, cache=cache)
        return img, self.load_annotations(image_id)

    def load_batch(self, targets, with_annots=True, visible_thresh=0.0):
        """Load many windows in parallel in Rust (GIL released, one call)."""
        texts = [t if isinstance(t, str) else self.target_to_json(dict(t)) for t in targets]
        out = self._native.load_batch(texts, _with_annots(with_annots), float(visible_thresh))
        return [_build_sample(im, meta, self) for im, meta in out]

    def new_sample_grid(self, task, window_dims, window_overlap=0, classes_of_interest=None,
                        ignore_classes=None, use_annots=True, legacy=True, verbose=0,
                        **kwargs):
        """The reference's sample grid: ``{'targets', 'positives_indexes',
        'negatives_indexes', 'ignored_indexes'}`` and (``legacy``, as the
        reference) the deprecated ``'positives'``/``'negatives'`` target
        lists, for ``task='image_detection'`` (``window_dims=(h, w)``) or
        ``'video_detection'`` (``(t, h, w)``). Targets carry the reference's
        keys: ``{'gid', 'space_slice', 'aids'}`` or ``{'vidid', 'time_slice',
        'space_slice', 'gids', 'aids'}`` (``aids``: the annotations each
        window overlaps; None with ``use_annots=False``, which makes every
        window negative). Indexes are 0-based: the reference's are 1-based
        (a known bug, docs/DESIGN.md section 7, not copied). Windows whose
        annotations are all of ``ignore_classes`` are ``ignored_indexes``
        (the reference drops windows mostly covered by ``ignore``)."""
        for k, v in kwargs.items():
            if k == 'negative_classes' and set(v) <= {'ignore', 'background'}:
                continue
            if k in ('ignore_coverage_thresh', 'space_dims', 'time_dim') and v in (0.6, None):
                continue
            raise ValueError(f'new_sample_grid: {k}={v!r} is not supported by ndsampler_rs')
        grid = json.loads(self._native.sample_grid(
            task, [int(d) for d in window_dims], float(window_overlap),
            None if classes_of_interest is None else list(classes_of_interest),
            None if ignore_classes is None else list(ignore_classes)))
        video = task == 'video_detection'
        targets = []
        for t in grid['targets']:
            if video:
                vid = t['video_id']
                frames = self._video_frames(vid)
                t0, t1 = t['time_slice']
                out = {'vidid': vid, 'time_slice': slice(t0, t1),
                       'space_slice': _slices(t['space_slice']),
                       'gids': frames[max(t0, 0):max(t1, 0)]}
            else:
                out = {'gid': t['image_id'], 'space_slice': _slices(t['space_slice'])}
            targets.append(out)
        pos, neg = grid['positives_indexes'], grid['negatives_indexes']
        if use_annots:
            for t in targets:
                t['aids'] = self._window_aids(t, video)
        else:
            for t in targets:
                t['aids'] = None
            neg = sorted(pos + neg + grid['ignored_indexes'])
            pos = []
            grid['ignored_indexes'] = []
        out = {'targets': targets, 'positives_indexes': pos, 'negatives_indexes': neg,
               'ignored_indexes': grid['ignored_indexes']}
        if legacy:
            out['positives'] = [targets[i] for i in pos]
            out['negatives'] = [targets[i] for i in neg]
        if verbose:
            print(f'Found {len(targets)} targets, {len(pos)} positives, {len(neg)} negatives')
        return out

    def _video_frames(self, vid):
        """Image ids of video ``vid``'s frames in order (kept per video)."""
        cache = self.__dict__.setdefault('_frames_of', {})
        if vid not in cache:
            cache[vid] = self._native.video_frames(int(vid))
        return cache[vid]

    def _window_aids(self, t, video):
        """Ids of the annotations a grid window overlaps (touching
        included), sorted as the reference's."""
        (y0, y1), (x0, x1) = [(s.start, s.stop) for s in t['space_slice']]
        if not video:
            return sorted(self.regions.overlapping_aids(t['gid'], [x0, y0, x1, y1]))
        if not t['gids']:
            return []
        _, meta = self._native.load_sample(
            json.dumps({'image_ids': t['gids'], 'space_slice': [[y0, y1], [x0, x1]]}),
            'boxes', None, None, True)
        return sorted(a['id'] for f in json.loads(meta)['frames'] for a in f['annots'])

    def load_batch_stacked(self, targets, with_annots='boxes', visible_thresh=0.0,
                           with_meta=False):
        """Load a batch for a training step in one call: ``{'im': (N, ...)
        array, 'aids', 'cids', 'batch_index', 'frame_index', 'rel_boxes'}``
        (one row per annotation; ``batch_index`` says which sample), plus
        ``'geometry'`` (segmentations / keypoints per annotation) when asked
        for and ``'meta'`` (each sample's target and params) with
        ``with_meta``. Every window must have one shape. ``targets`` may be
        dicts or their JSON text (``target_to_json``)."""
        texts = [t if isinstance(t, str) else self.target_to_json(t) for t in targets]
        return _stacked_out(self._native.load_batch_stacked(
            texts, _with_annots(with_annots), float(visible_thresh), bool(with_meta)))


def _restore_sampler(args, preselect):
    """Unpickle a ``CocoSampler`` (see ``CocoSampler.__reduce__``)."""
    sampler = CocoSampler(*args)
    if preselect is not None:
        sampler.regions._apply_preselect(**preselect)
    return sampler


def locality_order(targets, tile=(256, 256), window=64, seed=0):
    """Positions to visit ``targets`` in so that windows reading the same
    ``tile = (h, w)`` of an image (the COG cache's tiles) come one after
    another: a permutation moving no target by ``window`` places or more,
    a pure function of the targets, tile, window and seed (Rust's
    ``sampler::locality``). Targets without an image and a position
    (videos) keep their order."""
    texts = [t if isinstance(t, str) else target_to_json(t) for t in targets]
    return _locality_order(texts, [int(x) for x in tile], int(window), int(seed))


def apply_locality(targets, tile=(256, 256), window=64, seed=0):
    """``targets`` reordered by ``locality_order``."""
    targets = list(targets)
    return [targets[i] for i in locality_order(targets, tile, window, seed)]


def tabular_coco_targets(dset):
    """Every annotation with a box as a table (the reference's): ``aid``,
    ``gid``, ``category_id``, ``cx``, ``cy``, ``width``, ``height``,
    ``img_width``, ``img_height`` (a ``kwarray.DataFrameArray`` when kwarray
    is importable, else a dict of numpy columns). ``dset``: what
    ``CocoSampler`` takes, or a sampler."""
    s = dset if isinstance(dset, CocoSampler) else CocoSampler(dset)
    return s.regions.targets


def select_positive_regions(targets, window_dims=(300, 300), thresh=0.0, rng=None, verbose=0):
    """Rows of a positive table (``tabular_coco_targets``) whose windows of
    ``window_dims = (h, w)`` centred on them contain every row's centre: a
    greedy set cover seeded by ``rng`` (Rust's ``covering_positives``); the
    reference's non-max suppression could leave positives uncovered.
    ``thresh`` (the reference's NMS overlap) must be 0."""
    if thresh:
        raise ValueError('select_positive_regions: thresh (the reference\'s NMS overlap) '
                         'is not used by the set cover here; give 0')
    cols = getattr(targets, '_data', targets)
    n = len(cols['gid'])
    gids = [int(g) for g in cols['gid']]
    images = {}
    for g, w, h in zip(gids, cols['img_width'], cols['img_height']):
        images[g] = {'id': g, 'file_name': f'_{g}', 'width': int(w), 'height': int(h)}
    anns = [{'id': i + 1, 'image_id': gids[i], 'category_id': 1,
             'bbox': [float(cols['cx'][i]) - float(cols['width'][i]) / 2,
                      float(cols['cy'][i]) - float(cols['height'][i]) / 2,
                      float(cols['width'][i]), float(cols['height'][i])]} for i in range(n)]
    data = {'images': list(images.values()), 'annotations': anns,
            'categories': [{'id': 1, 'name': 'object'}]}
    native = NativeSampler(None, json.dumps(data), '.', None, None, 1)
    rows = native.covering_positives([int(window_dims[0]), int(window_dims[1])], _seed(rng))
    if verbose:
        print(f'selected {len(rows)} of {n} positives')
    return np.array(rows, dtype=np.int64)


def new_video_sample_grid(dset, window_dims=None, window_overlap=0.0, space_dims=None,
                          time_dim=None, classes_of_interest=None, ignore_coverage_thresh=0.6,
                          negative_classes=frozenset({'ignore', 'background'}), use_annots=True,
                          legacy=True, verbose=1):
    """The reference's ``new_video_sample_grid`` (``CocoSampler.new_sample_grid``
    with ``task='video_detection'``) over ``dset`` (a ``kwcoco.CocoDataset``,
    path or sampler); ``window_dims = (t, h, w)``."""
    s = dset if isinstance(dset, CocoSampler) else CocoSampler(dset)
    return s.new_sample_grid('video_detection', window_dims, window_overlap,
                             classes_of_interest=classes_of_interest, use_annots=use_annots,
                             legacy=legacy, verbose=0, negative_classes=negative_classes,
                             ignore_coverage_thresh=ignore_coverage_thresh,
                             space_dims=space_dims, time_dim=time_dim)


def new_image_sample_grid(dset, window_dims, window_overlap=0.0, classes_of_interest=None,
                          ignore_coverage_thresh=0.6,
                          negative_classes=frozenset({'ignore', 'background'}), use_annots=True,
                          legacy=True, verbose=1):
    """The reference's ``new_image_sample_grid`` (``CocoSampler.new_sample_grid``
    with ``task='image_detection'``); ``window_dims = (h, w)``."""
    s = dset if isinstance(dset, CocoSampler) else CocoSampler(dset)
    return s.new_sample_grid('image_detection', window_dims, window_overlap,
                             classes_of_interest=classes_of_interest, use_annots=use_annots,
                             legacy=legacy, verbose=0, negative_classes=negative_classes,
                             ignore_coverage_thresh=ignore_coverage_thresh)


class _DatasetView:
    """What ``CocoSampler.dset`` returns without kwcoco (see there)."""

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
        self.dataset = text
        self.bundle_dpath = bundle
        self.fpath = None


CategoryTree = _category_tree()

from ndsampler_rs import coco_sampler, coco_regions, coerce_data  # noqa: E402,F401
