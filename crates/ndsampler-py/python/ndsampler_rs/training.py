"""Training helpers in Rust: masks and heatmaps of a window, and stitching
window predictions back into the full image (sliding-window inference).

``load_sample_masks(sampler, target, ...)`` loads a window like
``CocoSampler.load_sample`` and rasterizes its annotations in Rust (GIL
released): a class mask (int32 category ids, ``ignore_value`` for ignored
categories and, with ``ignore_padding``, the padding), instance masks
(uint8 ``(N, H, W)``, or ``np.packbits(axis=-1)`` with ``packed=True``) and
Gaussian keypoint heatmaps (float32, one channel per keypoint category in
``heatmap_categories``, else one). ``fill='cv2'`` rasterizes as kwimage's
``to_mask()`` (vertices at pixel centres, boundary included); ``'centers'``
(default) sets the pixels whose centres are inside.

``Stitcher(height, width, channels, blend='mean'|'gaussian')`` accumulates
``(h, w, C)`` float32 predictions at their window positions (``add(y0, x0,
pred)``, windows may stick out of the image) and ``finalize()`` returns the
``(H, W, C)`` weighted mean (NaN where no window landed). Predictions are
read without a copy and the result array owns the Rust buffer; ``add_sample``
places a prediction at a loaded sample's window.

``BalancedPlan(sampler, unit='images'|'positives', balance=...)`` balances
classes per epoch: ``'repeat_factor'`` (detectron2's ``RepeatFactorTrainingSampler``:
``r(c) = max(1, sqrt(threshold / f(c)))``, an item's factor the max over its
categories, stochastic rounding per epoch), ``'inverse_frequency'``,
``'weights'`` (``weights={category_id: w}``, ``default_weight``) or
``'uniform'``; ``negatives`` (targets) join at ``negative_ratio`` of the
epoch's positives. ``epoch(seed, epoch)`` is the same list in every process.
"""
import json

import numpy as np

from ndsampler_rs import target_to_json
from ndsampler_rs._native import NativeBalancedPlan, NativeStitcher
from ndsampler_rs._native import load_sample_masks as _load_sample_masks

__all__ = ['BalancedPlan', 'Stitcher', 'load_sample_masks']


def load_sample_masks(sampler, target, class_mask=True, instances=False, packed=False,
                      heatmap_sigma=None, heatmap_categories=None, fill='centers',
                      ignore_value=-1, ignore_padding=False, ignore_categories=None,
                      skip_pixels=False):
    """The window of ``target`` (a reference-style dict or JSON text) and its
    masks: a dict with ``im`` (unless ``skip_pixels``), ``meta`` (``target``,
    ``params``, ``frames`` as in ``sample.json``) and the arrays asked for
    (``class_mask``, ``instance_masks`` with ``instance_ids`` /
    ``instance_category_ids`` / ``instance_frames``, ``heatmaps``)."""
    text = target if isinstance(target, str) else target_to_json(dict(target))
    out = _load_sample_masks(
        sampler._native, text, class_mask=bool(class_mask), instances=bool(instances),
        packed=bool(packed),
        heatmap_sigma=None if heatmap_sigma is None else float(heatmap_sigma),
        heatmap_categories=None if heatmap_categories is None else [int(c) for c in heatmap_categories],
        fill=fill, ignore_value=int(ignore_value), ignore_padding=bool(ignore_padding),
        ignore_categories=None if ignore_categories is None else [int(c) for c in ignore_categories],
        skip_pixels=bool(skip_pixels))
    out['meta'] = json.loads(out['meta'])
    return out


class Stitcher:
    """Accumulates window predictions into an ``(H, W, C)`` float32 image."""

    def __init__(self, height, width, channels=1, blend='mean', sigma_scale=0.125):
        self._native = NativeStitcher(int(height), int(width), int(channels), blend,
                                      float(sigma_scale))

    @property
    def shape(self):
        return self._native.shape

    def add(self, y0, x0, pred, weights=None):
        """Add an ``(h, w, C)`` (or ``(h, w)`` for one channel) prediction whose
        top-left pixel is at row ``y0``, column ``x0``."""
        pred = np.asarray(pred, dtype=np.float32)
        if pred.ndim == 2:
            pred = pred[:, :, None]
        if weights is not None:
            weights = np.asarray(weights, dtype=np.float32)
        self._native.add(int(y0), int(x0), pred, weights)

    def add_sample(self, sample, pred, weights=None):
        """Add the prediction of a sample returned by ``load_sample`` (2D,
        unscaled): placed at its padded window."""
        params = sample['params'] if 'params' in sample else sample['meta']['params']
        scale = params.get('scale', [1.0, 1.0])
        if list(scale) != [1.0, 1.0]:
            raise ValueError(f'scale {scale}: only unscaled windows are on the image grid')
        x0, y0 = params['sample_ltrb'][:2]
        self.add(y0, x0, pred, weights)

    def weights(self):
        """The accumulated ``(H, W)`` weights."""
        return self._native.weights()

    def finalize(self):
        """The ``(H, W, C)`` weighted mean, NaN where no window landed."""
        return self._native.finalize()


class BalancedPlan:
    """A class-balanced sample plan (see the module docs)."""

    def __init__(self, sampler, unit='images', balance='repeat_factor', threshold=0.001,
                 weights=None, default_weight=1.0, epoch_size=None, negatives=None,
                 negative_ratio=0.0):
        texts = None if negatives is None else [
            t if isinstance(t, str) else target_to_json(dict(t)) for t in negatives]
        self._native = NativeBalancedPlan(
            sampler._native, unit=unit, balance=balance, threshold=float(threshold),
            weights=None if weights is None else {int(k): float(v) for k, v in weights.items()},
            default_weight=float(default_weight),
            epoch_size=None if epoch_size is None else int(epoch_size),
            negatives=texts, negative_ratio=float(negative_ratio))

    def __len__(self):
        """Number of labelled items (images or positives)."""
        return self._native.num_items()

    def repeat_factors(self):
        """Each item's repeat factor (``balance='repeat_factor'``), else None."""
        return self._native.repeat_factors()

    def epoch(self, seed, epoch):
        """Epoch ``epoch``'s targets (dicts), shuffled: a pure function of
        ``(seed, epoch)``."""
        return [json.loads(t) for t in self._native.epoch(int(seed), int(epoch))]
