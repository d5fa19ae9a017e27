//! A chart as inline SVG: horizontal bars grouped by category, one colour per series, each
//! bar labelled with its count. A withheld cell is a hatched stub labelled "suppressed", never
//! a bar of some length, so nobody can read a number off it.

use std::fmt::Write;

use super::chart::{Chart, Shown, label};
use super::html::escape;

/// Colours of the series, told apart also by order and legend (and the table beside).
const COLOURS: [&str; 6] = [
    "#1f5f8b", "#c2571a", "#3c8d2f", "#7a4f9a", "#a8861c", "#4d4d4d",
];
const WIDTH: i64 = 760;
const LABEL_WIDTH: i64 = 230;
const BAR_SPACE: i64 = 420;
const BAR_HEIGHT: i64 = 16;
const GROUP_GAP: i64 = 12;
const LEGEND_HEIGHT: i64 = 28;

/// The SVG of `chart`.
pub fn bar_chart(chart: &Chart) -> String {
    let per_group = BAR_HEIGHT * series_count(chart) + GROUP_GAP;
    let rows = i64::try_from(chart.categories.len().max(1)).unwrap_or(i64::MAX);
    let height = LEGEND_HEIGHT + per_group.saturating_mul(rows) + 8;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {height}\" \
         width=\"{WIDTH}\" height=\"{height}\" role=\"img\" aria-labelledby=\"{id}-svg-title\">\
         <title id=\"{id}-svg-title\">{title}</title>\
         <defs><pattern id=\"{id}-hatch\" width=\"6\" height=\"6\" \
         patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">\
         <rect width=\"3\" height=\"6\" fill=\"#999\"/></pattern></defs>",
        id = chart.id,
        title = escape(chart.title),
    );
    legend(&mut svg, chart);
    if chart.categories.is_empty() {
        let _ = write!(
            svg,
            "<text x=\"0\" y=\"{}\" class=\"empty\">nothing to show yet</text>",
            LEGEND_HEIGHT + 14
        );
    }
    let max = chart.max();
    let mut y = LEGEND_HEIGHT;
    for category in &chart.categories {
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" class=\"category\">{}</text>",
            LABEL_WIDTH - 8,
            y + BAR_HEIGHT - 3,
            escape(&label(category)),
        );
        for (i, series) in chart.series.iter().enumerate() {
            bar(&mut svg, chart, y, i, chart.cell(category, series), max);
            y += BAR_HEIGHT;
        }
        y += GROUP_GAP;
    }
    svg.push_str("</svg>");
    svg
}

fn series_count(chart: &Chart) -> i64 {
    i64::try_from(chart.series.len().max(1)).unwrap_or(1)
}

fn colour(i: usize) -> &'static str {
    COLOURS[i % COLOURS.len()]
}

fn legend(svg: &mut String, chart: &Chart) {
    let mut x = LABEL_WIDTH;
    for (i, series) in chart.series.iter().enumerate() {
        let _ = write!(
            svg,
            "<rect x=\"{x}\" y=\"4\" width=\"12\" height=\"12\" fill=\"{}\"/>\
             <text x=\"{}\" y=\"14\" class=\"legend\">{}</text>",
            colour(i),
            x + 16,
            escape(&label(series)),
        );
        x += 24 + 8 * i64::try_from(series.chars().count()).unwrap_or(0);
    }
}

fn bar(svg: &mut String, chart: &Chart, y: i64, i: usize, shown: Shown, max: i64) {
    let top = y + 1;
    let inner = BAR_HEIGHT - 2;
    match shown {
        Shown::Count(n) => {
            let length = n.saturating_mul(BAR_SPACE) / max;
            let _ = write!(
                svg,
                "<rect x=\"{LABEL_WIDTH}\" y=\"{top}\" width=\"{length}\" height=\"{inner}\" \
                 fill=\"{}\"/><text x=\"{}\" y=\"{}\" class=\"value\">{n}</text>",
                colour(i),
                LABEL_WIDTH + length + 4,
                y + BAR_HEIGHT - 3,
            );
        }
        Shown::Suppressed => {
            let _ = write!(
                svg,
                "<rect x=\"{LABEL_WIDTH}\" y=\"{top}\" width=\"14\" height=\"{inner}\" \
                 fill=\"url(#{}-hatch)\" stroke=\"{}\"/>\
                 <text x=\"{}\" y=\"{}\" class=\"value suppressed\">suppressed</text>",
                chart.id,
                colour(i),
                LABEL_WIDTH + 18,
                y + BAR_HEIGHT - 3,
            );
        }
    }
}
