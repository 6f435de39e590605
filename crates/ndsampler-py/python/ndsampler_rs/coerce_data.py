"""``ndsampler.coerce_data``: train / vali / test datasets from a config
(the reference's ``coerce_datasets``; it says "moved to netharn"). Needs kwcoco.
"""
import os

import numpy as np

__all__ = ['coerce_datasets']


def _ensure_coco(coco):
    """A path (``path:`` prefix allowed), a ``special:KEY`` kwcoco demo key or
    a ``kwcoco.CocoDataset`` as a ``kwcoco.CocoDataset`` (None stays None)."""
    import kwcoco
    if coco is None:
        return None
    if isinstance(coco, (str, os.PathLike)):
        text = os.fspath(coco)
        for prefix in ('path:', 'PATH:'):
            if text.startswith(prefix):
                text = text[len(prefix):]
        fpath = os.path.expanduser(text)
        if os.path.exists(fpath):
            return kwcoco.CocoDataset(fpath)
        code = text[len('special:'):] if text.lower().startswith('special:') else text
        return kwcoco.CocoDataset.demo(code)
    if not isinstance(coco, kwcoco.CocoDataset):
        raise TypeError(f'cannot make a kwcoco dataset of {type(coco).__name__}')
    return coco


def _split(base, factor=3, seed=0):
    """Image ids split about ``factor - 1 : 1`` into train and vali, then
    vali again into vali and test (seeded by image, not stratified by
    category as the reference's sklearn-based split)."""
    gids = np.array(sorted(base.imgs.keys()))
    order = np.random.RandomState(seed).permutation(len(gids))
    gids = gids[order]
    n_hold = len(gids) // factor
    train, hold = gids[n_hold:], gids[:n_hold]
    n_test = len(hold) // 2
    return {'train': sorted(train.tolist()), 'vali': sorted(hold[n_test:].tolist()),
            'test': sorted(hold[:n_test].tolist())}


def coerce_datasets(config, build_hashid=False, verbose=1):
    """``{'train', 'vali', 'test'}`` kwcoco datasets from ``config``'s
    ``train_dataset``/``vali_dataset``/``test_dataset``, or (when none is
    given) a split of ``datasets`` (``split_factor``, default 3;
    ``no_test``: the test part joins train)."""
    subsets = {
        'train': config.get('train_dataset'),
        'vali': config.get('vali_dataset'),
        'test': config.get('test_dataset'),
    }
    explicit = any(d is not None for d in subsets.values())
    subsets = {k: _ensure_coco(v) for k, v in subsets.items()}
    base = None if explicit else _ensure_coco(config.get('datasets'))
    if base is not None:
        split = _split(base, factor=config.get('split_factor', 3))
        if config.get('no_test', False):
            split['train'] = sorted(split['train'] + split.pop('test'))
        for tag, gids in split.items():
            subset = base.subset(gids, copy=True)
            subset.tag = f'{base.tag}-{tag}'
            subsets[tag] = subset
    subsets = {k: v for k, v in subsets.items() if v is not None}
    if build_hashid:
        for subset in subsets.values():
            subset._build_hashid(hash_pixels=False)
    return subsets
