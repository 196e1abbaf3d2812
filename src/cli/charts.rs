//! SVG charts for `electorate compare`: failover-time distributions per
//! variant, messages per election against cluster size beside the theory,
//! and the lock-service patterns' lease duration against failover time and
//! renewal traffic beside Raft.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::cli::compare::Row;
use crate::cli::lease_tradeoff::TradeoffRow;

const COLORS: [RGBColor; 4] = [BLUE, RED, GREEN, MAGENTA];

/// Writes every chart into `directory` and returns the files written.
pub fn write_all(directory: &Path, rows: &[Row]) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(directory).map_err(|error| error.to_string())?;
    let mut files = Vec::new();
    let mut sizes: Vec<u64> = rows.iter().map(|row| row.nodes).collect();
    sizes.sort_unstable();
    sizes.dedup();
    for nodes in sizes {
        let file = directory.join(format!("failover-cdf-{nodes}-nodes.svg"));
        failover_cdf(&file, rows, nodes).map_err(|error| error.to_string())?;
        files.push(file);
    }
    let file = directory.join("messages-per-election.svg");
    messages_per_election(&file, rows).map_err(|error| error.to_string())?;
    files.push(file);
    Ok(files)
}

fn algorithms(rows: &[Row]) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = rows.iter().map(|row| row.algorithm).collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// The fraction of failovers done by each time, per algorithm.
fn failover_cdf(file: &Path, rows: &[Row], nodes: u64) -> Result<(), Box<dyn std::error::Error>> {
    let cells: Vec<&Row> = rows
        .iter()
        .filter(|row| row.nodes == nodes && !row.failover_samples_ms.is_empty())
        .collect();
    let max_ms = cells
        .iter()
        .flat_map(|row| row.failover_samples_ms.iter().copied())
        .fold(1.0, f64::max);
    let root = SVGBackend::new(file, (800, 500)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("Failover after a leader crash, {nodes} nodes"),
            ("sans-serif", 22),
        )
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0.0..max_ms * 1.05, 0.0..1.0)?;
    chart
        .configure_mesh()
        .x_desc("time until a new leader serves (ms)")
        .y_desc("fraction of failovers")
        .draw()?;
    for (position, row) in cells.iter().enumerate() {
        let mut samples = row.failover_samples_ms.clone();
        samples.sort_by(f64::total_cmp);
        let count = samples.len() as f64;
        let points = samples
            .iter()
            .enumerate()
            .map(|(rank, &ms)| (ms, (rank + 1) as f64 / count));
        let color = COLORS[position % COLORS.len()];
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))?
            .label(row.algorithm)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
    }
    draw_legend_and_save(&mut chart, &root)
}

/// Measured messages per cold-start election (solid) and the textbook count
/// (dashed), against cluster size.
fn messages_per_election(file: &Path, rows: &[Row]) -> Result<(), Box<dyn std::error::Error>> {
    let max_nodes = rows.iter().map(|row| row.nodes).max().unwrap_or(9) as f64;
    let max_messages = rows
        .iter()
        .map(|row| row.messages_per_election.max(row.messages_theory as f64))
        .fold(1.0, f64::max);
    let root = SVGBackend::new(file, (800, 500)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("Messages per election (cold start)", ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(2.0..max_nodes + 1.0, 0.0..max_messages * 1.1)?;
    chart
        .configure_mesh()
        .x_desc("nodes")
        .y_desc("messages")
        .draw()?;
    for (position, name) in algorithms(rows).into_iter().enumerate() {
        let color = COLORS[position % COLORS.len()];
        let cells: Vec<&Row> = rows.iter().filter(|row| row.algorithm == name).collect();
        let measured = cells
            .iter()
            .map(|row| (row.nodes as f64, row.messages_per_election));
        chart
            .draw_series(LineSeries::new(measured, color.stroke_width(2)))?
            .label(format!("{name} measured"))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        let theory: Vec<(f64, f64)> = cells
            .iter()
            .map(|row| (row.nodes as f64, row.messages_theory as f64))
            .collect();
        chart
            .draw_series(DashedLineSeries::new(theory, 6, 4, color.stroke_width(1)))?
            .label(format!("{name} theory ({})", cells[0].theory))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(1))
            });
    }
    draw_legend_and_save(&mut chart, &root)
}

/// Writes the lease-duration trade-off chart into `directory` (nothing if
/// no TTL was measured) and returns the files written.
pub fn write_lease_tradeoff(
    directory: &Path,
    rows: &[TradeoffRow],
) -> Result<Vec<PathBuf>, String> {
    if !rows.iter().any(|row| row.ttl_seconds.is_some()) {
        return Ok(Vec::new());
    }
    std::fs::create_dir_all(directory).map_err(|error| error.to_string())?;
    let file = directory.join("lease-duration-vs-failover.svg");
    lease_tradeoff(&file, rows).map_err(|error| error.to_string())?;
    Ok(vec![file])
}

/// Two panels against the TTL: each lock-service pattern's median failover
/// (left) and its renewal messages per second (right), one line per
/// pattern, beside Raft's figure as a dashed line (Raft has no TTL).
fn lease_tradeoff(file: &Path, rows: &[TradeoffRow]) -> Result<(), Box<dyn std::error::Error>> {
    let leases: Vec<(f64, &TradeoffRow)> = rows
        .iter()
        .filter_map(|row| Some((row.ttl_seconds?, row)))
        .collect();
    // The patterns in the order the rows name them.
    let mut patterns: Vec<&str> = Vec::new();
    for (_, row) in &leases {
        if !patterns.contains(&row.algorithm) {
            patterns.push(row.algorithm);
        }
    }
    let raft = rows.iter().find(|row| row.ttl_seconds.is_none());
    let max_ttl = leases.iter().map(|(ttl, _)| *ttl).fold(1.0, f64::max);
    let root = SVGBackend::new(file, (1100, 480)).into_drawing_area();
    root.fill(&WHITE)?;
    let panels = root.split_evenly((1, 2));
    type Measure = fn(&TradeoffRow) -> Option<f64>;
    let measures: [(&str, &str, Measure); 2] = [
        (
            "Failover after the holder crashes (p50)",
            "time until a successor holds (ms)",
            crate::cli::lease_tradeoff::failover_p50_ms,
        ),
        (
            "Renewal messages per second",
            "messages per second",
            |row| Some(row.renewal_messages_per_second),
        ),
    ];
    for (panel, (caption, y_desc, measure)) in panels.iter().zip(measures) {
        let lines: Vec<(&str, Vec<(f64, f64)>)> = patterns
            .iter()
            .map(|&pattern| {
                let points = leases
                    .iter()
                    .filter(|(_, row)| row.algorithm == pattern)
                    .filter_map(|(ttl, row)| Some((*ttl, measure(row)?)))
                    .collect();
                (pattern, points)
            })
            .collect();
        let raft_value = raft.and_then(measure);
        let max_y = lines
            .iter()
            .flat_map(|(_, points)| points.iter().map(|(_, y)| *y))
            .chain(raft_value)
            .fold(1.0, f64::max);
        let mut chart = ChartBuilder::on(panel)
            .caption(caption, ("sans-serif", 20))
            .margin(16)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..max_ttl * 1.1, 0.0..max_y * 1.15)?;
        chart
            .configure_mesh()
            .x_desc("lease TTL (s)")
            .y_desc(y_desc)
            .draw()?;
        for (index, (pattern, points)) in lines.iter().enumerate() {
            let color = COLORS[index % COLORS.len()];
            chart
                .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?
                .label(*pattern)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
            chart.draw_series(
                points
                    .iter()
                    .map(|&point| Circle::new(point, 4, color.filled())),
            )?;
        }
        if let Some(value) = raft_value {
            let color = COLORS[lines.len() % COLORS.len()];
            let line = vec![(0.0, value), (max_ttl * 1.1, value)];
            chart
                .draw_series(DashedLineSeries::new(line, 6, 4, color.stroke_width(2)))?
                .label("raft")
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        }
        draw_legend(&mut chart)?;
    }
    root.present()?;
    Ok(())
}

/// Draws the series legend in the house style and writes the file: the last
/// step of every chart.
fn draw_legend_and_save<'a, X, Y>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<X, Y>>,
    root: &DrawingArea<SVGBackend<'a>, Shift>,
) -> Result<(), Box<dyn std::error::Error>>
where
    X: Ranged,
    Y: Ranged,
{
    draw_legend(chart)?;
    root.present()?;
    Ok(())
}

/// Draws the series legend in the house style.
fn draw_legend<'a, X, Y>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<X, Y>>,
) -> Result<(), Box<dyn std::error::Error>>
where
    X: Ranged,
    Y: Ranged,
{
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE)
        .draw()?;
    Ok(())
}
