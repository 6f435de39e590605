//! Property tests over random forests.

use category_tree::{CategoryTree, CocoCategory, IndexOrder, TreeBuilder};
use ndarray::{Array2, Array3, Axis};
use proptest::prelude::*;

/// A random forest: `(parent choice, has parent)` per node plus a name
/// permutation and optional ids, built through COCO records in index order.
fn forest() -> impl Strategy<Value = CategoryTree> {
    (1usize..24)
        .prop_flat_map(|n| {
            (
                proptest::collection::vec((any::<u16>(), prop::bool::weighted(0.7)), n),
                Just((0..n).collect::<Vec<_>>()).prop_shuffle(),
                proptest::collection::vec(prop::option::weighted(0.5, 0i64..1000), n),
            )
        })
        .prop_filter_map("unique ids", |(links, perm, ids)| {
            let mut seen = std::collections::HashSet::new();
            if !ids.iter().flatten().all(|id| seen.insert(*id)) {
                return None;
            }
            let name = |i: usize| format!("c{}", perm[i]);
            let cats = links
                .iter()
                .enumerate()
                .map(|(i, &(choice, has))| CocoCategory {
                    id: ids[i],
                    name: name(i),
                    supercategory: (has && i > 0).then(|| name(choice as usize % i)),
                    parents: vec![],
                });
            Some(CategoryTree::from_coco(cats.collect::<Vec<_>>()).expect("valid forest"))
        })
}

fn energy(n: usize, rows: usize, seed: u64) -> Array2<f64> {
    let mut s = seed | 1;
    Array2::from_shape_fn((rows, n), |_| {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        ((s >> 11) as f64 / (1u64 << 53) as f64) * 10.0 - 5.0
    })
}

fn check_tree_probs(t: &CategoryTree, p: &Array2<f64>) -> Result<(), TestCaseError> {
    for row in p.rows() {
        for i in 0..t.len() {
            let kids = t.children(i);
            if !kids.is_empty() {
                let s: f64 = kids.iter().map(|&c| row[c]).sum();
                prop_assert!(
                    (s - row[i]).abs() < 1e-9,
                    "node {i}: {} vs children {s}",
                    row[i]
                );
            }
        }
        let roots: f64 = t.roots().iter().map(|&r| row[r]).sum();
        prop_assert!((roots - 1.0).abs() < 1e-9);
        let leaves: f64 = t.leaves().iter().map(|&r| row[r]).sum();
        prop_assert!((leaves - 1.0).abs() < 1e-9);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn source_softmax_is_consistent(t in forest(), seed in any::<u64>()) {
        let e = energy(t.len(), 4, seed);
        let cond = t.conditional_log_softmax(&e, Axis(1)).unwrap().mapv(f64::exp);
        for row in cond.rows() {
            for g in t.idx_groups() {
                let s: f64 = g.iter().map(|&i| row[i]).sum();
                prop_assert!((s - 1.0).abs() < 1e-9, "group {g:?} sums to {s}");
            }
        }
        let p = t.hierarchical_softmax(&e, Axis(1)).unwrap();
        check_tree_probs(&t, &p)?;
        // chain rule: P(node) = P(node | parent) P(parent)
        for (prow, crow) in p.rows().into_iter().zip(cond.rows()) {
            for i in 0..t.len() {
                let up = t.parent(i).map_or(1.0, |q| prow[q]);
                prop_assert!((prow[i] - crow[i] * up).abs() < 1e-9);
            }
        }
    }

    #[test]
    fn sink_softmax_is_consistent(t in forest(), seed in any::<u64>()) {
        let e = energy(t.len(), 4, seed);
        let p = t.sink_log_softmax(&e, Axis(1)).unwrap().mapv(f64::exp);
        check_tree_probs(&t, &p)?;
        // inner-node energies do not matter
        let mut e2 = e.clone();
        for i in 0..t.len() {
            if !t.children(i).is_empty() {
                e2.column_mut(i).mapv_inplace(|v| v + 3.0);
            }
        }
        let p2 = t.sink_log_softmax(&e2, Axis(1)).unwrap().mapv(f64::exp);
        prop_assert!(p.iter().zip(p2.iter()).all(|(a, b)| (a - b).abs() < 1e-12));
    }

    #[test]
    fn any_class_axis_gives_the_same_answer(t in forest(), seed in any::<u64>()) {
        let n = t.len();
        let e = energy(n, 6, seed).into_shape_with_order((2, 3, n)).unwrap();
        let last = t.source_log_softmax(&e, Axis(2)).unwrap();
        let moved = e.view().permuted_axes([2, 0, 1]);
        let first = t.source_log_softmax(&moved, Axis(0)).unwrap();
        let back: Array3<f64> = first.permuted_axes([1, 2, 0]).to_owned();
        prop_assert!(back.iter().zip(last.iter()).all(|(a, b)| (a - b).abs() < 1e-12));
        // f32 agrees with f64
        let e32 = e.mapv(|v| v as f32);
        let l32 = t.sink_log_softmax(&e32, Axis(2)).unwrap();
        let l64 = t.sink_log_softmax(&e, Axis(2)).unwrap();
        prop_assert!(l32.iter().zip(l64.iter()).all(|(a, b)| (f64::from(*a) - b).abs() < 1e-4));
        let d = t.decision(&last.mapv(f64::exp), Axis(2), &Default::default()).unwrap();
        prop_assert_eq!(d.idxs.shape(), &[2, 3]);
        prop_assert!(d.idxs.iter().all(|&i| i < n));
    }

    #[test]
    fn json_round_trip_is_identity(t in forest()) {
        let state = t.to_json();
        let back = CategoryTree::from_json(&state).unwrap();
        prop_assert_eq!(&back, &t);
        prop_assert_eq!(back.idx_groups(), t.idx_groups());
        prop_assert_eq!(back.to_json(), state.clone());
        let text = serde_json::to_string(&t).unwrap();
        let again: CategoryTree = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(&again, &t);
        // ids stay integers
        prop_assert_eq!(again.ids(), t.ids());
        // COCO records rebuild the same structure
        let coco = CategoryTree::from_coco_json(&t.to_coco()).unwrap();
        prop_assert_eq!(coco.names(), t.names());
        prop_assert_eq!(coco.ids(), t.ids());
        for i in 0..t.len() {
            prop_assert_eq!(coco.parent(i), t.parent(i));
        }
    }

    #[test]
    fn distance_matrix_is_antisymmetric(t in forest()) {
        let d = t.idx_pairwise_distance();
        let n = t.len();
        let desc = t.idx_to_descendants_idxs(false);
        for a in 0..n {
            prop_assert_eq!(d[[a, a]], 0.0);
            for b in 0..n {
                let (x, y) = (d[[a, b]], d[[b, a]]);
                prop_assert!((x.is_nan() && y.is_nan()) || x == -y);
                prop_assert_eq!(x > 0.0, desc[a].contains(&b));
                if x > 0.0 {
                    // distance = number of steps up from b to a
                    let steps = t.ancestors(b).unwrap().iter().position(|&q| q == a).unwrap() + 1;
                    prop_assert_eq!(x, steps as f32);
                }
            }
        }
    }

    #[test]
    fn ids_and_groups_are_consistent(t in forest()) {
        let n = t.len();
        let mut all: Vec<usize> = t.idx_groups().iter().flatten().copied().collect();
        all.sort_unstable();
        prop_assert_eq!(all, (0..n).collect::<Vec<_>>());
        for g in t.idx_groups() {
            prop_assert!(g.windows(2).all(|w| w[0] < w[1]));
            let p = t.parent(g[0]);
            prop_assert!(g.iter().all(|&i| t.parent(i) == p));
        }
        for i in 0..n {
            let id = t.idx_to_id(i).unwrap();
            prop_assert_eq!(t.id_to_idx(id), Some(i));
            let name = t.idx_to_node(i).unwrap();
            prop_assert_eq!(t.node_to_idx(name), Some(i));
            prop_assert_eq!(t.node_to_id(name), Some(id));
            prop_assert_eq!(t.id_to_node(id), Some(name));
        }
        let mut pre = t.preorder().to_vec();
        for &i in t.preorder() {
            if let Some(p) = t.parent(i) {
                let pi = pre.iter().position(|&x| x == p).unwrap();
                let ci = pre.iter().position(|&x| x == i).unwrap();
                prop_assert!(pi < ci);
            }
        }
        pre.sort_unstable();
        prop_assert_eq!(pre, (0..n).collect::<Vec<_>>());
    }

    #[test]
    fn subgraph_keeps_ancestry(t in forest(), keep in proptest::collection::vec(any::<bool>(), 24)) {
        let kept: Vec<usize> = (0..t.len()).filter(|&i| keep[i]).collect();
        let sub = t.take(&kept).unwrap();
        prop_assert_eq!(sub.len(), kept.len());
        for (a_new, &a) in kept.iter().enumerate() {
            prop_assert_eq!(sub.idx_to_id(a_new), t.idx_to_id(a));
            for (b_new, &b) in kept.iter().enumerate() {
                let before = t.ancestors(b).unwrap().contains(&a);
                let after = sub.ancestors(b_new).unwrap().contains(&a_new);
                prop_assert_eq!(before, after);
            }
        }
    }

    #[test]
    fn index_order_by_id_sorts_ids(t in forest()) {
        let mut b = TreeBuilder::new().index_order(IndexOrder::ById);
        for c in t.categories() {
            b.add_category(&c.name, Some(c.id), Default::default()).unwrap();
        }
        for i in 0..t.len() {
            if let Some(p) = t.parent(i) {
                b.add_edge(t.idx_to_node(p).unwrap(), t.idx_to_node(i).unwrap());
            }
        }
        let sorted = b.build().unwrap();
        let ids = sorted.ids();
        prop_assert!(ids.windows(2).all(|w| w[0] < w[1]));
        for i in 0..t.len() {
            let j = sorted.node_to_idx(t.idx_to_node(i).unwrap()).unwrap();
            let p = t.parent(i).and_then(|p| t.idx_to_node(p));
            prop_assert_eq!(sorted.parent(j).and_then(|q| sorted.idx_to_node(q)), p);
        }
    }
}
