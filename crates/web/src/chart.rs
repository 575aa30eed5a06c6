//! Charts as server-rendered SVG, readable without JavaScript: a bar chart for series over
//! time (plays per day or month) and a weekday × hour heatmap. Every label is escaped here,
//! since templates insert the markup as it is. Colours are presentation attributes, not
//! `style`, so a strict Content-Security-Policy keeps them.

use std::fmt::Write;

/// One bar: its axis label and value, and what hovering it says.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Bar {
    pub label: String,
    pub value: f64,
    /// The `<title>` tooltip, e.g. "2024-05-01: 12 plays".
    pub title: String,
}

const BAR_WIDTH: f64 = 720.0;
const BAR_HEIGHT: f64 = 200.0;
const LEFT: f64 = 44.0;
const BOTTOM: f64 = 28.0;
const TOP: f64 = 22.0;
/// At most this many x-axis labels, so they never overlap.
const MAX_X_LABELS: usize = 12;
const GREEN: &str = "#1db954";

/// A bar chart of `bars` in order, described by `caption` for screen readers. Empty input
/// gives a chart that says so instead of an empty frame.
pub(crate) fn bar_chart(id: &str, caption: &str, unit: &str, bars: &[Bar]) -> String {
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg id="{id}" class="chart bar-chart" viewBox="0 0 {BAR_WIDTH} {BAR_HEIGHT}" role="img" aria-label="{caption}" xmlns="http://www.w3.org/2000/svg"><title>{caption}</title>"#,
        id = escape(id),
        caption = escape(caption),
    );
    let plot_width = BAR_WIDTH - LEFT - 4.0;
    let plot_height = BAR_HEIGHT - TOP - BOTTOM;
    let baseline = TOP + plot_height;
    let _ = write!(
        svg,
        r##"<line x1="{LEFT}" y1="{baseline}" x2="{right}" y2="{baseline}" stroke="#999" stroke-width="1"/>"##,
        right = BAR_WIDTH - 4.0
    );
    let max = bars.iter().map(|b| b.value).fold(0.0_f64, f64::max);
    if bars.is_empty() || max <= 0.0 {
        let _ = write!(
            svg,
            r##"<text class="empty" x="{x}" y="{y}" text-anchor="middle" fill="#666" font-size="14">No plays in this period</text></svg>"##,
            x = LEFT + plot_width / 2.0,
            y = TOP + plot_height / 2.0
        );
        return svg;
    }
    // The top gridline is the maximum, labelled above the plot, so bar heights read
    // without a full axis (and long numbers are never cut off at the edge).
    let _ = write!(
        svg,
        r##"<line x1="{LEFT}" y1="{TOP}" x2="{right}" y2="{TOP}" stroke="#ddd" stroke-width="1"/><text class="max-label" x="{LEFT}" y="{ly}" font-size="11" fill="#555">max {max} {unit}</text>"##,
        right = BAR_WIDTH - 4.0,
        ly = TOP - 8.0,
        max = number(max),
        unit = escape(unit),
    );
    let slot = plot_width / bars.len() as f64;
    let gap = if slot > 4.0 { slot * 0.15 } else { 0.0 };
    let every = bars.len().div_ceil(MAX_X_LABELS);
    for (i, bar) in bars.iter().enumerate() {
        let height = (bar.value.max(0.0) / max) * plot_height;
        let x = LEFT + i as f64 * slot + gap / 2.0;
        let _ = write!(
            svg,
            r#"<rect class="bar" x="{x:.2}" y="{y:.2}" width="{w:.2}" height="{height:.2}" fill="{GREEN}"><title>{title}</title></rect>"#,
            y = baseline - height,
            w = (slot - gap).max(0.5),
            title = escape(&bar.title),
        );
        if i % every == 0 {
            let _ = write!(
                svg,
                r##"<text class="x-label" x="{x:.2}" y="{y}" font-size="10" fill="#555">{label}</text>"##,
                y = BAR_HEIGHT - 10.0,
                label = escape(&bar.label),
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// One row of a heatmap: its label and a value per column.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HeatRow {
    pub label: String,
    pub values: Vec<i64>,
}

const CELL: f64 = 24.0;
const ROW_LABEL: f64 = 84.0;
const COLUMN_LABEL: f64 = 18.0;

/// A grid of `rows` × `columns` cells shaded by value (darkest = the largest), with a
/// tooltip per cell from `cell_title(row label, column label, value)`. Column labels show
/// every third column.
pub(crate) fn heatmap(
    id: &str,
    caption: &str,
    columns: &[String],
    rows: &[HeatRow],
    cell_title: impl Fn(&str, &str, i64) -> String,
) -> String {
    let width = ROW_LABEL + CELL * columns.len() as f64 + 2.0;
    let height = COLUMN_LABEL + CELL * rows.len() as f64 + 2.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg id="{id}" class="chart heatmap" viewBox="0 0 {width} {height}" role="img" aria-label="{caption}" xmlns="http://www.w3.org/2000/svg"><title>{caption}</title>"#,
        id = escape(id),
        caption = escape(caption),
    );
    for (c, label) in columns.iter().enumerate() {
        if c % 3 == 0 {
            let _ = write!(
                svg,
                r##"<text x="{x}" y="12" font-size="10" fill="#555">{label}</text>"##,
                x = ROW_LABEL + c as f64 * CELL + 2.0,
                label = escape(label),
            );
        }
    }
    let max = rows
        .iter()
        .flat_map(|r| r.values.iter().copied())
        .max()
        .unwrap_or(0);
    for (r, row) in rows.iter().enumerate() {
        let y = COLUMN_LABEL + r as f64 * CELL;
        let _ = write!(
            svg,
            r##"<text x="0" y="{ty}" font-size="11" fill="#333">{label}</text>"##,
            ty = y + CELL / 2.0 + 4.0,
            label = escape(&row.label),
        );
        for (c, &value) in row.values.iter().enumerate() {
            // A faint floor keeps empty cells visible; the rest scales linearly.
            let opacity = if max > 0 && value > 0 {
                0.15 + 0.85 * value as f64 / max as f64
            } else {
                0.04
            };
            let column = columns.get(c).map(String::as_str).unwrap_or("");
            let _ = write!(
                svg,
                r#"<rect class="cell" x="{x}" y="{y}" width="{w}" height="{w}" fill="{GREEN}" fill-opacity="{opacity:.3}"><title>{title}</title></rect>"#,
                x = ROW_LABEL + c as f64 * CELL + 1.0,
                y = y + 1.0,
                w = CELL - 2.0,
                title = escape(&cell_title(&row.label, column, value)),
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// A value as axis text: whole numbers without decimals, others to one decimal.
fn number(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

/// Text safe inside SVG/HTML text and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bars(n: usize) -> Vec<Bar> {
        (0..n)
            .map(|i| Bar {
                label: format!("d{i}"),
                value: i as f64,
                title: format!("d{i}: {i} plays"),
            })
            .collect()
    }

    #[test]
    fn a_bar_per_value_scaled_to_the_largest() {
        let svg = bar_chart("plays", "Plays per day", "plays", &bars(5));
        assert!(svg.starts_with(r#"<svg id="plays" class="chart bar-chart""#));
        assert!(svg.ends_with("</svg>"));
        assert_eq!(svg.matches(r#"<rect class="bar""#).count(), 5);
        assert!(
            svg.contains(">max 4 plays</text>"),
            "the maximum is labelled"
        );
        // The tallest bar fills the plot height exactly.
        let plot = BAR_HEIGHT - TOP - BOTTOM;
        assert!(svg.contains(&format!(r#"height="{plot:.2}""#)), "{svg}");
    }

    #[test]
    fn long_series_label_only_some_bars() {
        let svg = bar_chart("plays", "Plays", "plays", &bars(90));
        assert_eq!(svg.matches(r#"<rect class="bar""#).count(), 90);
        assert!(svg.matches(r#"class="x-label""#).count() <= MAX_X_LABELS);
    }

    #[test]
    fn an_empty_series_says_so() {
        let svg = bar_chart("plays", "Plays", "plays", &[]);
        assert!(svg.contains("No plays in this period"));
        let zeros = bar_chart(
            "plays",
            "Plays",
            "plays",
            &[Bar {
                label: "a".into(),
                value: 0.0,
                title: "a".into(),
            }],
        );
        assert!(zeros.contains("No plays in this period"));
    }

    #[test]
    fn labels_and_titles_are_escaped() {
        let evil = "<script>alert('x')</script> & \"q\"";
        let svg = bar_chart(
            evil,
            evil,
            evil,
            &[Bar {
                label: evil.into(),
                value: 1.0,
                title: evil.into(),
            }],
        );
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(
            svg.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;")
        );

        let columns: Vec<String> = (0..3).map(|h| format!("{h}<")).collect();
        let svg = heatmap(
            "h",
            evil,
            &columns,
            &[HeatRow {
                label: evil.into(),
                values: vec![0, 1, 2],
            }],
            |row, column, value| format!("{row} {column} {value}"),
        );
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(svg.contains("0&lt;"));
    }

    #[test]
    fn a_heatmap_has_a_cell_per_value_darkest_at_the_maximum() {
        let columns: Vec<String> = (0..24).map(|h| format!("{h:02}")).collect();
        let rows: Vec<HeatRow> = ["Mon", "Tue"]
            .iter()
            .map(|d| HeatRow {
                label: (*d).into(),
                values: (0..24).collect(),
            })
            .collect();
        let svg = heatmap("heat", "When", &columns, &rows, |r, c, v| {
            format!("{r} {c}:00 — {v} plays")
        });
        assert_eq!(svg.matches(r#"<rect class="cell""#).count(), 48);
        assert_eq!(svg.matches(r#"fill-opacity="1.000""#).count(), 2);
        assert_eq!(svg.matches(r#"fill-opacity="0.040""#).count(), 2);
        assert!(svg.contains("<title>Tue 23:00 — 23 plays</title>"));
    }
}
