"""The Python package against the reference's vendored answers, and its
zero-copy, pickling, worker-process and sharding behaviour."""
import json
import multiprocessing
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

import ndsampler_rs
from ndsampler_rs.torch import PlanSampler, SamplerDataset, collate, shard_indices

ROOT = Path(__file__).resolve().parents[3]
SHAPES4 = ROOT / 'tests' / 'fixtures' / 'shapes4'
FORMS = ROOT / 'tests' / 'fixtures' / 'forms'


def xywh(annots):
    """``annots['rel_boxes']`` as an N x 4 xywh array (a ``kwimage.Boxes``
    when kwimage is importable, as the reference's)."""
    b = annots['rel_boxes']
    return b.to_xywh().data if hasattr(b, 'to_xywh') else np.asarray(b)


def cases():
    return json.loads((SHAPES4 / 'expected' / 'cases.json').read_text())


@pytest.fixture(scope='module')
def sampler():
    return ndsampler_rs.CocoSampler(SHAPES4 / 'data.kwcoco.json')


@pytest.mark.parametrize('case', cases(), ids=lambda c: c['name'])
def test_matches_the_reference_answers(sampler, case):
    """Pixels identical (nothing in shapes4 is resampled), the same
    annotation ids and boxes within 0.5 px, as the vendored answers of the
    reference sampler."""
    expected = json.loads((SHAPES4 / 'expected' / case['name'] / 'sample.json').read_text())
    want_im = np.load(SHAPES4 / 'expected' / case['name'] / 'im.npy')
    target = dict(case['target'])
    got = sampler.load_sample(target, with_annots=case.get('with_annots', True),
                              visible_thresh=case.get('visible_thresh', 0.0),
                              annot_ids=case.get('annot_ids'))
    assert got['im'].shape == want_im.shape
    assert got['im'].dtype == want_im.dtype
    np.testing.assert_array_equal(got['im'], want_im)
    want_aids = [a['id'] for f in expected['frames'] for a in f['annots']]
    want_boxes = [a['bbox'] for f in expected['frames'] for a in f['annots']]
    assert got['annots']['aids'].tolist() == want_aids
    np.testing.assert_allclose(xywh(got['annots']),
                               np.array(want_boxes, dtype=float).reshape(-1, 4), atol=0.5)


def test_pixels_are_the_rust_buffer_not_a_copy(sampler):
    s = sampler.load_sample({'gid': 1, 'space_slice': (slice(0, 32), slice(0, 48))})
    im = s['im']
    assert not im.flags.owndata
    assert type(im.base).__name__ == 'PySliceContainer'
    assert im.flags.writeable and im.flags.c_contiguous
    im[0, 0, 0] = 7  # the buffer is ours to write
    assert im[0, 0, 0] == 7


def test_reference_target_forms(sampler):
    by_slices = sampler.load_sample({'gid': 2, 'space_slice': (slice(5, 45), slice(10, 70))})
    by_pairs = sampler.load_sample({'image_id': np.int64(2), 'space_slice': [[5, 45], [10, 70]]})
    by_center = sampler.load_sample({'gid': 2, 'cx': 40, 'cy': 25, 'width': 60, 'height': 40})
    for s in (by_pairs, by_center):
        np.testing.assert_array_equal(s['im'], by_slices['im'])
    t = by_slices['target']
    assert t['gid'] == t['image_id'] == 2
    assert t['space_slice'] == (slice(5, 45), slice(10, 70))


def test_errors_are_python_exceptions(sampler, tmp_path):
    with pytest.raises(KeyError, match='no image with id 999'):
        sampler.load_sample({'gid': 999})
    with pytest.raises(ValueError, match='unknown field `bogus`'):
        sampler.load_sample({'gid': 1, 'bogus': 1})
    with pytest.raises(ValueError, match='step'):
        sampler.load_sample({'gid': 1, 'space_slice': (slice(0, 10, 2), slice(0, 10))})
    with pytest.raises(OSError):
        ndsampler_rs.CocoSampler(tmp_path / 'missing.kwcoco.json')
    with pytest.raises(ValueError, match='workdir'):
        ndsampler_rs.CocoSampler(SHAPES4 / 'data.kwcoco.json', backend='npy')
    bad = tmp_path / 'bad.json'
    bad.write_text('{"images": [')
    with pytest.raises(ValueError, match='bad.json'):
        ndsampler_rs.CocoSampler(bad)


def test_regions_and_classes(sampler):
    assert sampler.n_positives == 52
    t = sampler.regions.get_positive(0)
    # the reference's keys (tabular_coco_targets' row)
    assert (t['aid'], t['gid'], t['category_id']) == (1, 1, 6)
    assert (t['img_width'], t['img_height']) == (400, 400)
    s = sampler.load_positive(0)
    assert 1 in s['annots']['aids'].tolist()
    with pytest.raises(IndexError):
        sampler.regions.get_positive(52)
    neg = sampler.regions.get_negative(3, window_dims=(32, 32))
    assert neg == sampler.regions.get_negative(3, window_dims=(32, 32))
    n = sampler.load_sample(neg)
    assert n['im'].shape == (32, 32, 3)
    # kwcoco is importable here: the reference's CategoryTree
    import kwcoco
    assert isinstance(sampler.classes, kwcoco.CategoryTree)
    ref = kwcoco.CocoDataset(str(SHAPES4 / 'data.kwcoco.json')).object_categories()
    assert set(sampler.classes) == set(ref)  # supercategories too, as the reference
    assert {'background', 'star', 'superstar', 'eff'} < set(sampler.classes)
    assert sampler.classes.node_to_id['superstar'] == 6
    flat = ndsampler_rs.Categories(json.loads(sampler._native.categories_json()))
    assert list(flat) == ['background', 'star', 'superstar', 'eff']
    assert flat.id_to_idx[6] == 2


def test_dataset_view(sampler):
    d = sampler.dset
    assert d.n_images == 4 and d.n_annots == 52
    assert d.anns[5]['image_id'] in d.imgs
    assert 5 in d.gid_to_aids[d.anns[5]['image_id']]
    assert d.name_to_cat['superstar']['id'] == 6


def test_npy_backend_prepares_and_reads_the_same(sampler, tmp_path):
    cached = ndsampler_rs.CocoSampler(SHAPES4 / 'data.kwcoco.json', backend='npy',
                                      workdir=tmp_path)
    seen = []
    assert cached.frames.prepare(workers=2, progress=lambda d, t: seen.append((d, t))) == 4
    assert seen[-1] == (4, 4)
    assert any(tmp_path.rglob('*.npy'))
    t = {'gid': 3, 'cx': 150, 'cy': 150, 'width': 120, 'height': 120}
    np.testing.assert_array_equal(cached.load_sample(t)['im'], sampler.load_sample(t)['im'])


def test_a_kwcoco_dataset_object_is_accepted():
    import kwcoco
    dset = kwcoco.CocoDataset(str(SHAPES4 / 'data.kwcoco.json'))
    by_file = ndsampler_rs.CocoSampler(dset)  # unmodified: read from its file
    assert by_file._path == str(SHAPES4 / 'data.kwcoco.json') and by_file.n_positives == 52
    dset.remove_annotations([1])  # modified in memory: read from its data
    s = ndsampler_rs.CocoSampler(dset)
    assert s._path is None and s.n_positives == 51
    again = pickle.loads(pickle.dumps(s))
    assert again.n_positives == 51
    t = {'gid': 1, 'cx': 142, 'cy': 339, 'width': 40, 'height': 40}
    np.testing.assert_array_equal(again.load_sample(t)['im'], s.load_sample(t)['im'])


def test_forms_fixture_keypoint_names():
    s = ndsampler_rs.CocoSampler(FORMS / 'data.kwcoco.json')
    got = s.load_sample({'gid': 1, 'space_slice': [[50, 250], [40, 260]]})
    names = dict(zip(got['annots']['aids'].tolist(), got['annots']['kp_names']))
    assert names[4] == ['nose', 'left_eye', 'right_eye']
    assert names[7] == ['left_eye', 'nose']


def _worker_load(args):
    dataset, keys = args
    return [(s['im'].copy(), s['annots']['aids'].tolist()) for s in dataset.__getitems__(keys)]


def test_spawned_workers_load_batches_from_a_pickled_dataset(sampler):
    """What DataLoader workers do: unpickle the dataset in a spawned process
    and call __getitems__ with a batch of keys."""
    targets = [sampler.regions.get_positive(i) for i in range(12)]
    dataset = SamplerDataset(sampler, targets)
    keys = list(PlanSampler(len(dataset), seed=1, rank=0, world_size=1))
    batches = [keys[i:i + 4] for i in range(0, len(keys), 4)]
    ctx = multiprocessing.get_context('spawn')
    with ctx.Pool(2) as pool:
        results = pool.map(_worker_load, [(dataset, b) for b in batches])
    for batch, got in zip(batches, results):
        want = dataset.__getitems__(batch)
        assert len(got) == len(want)
        for (im, aids), w in zip(got, want):
            np.testing.assert_array_equal(im, w['im'])
            assert aids == w['annots']['aids'].tolist()
    # the one-call batch equals item-by-item loads
    one = [dataset[k] for k in batches[0]]
    for a, b in zip(one, dataset.__getitems__(batches[0])):
        np.testing.assert_array_equal(a['im'], b['im'])
    out = collate(dataset.__getitems__(batches[0]))
    assert len(out['target']) == 4


@pytest.mark.parametrize('n', [10, 12, 1, 0])
@pytest.mark.parametrize('drop_last', [False, True])
def test_rank_shards_are_equal_and_cover_the_epoch(n, drop_last):
    """Three ranks get equal-length shards; with padding their union is the
    epoch (repeats only to even out), with drop_last they are disjoint."""
    w = 3
    shards = [list(PlanSampler(n, seed=5, drop_last=drop_last, rank=r, world_size=w))
              for r in range(w)]
    lens = {len(s) for s in shards}
    assert len(lens) == 1, shards
    assert len(shards[0]) == len(PlanSampler(n, drop_last=drop_last, rank=0, world_size=w))
    flat = [i for s in shards for _, i in s]
    if drop_last:
        assert len(flat) == len(set(flat)) == (n // w) * w
    else:
        assert set(flat) == set(range(n))
        assert len(flat) == (math_ceil(n, w) * w if n else 0)
    # deterministic per (seed, epoch), different across epochs when shuffled
    a = shard_indices(n, 0, seed=5, world_size=1)
    assert a == shard_indices(n, 0, seed=5, world_size=1)
    if n >= 10:
        assert a != shard_indices(n, 1, seed=5, world_size=1)


def math_ceil(a, b):
    return -(-a // b)


def test_bad_rank_is_an_error():
    with pytest.raises(ValueError, match='rank 3'):
        PlanSampler(10, rank=3, world_size=3)


def test_rank_from_the_environment(monkeypatch):
    monkeypatch.setenv('RANK', '1')
    monkeypatch.setenv('WORLD_SIZE', '2')
    s = PlanSampler(5, shuffle=False)
    assert (s.rank, s.world_size) == (1, 2)
    assert [i for _, i in s] == [1, 3, 0]


def test_torch_is_not_imported_by_the_package():
    import subprocess
    import sys
    code = ('import sys, ndsampler_rs, ndsampler_rs.torch; '
            'assert "torch" not in sys.modules, "torch imported"')
    subprocess.run([sys.executable, '-c', code], check=True, env=dict(os.environ))


def _cli():
    exe = os.environ.get('NDSAMPLER_BIN') or str(ROOT / 'target' / 'debug' / 'ndsampler')
    assert os.path.exists(exe), f'the ndsampler CLI is not built at {exe} (run cargo xtask test)'
    return exe


@pytest.mark.parametrize('overlap', [0.0, 0.25])
def test_sample_grid_equals_the_cli_grid(sampler, tmp_path, overlap):
    import subprocess
    out = tmp_path / 'grid.json'
    subprocess.run([_cli(), 'grid', str(SHAPES4 / 'data.kwcoco.json'), '--window', '96,128',
                    '--overlap', str(overlap), '--out', str(out)], check=True)
    cli = json.loads(out.read_text())
    grid = sampler.new_sample_grid('image_detection', (96, 128), window_overlap=overlap)
    # the reference's keys, with the annotations each window overlaps
    as_cli = [{'image_id': t['gid'], 'space_slice': [[s.start, s.stop] for s in t['space_slice']]}
              for t in grid['targets']]
    assert as_cli == cli['targets']
    for t in grid['targets'][::5]:
        s = sampler.load_sample(t)
        assert t['aids'] == sorted(s['annots']['aids'].tolist())
    assert grid['positives'] == [grid['targets'][i] for i in grid['positives_indexes']]
    assert grid['negatives'] == [grid['targets'][i] for i in grid['negatives_indexes']]
    assert grid['positives_indexes'] == cli['positives']
    assert grid['negatives_indexes'] == cli['negatives']
    assert grid['ignored_indexes'] == cli['ignored']
    n = len(grid['targets'])
    parts = grid['positives_indexes'] + grid['negatives_indexes'] + grid['ignored_indexes']
    assert sorted(parts) == list(range(n))
    assert grid['positives_indexes'] and grid['negatives_indexes']
    s = sampler.load_sample(grid['targets'][grid['positives_indexes'][0]])
    assert s['im'].shape == (96, 128, 3) and len(s['annots']['aids']) > 0
    with pytest.raises(ValueError, match='needs'):
        sampler.new_sample_grid('video_detection', (96, 128))


def test_kwimage_forms_on_request(sampler):
    import kwimage
    s = sampler.load_sample({'gid': 3, 'cx': 150, 'cy': 150, 'width': 120, 'height': 120})
    # built on first access, seen by every dict operation (copies, pickles, items)
    for view in (lambda a: a, dict, lambda a: {**a}, lambda a: pickle.loads(pickle.dumps(a)),
                 lambda a: dict(a.items())):
        a = view(sampler.load_sample({'gid': 3, 'space_slice': [[0, 200], [0, 200]]})['annots'])
        assert isinstance(a['rel_boxes'], kwimage.Boxes)
        assert isinstance(a['frame_dets'][0], kwimage.Detections)
        assert isinstance(a['rel_ssegs'], kwimage.PolygonList)
        assert isinstance(a['rel_kpts'], kwimage.PointsList)
        assert len(a['frame_dets'][0]) == len(a['aids']) > 0
    k = ndsampler_rs.to_kwimage(s['annots'], classes=list(sampler.classes))
    assert isinstance(k['rel_boxes'], kwimage.Boxes)
    np.testing.assert_allclose(k['rel_boxes'].to_xywh().data, xywh(s['annots']))
    dets = k['frame_dets'][0]
    assert isinstance(dets, kwimage.Detections)
    assert dets.data['aids'].tolist() == s['annots']['aids'].tolist()
    assert len(dets) == len(s['annots']['aids']) > 0


def test_stacked_batches_equal_the_samples(sampler):
    """The fast path: one (N, H, W, C) array and per-annotation rows with a
    batch_index, equal to loading each window alone."""
    grid = sampler.new_sample_grid('image_detection', (64, 64))
    targets = [grid['targets'][i] for i in grid['positives_indexes'][:8]]
    b = sampler.load_batch_stacked(targets, with_annots=True, with_meta=True)
    assert b['im'].shape == (8, 64, 64, 3)
    assert not b['im'].flags.owndata
    singles = [sampler.load_sample(t) for t in targets]
    for k, s in enumerate(singles):
        np.testing.assert_array_equal(b['im'][k], s['im'])
        sel = b['batch_index'] == k
        assert b['aids'][sel].tolist() == s['annots']['aids'].tolist()
        assert b['cids'][sel].tolist() == s['annots']['cids'].tolist()
        np.testing.assert_allclose(b['rel_boxes'][sel], xywh(s['annots']))
        geo = [g for g, m in zip(b['geometry'], sel) if m]
        assert [g['segmentation'] for g in geo] == [
            a.get('segmentation') for f in s['annots']['frames'] for a in f['annots']]
        assert b['meta'][k]['target']['space_slice'] == [[x.start, x.stop] for x in s['target']['space_slice']]
    assert len(b['aids']) > 8
    plain = sampler.load_batch_stacked(targets)
    assert 'geometry' not in plain and 'meta' not in plain
    np.testing.assert_array_equal(plain['im'], b['im'])
    with pytest.raises(ValueError, match='one window size'):
        sampler.load_batch_stacked([targets[0], {'gid': 1, 'space_slice': [[0, 10], [0, 10]]}])
    ds = SamplerDataset(sampler, targets, stacked=True)
    keys = [(0, i) for i in range(8)]
    got = collate(ds.__getitems__(keys))
    np.testing.assert_array_equal(np.asarray(got['im']), b['im'])
    again = pickle.loads(pickle.dumps(ds))
    np.testing.assert_array_equal(again.__getitems__(keys)['im'], b['im'])


def test_stacked_buffers_are_recycled_only_once_released(sampler):
    """A released batch's buffer is filled again by the next batch (no fresh
    allocation); a batch still referenced anywhere (even by a view) is never
    overwritten."""
    grid = sampler.new_sample_grid('image_detection', (32, 32))
    a_t = grid['targets'][:6]
    b_t = grid['targets'][6:12]
    ptr = lambda arr: arr.__array_interface__['data'][0]
    first = sampler.load_batch_stacked(a_t)['im']
    kept = first.copy()
    view = first[2:4]
    p_first = ptr(first)
    del first
    second = sampler.load_batch_stacked(b_t)['im']
    assert ptr(second) != p_first, 'a batch still viewed must not be reused'
    np.testing.assert_array_equal(view, kept[2:4])
    p_second = ptr(second)
    del view, second
    third = sampler.load_batch_stacked(a_t)['im']
    assert ptr(third) in (p_first, p_second), 'both released buffers are pooled'
    np.testing.assert_array_equal(third, kept)
    p_third = ptr(third)
    del third
    fourth = sampler.load_batch_stacked(b_t)['im']
    assert ptr(fourth) == p_third, 'the released buffer is filled again'
    np.testing.assert_array_equal(fourth[0], sampler.load_sample(b_t[0])['im'])


def test_stacked_dataset_keys_resolve_as_single_keys(sampler):
    """SamplerDataset(stacked=True) hands its keys to Rust against targets
    parsed once (NativeTargets); every key form resolves as ``ds[key]``
    does, out-of-range keys raise the same IndexError, and a target whose
    text does not parse fails only when a batch loads it."""
    grid = sampler.new_sample_grid('image_detection', (32, 32))
    targets = grid['targets'][:5]
    ds = SamplerDataset(sampler, targets, with_annots=False, stacked=True)
    keys = [0, (3, 1), -1, np.int64(2), (0, np.int32(-5)), True, 3.0, '4', (7, 4.9)]
    got = ds.__getitems__(keys)
    want = np.stack([ds[k]['im'] for k in keys])
    np.testing.assert_array_equal(got['im'], want)
    np.testing.assert_array_equal(ds.__getitems__(iter(keys))['im'], want)
    texts = sampler.load_batch_stacked([targets[ds._index(k)] for k in keys], with_annots=False)
    np.testing.assert_array_equal(texts['im'], want)
    for bad in [5, -6, (0, 99), 2 ** 70, -(2 ** 70)]:
        with pytest.raises(IndexError) as single:
            ds[bad]
        with pytest.raises(IndexError) as batch:
            ds.__getitems__([0, bad])
        assert str(batch.value) == str(single.value)
    for bad in [(1,), 'x', None]:
        with pytest.raises(Exception) as single:
            ds[bad]
        with pytest.raises(Exception) as batch:
            ds.__getitems__([bad])
        assert type(batch.value) is type(single.value)
    with pytest.raises(ValueError, match='no samples'):
        ds.__getitems__([])

    odd = SamplerDataset(sampler, targets + [{'gid': 1, 'space_slice': 'nope'}], stacked=True)
    assert odd.__getitems__([0, 1])['im'].shape == (2, 32, 32, 3)
    with pytest.raises(ValueError, match='^target: ') as plan_err:
        odd.__getitems__([0, 5])
    with pytest.raises(ValueError, match='^target: ') as text_err:
        sampler.load_batch_stacked(odd._texts[:1] + odd._texts[5:])
    assert str(plan_err.value) == str(text_err.value)
    plan = ndsampler_rs.NativeTargets(odd._texts)
    assert len(plan) == 6
    again = pickle.loads(pickle.dumps(ds))
    assert '_plan' not in again.__dict__
    np.testing.assert_array_equal(again.__getitems__(keys)['im'], want)


def _batch_threads():
    """Ids of this process's threads named as the sampler's batch pools name theirs."""
    tasks = Path('/proc/self/task')
    return {t.name for t in tasks.iterdir()
            if (t / 'comm').read_text().startswith('ndsampler-batc')}


@pytest.mark.skipif(not Path('/proc/self/task').is_dir(), reason='needs /proc')
def test_one_thread_loads_batches_on_the_calling_thread():
    """threads=1 (a DataLoader worker): batches load on the calling thread
    (no pool to hand them to and wait for) and equal the pooled ones."""
    grid_sampler = ndsampler_rs.CocoSampler(SHAPES4 / 'data.kwcoco.json', threads=2)
    grid = grid_sampler.new_sample_grid('image_detection', (32, 32))
    targets = grid['targets'][:6]
    pooled = grid_sampler.load_batch_stacked(targets, with_annots=True, with_meta=True)
    pooled_list = grid_sampler.load_batch(targets)
    assert _batch_threads(), 'two threads load on a pool'
    before = _batch_threads()
    one = ndsampler_rs.CocoSampler(SHAPES4 / 'data.kwcoco.json', threads=1)
    b = one.load_batch_stacked(targets, with_annots=True, with_meta=True)
    listed = one.load_batch(targets)
    ds = SamplerDataset(one, targets, stacked=True)
    ds.__getitems__([(0, i) for i in range(6)])
    assert _batch_threads() - before == set(), 'threads=1 starts no batch thread'
    for k in ('im', 'aids', 'cids', 'batch_index', 'frame_index', 'rel_boxes'):
        np.testing.assert_array_equal(b[k], pooled[k])
    assert b['geometry'] == pooled['geometry'] and b['meta'] == pooled['meta']
    for s, p in zip(listed, pooled_list):
        np.testing.assert_array_equal(s['im'], p['im'])
        assert s['annots']['aids'].tolist() == p['annots']['aids'].tolist()
    with pytest.raises(ValueError, match='one window size'):
        one.load_batch_stacked([targets[0], {'gid': 1, 'space_slice': [[0, 10], [0, 10]]}])


def test_webdataset_shards_read_as_webdataset_does(sampler, tmp_path):
    """`ndsampler export-wds` shards, read the way WebDataset groups tar
    members (by the key before the first dot), equal the samples."""
    import io
    import subprocess
    import tarfile
    grid = tmp_path / 'grid.json'
    subprocess.run([_cli(), 'grid', str(SHAPES4 / 'data.kwcoco.json'), '--window', '64,64',
                    '--out', str(grid)], check=True, capture_output=True)
    out = tmp_path / 'wds'
    subprocess.run([_cli(), 'export-wds', str(SHAPES4 / 'data.kwcoco.json'), '--plan', str(grid),
                    '--out', str(out), '--shard-size', '50'], check=True, capture_output=True)
    targets = json.loads(grid.read_text())['targets']
    samples = {}
    for shard in sorted(out.glob('shard-*.tar')):
        with tarfile.open(shard) as tf:
            for m in tf.getmembers():
                key, ext = m.name.split('.', 1)
                samples.setdefault(key, {})[ext] = tf.extractfile(m).read()
    assert len(samples) == len(targets)
    for key in sorted(samples)[::7]:
        rec = samples[key]
        im = np.load(io.BytesIO(rec['npy']))
        meta = json.loads(rec['json'])
        want = sampler.load_sample(targets[meta['plan_index']])
        np.testing.assert_array_equal(im, want['im'])
        aids = [a['id'] for f in meta['frames'] for a in f['annots']]
        assert aids == want['annots']['aids'].tolist()


def test_native_scale_is_jagged_like_the_reference():
    """`use_native_scale`: `im` is a list (frames) of lists (parts) at each
    asset's resolution, with the reference's jagged_meta; equal to the
    reference's parts on the native-scale fixture (reference key names and
    slices accepted)."""
    msi = ROOT / 'tests' / 'fixtures' / 'vidshapes2-msi' / 'data.kwcoco.json'
    exp = ROOT / 'tests' / 'fixtures' / 'native-scale' / 'expected' / 'jagged_oob'
    want = json.loads((exp / 'sample.json').read_text())
    s = ndsampler_rs.CocoSampler(msi)
    got = s.load_sample({'vidid': 2, 'time_slice': slice(0, 2),
                         'space_slice': (slice(-7, 40), slice(150, 210)),
                         'channels': 'B8|B11', 'use_native_scale': True})
    assert isinstance(got['im'], list) and len(got['im']) == 2
    for t, (parts, wframe) in enumerate(zip(got['im'], want['frames'])):
        meta = got['params']['jagged_meta'][t]
        assert meta['chans'] == [p['chans'] for p in wframe['parts']]
        for k, (part, wpart) in enumerate(zip(parts, wframe['parts'])):
            assert list(part.shape) == wpart['shape']
            # B8 is shifted by a fraction of its pixel: OpenCV's fixed-point
            # bilinear rounds a few values one code away
            ref = np.load(exp / f'part_{t}_{k}.npy')
            assert part.dtype == ref.dtype
            np.testing.assert_allclose(part.astype(float), ref, atol=1)
            np.testing.assert_allclose(meta['align'][k], wpart['align'])
            np.testing.assert_allclose(meta['grid_to_part_warps'][k], wpart['grid_to_part'])
    assert got['annots']['aids'].tolist() == [a['id'] for f in want['frames'] for a in f['annots']]
    realigned = s.load_sample({'vidid': 2, 'time_slice': slice(0, 2),
                               'space_slice': (slice(-7, 40), slice(150, 210)),
                               'channels': 'B8|B11', 'use_native_scale': True,
                               'realign_native': 'largest'})
    assert realigned['im'].shape == (2, 16, 20, 2)
