//! `electorate abdication`: the health-based abdication experiment on the
//! real node loops with simulated disks and time — the leader's disk turns
//! slow, no disk does, or every disk does — printing who led when, the
//! hand-overs started and declined, and whether the scenario's property
//! held (see `electorate::driver::crash_sim::abdication`).

use std::process::ExitCode;

use clap::Args as ClapArgs;
use electorate::driver::crash_sim::abdication::{hand_over_bound, options, run_scenario, Scenario};

#[derive(ClapArgs)]
pub struct Args {
    /// Which disks turn slow; every scenario when not given.
    #[arg(long, value_enum)]
    scenario: Option<Scenario>,
    #[arg(long, default_value_t = 5)]
    nodes: usize,
    /// The first seed; each scenario runs `--seeds` seeds from it.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[arg(long, default_value_t = 1)]
    seeds: u64,
    /// One JSON object per run instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> ExitCode {
    if !(3..=9).contains(&args.nodes) {
        eprintln!("error: --nodes must be 3 to 9");
        return ExitCode::from(2);
    }
    let scenarios = match args.scenario {
        Some(scenario) => vec![scenario],
        None => vec![Scenario::SlowLeader, Scenario::Healthy, Scenario::AllSlow],
    };
    let mut failed = false;
    for scenario in scenarios {
        for seed in args.seed..args.seed.saturating_add(args.seeds) {
            let judgement = run_scenario(scenario, args.nodes, seed);
            failed |= !judgement.failures.is_empty();
            if args.json {
                println!(
                    "{}",
                    serde_json::to_string(&judgement).expect("plain data serializes")
                );
                continue;
            }
            let leaders: Vec<String> = judgement
                .leaders
                .iter()
                .map(|(at, leader, term)| format!("{leader}@{at} (term {term})"))
                .collect();
            let slow = match judgement.slow_since {
                Some(since) => format!("nodes {:?} slow from {since}", judgement.slow_nodes),
                None => "no slow disk".to_owned(),
            };
            // All slow: the back-off's bound and the writes left alone.
            let allowed = judgement
                .hand_overs_max
                .map_or_else(String::new, |allowed| {
                    format!(" (back-off allows {allowed})")
                });
            let alone = judgement
                .left_alone_writes
                .map_or_else(String::new, |alone| {
                    format!(
                        ", {alone} left alone ({:.3} kept)",
                        judgement.acknowledged_writes as f64 / alone.max(1) as f64
                    )
                });
            println!(
                "{scenario:?} seed {seed}: {slow}; leaders {}; abdications {}{allowed}, \
                 declined {}, writes {}{alone}; hand-over bound {:?}; {}",
                leaders.join(", "),
                judgement.abdications,
                judgement.leadership_declined,
                judgement.acknowledged_writes,
                hand_over_bound(&options(scenario, args.nodes, seed).health),
                if judgement.failures.is_empty() {
                    "property holds".to_owned()
                } else {
                    format!("FAILED: {}", judgement.failures.join("; "))
                }
            );
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
