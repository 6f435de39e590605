//! Python kwcoco 0.9.1 loads our bundles: every image (all channels, image
//! space) finalizes to the recorded size, polygon areas match, `validate`
//! reports no error. Needs the reference venv
//! (`bash ../shared/tools/python-reference/setup.sh`, or a python given by
//! `NDSAMPLER_REFERENCE_PYTHON`), so it is ignored by default:
//! `cargo test -p toydata --test python_reference -- --ignored`.

use std::path::PathBuf;
use std::process::Command;

const SCRIPT: &str = r#"
import sys, warnings
warnings.filterwarnings('ignore')
import kwcoco, kwimage, numpy as np
dset = kwcoco.CocoDataset(sys.argv[1])
assert len(dset.anns) == int(sys.argv[2]), (len(dset.anns), sys.argv[2])
for gid in dset.imgs:
    img = dset.coco_image(gid)
    im = img.imdelay(space='image').finalize()
    assert im.shape[0:2] == (img['height'], img['width']), (gid, im.shape)
    assert np.isfinite(im).all()
for ann in dset.anns.values():
    seg = kwimage.Segmentation.coerce(ann['segmentation']).to_multi_polygon()
    if 'area' in ann:
        assert abs(seg.area - ann['area']) < 1e-6, (ann['id'], seg.area, ann['area'])
errors = dset.validate(missing=True, verbose=0)['errors']
assert not errors, errors
print('ok', len(dset.imgs), len(dset.anns))
"#;

fn python() -> PathBuf {
    std::env::var_os("NDSAMPLER_REFERENCE_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/ndsampler-reference/bin/python"))
}

#[test]
#[ignore = "needs the Python reference venv"]
fn python_kwcoco_loads_every_kind_of_bundle() {
    let py = python();
    assert!(py.exists(), "no reference python at {}", py.display());
    let dir = tempfile::tempdir().unwrap();
    for key in [
        "shapes3-gsize128",
        "vidshapes2-frames3-tracks2-gsize64",
        "vidshapes1-frames3-tracks3-gsize90-msi",
        "vidshapes1-frames4-tracks2-gsize64-aux-multisensor-randgsize-timestamps",
        "vidshapes1-frames4-tracks2-gsize64-msi-multisensor",
        "big1-gsize256-annots40",
    ] {
        let out = dir.path().join(key);
        let s = toydata::generate(key, Some(11), &out).unwrap();
        let res = Command::new(&py)
            .arg("-c")
            .arg(SCRIPT)
            .arg(&s.dataset_path)
            .arg(s.annotations.to_string())
            .output()
            .unwrap();
        assert!(
            res.status.success(),
            "{key}: {}{}",
            String::from_utf8_lossy(&res.stdout),
            String::from_utf8_lossy(&res.stderr)
        );
        assert!(String::from_utf8_lossy(&res.stdout).starts_with("ok"));
    }
}
