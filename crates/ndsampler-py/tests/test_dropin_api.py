"""The rest of the reference's surface that its own tests do not reach:
frames (backends, cache_dpath, prepare, load_image), exports, coerce_data,
finalize=False, legacy keys, load_* helpers."""
import pickle
from pathlib import Path

import numpy as np
import pytest

import ndsampler_rs

ROOT = Path(__file__).resolve().parents[3]
SHAPES4 = ROOT / 'tests' / 'fixtures' / 'shapes4' / 'data.kwcoco.json'


def test_frames_of_the_raw_and_npy_backends(tmp_path):
    raw = ndsampler_rs.CocoSampler(SHAPES4, backend=None)
    assert raw.frames._backend['type'] is None and raw.frames.cache_dpath is None
    full = raw.load_image(1)
    assert isinstance(full, np.ndarray) and full.shape == (400, 400, 3)
    np.testing.assert_array_equal(raw.frames.load_region(1, (slice(5, 9), slice(0, 4))),
                                  full[5:9, 0:4])
    assert raw.frames.load_image(2, channels='r').shape == (400, 400, 1)
    npy = ndsampler_rs.CocoSampler(SHAPES4, backend='npy', workdir=tmp_path)
    assert npy.frames._backend['type'] == 'npy'
    assert Path(npy.frames.cache_dpath) == tmp_path / '_frame_cache'
    assert npy.frames.prepare(gids=[2], progress=False) == 1
    assert len(list(Path(npy.frames.cache_dpath).rglob('*.npy'))) == 1
    with pytest.raises(KeyError, match='99'):
        npy.frames.prepare(gids=[99])
    np.testing.assert_array_equal(npy.load_image(2), raw.load_image(2))


def test_exports_and_attributes():
    for name in ('CocoSampler', 'CocoRegions', 'CategoryTree', 'new_video_sample_grid',
                 'new_image_sample_grid', 'tabular_coco_targets', 'select_positive_regions',
                 'MissingNegativePool', 'coerce_data', 'coco_sampler', 'coco_regions'):
        assert hasattr(ndsampler_rs, name), name
    import kwcoco
    assert ndsampler_rs.CategoryTree is kwcoco.CategoryTree
    s = ndsampler_rs.CocoSampler(SHAPES4)
    assert (s.n_images, s.n_annots, s.n_positives) == (4, 52, 52)
    assert s.image_ids == [1, 2, 3, 4]
    assert s.class_ids == [0, 3, 6, 7]
    assert s._dset is None, 'counts come from Rust: no kwcoco parse of a big dataset'
    assert s.catgraph is s.classes
    assert s.lookup_class_id(s.lookup_class_name(6)) == 6
    assert s.BACKGROUND_CLASS_ID == 0
    assert isinstance(s.dset, kwcoco.CocoDataset)
    assert s.regions.dset is s.dset
    img, anns = s.load_image_with_annots(2)
    assert img['imdata'].shape == (img['height'], img['width'], 3)
    assert {a['image_id'] for a in anns} == {2} and len(anns) == len(s.dset.gid_to_aids[2])
    table = ndsampler_rs.tabular_coco_targets(SHAPES4)
    assert len(table) == 52 and set(table.columns) >= {'aid', 'gid', 'cx', 'img_width'}
    rows = ndsampler_rs.select_positive_regions(table, window_dims=(100, 100), rng=0)
    assert 0 < len(rows) < 52
    again = ndsampler_rs.select_positive_regions(table, window_dims=(100, 100), rng=0)
    assert rows.tolist() == again.tolist()


def test_coerce_datasets():
    from ndsampler_rs import coerce_data
    subsets = coerce_data.coerce_datasets({'datasets': 'special:shapes8'})
    assert set(subsets) == {'train', 'vali', 'test'}
    gids = [set(d.imgs) for d in subsets.values()]
    assert sum(map(len, gids)) == 8 and not (gids[0] & gids[1])
    explicit = coerce_data.coerce_datasets({'train_dataset': str(SHAPES4)})
    assert set(explicit) == {'train'} and len(explicit['train'].imgs) == 4


def test_finalize_false_defers_the_read():
    s = ndsampler_rs.CocoSampler(SHAPES4)
    t = {'gid': 1, 'space_slice': [[0, 40], [0, 50]], 'finalize': False}
    lazy = s.load_sample(t)
    assert lazy['im'].shape == (40, 50, 3) and lazy['im'].dtype == np.uint8
    np.testing.assert_array_equal(lazy['im'].finalize(),
                                  s.load_sample(dict(t, finalize=True))['im'])
    assert lazy['annots']['aids'].tolist() == s.load_sample(dict(t, finalize=True))[
        'annots']['aids'].tolist()
    v = ndsampler_rs.CocoSampler(ROOT / 'tests' / 'fixtures' / 'vidshapes2-msi' /
                                 'data.kwcoco.json')
    t = {'vidid': 1, 'time_slice': [-1, 2], 'space_slice': [[0, 30], [0, 41]], 'scale': 0.5,
         'channels': 'B1|B8|B11', 'nodata': 'float', 'finalize': False}
    lazy = v.load_sample(t)
    full = lazy['im'].finalize()
    assert lazy['im'].shape == full.shape == (3, 15, 21, 3) and lazy['im'].dtype == np.float32


def test_legacy_keys():
    s = ndsampler_rs.CocoSampler(SHAPES4)
    t = {'gid': 1, 'space_slice': [[0, 100], [0, 100]]}
    new = s.load_sample(dict(t, legacy_annots=False, legacy_target=False))
    assert 'tr' not in new and set(new['annots']) == {'frame_dets', 'frames'}
    old = s.load_sample(t)
    assert old['tr'] is old['target'] and 'rel_boxes' in old['annots']
    assert len(new['annots']['frame_dets'][0]) == len(old['annots']['aids'])


def test_deprecated_keywords_move_into_the_target():
    s = ndsampler_rs.CocoSampler(SHAPES4)
    t = {'gid': 1, 'space_slice': [[0, 10], [0, 10]]}
    a = s.load_sample(t, pad=3, dtype=np.float32)
    assert a['im'].shape == (16, 16, 3) and a['im'].dtype == np.float32
    b = s.load_sample(tr=dict(t, pad=3, dtype='float32'))
    np.testing.assert_array_equal(a['im'], b['im'])
    with pytest.raises(TypeError, match='bogus'):
        s.load_sample(t, bogus=1)
    with pytest.raises(ValueError, match='target'):
        s.load_sample()


def test_load_positive_negative_item_forward_their_keywords():
    s = ndsampler_rs.CocoSampler(SHAPES4)
    p = s.load_positive(0, pad=(10, 10), tr=dict(window_dims=(3, 3)))
    assert p['im'].shape == (23, 23, 3)
    n = s.load_negative(rng=0, target=dict(window_dims=(20, 30)), pad=(1, 2))
    assert n['im'].shape == (22, 34, 3)
    assert s.load_item(3)['target']['aid'] == s.regions.get_positive(3)['aid']
    resolved = s._infer_target_attributes({'aid': 3})
    assert resolved['gid'] == resolved['image_id'] and resolved['width'] > 0
    assert pickle.loads(pickle.dumps(s)).load_positive(0)['im'].shape == \
        s.load_positive(0)['im'].shape


def test_video_grid_targets_load_the_same_frames_on_every_path():
    """The reference's video grid targets carry gids, vidid and the
    time_slice that picked them: every path reads those frames (Rust alone
    would read time_slice as positions in gids)."""
    from ndsampler_rs.torch import SamplerDataset
    v = ndsampler_rs.CocoSampler(ROOT / 'tests' / 'fixtures' / 'vidshapes2-msi' /
                                 'data.kwcoco.json')
    grid = v.new_sample_grid('video_detection', (2, 64, 64), window_overlap=0.5)
    late = [t for t in grid['targets'] if t['time_slice'].start > 0][:3]
    assert late and all(len(t['gids']) == 2 for t in late)
    for t in late:
        t['channels'] = 'B1'
    singles = [v.load_sample(t) for t in late]
    for t, s in zip(late, singles):
        assert [f['image_id'] for f in s['annots']['frames']] == t['gids']
    stacked = v.load_batch_stacked(late)
    listed = v.load_batch(late)
    via_dataset = SamplerDataset(v, late, stacked=True).__getitems__([0, 1, 2])
    for k, s in enumerate(singles):
        np.testing.assert_array_equal(stacked['im'][k], s['im'])
        np.testing.assert_array_equal(listed[k]['im'], s['im'])
        np.testing.assert_array_equal(via_dataset['im'][k], s['im'])
    bad = dict(late[0], gids=[late[0]['gids'][0]] * 2)
    with pytest.raises(ValueError, match='select different frames'):
        v.load_sample(bad)
    with pytest.raises(ValueError, match='select different frames'):
        v.load_batch_stacked([bad])
    with pytest.raises(ValueError, match='CocoSampler.target_to_json'):
        ndsampler_rs.target_to_json(late[0])


def test_demo_with_a_cache_backend_uses_the_reference_workdir(tmp_path, monkeypatch):
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path))
    s = ndsampler_rs.CocoSampler.demo('shapes2', backend='npy')
    assert Path(s.frames.cache_dpath) == tmp_path / 'ndsampler' / '_frame_cache'
    assert s.frames.prepare(progress=False) == 2
    assert isinstance(s.load_image(1), np.ndarray)
    assert any((tmp_path / 'ndsampler' / '_frame_cache').rglob('*.npy'))
