//! Python's bare `NaN` / `Infinity` tokens are numbers only outside strings, and
//! strings stay strings: a token where a string is expected is a type error, a
//! genuine string `"\u0000NaN"` is never read as a number and round-trips.

use coco_model::json::{Decoded, decode_str};
use coco_model::{CocoDataset, DumpStyle};

fn load(text: &str) -> Result<CocoDataset, String> {
    CocoDataset::from_json_str(text, ".").map_err(|e| e.to_string())
}

fn load_file(text: &str) -> Result<CocoDataset, String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.kwcoco.json");
    std::fs::write(&path, text).unwrap();
    CocoDataset::load(&path).map_err(|e| e.to_string())
}

#[test]
fn a_bare_token_in_a_string_field_is_a_type_error_naming_record_and_field() {
    let cases = [
        (
            r#"{"images": [{"id": 1, "file_name": NaN}]}"#,
            "images[0] (id 1): field `file_name`",
            "NaN",
        ),
        (
            r#"{"images": [{"id": 1, "file_name": "a", "channels": Infinity}]}"#,
            "field `channels`",
            "Infinity",
        ),
        (
            r#"{"images": [{"id": 1, "assets": [{"file_name": -Infinity}]}]}"#,
            "field `file_name`",
            "-Infinity",
        ),
        (
            r#"{"categories": [{"id": 2, "name": NaN}]}"#,
            "categories[0] (id 2): field `name`",
            "NaN",
        ),
        (
            r#"{"categories": [{"id": 2, "name": "c", "supercategory": NaN}]}"#,
            "field `supercategory`",
            "NaN",
        ),
        (
            r#"{"videos": [{"id": 3, "name": NaN}]}"#,
            "videos[0] (id 3): field `name`",
            "NaN",
        ),
        (
            r#"{"annotations": [{"id": 4, "image_id": 1, "caption": NaN}]}"#,
            "field `caption`",
            "NaN",
        ),
        (
            r#"{"annotations": [{"id": 4, "image_id": 1, "track_id": NaN}]}"#,
            "field `track_id`",
            "NaN",
        ),
        (
            r#"{"tracks": [{"id": 1, "name": Infinity}]}"#,
            "tracks[0] (id 1): field `name`",
            "Infinity",
        ),
    ];
    for (text, place, token) in cases {
        for err in [load(text).unwrap_err(), load_file(text).unwrap_err()] {
            assert!(err.contains(place), "{text}: {err}");
            assert!(err.contains(&format!("bare `{token}`")), "{text}: {err}");
            // "expected a string" (track ids: "an integer or a string")
            assert!(
                err.contains("or a string") || err.contains("expected a string"),
                "{text}: {err}"
            );
        }
    }
}

#[test]
fn a_bare_token_as_a_key_is_rejected() {
    let err = load(r#"{"images": [{"id": 1, NaN: 2}]}"#).unwrap_err();
    assert!(err.contains("key must be a string"), "{err}");
}

#[test]
fn a_genuine_nul_string_in_a_numeric_field_is_not_a_number() {
    for field in ["score", "weight", "area"] {
        let text =
            format!(r#"{{"annotations": [{{"id": 4, "image_id": 1, "{field}": "\u0000NaN"}}]}}"#);
        let err = load(&text).unwrap_err();
        assert!(err.contains(&format!("field `{field}`")), "{err}");
        assert!(err.contains("expected a number"), "{err}");
    }
    let text =
        r#"{"annotations": [{"id": 4, "image_id": 1, "bbox": [0, 0, "\u0000Infinity", 1]}]}"#;
    assert!(load(text).unwrap_err().contains("expected a number"));
    // geometry: the string is not read as NaN either
    let text = r#"{"annotations": [{"id": 4, "image_id": 1, "segmentation": [["\u0000NaN", 0, 4, 0, 4, 4]]}]}"#;
    let ds = load(text).unwrap();
    assert!(ds.annotations()[0].parse_segmentation().is_err());
}

#[test]
fn genuine_nul_strings_stay_strings_and_round_trip() {
    let text = r#"{"images": [{"id": 1, "file_name": "\u0000NaN", "name": "\u0000\u0000x", "x": "\u0000Infinity", "y": NaN, "z": ["\u0000-Infinity", -Infinity]}], "annotations": [{"id": 1, "image_id": 1, "caption": "\u0000NaN", "track_id": "\u0000NaN", "segmentation": {"counts": "\u0000NaN", "size": [NaN, 1]}, "score": NaN}], "info": {"\u0000NaN": "\u0000NaN"}}"#;
    for ds in [load(text).unwrap(), load_file(text).unwrap()] {
        let img = &ds.images()[0];
        assert_eq!(img.file_name.as_deref(), Some("\u{0}NaN"));
        assert_eq!(img.name.as_deref(), Some("\u{0}\u{0}x"));
        // untyped values: the genuine string is not the NaN sentinel
        let x = img.extra.get("x").and_then(|v| v.as_str()).unwrap();
        assert_eq!(decode_str(x), Decoded::Str("\u{0}Infinity"));
        let y = img.extra.get("y").and_then(|v| v.as_str()).unwrap();
        assert!(matches!(decode_str(y), Decoded::NonFinite(v) if v.is_nan()));
        let ann = &ds.annotations()[0];
        assert_eq!(ann.caption(), Some("\u{0}NaN"));
        assert_eq!(
            ann.track_id(),
            Some(&coco_model::TrackId::Str("\u{0}NaN".into()))
        );
        assert!(ann.score().unwrap().is_nan());
        assert_eq!(
            ann.segmentation_json().unwrap(),
            r#"{"counts": "\u0000NaN", "size": [NaN, 1]}"#
        );
        let out = ds.to_json_string(DumpStyle::Compact);
        for needle in [
            r#""file_name":"\u0000NaN""#,
            r#""name":"\u0000\u0000x""#,
            r#""x":"\u0000Infinity""#,
            r#""y":NaN"#,
            r#""z":["\u0000-Infinity",-Infinity]"#,
            r#""caption":"\u0000NaN""#,
            r#""track_id":"\u0000NaN""#,
            r#""score":NaN"#,
            r#""info":{"\u0000NaN":"\u0000NaN"}"#,
        ] {
            assert!(out.contains(needle), "{needle} not in {out}");
        }
        let again = load(&out).unwrap();
        assert_eq!(again.to_json_string(DumpStyle::Compact), out);
        assert_eq!(again.images(), ds.images());
    }
}
