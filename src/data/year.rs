//! Fiscal years from date columns: [`year_of`] and [`super::Frame::add_year_from`].

use super::{Column, Frame};
use crate::error::{Error, Result};

/// The calendar year of a date written as `2021-12-31`, `2021/12/31`, `2021.12.31`,
/// `2021-12-31 00:00:00`, `20211231`, `202112` or `2021`; `None` when it is not such a date.
///
/// For Chinese listed firms the fiscal year is the calendar year, so this is the fiscal year
/// of an accounting-period end date (CSMAR `Accper`, WIND 报告期).
pub fn year_of(text: &str) -> Option<i32> {
    let t = text.trim();
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    let year: i32 = match digits {
        4 if t.len() == 4 || t[4..].starts_with(['-', '/', '.', '年']) => t[..4].parse().ok()?,
        6 | 8 if digits == t.len() => {
            let month: u32 = t[4..6].parse().ok()?;
            if !(1..=12).contains(&month) {
                return None;
            }
            t[..4].parse().ok()?
        }
        _ => return None,
    };
    (1000..=9999).contains(&year).then_some(year)
}

impl Frame {
    /// Add (or replace) a numeric column `year` holding the calendar year of each date in
    /// `column` (see [`year_of`]); missing dates give missing years. Numeric columns are read
    /// as `20211231`, `202112` or `2021`.
    ///
    /// **Errors**: [`Error::ColumnNotFound`]; [`Error::Parse`] naming the first cell that is not
    /// a date, and its line.
    pub fn add_year_from(&mut self, column: &str) -> Result<()> {
        let i = self.index_of(column)?;
        let n = self.n_rows();
        let mut years = Vec::with_capacity(n);
        for row in 0..n {
            let cell = self.columns[i].cell_text(row);
            match cell {
                None => years.push(f64::NAN),
                Some(s) => match year_of(&s) {
                    Some(y) => years.push(f64::from(y)),
                    None => {
                        return Err(Error::Parse {
                            path: self.source.clone(),
                            column: column.to_string(),
                            line: self.line_of(row),
                            value: s,
                            expected: "a date such as 2021-12-31, 20211231 or 2021 (--year-from)"
                                .into(),
                        })
                    }
                },
            }
        }
        let label = self
            .label(column)
            .map(|l| format!("year of {l}"))
            .unwrap_or_else(|| format!("year of {column}"));
        self.set_column("year", Column::Num(years));
        self.labels.insert("year".into(), label);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn years_from_dates() {
        for (s, y) in [
            ("2021-12-31", Some(2021)),
            ("2021/6/30", Some(2021)),
            ("20211231", Some(2021)),
            ("202112", Some(2021)),
            ("2021", Some(2021)),
            ("2021-12-31 00:00:00", Some(2021)),
            ("2021年12月31日", Some(2021)),
            ("20211331", None),
            ("12/31/2021", None),
            ("000001", None),
            ("abc", None),
        ] {
            assert_eq!(year_of(s), y, "{s}");
        }
    }

    #[test]
    fn add_year_from_names_bad_cell() {
        let mut f = Frame::new("a.csv");
        f.set_column(
            "Accper",
            Column::Str(vec![Some("2020-12-31".into()), None, Some("n.a.".into())]),
        );
        let err = f.add_year_from("Accper").unwrap_err().to_string();
        assert!(err.contains("line 4") && err.contains("n.a."), "{err}");
        f.set_column("d", Column::Num(vec![20201231.0, f64::NAN, 2019.0]));
        f.add_year_from("d").unwrap();
        let y = f.numeric("year").unwrap();
        assert_eq!((y[0], y[2]), (2020.0, 2019.0));
        assert!(y[1].is_nan());
    }
}
