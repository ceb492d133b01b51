//! Replication specs: a researcher's whole design in one TOML file, and its runner
//! ([`run::replicate`], `keju replicate`).
//!
//! A spec names the input panel and how its columns map to the model's variables, the sample
//! rules, winsorizing, and every table: each column's outcome, regressors, fixed effects,
//! cluster, estimator, sample and split, with the paper's published coefficient and the
//! simulation's true one when known. The format is documented in `specs/README.md`.
//!
//! Errors name the key and the line of the spec ([`Error::Spec`]); everything that can be
//! checked without fitting (files, column names, estimators, rules) is checked before the first
//! model runs ([`Spec::validate`]).

pub mod run;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::data::Frame;
use crate::error::{closest, Error, Result};
use crate::formula::Formula;
use crate::vcov::VcovKind;

/// The whole spec file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Title of the replication (printed in the log).
    #[serde(default)]
    pub title: Option<String>,
    pub data: DataSpec,
    #[serde(default)]
    pub sample: SampleSpec,
    #[serde(default)]
    pub winsorize: Option<WinsorizeSpec>,
    #[serde(default)]
    pub truth: Option<TruthSpec>,
    pub defaults: Defaults,
    /// term → label for tables (e.g. `js_200 = "Js\\_200"`).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Summary statistics table.
    #[serde(default)]
    pub describe: Option<DescribeSpec>,
    #[serde(rename = "table", default)]
    pub tables: Vec<TableSpec>,
}

/// Input data and column mapping.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSpec {
    /// Firm-year panel (CSV, Excel, Stata, Parquet), relative to the spec file.
    pub panel: String,
    /// Firm identifier column (after renaming).
    pub id: String,
    /// Fiscal-year column (after renaming).
    pub time: String,
    /// Renaming from the file's column names to the model's: `Stkcd = "stkcd"`.
    #[serde(default)]
    pub rename: BTreeMap<String, String>,
    /// Derived variables: `size = "log(assets)"` (formula arithmetic, evaluated in order).
    #[serde(default)]
    pub derive: BTreeMap<String, String>,
}

/// Sample rules.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SampleSpec {
    /// The baseline sample, a row filter (`st == 0 & year >= 2009`); columns use it unless
    /// they say `sample = "all"`.
    #[serde(default)]
    pub baseline: Option<String>,
}

/// Winsorizing of continuous variables before any model.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WinsorizeSpec {
    pub vars: Vec<String>,
    /// Tail share, default 0.01 (1st and 99th percentiles).
    #[serde(default = "default_p")]
    pub p: f64,
    /// Winsorize within each level of this column (e.g. year); pooled when absent.
    #[serde(default)]
    pub by: Option<String>,
}

fn default_p() -> f64 {
    0.01
}

/// Where the true coefficients of a simulated panel are.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TruthSpec {
    /// JSON written by `keju simulate --truth`, relative to the spec file.
    pub file: String,
}

/// Defaults for every column.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// The coefficient of interest (`js_200`): compared with the paper and the truth.
    pub term: String,
    #[serde(default)]
    pub controls: Vec<String>,
    #[serde(default)]
    pub fixed_effects: Vec<String>,
    #[serde(default)]
    pub cluster: Vec<String>,
    #[serde(default)]
    pub vcov: Option<VcovKind>,
}

/// A summary-statistics table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DescribeSpec {
    pub vars: Vec<String>,
    #[serde(default)]
    pub corr: bool,
}

/// Estimators a column can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Estimator {
    #[default]
    Ols,
    Iv,
    Probit,
    Logit,
}

/// One table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableSpec {
    pub id: String,
    pub title: String,
    #[serde(rename = "column")]
    pub columns: Vec<ColumnSpec>,
}

/// One column (one model, or one model per group with `split`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnSpec {
    /// Column header (default: the outcome).
    #[serde(default)]
    pub title: Option<String>,
    pub outcome: String,
    /// Regressors of interest; default `[defaults.term]`.
    #[serde(default)]
    pub regressors: Option<Vec<String>>,
    /// Include `defaults.controls` (default true).
    #[serde(default)]
    pub controls: Option<bool>,
    /// Controls added to (or replacing, when `controls = false`) the defaults.
    #[serde(default)]
    pub extra_controls: Vec<String>,
    /// Fixed effects; default `defaults.fixed_effects`.
    #[serde(default)]
    pub fixed_effects: Option<Vec<String>>,
    #[serde(default)]
    pub cluster: Option<Vec<String>>,
    #[serde(default)]
    pub vcov: Option<VcovKind>,
    #[serde(default)]
    pub estimator: Estimator,
    /// IV: endogenous regressors and excluded instruments.
    #[serde(default)]
    pub endogenous: Vec<String>,
    #[serde(default)]
    pub instruments: Vec<String>,
    /// `baseline` (default) or `all`.
    #[serde(default)]
    pub sample: Option<String>,
    /// An extra row filter for this column.
    #[serde(default)]
    pub filter: Option<String>,
    /// Split rule (see [`crate::estimate::split`]): one column per group plus an equality test.
    #[serde(default)]
    pub split: Option<String>,
    /// Labels of the split groups (default: the rule's).
    #[serde(default)]
    pub group_titles: Vec<String>,
    /// Propensity-score matching before the fit: treatment column and covariates.
    #[serde(default)]
    pub psm: Option<PsmSpec>,
    /// The paper's published coefficient of `defaults.term` (one per group with `split`).
    #[serde(default)]
    pub paper: Vec<f64>,
    /// Dotted paths into the truth JSON (one per group with `split`).
    #[serde(default)]
    pub truth: Vec<String>,
}

/// Matching step of a column.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PsmSpec {
    /// 0/1 treatment, or a rule `var > median` that defines it.
    pub treat: String,
    pub covariates: Vec<String>,
    #[serde(default)]
    pub caliper: Option<f64>,
}

/// A spec as read, with where it came from.
#[derive(Debug, Clone)]
pub struct LoadedSpec {
    pub spec: Spec,
    pub path: PathBuf,
    pub text: String,
}

impl LoadedSpec {
    /// Read and parse a spec file.
    ///
    /// **Errors**: [`Error::Io`]; [`Error::Spec`] with the line and the key for TOML syntax,
    /// unknown keys, wrong types and unknown estimators.
    pub fn load(path: &Path) -> Result<LoadedSpec> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
            path: shown.clone(),
            message: e.to_string(),
        })?;
        let spec: Spec = toml::from_str(&text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].lines().count().max(1));
            let msg = e.message().to_string();
            Error::Spec {
                path: shown.clone(),
                key: line.map_or_else(String::new, |l| format!("line {l}")),
                message: msg,
            }
        })?;
        Ok(LoadedSpec {
            spec,
            path: path.to_path_buf(),
            text,
        })
    }

    /// A path in the spec, relative to the spec file's folder.
    pub fn resolve(&self, rel: &str) -> PathBuf {
        let p = Path::new(rel);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.path.parent().unwrap_or(Path::new(".")).join(p)
        }
    }

    /// A spec error naming `key` and the first line of the spec where `needle` occurs.
    pub fn error(&self, key: &str, needle: &str, message: impl Into<String>) -> Error {
        let line = self
            .text
            .lines()
            .position(|l| l.contains(needle))
            .map(|i| i + 1);
        Error::Spec {
            path: self.path.display().to_string(),
            key: match line {
                Some(l) => format!("{key} (line {l})"),
                None => key.to_string(),
            },
            message: message.into(),
        }
    }
}

/// A column turned into a formula and options.
#[derive(Debug, Clone)]
pub struct ColumnModel {
    pub formula: String,
    pub estimator: Estimator,
    pub cluster: Vec<String>,
    pub vcov: Option<VcovKind>,
    /// Combined row filter (baseline and column filter).
    pub subset: Option<String>,
    /// Controls included (for the Controls row).
    pub controls: Vec<String>,
}

impl Spec {
    /// The formula and options of a column.
    pub fn column_model(&self, col: &ColumnSpec) -> ColumnModel {
        let mut rhs: Vec<String> = col
            .regressors
            .clone()
            .unwrap_or_else(|| vec![self.defaults.term.clone()]);
        if col.estimator == Estimator::Iv {
            rhs.retain(|r| !col.endogenous.contains(r));
        }
        let mut controls = Vec::new();
        if col.controls.unwrap_or(true) {
            controls.extend(self.defaults.controls.iter().cloned());
        }
        controls.extend(col.extra_controls.iter().cloned());
        rhs.extend(controls.iter().cloned());
        let fe = col
            .fixed_effects
            .clone()
            .unwrap_or_else(|| self.defaults.fixed_effects.clone());
        let quote = |v: &String| {
            if v.chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '.')
            {
                v.clone()
            } else {
                format!("`{v}`")
            }
        };
        let mut formula = format!(
            "{} ~ {}",
            quote(&col.outcome),
            if rhs.is_empty() {
                "1".to_string()
            } else {
                rhs.iter().map(quote).collect::<Vec<_>>().join(" + ")
            }
        );
        if !fe.is_empty() {
            formula += &format!(
                " | {}",
                fe.iter().map(quote).collect::<Vec<_>>().join(" + ")
            );
        }
        if col.estimator == Estimator::Iv {
            formula += &format!(
                " | {} ~ {}",
                col.endogenous
                    .iter()
                    .map(quote)
                    .collect::<Vec<_>>()
                    .join(" + "),
                col.instruments
                    .iter()
                    .map(quote)
                    .collect::<Vec<_>>()
                    .join(" + ")
            );
        }
        let baseline = match col.sample.as_deref() {
            Some("all") => None,
            _ => self.sample.baseline.clone(),
        };
        let subset = match (baseline, &col.filter) {
            (Some(b), Some(f)) => Some(format!("({b}) & ({f})")),
            (Some(b), None) => Some(b),
            (None, Some(f)) => Some(f.clone()),
            (None, None) => None,
        };
        ColumnModel {
            formula,
            estimator: col.estimator,
            cluster: col
                .cluster
                .clone()
                .unwrap_or_else(|| self.defaults.cluster.clone()),
            vcov: col.vcov.or(self.defaults.vcov),
            subset,
            controls,
        }
    }

    /// Check everything that can be checked before fitting: columns of every formula, filter,
    /// split, cluster, winsorized and described variable exist; estimators fit the column
    /// (IV needs endogenous and instruments); sample values are known.
    ///
    /// **Errors**: [`Error::Spec`] naming the table, column and key.
    pub fn validate(&self, loaded: &LoadedSpec, frame: &Frame) -> Result<()> {
        let names: Vec<&str> = frame.names.iter().map(|s| s.as_str()).collect();
        let check_col = |key: &str, col: &str| -> Result<()> {
            if frame.names.iter().any(|n| n == col) {
                Ok(())
            } else {
                let hint = closest(col, names.iter().copied())
                    .map(|c| format!("; did you mean \"{c}\"?"))
                    .unwrap_or_default();
                Err(loaded.error(
                    key,
                    col,
                    format!("column \"{col}\" is not in {}{hint}", frame.source),
                ))
            }
        };
        check_col("data.id", &self.data.id)?;
        check_col("data.time", &self.data.time)?;
        if let Some(w) = &self.winsorize {
            for v in &w.vars {
                check_col("winsorize.vars", v)?;
            }
            if let Some(b) = &w.by {
                check_col("winsorize.by", b)?;
            }
            if !(w.p > 0.0 && w.p < 0.5) {
                return Err(loaded.error("winsorize.p", "p =", "p must be in (0, 0.5)"));
            }
        }
        if let Some(d) = &self.describe {
            for v in &d.vars {
                check_col("describe.vars", v)?;
            }
        }
        let subset_cols = |key: &str, expr: &str| -> Result<()> {
            let s = crate::subset::Subset::parse(expr)
                .map_err(|e| loaded.error(key, expr, e.to_string()))?;
            for c in s.columns() {
                check_col(key, &c)?;
            }
            Ok(())
        };
        if let Some(b) = &self.sample.baseline {
            subset_cols("sample.baseline", b)?;
        }
        for t in &self.tables {
            for (j, col) in t.columns.iter().enumerate() {
                let key = format!("table \"{}\", column {}", t.id, j + 1);
                if col.estimator == Estimator::Iv
                    && (col.endogenous.is_empty() || col.instruments.is_empty())
                {
                    return Err(loaded.error(
                        &key,
                        &t.id,
                        "estimator \"iv\" needs endogenous and instruments",
                    ));
                }
                if col.estimator != Estimator::Iv
                    && !(col.endogenous.is_empty() && col.instruments.is_empty())
                {
                    return Err(loaded.error(
                        &key,
                        &t.id,
                        "endogenous/instruments need estimator = \"iv\"",
                    ));
                }
                if let Some(s) = col.sample.as_deref() {
                    if s != "baseline" && s != "all" {
                        return Err(loaded.error(
                            &key,
                            s,
                            format!("sample = \"{s}\": expected \"baseline\" or \"all\""),
                        ));
                    }
                }
                let m = self.column_model(col);
                let f = Formula::parse(&m.formula)
                    .map_err(|e| loaded.error(&key, &col.outcome, e.to_string()))?;
                for v in f.vars() {
                    check_col(&key, &v)?;
                }
                for c in &m.cluster {
                    check_col(&key, c)?;
                }
                if let Some(s) = &col.filter {
                    subset_cols(&key, s)?;
                }
                if let Some(rule) = &col.split {
                    let r = crate::estimate::split::SplitRule::parse(rule)
                        .map_err(|e| loaded.error(&key, rule, e.to_string()))?;
                    match &r {
                        crate::estimate::split::SplitRule::Levels(c) => check_col(&key, c)?,
                        crate::estimate::split::SplitRule::Condition(e) => subset_cols(&key, e)?,
                        crate::estimate::split::SplitRule::Threshold { var, by, .. } => {
                            check_col(&key, var)?;
                            if let Some(b) = by {
                                check_col(&key, b)?;
                            }
                        }
                    }
                }
                if let Some(p) = &col.psm {
                    for c in &p.covariates {
                        check_col(&key, c)?;
                    }
                }
            }
        }
        Ok(())
    }
}
