//! Smooth, interacting motion for video tracks: a small boids simulation.
//!
//! Positions live in the unit square. Each step, every object steers towards the
//! average heading (alignment) and centre (cohesion) of the objects within the
//! perception radius, away from objects that are too close (separation) and from
//! the borders, plus a little random steering; speed and steering are capped, so
//! paths are smooth. Objects bounce off the borders. Only `+ - * /` and `sqrt`
//! are used, so the paths are the same on every machine.

use crate::rng::ToyRng;

/// Simulation parameters (kwcoco's defaults).
#[derive(Clone, Copy, Debug)]
pub(crate) struct BoidsConfig {
    /// Neighbours closer than this interact (unit-square units).
    pub perception: f64,
    /// Maximum speed per step.
    pub max_speed: f64,
    /// Maximum steering per step.
    pub max_force: f64,
}

impl BoidsConfig {
    pub(crate) fn with_speed(max_speed: f64) -> Self {
        BoidsConfig {
            perception: 0.2,
            max_speed,
            max_force: max_speed * 0.1,
        }
    }
}

type V2 = [f64; 2];

fn norm(v: V2) -> f64 {
    (v[0] * v[0] + v[1] * v[1]).sqrt()
}

fn clamp_mag(v: V2, mag: f64) -> V2 {
    let n = norm(v);
    if n > mag && n > 0.0 {
        [v[0] / n * mag, v[1] / n * mag]
    } else {
        v
    }
}

fn with_mag(v: V2, mag: f64) -> V2 {
    let n = norm(v);
    if n > 0.0 {
        [v[0] / n * mag, v[1] / n * mag]
    } else {
        v
    }
}

/// Paths of `num` objects over `steps` steps: `paths[object][step]`, each in `[0, 1]²`.
pub(crate) fn boid_paths(
    num: usize,
    steps: usize,
    cfg: BoidsConfig,
    rng: &mut ToyRng,
) -> Vec<Vec<V2>> {
    let mut pos: Vec<V2> = (0..num).map(|_| [rng.uniform(), rng.uniform()]).collect();
    let mut vel: Vec<V2> = (0..num)
        .map(|_| {
            clamp_mag(
                [
                    rng.normal(0.0, cfg.max_speed),
                    rng.normal(0.0, cfg.max_speed),
                ],
                cfg.max_speed,
            )
        })
        .collect();
    let mut acc: Vec<V2> = (0..num)
        .map(|_| {
            clamp_mag(
                [
                    rng.normal(0.0, cfg.max_force),
                    rng.normal(0.0, cfg.max_force),
                ],
                cfg.max_force,
            )
        })
        .collect();
    let mut paths: Vec<Vec<V2>> = vec![Vec::with_capacity(steps); num];
    for _ in 0..steps {
        bounce(&mut pos, &mut vel, &mut acc);
        let steer = forces(&pos, &vel, cfg, rng);
        for i in 0..num {
            acc[i] = [acc[i][0] + steer[i][0], acc[i][1] + steer[i][1]];
            pos[i] = [pos[i][0] + vel[i][0], pos[i][1] + vel[i][1]];
            vel[i] = [vel[i][0] + acc[i][0], vel[i][1] + acc[i][1]];
            acc[i] = clamp_mag(acc[i], cfg.max_force);
            vel[i] = clamp_mag(vel[i], cfg.max_speed);
            // damping keeps the steering from accumulating forever
            acc[i] = [acc[i][0] * 0.5, acc[i][1] * 0.5];
        }
        bounce(&mut pos, &mut vel, &mut acc);
        for (path, p) in paths.iter_mut().zip(&pos) {
            path.push(*p);
        }
    }
    paths
}

fn bounce(pos: &mut [V2], vel: &mut [V2], acc: &mut [V2]) {
    for i in 0..pos.len() {
        for d in 0..2 {
            if pos[i][d] < 0.0 || pos[i][d] > 1.0 {
                pos[i][d] = pos[i][d].clamp(0.0, 1.0);
                vel[i][d] = -vel[i][d];
                acc[i][d] = -acc[i][d];
            }
        }
    }
}

fn forces(pos: &[V2], vel: &[V2], cfg: BoidsConfig, rng: &mut ToyRng) -> Vec<V2> {
    let n = pos.len();
    let mut out = vec![[0.0; 2]; n];
    for i in 0..n {
        let mut count = 0.0;
        let mut vel_sum = [0.0; 2];
        let mut pos_sum = [0.0; 2];
        let mut sep_sum = [0.0; 2];
        for j in 0..n {
            if i == j {
                continue;
            }
            let d = [pos[i][0] - pos[j][0], pos[i][1] - pos[j][1]];
            let dist = norm(d);
            if dist >= cfg.perception {
                continue;
            }
            count += 1.0;
            vel_sum = [vel_sum[0] + vel[j][0], vel_sum[1] + vel[j][1]];
            pos_sum = [pos_sum[0] + pos[j][0], pos_sum[1] + pos[j][1]];
            if dist > 0.0 {
                let inv = 1.0 / (dist * dist);
                sep_sum = [sep_sum[0] + d[0] * inv, sep_sum[1] + d[1] * inv];
            }
        }
        let mut steer = [0.0; 2];
        let mut add = |v: V2| steer = [steer[0] + v[0], steer[1] + v[1]];
        if count > 0.0 {
            let align = with_mag([vel_sum[0] / count, vel_sum[1] / count], cfg.max_speed);
            add(clamp_mag(
                [align[0] - vel[i][0], align[1] - vel[i][1]],
                0.33 * cfg.max_force,
            ));
            let com = [
                pos_sum[0] / count - pos[i][0],
                pos_sum[1] / count - pos[i][1],
            ];
            let com = with_mag(com, cfg.max_speed);
            add(clamp_mag(
                [com[0] - vel[i][0], com[1] - vel[i][1]],
                0.33 * cfg.max_force,
            ));
            let sep = [
                sep_sum[0] / count - vel[i][0],
                sep_sum[1] / count - vel[i][1],
            ];
            add(clamp_mag(sep, cfg.max_force));
        }
        // borders: push away from any edge closer than the perception radius
        let mut avoid = [0.0; 2];
        for d in 0..2 {
            for (edge, sign) in [(0.0, 1.0), (1.0, -1.0)] {
                let dist = (pos[i][d] - edge) * sign;
                if dist > 0.0 && dist < cfg.perception {
                    avoid[d] += sign / (dist * dist * dist);
                }
            }
        }
        if avoid != [0.0, 0.0] {
            add(clamp_mag(
                [avoid[0] - vel[i][0], avoid[1] - vel[i][1]],
                cfg.max_force,
            ));
        }
        let wander = [rng.normal(0.0, 1.0), rng.normal(0.0, 1.0)];
        add(clamp_mag(wander, 0.08 * cfg.max_force));
        out[i] = steer;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Seeds;

    #[test]
    fn paths_stay_in_the_unit_square_and_move_smoothly() {
        let cfg = BoidsConfig::with_speed(0.02);
        let mut rng = Seeds::new("motion", 1).rng("t", 0);
        let paths = boid_paths(6, 200, cfg, &mut rng);
        assert_eq!(paths.len(), 6);
        for p in &paths {
            assert_eq!(p.len(), 200);
            for w in p.windows(2) {
                for q in w {
                    assert!((0.0..=1.0).contains(&q[0]) && (0.0..=1.0).contains(&q[1]));
                }
                let step = norm([w[1][0] - w[0][0], w[1][1] - w[0][1]]);
                // one step moves at most max_speed (plus the bounce clamp)
                assert!(step <= 0.02 * 1.0001 + 1e-12, "{step}");
            }
            // objects do move
            let first = p[0];
            assert!(
                p.iter()
                    .any(|q| norm([q[0] - first[0], q[1] - first[1]]) > 0.01)
            );
        }
    }

    #[test]
    fn paths_are_deterministic() {
        let cfg = BoidsConfig::with_speed(0.01);
        let a = boid_paths(3, 20, cfg, &mut Seeds::new("m", 2).rng("t", 0));
        let b = boid_paths(3, 20, cfg, &mut Seeds::new("m", 2).rng("t", 0));
        assert_eq!(a, b);
    }
}
