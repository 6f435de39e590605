//! [`CocoSampler::resolve`]: a target's frames, time span and window, in the
//! order a reader follows them: the annotation a target centres on, then the
//! frames it samples, then the time slice over them, then the spatial window.

use coco_model::{Image, ImageId, VideoId};

use super::{CocoSampler, Resolved};
use crate::error::{Error, Result};
use crate::target::{
    Span, Target, WindowDims, centered_span, check_centre, close_span, window_dims_for,
};

/// The frames a target samples: whether it is a video sample, its frame list
/// in order, and `[height, width]` of the sampled space.
struct FrameList {
    is_video: bool,
    frames: Vec<ImageId>,
    data_dims: [i64; 2],
}

impl CocoSampler {
    /// Resolve a target: infer the frames, the window and the padding.
    pub fn resolve(&self, target: &Target) -> Result<Resolved> {
        let mut t = target.clone();
        move_slices(&mut t)?;
        self.resolve_annotation(&mut t)?;
        let pad = t.pad.as_ref().map(|p| p.normalized()).unwrap_or_default();
        let list = self.resolve_frames(&mut t)?;
        let (frames, time_span) = if list.is_video {
            let (frames, span) = resolve_time(&mut t, &list.frames, pad[0])?;
            (frames, Some(span))
        } else {
            (list.frames.into_iter().map(Some).collect(), None)
        };
        let [y_span, x_span] = resolve_space(&mut t, list.data_dims)?;
        let padded = [
            [y_span[0] - pad[1][0], y_span[1] + pad[1][1]],
            [x_span[0] - pad[2][0], x_span[1] + pad[2][1]],
        ];
        Ok(Resolved {
            target: t,
            is_video: list.is_video,
            frames,
            padded,
            data_dims: list.data_dims,
            time_span,
        })
    }

    /// Annotation-centred targets: fill in the annotation's image and category,
    /// and (without a `space_slice`) its box as the centre and size.
    fn resolve_annotation(&self, t: &mut Target) -> Result<()> {
        let Some(aid) = t.annot_id else {
            return Ok(());
        };
        let ann = self.tables.annotation(aid)?.ok_or(Error::UnknownId {
            key: "annot_id",
            table: "annotation",
            id: aid.0,
        })?;
        if let Some(gid) = t.image_id
            && gid != ann.image_id
        {
            return Err(Error::BadTarget {
                key: "image_id",
                msg: format!(
                    "{gid} disagrees with annotation {aid}, which is on image {}",
                    ann.image_id
                ),
            });
        }
        t.image_id = Some(ann.image_id);
        t.category_id = t.category_id.or(ann.category_id);
        if t.space_slice.is_none() {
            let [x, y, w, h] = ann.bbox.ok_or_else(|| Error::BadTarget {
                key: "annot_id",
                msg: format!("annotation {aid} has no bbox to centre on"),
            })?;
            t.cx = t.cx.or(Some(x + w / 2.0));
            t.cy = t.cy.or(Some(y + h / 2.0));
            t.width = t.width.or(Some(w));
            t.height = t.height.or(Some(h));
        }
        Ok(())
    }

    /// The frames: the listed `image_ids` (their video inferred), a video's
    /// frames by `frame_index`, or one image.
    fn resolve_frames(&self, t: &mut Target) -> Result<FrameList> {
        if let Some(gids) = t.image_ids.clone() {
            self.listed_frames(t, &gids)
        } else if let Some(vid) = t.video_id {
            let video = self.tables.video(vid).ok_or(Error::UnknownId {
                key: "video_id",
                table: "video",
                id: vid.0,
            })?;
            let frames = self.tables.images_of_video(video.id)?;
            let Some(&first) = frames.first() else {
                return Err(Error::BadTarget {
                    key: "video_id",
                    msg: format!("video {vid} has no frames"),
                });
            };
            let data_dims = self.video_dims(Some(vid), first)?;
            Ok(FrameList {
                is_video: true,
                frames,
                data_dims,
            })
        } else if let Some(gid) = t.image_id {
            let img = self.image(gid, "image_id")?;
            Ok(FrameList {
                is_video: false,
                frames: vec![img.id],
                data_dims: self.image_dims(&img, "image_id")?,
            })
        } else {
            Err(Error::BadTarget {
                key: "image_id",
                msg: "a target needs one of image_id, video_id, image_ids or annot_id".into(),
            })
        }
    }

    /// Frames given as `image_ids`: they must exist and share one video (which
    /// must agree with `video_id` when both are given).
    fn listed_frames(&self, t: &mut Target, gids: &[ImageId]) -> Result<FrameList> {
        let Some(&first) = gids.first() else {
            return Err(Error::BadTarget {
                key: "image_ids",
                msg: "is empty".into(),
            });
        };
        let mut vid = None;
        for &g in gids {
            let img = self.image(g, "image_ids")?;
            if let Some(v) = img.video_id {
                if vid.is_some_and(|u: VideoId| u != v) {
                    return Err(Error::BadTarget {
                        key: "image_ids",
                        msg: "frames belong to different videos".into(),
                    });
                }
                vid = Some(v);
            }
        }
        if let (Some(v), Some(given)) = (vid, t.video_id)
            && v != given
        {
            return Err(Error::BadTarget {
                key: "video_id",
                msg: format!("{given} disagrees with the frames' video {v}"),
            });
        }
        t.video_id = vid.or(t.video_id);
        let data_dims = self.video_dims(t.video_id, first)?;
        Ok(FrameList {
            is_video: true,
            frames: gids.to_vec(),
            data_dims,
        })
    }

    pub(super) fn image(
        &self,
        id: ImageId,
        key: &'static str,
    ) -> Result<super::tables::Rec<'_, Image>> {
        self.tables.image(id)?.ok_or(Error::UnknownId {
            key,
            table: "image",
            id: id.0,
        })
    }

    /// `[h, w]` of an image: its record's, else its file header's (see
    /// [`crate::frames::image_size`]).
    pub(super) fn image_dims(&self, img: &Image, key: &'static str) -> Result<[i64; 2]> {
        crate::frames::image_size(self.tables.names(), img).map_err(|e| Error::BadTarget {
            key,
            msg: e.to_string(),
        })
    }

    /// `[h, w]` of a video's space: its own size, else its first frame's.
    fn video_dims(&self, vid: Option<VideoId>, first_gid: ImageId) -> Result<[i64; 2]> {
        if let Some(v) = vid.and_then(|v| self.tables.video(v))
            && let (Some(w), Some(h)) = (v.width, v.height)
        {
            return Ok([h as i64, w as i64]);
        }
        let img = self.image(first_gid, "image_ids")?;
        self.image_dims(&img, "image_ids")
    }
}

/// The reference's `slices` key into `space_slice` (and `time_slice`).
fn move_slices(t: &mut Target) -> Result<()> {
    let Some(s) = t.slices.take() else {
        return Ok(());
    };
    let bad = |msg: &str| Error::BadTarget {
        key: "slices",
        msg: msg.into(),
    };
    if t.space_slice.is_some() || t.time_slice.is_some() {
        return Err(bad("given with space_slice or time_slice (use one form)"));
    }
    match s.as_slice() {
        [y, x] => t.space_slice = Some([*y, *x]),
        [tt, y, x] => {
            t.time_slice = Some(*tt);
            t.space_slice = Some([*y, *x]);
        }
        _ => return Err(bad("needs 2 ([y, x]) or 3 ([t, y, x]) slices")),
    }
    Ok(())
}

/// Most frames one sample may span (fill frames included): the frame list is
/// built before the pixel size is checked.
pub const MAX_FRAMES: i64 = 1 << 20;

/// Time: the frames of `time_slice` padded by `pad_t` (positions outside the
/// video become fill frames, `None`), and the padded span. Records the closed
/// `time_slice` and the core frames as `image_ids` in the target.
fn resolve_time(
    t: &mut Target,
    frame_list: &[ImageId],
    pad_t: [i64; 2],
) -> Result<(Vec<Option<ImageId>>, Span)> {
    let n = frame_list.len() as i64;
    let [t0, t1] = close_span(t.time_slice.unwrap_or([None, None]), n, "time_slice")?;
    let lo = t0 - pad_t[0];
    let hi = t1 + pad_t[1];
    if hi - lo > MAX_FRAMES {
        return Err(Error::BadTarget {
            key: "time_slice",
            msg: format!(
                "{} frames (with padding) are more than one sample may hold ({MAX_FRAMES})",
                hi - lo
            ),
        });
    }
    let frames: Vec<Option<ImageId>> = (lo..hi)
        .map(|p| (0..n).contains(&p).then(|| frame_list[p as usize]))
        .collect();
    t.time_slice = Some([Some(t0), Some(t1)]);
    let core: Vec<ImageId> = (t0.max(0)..t1.min(n))
        .map(|p| frame_list[p as usize])
        .collect();
    t.image_ids = Some(core);
    Ok((frames, [lo, hi]))
}

/// Space: the unpadded window `[y_span, x_span]` from `space_slice`, from
/// centre mode, or the whole sampled space. Records it as the target's
/// closed `space_slice` (and centre mode's dims as `window_dims`).
fn resolve_space(t: &mut Target, data_dims: [i64; 2]) -> Result<[Span; 2]> {
    let [y_span, x_span] = if let Some([ys, xs]) = t.space_slice {
        let y = close_span(ys, data_dims[0], "space_slice")?;
        let x = close_span(xs, data_dims[1], "space_slice")?;
        [y, x]
    } else if t.cx.is_some() || t.cy.is_some() {
        let (cx, cy) = match (t.cx, t.cy) {
            (Some(cx), Some(cy)) if cx.is_finite() && cy.is_finite() => {
                (check_centre("cx", cx)?, check_centre("cy", cy)?)
            }
            _ => {
                return Err(Error::BadTarget {
                    key: "cx",
                    msg: "centre mode needs finite cx and cy".into(),
                });
            }
        };
        let mode = t.window_dims.unwrap_or(WindowDims::Extent);
        let [h, w] = window_dims_for(mode, t.width, t.height)?;
        t.window_dims = Some(WindowDims::Dims([h, w]));
        [centered_span(cy, h), centered_span(cx, w)]
    } else {
        [[0, data_dims[0]], [0, data_dims[1]]]
    };
    t.space_slice = Some([
        [Some(y_span[0]), Some(y_span[1])],
        [Some(x_span[0]), Some(x_span[1])],
    ]);
    Ok([y_span, x_span])
}
