//! Coefficient plots: [`CoefPlot`] draws, for each chosen term, one point per saved fit result
//! ([`FitRecord`]) with its confidence intervals as whiskers (the narrowest level thickest),
//! models as separate series with a legend, and a zero line.
//!
//! Intervals are recomputed from the estimate and standard error at each level in
//! [`CoefOptions::levels_pct`]: `estimate ± q · se` with `q` the (1 + level)/2 quantile of
//! Student's t with the result's `vcov.df_t` degrees of freedom, or of the standard normal
//! when `df_t` is 0 or absent (probit/logit). At 95% this reproduces the stored `ci_low` /
//! `ci_high` of `keju fit`.

use std::collections::HashMap;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

use super::{font, tick_label, DrawResult, Figure, PALETTE};
use crate::error::{closest, Error, Result};
use crate::report::table::FitRecord;

/// Default confidence levels, in percent.
pub const DEFAULT_LEVELS_PCT: [f64; 2] = [90.0, 95.0];

/// How to build a coefficient plot.
#[derive(Debug, Clone, PartialEq)]
pub struct CoefOptions {
    /// Terms to plot, in order (empty: every term of every model except `(Intercept)`, in order
    /// of first appearance).
    pub terms: Vec<String>,
    /// Series names, one per result (default: `(i) outcome`, with outcome labels).
    pub titles: Option<Vec<String>>,
    /// Labels for terms and outcomes (`term,label` file, as for `keju table`).
    pub labels: HashMap<String, String>,
    /// Confidence levels in percent, each in (0, 100). Default [`DEFAULT_LEVELS_PCT`].
    pub levels_pct: Vec<f64>,
    /// Figure caption (default none).
    pub title: Option<String>,
    /// Width and height in pixels. Default 900 × 600.
    pub size: (u32, u32),
}

impl Default for CoefOptions {
    fn default() -> Self {
        CoefOptions {
            terms: Vec::new(),
            titles: None,
            labels: HashMap::new(),
            levels_pct: DEFAULT_LEVELS_PCT.to_vec(),
            title: None,
            size: (900, 600),
        }
    }
}

/// One model's estimate of one term with its intervals.
#[derive(Debug, Clone, PartialEq)]
pub struct CoefPoint {
    /// Index of the term in [`CoefPlot::terms`].
    pub term: usize,
    /// Index of the model (series).
    pub model: usize,
    pub estimate: f64,
    /// `(low, high)` per level of [`CoefPlot::levels_pct`] (empty without a standard error).
    pub intervals: Vec<(f64, f64)>,
}

/// A coefficient plot ready to draw.
#[derive(Debug, Clone)]
pub struct CoefPlot {
    /// Term names, in plot order.
    pub terms: Vec<String>,
    /// Axis labels of the terms.
    pub term_labels: Vec<String>,
    /// Series names, one per model.
    pub series: Vec<String>,
    /// Levels in percent, widest first.
    pub levels_pct: Vec<f64>,
    pub points: Vec<CoefPoint>,
    pub title: Option<String>,
    pub size: (u32, u32),
}

/// The two-sided critical value at `level_pct` for `df_t` degrees of freedom (normal if
/// `df_t` is 0, absent or not finite).
///
/// **Errors**: [`Error::Usage`] for a level outside (0, 100).
pub fn critical_value(level_pct: f64, df_t: Option<f64>) -> Result<f64> {
    if !(level_pct > 0.0 && level_pct < 100.0) {
        return Err(Error::usage(format!(
            "--level: {level_pct} is not a confidence level in percent, strictly between 0 and 100"
        )));
    }
    let p = 0.5 + level_pct / 200.0;
    Ok(match df_t {
        Some(df) if df.is_finite() && df > 0.0 => StudentsT::new(0.0, 1.0, df)
            .expect("df > 0 gives a valid t distribution")
            .inverse_cdf(p),
        _ => Normal::standard().inverse_cdf(p),
    })
}

impl CoefPlot {
    /// Build the plot from saved results.
    ///
    /// **Errors**: [`Error::Usage`] for no results, a level outside (0, 100), titles whose
    /// count differs from the number of results, or a term that no result has (with the
    /// closest term as a hint); [`Error::Schema`] when no chosen term has an estimate.
    pub fn build(results: &[FitRecord], opts: &CoefOptions) -> Result<CoefPlot> {
        if results.is_empty() {
            return Err(Error::usage("no fit results to plot"));
        }
        if opts.levels_pct.is_empty() {
            return Err(Error::usage("--level needs at least one level"));
        }
        let mut levels = opts.levels_pct.clone();
        for &l in &levels {
            critical_value(l, None)?;
        }
        levels.sort_by(|a, b| b.total_cmp(a));
        levels.dedup();
        if let Some(t) = &opts.titles {
            if t.len() != results.len() {
                return Err(Error::usage(format!(
                    "--titles has {} names for {} results",
                    t.len(),
                    results.len()
                )));
            }
        }
        let mut all_terms: Vec<String> = Vec::new();
        for r in results {
            for c in &r.coefficients {
                if !all_terms.contains(&c.term) {
                    all_terms.push(c.term.clone());
                }
            }
        }
        let terms: Vec<String> = if opts.terms.is_empty() {
            all_terms
                .iter()
                .filter(|t| *t != "(Intercept)")
                .cloned()
                .collect()
        } else {
            for t in &opts.terms {
                if !all_terms.contains(t) {
                    let hint = closest(t, all_terms.iter().map(|s| s.as_str()))
                        .map(|c| format!("\nhint: did you mean \"{c}\"?"))
                        .unwrap_or_default();
                    return Err(Error::usage(format!(
                        "--terms: no result has a coefficient \"{t}\" (terms: {}){hint}",
                        all_terms.join(", ")
                    )));
                }
            }
            opts.terms.clone()
        };
        let label = |k: &str| opts.labels.get(k).cloned().unwrap_or_else(|| k.to_string());
        let series = match &opts.titles {
            Some(t) => t.clone(),
            None => results
                .iter()
                .enumerate()
                .map(|(i, r)| format!("({}) {}", i + 1, label(&r.outcome)))
                .collect(),
        };
        let mut points = Vec::new();
        for (m, r) in results.iter().enumerate() {
            let crit: Vec<f64> = levels
                .iter()
                .map(|&l| critical_value(l, r.vcov.df_t))
                .collect::<Result<_>>()?;
            for (ti, t) in terms.iter().enumerate() {
                let Some(c) = r.coefficients.iter().find(|c| &c.term == t) else {
                    continue;
                };
                let Some(est) = c.estimate.filter(|e| e.is_finite()) else {
                    continue;
                };
                let intervals = match c.std_error.filter(|s| s.is_finite()) {
                    Some(se) => crit.iter().map(|q| (est - q * se, est + q * se)).collect(),
                    None => Vec::new(),
                };
                points.push(CoefPoint {
                    term: ti,
                    model: m,
                    estimate: est,
                    intervals,
                });
            }
        }
        if points.is_empty() {
            return Err(Error::Schema {
                path: "<results>".into(),
                message: format!("no estimate of {} to plot", terms.join(", ")),
            });
        }
        Ok(CoefPlot {
            term_labels: terms.iter().map(|t| label(t)).collect(),
            terms,
            series,
            levels_pct: levels,
            points,
            title: opts.title.clone(),
            size: opts.size,
        })
    }

    /// The y range: every interval and zero, padded by 8%.
    fn y_range(&self) -> (f64, f64) {
        let (mut lo, mut hi) = (0.0f64, 0.0f64);
        for p in &self.points {
            lo = lo.min(p.estimate);
            hi = hi.max(p.estimate);
            for &(a, b) in &p.intervals {
                lo = lo.min(a);
                hi = hi.max(b);
            }
        }
        let pad = ((hi - lo) * 0.08).max(1e-9);
        (lo - pad, hi + pad)
    }

    /// The y-axis description: "Estimate and 90%, 95% confidence intervals".
    pub fn y_desc(&self) -> String {
        let mut l: Vec<String> = self.levels_pct.iter().map(|v| tick_label(*v)).collect();
        l.reverse();
        format!(
            "Estimate and {}% confidence interval{}",
            l.join("%, "),
            if l.len() > 1 { "s" } else { "" }
        )
    }
}

/// Stroke width in pixels of the `k`-th interval of `n_levels` (widest first): 1 for the
/// widest, 5 for the narrowest.
fn whisker_width(k: usize, n_levels: usize) -> u32 {
    if n_levels > 1 {
        (1 + (4 * k) / (n_levels - 1)) as u32
    } else {
        2
    }
}

impl Figure for CoefPlot {
    fn size(&self) -> (u32, u32) {
        self.size
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let n_terms = self.terms.len();
        let n_models = self.series.len();
        let (y0, y1) = self.y_range();
        let x_max = n_terms as f64 - 0.5;
        // Legend panel width from the longest series name.
        let widest = self
            .series
            .iter()
            .map(|n| {
                root.estimate_text_size(n, &TextStyle::from(font(15.0)))
                    .map_or(0, |s| s.0)
            })
            .max()
            .unwrap_or(0);
        let (w, _) = self.size;
        let panel = (widest + 45).min(w / 2);
        let (plot_area, _) = root.split_horizontally(w - panel);
        let legend_px = ((w - panel) as i32, 0);
        let mut builder = ChartBuilder::on(&plot_area);
        builder
            .margin(20)
            .x_label_area_size(60)
            .y_label_area_size(80);
        if let Some(t) = &self.title {
            builder.caption(t, font(24.0));
        }
        let mut chart = builder.build_cartesian_2d(-0.5..x_max, y0..y1)?;
        let fmt_y = |v: &f64| tick_label(*v);
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .bold_line_style(RGBColor(225, 225, 225))
            .x_labels(0)
            .y_label_formatter(&fmt_y)
            .x_desc("Term")
            .y_desc(self.y_desc())
            .label_style(font(16.0))
            .axis_desc_style(font(17.0))
            .draw()?;
        // Term labels under the axis, one per slot (drawn here: plotters picks its own ticks).
        let label_style = TextStyle::from(font(16.0)).pos(Pos::new(HPos::Center, VPos::Top));
        for (i, l) in self.term_labels.iter().enumerate() {
            let (px, py) = chart.backend_coord(&(i as f64, y0));
            root.draw(&PathElement::new(
                vec![(px, py), (px, py + 5)],
                BLACK.stroke_width(1),
            ))?;
            root.draw(&Text::new(l.clone(), (px, py + 9), label_style.clone()))?;
        }
        // Zero line.
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(-0.5, 0.0), (x_max, 0.0)],
            BLACK.mix(0.7).stroke_width(1),
        )))?;
        // Models side by side within a term's slot.
        let slot = 0.7;
        let step = if n_models > 1 {
            slot / (n_models - 1) as f64
        } else {
            0.0
        };
        let x_of = |p: &CoefPoint| {
            p.term as f64 - slot / 2.0 * (n_models > 1) as u8 as f64 + step * p.model as f64
        };
        let n_levels = self.levels_pct.len();
        for m in 0..n_models {
            let color = PALETTE[m % PALETTE.len()];
            let pts: Vec<&CoefPoint> = self.points.iter().filter(|p| p.model == m).collect();
            for p in &pts {
                let x = x_of(p);
                // Widest interval first, thinnest stroke; the narrowest is thickest.
                for (k, &(lo, hi)) in p.intervals.iter().enumerate() {
                    chart.draw_series(std::iter::once(PathElement::new(
                        vec![(x, lo), (x, hi)],
                        color.stroke_width(whisker_width(k, n_levels)),
                    )))?;
                }
            }
            chart.draw_series(
                pts.iter()
                    .map(|p| Circle::new((x_of(p), p.estimate), 5, color.filled())),
            )?;
        }
        // Legend in its own panel, so it never covers an estimate.
        let entry = TextStyle::from(font(15.0)).pos(Pos::new(HPos::Left, VPos::Center));
        let (lx, ly) = (legend_px.0 + 10, 60);
        for (m, name) in self.series.iter().enumerate() {
            let color = PALETTE[m % PALETTE.len()];
            let y = ly + 26 * m as i32;
            root.draw(&Circle::new((lx + 6, y), 5, color.filled()))?;
            root.draw(&Text::new(name.clone(), (lx + 18, y), entry.clone()))?;
        }
        // Whisker key: one short bar per level, as drawn.
        let y_key = ly + 26 * n_models as i32 + 14;
        for (k, l) in self.levels_pct.iter().enumerate() {
            let y = y_key + 24 * k as i32;
            root.draw(&PathElement::new(
                vec![(lx, y), (lx + 12, y)],
                RGBColor(80, 80, 80).stroke_width(whisker_width(k, n_levels)),
            ))?;
            root.draw(&Text::new(
                format!("{}% CI", tick_label(*l)),
                (lx + 18, y),
                entry.clone(),
            ))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(outcome: &str, df_t: f64, coefs: &[(&str, f64, f64)]) -> FitRecord {
        let c: Vec<String> = coefs
            .iter()
            .map(|(t, b, se)| format!(r#"{{"term":"{t}","estimate":{b},"std_error":{se}}}"#))
            .collect();
        let text = format!(
            r#"{{"schema":"keju.fit/1","outcome":"{outcome}","nobs":100,"coefficients":[{}],"vcov":{{"type":"iid","df_t":{df_t}}}}}"#,
            c.join(",")
        );
        FitRecord::from_json(&text, "t.json").unwrap()
    }

    #[test]
    fn critical_values_t_and_normal() {
        // qt(0.975, 10) = 2.228139; qnorm(0.95) = 1.644854 (R 4.3).
        assert!((critical_value(95.0, Some(10.0)).unwrap() - 2.228139).abs() < 1e-6);
        assert!((critical_value(90.0, Some(0.0)).unwrap() - 1.644854).abs() < 1e-6);
        assert!((critical_value(90.0, None).unwrap() - 1.644854).abs() < 1e-6);
        assert!(critical_value(100.0, None).is_err());
        assert!(critical_value(0.0, None).is_err());
    }

    #[test]
    fn intervals_per_level_widest_first() {
        let r = rec("y", 10.0, &[("x", 1.0, 0.5), ("(Intercept)", 0.0, 1.0)]);
        let plot = CoefPlot::build(&[r], &CoefOptions::default()).unwrap();
        assert_eq!(plot.terms, vec!["x"]);
        assert_eq!(plot.levels_pct, vec![95.0, 90.0]);
        let p = &plot.points[0];
        let q95 = 2.228139;
        assert!((p.intervals[0].0 - (1.0 - q95 * 0.5)).abs() < 1e-6);
        assert!(p.intervals[1].1 < p.intervals[0].1);
        assert_eq!(plot.series, vec!["(1) y"]);
    }

    #[test]
    fn unknown_term_is_an_error_with_hint() {
        let r = rec("y", 10.0, &[("js_200", 1.0, 0.5)]);
        let opts = CoefOptions {
            terms: vec!["js_20".into()],
            ..Default::default()
        };
        let e = CoefPlot::build(&[r], &opts).unwrap_err().to_string();
        assert!(e.contains("\"js_20\"") && e.contains("js_200"), "{e}");
    }

    #[test]
    fn titles_must_match_results() {
        let r = rec("y", 10.0, &[("x", 1.0, 0.5)]);
        let opts = CoefOptions {
            titles: Some(vec!["a".into(), "b".into()]),
            ..Default::default()
        };
        assert!(CoefPlot::build(&[r], &opts).is_err());
        assert!(CoefPlot::build(&[], &CoefOptions::default()).is_err());
    }

    #[test]
    fn svg_names_terms_series_and_font() {
        let a = rec("roa", 10.0, &[("x", 1.0, 0.5), ("z", -0.3, 0.2)]);
        let b = rec("esg", 0.0, &[("x", 0.4, 0.1)]);
        let mut labels = HashMap::new();
        labels.insert("x".to_string(), "儒家文化".to_string());
        let opts = CoefOptions {
            labels,
            ..Default::default()
        };
        let plot = CoefPlot::build(&[a, b], &opts).unwrap();
        let svg = super::super::to_svg_string(&plot).unwrap();
        let texts = super::super::svg_texts(&svg);
        for s in ["儒家文化", "z", "(1) roa", "(2) esg", "95% CI"] {
            assert!(texts.iter().any(|t| t == s), "{s} not in {texts:?}");
        }
        assert!(svg.contains(super::super::FONT_FAMILY));
    }
}
