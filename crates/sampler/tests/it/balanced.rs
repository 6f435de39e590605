//! Class-balanced plans: detectron2's repeat factors, class weights, inverse
//! frequency and negative ratios, reproducible by `(seed, epoch)` (also in
//! another process).

use std::collections::BTreeMap;
use std::path::Path;

use coco_model::{CocoDataset, ImageId};
use sampler::plan::{BalancedEntry, BalancedPlan, ClassBalance, EpochPlan, LabelledItem, Shard};
use sampler::{Regions, Target};

fn item(i: i64, cats: &[i64]) -> LabelledItem {
    LabelledItem {
        target: Target {
            image_id: Some(ImageId(i)),
            ..Target::default()
        },
        categories: cats.to_vec(),
    }
}

/// 100 items of class 1, 10 of class 2, 1 of class 3 (the last also holds
/// class 1), and 5 without annotations.
fn skewed() -> Vec<LabelledItem> {
    let mut v = Vec::new();
    for i in 0..100 {
        v.push(item(i, &[1]));
    }
    for i in 100..110 {
        v.push(item(i, &[2]));
    }
    v.push(item(110, &[1, 3, 3]));
    for i in 111..116 {
        v.push(item(i, &[]));
    }
    v
}

fn counts(entries: &[BalancedEntry], n: usize) -> Vec<usize> {
    let mut c = vec![0; n];
    for e in entries {
        if let BalancedEntry::Positive(i) = e {
            c[*i] += 1;
        }
    }
    c
}

#[test]
fn repeat_factors_follow_detectron2() {
    let items = skewed();
    let t = 0.3;
    let plan =
        BalancedPlan::new(items.clone(), ClassBalance::RepeatFactor { threshold: t }).unwrap();
    let r = plan.repeat_factors().unwrap();
    let n = items.len() as f64;
    let rc = |count: f64| (t / (count / n)).sqrt().max(1.0);
    // per item: the max over its categories; no categories: 1
    assert_eq!(r[0], rc(101.0));
    assert_eq!(r[100], rc(10.0));
    assert_eq!(r[110], rc(1.0).max(rc(101.0)));
    assert_eq!(r[111], 1.0);
    assert!(r[110] > r[100] && r[100] > 1.0 && r[0] == 1.0);
    // each epoch repeats item i floor(r) or ceil(r) times; on average r
    let epochs = 2000;
    let mut total = vec![0usize; items.len()];
    for e in 0..epochs {
        let c = counts(&plan.entries(5, e), items.len());
        for (i, &k) in c.iter().enumerate() {
            assert!(
                k as f64 == r[i].floor() || k as f64 == r[i].ceil(),
                "item {i}: {k} vs {}",
                r[i]
            );
            total[i] += k;
        }
    }
    for i in [100, 110] {
        let mean = total[i] as f64 / epochs as f64;
        assert!(
            (mean - r[i]).abs() < 0.05,
            "item {i}: mean {mean} vs {}",
            r[i]
        );
    }
}

#[test]
fn inverse_frequency_balances_classes() {
    let items = skewed();
    let plan = BalancedPlan::new(items.clone(), ClassBalance::InverseFrequency)
        .unwrap()
        .with_epoch_size(30_000);
    let entries = plan.entries(1, 0);
    assert_eq!(entries.len(), 30_000);
    // share of draws per class: class 1 (101 items, one also class 3), class 2, none
    let mut per: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &entries {
        let BalancedEntry::Positive(i) = *e else {
            panic!("no negatives asked")
        };
        let key = match items[i].categories.as_slice() {
            [] => "none",
            [2] => "two",
            c if c.contains(&3) => "three",
            _ => "one",
        };
        *per.entry(key).or_default() += 1;
    }
    // item 110 holds the rarest class 3 alone: its weight is 1 (that of class 3)
    let w = plan.item_weights().unwrap();
    assert_eq!(w[110], 1.0);
    assert_eq!(w[0], 1.0 / 101.0);
    let total: f64 = w.iter().sum();
    for (key, want) in [
        ("one", 100.0 / 101.0),
        ("two", 1.0),
        ("three", 1.0),
        ("none", 1.0),
    ] {
        let share = per[key] as f64 / entries.len() as f64;
        let expect = want / total;
        assert!((share - expect).abs() < 0.02, "{key}: {share} vs {expect}");
    }
}

#[test]
fn class_weights_and_their_errors() {
    let items = skewed();
    let weights: BTreeMap<i64, f64> = [(1, 0.0), (2, 1.0)].into();
    let plan = BalancedPlan::new(
        items.clone(),
        ClassBalance::ClassWeights {
            weights: weights.clone(),
            default: 0.0,
        },
    )
    .unwrap()
    .with_epoch_size(500);
    let c = counts(&plan.entries(3, 1), items.len());
    // only class-2 items are drawn (class 3 and no-class items weigh the default 0)
    assert!(c[..100].iter().all(|&k| k == 0));
    assert!(c[110..].iter().all(|&k| k == 0));
    assert_eq!(c[100..110].iter().sum::<usize>(), 500);
    let all_zero = ClassBalance::ClassWeights {
        weights: [(1, 0.0), (2, 0.0)].into(),
        default: 0.0,
    };
    assert!(BalancedPlan::new(items.clone(), all_zero).is_err());
    let negative = ClassBalance::ClassWeights {
        weights: [(2, -1.0)].into(),
        default: 1.0,
    };
    let e = BalancedPlan::new(items.clone(), negative)
        .unwrap_err()
        .to_string();
    assert!(e.contains("category 2"), "{e}");
    assert!(
        BalancedPlan::new(
            items,
            ClassBalance::RepeatFactor {
                threshold: f64::NAN
            }
        )
        .is_err()
    );
}

#[test]
fn negatives_follow_the_ratio_without_repeats() {
    let items = skewed();
    let pool: Vec<Target> = (0..40)
        .map(|i| Target {
            image_id: Some(ImageId(1000 + i)),
            ..Target::default()
        })
        .collect();
    let plan = BalancedPlan::new(items.clone(), ClassBalance::Uniform)
        .unwrap()
        .with_negatives(pool.clone(), 0.25)
        .unwrap();
    let e = plan.entries(9, 2);
    let negs: Vec<usize> = e
        .iter()
        .filter_map(|x| match x {
            BalancedEntry::Negative(j) => Some(*j),
            _ => None,
        })
        .collect();
    assert_eq!(negs.len(), (0.25 * items.len() as f64).floor() as usize);
    let mut d = negs.clone();
    d.sort_unstable();
    d.dedup();
    assert_eq!(
        d.len(),
        negs.len(),
        "no negative repeats while the pool lasts"
    );
    // a ratio asking for more than the pool: every negative used, then again
    let plan = BalancedPlan::new(items.clone(), ClassBalance::Uniform)
        .unwrap()
        .with_negatives(pool.clone(), 0.5)
        .unwrap();
    let n = plan
        .entries(9, 2)
        .iter()
        .filter(|x| matches!(x, BalancedEntry::Negative(_)))
        .count();
    assert_eq!(n, items.len() / 2);
    // the epoch's targets are its entries, shuffled together
    let list = plan.epoch(9, 2);
    assert_eq!(list.targets.len(), items.len() + n);
    assert!(
        list.targets[..20]
            .iter()
            .any(|t| t.image_id.unwrap().0 >= 1000)
    );
    assert!(
        BalancedPlan::new(items.clone(), ClassBalance::Uniform)
            .unwrap()
            .with_negatives(Vec::new(), 1.0)
            .is_err()
    );
    assert!(
        BalancedPlan::new(items, ClassBalance::Uniform)
            .unwrap()
            .with_negatives(pool, -1.0)
            .is_err()
    );
}

fn rf_plan() -> BalancedPlan {
    let pool: Vec<Target> = (0..7)
        .map(|i| Target {
            image_id: Some(ImageId(500 + i)),
            ..Target::default()
        })
        .collect();
    BalancedPlan::new(skewed(), ClassBalance::RepeatFactor { threshold: 0.3 })
        .unwrap()
        .with_negatives(pool, 0.1)
        .unwrap()
}

#[test]
fn epochs_are_pure_functions_of_seed_and_epoch() {
    let (a, b) = (rf_plan(), rf_plan());
    assert_eq!(a.entries(11, 3), b.entries(11, 3));
    assert_eq!(a.epoch(11, 3).targets, b.epoch(11, 3).targets);
    assert_ne!(a.entries(11, 3), a.entries(11, 4));
    assert_ne!(a.entries(11, 3), a.entries(12, 3));
    // shards of one epoch are equal-length, and together the epoch
    let list = a.epoch(11, 3);
    let mut all = Vec::new();
    for rank in 0..3 {
        let s = EpochPlan::from_list_sharded(&list, 11, 3, Shard::new(rank, 3).unwrap()).unwrap();
        assert_eq!(s.len(), list.targets.len().div_ceil(3));
        all.extend(s.positions);
    }
    all.sort_unstable();
    all.dedup();
    assert_eq!(all, (0..list.targets.len()).collect::<Vec<_>>());
}

const CHILD: &str = "NDSAMPLER_BALANCED_CHILD";

/// Another process (this test binary again) computes the same epochs.
#[test]
fn epochs_are_the_same_in_another_process() {
    let line = |p: &BalancedPlan| {
        (0..4)
            .map(|e| format!("{:?}", p.entries(21, e)))
            .collect::<Vec<_>>()
            .join("|")
    };
    if std::env::var_os(CHILD).is_some() {
        println!("ENTRIES {}", line(&rf_plan()));
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "balanced::epochs_are_the_same_in_another_process",
            "--exact",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let got = text
        .lines()
        .find_map(|l| l.strip_prefix("ENTRIES "))
        .unwrap_or_else(|| panic!("child printed no entries: {text}"));
    assert_eq!(got, line(&rf_plan()));
}

#[test]
fn items_from_a_dataset() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/shapes4/data.kwcoco.json");
    let ds = CocoDataset::load(path).unwrap();
    let images = LabelledItem::from_images(&ds);
    assert_eq!(images.len(), ds.images().len());
    for it in &images {
        let gid = it.target.image_id.unwrap();
        let mut want: Vec<i64> = ds
            .image_annotations(gid)
            .filter_map(|a| a.category_id.map(|c| c.0))
            .collect();
        want.sort_unstable();
        want.dedup();
        assert_eq!(it.categories, want);
    }
    let regions = Regions::new(&ds).unwrap();
    let pos = LabelledItem::from_positives(&regions);
    assert_eq!(pos.len(), regions.n_positives());
    let plan = BalancedPlan::new(pos, ClassBalance::RepeatFactor { threshold: 0.2 }).unwrap();
    let r = plan.repeat_factors().unwrap();
    assert!(r.iter().all(|&x| x >= 1.0) && r.iter().any(|&x| x > 1.0));
}
