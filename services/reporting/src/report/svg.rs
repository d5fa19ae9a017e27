//! A chart as inline SVG: horizontal bars grouped by category, one colour per series, each
//! bar labelled with its count. A withheld cell is a hatched stub labelled "suppressed", never
//! a bar of some length, so nobody can read a number off it.

use std::fmt::Write;

use super::chart::{Chart, Shown};
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
        id = escape(&chart.id),
        title = escape(&chart.title),
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
            escape(&shortened(&chart.name(category), 36)),
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
            escape(&chart.name(series)),
        );
        x += 24 + 8 * i64::try_from(chart.name(series).chars().count()).unwrap_or(0);
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
        Shown::Suppressed if chart.withheld != "suppressed" => {
            // Published reports: a quiet word where the bar would be, no stub to read a
            // length off.
            let _ = write!(
                svg,
                "<text x=\"{}\" y=\"{}\" class=\"value withheld\">{}</text>",
                LABEL_WIDTH + 4,
                y + BAR_HEIGHT - 3,
                chart.withheld,
            );
        }
        Shown::Suppressed => {
            let _ = write!(
                svg,
                "<rect x=\"{LABEL_WIDTH}\" y=\"{top}\" width=\"14\" height=\"{inner}\" \
                 fill=\"url(#{}-hatch)\" stroke=\"{}\"/>\
                 <text x=\"{}\" y=\"{}\" class=\"value suppressed\">suppressed</text>",
                escape(&chart.id),
                colour(i),
                LABEL_WIDTH + 18,
                y + BAR_HEIGHT - 3,
            );
        }
    }
}

/// `text` cut to `max` characters, an ellipsis marking the cut (the table beside has it whole).
fn shortened(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

const COLUMNS_HEIGHT: i64 = 180;
const AXIS: i64 = 40;

/// A trend (one series over months or weeks, in order) as columns: the categories along the
/// bottom, a label every few columns, the largest count on the axis. A withheld period is a
/// grey tick on the baseline, not a column.
pub fn columns(chart: &Chart) -> String {
    let series = chart.series.first().cloned().unwrap_or_default();
    let n = i64::try_from(chart.categories.len().max(1)).unwrap_or(1);
    let plot = WIDTH - AXIS - 8;
    let step = (plot / n).max(1);
    let width = (step - step / 5).max(1);
    let max = chart.max();
    let label_every = usize::try_from((60 / step).max(1)).unwrap_or(1);
    let base = COLUMNS_HEIGHT - 30;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {COLUMNS_HEIGHT}\" \
         width=\"{WIDTH}\" height=\"{COLUMNS_HEIGHT}\" role=\"img\" \
         aria-labelledby=\"{id}-svg-title\"><title id=\"{id}-svg-title\">{title}</title>\
         <line x1=\"{AXIS}\" y1=\"{base}\" x2=\"{right}\" y2=\"{base}\" stroke=\"#888\"/>\
         <text x=\"{tick}\" y=\"14\" text-anchor=\"end\" class=\"axis\">{max}</text>\
         <line x1=\"{AXIS}\" y1=\"10\" x2=\"{right}\" y2=\"10\" stroke=\"#ddd\"/>\
         <text x=\"{tick}\" y=\"{base}\" text-anchor=\"end\" class=\"axis\">0</text>",
        id = escape(&chart.id),
        title = escape(&chart.title),
        right = WIDTH - 8,
        tick = AXIS - 4,
    );
    let mut x = AXIS + step / 10;
    for (i, category) in chart.categories.iter().enumerate() {
        match chart.cell(category, &series) {
            Shown::Count(value) => {
                let height = value.saturating_mul(base - 10) / max;
                let _ = write!(
                    svg,
                    "<rect x=\"{x}\" y=\"{}\" width=\"{width}\" height=\"{height}\" \
                     fill=\"{}\"><title>{}: {value}</title></rect>",
                    base - height,
                    colour(0),
                    escape(&chart.name(category)),
                );
            }
            Shown::Suppressed => {
                let _ = write!(
                    svg,
                    "<rect x=\"{x}\" y=\"{}\" width=\"{width}\" height=\"3\" \
                     fill=\"#bbb\"><title>{}: {}</title></rect>",
                    base + 2,
                    escape(&chart.name(category)),
                    chart.withheld,
                );
            }
        }
        if i % label_every == 0 {
            let _ = write!(
                svg,
                "<text x=\"{x}\" y=\"{}\" class=\"axis\" \
                 transform=\"rotate(35 {x} {})\">{}</text>",
                base + 16,
                base + 16,
                escape(&chart.name(category)),
            );
        }
        x += step;
    }
    svg.push_str("</svg>");
    svg
}
