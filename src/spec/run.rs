//! `keju replicate`: run every table of a spec and write LaTeX, Markdown, CSV and JSON files,
//! `index.json` (tables and truth checks) and `log.txt` (sample sizes, everything dropped).

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{ColumnSpec, Estimator, LoadedSpec, Spec};
use crate::data::{Column, Frame};
use crate::error::{Error, Result};
use crate::estimate::split::{fit_split, SplitResult, SplitRule};
use crate::estimate::{fit, FitOptions, FitResult, Model};
use crate::formula::Formula;
use crate::report::grid::{Cell, Grid, Row, RowKind, WriterOptions};
use crate::report::table::{FitRecord, RegressionTable, TableOptions};
use crate::report::{render_tables, TableFormat};

/// Options of a replication run.
#[derive(Debug, Clone)]
pub struct ReplicateOptions {
    pub out_dir: PathBuf,
    /// No progress or summary on stderr.
    pub quiet: bool,
}

/// Files written for one table.
#[derive(Debug, Clone, Serialize)]
pub struct TableFiles {
    pub latex: String,
    pub markdown: String,
    pub csv: String,
    pub json: String,
}

/// One table in `index.json`.
#[derive(Debug, Clone, Serialize)]
pub struct TableEntry {
    pub id: String,
    pub title: String,
    pub files: TableFiles,
}

/// The truth check of one column.
#[derive(Debug, Clone, Serialize)]
pub struct TruthCheck {
    pub table: String,
    pub column: String,
    pub term: String,
    #[serde(rename = "true")]
    pub truth: f64,
    pub estimate: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub covered: bool,
}

/// The paper's coefficient beside ours.
#[derive(Debug, Clone, Serialize)]
pub struct PaperComparison {
    pub table: String,
    pub column: String,
    pub paper: f64,
    pub estimate: f64,
    pub nobs: usize,
}

/// `index.json` (schema `keju.replicate/1`).
#[derive(Debug, Clone, Serialize)]
pub struct Index {
    pub keju_version: &'static str,
    pub schema: &'static str,
    pub spec: String,
    pub tables: Vec<TableEntry>,
    pub truth_checks: Vec<TruthCheck>,
    pub paper: Vec<PaperComparison>,
}

struct Progress {
    quiet: bool,
    tty: bool,
    done: usize,
    total: usize,
}

impl Progress {
    fn step(&mut self, what: &str) {
        self.done += 1;
        if self.quiet {
            return;
        }
        if self.tty {
            eprint!("\r\x1b[2K[{}/{}] {what}", self.done, self.total);
            if self.done == self.total {
                eprintln!();
            }
        } else {
            eprintln!("[{}/{}] {what}", self.done, self.total);
        }
    }
}

/// One fitted column of a table (a split column gives one per group).
struct Fitted {
    title: String,
    result: FitResult,
    paper: Option<f64>,
    truth: Option<String>,
    controls: Vec<String>,
}

/// Run a spec.
///
/// **Errors**: [`Error::Spec`] for spec problems (checked before any model runs), the panel
/// check's duplicate firm-years, and any estimation error (with the table and column).
pub fn replicate(loaded: &LoadedSpec, opts: &ReplicateOptions) -> Result<Index> {
    let spec = &loaded.spec;
    let mut log = String::new();
    let panel_path = loaded.resolve(&spec.data.panel);
    if !panel_path.exists() {
        return Err(loaded.error(
            "data.panel",
            &spec.data.panel,
            format!("file {} not found", panel_path.display()),
        ));
    }
    let mut frame = Frame::load(&panel_path)?;
    log += &format!(
        "panel: {} ({} rows, {} columns)\n",
        frame.source,
        frame.n_rows(),
        frame.names.len()
    );
    for (from, to) in &spec.data.rename {
        let i = frame
            .index_of(from)
            .map_err(|e| loaded.error("data.rename", from, e.to_string()))?;
        frame.names[i] = to.clone();
    }
    for (name, expr) in &spec.data.derive {
        let f = Formula::parse(&format!("0 ~ I({expr})"))
            .map_err(|e| loaded.error("data.derive", name, e.to_string()))?;
        let crate::formula::Term::Numeric { factors, .. } = &f.terms[0] else {
            return Err(loaded.error("data.derive", name, "expected an arithmetic expression"));
        };
        let n = frame.n_rows();
        let values = factors[0]
            .eval(n, &|c: &str| frame.numeric(c))
            .map_err(|e| loaded.error("data.derive", name, e.to_string()))?;
        frame.set_column(name, Column::Num(values));
    }
    spec.validate(loaded, &frame)?;
    let report = crate::check::check_panel(
        &frame,
        &crate::check::CheckOptions::new(spec.data.id.clone(), spec.data.time.clone()),
    )?;
    if let Some(e) = report.duplicate_error() {
        return Err(e);
    }
    log += &format!(
        "panel check: {} firms, {} periods, {} rows\n",
        report.n_firms, report.n_periods, report.n_rows
    );
    if let Some(w) = &spec.winsorize {
        let rep = crate::transform::winsorize::winsorize_frame(
            &mut frame,
            &crate::transform::winsorize::WinsorizeOptions {
                vars: w.vars.clone(),
                by: w.by.clone(),
                p: w.p,
                rule: Default::default(),
            },
        )?;
        log += &format!(
            "winsorized at {} / {} ({} variables",
            w.p,
            1.0 - w.p,
            rep.variables.len()
        );
        let clipped: usize = rep
            .variables
            .iter()
            .map(|v| v.n_clipped_low + v.n_clipped_high)
            .sum();
        log += &format!(", {clipped} values clipped)\n");
    }
    let truth: Option<serde_json::Value> = match &spec.truth {
        Some(t) => {
            let p = loaded.resolve(&t.file);
            let text = std::fs::read_to_string(&p).map_err(|e| {
                loaded.error("truth.file", &t.file, format!("{}: {e}", p.display()))
            })?;
            Some(
                serde_json::from_str(&text)
                    .map_err(|e| loaded.error("truth.file", &t.file, e.to_string()))?,
            )
        }
        None => None,
    };

    std::fs::create_dir_all(&opts.out_dir).map_err(|e| Error::Io {
        path: opts.out_dir.display().to_string(),
        message: e.to_string(),
    })?;
    let total = spec.tables.iter().map(|t| t.columns.len()).sum::<usize>()
        + usize::from(spec.describe.is_some());
    let mut progress = Progress {
        quiet: opts.quiet,
        tty: std::io::stderr().is_terminal(),
        done: 0,
        total,
    };
    let mut index = Index {
        keju_version: crate::estimate::KEJU_VERSION,
        schema: "keju.replicate/1",
        spec: loaded.path.display().to_string(),
        tables: Vec::new(),
        truth_checks: Vec::new(),
        paper: Vec::new(),
    };
    let labels: HashMap<String, String> = spec
        .labels
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();

    if let Some(d) = &spec.describe {
        let dopts = crate::report::describe::DescribeOptions {
            vars: d.vars.clone(),
            corr: d.corr,
            ..Default::default()
        };
        // On the baseline sample, so the statistics describe the regressions' sample.
        let sample = match &spec.sample.baseline {
            Some(b) => frame.filter(&crate::subset::Subset::parse(b)?.evaluate(&frame)?),
            None => frame.clone(),
        };
        let desc = crate::report::describe::describe(&sample, &dopts)?;
        let grids = crate::report::describe::describe_grids(&desc, &dopts, &labels);
        write_table(&mut index, opts, "describe", "Summary statistics", &grids)?;
        progress.step("describe");
    }

    for t in &spec.tables {
        let mut fitted: Vec<Fitted> = Vec::new();
        let mut tests: Vec<(usize, Option<f64>)> = Vec::new();
        for (j, col) in t.columns.iter().enumerate() {
            let key = format!("table \"{}\", column {}", t.id, j + 1);
            progress.step(&format!("{} ({}) {}", t.id, j + 1, col.outcome));
            let m = spec.column_model(col);
            let formula = Formula::parse(&m.formula)?;
            let mut fo = FitOptions {
                vcov: m.vcov,
                cluster: m.cluster.clone(),
                subset: m.subset.clone(),
                model: match m.estimator {
                    Estimator::Probit => Model::Probit,
                    Estimator::Logit => Model::Logit,
                    _ => Model::Ols,
                },
                ..FitOptions::default()
            };
            let wrap = |e: Error| e.context(key.clone());
            if let Some(rule) = &col.split {
                let rule = SplitRule::parse(rule).map_err(wrap)?;
                let r: SplitResult =
                    fit_split(&frame, &formula, &fo, &rule, Some(&spec.defaults.term))
                        .map_err(wrap)?;
                let first = fitted.len();
                for (g, grp) in r.groups.iter().enumerate() {
                    log_fit(
                        &mut log,
                        &t.id,
                        &format!("{} [{}]", col.outcome, grp.group),
                        &m.formula,
                        &grp.result,
                    );
                    fitted.push(Fitted {
                        title: col
                            .group_titles
                            .get(g)
                            .cloned()
                            .unwrap_or_else(|| grp.group.clone()),
                        result: grp.result.clone(),
                        paper: col.paper.get(g).copied(),
                        truth: col.truth.get(g).cloned(),
                        controls: m.controls.clone(),
                    });
                }
                tests.push((first, r.equality_test.as_ref().map(|e| e.p)));
                if let Some(e) = &r.equality_test {
                    log += &format!(
                        "  equality of {} across groups: F({}, {}) = {:.3}, p = {:.4}\n",
                        e.term, e.df1, e.df2, e.f_stat, e.p
                    );
                }
                continue;
            }
            let result = if let Some(psm) = &col.psm {
                let (matched, note) = psm_sample(&frame, col, psm, &m).map_err(wrap)?;
                log += &note;
                fo.subset = None;
                fo.weights = Some("_weight".into());
                fit(&matched, &formula, &fo).map_err(wrap)?
            } else {
                fit(&frame, &formula, &fo).map_err(wrap)?
            };
            log_fit(&mut log, &t.id, &col.outcome, &m.formula, &result);
            fitted.push(Fitted {
                title: col.title.clone().unwrap_or_else(|| col.outcome.clone()),
                result,
                paper: col.paper.first().copied(),
                truth: col.truth.first().cloned(),
                controls: m.controls.clone(),
            });
        }
        // Comparisons.
        for (c, f) in fitted.iter().enumerate() {
            let column = format!("({}) {}", c + 1, f.title);
            let coef = f
                .result
                .coefficients
                .iter()
                .find(|x| x.term == spec.defaults.term);
            if let (Some(p), Some(b)) = (f.paper, coef) {
                index.paper.push(PaperComparison {
                    table: t.id.clone(),
                    column: column.clone(),
                    paper: p,
                    estimate: b.estimate,
                    nobs: f.result.nobs,
                });
            }
            if let (Some(path), Some(b), Some(tr)) = (&f.truth, coef, &truth) {
                let value = lookup(tr, path).ok_or_else(|| {
                    loaded.error(
                        &format!("table \"{}\"", t.id),
                        path,
                        format!("truth path \"{path}\" not found in the truth file"),
                    )
                })?;
                index.truth_checks.push(TruthCheck {
                    table: t.id.clone(),
                    column,
                    term: spec.defaults.term.clone(),
                    truth: value,
                    estimate: b.estimate,
                    ci_low: b.ci_low,
                    ci_high: b.ci_high,
                    covered: b.ci_low <= value && value <= b.ci_high,
                });
            }
        }
        let grid = table_grid(spec, t, &fitted, &tests, &labels)?;
        write_table(&mut index, opts, &t.id, &t.title, &[grid])?;
    }

    let index_path = opts.out_dir.join("index.json");
    write_file(
        &index_path,
        &(serde_json::to_string_pretty(&index).expect("index serializes") + "\n"),
    )?;
    write_file(&opts.out_dir.join("log.txt"), &log)?;
    Ok(index)
}

fn log_fit(log: &mut String, table: &str, column: &str, formula: &str, r: &FitResult) {
    let rm = &r.removed;
    *log += &format!(
        "{table} {column}: {formula}\n  N = {}; removed: subset/other groups {}, missing {}, singletons {}, separation {}, weight <= 0 {}\n",
        r.nobs,
        rm.subset + rm.other_groups,
        rm.missing,
        rm.singletons,
        rm.separation,
        rm.nonpositive_weight
    );
    for d in &r.dropped_terms {
        *log += &format!("  dropped {} ({})\n", d.term, d.reason);
    }
    for w in &r.warnings {
        *log += &format!("  warning: {w}\n");
    }
}

/// A dotted path (`beta_js_200.esg_score`) into a JSON value; keys may contain dots only as
/// separators.
fn lookup(v: &serde_json::Value, path: &str) -> Option<f64> {
    let mut cur = v;
    for part in path.split('.') {
        cur = cur.get(part)?;
    }
    cur.as_f64()
}

/// Rows of the column's sample, the treatment defined, matched by propensity score; the
/// matched frame carries `_weight` for the re-estimation.
fn psm_sample(
    frame: &Frame,
    col: &ColumnSpec,
    psm: &super::PsmSpec,
    m: &super::ColumnModel,
) -> Result<(Frame, String)> {
    let mut base = match &m.subset {
        Some(s) => frame.filter(&crate::subset::Subset::parse(s)?.evaluate(frame)?),
        None => frame.clone(),
    };
    // Treatment: a column, or "var > median" / "var > mean" over the column's sample.
    let treat_name = if base.names.iter().any(|n| n == &psm.treat) {
        psm.treat.clone()
    } else {
        let rule = SplitRule::parse(&psm.treat)?;
        let SplitRule::Threshold { var, op, stat, .. } = rule else {
            return Err(Error::usage(format!(
                "psm.treat \"{}\": a 0/1 column or \"VAR > median|mean\"",
                psm.treat
            )));
        };
        let x = base.numeric(&var)?.to_vec();
        let mut v: Vec<f64> = x.iter().copied().filter(|a| !a.is_nan()).collect();
        v.sort_by(|a, b| a.total_cmp(b));
        let cut = match stat {
            crate::estimate::split::SplitStat::Mean => {
                v.iter().sum::<f64>() / v.len().max(1) as f64
            }
            crate::estimate::split::SplitStat::Median => {
                let k = v.len() / 2;
                if v.is_empty() {
                    f64::NAN
                } else if v.len() % 2 == 1 {
                    v[k]
                } else {
                    0.5 * (v[k - 1] + v[k])
                }
            }
        };
        let t: Vec<f64> = x
            .iter()
            .map(|a| {
                if a.is_nan() {
                    f64::NAN
                } else {
                    let yes = match op.as_str() {
                        ">" => *a > cut,
                        ">=" => *a >= cut,
                        "<" => *a < cut,
                        _ => *a <= cut,
                    };
                    f64::from(u8::from(yes))
                }
            })
            .collect();
        base.set_column("_treat", Column::Num(t));
        "_treat".to_string()
    };
    let out = crate::estimate::psm::run_psm(
        &base,
        &crate::estimate::psm::PsmOptions {
            treat: treat_name,
            covariates: psm.covariates.join(" + "),
            outcome: col.outcome.clone(),
            caliper: psm.caliper,
            ratio: 1,
            replace: false,
            rule: Default::default(),
        },
    )?;
    let r = &out.result;
    let note = format!(
        "  psm ({} on {}): {} matched rows of {}; ATT of {} = {:.4}\n",
        psm.treat,
        psm.covariates.join(", "),
        out.matched.n_rows(),
        base.n_rows(),
        col.outcome,
        r.att
    );
    Ok((out.matched, note))
}

fn table_grid(
    spec: &Spec,
    t: &super::TableSpec,
    fitted: &[Fitted],
    tests: &[(usize, Option<f64>)],
    labels: &HashMap<String, String>,
) -> Result<Grid> {
    let records: Vec<FitRecord> = fitted
        .iter()
        .map(|f| {
            let json = serde_json::to_string(&f.result).expect("fit results serialize");
            FitRecord::from_json(&json, &t.id)
        })
        .collect::<Result<_>>()?;
    // The Controls row summarizes the default controls; extra controls of a column are
    // shown as coefficients, so a Yes never claims a variable a column does not have.
    let mut controls: Vec<String> = Vec::new();
    for f in fitted {
        for c in f
            .controls
            .iter()
            .filter(|c| spec.defaults.controls.contains(c))
        {
            if !controls.contains(c) {
                controls.push(c.clone());
            }
        }
    }
    let options = TableOptions {
        controls,
        order: vec![spec.defaults.term.clone()],
        titles: Some(fitted.iter().map(|f| f.title.clone()).collect()),
        labels: labels.clone(),
        title: Some(t.title.clone()),
        ..TableOptions::default()
    };
    let mut grid = RegressionTable::build(records, options)?;
    if !tests.is_empty() {
        let mut cells = vec![Cell::text(""); grid.n_cols];
        for (first, p) in tests {
            if let Some(p) = p {
                cells[*first] = Cell::number(*p, 3);
            }
        }
        let row = Row {
            kind: RowKind::Summary,
            key: "equality_p".into(),
            label: format!(
                "Equal {} across groups, p",
                labels
                    .get(&spec.defaults.term)
                    .cloned()
                    .unwrap_or_else(|| spec.defaults.term.clone())
            ),
            cells,
        };
        if let Some(last) = grid.sections.last_mut() {
            last.push(row);
        }
        grid.notes.push(
            "Equality p-value: Wald test in a pooled model with all regressors and fixed effects interacted with the group dummies, same clustering.".into(),
        );
    }
    Ok(grid)
}

fn write_file(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|e| Error::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

fn write_table(
    index: &mut Index,
    opts: &ReplicateOptions,
    id: &str,
    title: &str,
    grids: &[Grid],
) -> Result<()> {
    let writer = WriterOptions {
        standalone: true,
        ..WriterOptions::default()
    };
    let mut files = Vec::new();
    for (format, ext) in [
        (TableFormat::Latex, "tex"),
        (TableFormat::Markdown, "md"),
        (TableFormat::Csv, "csv"),
        (TableFormat::Json, "json"),
    ] {
        let name = format!("{id}.{ext}");
        write_file(
            &opts.out_dir.join(&name),
            &render_tables(grids, format, &writer),
        )?;
        files.push(name);
    }
    index.tables.push(TableEntry {
        id: id.to_string(),
        title: title.to_string(),
        files: TableFiles {
            latex: files[0].clone(),
            markdown: files[1].clone(),
            csv: files[2].clone(),
            json: files[3].clone(),
        },
    });
    Ok(())
}

/// The end-of-run summary: the paper's coefficients beside ours, and the truth checks.
pub fn summary(index: &Index) -> String {
    let mut s = String::from("\npaper vs this run (coefficient of interest)\n");
    s += &format!(
        "{:<10} {:<34} {:>9} {:>9} {:>7}\n",
        "table", "column", "paper", "here", "N"
    );
    for p in &index.paper {
        s += &format!(
            "{:<10} {:<34} {:>9.3} {:>9.3} {:>7}\n",
            p.table,
            truncate(&p.column, 34),
            p.paper,
            p.estimate,
            p.nobs
        );
    }
    if !index.truth_checks.is_empty() {
        let covered = index.truth_checks.iter().filter(|c| c.covered).count();
        s += &format!(
            "\ntruth checks: the true coefficient lies in the 95% CI in {covered} of {} columns\n",
            index.truth_checks.len()
        );
        for c in &index.truth_checks {
            s += &format!(
                "{:<10} {:<34} true {:>7.4}  est {:>7.4}  CI [{:.4}, {:.4}] {}\n",
                c.table,
                truncate(&c.column, 34),
                c.truth,
                c.estimate,
                c.ci_low,
                c.ci_high,
                if c.covered { "covered" } else { "NOT covered" }
            );
        }
    }
    s
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).collect::<String>() + "…"
    }
}
