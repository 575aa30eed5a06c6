//! Process-wide counters and gauges, exposed as Prometheus text by `GET /metrics`.
//!
//! A small registry instead of a metrics crate: the families are few and fixed, every label
//! value comes from a closed set (route templates, tool names, job kinds), and rendering the
//! text format is a screenful of code. Recording is one short mutex section, far below the
//! cost of the request or job being counted. Any crate may record; only the web crate renders.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

/// A metric family: one name, one meaning, a fixed list of label names.
#[derive(Debug)]
pub struct Family {
    pub name: &'static str,
    pub help: &'static str,
    pub kind: Kind,
    pub labels: &'static [&'static str],
}

/// Prometheus metric type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
        }
    }
}

/// HTTP requests answered, by method, route template and status class (`2xx`...).
pub const HTTP_REQUESTS: Family = Family {
    name: "spotify_history_http_requests_total",
    help: "HTTP requests answered, by method, route template and status class.",
    kind: Kind::Counter,
    labels: &["method", "route", "status"],
};
/// Seconds spent answering HTTP requests (with [`HTTP_REQUESTS`]: the mean latency).
pub const HTTP_REQUEST_SECONDS: Family = Family {
    name: "spotify_history_http_request_seconds_total",
    help: "Seconds spent answering HTTP requests, by method and route template.",
    kind: Kind::Counter,
    labels: &["method", "route"],
};
/// MCP tool calls (every surface), by tool and outcome (`ok` or an error code).
pub const TOOL_CALLS: Family = Family {
    name: "spotify_history_tool_calls_total",
    help: "MCP tool calls on every surface, by tool and outcome (ok or the error code).",
    kind: Kind::Counter,
    labels: &["tool", "outcome"],
};
/// Collector job runs, by kind and status.
pub const COLLECTOR_RUNS: Family = Family {
    name: "spotify_history_collector_runs_total",
    help: "Collector job runs finished, by kind (import, initial_sync, poll) and status.",
    kind: Kind::Counter,
    labels: &["kind", "status"],
};
/// New plays stored from Spotify's API, by kind of run.
pub const PLAYS_COLLECTED: Family = Family {
    name: "spotify_history_plays_collected_total",
    help: "New plays stored from the Spotify Web API, by kind of run (initial_sync, poll).",
    kind: Kind::Counter,
    labels: &["kind"],
};
/// Export records read by import jobs.
pub const IMPORT_RECORDS: Family = Family {
    name: "spotify_history_import_records_total",
    help: "Export records read by finished import jobs.",
    kind: Kind::Counter,
    labels: &[],
};
/// Seconds import jobs ran (records / seconds = throughput over any window).
pub const IMPORT_SECONDS: Family = Family {
    name: "spotify_history_import_seconds_total",
    help: "Seconds spent running import jobs.",
    kind: Kind::Counter,
    labels: &[],
};
/// Throughput of the last finished import job.
pub const IMPORT_RECORDS_PER_SECOND: Family = Family {
    name: "spotify_history_import_records_per_second",
    help: "Records per second of the last finished import job.",
    kind: Kind::Gauge,
    labels: &[],
};
/// 429 answers from Spotify.
pub const SPOTIFY_RATE_LIMITED: Family = Family {
    name: "spotify_history_spotify_rate_limited_total",
    help: "429 Too Many Requests answers from Spotify.",
    kind: Kind::Counter,
    labels: &[],
};
/// Log events written to the `logs` table.
pub const LOGS_STORED: Family = Family {
    name: "spotify_history_logs_stored_total",
    help: "Log events written to the logs table.",
    kind: Kind::Counter,
    labels: &[],
};
/// Log events not stored because the writer fell behind or the database failed.
pub const LOGS_DROPPED: Family = Family {
    name: "spotify_history_logs_dropped_total",
    help: "Log events not stored: the queue to the writer was full or the database failed.",
    kind: Kind::Counter,
    labels: &[],
};
/// Constant 1 with the running version as a label.
pub const BUILD_INFO: Family = Family {
    name: "spotify_history_build_info",
    help: "The running spotify-history version.",
    kind: Kind::Gauge,
    labels: &["version"],
};

/// Every family, in exposition order.
pub const FAMILIES: &[&Family] = &[
    &BUILD_INFO,
    &HTTP_REQUESTS,
    &HTTP_REQUEST_SECONDS,
    &TOOL_CALLS,
    &COLLECTOR_RUNS,
    &PLAYS_COLLECTED,
    &IMPORT_RECORDS,
    &IMPORT_SECONDS,
    &IMPORT_RECORDS_PER_SECOND,
    &SPOTIFY_RATE_LIMITED,
    &LOGS_STORED,
    &LOGS_DROPPED,
];

type SeriesKey = (&'static str, Vec<String>);

static SERIES: Mutex<BTreeMap<SeriesKey, f64>> = Mutex::new(BTreeMap::new());

fn update(family: &Family, labels: &[&str], apply: impl FnOnce(&mut f64)) {
    debug_assert_eq!(
        family.labels.len(),
        labels.len(),
        "{}: wrong number of labels",
        family.name
    );
    let key = (
        family.name,
        labels.iter().map(|l| (*l).to_owned()).collect(),
    );
    let mut series = SERIES.lock().unwrap_or_else(|p| p.into_inner());
    apply(series.entry(key).or_insert(0.0));
}

/// Adds `by` to a counter.
pub fn add(family: &Family, labels: &[&str], by: f64) {
    debug_assert_eq!(family.kind, Kind::Counter);
    update(family, labels, |value| *value += by);
}

/// Adds one to a counter.
pub fn inc(family: &Family, labels: &[&str]) {
    add(family, labels, 1.0);
}

/// Sets a gauge.
pub fn set(family: &Family, labels: &[&str], to: f64) {
    debug_assert_eq!(family.kind, Kind::Gauge);
    update(family, labels, |value| *value = to);
}

/// The current value of one series (0 if never recorded); for tests and diagnostics.
pub fn value(family: &Family, labels: &[&str]) -> f64 {
    let key = (
        family.name,
        labels.iter().map(|l| (*l).to_owned()).collect(),
    );
    let series = SERIES.lock().unwrap_or_else(|p| p.into_inner());
    series.get(&key).copied().unwrap_or(0.0)
}

/// An HTTP response: `status` is folded into its class so the series stay few.
pub fn http_request(method: &str, route: &str, status: u16, seconds: f64) {
    let class = match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    };
    inc(&HTTP_REQUESTS, &[method, route, class]);
    add(&HTTP_REQUEST_SECONDS, &[method, route], seconds);
}

/// A tool call ended with `outcome` (`ok` or a stable error code).
pub fn tool_call(tool: &str, outcome: &str) {
    inc(&TOOL_CALLS, &[tool, outcome]);
}

/// A collector job run of `kind` finished with `status`.
pub fn collector_run(kind: &str, status: &str) {
    inc(&COLLECTOR_RUNS, &[kind, status]);
}

/// `plays` new plays were stored by a run of `kind`.
pub fn plays_collected(kind: &str, plays: u64) {
    add(&PLAYS_COLLECTED, &[kind], plays as f64);
}

/// An import job read `records` records in `seconds`.
pub fn import_finished(records: u64, seconds: f64) {
    add(&IMPORT_RECORDS, &[], records as f64);
    add(&IMPORT_SECONDS, &[], seconds);
    if seconds > 0.0 {
        set(&IMPORT_RECORDS_PER_SECOND, &[], records as f64 / seconds);
    }
}

/// Spotify answered 429.
pub fn spotify_rate_limited() {
    inc(&SPOTIFY_RATE_LIMITED, &[]);
}

/// The whole registry in the Prometheus text exposition format (version 0.0.4).
pub fn render() -> String {
    set(&BUILD_INFO, &[env!("CARGO_PKG_VERSION")], 1.0);
    let series = SERIES.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let mut out = String::new();
    for family in FAMILIES {
        let _ = writeln!(out, "# HELP {} {}", family.name, family.help);
        let _ = writeln!(out, "# TYPE {} {}", family.name, family.kind.as_str());
        let mut any = false;
        for ((name, labels), value) in series.range((family.name, Vec::new())..) {
            // The map is ordered by name first: stop at the next family.
            if *name != family.name {
                break;
            }
            any = true;
            out.push_str(family.name);
            if !labels.is_empty() {
                out.push('{');
                for (i, (name, label)) in family.labels.iter().zip(labels).enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    let _ = write!(out, "{name}=\"{}\"", escape_label(label));
                }
                out.push('}');
            }
            let _ = writeln!(out, " {}", format_value(*value));
        }
        // An unlabelled family reads 0 before its first event rather than being absent.
        if !any && family.labels.is_empty() {
            let _ = writeln!(out, "{} 0", family.name);
        }
    }
    out
}

fn format_value(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

/// Label values escape backslash, double quote and newline.
fn escape_label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_render_as_prometheus_text() {
        tool_call("test_render_tool", "ok");
        tool_call("test_render_tool", "ok");
        tool_call("test_\"odd\"\\tool", "bad_arguments");
        let text = render();
        assert!(text.contains("# TYPE spotify_history_tool_calls_total counter"));
        assert!(
            text.contains(
                "spotify_history_tool_calls_total{tool=\"test_render_tool\",outcome=\"ok\"} 2"
            ),
            "{text}"
        );
        assert!(text.contains(r#"tool="test_\"odd\"\\tool""#), "{text}");
        assert!(text.contains("spotify_history_build_info{version="));
    }

    #[test]
    fn gauges_keep_the_last_value_and_fractions_render() {
        import_finished(100, 0.5);
        assert_eq!(value(&IMPORT_RECORDS_PER_SECOND, &[]), 200.0);
        assert_eq!(format_value(2.5), "2.5");
        assert_eq!(format_value(3.0), "3");
    }
}
