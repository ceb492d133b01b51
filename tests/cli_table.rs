//! `keju table` and `keju describe`: tables rendered from real fitted results, compiled with
//! XeLaTeX (the compile tests fail when `xelatex` is missing: `.ci/run` installs it), Markdown
//! cells checked against the JSON results they came from, describe numbers checked against
//! values computed here.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use serde_json::Value;

/// Fit three specifications with `keju fit --format json` into `dir`; return the paths.
///
/// (1) grunfeld: inv ~ value + capital, iid; (2) + year fixed effects; (3) firm + year fixed
/// effects, clustered by firm.
fn three_results(dir: &Path) -> Vec<PathBuf> {
    let g = fixture("reference/grunfeld.csv");
    let g = g.to_str().unwrap();
    let specs: [(&str, &[&str]); 3] = [
        ("inv ~ value + capital", &[]),
        ("inv ~ value + capital | year", &[]),
        (
            "inv ~ value + capital | firm + year",
            &["--cluster", "firm"],
        ),
    ];
    specs
        .iter()
        .enumerate()
        .map(|(i, (f, extra))| {
            let out = dir.join(format!("m{}.json", i + 1));
            let mut args = vec!["fit", f, "--data", g, "--format", "json", "--output"];
            args.push(out.to_str().unwrap());
            args.extend_from_slice(extra);
            let o = keju_in(dir, &args);
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            out
        })
        .collect()
}

fn run_ok(dir: &Path, args: &[&str]) -> String {
    let o = keju_in(dir, args);
    assert!(
        o.status.success(),
        "keju {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn strs(paths: &[PathBuf]) -> Vec<&str> {
    paths.iter().map(|p| p.to_str().unwrap()).collect()
}

/// Markdown cells of the row whose first cell is `label` (the first such row).
fn md_row<'a>(md: &'a str, label: &str) -> Vec<&'a str> {
    md.lines()
        .filter(|l| l.starts_with('|'))
        .map(|l| {
            l.trim()
                .trim_matches('|')
                .split(" | ")
                .map(str::trim)
                .collect::<Vec<_>>()
        })
        .find(|c| c[0] == label)
        .unwrap_or_else(|| panic!("no row {label} in\n{md}"))
}

/// The row after the row labelled `label` (the statistic beneath a coefficient).
fn md_row_after<'a>(md: &'a str, label: &str) -> Vec<&'a str> {
    let rows: Vec<Vec<&str>> = md
        .lines()
        .filter(|l| l.starts_with('|'))
        .map(|l| {
            l.trim()
                .trim_matches('|')
                .split(" | ")
                .map(str::trim)
                .collect()
        })
        .collect();
    let i = rows.iter().position(|c| c[0] == label).unwrap();
    rows[i + 1].clone()
}

fn stars(p: f64) -> &'static str {
    if p < 0.01 {
        "***"
    } else if p < 0.05 {
        "**"
    } else if p < 0.1 {
        "*"
    } else {
        ""
    }
}

/// Compile `tex` with XeLaTeX in its directory; assert the PDF exists.
fn compile(tex: &Path) {
    let dir = tex.parent().unwrap();
    let out = Command::new("xelatex")
        .args(["-interaction=nonstopmode", "-halt-on-error"])
        .arg(tex.file_name().unwrap())
        .current_dir(dir)
        .output()
        .expect("xelatex must be installed for these tests (.ci/run installs texlive-xetex)");
    let pdf = tex.with_extension("pdf");
    assert!(
        out.status.success() && pdf.exists(),
        "xelatex failed on {}:\n{}\n--- source ---\n{}",
        tex.display(),
        String::from_utf8_lossy(&out.stdout),
        std::fs::read_to_string(tex).unwrap()
    );
    assert!(std::fs::metadata(&pdf).unwrap().len() > 1000);
}

#[test]
fn markdown_cells_equal_the_json_results() {
    let dir = tempfile::tempdir().unwrap();
    let res = three_results(dir.path());
    let mut args = vec!["table"];
    args.extend(strs(&res));
    args.extend(["--format", "markdown"]);
    let md = run_ok(dir.path(), &args);

    let header = md.lines().next().unwrap();
    assert_eq!(header, "|  | (1) inv | (2) inv | (3) inv |");
    let value = md_row(&md, "value");
    let tstat = md_row_after(&md, "value");
    for (j, p) in res.iter().enumerate() {
        let r = read_json(p);
        let c = coef(&r, "value");
        let want = format!(
            "{:.3}{}",
            c["estimate"].as_f64().unwrap(),
            stars(c["p"].as_f64().unwrap())
        );
        assert_eq!(value[j + 1], want, "column {}", j + 1);
        assert_eq!(tstat[j + 1], format!("({:.3})", c["t"].as_f64().unwrap()));
        assert_eq!(md_row(&md, "N")[j + 1], r["nobs"].to_string());
        assert_eq!(
            md_row(&md, "Adj. R²")[j + 1],
            format!("{:.3}", r["fit"]["adj_r2"].as_f64().unwrap())
        );
    }
    // Fixed effects rows come from the fitted models.
    assert_eq!(md_row(&md, "year FE"), ["year FE", "No", "Yes", "Yes"]);
    assert_eq!(md_row(&md, "firm FE"), ["firm FE", "No", "No", "Yes"]);
    // The literal values, so a change in rounding or stars shows up here.
    assert_eq!(value[1..], ["0.116***", "0.117***", "0.118***"]);
    assert!(
        md.contains("\\*\\*\\* p<0.01, \\*\\* p<0.05, \\* p<0.10."),
        "{md}"
    );
    assert!(
        md.contains(
            "(1), (2) conventional (iid) standard errors; (3) standard errors clustered by firm"
        ),
        "{md}"
    );
}

#[test]
fn controls_row_keep_order_titles_and_stat() {
    let dir = tempfile::tempdir().unwrap();
    let res = three_results(dir.path());
    let mut args = vec!["table"];
    args.extend(strs(&res));
    args.extend([
        "--controls",
        "capital",
        "--drop",
        "(Intercept)",
        "--titles",
        "A,B,C",
        "--stat",
        "se",
    ]);
    let md = run_ok(dir.path(), &args);
    assert!(md.starts_with("|  | (1) A | (2) B | (3) C |"), "{md}");
    assert!(!md.contains("| capital |"), "{md}");
    assert!(!md.contains("(Intercept)"), "{md}");
    assert_eq!(md_row(&md, "Controls"), ["Controls", "Yes", "Yes", "Yes"]);
    let r = read_json(&res[2]);
    let se = coef(&r, "value")["std_error"].as_f64().unwrap();
    assert_eq!(md_row_after(&md, "value")[3], format!("({se:.3})"));
    assert!(md.contains("Standard errors in parentheses:"), "{md}");

    // Titles must match the number of results.
    let mut bad = vec!["table"];
    bad.extend(strs(&res));
    bad.extend(["--titles", "A,B"]);
    let (code, err) = keju_fails(dir.path(), &bad);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn csv_and_json_carry_full_precision() {
    let dir = tempfile::tempdir().unwrap();
    let res = three_results(dir.path());
    let r = read_json(&res[0]);
    let b = coef(&r, "value")["estimate"].as_f64().unwrap();
    let mut args = vec!["table"];
    args.extend(strs(&res));
    let mut csv_args = args.clone();
    csv_args.extend(["--format", "csv"]);
    let csv = run_ok(dir.path(), &csv_args);
    let line = csv.lines().find(|l| l.starts_with("value,")).unwrap();
    let first: &str = line.split(',').nth(1).unwrap();
    let got: f64 = first.trim_end_matches('*').parse().unwrap();
    assert_eq!(got, b, "CSV value equals the JSON result bit for bit");

    args.extend(["--format", "json"]);
    let j: Value = serde_json::from_str(&run_ok(dir.path(), &args)).unwrap();
    assert_eq!(j["schema"], "keju.table/1");
    let row = j["tables"][0]["sections"][0]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "value" && r["kind"] == "coefficient")
        .unwrap();
    assert_eq!(row["cells"][0]["value"].as_f64().unwrap(), b);
    assert_eq!(row["cells"][0]["stars"], 3);
}

#[test]
fn standalone_latex_compiles_with_xelatex() {
    let dir = tempfile::tempdir().unwrap();
    let res = three_results(dir.path());
    let tex = dir.path().join("table.tex");
    let mut args = vec!["table"];
    args.extend(strs(&res));
    args.extend([
        "--format",
        "latex",
        "--standalone",
        "--title",
        "Investment & value: 100% of $ {firms} ~ ^ \\ #1",
        "--output",
        tex.to_str().unwrap(),
    ]);
    run_ok(dir.path(), &args);
    let src = std::fs::read_to_string(&tex).unwrap();
    assert!(src.contains("\\toprule") && src.contains("\\begin{threeparttable}"));
    assert!(src.contains("value & 0.116\\sym{***}"), "{src}");
    compile(&tex);
}

#[test]
fn chinese_labels_compile_with_xelatex() {
    let dir = tempfile::tempdir().unwrap();
    let p = fixture("reference/petersen.csv");
    let p = p.to_str().unwrap();
    let mut res = Vec::new();
    for (i, extra) in [
        vec![],
        vec!["--cluster", "firm"],
        vec!["--cluster", "firm,year"],
    ]
    .into_iter()
    .enumerate()
    {
        let out = dir.path().join(format!("p{i}.json"));
        let mut args = vec!["fit", "y ~ x", "--data", p, "--format", "json", "--output"];
        args.push(out.to_str().unwrap());
        args.extend(extra);
        run_ok(dir.path(), &args);
        res.push(out);
    }
    let labels = dir.path().join("labels.csv");
    std::fs::write(&labels, "term,label\nx,儒家文化\ny,ESG_表现\n").unwrap();
    let tex = dir.path().join("zh.tex");
    let mut args = vec!["table"];
    args.extend(strs(&res));
    args.extend([
        "--labels",
        labels.to_str().unwrap(),
        "--format",
        "latex",
        "--standalone",
        "--output",
        tex.to_str().unwrap(),
    ]);
    run_ok(dir.path(), &args);
    let src = std::fs::read_to_string(&tex).unwrap();
    assert!(src.contains("\\usepackage{xeCJK}"));
    assert!(src.contains("儒家文化 & "), "{src}");
    assert!(src.contains("ESG\\_表现"), "{src}");
    compile(&tex);

    // The same labels in Markdown.
    let mut args = vec!["table"];
    args.extend(strs(&res));
    args.extend(["--labels", labels.to_str().unwrap()]);
    let md = run_ok(dir.path(), &args);
    let r = read_json(&res[1]);
    let c = coef(&r, "x");
    assert_eq!(
        md_row(&md, "儒家文化")[2],
        format!(
            "{:.3}{}",
            c["estimate"].as_f64().unwrap(),
            stars(c["p"].as_f64().unwrap())
        )
    );
}

#[test]
fn describe_latex_compiles_with_xelatex() {
    let dir = tempfile::tempdir().unwrap();
    let tex = dir.path().join("describe.tex");
    let p = fixture("reference/petersen.csv");
    run_ok(
        dir.path(),
        &[
            "describe",
            "--data",
            p.to_str().unwrap(),
            "--vars",
            "x,y",
            "--corr",
            "--format",
            "latex",
            "--standalone",
            "--output",
            tex.to_str().unwrap(),
        ],
    );
    compile(&tex);
}

/// Petersen's x read directly, without keju.
fn petersen_column(name: &str) -> Vec<f64> {
    let text = std::fs::read_to_string(fixture("reference/petersen.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(|s| s.trim_matches('"').to_string())
        .collect();
    let j = header.iter().position(|h| h == name).unwrap();
    lines
        .map(|l| l.split(',').nth(j).unwrap().parse().unwrap())
        .collect()
}

#[test]
fn describe_numbers_match_independent_computation() {
    let x = petersen_column("x");
    let y = petersen_column("y");
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let sd = (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let mut s = x.clone();
    s.sort_by(|a, b| a.partial_cmp(b).unwrap());
    // Type 7 median of an even-length sample: the average of the middle two.
    let median = (s[s.len() / 2 - 1] + s[s.len() / 2]) / 2.0;
    let my = y.iter().sum::<f64>() / n;
    let sxy: f64 = x.iter().zip(&y).map(|(a, b)| (a - mean) * (b - my)).sum();
    let sxx: f64 = x.iter().map(|a| (a - mean).powi(2)).sum();
    let syy: f64 = y.iter().map(|b| (b - my).powi(2)).sum();
    let r = sxy / (sxx * syy).sqrt();

    let dir = tempfile::tempdir().unwrap();
    let p = fixture("reference/petersen.csv");
    let j: Value = serde_json::from_str(&run_ok(
        dir.path(),
        &[
            "describe",
            "--data",
            p.to_str().unwrap(),
            "--vars",
            "x,y",
            "--corr",
            "--format",
            "json",
        ],
    ))
    .unwrap();
    let row = &j["tables"][0]["sections"][0][0];
    assert_eq!(row["key"], "x");
    let cell = |k: usize| row["cells"][k]["value"].as_f64().unwrap();
    assert_eq!(cell(0), n);
    assert_close(cell(1), mean, 1e-12, "mean of x");
    assert_close(cell(2), sd, 1e-12, "sd of x");
    assert_eq!(cell(3), s[0]);
    assert_close(cell(5), median, 1e-12, "median of x");
    assert_eq!(cell(7), *s.last().unwrap());
    let corr = &j["tables"][1]["sections"][0][1]["cells"][0];
    assert_close(corr["value"].as_f64().unwrap(), r, 1e-12, "corr(x, y)");
    assert_eq!(corr["stars"], 3);

    // Markdown shows the same, rounded.
    let md = run_ok(
        dir.path(),
        &["describe", "--data", p.to_str().unwrap(), "--vars", "x"],
    );
    let xrow = md_row(&md, "x");
    assert_eq!(xrow[1], "5000");
    assert_eq!(xrow[2], format!("{mean:.3}"));
    assert_eq!(xrow[3], format!("{sd:.3}"));
}

#[test]
fn describe_by_group_and_errors() {
    let (dir, data) = write_csv("d.csv", "g,v\na,1\na,2\na,3\nb,10\nb,\nb,30\n");
    let md = run_ok(
        dir.path(),
        &[
            "describe",
            "--data",
            data.to_str().unwrap(),
            "--vars",
            "v",
            "--by",
            "g",
        ],
    );
    assert!(md.contains("*g = a*"), "{md}");
    let rows: Vec<&str> = md.lines().filter(|l| l.starts_with("| v |")).collect();
    assert_eq!(rows.len(), 2, "{md}");
    assert!(
        rows[0].starts_with("| v | 3 | 2.000 | 1.000 | 1.000 | 1.500 | 2.000 | 2.500 | 3.000 |"),
        "{md}"
    );
    assert!(rows[1].starts_with("| v | 2 | 20.000 |"), "{md}");

    let (code, err) = keju_fails(
        dir.path(),
        &[
            "describe",
            "--data",
            data.to_str().unwrap(),
            "--vars",
            "vv",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 1);
    let e: Value = serde_json::from_str(err.trim()).unwrap();
    assert_eq!(e["error"]["kind"], "column_not_found");
}

#[test]
fn table_rejects_non_results() {
    let (dir, p) = write_csv("x.json", "{\"a\": 1}");
    let (code, err) = keju_fails(dir.path(), &["table", p.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("not a keju fit result"), "{err}");
}

/// Golden files: a fixed result set (hand-written `keju.fit/1` JSON, an OLS and a probit
/// column, Chinese labels) renders to exactly the reviewed Markdown and LaTeX.
#[test]
fn golden_markdown_and_latex() {
    let dir = fixture("table");
    for (format, expected) in [("markdown", "expected.md"), ("latex", "expected.tex")] {
        let got = run_ok(
            &dir,
            &[
                "table",
                "ols.json",
                "probit.json",
                "--labels",
                "labels.csv",
                "--controls",
                "size",
                "--format",
                format,
            ],
        );
        let want = std::fs::read_to_string(dir.join(expected)).unwrap();
        assert_eq!(got, want, "{format} output differs from {expected}");
    }
}
