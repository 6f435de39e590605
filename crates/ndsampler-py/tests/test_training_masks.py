"""ndsampler_rs.training: masks of a window against kwimage's (the
masks-shapes4 fixture), and stitching grid windows back into the image."""
import json
import math
from pathlib import Path

import numpy as np
import pytest

import ndsampler_rs
from ndsampler_rs.training import Stitcher, load_sample_masks

ROOT = Path(__file__).resolve().parents[3]
SHAPES4 = ROOT / 'tests' / 'fixtures' / 'shapes4'
MASKS = ROOT / 'tests' / 'fixtures' / 'masks-shapes4'


@pytest.fixture(scope='module')
def sampler():
    return ndsampler_rs.CocoSampler(SHAPES4 / 'data.kwcoco.json')


def mask_cases():
    return json.loads((MASKS / 'cases.json').read_text())['windows']


@pytest.mark.parametrize('case', mask_cases(), ids=lambda c: c['name'])
def test_masks_match_kwimage(sampler, case):
    out = load_sample_masks(sampler, case['target'], instances=True, packed=True, fill='cv2',
                            heatmap_sigma=2.0)
    want = np.load(MASKS / 'expected' / f"{case['name']}_class.npy")
    assert out['class_mask'].dtype == np.int32
    assert out['class_mask'].shape == out['im'].shape[:2]
    np.testing.assert_array_equal(out['class_mask'], want.astype(np.int32))
    packed = out['instance_masks']
    h, w = want.shape
    assert packed.shape == (len(out['instance_ids']), h, (w + 7) // 8)
    masks = np.unpackbits(packed, axis=-1)[..., :w]
    kept = [i for i, m in zip(out['instance_ids'], masks) if m.any()]
    assert kept == case['instance_ids']
    assert out['heatmaps'].shape == (1, h, w)
    assert out['meta']['params']['st_dims']


def test_ignored_padding_and_errors(sampler):
    target = {'image_id': 2, 'space_slice': [[-10, 30], [0, 40]]}
    out = load_sample_masks(sampler, target, ignore_padding=True, ignore_value=255,
                            skip_pixels=True)
    assert 'im' not in out
    cls = out['class_mask']
    assert (cls[:10] == 255).all() and not (cls[10:] == 255).any()
    with pytest.raises(ValueError, match='fill'):
        load_sample_masks(sampler, target, fill='nope')
    with pytest.raises(ValueError, match='sigma'):
        load_sample_masks(sampler, target, heatmap_sigma=0.0)


def origins(n, k, step):
    """Window starts covering n with windows of k, the last flush with the end."""
    out = list(range(0, n - k, step)) + [n - k]
    return sorted(set(out))


@pytest.mark.parametrize('blend', ['mean', 'gaussian'])
def test_grid_windows_stitch_back(sampler, blend):
    full = sampler.load_sample({'image_id': 1})['im'].astype(np.float32)
    h, w, c = full.shape
    st = Stitcher(h, w, c, blend=blend)
    assert st.shape == (h, w, c)
    n = 0
    for y0 in origins(h, 100, 70):
        for x0 in origins(w, 120, 90):
            s = sampler.load_sample({'image_id': 1, 'space_slice': [[y0, y0 + 100], [x0, x0 + 120]]})
            st.add_sample(s, s['im'].astype(np.float32))
            n += 1
    assert n > 4
    out = st.finalize()
    assert out.dtype == np.float32 and out.shape == (h, w, c)
    assert (st.weights() > 0).all() and (st.weights() > 1.0 + 1e-3).any()
    np.testing.assert_allclose(out, full, atol=1e-3)


def test_windows_outside_the_image_and_explicit_weights(sampler):
    st = Stitcher(5, 6, 1)
    # a window sticking out at the top left: only its inside part counts
    st.add(-2, -3, np.full((4, 5), 2.0, np.float32))
    w = np.ones((3, 3), np.float32)
    w[0, 0] = 0.0
    st.add(2, 3, np.full((3, 3, 1), 8.0, np.float32), weights=w)
    out = st.finalize()[:, :, 0]
    assert out[0, 0] == 2.0 and out[1, 1] == 2.0
    assert np.isnan(out[2, 0]) and np.isnan(out[2, 3])  # uncovered, zero weight
    assert out[4, 5] == 8.0
    assert st.weights().sum() == 2 * 2 + 8


def test_stitcher_refuses_bad_input():
    with pytest.raises(ValueError, match='blend'):
        Stitcher(4, 4, 1, blend='median')
    st = Stitcher(4, 4, 2)
    with pytest.raises(ValueError, match='channels'):
        st.add(0, 0, np.zeros((2, 2, 3), np.float32))
    with pytest.raises(ValueError, match='channels'):
        st.add(0, 0, np.zeros((2, 2), np.float32))
    with pytest.raises(ValueError, match='weights'):
        st.add(0, 0, np.zeros((2, 2, 2), np.float32), weights=np.ones((3, 3), np.float32))


def test_balanced_plans(sampler):
    from ndsampler_rs.training import BalancedPlan
    plan = BalancedPlan(sampler, unit='positives', balance='repeat_factor', threshold=0.3)
    assert len(plan) == sampler.regions.n_positives
    r = plan.repeat_factors()
    assert len(r) == len(plan) and min(r) >= 1.0 and max(r) > 1.0
    a, b = plan.epoch(3, 1), plan.epoch(3, 1)
    assert a == b and a != plan.epoch(3, 2)
    # positive i appears floor(r[i]) or ceil(r[i]) times
    counts = {}
    for t in a:
        counts[t['annot_id']] = counts.get(t['annot_id'], 0) + 1
    for i, ri in enumerate(r):
        pos = sampler.regions.get_positive(i)  # the reference's keys: 'aid'
        aid = pos.get('aid', pos.get('annot_id'))
        assert counts.get(aid, 0) in (math.floor(ri), math.ceil(ri)), (aid, ri)
    negs = [sampler.regions.get_negative() for _ in range(3)]
    plan = BalancedPlan(sampler, unit='images', balance='inverse_frequency', epoch_size=40,
                        negatives=negs, negative_ratio=0.25)
    ep = plan.epoch(0, 0)
    assert len(ep) == 40 + 10
    assert plan.repeat_factors() is None
    with pytest.raises(ValueError, match='balance'):
        BalancedPlan(sampler, balance='nope')
    with pytest.raises(ValueError, match='ratio'):
        BalancedPlan(sampler, negative_ratio=-1.0, negatives=negs)
