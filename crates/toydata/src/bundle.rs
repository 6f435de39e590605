//! The generated dataset's tables and the `data.kwcoco.json` file.

use std::path::{Path, PathBuf};

use coco_model::json::to_json_text;
use coco_model::record::record_from_json;
use coco_model::{
    Annotation, Category, CocoDataset, DumpStyle, Image, KeypointCategory, Track, Video,
};
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// Name of the dataset file inside the bundle directory.
pub const DATASET_FILE: &str = "data.kwcoco.json";

/// The top-level tables of a kwcoco dataset, in output order.
#[derive(Default)]
pub(crate) struct Tables {
    tables: Vec<(&'static str, Vec<Value>)>,
}

impl Tables {
    pub(crate) fn push(&mut self, name: &'static str, records: Vec<Value>) {
        self.tables.push((name, records));
    }

    pub(crate) fn len_of(&self, name: &str) -> usize {
        self.tables
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(0, |(_, r)| r.len())
    }
}

/// Write the dataset into `out_dir/data.kwcoco.json` through `coco-model`
/// (records inserted with their ids, so references are checked; kwcoco's
/// one-record-per-line layout; atomic write). Returns the file's path.
pub(crate) fn write_dataset(out_dir: &Path, tables: Tables) -> Result<PathBuf> {
    let path = out_dir.join(DATASET_FILE);
    let model_err = |source| Error::Model {
        path: path.clone(),
        source,
    };
    // An empty skeleton fixes the order of the top-level tables (kwcoco's
    // demo data writes e.g. `"info": []` and `"licenses": []` first).
    let mut skeleton = Map::new();
    for (name, _) in &tables.tables {
        skeleton.insert((*name).to_string(), Value::Array(Vec::new()));
    }
    let mut ds = CocoDataset::from_json_str(&Value::Object(skeleton).to_string(), out_dir)
        .map_err(model_err)?;
    let mut by_name: Vec<(&'static str, Vec<Value>)> = tables.tables;
    // insert in reference order (tracks before the annotations that use them)
    let rank = |n: &str| {
        [
            "info",
            "licenses",
            "categories",
            "keypoint_categories",
            "videos",
            "images",
            "tracks",
            "annotations",
        ]
        .iter()
        .position(|k| *k == n)
        .unwrap_or(usize::MAX)
    };
    by_name.sort_by_key(|(n, _)| rank(n));
    for (name, records) in by_name {
        match name {
            "info" => *ds.info_mut() = Value::Array(records),
            "licenses" => ds.licenses_mut().extend(records),
            _ => {
                for rec in records {
                    let text = to_json_text(&rec);
                    match name {
                        "categories" => {
                            ds.insert_category(
                                record_from_json::<Category>(&text).map_err(model_err)?,
                            )
                            .map_err(model_err)?;
                        }
                        "keypoint_categories" => {
                            ds.insert_keypoint_category(
                                record_from_json::<KeypointCategory>(&text).map_err(model_err)?,
                            )
                            .map_err(model_err)?;
                        }
                        "videos" => {
                            ds.insert_video(record_from_json::<Video>(&text).map_err(model_err)?)
                                .map_err(model_err)?;
                        }
                        "images" => {
                            ds.insert_image(record_from_json::<Image>(&text).map_err(model_err)?)
                                .map_err(model_err)?;
                        }
                        "tracks" => {
                            ds.insert_track(record_from_json::<Track>(&text).map_err(model_err)?)
                                .map_err(model_err)?;
                        }
                        "annotations" => {
                            ds.insert_annotation(
                                record_from_json::<Annotation>(&text).map_err(model_err)?,
                            )
                            .map_err(model_err)?;
                        }
                        other => {
                            return Err(Error::Dataset {
                                path,
                                message: format!("unknown table {other:?}"),
                            });
                        }
                    }
                }
            }
        }
    }
    ds.dump(&path, DumpStyle::Pretty).map_err(model_err)?;
    Ok(path)
}
