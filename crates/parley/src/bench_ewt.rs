//! `parley bench ewt`: the accuracy of the estimated wait (docs/ewt.md) on simulated queues. Each
//! scenario is a day of a queue: consumers arrive as a Poisson process, agents of given capacities
//! join and leave on a schedule, handle times vary (exponential, or heavy-tailed lognormal), and a
//! waiting consumer gives up after an exponential patience. At each arrival the estimate is computed
//! from the figures the server would have then (agents and free slots, the place in line, the mean of
//! the last 50 handle times, the abandonment of the last 100 consumers who waited), beside the naive
//! estimate (position × mean handle time ÷ agents); when the consumer is answered, both are compared
//! with the wait they actually had. Reported: the mean absolute error of each over the answered
//! consumers. The simulation is deterministic for a seed.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

use clap::Args;
use parley_core::ewt::{EwtInputs, estimate, naive};

use crate::rng::Rng;

/// What to simulate.
#[derive(Debug, Args)]
pub(crate) struct EwtArgs {
    /// Hours each scenario runs.
    #[arg(long, default_value_t = 8.0)]
    pub(crate) hours: f64,
    /// The random seed (the same seed gives the same figures).
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
}

#[derive(Debug, Clone, Copy)]
enum Handle {
    Exponential {
        mean: f64,
    },
    /// Lognormal with this mean and log-standard-deviation.
    Lognormal {
        mean: f64,
        sigma: f64,
    },
}

impl Handle {
    fn draw(self, rng: &mut Rng) -> f64 {
        match self {
            Handle::Exponential { mean } => rng.exponential(mean),
            Handle::Lognormal { mean, sigma } => (mean.ln() - sigma * sigma / 2.0 + sigma * rng.normal()).exp(),
        }
    }
}

/// An agent of a scenario: capacity, and when (hours from the start) they come and go.
#[derive(Debug, Clone, Copy)]
struct Shift {
    capacity: u32,
    from_hour: f64,
    to_hour: f64,
}

struct Scenario {
    name: &'static str,
    /// Mean seconds between arrivals.
    interarrival: f64,
    handle: Handle,
    /// Mean patience of a waiting consumer, seconds.
    patience: f64,
    shifts: Vec<Shift>,
}

fn scenarios() -> Vec<Scenario> {
    let all_day = |capacity, n| vec![Shift { capacity, from_hour: 0.0, to_hour: f64::INFINITY }; n];
    vec![
        Scenario {
            name: "steady: 4 agents x 2, load 0.9",
            interarrival: 33.0,
            handle: Handle::Exponential { mean: 240.0 },
            patience: 900.0,
            shifts: all_day(2, 4),
        },
        Scenario {
            name: "over capacity: 3 agents x 3, impatient consumers",
            interarrival: 24.0,
            handle: Handle::Exponential { mean: 240.0 },
            patience: 300.0,
            shifts: all_day(3, 3),
        },
        Scenario {
            name: "agents joining and leaving",
            interarrival: 40.0,
            handle: Handle::Exponential { mean: 300.0 },
            patience: 600.0,
            shifts: vec![
                Shift { capacity: 3, from_hour: 0.0, to_hour: f64::INFINITY },
                Shift { capacity: 2, from_hour: 0.0, to_hour: 3.0 },
                Shift { capacity: 3, from_hour: 1.5, to_hour: 6.0 },
                Shift { capacity: 2, from_hour: 4.0, to_hour: f64::INFINITY },
                Shift { capacity: 1, from_hour: 5.0, to_hour: 7.0 },
            ],
        },
        Scenario {
            name: "heavy-tailed handle times: 5 agents x 2",
            interarrival: 26.0,
            handle: Handle::Lognormal { mean: 240.0, sigma: 1.0 },
            patience: 900.0,
            shifts: all_day(2, 5),
        },
    ]
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Happening {
    Arrival,
    /// A chat of agent `usize` ends.
    End(usize),
    /// Consumer `usize` gives up, if still waiting.
    GiveUp(usize),
    Join(usize),
    Leave(usize),
}

struct At(f64, u64, Happening);

impl PartialEq for At {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for At {}
impl PartialOrd for At {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for At {
    /// Earliest first (the heap is a max-heap), then in the order scheduled.
    fn cmp(&self, other: &Self) -> Ordering {
        other.0.total_cmp(&self.0).then(other.1.cmp(&self.1))
    }
}

struct Agent {
    capacity: u32,
    active: u32,
    present: bool,
}

struct Consumer {
    arrived: f64,
    estimate: f64,
    naive: f64,
    /// Still waiting.
    waiting: bool,
}

/// What one scenario came to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Outcome {
    pub(crate) arrived: usize,
    pub(crate) answered: usize,
    pub(crate) abandoned: usize,
    pub(crate) mean_wait: f64,
    pub(crate) mae_estimate: f64,
    pub(crate) mae_naive: f64,
}

fn simulate(s: &Scenario, hours: f64, seed: u64) -> Outcome {
    let mut rng = Rng(seed);
    let end = hours * 3600.0;
    let mut heap = BinaryHeap::new();
    let mut order = 0u64;
    let mut push = |heap: &mut BinaryHeap<At>, t: f64, h: Happening| {
        order += 1;
        heap.push(At(t, order, h));
    };
    let mut agents: Vec<Agent> =
        s.shifts.iter().map(|sh| Agent { capacity: sh.capacity, active: 0, present: false }).collect();
    for (i, sh) in s.shifts.iter().enumerate() {
        push(&mut heap, sh.from_hour * 3600.0, Happening::Join(i));
        if sh.to_hour.is_finite() {
            push(&mut heap, sh.to_hour * 3600.0, Happening::Leave(i));
        }
    }
    let first = rng.exponential(s.interarrival);
    push(&mut heap, first, Happening::Arrival);
    let mut consumers: Vec<Consumer> = Vec::new();
    let mut line: VecDeque<usize> = VecDeque::new();
    let mut handles: VecDeque<f64> = VecDeque::new();
    // The last 100 consumers who waited: true when they gave up.
    let mut waited: VecDeque<bool> = VecDeque::new();
    let (mut answered, mut abandoned) = (0usize, 0usize);
    let (mut wait_sum, mut err_estimate, mut err_naive) = (0.0, 0.0, 0.0);

    while let Some(At(now, _, happening)) = heap.pop() {
        match happening {
            Happening::Arrival => {
                if now > end {
                    continue;
                }
                let next = now + rng.exponential(s.interarrival);
                push(&mut heap, next, Happening::Arrival);
                let present = agents.iter().filter(|a| a.present);
                let handle =
                    if handles.is_empty() { 300.0 } else { handles.iter().sum::<f64>() / handles.len() as f64 };
                let gave_up = waited.iter().filter(|g| **g).count();
                let inputs = EwtInputs {
                    position: u32::try_from(line.len() + 1).unwrap_or(u32::MAX),
                    agents: u32::try_from(present.clone().count()).unwrap_or(u32::MAX),
                    slots: present.clone().map(|a| a.capacity).sum(),
                    free_slots: present.map(|a| a.capacity.saturating_sub(a.active)).sum(),
                    handle_seconds: handle.round() as u32,
                    abandonment_permille: if waited.is_empty() {
                        0
                    } else {
                        u32::try_from(gave_up * 1000 / waited.len()).unwrap_or(1000)
                    },
                };
                let id = consumers.len();
                consumers.push(Consumer {
                    arrived: now,
                    estimate: f64::from(estimate(&inputs).seconds),
                    naive: f64::from(naive(&inputs)),
                    waiting: true,
                });
                line.push_back(id);
                let patience = rng.exponential(s.patience);
                push(&mut heap, now + patience, Happening::GiveUp(id));
            }
            Happening::End(agent) => {
                agents[agent].active -= 1;
            }
            Happening::GiveUp(id) => {
                if consumers[id].waiting {
                    consumers[id].waiting = false;
                    line.retain(|c| *c != id);
                    abandoned += 1;
                    remember(&mut waited, true);
                }
            }
            Happening::Join(agent) => agents[agent].present = true,
            Happening::Leave(agent) => agents[agent].present = false,
        }
        // Route: the head of the line to the least busy present agent with a free slot.
        while let Some(&head) = line.front() {
            let Some(agent) = (0..agents.len())
                .filter(|i| agents[*i].present && agents[*i].active < agents[*i].capacity)
                .min_by_key(|i| (agents[*i].active, *i))
            else {
                break;
            };
            line.pop_front();
            let c = &mut consumers[head];
            c.waiting = false;
            let wait = now - c.arrived;
            answered += 1;
            wait_sum += wait;
            err_estimate += (c.estimate - wait).abs();
            err_naive += (c.naive - wait).abs();
            remember(&mut waited, false);
            agents[agent].active += 1;
            let handle = s.handle.draw(&mut rng);
            handles.push_back(handle);
            if handles.len() > 50 {
                handles.pop_front();
            }
            push(&mut heap, now + handle, Happening::End(agent));
        }
    }
    let n = answered.max(1) as f64;
    Outcome {
        arrived: consumers.len(),
        answered,
        abandoned,
        mean_wait: wait_sum / n,
        mae_estimate: err_estimate / n,
        mae_naive: err_naive / n,
    }
}

fn remember(waited: &mut VecDeque<bool>, gave_up: bool) {
    waited.push_back(gave_up);
    if waited.len() > 100 {
        waited.pop_front();
    }
}

pub(crate) fn run(args: &EwtArgs) {
    println!("estimated wait vs the naive estimate, {} h per scenario, seed {}", args.hours, args.seed);
    println!(
        "{:<50} {:>8} {:>8} {:>9} {:>10} {:>12} {:>10}",
        "scenario", "arrived", "answered", "abandoned", "mean wait", "MAE estimate", "MAE naive"
    );
    for s in scenarios() {
        let o = simulate(&s, args.hours, args.seed);
        println!(
            "{:<50} {:>8} {:>8} {:>9} {:>9.0}s {:>11.0}s {:>9.0}s",
            s.name, o.arrived, o.answered, o.abandoned, o.mean_wait, o.mae_estimate, o.mae_naive
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_simulation_is_the_same_for_a_seed_and_counts_every_consumer() {
        let s = &scenarios()[1];
        let a = simulate(s, 2.0, 7);
        assert_eq!(a, simulate(s, 2.0, 7));
        assert_ne!(a, simulate(s, 2.0, 8));
        assert!(a.arrived > 200, "{a:?}");
        assert!(a.answered + a.abandoned <= a.arrived && a.abandoned > 0, "{a:?}");
    }

    #[test]
    fn lognormal_handle_times_have_the_mean_asked_for() {
        let mut rng = Rng(3);
        let h = Handle::Lognormal { mean: 240.0, sigma: 1.0 };
        let mean = (0..200_000).map(|_| h.draw(&mut rng)).sum::<f64>() / 200_000.0;
        assert!((mean - 240.0).abs() < 5.0, "{mean}");
    }
}
