"""Training parity with Rust (issue 24 item 3): per-epoch preselection of
positives and negatives, random windows, tile-locality order, and their
pickling by recipe."""
import json
import pickle
from pathlib import Path

import numpy as np
import pytest

import ndsampler_rs

ROOT = Path(__file__).resolve().parents[3]
SHAPES4 = ROOT / 'tests' / 'fixtures' / 'shapes4' / 'data.kwcoco.json'


@pytest.fixture()
def sampler():
    return ndsampler_rs.CocoSampler(SHAPES4)


def _overlaps(sampler, t):
    x0, y0 = t['cx'] - t['width'] / 2, t['cy'] - t['height'] / 2
    return sampler.regions.overlapping_aids(t['gid'], [x0, y0, x0 + t['width'],
                                                       y0 + t['height']])


def test_preselect_ratio_per_epoch(sampler):
    r = sampler.regions
    n_pos, n_neg = r.preselect(neg_to_pos_ratio=0.5, window_dims=(32, 32), rng=3, epoch=0,
                               thresh=0.0)
    assert n_pos == 52 and 0 < n_neg <= 26
    assert (r.n_positives, r.n_negatives, len(sampler)) == (n_pos, n_neg, n_pos + n_neg)
    negs0 = [r.get_negative(i) for i in range(n_neg)]
    for t in negs0:
        assert t['aid'] == -1 and t['category_id'] == 0 and (t['width'], t['height']) == (32, 32)
        assert _overlaps(sampler, t) == []  # thresh 0: touches nothing
    # the same (rng, epoch): the same pool; the next epoch: another one
    r.preselect(neg_to_pos_ratio=0.5, window_dims=(32, 32), rng=3, epoch=0, thresh=0.0)
    assert [r.get_negative(i) for i in range(n_neg)] == negs0
    r.preselect(neg_to_pos_ratio=0.5, window_dims=(32, 32), rng=3, epoch=1, thresh=0.0)
    assert [r.get_negative(i) for i in range(r.n_negatives)] != negs0
    # items: positives first, then the pool, loading as the reference's load_item
    s = sampler.load_item(n_pos)
    assert s['im'].shape == (32, 32, 3) and len(s['annots']['aids']) == 0
    assert sampler.load_item(0)['target']['aid'] == 1
    # sequential negatives go round the pool, then a fresh pool is mined
    seq = [r.get_negative() for _ in range(r.n_negatives)]
    assert seq == [r.get_negative(i) for i in range(len(seq))] or r.n_negatives == 0
    with pytest.raises(ValueError, match='both'):
        r.preselect(n_neg=3, neg_to_pos_ratio=1.0)
    with pytest.warns(UserWarning, match='n_pos'):
        assert r.preselect(n_pos=10, n_neg=2, rng=0)[0] == 52


def test_preselect_count_and_cover(sampler):
    r = sampler.regions
    assert r.preselect(n_neg=5, rng=0) == (52, 5)
    n_pos, _ = r.preselect(n_neg=0, rng=0, cover_dims=(200, 200))
    assert 0 < n_pos < 52
    t = r.get_positive(0)
    assert t['window_dims'] == (200, 200)
    assert sampler.load_sample(t)['im'].shape == (200, 200, 3)


def test_preselection_pickles_by_recipe(sampler):
    r = sampler.regions
    r.preselect(n_neg=6, window_dims=(24, 24), rng=11, epoch=4)
    want = [r.get_item(i) for i in range(len(r))]
    again = pickle.loads(pickle.dumps(r))
    assert [again.get_item(i) for i in range(len(again))] == want
    blob = pickle.dumps(r)
    assert len(blob) < 2000, 'regions pickle by recipe, not by their pools'
    # a sampler carries its regions' preselection into workers (load_item reads it)
    s2 = pickle.loads(pickle.dumps(sampler))
    assert [s2.regions.get_item(i) for i in range(len(s2))] == want
    np.testing.assert_array_equal(s2.load_item(len(s2) - 1)['im'],
                                  sampler.load_item(len(sampler) - 1)['im'])


def test_random_windows_are_a_function_of_seed_epoch_and_index(sampler):
    r = sampler.regions
    a = r.random_windows((48, 64), 20, rng=7, epoch=0)
    assert a == r.random_windows((48, 64), 20, rng=7, epoch=0)
    assert a != r.random_windows((48, 64), 20, rng=7, epoch=1)
    assert a[:5] == r.random_windows((48, 64), 5, rng=7, epoch=0)
    for t in a:
        (y0, y1), (x0, x1) = [(s.start, s.stop) for s in t['space_slice']]
        assert (y1 - y0, x1 - x0) == (48, 64) and 0 <= y0 and y1 <= 400 and 0 <= x0 and x1 <= 400
    only = r.random_windows((8, 8), 10, rng=1, gids=[3])
    assert {t['gid'] for t in only} == {3}
    batch = sampler.load_batch_stacked(a)
    assert batch['im'].shape == (20, 48, 64, 3)
    with pytest.raises(KeyError, match='999'):
        r.random_windows((8, 8), 1, rng=1, gids=[999])


def test_locality_order_groups_tiles(sampler):
    rng = np.random.RandomState(0)
    targets = [{'gid': int(g), 'space_slice': [[int(y), int(y) + 16], [int(x), int(x) + 16]]}
               for g, y, x in zip(rng.randint(1, 5, 200), rng.randint(0, 380, 200),
                                  rng.randint(0, 380, 200))]
    order = ndsampler_rs.locality_order(targets, tile=(128, 128), window=50, seed=0)
    assert sorted(order) == list(range(200))
    assert all(abs(k - i) < 50 for k, i in enumerate(order))
    key = lambda t: (t['gid'], t['space_slice'][0][0] // 128, t['space_slice'][1][0] // 128)
    def adjacent(ts):
        return sum(key(a) == key(b) for a, b in zip(ts, ts[1:]))
    reordered = ndsampler_rs.apply_locality(targets, tile=(128, 128), window=50, seed=0)
    assert reordered == [targets[i] for i in order]
    assert adjacent(reordered) > 3 * max(adjacent(targets), 1)
    assert order == ndsampler_rs.locality_order(targets, tile=(128, 128), window=50, seed=0)
    with pytest.raises(ValueError, match='tile'):
        ndsampler_rs.locality_order(targets, tile=(0, 128))


def test_remote_feature_is_reported():
    assert ndsampler_rs.HAS_REMOTE in (True, False)
    if not ndsampler_rs.HAS_REMOTE:
        with pytest.raises(OSError, match='maturin develop --features remote'):
            ndsampler_rs.CocoSampler('s3://bucket/data.kwcoco.json')
        with pytest.raises(RuntimeError, match='remote'):
            ndsampler_rs.set_store_options('s3://bucket', {})


def test_max_sample_bytes_holds_from_python():
    s = ndsampler_rs.CocoSampler(SHAPES4, max_sample_bytes=3000)
    t = {'gid': 1, 'space_slice': [[0, 32], [0, 32]]}  # 32 * 32 * 3 bytes = 3072
    with pytest.raises(ValueError, match='3000'):
        s.load_sample(t)
    with pytest.raises(ValueError, match='3000'):
        s.load_batch_stacked([t])
    assert s.load_sample({'gid': 1, 'space_slice': [[0, 31], [0, 32]]})['im'].shape == (31, 32, 3)
    again = pickle.loads(pickle.dumps(s))
    with pytest.raises(ValueError, match='3000'):
        again.load_sample(t)


def test_preselect_dataset_gives_each_epoch_its_pool(sampler):
    from ndsampler_rs.torch import PlanSampler, PreselectDataset
    ds = PreselectDataset(sampler, seed=5, preselect=dict(n_neg=8, window_dims=(32, 32)),
                          target={'pad': 2, 'window_dims': (32, 32)}, stacked=True)
    assert len(ds) == 52 + 8
    keys = PlanSampler(len(ds), seed=0)
    keys.set_epoch(1)
    batch = [k for k in keys][:6]
    got = ds.__getitems__(batch)
    r = ndsampler_rs.CocoRegions(ndsampler_rs.CocoSampler(SHAPES4))
    r.preselect(n_neg=8, window_dims=(32, 32), rng=5, epoch=1)
    for k, (_, i) in enumerate(batch):
        want = sampler.load_sample(dict(r.get_item(i), pad=2, window_dims=(32, 32)))
        sel = got['batch_index'] == k
        assert got['aids'][sel].tolist() == want['annots']['aids'].tolist()
    negs = ds.__getitems__([(1, i) for i in range(52, 60)])
    negs0 = ds.__getitems__([(0, i) for i in range(52, 60)])
    assert negs['im'].shape == (8, 36, 36, 3)
    assert not np.array_equal(negs['im'], negs0['im']), 'each epoch mines its own pool'
    again = pickle.loads(pickle.dumps(ds))
    np.testing.assert_array_equal(again.__getitems__([(1, i) for i in range(52, 60)])['im'],
                                  negs['im'])
    assert len(ds[(1, 55)]['annots']['aids']) == 0  # a negative
    with pytest.raises(ValueError, match='epochs'):
        ds.__getitems__([(0, 1), (1, 1)])


def test_plan_sampler_resumes_mid_epoch():
    import pickle
    from ndsampler_rs.torch import PlanSampler
    full = PlanSampler(37, seed=4, rank=1, world_size=3)
    full.set_epoch(2)
    keys = list(full)
    first = PlanSampler(37, seed=4, rank=1, world_size=3)
    first.set_epoch(2)
    it = iter(first)
    seen = [next(it) for _ in range(5)]
    state = pickle.loads(pickle.dumps(first.state_dict()))
    assert state['yielded'] == 5 and state['epoch'] == 2
    # a restarted job: a new sampler, the same rest of the epoch
    again = PlanSampler(37, seed=4, rank=1, world_size=3)
    again.load_state_dict(state)
    assert seen + list(again) == keys
    # then the next epoch from its start
    again.set_epoch(3)
    nxt = PlanSampler(37, seed=4, rank=1, world_size=3)
    nxt.set_epoch(3)
    assert list(again) == list(nxt)
    # start= skips keys of the first epoch iterated
    skip = PlanSampler(37, seed=4, rank=1, world_size=3, start=7)
    skip.set_epoch(2)
    assert list(skip) == keys[7:]
    # a state of another plan is refused by name
    other = PlanSampler(37, seed=5, rank=1, world_size=3)
    with pytest.raises(ValueError, match='seed'):
        other.load_state_dict(state)
