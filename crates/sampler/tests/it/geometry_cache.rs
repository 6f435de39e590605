//! The parsed-geometry cache: samples are the same whatever the budget (0:
//! parse every call), the budget is never passed (also under many threads),
//! and the statistics add up.

use std::path::Path;
use std::sync::Arc;

use coco_model::CocoDataset;
use sampler::{CocoSampler, SampleAnnot, SamplerConfig, Target};

fn sampler(budget: usize) -> CocoSampler {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/shapes4/data.kwcoco.json");
    let ds = CocoDataset::load(path).unwrap();
    CocoSampler::new(
        Arc::new(ds),
        SamplerConfig {
            geometry_cache_bytes: budget,
            ..SamplerConfig::default()
        },
    )
    .unwrap()
}

fn targets() -> Vec<Target> {
    let mut out = Vec::new();
    for gid in 1..=4 {
        for (cy, cx) in [(100, 100), (200, 250), (300, 150)] {
            out.push(
                serde_json::from_value(serde_json::json!(
                    {"image_id": gid, "cx": cx, "cy": cy, "width": 160, "height": 120}
                ))
                .unwrap(),
            );
        }
    }
    out
}

fn annots(s: &CocoSampler, t: &Target) -> Vec<SampleAnnot> {
    s.load_target_annots(t).unwrap().frames.remove(0).annots
}

fn json(a: &[SampleAnnot]) -> String {
    serde_json::to_string(a).unwrap()
}

#[test]
fn samples_do_not_depend_on_the_budget() {
    let none = sampler(0);
    let all = sampler(1 << 30);
    let tiny = sampler(4_000);
    let mut n = 0;
    for t in targets() {
        let want = json(&annots(&none, &t));
        // twice: the second read comes from the cache
        for _ in 0..2 {
            assert_eq!(json(&annots(&all, &t)), want);
            assert_eq!(json(&annots(&tiny, &t)), want);
        }
        n += annots(&none, &t).len();
    }
    assert!(n > 20, "the windows must hold annotations ({n})");
    let s = none.geometry_cache_stats();
    assert_eq!((s.entries, s.bytes, s.budget_bytes), (0, 0, 0));
    assert!(s.uncached_parses > 0);
    let s = all.geometry_cache_stats();
    assert!(
        s.entries > 10 && s.bytes > 0 && s.uncached_parses == 0,
        "{s:?}"
    );
    let s = tiny.geometry_cache_stats();
    assert!(
        s.bytes <= 4_000 && s.entries > 0 && s.uncached_parses > 0,
        "{s:?}"
    );
}

#[test]
fn many_threads_never_pass_the_budget() {
    for budget in [3_000usize, 1 << 30] {
        let s = sampler(budget);
        let ts = targets();
        let want: Vec<String> = ts.iter().map(|t| json(&annots(&sampler(0), t))).collect();
        std::thread::scope(|scope| {
            for k in 0..8 {
                let (s, ts, want) = (&s, &ts, &want);
                scope.spawn(move || {
                    for r in 0..3 {
                        for (i, t) in ts.iter().enumerate().skip((k + r) % 3) {
                            assert_eq!(json(&annots(s, t)), want[i]);
                        }
                    }
                });
            }
        });
        let st = s.geometry_cache_stats();
        assert!(st.bytes <= budget, "{st:?}");
        let n_annots = s.dataset().annotations().len();
        assert!(st.entries <= n_annots, "{st:?}");
        if budget > 1 << 20 {
            assert_eq!(st.uncached_parses, 0, "{st:?}");
        }
    }
}
