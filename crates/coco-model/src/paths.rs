//! File names and the bundle directory: re-rooting, relative paths.

use std::path::{Component, Path, PathBuf};

use crate::dataset::CocoDataset;

/// Whether `name` is a URL of a remote object store (`s3://`, `s3a://`,
/// `gs://`, `az://`, `azure://`, `abfs(s)://`, `adl://`, `http(s)://`): such
/// file names are never joined to the bundle directory, and a bundle
/// directory that is one joins names with `/`. Reading them needs
/// frame-backends' `remote` feature.
///
/// ```
/// assert!(coco_model::paths::is_url("s3://bucket/a.tif"));
/// assert!(!coco_model::paths::is_url("/data/a.tif"));
/// ```
pub fn is_url(name: &str) -> bool {
    let Some((scheme, rest)) = name.split_once("://") else {
        return false;
    };
    !rest.is_empty()
        && matches!(
            scheme.to_ascii_lowercase().as_str(),
            "s3" | "s3a" | "gs" | "az" | "azure" | "abfs" | "abfss" | "adl" | "http" | "https"
        )
}

/// Lexically normalises a path (`.` removed, `a/..` folded) without touching the disk.
pub fn normalize(p: &Path) -> PathBuf {
    let mut out: Vec<Component<'_>> = Vec::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir) | Some(Component::Prefix(_)) => {}
                _ => out.push(c),
            },
            other => out.push(other),
        }
    }
    if out.is_empty() {
        return PathBuf::from(".");
    }
    out.iter().collect()
}

/// `path` relative to `base` (both absolute or both relative), with `..` as
/// needed; `None` when they do not share a root.
///
/// ```
/// use std::path::Path;
/// use coco_model::paths::relative_to;
/// assert_eq!(relative_to(Path::new("/a/b/c.png"), Path::new("/a/x")).unwrap(), Path::new("../b/c.png"));
/// assert_eq!(relative_to(Path::new("/a/b/c.png"), Path::new("/a")).unwrap(), Path::new("b/c.png"));
/// ```
pub fn relative_to(path: &Path, base: &Path) -> Option<PathBuf> {
    let path = normalize(path);
    let base = normalize(base);
    if path.is_absolute() != base.is_absolute() {
        return None;
    }
    let pc: Vec<_> = path.components().collect();
    let bc: Vec<_> = base
        .components()
        .filter(|c| *c != Component::CurDir)
        .collect();
    let pc: Vec<_> = pc.into_iter().filter(|c| *c != Component::CurDir).collect();
    let common = pc.iter().zip(&bc).take_while(|(a, b)| a == b).count();
    if path.is_absolute() && common == 0 {
        return None;
    }
    if bc[common..].contains(&Component::ParentDir) {
        return None;
    }
    let mut out = PathBuf::new();
    for _ in common..bc.len() {
        out.push("..");
    }
    for c in &pc[common..] {
        out.push(c);
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    Some(out)
}

/// Converts a path to the `/`-separated string stored in kwcoco files.
pub(crate) fn to_file_name(p: &Path) -> String {
    let s = p.to_string_lossy();
    if std::path::MAIN_SEPARATOR == '/' {
        s.into_owned()
    } else {
        s.replace(std::path::MAIN_SEPARATOR, "/")
    }
}

/// Rewrites a file name of a dataset rooted at `old` for the bundle `new`:
/// an absolute path when `absolute` (or when no relative path exists), else
/// relative to `new`.
pub(crate) fn reroot_name(name: &str, old: &Path, new: &Path, absolute: bool) -> String {
    let p = Path::new(name);
    let full = if p.is_absolute() {
        p.to_path_buf()
    } else {
        old.join(p)
    };
    let full = normalize(&full);
    if absolute {
        return to_file_name(&full);
    }
    match relative_to(&full, new) {
        Some(rel) => to_file_name(&rel),
        None => to_file_name(&full),
    }
}

impl CocoDataset {
    /// Moves the dataset to a new bundle directory, rewriting every file name
    /// (images and assets) so it still points at the same file: relative to
    /// the new directory, or absolute when `absolute` is true.
    ///
    /// ```
    /// use coco_model::CocoDataset;
    /// let mut ds = CocoDataset::from_json_str(r#"{"images": [{"id": 1, "file_name": "img/a.png"}]}"#, "/data/v1").unwrap();
    /// ds.reroot("/data/v2", false);
    /// assert_eq!(ds.images()[0].file_name.as_deref(), Some("../v1/img/a.png"));
    /// assert_eq!(ds.resolve_path("../v1/img/a.png"), std::path::Path::new("/data/v2/../v1/img/a.png"));
    /// ds.reroot("/data/v2", true);
    /// assert_eq!(ds.images()[0].file_name.as_deref(), Some("/data/v1/img/a.png"));
    /// ```
    pub fn reroot(&mut self, new_bundle_dir: impl Into<PathBuf>, absolute: bool) {
        let new = new_bundle_dir.into();
        let old = self.bundle_dir.clone();
        for img in &mut self.images {
            if let Some(f) = &mut img.file_name {
                *f = reroot_name(f, &old, &new, absolute);
            }
            if let Some(assets) = &mut img.assets {
                for a in assets {
                    if let Some(f) = &mut a.file_name {
                        *f = reroot_name(f, &old, &new, absolute);
                    }
                }
            }
        }
        self.bundle_dir = new;
        self.index.rebuild_images(&self.images);
    }

    /// kwcoco's `reroot(new_root, old_prefix, new_prefix, absolute)`: each
    /// file name (images and assets; a leading `./` dropped) that starts with
    /// `old_prefix`, or resolves to a path that does, has that prefix removed;
    /// `new_prefix` is then put in front; the result (relative names read
    /// against the current bundle directory) is rewritten for `new_root`
    /// (default: the current directory) like [`CocoDataset::reroot`].
    /// Prefixes match whole path components. Returns how many file names
    /// changed.
    ///
    /// ```
    /// use coco_model::CocoDataset;
    /// let mut ds = CocoDataset::from_json_str(r#"{"images": [
    ///   {"id": 1, "file_name": "/home/alice/data/img/a.png"},
    ///   {"id": 2, "file_name": "./img/b.png"}]}"#, "/mnt/data").unwrap();
    /// let n = ds.reroot_prefix(None, Some("/home/alice/data"), None, false);
    /// assert_eq!(n, 2);
    /// assert_eq!(ds.images()[0].file_name.as_deref(), Some("img/a.png"));
    /// assert_eq!(ds.images()[1].file_name.as_deref(), Some("img/b.png"));
    /// ds.reroot_prefix(None, Some("img"), Some("/srv/images"), false);
    /// assert_eq!(ds.images()[0].file_name.as_deref(), Some("../../srv/images/a.png"));
    /// ```
    pub fn reroot_prefix(
        &mut self,
        new_root: Option<PathBuf>,
        old_prefix: Option<&str>,
        new_prefix: Option<&str>,
        absolute: bool,
    ) -> usize {
        let old = self.bundle_dir.clone();
        let new = new_root.unwrap_or_else(|| old.clone());
        let map = |name: &str| -> String {
            let mut name = name;
            while let Some(rest) = name.strip_prefix("./") {
                name = rest;
            }
            let mut path = PathBuf::from(name);
            if let Some(op) = old_prefix {
                let op = Path::new(op);
                if let Ok(rest) = path.strip_prefix(op) {
                    path = rest.to_path_buf();
                } else if let Ok(rest) = normalize(&old.join(&path)).strip_prefix(op) {
                    path = rest.to_path_buf();
                }
            }
            if let Some(np) = new_prefix {
                path = Path::new(np).join(path);
            }
            reroot_name(&to_file_name(&path), &old, &new, absolute)
        };
        let mut changed = 0;
        for img in &mut self.images {
            let names = img.file_name.iter_mut().chain(
                img.assets
                    .iter_mut()
                    .flatten()
                    .filter_map(|a| a.file_name.as_mut()),
            );
            for f in names {
                let m = map(f);
                if m != *f {
                    *f = m;
                    changed += 1;
                }
            }
        }
        self.bundle_dir = new;
        self.index.rebuild_images(&self.images);
        changed
    }

    /// Every file the dataset refers to (main files and assets), resolved
    /// against the bundle directory, with the image that refers to it.
    pub fn referenced_files(&self) -> Vec<(crate::ImageId, PathBuf)> {
        let mut out = Vec::new();
        for img in &self.images {
            for src in img.channel_sources() {
                out.push((img.id, self.resolve_path(src.file_name)));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_folds_dots() {
        assert_eq!(normalize(Path::new("/a/./b/../c")), Path::new("/a/c"));
        assert_eq!(normalize(Path::new("../x/./y")), Path::new("../x/y"));
        assert_eq!(normalize(Path::new("/..")), Path::new("/"));
    }

    #[test]
    fn relative_paths() {
        assert_eq!(
            relative_to(Path::new("a/b"), Path::new("a")).unwrap(),
            Path::new("b")
        );
        assert_eq!(
            relative_to(Path::new("/a"), Path::new("/a")).unwrap(),
            Path::new(".")
        );
        assert_eq!(relative_to(Path::new("a"), Path::new("/a")), None);
        assert_eq!(relative_to(Path::new("x"), Path::new("../y")), None);
    }

    #[test]
    fn reroot_name_keeps_the_target() {
        let n = reroot_name(
            "img/a.png",
            Path::new("/d/old"),
            Path::new("/d/new/deeper"),
            false,
        );
        assert_eq!(n, "../../old/img/a.png");
        assert_eq!(
            normalize(&Path::new("/d/new/deeper").join(&n)),
            Path::new("/d/old/img/a.png")
        );
        assert_eq!(
            reroot_name("/abs/x.png", Path::new("/d"), Path::new("/abs"), false),
            "x.png"
        );
    }
}
