//! Property: reading then writing a generated dataset gives back the same JSON
//! (key order, table order, unknown keys, nulls, non-finite floats), and a
//! second write→read is the identity on the text.

use coco_model::json::{NAN_SENTINEL, NEG_INF_SENTINEL, escape, replace_non_finite, to_json_text};
use coco_model::{CocoDataset, DumpStyle};
use proptest::prelude::*;
use serde_json::{Map, Value};

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        "[a-zA-Z0-9 _\"\\\\/é\n-]{0,8}".prop_map(Value::String),
        Just(Value::String(NAN_SENTINEL.into())),
        // genuine strings beginning with NUL, in the untyped-value form
        "(NaN|Infinity|-Infinity|[a-z]{0,3})"
            .prop_map(|s| Value::String(escape(&format!("\u{0}{s}")).into_owned())),
    ]
}

fn any_value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(("[a-z]{1,4}", inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn opt_float() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        Just(None),
        Just(Some(Value::Null)),
        (-1e4f64..1e4).prop_map(|x| Some(Value::from(x))),
        any::<i16>().prop_map(|x| Some(Value::from(x))),
        Just(Some(Value::String(NAN_SENTINEL.into()))),
        Just(Some(Value::String(NEG_INF_SENTINEL.into()))),
    ]
}

fn opt_string() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        Just(None),
        Just(Some(Value::Null)),
        "[a-z/._ -]{0,10}".prop_map(|s| Some(Value::String(s))),
        "(NaN|Infinity|[a-z]{0,2})"
            .prop_map(|s| Some(Value::String(escape(&format!("\u{0}{s}")).into_owned()))),
    ]
}

/// Extra keys (prefixed so they never collide with known keys).
fn extras() -> impl Strategy<Value = Vec<(String, Value)>> {
    prop::collection::vec(("x_[a-z]{1,5}", any_value()), 0..3)
}

/// Builds an object from known fields and extras in a shuffled order.
fn record(
    known: Vec<(&'static str, Option<Value>)>,
    extra: Vec<(String, Value)>,
) -> impl Strategy<Value = Value> {
    let mut pairs: Vec<(String, Value)> = known
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v)))
        .collect();
    for (k, v) in extra {
        if !pairs.iter().any(|(p, _)| *p == k) {
            pairs.push((k, v));
        }
    }
    Just(pairs)
        .prop_shuffle()
        .prop_map(|p| Value::Object(p.into_iter().collect()))
}

fn category(i: usize) -> impl Strategy<Value = Value> {
    (opt_string(), extras()).prop_flat_map(move |(sup, ex)| {
        record(
            vec![
                ("id", Some(Value::from(i as i64))),
                ("name", Some(Value::from(format!("c{i}")))),
                ("supercategory", sup),
            ],
            ex,
        )
    })
}

fn image(i: usize) -> impl Strategy<Value = Value> {
    let asset = (
        opt_string(),
        opt_string(),
        prop::option::of(0u32..5000),
        extras(),
    )
        .prop_flat_map(|(f, c, w, ex)| {
            record(
                vec![
                    ("file_name", f),
                    ("channels", c),
                    ("width", w.map(Value::from)),
                    (
                        "warp_aux_to_img",
                        Some(serde_json::json!({"type": "affine", "scale": 2.0})),
                    ),
                ],
                ex,
            )
        });
    (
        opt_string(),
        prop::option::of(0u32..5000),
        prop::option::of(prop_oneof![
            Just(Value::Null),
            (0i64..3).prop_map(Value::from)
        ]),
        prop::option::of(prop::collection::vec(asset, 0..3)),
        any::<bool>(),
        extras(),
    )
        .prop_flat_map(move |(name, w, fi, assets, aux, ex)| {
            let key = if aux { "auxiliary" } else { "assets" };
            record(
                vec![
                    ("id", Some(Value::from(i as i64 + 1))),
                    ("file_name", Some(Value::from(format!("img{i}.png")))),
                    ("name", name),
                    ("width", w.map(Value::from)),
                    ("height", w.map(Value::from)),
                    ("frame_index", fi),
                    ("timestamp", Some(Value::from("2020-01-01"))),
                    (key, assets.map(Value::Array)),
                ],
                ex,
            )
        })
}

fn annotation(i: usize, n_images: usize) -> impl Strategy<Value = Value> {
    (
        0..n_images.max(1),
        prop::option::of(0i64..3),
        prop::option::of(prop::collection::vec(-100i32..100, 4)),
        prop::option::of(any_value()),
        prop::option::of(prop_oneof![
            any::<i32>().prop_map(Value::from),
            "[a-z]{1,3}".prop_map(Value::from)
        ]),
        (opt_float(), opt_float(), opt_float()),
        prop::option::of(prop_oneof![
            Just(Value::from(0)),
            Just(Value::from(1)),
            any::<bool>().prop_map(Value::Bool)
        ]),
        opt_string(),
        extras(),
    )
        .prop_flat_map(
            move |(img, cat, bbox, seg, track, (score, weight, area), crowd, caption, ex)| {
                record(
                    vec![
                        ("id", Some(Value::from(i as i64 + 1))),
                        ("image_id", Some(Value::from(img as i64 + 1))),
                        ("category_id", cat.map(Value::from)),
                        (
                            "bbox",
                            bbox.map(|b| {
                                Value::from(
                                    b.into_iter()
                                        .map(|x| f64::from(x) / 4.0)
                                        .collect::<Vec<_>>(),
                                )
                            }),
                        ),
                        ("segmentation", seg),
                        ("keypoints", None),
                        ("track_id", track),
                        ("score", score),
                        ("weight", weight),
                        ("area", area),
                        ("iscrowd", crowd),
                        ("caption", caption),
                    ],
                    ex,
                )
            },
        )
}

fn dataset() -> impl Strategy<Value = String> {
    (0usize..4, 0usize..5, 0usize..8, extras(), any::<bool>()).prop_flat_map(
        |(nc, ni, na, top_extra, info_first)| {
            let cats: Vec<_> = (0..nc).map(category).collect();
            let imgs: Vec<_> = (0..ni).map(image).collect();
            let anns: Vec<_> = (0..na).map(|i| annotation(i, ni)).collect();
            (cats, imgs, anns).prop_map(move |(c, i, a)| {
                let mut top = Map::new();
                if info_first {
                    top.insert("info".into(), Value::Array(vec![]));
                }
                top.insert("categories".into(), Value::Array(c));
                for (k, v) in &top_extra {
                    top.insert(k.clone(), v.clone());
                }
                top.insert("images".into(), Value::Array(i));
                top.insert("annotations".into(), Value::Array(a));
                if !info_first {
                    top.insert(
                        "licenses".into(),
                        Value::Array(vec![serde_json::json!({"id": 1})]),
                    );
                }
                to_json_text(&Value::Object(top))
            })
        },
    )
}

/// Structural equality with numbers compared by value and key order checked.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(u, v)| same(u, v))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.keys().eq(y.keys()) && x.iter().all(|(k, u)| same(u, &y[k]))
        }
        _ => a == b,
    }
}

fn parse_value(text: &str) -> Value {
    serde_json::from_str(&replace_non_finite(text)).expect("valid JSON")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn write_read_is_identity(text in dataset(), pretty in any::<bool>()) {
        let style = if pretty { DumpStyle::Pretty } else { DumpStyle::Compact };
        let ds = CocoDataset::from_json_str(&text, ".").expect("generated datasets parse");
        let out = ds.to_json_string(style);
        let (a, b) = (parse_value(&text), parse_value(&out));
        prop_assert!(same(&a, &b), "input:\n{}\noutput:\n{}", text, out);
        let again = CocoDataset::from_json_str(&out, ".").unwrap();
        prop_assert_eq!(again.to_json_string(style), out);
        prop_assert_eq!(again.annotations(), ds.annotations());
        prop_assert_eq!(again.images(), ds.images());
        prop_assert_eq!(again.categories(), ds.categories());
    }

    #[test]
    fn index_matches_a_scan(text in dataset()) {
        let ds = CocoDataset::from_json_str(&text, ".").unwrap();
        for img in ds.images() {
            let scan: Vec<_> = ds.annotations().iter().filter(|a| a.image_id == img.id).map(|a| a.id).collect();
            prop_assert_eq!(ds.annots_of_image(img.id), scan.as_slice());
        }
        for c in ds.categories() {
            let scan: Vec<_> = ds.annotations().iter().filter(|a| a.category_id == Some(c.id)).map(|a| a.id).collect();
            prop_assert_eq!(ds.annots_of_category(c.id), scan.as_slice());
        }
        for a in ds.annotations() {
            prop_assert_eq!(ds.annotation(a.id).map(|x| x.id), Some(a.id));
        }
    }
}
