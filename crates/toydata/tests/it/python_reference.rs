//! Python kwcoco 0.9.1 loads our bundles: every image (all channels, image
//! space) finalizes to the recorded size, polygon areas match, `validate`
//! reports no error. Needs the reference venv: the python named by
//! `NDSAMPLER_REFERENCE_PYTHON` (`cargo xtask test` creates
//! `target/py-reference` and sets it), else `target/py-reference/bin/python`.
//! Without either the test fails, saying how to create it. Alone:
//! `cargo xtask py-reference && cargo test -p toydata --test it python_reference`.

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
    if let Some(p) = std::env::var_os("NDSAMPLER_REFERENCE_PYTHON") {
        let p = PathBuf::from(p);
        assert!(
            p.exists(),
            "NDSAMPLER_REFERENCE_PYTHON={} does not exist",
            p.display()
        );
        return p;
    }
    let default =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/py-reference/bin/python");
    assert!(
        default.exists(),
        "no Python reference environment: NDSAMPLER_REFERENCE_PYTHON is unset and {} is missing; \
         create it with `cargo xtask py-reference` (or run `cargo xtask test`, which does), \
         or point NDSAMPLER_REFERENCE_PYTHON at a python with ndsampler 0.8.1 / kwcoco 0.9.1",
        default.display()
    );
    default
}

#[test]
fn python_kwcoco_loads_every_kind_of_bundle() {
    let py = python();
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
