//! Acceptance values taken from the reference (kwcoco 0.9.1 / ndsampler 0.8.1).

use approx::assert_abs_diff_eq;
use category_tree::{
    CategoryTree, CocoCategory, Criterion, DecisionOptions, Error, IndexOrder, Reduction,
    TreeBuilder, entropy, gini, softmax,
};
use ndarray::{Array1, Array2, Axis, array};
use serde_json::json;

fn minerals() -> CategoryTree {
    CategoryTree::from_adjacency([
        ("background", vec![]),
        ("mineral", vec!["granite", "quartz"]),
        ("animal", vec!["dog", "cat"]),
        ("dog", vec!["boxer", "beagle"]),
    ])
    .unwrap()
}

fn shapes() -> CategoryTree {
    let cat = |id, name: &str, sup: Option<&str>| CocoCategory {
        id: Some(id),
        name: name.into(),
        supercategory: sup.map(Into::into),
        parents: vec![],
    };
    CategoryTree::from_coco([
        cat(0, "background", None),
        cat(3, "star", Some("vector")),
        cat(6, "superstar", Some("raster")),
        cat(7, "eff", Some("raster")),
    ])
    .unwrap()
}

#[test]
fn adjacency_order_ids_and_groups() {
    let t = minerals();
    assert_eq!(
        t.names(),
        [
            "background",
            "mineral",
            "animal",
            "dog",
            "granite",
            "quartz",
            "cat",
            "boxer",
            "beagle"
        ]
    );
    assert_eq!(t.ids(), (1..=9).collect::<Vec<i64>>());
    assert_eq!(
        t.idx_groups(),
        [vec![0, 1, 2], vec![4, 5], vec![3, 6], vec![7, 8]]
    );
    assert_eq!(
        t.to_string().split(", nodes").next().unwrap(),
        "<CategoryTree(nNodes=9, maxDepth=3, maxBreadth=3"
    );
}

#[test]
fn mutex_ids() {
    assert_eq!(
        CategoryTree::from_mutex(["a", "background", "b"])
            .unwrap()
            .ids(),
        [1, 0, 3]
    );
    assert_eq!(
        CategoryTree::from_mutex(["a", "b", "c"]).unwrap().ids(),
        [0, 1, 2]
    );
    let t = CategoryTree::from_count(4).unwrap();
    assert_eq!(t.names(), ["class_1", "class_2", "class_3", "class_4"]);
    assert!(t.is_mutex());
    assert_eq!(
        t.to_string(),
        r#"<CategoryTree(nNodes=4, nodes=["class_1", "class_2", "class_3", "class_4"])>"#
    );
}

#[test]
fn btree_demo() {
    let t = CategoryTree::demo_btree(3, 3, true).unwrap();
    assert_eq!(t.len(), 41);
    assert_eq!(t.idx_groups()[0], [0, 40]);
    assert_eq!(t.idx_to_node(40), Some("0"));
    assert_eq!(t.node_to_id("0"), Some(41));
    assert_eq!(t.children(0), [1, 2, 3]);
    assert_eq!(t.max_depth(), 4);
    let t = CategoryTree::demo_btree(3, 3, false).unwrap();
    assert_eq!(t.len(), 40);
    let line = CategoryTree::demo_btree(1, 4, false).unwrap();
    assert_eq!(line.names(), ["1", "2", "3", "4", "5"]);
}

#[test]
fn animals_demo() {
    let t = CategoryTree::demo_animals();
    assert_eq!(t.len(), 22);
    assert_eq!(t.max_depth(), 6);
    assert_eq!(t.max_breadth(), 4);
    assert!(
        t.to_string()
            .starts_with("<CategoryTree(nNodes=22, maxDepth=6, maxBreadth=4")
    );
}

#[test]
fn shapes_tree_from_coco() {
    let t = shapes();
    assert_eq!(
        t.names(),
        ["background", "star", "vector", "superstar", "raster", "eff"]
    );
    assert_eq!(t.ids(), [0, 3, 8, 6, 9, 7]);
    assert_eq!(t.idx_groups(), [vec![0, 2, 4], vec![1], vec![3, 5]]);
    let coco = t.to_coco();
    assert_eq!(coco[2], json!({"id": 8, "name": "vector"}));
    assert_eq!(
        coco[1],
        json!({"id": 3, "name": "star", "supercategory": "vector"})
    );
    // from the raw JSON records of the shapes4 fixture
    let raw = json!([
        {"id": 0, "name": "background"},
        {"name": "star", "id": 3, "supercategory": "vector", "keypoints": []},
        {"name": "superstar", "id": 6, "supercategory": "raster", "keypoints": ["left_eye", "right_eye"]},
        {"name": "eff", "id": 7, "supercategory": "raster", "keypoints": ["top_tip", "mid_tip", "bot_tip"]}
    ]);
    let t2 = CategoryTree::from_coco_json(raw.as_array().unwrap()).unwrap();
    assert_eq!(t2.names(), t.names());
    assert_eq!(t2.ids(), t.ids());
    assert_eq!(
        t2.to_coco()[3]["keypoints"],
        json!(["left_eye", "right_eye"])
    );
}

fn decide(t: &CategoryTree, p: &[f64], opts: DecisionOptions) -> (String, f64) {
    let probs = Array1::from(p.to_vec());
    let d = t.decision(&probs, Axis(0), &opts).unwrap();
    (t.idx_to_node(d.idxs[()]).unwrap().to_string(), d.conf[()])
}

#[test]
fn shapes_decisions() {
    let t = shapes();
    let p = [0.05, 0.1, 0.9, 0.1, 0.9, 0.05];
    assert_eq!(
        decide(&t, &p, DecisionOptions::default()),
        ("star".into(), 0.1)
    );
    assert_eq!(
        decide(&t, &p, DecisionOptions::new(Criterion::Prob, 0.1)),
        ("vector".into(), 0.9)
    );
    let p = [0.0, 0.98, 0.01, 0.01, 0.02, 0.98];
    assert_eq!(
        decide(&t, &p, DecisionOptions::new(Criterion::Entropy, 0.01)),
        ("eff".into(), 0.98)
    );
    let p = [0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
    assert_eq!(
        decide(&t, &p, DecisionOptions::new(Criterion::Entropy, 0.1)),
        ("background".into(), 0.0)
    );
    // f32 and a batch along axis 0 give the same answers
    let batch = array![
        [0.05f32, 0.1, 0.9, 0.1, 0.9, 0.05],
        [0.0, 0.98, 0.01, 0.01, 0.02, 0.98]
    ];
    let d = t
        .decision(&batch.t(), Axis(0), &DecisionOptions::default())
        .unwrap();
    assert_eq!(d.idxs[0], 1);
    assert_eq!(d.conf[0], 0.1f32);
}

#[test]
fn decision_ignore_and_always_refine() {
    let t = shapes();
    let p = [0.05, 0.1, 0.9, 0.1, 0.9, 0.05];
    // ignoring `vector` (which won the tie) leaves raster, too uncertain to refine
    let opts = DecisionOptions {
        ignore_class_idxs: vec![2],
        ..Default::default()
    };
    assert_eq!(decide(&t, &p, opts), ("raster".into(), 0.9));
    let opts = DecisionOptions {
        ignore_class_idxs: t.roots().to_vec(),
        ..Default::default()
    };
    let err = t
        .decision(&Array1::from(p.to_vec()), Axis(0), &opts)
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidArgument {
                name: "ignore_class_idxs",
                ..
            }
        ),
        "{err}"
    );
    // ignoring a whole child level is fine
    let opts = DecisionOptions {
        ignore_class_idxs: vec![1],
        ..Default::default()
    };
    assert_eq!(decide(&t, &p, opts).0, "vector");
    // a class that is always refined never comes out when it has children
    let p = [0.0, 0.5, 1.0, 0.0, 0.0, 0.0];
    assert_eq!(
        decide(&t, &p, DecisionOptions::new(Criterion::Gini, 10.0)).0,
        "vector"
    );
    let opts = DecisionOptions {
        thresh: 10.0,
        always_refine_idxs: vec![2],
        ..Default::default()
    };
    assert_eq!(decide(&t, &p, opts).0, "star");
    let opts = DecisionOptions {
        thresh: 0.99,
        criterion: Criterion::Prob,
        always_refine_idxs: vec![2],
        ..Default::default()
    };
    assert_eq!(decide(&t, &p, opts).0, "star");
    let bad = DecisionOptions {
        ignore_class_idxs: vec![99],
        ..Default::default()
    };
    assert!(matches!(
        t.decision(&Array1::from(p.to_vec()), Axis(0), &bad),
        Err(Error::IndexOutOfRange { idx: 99, len: 6 })
    ));
    assert!("gini".parse::<Criterion>().is_ok() && "nope".parse::<Criterion>().is_err());
}

#[test]
fn decision_straight_line_descends_to_leaf() {
    // reference: on a straight line the decision always reaches the finest level
    let t = CategoryTree::demo_btree(1, 4, false).unwrap();
    let energy = Array2::from_shape_fn((5, 5), |(r, c)| ((r * 3 + c) % 4) as f64);
    let probs = t.hierarchical_softmax(&energy, Axis(1)).unwrap();
    let d = t
        .decision(&probs, Axis(1), &DecisionOptions::default())
        .unwrap();
    assert!(d.idxs.iter().all(|&i| i == 4), "{:?}", d.idxs);
}

#[test]
fn gini_entropy_of_softmax_rows() {
    let x = Array2::from_shape_fn((3, 10), |(r, c)| ((r * 31 + c * 17) % 13) as f64 / 13.0);
    let p = softmax(&x, Axis(1)).unwrap();
    let g = gini(&p, Axis(1)).unwrap();
    let h = entropy(&p, Axis(1)).unwrap();
    for r in 0..3 {
        let row = p.row(r);
        assert_abs_diff_eq!(row.sum(), 1.0, epsilon = 1e-12);
        let g_ref = 1.0 - row.iter().map(|v| v * v).sum::<f64>();
        let h_ref = -row.iter().map(|v| v * v.log2()).sum::<f64>();
        assert_abs_diff_eq!(g[r], g_ref, epsilon = 1e-12);
        assert_abs_diff_eq!(h[r], h_ref, epsilon = 1e-12);
        // near-uniform rows of 10 classes: close to the maxima 0.9 and log2(10)
        assert!(g[r] > 0.89 && g[r] <= 0.9);
        assert!(h[r] > 3.2 && h[r] <= 10f64.log2() + 1e-12);
    }
    // 0 log 0 counts as 0
    let h = entropy(&array![[0.0f32, 1.0], [0.5, 0.5]], Axis(1)).unwrap();
    assert_eq!(h, array![0.0f32, 1.0]);
}

#[test]
fn subgraph_and_take_match_reference_doctest() {
    let cat = |id, name: &str, sup: Option<&str>| CocoCategory {
        id: Some(id),
        name: name.into(),
        supercategory: sup.map(Into::into),
        parents: vec![],
    };
    let t = CategoryTree::from_coco([
        cat(130, "n3", Some("n1")),
        cat(410, "n1", None),
        cat(640, "n4", Some("n3")),
        cat(220, "n2", Some("n1")),
        cat(560, "n6", Some("n2")),
        cat(350, "n5", Some("n2")),
    ])
    .unwrap();
    let new1 = t.subgraph(&["n3", "n6", "n4", "n1"], true).unwrap();
    assert_eq!(new1.ids(), [130, 560, 640, 410]);
    assert_eq!(new1.names(), ["n3", "n6", "n4", "n1"]);
    // n6 keeps n1 as ancestor through the dropped n2
    assert_eq!(new1.parent(1), Some(3));
    assert_eq!(new1.parent(2), Some(0));
    let new2 = t.take(&[2, 1, 0, 5]).unwrap();
    assert_eq!(new2.ids(), [640, 410, 130, 350]);
    assert_eq!(new2.names(), ["n4", "n1", "n3", "n5"]);
    let new3 = t.subgraph(&["n3", "n6", "n4", "n1"], false).unwrap();
    assert_eq!(new3.parent(1), None);
    assert_eq!(new3.parent(0), Some(3));
    assert!(matches!(
        t.take(&[9]),
        Err(Error::IndexOutOfRange { idx: 9, len: 6 })
    ));
    assert!(matches!(
        t.subgraph(&["zz"], true),
        Err(Error::UnknownNode { .. })
    ));
    assert!(matches!(
        t.subgraph(&["n1", "n1"], true),
        Err(Error::DuplicateName { .. })
    ));
}

/// Indices whose energy changes the hierarchical NLL of one target.
fn relevant(t: &CategoryTree, target: &str) -> Vec<String> {
    let n = t.len();
    let base = Array2::from_shape_fn((1, n), |(_, c)| (c as f64 * 0.37).sin());
    let tgt = array![t.index(target).unwrap()];
    let loss = |e: &Array2<f64>| {
        t.hierarchical_cross_entropy(e, Axis(1), &tgt, Reduction::Mean)
            .unwrap()
    };
    let l0 = loss(&base);
    let mut names: Vec<String> = (0..n)
        .filter(|&c| {
            let mut e = base.clone();
            e[[0, c]] += 0.5;
            (loss(&e) - l0).abs() > 1e-12
        })
        .map(|c| t.idx_to_node(c).unwrap().to_string())
        .collect();
    names.sort();
    names
}

#[test]
fn coarse_targets_ignore_finer_levels() {
    // expected sets are the reference doctest output of hierarchical_nll_loss
    let t = minerals();
    assert_eq!(
        relevant(&t, "boxer"),
        [
            "animal",
            "background",
            "beagle",
            "boxer",
            "cat",
            "dog",
            "mineral"
        ]
    );
    assert_eq!(
        relevant(&t, "dog"),
        ["animal", "background", "cat", "dog", "mineral"]
    );
    assert_eq!(
        relevant(&t, "quartz"),
        ["animal", "background", "granite", "mineral", "quartz"]
    );
    assert_eq!(relevant(&t, "animal"), ["animal", "background", "mineral"]);
    assert_eq!(
        relevant(&t, "background"),
        ["animal", "background", "mineral"]
    );
}

#[test]
fn nll_reductions_and_shape_errors() {
    let t = minerals();
    let e = Array2::from_shape_fn((3, 9), |(r, c)| (r + c) as f32 * 0.1);
    let logp = t.hierarchical_log_softmax(&e, Axis(1)).unwrap();
    let targets = array![0usize, 7, 3];
    let per = t.hierarchical_nll(&logp, Axis(1), &targets).unwrap();
    for (k, &tg) in targets.iter().enumerate() {
        assert_eq!(per[k], -logp[[k, tg]]);
    }
    let sum = t
        .hierarchical_nll_loss(&logp, Axis(1), &targets, Reduction::Sum)
        .unwrap();
    let mean = t
        .hierarchical_nll_loss(&logp, Axis(1), &targets, Reduction::Mean)
        .unwrap();
    assert_abs_diff_eq!(sum, per.sum(), epsilon = 1e-5);
    assert_abs_diff_eq!(mean, sum / 3.0, epsilon = 1e-5);
    assert!(matches!(
        t.hierarchical_nll(&logp, Axis(1), &array![0usize, 9, 1]),
        Err(Error::IndexOutOfRange { idx: 9, .. })
    ));
    assert!(matches!(
        t.hierarchical_nll(&logp, Axis(1), &array![0usize, 1]),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        t.source_log_softmax(&Array2::<f32>::zeros((2, 8)), Axis(1)),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        t.source_log_softmax(&Array2::<f32>::zeros((2, 9)), Axis(2)),
        Err(Error::Shape { .. })
    ));
}

#[test]
fn reference_state_with_string_ids_and_int_nodes_loads() {
    // what `json.dumps(CategoryTree.demo('btree', r=2, h=1).__json__())` gives:
    // int node names, and id keys turned into strings
    let state = json!({
        "graph": [[0, {}, []], [1, {}, [[2, {}, []], [3, {}, []]]]],
        "id_to_node": {"1": 1, "2": 2, "3": 3, "4": 0},
        "idx_to_node": [1, 2, 3, 0]
    });
    let t = CategoryTree::from_json(&state).unwrap();
    assert_eq!(t.names(), ["1", "2", "3", "0"]);
    assert_eq!(t.ids(), [1, 2, 3, 4]);
    assert_eq!(t.id_to_idx(4), Some(3));
    assert_eq!(t.children(0), [1, 2]);
    // our own state re-loads identically
    let again = CategoryTree::from_json(&t.to_json()).unwrap();
    assert_eq!(again, t);
    assert_eq!(again.to_json(), t.to_json());
    // and via serde
    let text = serde_json::to_string(&t).unwrap();
    let back: CategoryTree = serde_json::from_str(&text).unwrap();
    assert_eq!(back, t);
}

#[test]
fn state_layout_matches_reference() {
    let t = minerals();
    let s = t.to_json();
    let keys: Vec<&String> = s.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["graph", "id_to_node", "idx_to_node"]);
    // roots sorted by name, each [node, attrs, children]
    assert_eq!(s["graph"][0][0], "animal");
    assert_eq!(s["graph"][0][2][0][0], "cat");
    assert_eq!(s["graph"][0][2][1][2][0][0], "beagle");
    assert_eq!(s["id_to_node"]["4"], "dog");
}

#[test]
fn bad_states_are_reported() {
    for (state, needle) in [
        (json!([1]), "$"),
        (json!({"graph": 3}), "graph"),
        (
            json!({"graph": [["a", {}, []]], "idx_to_node": ["a", "b"]}),
            "idx_to_node[1]",
        ),
        (
            json!({"graph": [["a", {}, []], ["b", {}, []]], "idx_to_node": ["a"]}),
            "idx_to_node",
        ),
        (
            json!({"graph": [["a", {}, []]], "id_to_node": {"x": "a"}}),
            "id_to_node",
        ),
        (json!({"graph": [["a", 5, []]]}), "graph[0][1]"),
        (
            json!({"graph": [["a", {}, [[true, {}, []]]]]}),
            "graph[0][2][0][0]",
        ),
    ] {
        let err = CategoryTree::from_json(&state).unwrap_err();
        assert!(matches!(err, Error::InvalidState { .. }), "{err}");
        assert!(
            err.to_string().contains(needle),
            "{err} should mention {needle}"
        );
    }
    assert!(matches!(
        CategoryTree::from_json_str("{"),
        Err(Error::Json(_))
    ));
}

#[test]
fn structure_errors_name_the_category() {
    let err = CategoryTree::from_adjacency([("a", vec!["b"]), ("b", vec!["a"])]).unwrap_err();
    assert!(matches!(err, Error::Cycle { .. }), "{err}");
    let err = CategoryTree::from_adjacency([("a", vec!["c"]), ("b", vec!["c"])]).unwrap_err();
    match &err {
        Error::MultipleParents { node, parents } => {
            assert_eq!(node, "c");
            assert_eq!(parents, &["a", "b"]);
        }
        other => panic!("unexpected {other}"),
    }
    let err = CategoryTree::from_coco([CocoCategory {
        id: Some(1),
        name: "x".into(),
        supercategory: Some("x".into()),
        parents: vec![],
    }])
    .unwrap_err();
    assert!(matches!(err, Error::Cycle { .. }), "{err}");
    let err =
        CategoryTree::from_coco([CocoCategory::new("a"), CocoCategory::new("a")]).unwrap_err();
    assert!(matches!(err, Error::DuplicateName { .. }), "{err}");
    let mut b = TreeBuilder::new();
    b.add_category("a", Some(3), Default::default()).unwrap();
    b.add_category("b", Some(3), Default::default()).unwrap();
    assert!(matches!(b.build(), Err(Error::DuplicateId { id: 3, .. })));
    let err = CategoryTree::from_coco_json(&[json!({"id": "1", "name": "a"})]).unwrap_err();
    assert!(
        err.to_string().contains("#0") && err.to_string().contains("\"id\""),
        "{err}"
    );
    let err = CategoryTree::from_coco_json(&[json!({"id": 1})]).unwrap_err();
    assert!(err.to_string().contains("name"), "{err}");
}

#[test]
fn parents_field_creates_edges() {
    let t = CategoryTree::from_coco([
        CocoCategory {
            id: Some(1),
            name: "dog".into(),
            parents: vec!["animal".into()],
            ..Default::default()
        },
        CocoCategory {
            id: Some(5),
            name: "animal".into(),
            ..Default::default()
        },
        // supercategory and parents naming the same parent is one edge
        CocoCategory {
            id: Some(2),
            name: "cat".into(),
            supercategory: Some("animal".into()),
            parents: vec!["animal".into()],
        },
    ])
    .unwrap();
    assert_eq!(t.names(), ["dog", "animal", "cat"]);
    assert_eq!(t.ids(), [1, 5, 2]);
    assert_eq!(t.children(1), [0, 2]);
    let err = CategoryTree::from_coco([CocoCategory {
        name: "dog".into(),
        supercategory: Some("animal".into()),
        parents: vec!["pet".into()],
        ..Default::default()
    }])
    .unwrap_err();
    assert!(matches!(err, Error::MultipleParents { .. }), "{err}");
}

#[test]
fn index_order_by_id() {
    let cats = [
        CocoCategory {
            id: Some(30),
            name: "c".into(),
            ..Default::default()
        },
        CocoCategory {
            id: Some(10),
            name: "a".into(),
            ..Default::default()
        },
        CocoCategory {
            id: Some(20),
            name: "b".into(),
            supercategory: Some("a".into()),
            ..Default::default()
        },
    ];
    let mut b = TreeBuilder::new().index_order(IndexOrder::ById);
    for c in &cats {
        b.add_category(&c.name, c.id, Default::default()).unwrap();
        if let Some(s) = &c.supercategory {
            b.add_edge(s, &c.name);
        }
    }
    let t = b.build().unwrap();
    assert_eq!(t.names(), ["a", "b", "c"]);
    assert_eq!(t.idx_groups(), [vec![0, 2], vec![1]]);
}

#[test]
fn coerce_variants() {
    let t = CategoryTree::coerce(&json!(3)).unwrap();
    assert_eq!(t.names(), ["class_1", "class_2", "class_3"]);
    assert_eq!(
        CategoryTree::coerce(&json!(["a", "b"])).unwrap().ids(),
        [0, 1]
    );
    let s = minerals().to_json();
    assert_eq!(CategoryTree::coerce(&s).unwrap(), minerals());
    for bad in [
        json!(-1),
        json!(1.5),
        json!(null),
        json!(true),
        json!("x"),
        json!([1]),
    ] {
        assert!(CategoryTree::coerce(&bad).is_err(), "{bad}");
    }
}

#[test]
fn normalize_and_forest_str() {
    let t = CategoryTree::from_coco_json(&[
        json!({"id": 1, "name": "Big Cat", "supercategory": "Animal"}),
        json!({"id": 2, "name": "Dog"}),
    ])
    .unwrap();
    let n = t.normalize().unwrap();
    assert_eq!(n.names(), ["bigcat", "animal", "dog"]);
    assert_eq!(n.ids(), t.ids());
    assert_eq!(
        n.to_coco()[0],
        json!({"id": 1, "name": "bigcat", "supercategory": "animal"})
    );
    assert_eq!(n.category(1).unwrap().attrs["id"], 3);
    let clash = CategoryTree::from_mutex(["A", "a"]).unwrap();
    assert!(matches!(
        clash.normalize(),
        Err(Error::DuplicateName { .. })
    ));
    assert_eq!(
        minerals().forest_str(),
        "╟── background\n╟── mineral\n╎   ├─╼ granite\n╎   └─╼ quartz\n╙── animal\n    ├─╼ dog\n    │   ├─╼ boxer\n    │   └─╼ beagle\n    └─╼ cat\n"
    );
}

#[test]
fn distances_and_lineage() {
    let t = minerals();
    let d = t.idx_pairwise_distance();
    let (animal, dog, boxer, cat, quartz) = (2, 3, 7, 6, 5);
    assert_eq!(d[[animal, boxer]], 2.0);
    assert_eq!(d[[boxer, animal]], -2.0);
    assert_eq!(d[[dog, dog]], 0.0);
    assert!(d[[dog, cat]].is_nan() && d[[boxer, quartz]].is_nan());
    assert_eq!(t.ancestors(boxer).unwrap(), [dog, animal]);
    assert_eq!(t.descendants(animal).unwrap(), [dog, 7, 8, cat]);
    assert_eq!(t.idx_to_ancestor_idxs(true)[boxer], [animal, dog, boxer]);
    assert_eq!(t.idx_to_descendants_idxs(false)[animal], [dog, cat, 7, 8]);
    assert!(matches!(
        t.ancestors(9),
        Err(Error::IndexOutOfRange { idx: 9, len: 9 })
    ));
    assert_eq!(t.leaves(), [0, 4, 5, 6, 7, 8]);
}
