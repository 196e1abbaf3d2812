//! SVG charts for `electorate compare`: failover-time distributions per
//! variant, and messages per election against cluster size beside the
//! theory.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::cli::compare::Row;

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
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE)
        .draw()?;
    root.present()?;
    Ok(())
}
