//! Working days (工作日) on China's holiday calendar: public holidays are days off even on a
//! weekday, and make-up working days (调休上班) are working days even on a weekend. The calendar is
//! data an operator edits; [`china_2026`] is the State Council's arrangement for 2026.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate, Weekday};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HolidayCalendar {
    holidays: BTreeSet<NaiveDate>,
    makeup_workdays: BTreeSet<NaiveDate>,
}

impl HolidayCalendar {
    pub fn new(
        holidays: impl IntoIterator<Item = NaiveDate>,
        makeup_workdays: impl IntoIterator<Item = NaiveDate>,
    ) -> Self {
        Self {
            holidays: holidays.into_iter().collect(),
            makeup_workdays: makeup_workdays.into_iter().collect(),
        }
    }

    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        if self.makeup_workdays.contains(&date) {
            return true;
        }
        if self.holidays.contains(&date) {
            return false;
        }
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
    }

    /// The date `n` working days after `start` (`start` itself not counted).
    pub fn add_working_days(&self, start: NaiveDate, n: u32) -> NaiveDate {
        let mut date = start;
        let mut counted = 0;
        while counted < n {
            date = date.succ_opt().unwrap_or(date);
            if self.is_working_day(date) {
                counted += 1;
            }
        }
        date
    }

    pub fn holidays(&self) -> impl Iterator<Item = &NaiveDate> {
        self.holidays.iter()
    }

    pub fn makeup_workdays(&self) -> impl Iterator<Item = &NaiveDate> {
        self.makeup_workdays.iter()
    }
}

fn days(year: i32, ranges: &[(u32, u32, u32)]) -> Vec<NaiveDate> {
    ranges
        .iter()
        .flat_map(|&(month, first, last)| {
            (first..=last).filter_map(move |d| NaiveDate::from_ymd_opt(year, month, d))
        })
        .collect()
}

/// 国务院办公厅关于2026年部分节假日安排的通知: the holidays and make-up working days of 2026.
/// Operators load later years as they are announced.
pub fn china_2026() -> (Vec<NaiveDate>, Vec<NaiveDate>) {
    let holidays = days(
        2026,
        &[
            (1, 1, 3),   // 元旦
            (2, 15, 23), // 春节
            (4, 4, 6),   // 清明节
            (5, 1, 5),   // 劳动节
            (6, 19, 21), // 端午节
            (9, 25, 27), // 中秋节
            (10, 1, 7),  // 国庆节
        ],
    );
    let makeup = days(
        2026,
        &[
            (1, 4, 4),
            (2, 14, 14),
            (2, 28, 28),
            (5, 9, 9),
            (9, 20, 20),
            (10, 10, 10),
        ],
    );
    (holidays, makeup)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap_or_default()
    }

    fn calendar() -> HolidayCalendar {
        let (h, m) = china_2026();
        HolidayCalendar::new(h, m)
    }

    #[test]
    fn weekdays_work_and_weekends_rest_without_a_calendar() {
        let plain = HolidayCalendar::default();
        assert!(plain.is_working_day(d(11, 27))); // Friday
        assert!(!plain.is_working_day(d(11, 28))); // Saturday
        assert_eq!(plain.add_working_days(d(11, 27), 3), d(12, 2));
    }

    #[test]
    fn working_days_skip_the_national_day_holiday() {
        let c = calendar();
        // Tuesday 29 September + 3 working days: 30 Sep, then 1–7 Oct are off, then 8 and 9 Oct.
        assert_eq!(c.add_working_days(d(9, 29), 3), d(10, 9));
    }

    #[test]
    fn a_make_up_working_day_counts_even_on_a_weekend() {
        let c = calendar();
        // Saturday 10 October 2026 is a make-up working day (调休上班).
        assert!(c.is_working_day(d(10, 10)));
        // Friday 9 Oct + 1 working day is that Saturday, not Monday the 12th.
        assert_eq!(c.add_working_days(d(10, 9), 1), d(10, 10));
        // Sunday 20 September, too.
        assert_eq!(c.add_working_days(d(9, 18), 1), d(9, 20));
    }

    #[test]
    fn the_spring_festival_spans_nine_days_off() {
        let c = calendar();
        assert!((15..=23).all(|day| !c.is_working_day(d(2, day))));
        assert!(c.is_working_day(d(2, 14)) && c.is_working_day(d(2, 28)));
        // Friday 13 Feb + 2 working days: Saturday the 14th (make-up), then Tuesday the 24th.
        assert_eq!(c.add_working_days(d(2, 13), 2), d(2, 24));
    }
}
