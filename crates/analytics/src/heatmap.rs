//! "When do I listen?": plays by weekday and hour of day in the listener's time zone.

use crate::answer::minutes;
use crate::{Analytics, Answer, Period, Result, Scope, Window};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use spotify_history_store::history::PlayFilter;

/// Weekday names, Monday first (the ISO order).
pub(crate) const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// Arguments of the weekday × hour heatmap.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct HeatmapArgs {
    #[serde(flatten)]
    pub period: Period,
    /// Count a listen as a play from this many milliseconds (default 30000).
    pub min_ms: Option<i64>,
}

/// Plays by weekday and hour, in local time of `tz`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Heatmap {
    /// The IANA zone the weekdays and hours are in. Daylight-saving changes are followed:
    /// each play is placed by the local wall-clock time at which it ended.
    pub tz: String,
    /// Seven rows, Monday first.
    pub weekdays: Vec<HeatmapDay>,
    /// Plays per hour of day over all weekdays (24 entries, hour 0 = 00:00–00:59).
    pub hours: Vec<HourTotal>,
    /// The five busiest weekday-hours, most plays first.
    pub busiest: Vec<HeatCell>,
    pub plays: i64,
    pub minutes: f64,
}

/// One weekday's row of the heatmap.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct HeatmapDay {
    pub weekday: String,
    pub plays: i64,
    pub minutes: f64,
    /// 24 play counts: index h counts plays that ended between h:00 and h:59 local time.
    pub plays_by_hour: Vec<i64>,
    /// 24 minute totals, same hours.
    pub minutes_by_hour: Vec<f64>,
}

/// Plays in one hour of the day, over every weekday.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct HourTotal {
    /// 0–23, local time.
    pub hour: u8,
    pub plays: i64,
    pub minutes: f64,
}

/// Plays in one weekday.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct WeekdayTotal {
    pub weekday: String,
    pub plays: i64,
    pub minutes: f64,
}

/// One cell: a weekday and an hour.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct HeatCell {
    pub weekday: String,
    /// 0–23, local time.
    pub hour: u8,
    pub plays: i64,
    pub minutes: f64,
}

/// Plays and ms per weekday (Monday = 0) and local hour.
#[derive(Debug, Clone, Default)]
pub(crate) struct HourGrid {
    cells: [[(i64, i64); 24]; 7],
}

impl HourGrid {
    fn total(&self) -> (i64, i64) {
        self.cells
            .iter()
            .flatten()
            .fold((0, 0), |(p, m), (cp, cm)| (p + cp, m + cm))
    }

    /// Hours of the day, all 24, in order.
    pub(crate) fn hours(&self) -> Vec<HourTotal> {
        (0..24)
            .map(|hour| {
                let (plays, ms) = (0..7).fold((0, 0), |(p, m), day| {
                    let (cp, cm) = self.cells[day][hour];
                    (p + cp, m + cm)
                });
                HourTotal {
                    hour: hour as u8,
                    plays,
                    minutes: minutes(ms),
                }
            })
            .collect()
    }

    /// Weekdays, Monday first.
    pub(crate) fn weekdays(&self) -> Vec<WeekdayTotal> {
        self.cells
            .iter()
            .enumerate()
            .map(|(day, hours)| {
                let (plays, ms) = hours
                    .iter()
                    .fold((0, 0), |(p, m), (cp, cm)| (p + cp, m + cm));
                WeekdayTotal {
                    weekday: WEEKDAYS[day].to_string(),
                    plays,
                    minutes: minutes(ms),
                }
            })
            .collect()
    }

    fn busiest(&self, n: usize) -> Vec<HeatCell> {
        let mut cells: Vec<HeatCell> = self
            .cells
            .iter()
            .enumerate()
            .flat_map(|(day, hours)| {
                hours
                    .iter()
                    .enumerate()
                    .map(move |(hour, &(plays, ms))| HeatCell {
                        weekday: WEEKDAYS[day].to_string(),
                        hour: hour as u8,
                        plays,
                        minutes: minutes(ms),
                    })
            })
            .filter(|cell| cell.plays > 0)
            .collect();
        // Stable sort: equal counts stay in calendar order.
        cells.sort_by_key(|cell| std::cmp::Reverse(cell.plays));
        cells.truncate(n);
        cells
    }
}

impl Analytics {
    /// Plays by weekday × hour of day in the window's time zone.
    pub async fn listening_heatmap(
        &self,
        scope: &Scope,
        args: &HeatmapArgs,
    ) -> Result<Answer<Heatmap>> {
        let (filter, window, rule) = self.frame(scope, &args.period, args.min_ms)?;
        let grid = self.hour_grid(&filter, &window).await?;
        let (plays, ms) = grid.total();
        let heatmap = Heatmap {
            tz: window.tz_name.clone(),
            weekdays: grid
                .cells
                .iter()
                .enumerate()
                .map(|(day, hours)| {
                    let (plays, ms) = hours
                        .iter()
                        .fold((0, 0), |(p, m), (cp, cm)| (p + cp, m + cm));
                    HeatmapDay {
                        weekday: WEEKDAYS[day].to_string(),
                        plays,
                        minutes: minutes(ms),
                        plays_by_hour: hours.iter().map(|(p, _)| *p).collect(),
                        minutes_by_hour: hours.iter().map(|(_, m)| minutes(*m)).collect(),
                    }
                })
                .collect(),
            hours: grid.hours(),
            busiest: grid.busiest(5),
            plays,
            minutes: minutes(ms),
        };
        self.answer(&filter, &window, rule, heatmap).await
    }

    /// The window's plays by local weekday and hour.
    pub(crate) async fn hour_grid(&self, filter: &PlayFilter, window: &Window) -> Result<HourGrid> {
        let bounds = self.store().listen_bounds(filter.user).await?;
        let spans = window.offset_spans(bounds);
        let rows = self.store().local_hours(filter, &spans).await?;
        let mut grid = HourGrid::default();
        for row in rows {
            let hour = row.hour_of_week.rem_euclid(168) as usize;
            let cell = &mut grid.cells[hour / 24][hour % 24];
            cell.0 += row.plays;
            cell.1 += row.ms_played;
        }
        Ok(grid)
    }
}
