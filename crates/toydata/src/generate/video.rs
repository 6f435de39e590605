//! `vidshapes{N}-…`: videos whose tracks move smoothly (boids), with optional
//! multispectral / auxiliary assets, several sensors and per-frame sizes.

use coco_model::geometry::NumberStyle;
use rayon::prelude::*;
use serde_json::{Map, Value, json};

use super::Ctx;
use super::common::{image_stem, keypoint_categories};
use crate::annot::{keypoints_json, segmentation_json, trace};
use crate::bundle::Tables;
use crate::encode::{write_png_rgb, write_tiff};
use crate::error::Result;
use crate::key::{ExtraChannels, VidShapesSpec};
use crate::motion::{BoidsConfig, boid_paths};
use crate::render::{Canvas, paint_labels, to_u8, to_u16};
use crate::rng::{ToyRng, hash_normal};
use crate::shape::{Raster, Shape};

/// Video categories, kwcoco's order and ids: star 1, superstar 2, eff 3.
const CLASSES: [Shape; 3] = [Shape::Star, Shape::Superstar, Shape::Eff];

/// Fraction of the frame size by which a box may extend past each side of the
/// frame. Track centres stay in the frame and boxes are at most 0.405 of it.
pub(crate) const BOX_PAD_FRACTION: f64 = 0.25;

/// How an asset maps to its image.
#[derive(Clone, Debug, PartialEq)]
enum AuxWarp {
    /// The asset is the image downsampled by this integer factor (1 = same grid).
    Scale(u32),
    /// A general affine map, asset pixel → image pixel (2 × 3 rows).
    Matrix([[f64; 3]; 2]),
}

impl AuxWarp {
    #[inline]
    fn apply(&self, x: f64, y: f64) -> (f64, f64) {
        match self {
            AuxWarp::Scale(d) => (x * f64::from(*d), y * f64::from(*d)),
            AuxWarp::Matrix(m) => (
                m[0][0] * x + m[0][1] * y + m[0][2],
                m[1][0] * x + m[1][1] * y + m[1][2],
            ),
        }
    }

    fn to_json(&self) -> Value {
        match self {
            AuxWarp::Scale(1) => json!({"type": "affine"}),
            AuxWarp::Scale(d) => json!({"scale": f64::from(*d), "type": "affine"}),
            AuxWarp::Matrix(m) => json!({
                "type": "affine",
                "matrix": [m[0], m[1], [0.0, 0.0, 1.0]],
            }),
        }
    }
}

/// One asset of a frame.
#[derive(Clone, Debug)]
struct Stream {
    channels: &'static str,
    width: u32,
    height: u32,
    warp: AuxWarp,
}

impl Stream {
    fn is_u16(&self) -> bool {
        self.channels.starts_with('B')
    }
    fn bands(&self) -> Vec<&'static str> {
        self.channels.split('|').collect()
    }
    fn file_name(&self, gid: u64) -> String {
        format!(
            "_assets/auxiliary/aux_{}/{}.tif",
            self.channels.replace('|', "_"),
            image_stem(gid)
        )
    }
}

/// The downsampling factor of kwcoco's special streams; others get random warps.
fn special_scale(channels: &str) -> Option<u32> {
    match channels {
        "disparity" | "flowx|flowy" | "B1" | "B10" => Some(1),
        "B8" => Some(6),
        "B8a" | "B11" => Some(3),
        _ => None,
    }
}

/// Streams of each sensor, sorted by sensor name.
fn sensors(extra: ExtraChannels, multisensor: bool) -> Vec<(&'static str, Vec<&'static str>)> {
    let base: Vec<&'static str> = match extra {
        ExtraChannels::None => return Vec::new(),
        ExtraChannels::Msi => vec!["B1", "B8", "B8a", "B10", "B11"],
        ExtraChannels::Aux => vec!["disparity", "flowx|flowy"],
    };
    let mut out = vec![("sensor1", base)];
    if multisensor {
        // an `r|g|b` asset only where there is no main `r|g|b` image, so a
        // channel name never appears twice in one image
        let rgb: &[&'static str] = if extra == ExtraChannels::Msi {
            &["r|g|b"]
        } else {
            &[]
        };
        let with_rgb = |rest: &[&'static str]| [rgb, rest].concat();
        out.push(("sensor2", with_rgb(&["disparity", "B8|B11"])));
        out.push(("sensor3", with_rgb(&["flowx|flowy", "B10|B11"])));
        out.push(("sensor4", vec!["B11", "gauss"]));
    }
    out
}

/// A random image → asset affine (scale, anisotropy, rotation), shifted so the
/// whole image lands in the asset raster. Returns (asset size, asset → image).
fn random_aux_warp(rng: &mut ToyRng, iw: u32, ih: u32) -> (u32, u32, AuxWarp) {
    let s = rng.range(0.4, 1.2);
    let a = rng.range(0.8, 1.25);
    let (sx, sy) = (s * a, s / a);
    // rational rotation: exact arithmetic, no sin/cos
    let t = rng.range(-0.25, 0.25);
    let (c, sn) = ((1.0 - t * t) / (1.0 + t * t), 2.0 * t / (1.0 + t * t));
    let m = [[c * sx, -sn * sy], [sn * sx, c * sy]];
    let (fw, fh) = (f64::from(iw), f64::from(ih));
    let corners = [(0.0, 0.0), (fw, 0.0), (0.0, fh), (fw, fh)];
    let mapped: Vec<(f64, f64)> = corners
        .iter()
        .map(|&(x, y)| (m[0][0] * x + m[0][1] * y, m[1][0] * x + m[1][1] * y))
        .collect();
    let minx = mapped.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
    let miny = mapped.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let maxx = mapped.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
    let maxy = mapped.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    let aw = ((maxx - minx).ceil() as u32).max(1);
    let ah = ((maxy - miny).ceil() as u32).max(1);
    // asset = m · image - min; invert: image = m⁻¹ · (asset + min)
    let det = m[0][0] * m[1][1] - m[0][1] * m[1][0];
    let inv = [
        [m[1][1] / det, -m[0][1] / det],
        [-m[1][0] / det, m[0][0] / det],
    ];
    let tx = inv[0][0] * minx + inv[0][1] * miny;
    let ty = inv[1][0] * minx + inv[1][1] * miny;
    let warp = AuxWarp::Matrix([[inv[0][0], inv[0][1], tx], [inv[1][0], inv[1][1], ty]]);
    (aw, ah, warp)
}

struct Frame {
    gid: u64,
    frame_index: u32,
    width: u32,
    height: u32,
    sensor: Option<&'static str>,
    streams: Vec<Stream>,
    timestamp: Option<String>,
}

struct Track {
    tid: u64,
    shape: Shape,
    category_id: u64,
    /// Per-frame box in video space, `[x, y, w, h]`, rounded to 0.1 px.
    boxes: Vec<[f64; 4]>,
    /// Per-frame velocity in video pixels per frame.
    velocity: Vec<[f64; 2]>,
    color: [f32; 3],
    signature: [f32; 6],
    depth: f32,
}

struct Video {
    vid: u64,
    width: u32,
    height: u32,
    tint: [f32; 3],
    frames: Vec<Frame>,
    tracks: Vec<Track>,
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// Days since 1970-01-01 → (year, month, day) (proleptic Gregorian).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn iso_timestamp(days: i64, secs: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

fn plan_video(spec: &VidShapesSpec, ctx: &Ctx, vid: u64, gid_start: u64, tid_start: u64) -> Video {
    let mut rng = ctx.seeds.rng("video", vid);
    let (vw, vh) = (spec.width, spec.height);
    let tint = [
        rng.range(0.05, 0.35) as f32,
        rng.range(0.05, 0.35) as f32,
        rng.range(0.05, 0.35) as f32,
    ];
    let sensor_table = sensors(spec.extra, spec.multisensor);
    let mut day = rng.int_range(16_436, 18_262); // 2015-01-01 .. 2020-01-01
    let mut frames = Vec::with_capacity(spec.num_frames as usize);
    for f in 0..spec.num_frames {
        let (iw, ih) = if spec.random_size {
            let lo = |s: u32| ((f64::from(s) / 3.0).round() as i64).max(8);
            let hi = |s: u32| ((f64::from(s) * 4.0 / 3.0).round() as i64).max(9);
            (
                rng.int_range(lo(vw), hi(vw)) as u32,
                rng.int_range(lo(vh), hi(vh)) as u32,
            )
        } else {
            (vw, vh)
        };
        let (sensor, streams) = if sensor_table.is_empty() {
            (None, Vec::new())
        } else {
            let k = rng.below(sensor_table.len() as u64) as usize;
            let (name, chans) = &sensor_table[k];
            let streams = chans
                .iter()
                .map(|&channels| match special_scale(channels) {
                    Some(d) => Stream {
                        channels,
                        width: iw.div_ceil(d),
                        height: ih.div_ceil(d),
                        warp: AuxWarp::Scale(d),
                    },
                    None => {
                        let (width, height, warp) = random_aux_warp(&mut rng, iw, ih);
                        Stream {
                            channels,
                            width,
                            height,
                            warp,
                        }
                    }
                })
                .collect();
            (Some(*name), streams)
        };
        let timestamp = if spec.timestamps {
            if f > 0 {
                day += rng.int_range(1, 31);
            }
            Some(iso_timestamp(day, rng.int_range(0, 86_400)))
        } else {
            None
        };
        frames.push(Frame {
            gid: gid_start + u64::from(f),
            frame_index: f,
            width: iw,
            height: ih,
            sensor,
            streams,
            timestamp,
        });
    }
    let steps = spec.num_frames as usize;
    let paths = boid_paths(
        spec.num_tracks as usize,
        steps,
        BoidsConfig::with_speed(spec.speed),
        &mut rng,
    );
    let (fw, fh) = (f64::from(vw), f64::from(vh));
    let tracks = paths
        .iter()
        .enumerate()
        .map(|(k, path)| {
            let shape = CLASSES[rng.below(3) as usize];
            let category_id = CLASSES.iter().position(|&c| c == shape).unwrap_or(0) as u64 + 1;
            let mut bw = rng.range(0.1, 0.45);
            let mut bh = rng.range(0.1, 0.45);
            if bw / bh > 4.0 {
                bw = bh * 4.0;
            }
            if bh / bw > 4.0 {
                bh = bw * 4.0;
            }
            let alpha = rng.range(0.0, 0.1);
            let (mut sw, mut sh) = (bw, bh);
            let mut boxes = Vec::with_capacity(steps);
            for p in path {
                let tw = (bw * (1.0 + 0.15 * rng.normal(0.0, 1.0))).clamp(0.05, 0.45);
                let th = (bh * (1.0 + 0.15 * rng.normal(0.0, 1.0))).clamp(0.05, 0.45);
                sw = (1.0 - alpha) * sw + alpha * tw;
                sh = (1.0 - alpha) * sh + alpha * th;
                let (w, h) = (sw * 0.9 * fw, sh * 0.9 * fh);
                let (cx, cy) = (p[0] * fw, p[1] * fh);
                boxes.push([
                    round1(cx - w / 2.0),
                    round1(cy - h / 2.0),
                    round1(w),
                    round1(h),
                ]);
            }
            let velocity = (0..path.len())
                .map(|t| {
                    let (a, b) = if t == 0 {
                        (0, 1.min(path.len() - 1))
                    } else {
                        (t - 1, t)
                    };
                    [
                        (path[b][0] - path[a][0]) * fw,
                        (path[b][1] - path[a][1]) * fh,
                    ]
                })
                .collect();
            let color = [
                rng.range(0.35, 1.0) as f32,
                rng.range(0.35, 1.0) as f32,
                rng.range(0.35, 1.0) as f32,
            ];
            let mut signature = [0f32; 6];
            for s in &mut signature {
                *s = rng.range(0.35, 1.0) as f32;
            }
            let depth = rng.range(0.3, 1.0) as f32;
            Track {
                tid: tid_start + k as u64,
                shape,
                category_id,
                boxes,
                velocity,
                color,
                signature,
                depth,
            }
        })
        .collect();
    Video {
        vid,
        width: vw,
        height: vh,
        tint,
        frames,
        tracks,
    }
}

/// Image-space box of a track in a frame (video box scaled to the frame size).
fn image_box(video: &Video, frame: &Frame, track: &Track) -> [f64; 4] {
    let b = track.boxes[frame.frame_index as usize];
    if (frame.width, frame.height) == (video.width, video.height) {
        return b;
    }
    let sx = f64::from(frame.width) / f64::from(video.width);
    let sy = f64::from(frame.height) / f64::from(video.height);
    [
        round1(b[0] * sx),
        round1(b[1] * sy),
        round1(b[2] * sx),
        round1(b[3] * sy),
    ]
}

/// Per-object value of a band.
fn object_value(track: &Track, frame: &Frame, video: &Video, band: &str, max_px: f64) -> f32 {
    let flow = |d: usize| {
        let scale = if d == 0 {
            f64::from(frame.width) / f64::from(video.width)
        } else {
            f64::from(frame.height) / f64::from(video.height)
        };
        let v = track.velocity[frame.frame_index as usize][d] * scale / max_px;
        (0.5 + 0.5 * v.clamp(-1.0, 1.0)) as f32
    };
    match band {
        "r" => track.color[0],
        "g" => track.color[1],
        "b" => track.color[2],
        "disparity" => track.depth,
        "flowx" => flow(0),
        "flowy" => flow(1),
        "gauss" => 0.5,
        "B1" => track.signature[0],
        "B8" => track.signature[1],
        "B8a" => track.signature[2],
        "B10" => track.signature[3],
        "B11" => track.signature[4],
        _ => track.signature[5],
    }
}

/// Background value of a band at asset pixel `(u, v)` of an `aw × ah` asset.
fn background_value(video: &Video, band: &str, u: u32, v: u32, aw: u32, ah: u32) -> f32 {
    match band {
        "r" => video.tint[0],
        "g" => video.tint[1],
        "b" => video.tint[2],
        "flowx" | "flowy" => 0.5,
        "disparity" => 0.1,
        "gauss" => {
            let x = (f64::from(u) + 0.5) / f64::from(aw) * 2.0 - 1.0;
            let y = (f64::from(v) + 0.5) / f64::from(ah) * 2.0 - 1.0;
            let r2 = x * x + y * y;
            if r2 < 1.0 {
                ((1.0 - r2) * (1.0 - r2)) as f32
            } else {
                0.0
            }
        }
        _ => 0.2,
    }
}

/// Geometry JSON of one annotation: (bbox, keypoints, segmentation).
type AnnGeometry = ([f64; 4], Value, Value);

fn render_frame(
    spec: &VidShapesSpec,
    ctx: &Ctx,
    video: &Video,
    frame: &Frame,
) -> Result<(Vec<AnnGeometry>, usize)> {
    let (iw, ih) = (frame.width as usize, frame.height as usize);
    let boxes: Vec<[f64; 4]> = video
        .tracks
        .iter()
        .map(|t| image_box(video, frame, t))
        .collect();
    let rasters: Vec<Raster> = video
        .tracks
        .iter()
        .zip(&boxes)
        .map(|(t, b)| Raster::new(t.shape, *b))
        .collect();
    let mut files = 0;
    if spec.extra != ExtraChannels::Msi {
        let seed = ctx.seeds.value("vid-main", frame.gid);
        let mut canvas = Canvas::noise(iw, ih, &video.tint, 0.25, seed);
        for (k, (t, r)) in video.tracks.iter().zip(&rasters).enumerate() {
            let fg_seed = ctx.seeds.value("vid-fg", (frame.gid << 20) | k as u64);
            canvas.composite(r, &t.color, 0.15, fg_seed);
        }
        let name = format!("_assets/images/{}.png", image_stem(frame.gid));
        write_png_rgb(
            &ctx.out_dir.join(name),
            frame.width,
            frame.height,
            &canvas.to_rgb8(),
        )?;
        files += 1;
    }
    if !frame.streams.is_empty() {
        let mut labels = vec![0u32; iw * ih];
        for (k, r) in rasters.iter().enumerate() {
            paint_labels(&mut labels, iw, ih, r, k as u32 + 1);
        }
        let max_px = (spec.speed * f64::from(video.width.max(video.height))).max(1e-9);
        for (si, stream) in frame.streams.iter().enumerate() {
            let bands = stream.bands();
            let nb = bands.len();
            let (aw, ah) = (stream.width, stream.height);
            let seed = ctx.seeds.value("vid-stream", (frame.gid << 8) | si as u64);
            let mut values = vec![0f32; aw as usize * ah as usize * nb];
            for v in 0..ah {
                for u in 0..aw {
                    let (px, py) = stream.warp.apply(f64::from(u) + 0.5, f64::from(v) + 0.5);
                    let label = if px >= 0.0 && py >= 0.0 && px < iw as f64 && py < ih as f64 {
                        labels[py as usize * iw + px as usize]
                    } else {
                        0
                    };
                    let p = (v as usize * aw as usize + u as usize) * nb;
                    for (b, band) in bands.iter().enumerate() {
                        let noise = hash_normal(seed, (p + b) as u64);
                        values[p + b] = if label > 0 {
                            let t = &video.tracks[label as usize - 1];
                            object_value(t, frame, video, band, max_px) + 0.04 * noise
                        } else {
                            background_value(video, band, u, v, aw, ah) + 0.06 * noise
                        };
                    }
                }
            }
            let path = ctx.out_dir.join(stream.file_name(frame.gid));
            if stream.is_u16() {
                let data: Vec<u16> = values.iter().map(|&x| to_u16(x)).collect();
                write_tiff(&path, aw, ah, nb, &data)?;
            } else {
                let data: Vec<u8> = values.iter().map(|&x| to_u8(x)).collect();
                write_tiff(&path, aw, ah, nb, &data)?;
            }
            files += 1;
        }
    }
    let geoms = video
        .tracks
        .iter()
        .zip(rasters.iter().zip(&boxes))
        .map(|(t, (r, b))| {
            (
                *b,
                keypoints_json(t.shape, *b),
                segmentation_json(trace(r), NumberStyle::Float),
            )
        })
        .collect();
    Ok((geoms, files))
}

fn warp_img_to_vid_json(video: &Video, frame: &Frame) -> Value {
    let sx = f64::from(video.width) / f64::from(frame.width);
    let sy = f64::from(video.height) / f64::from(frame.height);
    if sx == 1.0 && sy == 1.0 {
        json!({"type": "affine"})
    } else if sx == sy {
        json!({"scale": sx, "type": "affine"})
    } else {
        json!({"scale": [sx, sy], "type": "affine"})
    }
}

fn image_record(spec: &VidShapesSpec, video: &Video, frame: &Frame) -> Value {
    let mut img = Map::new();
    img.insert("id".into(), json!(frame.gid));
    if spec.extra == ExtraChannels::Msi {
        img.insert("file_name".into(), Value::Null);
        img.insert(
            "name".into(),
            json!(format!("generated-{}-{}", video.vid, frame.frame_index)),
        );
    } else {
        img.insert(
            "file_name".into(),
            json!(format!("_assets/images/{}.png", image_stem(frame.gid))),
        );
    }
    img.insert("video_id".into(), json!(video.vid));
    img.insert("width".into(), json!(frame.width));
    img.insert("height".into(), json!(frame.height));
    img.insert("warp_img_to_vid".into(), warp_img_to_vid_json(video, frame));
    img.insert("frame_index".into(), json!(frame.frame_index));
    if spec.extra != ExtraChannels::Msi {
        img.insert("channels".into(), json!("r|g|b"));
    }
    if let Some(sensor) = frame.sensor {
        img.insert("sensor".into(), json!(sensor));
    }
    if let Some(ts) = &frame.timestamp {
        img.insert("timestamp".into(), json!(ts));
    }
    if !frame.streams.is_empty() {
        let aux: Vec<Value> = frame
            .streams
            .iter()
            .map(|s| {
                json!({
                    "file_name": s.file_name(frame.gid),
                    "channels": s.channels,
                    "width": s.width,
                    "height": s.height,
                    "warp_aux_to_img": s.warp.to_json(),
                })
            })
            .collect();
        img.insert("auxiliary".into(), Value::Array(aux));
    }
    Value::Object(img)
}

pub(crate) fn generate(spec: &VidShapesSpec, ctx: &Ctx) -> Result<(Tables, usize)> {
    let nf = u64::from(spec.num_frames);
    let nt = u64::from(spec.num_tracks);
    let videos: Vec<Video> = (1..=u64::from(spec.num_videos))
        .into_par_iter()
        .map(|vid| plan_video(spec, ctx, vid, 1 + (vid - 1) * nf, 1 + (vid - 1) * nt))
        .collect();
    let jobs: Vec<(&Video, &Frame)> = videos
        .iter()
        .flat_map(|v| v.frames.iter().map(move |f| (v, f)))
        .collect();
    let progress = ctx.progress(jobs.len() as u64, "vidshapes");
    let rendered: Vec<Result<(Vec<AnnGeometry>, usize)>> = jobs
        .par_iter()
        .map(|(v, f)| {
            let r = render_frame(spec, ctx, v, f);
            progress.inc(1);
            r
        })
        .collect();
    progress.finish();
    let mut per_frame = Vec::with_capacity(rendered.len());
    let mut files = 0;
    for r in rendered {
        let (g, n) = r?;
        files += n;
        per_frame.push(g);
    }
    let mut video_records = Vec::new();
    let mut images = Vec::new();
    let mut annotations = Vec::new();
    let mut tracks = Vec::new();
    let mut frame_offset = 0;
    for video in &videos {
        video_records.push(json!({
            "id": video.vid,
            "name": format!("toy_video_{}", video.vid),
            "width": video.width,
            "height": video.height,
        }));
        for frame in &video.frames {
            images.push(image_record(spec, video, frame));
        }
        for (k, track) in video.tracks.iter().enumerate() {
            tracks.push(json!({"id": track.tid, "name": format!("track_{:03}", track.tid)}));
            for (fi, frame) in video.frames.iter().enumerate() {
                let (bbox, kps, seg) = &per_frame[frame_offset + fi][k];
                annotations.push(json!({
                    "id": annotations.len() + 1,
                    "image_id": frame.gid,
                    "category_id": track.category_id,
                    "track_id": track.tid,
                    "bbox": bbox,
                    "keypoints": kps,
                    "segmentation": seg,
                }));
            }
        }
        frame_offset += video.frames.len();
    }
    let categories: Vec<Value> = CLASSES
        .iter()
        .enumerate()
        .map(|(i, s)| json!({"id": i + 1, "name": s.name()}))
        .collect();
    let mut t = Tables::default();
    t.push("info", Vec::new());
    t.push("licenses", Vec::new());
    t.push("categories", categories);
    t.push("keypoint_categories", keypoint_categories());
    t.push("videos", video_records);
    t.push("images", images);
    t.push("annotations", annotations);
    t.push("tracks", tracks);
    Ok((t, files))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Seeds;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(16_436), (2015, 1, 1));
        assert_eq!(civil_from_days(18_262), (2020, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(iso_timestamp(16_436, 3661), "2015-01-01T01:01:01");
    }

    #[test]
    fn random_aux_warps_cover_the_image_exactly() {
        let mut rng = Seeds::new("w", 0).rng("t", 0);
        for _ in 0..200 {
            let (iw, ih) = (97, 61);
            let (aw, ah, warp) = random_aux_warp(&mut rng, iw, ih);
            // every asset pixel centre maps near the image or outside it, and every
            // image corner is inside the asset raster: invert by sampling
            let AuxWarp::Matrix(m) = &warp else { panic!() };
            let det = m[0][0] * m[1][1] - m[0][1] * m[1][0];
            assert!(det.abs() > 1e-6);
            for (x, y) in [(0.0, 0.0), (97.0, 0.0), (0.0, 61.0), (97.0, 61.0)] {
                // asset = inv(m) · (image - t)
                let (dx, dy) = (x - m[0][2], y - m[1][2]);
                let u = (m[1][1] * dx - m[0][1] * dy) / det;
                let v = (-m[1][0] * dx + m[0][0] * dy) / det;
                assert!(u >= -1e-6 && v >= -1e-6, "{u} {v}");
                assert!(u <= f64::from(aw) + 1e-6 && v <= f64::from(ah) + 1e-6);
            }
        }
    }

    #[test]
    fn special_scales_match_kwcoco() {
        assert_eq!(special_scale("B8"), Some(6));
        assert_eq!(special_scale("B8a"), Some(3));
        assert_eq!(special_scale("B11"), Some(3));
        assert_eq!(special_scale("B1"), Some(1));
        assert_eq!(special_scale("r|g|b"), None);
        assert_eq!(
            AuxWarp::Scale(6).to_json(),
            json!({"scale": 6.0, "type": "affine"})
        );
        assert_eq!(AuxWarp::Scale(1).to_json(), json!({"type": "affine"}));
    }
}
