//! A listener's history as pages show it (admin user page and `/me`): headline numbers, the
//! listening-time chart, the weekday × hour heatmap and the top artists of one period.

use super::format;
use crate::chart::{self, Bar, HeatRow};
use spotify_history_analytics::{
    Analytics, Bucket, HeatmapArgs, ListeningTimeArgs, Period, Result, Scope, TasteArgs,
    TimeBucket, TopArgs,
};
use spotify_history_core::User;

/// The periods a page offers, as `?period=` values and their names.
pub(crate) const PERIODS: [(&str, &str); 4] = [
    ("30", "Last 30 days"),
    ("90", "Last 90 days"),
    ("365", "Last 12 months"),
    ("all", "All time"),
];

/// A `?period=` value as a [`Period`] in the user's zone; unknown values mean all time.
pub(crate) fn period(value: Option<&str>) -> (&'static str, Period) {
    let (key, days) = match value {
        Some("30") => ("30", Some(30)),
        Some("90") => ("90", Some(90)),
        Some("365") => ("365", Some(365)),
        _ => ("all", None),
    };
    let period = Period {
        days,
        all_time: days.is_none().then_some(true),
        ..Period::default()
    };
    (key, period)
}

/// One headline number.
pub(crate) struct Stat {
    pub label: &'static str,
    pub value: String,
}

/// One row of the top artists.
pub(crate) struct TopRow {
    pub rank: u32,
    pub name: String,
    pub plays: String,
    pub time: String,
}

/// Everything a history section shows.
pub(crate) struct HistoryView {
    pub stats: Vec<Stat>,
    /// SVG markup, escaped by [`chart`].
    pub listening_chart: String,
    pub heatmap_chart: String,
    pub top_artists: Vec<TopRow>,
    /// The zone hours and days are in.
    pub tz: String,
    /// How plays were counted, in words.
    pub rule: String,
}

impl HistoryView {
    pub(crate) async fn load(analytics: &Analytics, user: &User, period: &Period) -> Result<Self> {
        let scope = Scope {
            user: user.id,
            time_zone: user.time_zone.clone(),
        };
        let taste = analytics
            .taste_summary(
                &scope,
                &TasteArgs {
                    period: period.clone(),
                    min_ms: None,
                },
            )
            .await?;
        let time = analytics
            .listening_time(
                &scope,
                &ListeningTimeArgs {
                    period: period.clone(),
                    bucket: None,
                    min_ms: None,
                },
            )
            .await?;
        let heat = analytics
            .listening_heatmap(
                &scope,
                &HeatmapArgs {
                    period: period.clone(),
                    min_ms: None,
                },
            )
            .await?;
        let top = analytics
            .top_artists(
                &scope,
                &TopArgs {
                    period: period.clone(),
                    limit: Some(10),
                    min_ms: None,
                },
            )
            .await?;
        let t = &taste.result;
        let stats = vec![
            Stat {
                label: "plays",
                value: format::count(t.plays),
            },
            Stat {
                label: "listening time",
                value: format::minutes(t.minutes),
            },
            Stat {
                label: "music plays",
                value: format::count(t.music_plays),
            },
            Stat {
                label: "artists",
                value: format::count(t.distinct_artists),
            },
            Stat {
                label: "tracks",
                value: format::count(t.distinct_tracks),
            },
            Stat {
                label: "albums",
                value: format::count(t.distinct_albums),
            },
            Stat {
                label: "podcasts",
                value: format::minutes(t.podcast_minutes),
            },
            Stat {
                label: "artists per 100 plays",
                value: format!("{:.1}", t.diversity.artists_per_100_plays),
            },
        ];
        let unit = match time.result.bucket {
            Bucket::Day => "day",
            Bucket::Week => "week",
            Bucket::Month => "month",
        };
        let listening_chart = chart::bar_chart(
            "listening-time-chart",
            &format!("Plays per {unit}"),
            "plays",
            &series_bars(&time.result.series, time.result.bucket),
        );
        let columns: Vec<String> = (0..24).map(|h| format!("{h:02}")).collect();
        let rows: Vec<HeatRow> = heat
            .result
            .weekdays
            .iter()
            .map(|day| HeatRow {
                label: day.weekday.clone(),
                values: day.plays_by_hour.clone(),
            })
            .collect();
        let heatmap_chart = chart::heatmap(
            "heatmap-chart",
            &format!("Plays by weekday and hour ({})", heat.result.tz),
            &columns,
            &rows,
            |day, hour, plays| format!("{day} {hour}:00–{hour}:59: {plays} plays"),
        );
        Ok(HistoryView {
            stats,
            listening_chart,
            heatmap_chart,
            top_artists: top
                .result
                .items
                .iter()
                .map(|item| TopRow {
                    rank: item.rank,
                    name: item.name.clone(),
                    plays: format::count(item.plays),
                    time: format::minutes(item.minutes),
                })
                .collect(),
            tz: heat.result.tz.clone(),
            rule: taste.counting_rule.description.clone(),
        })
    }
}

/// Bars of a listening-time series: days labelled `MM-DD`, weeks `YYYY-MM-DD`, months
/// `YYYY-MM`.
pub(crate) fn series_bars(series: &[TimeBucket], bucket: Bucket) -> Vec<Bar> {
    series
        .iter()
        .map(|b| {
            let label = match bucket {
                Bucket::Day => b.start.get(5..).unwrap_or(&b.start).to_owned(),
                Bucket::Week => b.start.clone(),
                Bucket::Month => b.start.get(..7).unwrap_or(&b.start).to_owned(),
            };
            Bar {
                label,
                value: b.plays as f64,
                title: format!(
                    "{}: {} plays, {}",
                    b.start,
                    format::count(b.plays),
                    format::minutes(b.minutes)
                ),
            }
        })
        .collect()
}
