//! The data model end to end: parsing details, errors, mutation, cascades,
//! union/subset, id allocation, paths.

use std::io::Write;

use coco_model::{
    AnnotId, Annotation, Category, CategoryId, CocoDataset, DumpStyle, Error, Image, ImageId,
    KeepAnnots, Track, TrackId, Video, VideoId,
};

const SMALL: &str = r#"{
"info": {"description": "x"},
"categories": [
{"id": 3, "name": "cat", "supercategory": "animal", "extra_cat": 1},
{"id": 1, "name": "animal"},
{"id": 7, "name": "dog", "supercategory": "animal"}
],
"videos": [{"id": 2, "name": "v2"}, {"id": 1, "name": "v1", "fps": 30}],
"images": [
{"id": 10, "file_name": "f10.png", "video_id": 1, "frame_index": 2, "width": 8, "height": 8},
{"id": 11, "file_name": "f11.png", "video_id": 1, "frame_index": 0, "width": 8, "height": 8},
{"id": 12, "file_name": "f12.png", "video_id": 1, "frame_index": 0, "width": 8, "height": 8},
{"id": 13, "file_name": "f13.png", "video_id": 2, "frame_index": 0, "width": 8, "height": 8},
{"id": 14, "name": "solo", "file_name": "/abs/f14.png", "width": 8, "height": 8}
],
"tracks": [{"id": "t-a", "name": "A"}, {"id": 5, "name": "B"}],
"annotations": [
{"score": 0.5, "id": 100, "image_id": 10, "category_id": 3, "track_id": "t-a", "bbox": [1, 2, 3, 4]},
{"id": 101, "image_id": 11, "category_id": 3, "track_id": "t-a", "bbox": [1, 2, 3, 4], "iscrowd": true},
{"id": 102, "image_id": 11, "category_id": 7, "track_id": 5, "weight": Infinity, "area": -Infinity},
{"id": 103, "image_id": 14, "caption": "a \"quoted\" NaN", "segmentation": [[0, 0, 4, 0, 4, NaN]]}
],
"my_top_level": {"k": [1, 2]}
}"#;

fn small() -> CocoDataset {
    CocoDataset::from_json_str(SMALL, "/data/bundle").unwrap()
}

#[test]
fn index_queries_are_ordered() {
    let ds = small();
    // frames by frame_index, ties by id
    assert_eq!(
        ds.images_of_video(VideoId(1)),
        &[ImageId(11), ImageId(12), ImageId(10)]
    );
    assert_eq!(ds.images_of_video(VideoId(2)), &[ImageId(13)]);
    assert_eq!(ds.images_of_video(VideoId(99)), &[] as &[ImageId]);
    assert_eq!(
        ds.annots_of_image(ImageId(11)),
        &[AnnotId(101), AnnotId(102)]
    );
    assert_eq!(
        ds.annots_of_category(CategoryId(3)),
        &[AnnotId(100), AnnotId(101)]
    );
    assert_eq!(
        ds.annots_of_track(&TrackId::from("t-a")),
        &[AnnotId(100), AnnotId(101)]
    );
    assert_eq!(ds.annots_of_track(&TrackId::Int(5)), &[AnnotId(102)]);
    assert_eq!(ds.track_by_name("B").unwrap().id, TrackId::Int(5));
    assert_eq!(ds.image_by_name("solo").unwrap().id, ImageId(14));
    assert_eq!(ds.video_by_name("v1").unwrap().extra["fps"], 30);
    assert_eq!(ds.category(CategoryId(3)).unwrap().extra["extra_cat"], 1);
    assert_eq!(
        ds.resolve_path("f10.png"),
        std::path::Path::new("/data/bundle/f10.png")
    );
    assert_eq!(
        ds.resolve_path("/abs/f14.png"),
        std::path::Path::new("/abs/f14.png")
    );
    let images: Vec<i64> = ds.images().iter().map(|g| g.id.0).collect();
    assert_eq!(images, vec![10, 11, 12, 13, 14]);
}

#[test]
fn special_values_round_trip() {
    let ds = small();
    let a = ds.annotation(AnnotId(102)).unwrap();
    assert_eq!(a.weight(), Some(f64::INFINITY));
    assert_eq!(a.area, Some(f64::NEG_INFINITY));
    let a = ds.annotation(AnnotId(101)).unwrap();
    assert!(a.is_crowd());
    assert_eq!(a.iscrowd, None);
    let a = ds.annotation(AnnotId(103)).unwrap();
    assert_eq!(a.caption(), Some("a \"quoted\" NaN"));
    assert_eq!(a.segmentation_json().unwrap(), "[[0, 0, 4, 0, 4, NaN]]");
    let out = ds.to_json_string(DumpStyle::Pretty);
    assert!(
        out.contains(r#""weight": Infinity, "area": -Infinity"#),
        "{out}"
    );
    assert!(out.contains(r#""iscrowd": true"#));
    assert!(out.contains(r#""segmentation": [[0, 0, 4, 0, 4, NaN]]"#));
    // key order of records is kept: score first, as in the input
    assert!(
        out.contains(r#"{"score": 0.5, "id": 100, "image_id": 10"#),
        "{out}"
    );
    // table order and top-level extras are kept
    let pos = |k: &str| out.find(&format!("\"{k}\":")).unwrap();
    assert!(
        pos("info") < pos("categories")
            && pos("tracks") < pos("annotations")
            && pos("annotations") < pos("my_top_level")
    );
    let again = CocoDataset::from_json_str(&out, "/data/bundle").unwrap();
    assert_eq!(again.to_json_string(DumpStyle::Pretty), out);
    assert_eq!(again.annotations(), ds.annotations());
    assert_eq!(again.extra()["my_top_level"]["k"][1], 2);
}

#[test]
fn errors_name_table_record_and_field() {
    let cases = [
        (
            r#"{"annotations": [{"id": 1, "image_id": 1, "bbox": [1, 2, 3]}]}"#,
            "annotations[0] (id 1): field `bbox`",
        ),
        (
            r#"{"annotations": [{"image_id": 1}]}"#,
            "annotations[0]: missing field `id`",
        ),
        (
            r#"{"images": [{"id": 1}, {"id": "x"}]}"#,
            "images[1]: field `id`",
        ),
        (
            r#"{"images": [{"id": 1, "width": -3}]}"#,
            "images[0] (id 1): field `width`",
        ),
        (r#"{"images": {"id": 1}}"#, "`images`"),
        (
            r#"{"categories": [{"id": 1, "name": "a", "name": "b"}]}"#,
            "duplicate key `name`",
        ),
        (
            r#"{"images": [], "images": []}"#,
            "duplicate top-level key `images`",
        ),
        (
            r#"{"videos": [{"id": 1, "width": 3.5}]}"#,
            "videos[0] (id 1): field `width`",
        ),
        (
            r#"{"images": [{"id": 1, "assets": [{"file_name": 3}]}]}"#,
            "images[0] (id 1): field `assets`",
        ),
        (r#"[1, 2]"#, "kwcoco dataset"),
        (
            r#"{"images": [{"id": 1}, 7]}"#,
            "images[1]: invalid type: integer `7`",
        ),
        (r#"{"images": [{"id": 1}]} trailing"#, "trailing"),
    ];
    for (text, needle) in cases {
        let err = CocoDataset::from_json_str(text, ".").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains(needle), "{needle:?} not in {msg:?}");
        assert!(matches!(err, Error::Json { line: 1, .. }), "{err:?}");
    }
    // position: line and column of the offending record
    let err = CocoDataset::from_json_str("{\"images\": [\n{\"id\": 1},\n{\"id\": null}\n]}", ".")
        .unwrap_err();
    match err {
        Error::Json { line, column, .. } => assert_eq!((line, column), (3, 11)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn files_zip_and_bundle_dirs_load() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = small();
    // bundle dir
    let bundle = tmp.path().join("bundle");
    std::fs::create_dir(&bundle).unwrap();
    ds.dump(bundle.join("data.kwcoco.json"), DumpStyle::Compact)
        .unwrap();
    let back = CocoDataset::load(&bundle).unwrap();
    assert_eq!(back.bundle_dir(), std::path::absolute(&bundle).unwrap());
    assert_eq!(back.images(), ds.images());
    // zip written by dump, read back; bundle dir is the zip's directory
    let zpath = tmp.path().join("ds.kwcoco.zip");
    ds.dump(&zpath, DumpStyle::Pretty).unwrap();
    let back = CocoDataset::load(&zpath).unwrap();
    assert_eq!(back.annotations(), ds.annotations());
    assert_eq!(back.bundle_dir(), std::path::absolute(tmp.path()).unwrap());
    // a zip with two JSON files is refused by name
    let f = std::fs::File::create(tmp.path().join("two.zip")).unwrap();
    let mut z = zip::ZipWriter::new(f);
    for n in ["a.json", "b.json"] {
        z.start_file(n, zip::write::SimpleFileOptions::default())
            .unwrap();
        z.write_all(b"{}").unwrap();
    }
    z.finish().unwrap();
    let err = CocoDataset::load(tmp.path().join("two.zip"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("two.zip") && err.contains("a.json, b.json"),
        "{err}"
    );
    // a truncated file: the error names the file and the position
    std::fs::write(tmp.path().join("t.json"), "{\"images\": [{\"id\": 1}").unwrap();
    let err = CocoDataset::load(tmp.path().join("t.json")).unwrap_err();
    assert!(
        matches!(&err, Error::Json { path: Some(p), line: 1, .. } if p.ends_with("t.json")),
        "{err:?}"
    );
    // dump is atomic: no temporary file left behind
    let names: Vec<_> = std::fs::read_dir(&bundle)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1);
}

#[test]
fn adds_allocate_ids_like_kwcoco_and_check_duplicates() {
    let mut ds = small();
    // next id = max + 1; not reused after removal
    let a = ds.add_annotation(Annotation::new(ImageId(10))).unwrap();
    assert_eq!(a, AnnotId(104));
    ds.remove_annotations(&[a]);
    assert_eq!(
        ds.add_annotation(Annotation::new(ImageId(10))).unwrap(),
        AnnotId(105)
    );
    // explicit ids move the counter
    let mut ann = Annotation::new(ImageId(10));
    ann.id = AnnotId(500);
    ds.insert_annotation(ann.clone()).unwrap();
    assert_eq!(
        ds.add_annotation(Annotation::new(ImageId(10))).unwrap(),
        AnnotId(501)
    );
    // duplicates and dangling references are refused with clear errors
    let err = ds.insert_annotation(ann).unwrap_err().to_string();
    assert_eq!(err, "annotations: id 500 already exists");
    let err = ds
        .add_annotation(Annotation::new(ImageId(999)))
        .unwrap_err()
        .to_string();
    assert!(err.contains("images: no record with id 999"), "{err}");
    let err = ds
        .add_category(Category::new("cat"))
        .unwrap_err()
        .to_string();
    assert_eq!(err, "categories: name \"cat\" already exists");
    assert!(ds.add_image(Image::new("f10.png")).is_err());
    assert!(ds.add_video(Video::new("v1")).is_err());
    assert!(ds.add_track(Track::new("A")).is_err());
    let mut img = Image::new("new.png");
    img.video_id = Some(VideoId(42));
    assert!(matches!(
        ds.add_image(img),
        Err(Error::NotFound {
            table: "videos",
            ..
        })
    ));
    // ensure_* returns existing or adds
    assert_eq!(ds.ensure_category("dog").unwrap(), CategoryId(7));
    assert_eq!(ds.ensure_category("bird").unwrap(), CategoryId(8));
    assert_eq!(ds.ensure_image("f11.png").unwrap(), ImageId(11));
    assert_eq!(ds.ensure_image("g.png").unwrap(), ImageId(15));
    assert_eq!(ds.ensure_track("C").unwrap(), TrackId::Int(6));
    assert_eq!(ds.ensure_video("v3").unwrap(), VideoId(3));
    // a new frame goes to its place in the video
    let mut f = Image::new("f-mid.png");
    f.video_id = Some(VideoId(1));
    f.frame_index = Some(1);
    let gid = ds.add_image(f).unwrap();
    assert_eq!(
        ds.images_of_video(VideoId(1)),
        &[ImageId(11), ImageId(12), gid, ImageId(10)]
    );
    // an empty dataset starts at 1
    let mut empty = CocoDataset::new();
    assert_eq!(
        empty.add_category(Category::new("x")).unwrap(),
        CategoryId(1)
    );
}

#[test]
fn edits_through_guards_keep_the_index() {
    let mut ds = small();
    {
        let mut a = ds.annotation_mut(AnnotId(100)).unwrap();
        a.image_id = ImageId(13);
        a.category_id = Some(CategoryId(7));
    }
    assert_eq!(ds.annots_of_image(ImageId(10)), &[] as &[AnnotId]);
    assert_eq!(ds.annots_of_image(ImageId(13)), &[AnnotId(100)]);
    assert_eq!(
        ds.annots_of_category(CategoryId(7)),
        &[AnnotId(100), AnnotId(102)]
    );
    ds.image_mut(ImageId(10)).unwrap().frame_index = Some(-1);
    assert_eq!(ds.images_of_video(VideoId(1))[0], ImageId(10));
    ds.category_mut(CategoryId(7)).unwrap().name = "hound".into();
    assert!(ds.category_by_name("dog").is_none());
    assert_eq!(ds.category_by_name("hound").unwrap().id, CategoryId(7));
}

#[test]
fn removals_cascade() {
    let mut ds = small();
    let r = ds.remove_videos(&[VideoId(1)]);
    assert_eq!((r.videos, r.images, r.annotations), (1, 3, 3));
    assert!(ds.image(ImageId(11)).is_none());
    assert!(ds.annotation(AnnotId(102)).is_none());
    assert_eq!(ds.images().len(), 2);

    let mut ds = small();
    let r = ds.remove_categories(&[CategoryId(3)], KeepAnnots::Yes);
    assert_eq!((r.categories, r.annotations), (1, 0));
    assert_eq!(ds.annotation(AnnotId(100)).unwrap().category_id, None);
    let r = ds.remove_categories(&[CategoryId(7)], KeepAnnots::No);
    assert_eq!(r.annotations, 1);
    let r = ds.remove_categories(&[CategoryId(1)], KeepAnnots::No);
    assert_eq!(r.categories, 1);

    let mut ds = small();
    let r = ds.remove_tracks(&[TrackId::from("t-a")], KeepAnnots::No);
    assert_eq!((r.tracks, r.annotations), (1, 2));
    assert!(ds.annots_of_track(&TrackId::from("t-a")).is_empty());

    let mut ds = small();
    let r = ds.remove_images(&[ImageId(11), ImageId(777)]);
    assert_eq!((r.images, r.annotations), (1, 2));
    assert_eq!(ds.images_of_video(VideoId(1)), &[ImageId(12), ImageId(10)]);
}

#[test]
fn rename_and_merge_categories() {
    let mut ds = small();
    ds.rename_categories(&[("animal", "creature")]).unwrap();
    assert_eq!(
        ds.category(CategoryId(3)).unwrap().supercategory.as_deref(),
        Some("creature")
    );
    ds.rename_categories(&[("dog", "cat")]).unwrap();
    assert!(ds.category(CategoryId(7)).is_none());
    assert_eq!(
        ds.annots_of_category(CategoryId(3)),
        &[AnnotId(100), AnnotId(101), AnnotId(102)]
    );
    assert!(matches!(
        ds.rename_categories(&[("nope", "x")]),
        Err(Error::NotFound { .. })
    ));
}

#[test]
fn union_remaps_ids_and_reroots_paths() {
    let a = small();
    let mut b = small();
    b.set_bundle_dir("/data/other");
    // names must stay unique: rename b's images and videos
    b.modify_images(|g| {
        if let Some(n) = &mut g.name {
            n.push_str("-b");
        }
    });
    let err = CocoDataset::union(&[&a, &b], None).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Duplicate {
                table: "images",
                ..
            }
        ),
        "{err:?}"
    );
    b.modify_images(|g| {
        if let Some(f) = &mut g.file_name
            && !f.starts_with('/')
        {
            f.insert_str(0, "b/");
        }
    });
    b.image_mut(ImageId(14)).unwrap().file_name = Some("/abs/other.png".into());
    let u = CocoDataset::union(&[&a, &b], Some("/data".as_ref())).unwrap();
    assert_eq!(u.categories().len(), 3);
    assert_eq!(u.videos().len(), 4, "videos kept apart (kwcoco)");
    let mut vnames: Vec<&str> = u
        .videos()
        .iter()
        .filter_map(|v| v.name.as_deref())
        .collect();
    vnames.sort();
    let mut want: Vec<String> = a.videos().iter().filter_map(|v| v.name.clone()).collect();
    want.extend(want.clone().into_iter().map(|n| format!("{n}_v001")));
    want.sort();
    assert_eq!(vnames, want);
    assert_eq!(u.images().len(), 10);
    assert_eq!(u.annotations().len(), 8);
    assert_eq!(u.tracks().len(), 4);
    assert_eq!(
        u.track_by_name("A_v001").map(|t| t.name.is_some()),
        Some(true)
    );
    // every reference resolves and every file still points at the same place
    let report = u.validate_with(coco_model::ValidateOptions {
        check_files: false,
        check_geometry: false,
    });
    // (videos merged by name keep their frames' `frame_index`, so the merged
    // videos repeat indexes: `validate` reports that, which is not under test here)
    let errors: Vec<_> = report
        .errors()
        .filter(|d| d.field.as_deref() != Some("frame_index"))
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let f = |ds: &CocoDataset, g: &Image| ds.resolve_path(g.file_name.as_deref().unwrap());
    let resolved: Vec<_> = u
        .images()
        .iter()
        .map(|g| coco_model::paths::normalize(&f(&u, g)))
        .collect();
    assert!(resolved.contains(&"/data/bundle/f10.png".into()));
    assert!(resolved.contains(&"/data/other/b/f10.png".into()));
    assert_eq!(u.images()[0].file_name.as_deref(), Some("bundle/f10.png"));
    // b's copies: same category names, fresh ids
    let cat = u.category_by_name("cat").unwrap().id;
    assert_eq!(u.annots_of_category(cat).len(), 4);
    let ids: std::collections::HashSet<_> = u.annotations().iter().map(|a| a.id).collect();
    assert_eq!(ids.len(), 8);
}

#[test]
fn subset_keeps_what_the_images_need() {
    let ds = small();
    let sub = ds.subset(&[ImageId(11), ImageId(14)]);
    assert_eq!(sub.images().len(), 2);
    assert_eq!(sub.annotations().len(), 3);
    assert_eq!(sub.videos().len(), 1);
    assert_eq!(sub.tracks().len(), 2);
    assert_eq!(sub.categories().len(), 3);
    assert_eq!(sub.images_of_video(VideoId(1)), &[ImageId(11)]);
    assert!(
        sub.validate_with(coco_model::ValidateOptions {
            check_files: false,
            check_geometry: false
        })
        .is_valid()
    );
}

#[test]
fn validate_reports_each_problem_once() {
    use coco_model::validate::Problem;
    let text = r#"{
      "categories": [{"id": 1, "name": "a"}, {"id": 1, "name": "b", "supercategory": "zzz"}],
      "keypoint_categories": [{"id": 1, "name": "k", "reflection_id": 9}],
      "videos": [{"id": 1, "name": "v"}],
      "images": [{"id": 1, "file_name": "x.png", "video_id": 1, "frame_index": 0, "width": 2, "height": 2, "channels": "a||b"},
                 {"id": 2, "video_id": 1, "frame_index": 0, "width": 2, "height": 2, "warp_img_to_vid": {"type": "affine", "scale": "big"}},
                 {"id": 3, "file_name": "y.png", "video_id": 5, "frame_index": 1}],
      "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1, NaN]},
                      {"id": 2, "image_id": 1, "keypoints": [1, 2]}]
    }"#;
    let ds = CocoDataset::from_json_str(text, "/nonexistent").unwrap();
    let r = ds.validate();
    let has = |p: Problem, table: &str, id: &str, field: &str| {
        r.diagnostics.iter().any(|d| {
            d.problem == p
                && d.table == table
                && d.id.as_deref() == Some(id)
                && d.field.as_deref() == Some(field)
        })
    };
    assert!(has(Problem::DuplicateId, "categories", "1", "id"));
    assert!(has(
        Problem::DanglingReference,
        "categories",
        "1",
        "supercategory"
    ));
    assert!(has(
        Problem::DanglingReference,
        "keypoint_categories",
        "1",
        "reflection_id"
    ));
    assert!(has(Problem::DuplicateId, "images", "1", "frame_index"));
    assert!(has(Problem::BadValue, "images", "1", "channels"));
    assert!(has(Problem::BadValue, "images", "2", "warp_img_to_vid"));
    assert!(has(Problem::MissingField, "images", "2", "file_name"));
    assert!(has(Problem::DanglingReference, "images", "3", "video_id"));
    assert!(has(Problem::BadValue, "annotations", "1", "bbox"));
    assert!(has(Problem::BadValue, "annotations", "2", "keypoints"));
    assert!(has(Problem::MissingFile, "images", "1", "file_name"));
    assert!(!r.is_valid());
    let n = r.diagnostics.len();
    assert_eq!(ds.validate().diagnostics.len(), n, "deterministic");
}

#[test]
fn stats_count_and_summarise() {
    let ds = small();
    let s = ds.stats();
    assert_eq!(
        (s.images, s.annotations, s.videos, s.tracks, s.categories),
        (5, 4, 2, 2, 3)
    );
    assert_eq!(s.uncategorized, 1);
    assert_eq!(s.with_segmentation, 1);
    assert_eq!(s.images_without_annotations, 2);
    assert_eq!(s.box_width.count, 2);
    let cat = s.per_category.iter().find(|c| c.name == "cat").unwrap();
    assert_eq!((cat.annotations, cat.images), (2, 2));
    let text = s.to_string();
    assert!(text.contains("annotations:         4"), "{text}");
}

#[test]
fn reroot_keeps_files_in_place() {
    let mut ds = small();
    ds.reroot("/data", false);
    assert_eq!(
        ds.image(ImageId(10)).unwrap().file_name.as_deref(),
        Some("bundle/f10.png")
    );
    assert_eq!(
        ds.image(ImageId(14)).unwrap().file_name.as_deref(),
        Some("../abs/f14.png")
    );
    assert_eq!(
        ds.image_by_file_name("bundle/f11.png").unwrap().id,
        ImageId(11)
    );
    ds.reroot("/elsewhere", true);
    assert_eq!(
        ds.image(ImageId(10)).unwrap().file_name.as_deref(),
        Some("/data/bundle/f10.png")
    );
}

/// Two datasets whose ids all collide; every record says where it came from
/// (`src` extras, captions, file names).
fn union_inputs() -> (CocoDataset, CocoDataset) {
    let a = CocoDataset::from_json_str(
        r#"{"categories": [{"id": 1, "name": "cat"}],
        "videos": [{"id": 1, "name": "v1", "src": "a"}],
        "images": [{"id": 1, "file_name": "a1.png", "video_id": 1, "frame_index": 0},
                   {"id": 2, "file_name": "a2.png"}],
        "tracks": [{"id": 1, "name": "T", "src": "a"}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "track_id": 1, "caption": "a1"},
                        {"id": 2, "image_id": 2, "category_id": 1, "caption": "a2"}]}"#,
        "/d/a",
    )
    .unwrap();
    let b = CocoDataset::from_json_str(
        r#"{"categories": [{"id": 1, "name": "dog"}, {"id": 2, "name": "cat"}],
        "videos": [{"id": 1, "name": "vb", "src": "b"}, {"id": 2, "name": "v1", "src": "b"}],
        "images": [{"id": 1, "file_name": "b1.png", "video_id": 1, "frame_index": 0},
                   {"id": 2, "file_name": "b2.png", "video_id": 2, "frame_index": 1},
                   {"id": 3, "file_name": "b3.png"}],
        "tracks": [{"id": 1, "name": "T", "src": "b"}, {"id": 2, "name": "U", "src": "b"}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 2, "track_id": 1, "caption": "b1"},
                        {"id": 2, "image_id": 2, "category_id": 1, "track_id": 2, "caption": "b2"},
                        {"id": 3, "image_id": 3, "category_id": 2, "caption": "b3"}]}"#,
        "/d/b",
    )
    .unwrap();
    (a, b)
}

#[test]
fn union_points_the_second_datasets_annotations_at_its_copies() {
    let (a, b) = union_inputs();
    let u = CocoDataset::union(&[&a, &b], Some("/d".as_ref())).unwrap();
    assert_eq!(u.annotations().len(), 5);
    // (caption → file, video name, track source, category name)
    type Row<'a> = (&'a str, &'a str, Option<&'a str>, Option<&'a str>, &'a str);
    let expect: [Row; 5] = [
        ("a1", "a/a1.png", Some("v1"), Some("a"), "cat"),
        ("a2", "a/a2.png", None, None, "cat"),
        ("b1", "b/b1.png", Some("vb"), Some("b"), "cat"),
        // kwcoco keeps the second input's video apart, renamed
        ("b2", "b/b2.png", Some("v1_v001"), Some("b"), "dog"),
        ("b3", "b/b3.png", None, None, "cat"),
    ];
    let mut track_ids = Vec::new();
    for (caption, file, video, track_src, cat) in expect {
        let ann = u
            .annotations()
            .iter()
            .find(|x| x.caption() == Some(caption))
            .unwrap_or_else(|| panic!("annotation {caption} lost"));
        let img = u.image(ann.image_id).unwrap();
        assert_eq!(img.file_name.as_deref(), Some(file), "{caption}: image");
        assert!(u.annots_of_image(img.id).contains(&ann.id), "{caption}");
        let vname = img
            .video_id
            .map(|v| u.video(v).unwrap().name.clone().unwrap());
        assert_eq!(vname.as_deref(), video, "{caption}: video");
        if let Some(v) = img.video_id {
            assert!(u.images_of_video(v).contains(&img.id), "{caption}");
        }
        let cid = ann.category_id.unwrap();
        assert_eq!(u.category(cid).unwrap().name, cat, "{caption}: category");
        match (ann.track_id(), track_src) {
            (Some(t), Some(src)) => {
                let track = u.track(t).unwrap();
                assert_eq!(track.extra["src"], src, "{caption}: track");
                assert!(u.annots_of_track(t).contains(&ann.id));
                track_ids.push(t.clone());
            }
            (None, None) => {}
            (t, want) => panic!("{caption}: track {t:?}, want one from {want:?}"),
        }
    }
    // The two tracks named "T" stay apart; b's gets a fresh name.
    assert_eq!(u.tracks().len(), 3);
    assert_ne!(track_ids[0], track_ids[1]);
    let names: std::collections::HashSet<_> =
        u.tracks().iter().map(|t| t.name.clone().unwrap()).collect();
    assert_eq!(names.len(), 3, "{names:?}");
    // a's "v1" and b's "v1" stay apart (kwcoco renames the second), each
    // with its own input's frames.
    assert_eq!(u.videos().len(), 3);
    for (name, want) in [("v1", ["a/a1.png"]), ("v1_v001", ["b/b2.png"])] {
        let v = u.video_by_name(name).unwrap().id;
        let frames: Vec<_> = u
            .images_of_video(v)
            .iter()
            .map(|g| u.image(*g).unwrap().file_name.clone().unwrap())
            .collect();
        assert_eq!(frames, want, "{name}");
    }
}

#[test]
fn union_renames_reused_track_names_as_kwcoco_does() {
    let mk = |root: &str, file: &str| {
        CocoDataset::from_json_str(
            &format!(
                r#"{{"images": [{{"id": 1, "file_name": "{file}"}}],
                "tracks": [{{"id": 1, "name": "T"}}, {{"id": 2, "name": "{file}-only"}}],
                "annotations": [{{"id": 1, "image_id": 1, "track_id": 1}}]}}"#
            ),
            root,
        )
        .unwrap()
    };
    let (a, b, c) = (
        mk("/d/a", "a.png"),
        mk("/d/b", "b.png"),
        mk("/d/c", "c.png"),
    );
    let u = CocoDataset::union(&[&a, &b, &c], Some("/d".as_ref())).unwrap();
    let names: Vec<String> = u.tracks().iter().map(|t| t.name.clone().unwrap()).collect();
    // First come keeps its name; names not yet used are kept as they are.
    assert_eq!(
        names,
        [
            "T",
            "a.png-only",
            "T_v001",
            "b.png-only",
            "T_v002",
            "c.png-only"
        ]
    );
    // Each annotation points at its own dataset's "T".
    for (file, name) in [
        ("a/a.png", "T"),
        ("b/b.png", "T_v001"),
        ("c/c.png", "T_v002"),
    ] {
        let img = u
            .images()
            .iter()
            .find(|g| g.file_name.as_deref() == Some(file))
            .unwrap();
        let aid = u.annots_of_image(img.id)[0];
        let t = u.annotation(aid).unwrap().track_id().cloned().unwrap();
        assert_eq!(u.track(&t).unwrap().name.as_deref(), Some(name), "{file}");
    }
}

#[test]
fn union_keeps_loose_track_ids_and_dangling_videos_apart() {
    // Annotations with a track id but no track record, and an image whose
    // video does not exist: both survive the union, and the two inputs' loose
    // track "x" do not merge.
    let mk = |root: &str, file: &str| {
        CocoDataset::from_json_str(
            &format!(
                r#"{{"images": [{{"id": 1, "file_name": "{file}", "video_id": 99, "frame_index": 0}},
                               {{"id": 2, "file_name": "{file}2"}}],
                "annotations": [{{"id": 1, "image_id": 1, "track_id": "x"}},
                                {{"id": 2, "image_id": 2, "track_id": "x"}}]}}"#
            ),
            root,
        )
        .unwrap()
    };
    let (a, b) = (mk("/d/a", "a.png"), mk("/d/b", "b.png"));
    let u = CocoDataset::union(&[&a, &b], Some("/d".as_ref())).unwrap();
    assert_eq!(u.images().len(), 4);
    let by_file = |f: &str| {
        u.images()
            .iter()
            .find(|g| g.file_name.as_deref() == Some(f))
            .unwrap_or_else(|| panic!("{f} lost"))
    };
    for f in ["a/a.png", "b/b.png"] {
        let g = by_file(f);
        assert_eq!(
            g.video_id,
            Some(VideoId(99)),
            "{f}: dangling reference kept"
        );
        assert_eq!(u.image(g.id).unwrap().file_name.as_deref(), Some(f));
        assert_eq!(u.annots_of_image(g.id).len(), 1, "{f}");
    }
    let track_of = |f: &str| {
        let aid = u.annots_of_image(by_file(f).id)[0];
        u.annotation(aid).unwrap().track_id().cloned().unwrap()
    };
    // Within one input the loose track is shared; across inputs it is not.
    assert_eq!(track_of("a/a.png"), track_of("a/a.png2"));
    assert_eq!(track_of("b/b.png"), track_of("b/b.png2"));
    assert_ne!(track_of("a/a.png"), track_of("b/b.png"));
    assert_eq!(track_of("a/a.png"), TrackId::from("x"));
}

/// kwcoco 0.9.1 answer: `CocoDataset.union` of two datasets with a video
/// "v1", an image "im" and a track "T" each gives `v1`/`v1_v001`,
/// `im`/`im_v001`, `T`/`T_v001`, each image in its own input's video.
#[test]
fn union_renames_duplicate_names_as_kwcoco_does() {
    let mk = |root: &str, file: &str| {
        CocoDataset::from_json_str(
            &format!(
                r#"{{"videos": [{{"id": 1, "name": "v1"}}],
                "images": [{{"id": 1, "file_name": "{file}", "video_id": 1, "name": "im", "frame_index": 0}}],
                "tracks": [{{"id": 1, "name": "T"}}]}}"#
            ),
            root,
        )
        .unwrap()
    };
    let u = CocoDataset::union(&[&mk("/d", "a.png"), &mk("/d", "b.png")], None).unwrap();
    let names = |v: Vec<Option<String>>| v.into_iter().map(Option::unwrap).collect::<Vec<_>>();
    assert_eq!(
        names(u.videos().iter().map(|v| v.name.clone()).collect()),
        ["v1", "v1_v001"]
    );
    assert_eq!(
        names(u.tracks().iter().map(|t| t.name.clone()).collect()),
        ["T", "T_v001"]
    );
    let imgs: Vec<(String, String)> = u
        .images()
        .iter()
        .map(|g| {
            let v = u.video(g.video_id.unwrap()).unwrap();
            (g.name.clone().unwrap(), v.name.clone().unwrap())
        })
        .collect();
    assert_eq!(
        imgs,
        [
            ("im".to_string(), "v1".to_string()),
            ("im_v001".to_string(), "v1_v001".to_string())
        ]
    );
}

/// A bundle directory's manifest is found under every name kwcoco tries;
/// two candidates are ambiguous and none is an error naming the directory.
#[test]
fn bundle_manifests_are_found_as_kwcoco_finds_them() {
    let body = r#"{"images": [{"id": 1, "file_name": "x.png"}]}"#;
    for name in [
        "data",
        "data.json",
        "data.kwcoco.json",
        "train.kwcoco.json",
        "val.mscoco.json",
    ] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(name), body).unwrap();
        // images and other files do not count
        std::fs::write(dir.path().join("x.png"), b"").unwrap();
        std::fs::create_dir(dir.path().join("images")).unwrap();
        let ds = CocoDataset::load(dir.path()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(ds.images().len(), 1, "{name}");
        assert_eq!(ds.fpath().unwrap().file_name().unwrap(), name);
    }
    let dir = tempfile::tempdir().unwrap();
    let e = CocoDataset::load(dir.path()).unwrap_err().to_string();
    assert!(e.contains("no dataset manifest"), "{e}");
    std::fs::write(dir.path().join("data.json"), body).unwrap();
    std::fs::write(dir.path().join("a.kwcoco.json"), body).unwrap();
    let e = CocoDataset::load(dir.path()).unwrap_err().to_string();
    assert!(
        e.contains("ambiguous") && e.contains("data.json") && e.contains("a.kwcoco.json"),
        "{e}"
    );
}

/// kwcoco 0.9.1 answers (`dset.conform()` on the `forms` fixture's
/// annotations plus two more, frames of one video without sizes): areas from
/// GeoJSON with a hole (1100), a MultiPolygon (650), a row-major RLE traced as
/// kwimage does (16.5), boxes (900, 14), a flat polygon (50); `ignore` from
/// `weight < 0.5`; an existing `iscrowd` kept; sizes from the files and the
/// video's from its frames.
#[test]
fn conform_fills_what_kwcoco_fills() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/forms");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("data.kwcoco.json")).unwrap())
            .unwrap();
    v["videos"] = serde_json::json!([{"id": 1, "name": "v"}]);
    v["images"] = serde_json::json!([
        {"id": 1, "file_name": "../shapes4/images/img_00001.png", "video_id": 1, "frame_index": 0},
        {"id": 2, "file_name": "../shapes4/images/img_00002.png", "video_id": 1, "frame_index": 1}]);
    let anns = v["annotations"].as_array_mut().unwrap();
    anns.push(serde_json::json!({"id": 8, "image_id": 2, "category_id": 3, "bbox": [1, 2, 3.5, 4], "weight": 0.25}));
    anns.push(serde_json::json!({"id": 9, "image_id": 2, "category_id": 3, "segmentation": [[0, 0, 10, 0, 10, 10]], "iscrowd": 1}));
    let mut ds = CocoDataset::from_json_str(&v.to_string(), &dir).unwrap();
    let mut asked = Vec::new();
    let report = ds
        .conform(coco_model::ConformOptions::default(), |p| {
            asked.push(p.file_name().unwrap().to_string_lossy().into_owned());
            Ok((400, 400))
        })
        .unwrap();
    assert_eq!(asked, ["img_00001.png", "img_00002.png"]);
    assert_eq!(report.sized_images, 2);
    assert_eq!(report.sized_videos, 1);
    assert_eq!(
        (ds.videos()[0].width, ds.videos()[0].height),
        (Some(400), Some(400))
    );
    let want = [
        (1, 1100.0, 0, false),
        (2, 650.0, 0, false),
        (3, 16.5, 0, false),
        (4, 900.0, 0, false),
        (5, 900.0, 0, false),
        (6, 900.0, 0, false),
        (7, 900.0, 0, false),
        (8, 14.0, 0, true),
        (9, 50.0, 1, false),
    ];
    for (id, area, crowd, ignore) in want {
        let a = ds.annotation(AnnotId(id)).unwrap();
        assert_eq!(a.area, Some(area), "annotation {id}: area");
        assert_eq!(a.iscrowd, Some(crowd), "annotation {id}: iscrowd");
        assert_eq!(
            a.extra.get("ignore"),
            Some(&serde_json::Value::Bool(ignore)),
            "{id}"
        );
    }
    // a second run changes nothing; a size that cannot be read names the image
    let again = ds
        .conform(coco_model::ConformOptions::default(), |_| Err("x".into()))
        .unwrap();
    assert_eq!(again, coco_model::ConformReport::default());
    let mut bare = CocoDataset::from_json_str(
        r#"{"images": [{"id": 7, "file_name": "gone.png"}]}"#,
        "/nowhere",
    )
    .unwrap();
    let e = bare
        .conform(coco_model::ConformOptions::default(), |_| {
            Err("no such file".into())
        })
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("images id 7") && e.contains("gone.png") && e.contains("no such file"),
        "{e}"
    );
}
