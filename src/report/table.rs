//! Regression tables: [`RegressionTable`] combines saved fit results ([`FitRecord`], read from
//! `keju fit --format json`, schema `keju.fit/1`) into one [`Grid`] laid out as a finance
//! journal prints it (esttab / fixest::etable).
//!
//! Data flow: JSON text → [`FitRecord::from_json`] (tolerant of optional fields) →
//! [`RegressionTable::build`] with [`TableOptions`] → [`Grid`] → a writer
//! ([`super::grid::TableFormat`]).
//!
//! Rows, top to bottom:
//! 1. one row per coefficient (estimate with stars) and beneath it the statistic in parentheses
//!    (t by default; `se`, `p` or a 95% interval), terms in order of first appearance unless
//!    `order` says otherwise, `keep`/`drop` applied, `controls` hidden;
//! 2. `Controls` Yes/No (only when controls are named): Yes if the column's model contains any
//!    of them (estimated or dropped as collinear);
//! 3. one `<name> FE` Yes/No row per fixed-effect name found in any column;
//! 4. N; adjusted R² (pseudo R² for probit/logit); within R² on request; first-stage F
//!    (Kleibergen-Paap when present, else the Cragg-Donald/standard F) per endogenous variable
//!    of IV columns.

use std::collections::HashMap;

use serde::Deserialize;

use super::grid::{Cell, Grid, Row, RowKind};
use crate::error::{Error, Result};

/// A coefficient as stored in a fit result.
#[derive(Debug, Clone, Deserialize)]
pub struct CoefRecord {
    pub term: String,
    pub estimate: Option<f64>,
    #[serde(default)]
    pub std_error: Option<f64>,
    #[serde(default)]
    pub t: Option<f64>,
    #[serde(default)]
    pub p: Option<f64>,
    #[serde(default)]
    pub ci_low: Option<f64>,
    #[serde(default)]
    pub ci_high: Option<f64>,
}

/// How the variance was computed (the parts a table note needs).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct VcovRecord {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub cluster: Vec<String>,
    /// Degrees of freedom of the t distribution for inference; 0 or absent means the normal
    /// (z) distribution, as for probit/logit.
    #[serde(default)]
    pub df_t: Option<f64>,
}

/// Goodness of fit; all optional so that OLS, IV and GLM results all read.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct FitStatsRecord {
    #[serde(default)]
    pub r2: Option<f64>,
    #[serde(default)]
    pub adj_r2: Option<f64>,
    #[serde(default)]
    pub within_r2: Option<f64>,
    #[serde(default)]
    pub adj_within_r2: Option<f64>,
    #[serde(default)]
    pub pseudo_r2: Option<f64>,
    #[serde(default)]
    pub loglik: Option<f64>,
}

/// A fixed effect of a fit result.
#[derive(Debug, Clone, Deserialize)]
pub struct FixedEffectRecord {
    pub name: String,
    #[serde(default)]
    pub levels: Option<u64>,
}

/// First-stage summary of one endogenous variable (IV results).
#[derive(Debug, Clone, Deserialize)]
pub struct FirstStageRecord {
    pub endogenous: String,
    #[serde(default)]
    pub f_stat: Option<f64>,
    #[serde(default)]
    pub kp_f: Option<f64>,
}

/// A term dropped from a fit.
#[derive(Debug, Clone, Deserialize)]
pub struct DroppedTermRecord {
    pub term: String,
}

/// One saved fit result (`keju.fit/1`), the fields a table uses. Unknown fields are ignored;
/// optional ones may be absent.
#[derive(Debug, Clone, Deserialize)]
pub struct FitRecord {
    #[serde(default)]
    pub schema: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    pub outcome: String,
    pub nobs: u64,
    pub coefficients: Vec<CoefRecord>,
    #[serde(default)]
    pub vcov: VcovRecord,
    #[serde(default)]
    pub fit: FitStatsRecord,
    #[serde(default)]
    pub fixed_effects: Vec<FixedEffectRecord>,
    #[serde(default)]
    pub dropped_terms: Vec<DroppedTermRecord>,
    #[serde(default)]
    pub first_stage: Option<Vec<FirstStageRecord>>,
}

impl FitRecord {
    /// Parse a `keju fit --format json` result. `path` names the source in errors.
    ///
    /// **Errors**: [`Error::Schema`] when the text is not JSON of a fit result or its schema is
    /// not `keju.fit/1`.
    pub fn from_json(text: &str, path: &str) -> Result<FitRecord> {
        let rec: FitRecord = serde_json::from_str(text).map_err(|e| Error::Schema {
            path: path.to_string(),
            message: format!("not a keju fit result (keju fit --format json): {e}"),
        })?;
        if let Some(s) = &rec.schema {
            if !s.starts_with("keju.fit/") {
                return Err(Error::Schema {
                    path: path.to_string(),
                    message: format!("schema \"{s}\" is not a fit result (expected keju.fit/1)"),
                });
            }
        }
        Ok(rec)
    }

    /// Read and parse a result file. **Errors**: [`Error::Io`]; as [`FitRecord::from_json`].
    pub fn load(path: &std::path::Path) -> Result<FitRecord> {
        let p = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
            path: p.clone(),
            message: e.to_string(),
        })?;
        FitRecord::from_json(&text, &p)
    }

    fn is_binary_choice(&self) -> bool {
        matches!(self.model.as_deref(), Some("probit" | "logit"))
    }

    fn has_term(&self, term: &str) -> bool {
        self.coefficients.iter().any(|c| c.term == term)
            || self.dropped_terms.iter().any(|d| d.term == term)
    }
}

/// The statistic printed beneath each coefficient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Stat {
    /// t statistic (z for probit/logit), as the paper and esttab.
    #[default]
    T,
    /// Standard error.
    Se,
    /// Two-sided p-value.
    P,
    /// 95% confidence interval, in brackets.
    Ci,
}

impl Stat {
    /// How the note names it.
    pub fn describe(self) -> &'static str {
        match self {
            Stat::T => "t statistics in parentheses",
            Stat::Se => "Standard errors in parentheses",
            Stat::P => "p-values in parentheses",
            Stat::Ci => "95% confidence intervals in brackets",
        }
    }
}

/// Default significance levels for one, two and three stars.
pub const DEFAULT_STARS: [f64; 3] = [0.10, 0.05, 0.01];

/// How to build a regression table.
#[derive(Debug, Clone, PartialEq)]
pub struct TableOptions {
    /// Statistic beneath each coefficient. Default: t.
    pub stat: Stat,
    /// Significance levels, strictly decreasing, in (0, 1); a p-value below the i-th earns
    /// i + 1 stars. Default: [`DEFAULT_STARS`]. Empty: no stars.
    pub stars: Vec<f64>,
    /// Decimals for coefficients and statistics. Default 3.
    pub digits: usize,
    /// Terms summarized by a Controls Yes/No row and hidden from the coefficient rows.
    pub controls: Vec<String>,
    /// Only these terms (empty: all).
    pub keep: Vec<String>,
    /// Not these terms.
    pub drop: Vec<String>,
    /// These terms first, in this order; the rest follow in order of first appearance.
    pub order: Vec<String>,
    /// Column titles; default: the outcome of each result.
    pub titles: Option<Vec<String>>,
    /// term → label, for coefficient rows and fixed-effect names.
    pub labels: HashMap<String, String>,
    /// Add a within-R² row.
    pub within_r2: bool,
    /// Optional caption.
    pub title: Option<String>,
}

impl Default for TableOptions {
    fn default() -> Self {
        TableOptions {
            stat: Stat::T,
            stars: DEFAULT_STARS.to_vec(),
            digits: 3,
            controls: Vec::new(),
            keep: Vec::new(),
            drop: Vec::new(),
            order: Vec::new(),
            titles: None,
            labels: HashMap::new(),
            within_r2: false,
            title: None,
        }
    }
}

impl TableOptions {
    /// Check the options against `n_cols` results.
    ///
    /// **Errors**: [`Error::Usage`] for star levels that are not strictly decreasing in (0, 1),
    /// or titles whose count differs from the number of results.
    pub fn validate(&self, n_cols: usize) -> Result<()> {
        if self.stars.iter().any(|&s| !(s > 0.0 && s < 1.0))
            || self.stars.windows(2).any(|w| w[1] >= w[0])
        {
            return Err(Error::usage(format!(
                "--stars must be strictly decreasing levels in (0, 1), e.g. 0.1,0.05,0.01; got {:?}",
                self.stars
            )));
        }
        if let Some(t) = &self.titles {
            if t.len() != n_cols {
                return Err(Error::usage(format!(
                    "--titles has {} names for {n_cols} results",
                    t.len()
                )));
            }
        }
        if self.digits > 12 {
            return Err(Error::usage("--digits must be at most 12"));
        }
        Ok(())
    }

    fn label<'a>(&'a self, key: &'a str) -> &'a str {
        self.labels.get(key).map_or(key, |s| s.as_str())
    }

    /// Number of stars for a p-value.
    pub fn stars_for(&self, p: Option<f64>) -> usize {
        match p {
            Some(p) if p.is_finite() => self.stars.iter().filter(|&&s| p < s).count(),
            _ => 0,
        }
    }
}

/// Read a labels file: a CSV (or any file [`crate::data::Frame::load`] reads) with columns
/// `term` and `label`.
///
/// **Errors**: as [`crate::data::Frame::load`]; [`Error::ColumnNotFound`] without `term` or
/// `label`.
pub fn load_labels(path: &std::path::Path) -> Result<HashMap<String, String>> {
    let frame = crate::data::Frame::load(path)?;
    let term = frame.column("term")?;
    let label = frame.column("label")?;
    Ok((0..frame.n_rows())
        .filter_map(|i| Some((term.cell_text(i)?, label.cell_text(i)?)))
        .collect())
}

/// Format a significance level for the note: at least two decimals (0.10, 0.05, 0.01, 0.001).
pub fn format_level(level: f64) -> String {
    for d in 2..=6 {
        let s = format!("{:.*}", d, level);
        if (s.parse::<f64>().unwrap_or(f64::NAN) - level).abs() < 1e-12 {
            return s;
        }
    }
    format!("{level}")
}

/// How a column's variance reads in the note, e.g. "standard errors clustered by firm".
pub fn describe_vcov(v: &VcovRecord) -> String {
    match v.kind.as_str() {
        "iid" => "conventional (iid) standard errors".into(),
        "hetero" => "heteroskedasticity-robust (HC1) standard errors".into(),
        "cluster" if !v.cluster.is_empty() => {
            format!("standard errors clustered by {}", v.cluster.join(" and "))
        }
        "" => "standard errors".into(),
        other => format!("{other} standard errors"),
    }
}

/// A regression table: results in column order and the options that shape it.
#[derive(Debug, Clone)]
pub struct RegressionTable {
    pub results: Vec<FitRecord>,
    pub options: TableOptions,
}

impl RegressionTable {
    /// Build the table model.
    ///
    /// **Errors**: [`Error::Usage`] as [`TableOptions::validate`], or when no result is given.
    pub fn build(results: Vec<FitRecord>, options: TableOptions) -> Result<Grid> {
        if results.is_empty() {
            return Err(Error::usage("no results to tabulate"));
        }
        options.validate(results.len())?;
        Ok(RegressionTable { results, options }.grid())
    }

    /// Terms shown as coefficient rows, in display order.
    pub fn terms(&self) -> Vec<String> {
        let o = &self.options;
        let mut seen: Vec<String> = Vec::new();
        for r in &self.results {
            for c in &r.coefficients {
                if !seen.contains(&c.term) {
                    seen.push(c.term.clone());
                }
            }
        }
        seen.retain(|t| {
            !o.controls.contains(t)
                && !o.drop.contains(t)
                && (o.keep.is_empty() || o.keep.contains(t))
        });
        let mut out: Vec<String> = o
            .order
            .iter()
            .filter(|t| seen.contains(t))
            .cloned()
            .collect();
        out.extend(seen.into_iter().filter(|t| !o.order.contains(t)));
        out
    }

    fn grid(&self) -> Grid {
        let o = &self.options;
        let k = self.results.len();
        let digits = o.digits;
        let titles: Vec<String> = match &o.titles {
            Some(t) => t.clone(),
            None => self
                .results
                .iter()
                .map(|r| o.label(&r.outcome).to_string())
                .collect(),
        };
        let header = vec![(1..=k).map(|i| format!("({i})")).collect(), titles];

        let mut coef_rows = Vec::new();
        for term in self.terms() {
            let mut est = Vec::with_capacity(k);
            let mut stat = Vec::with_capacity(k);
            for r in &self.results {
                match r.coefficients.iter().find(|c| c.term == term) {
                    None => {
                        est.push(Cell::Empty);
                        stat.push(Cell::Empty);
                    }
                    Some(c) => {
                        est.push(Cell::Number {
                            value: c.estimate.filter(|v| v.is_finite()),
                            digits,
                            stars: o.stars_for(c.p),
                            parens: false,
                        });
                        let num = |v: Option<f64>| Cell::Number {
                            value: v.filter(|v| v.is_finite()),
                            digits,
                            stars: 0,
                            parens: true,
                        };
                        stat.push(match o.stat {
                            Stat::T => num(c.t),
                            Stat::Se => num(c.std_error),
                            Stat::P => num(c.p),
                            Stat::Ci => Cell::Interval {
                                low: c.ci_low,
                                high: c.ci_high,
                                digits,
                            },
                        });
                    }
                }
            }
            coef_rows.push(Row {
                kind: RowKind::Coefficient,
                key: term.clone(),
                label: o.label(&term).to_string(),
                cells: est,
            });
            coef_rows.push(Row {
                kind: RowKind::Statistic,
                key: term.clone(),
                label: String::new(),
                cells: stat,
            });
        }

        let yes_no = |b: bool| Cell::text(if b { "Yes" } else { "No" });
        let mut indicator_rows = Vec::new();
        if !o.controls.is_empty() {
            indicator_rows.push(Row {
                kind: RowKind::Indicator,
                key: "controls".into(),
                label: "Controls".into(),
                cells: self
                    .results
                    .iter()
                    .map(|r| yes_no(o.controls.iter().any(|c| r.has_term(c))))
                    .collect(),
            });
        }
        let mut fe_names: Vec<&str> = Vec::new();
        for r in &self.results {
            for fe in &r.fixed_effects {
                if !fe_names.contains(&fe.name.as_str()) {
                    fe_names.push(&fe.name);
                }
            }
        }
        for name in fe_names {
            indicator_rows.push(Row {
                kind: RowKind::Indicator,
                key: format!("fe:{name}"),
                label: format!("{} FE", o.label(name)),
                cells: self
                    .results
                    .iter()
                    .map(|r| yes_no(r.fixed_effects.iter().any(|f| f.name == name)))
                    .collect(),
            });
        }

        let mut summary_rows = vec![Row {
            kind: RowKind::Summary,
            key: "nobs".into(),
            label: "N".into(),
            cells: self
                .results
                .iter()
                .map(|r| Cell::Count { value: r.nobs })
                .collect(),
        }];
        let any_glm = self.results.iter().any(FitRecord::is_binary_choice);
        let any_lm = self.results.iter().any(|r| !r.is_binary_choice());
        let opt_num = |v: Option<f64>| v.map_or(Cell::Empty, |v| Cell::number(v, digits));
        if any_lm {
            summary_rows.push(Row {
                kind: RowKind::Summary,
                key: "adj_r2".into(),
                label: "Adj. R²".into(),
                cells: self
                    .results
                    .iter()
                    .map(|r| opt_num((!r.is_binary_choice()).then_some(r.fit.adj_r2).flatten()))
                    .collect(),
            });
        }
        if any_glm {
            summary_rows.push(Row {
                kind: RowKind::Summary,
                key: "pseudo_r2".into(),
                label: "Pseudo R²".into(),
                cells: self
                    .results
                    .iter()
                    .map(|r| opt_num(r.is_binary_choice().then_some(r.fit.pseudo_r2).flatten()))
                    .collect(),
            });
        }
        if o.within_r2 {
            summary_rows.push(Row {
                kind: RowKind::Summary,
                key: "within_r2".into(),
                label: "Within R²".into(),
                cells: self
                    .results
                    .iter()
                    .map(|r| opt_num(r.fit.within_r2))
                    .collect(),
            });
        }
        let mut endogenous: Vec<&str> = Vec::new();
        for r in &self.results {
            for fs in r.first_stage.iter().flatten() {
                if !endogenous.contains(&fs.endogenous.as_str()) {
                    endogenous.push(&fs.endogenous);
                }
            }
        }
        let single_endog = endogenous.len() == 1;
        for name in endogenous {
            summary_rows.push(Row {
                kind: RowKind::Summary,
                key: format!("first_stage_f:{name}"),
                label: if single_endog {
                    "First-stage F".into()
                } else {
                    format!("First-stage F ({})", o.label(name))
                },
                cells: self
                    .results
                    .iter()
                    .map(|r| {
                        let fs = r
                            .first_stage
                            .iter()
                            .flatten()
                            .find(|f| f.endogenous == name);
                        opt_num(fs.and_then(|f| f.kp_f.or(f.f_stat)))
                    })
                    .collect(),
            });
        }

        let mut sections = vec![coef_rows];
        if !indicator_rows.is_empty() {
            sections.push(indicator_rows);
        }
        sections.push(summary_rows);
        sections.retain(|s| !s.is_empty());

        Grid {
            title: o.title.clone(),
            stub: String::new(),
            n_cols: k,
            header,
            sections,
            notes: self.notes(),
        }
    }

    fn notes(&self) -> Vec<String> {
        let o = &self.options;
        let mut notes = Vec::new();
        let descs: Vec<String> = self
            .results
            .iter()
            .map(|r| describe_vcov(&r.vcov))
            .collect();
        let n_glm = self.results.iter().filter(|r| r.is_binary_choice()).count();
        let what = match (o.stat, n_glm) {
            (Stat::T, n) if n == self.results.len() => "z statistics in parentheses",
            (Stat::T, n) if n > 0 => "t statistics (z for probit/logit) in parentheses",
            _ => o.stat.describe(),
        };
        let sep = if o.stat == Stat::Se { ":" } else { ", from" };
        let stat_note = if descs.iter().all(|d| *d == descs[0]) {
            format!("{what}{sep} {}", descs[0])
        } else {
            // Group columns sharing a variance: "(1), (2) iid ...; (3) clustered by firm".
            let mut groups: Vec<(String, Vec<String>)> = Vec::new();
            for (i, d) in descs.iter().enumerate() {
                match groups.iter_mut().find(|(g, _)| g == d) {
                    Some((_, cols)) => cols.push(format!("({})", i + 1)),
                    None => groups.push((d.clone(), vec![format!("({})", i + 1)])),
                }
            }
            let per: Vec<String> = groups
                .iter()
                .map(|(d, cols)| format!("{} {d}", cols.join(", ")))
                .collect();
            format!("{what}{sep} {}", per.join("; "))
        };
        notes.push(format!("{stat_note}."));
        if !o.stars.is_empty() {
            let parts: Vec<String> = o
                .stars
                .iter()
                .enumerate()
                .rev()
                .map(|(i, s)| format!("{} p<{}", "*".repeat(i + 1), format_level(*s)))
                .collect();
            notes.push(format!("{}.", parts.join(", ")));
        }
        if !o.controls.is_empty() {
            let names: Vec<&str> = o.controls.iter().map(|c| o.label(c)).collect();
            notes.push(format!("Controls: {}.", names.join(", ")));
        }
        notes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(outcome: &str, terms: &[(&str, f64, f64)], fe: &[&str], vcov: &str) -> FitRecord {
        let coefs: Vec<String> = terms
            .iter()
            .map(|(t, b, p)| {
                format!(
                    r#"{{"term":"{t}","estimate":{b},"std_error":0.1,"t":{},"p":{p},"ci_low":0,"ci_high":1}}"#,
                    b / 0.1
                )
            })
            .collect();
        let fes: Vec<String> = fe
            .iter()
            .map(|f| format!(r#"{{"name":"{f}","levels":3}}"#))
            .collect();
        let text = format!(
            r#"{{"schema":"keju.fit/1","model":"ols","outcome":"{outcome}","nobs":100,
            "coefficients":[{}],"vcov":{{"type":"{vcov}","cluster":["firm"]}},
            "fit":{{"r2":0.5,"adj_r2":0.45}},"fixed_effects":[{}]}}"#,
            coefs.join(","),
            fes.join(",")
        );
        FitRecord::from_json(&text, "t.json").unwrap()
    }

    #[test]
    fn stars_follow_levels() {
        let o = TableOptions::default();
        assert_eq!(o.stars_for(Some(0.2)), 0);
        assert_eq!(o.stars_for(Some(0.07)), 1);
        assert_eq!(o.stars_for(Some(0.03)), 2);
        assert_eq!(o.stars_for(Some(0.001)), 3);
        assert_eq!(o.stars_for(None), 0);
    }

    #[test]
    fn rows_built_from_results() {
        let a = rec("y", &[("x", 0.5, 0.001), ("z", 1.0, 0.5)], &[], "iid");
        let b = rec("y", &[("x", 0.4, 0.04), ("w", 2.0, 0.2)], &["year"], "iid");
        let opts = TableOptions {
            controls: vec!["w".into()],
            ..TableOptions::default()
        };
        let g = RegressionTable::build(vec![a, b], opts).unwrap();
        let keys: Vec<(&str, RowKind)> = g
            .sections
            .iter()
            .flatten()
            .map(|r| (r.key.as_str(), r.kind))
            .collect();
        assert_eq!(
            keys,
            vec![
                ("x", RowKind::Coefficient),
                ("x", RowKind::Statistic),
                ("z", RowKind::Coefficient),
                ("z", RowKind::Statistic),
                ("controls", RowKind::Indicator),
                ("fe:year", RowKind::Indicator),
                ("nobs", RowKind::Summary),
                ("adj_r2", RowKind::Summary),
            ]
        );
        let controls = &g.sections[1][0];
        assert_eq!(controls.cells, vec![Cell::text("No"), Cell::text("Yes")]);
        assert_eq!(g.sections[1][1].label, "year FE");
        assert_eq!(g.sections[0][0].cells[0].rounded("-"), ("0.500".into(), 3));
        assert_eq!(g.sections[0][1].cells[1].rounded("-").0, "(4.000)");
        assert_eq!(
            g.notes[0],
            "t statistics in parentheses, from conventional (iid) standard errors."
        );
        assert_eq!(g.notes[1], "*** p<0.01, ** p<0.05, * p<0.10.");
    }

    #[test]
    fn keep_drop_order() {
        let a = rec(
            "y",
            &[("a", 1.0, 0.5), ("b", 1.0, 0.5), ("c", 1.0, 0.5)],
            &[],
            "iid",
        );
        let t = |o: TableOptions| {
            RegressionTable {
                results: vec![a.clone()],
                options: o,
            }
            .terms()
        };
        assert_eq!(
            t(TableOptions {
                order: vec!["c".into()],
                ..Default::default()
            }),
            ["c", "a", "b"]
        );
        assert_eq!(
            t(TableOptions {
                keep: vec!["b".into(), "a".into()],
                ..Default::default()
            }),
            ["a", "b"]
        );
        assert_eq!(
            t(TableOptions {
                drop: vec!["b".into()],
                ..Default::default()
            }),
            ["a", "c"]
        );
    }

    #[test]
    fn mixed_vcov_note_per_column() {
        let a = rec("y", &[("x", 0.5, 0.001)], &[], "iid");
        let b = rec("y", &[("x", 0.5, 0.001)], &[], "cluster");
        let g = RegressionTable::build(vec![a, b], TableOptions::default()).unwrap();
        assert_eq!(
            g.notes[0],
            "t statistics in parentheses, from (1) conventional (iid) standard errors; (2) standard errors clustered by firm."
        );
    }

    #[test]
    fn tolerant_of_optional_fields() {
        let text = r#"{"outcome":"env","model":"probit","nobs":10,
            "coefficients":[{"term":"x","estimate":0.1,"p":null}],
            "fit":{"pseudo_r2":0.2,"loglik":-3.0},
            "first_stage":[{"endogenous":"x","f_stat":25.0,"kp_f":20.0,"coefficients":[]}]}"#;
        let r = FitRecord::from_json(text, "a.json").unwrap();
        let g = RegressionTable::build(vec![r], TableOptions::default()).unwrap();
        let summary = g.sections.last().unwrap();
        assert!(summary.iter().any(|r| r.key == "pseudo_r2"));
        assert!(!summary.iter().any(|r| r.key == "adj_r2"));
        let fs = summary.iter().find(|r| r.label == "First-stage F").unwrap();
        assert_eq!(fs.cells[0].rounded("-").0, "20.000");
    }

    #[test]
    fn rejects_bad_stars() {
        let a = rec("y", &[("x", 0.5, 0.001)], &[], "iid");
        let o = TableOptions {
            stars: vec![0.01, 0.05],
            ..Default::default()
        };
        assert!(RegressionTable::build(vec![a], o).is_err());
    }

    #[test]
    fn levels_formatted() {
        assert_eq!(format_level(0.1), "0.10");
        assert_eq!(format_level(0.001), "0.001");
    }
}
