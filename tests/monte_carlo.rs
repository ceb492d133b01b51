//! Monte Carlo over seeds of `keju simulate`: the firm-clustered 95% CI of the Js_200
//! coefficient on the ESG score covers the truth at close to the nominal rate, and the
//! estimator is unbiased within simulation error.
//!
//! The truth of the pooled fixed-effects regression: with heterogeneous β_it (by political
//! connection, competition and formal institutions, see docs/simulation.md), the regression
//! estimates the projection of the true signal β_it · js_200 on the design, not the simple
//! average of β_it. The test computes that estimand for every seed by regressing the noiseless
//! signal on the same design, and checks the estimate against it.

use keju::data::{Column, Frame};
use keju::estimate::{fit, FitOptions};
use keju::formula::Formula;
use keju::simulate::{simulate, SimulateOptions};

const SEEDS: u64 = 20;
const SCALE: f64 = 0.5;
const CONTROLS: &str =
    "size + lev + age + top1 + roe + cf + board + growth + mshare + indep + lngdp";

/// β_it · js_200 from the truth's heterogeneity and the group rules (baseline rows).
fn signal(frame: &Frame, het: &serde_json::Value) -> Vec<f64> {
    let n = frame.n_rows();
    let col = |c: &str| frame.numeric(c).unwrap();
    let (st, esg, pc, hhi, formal, year, js) = (
        col("st"),
        col("esg"),
        col("pc"),
        col("hhi"),
        col("formal"),
        col("year"),
        col("js_200"),
    );
    let base: Vec<usize> = (0..n)
        .filter(|&r| st[r] == 0.0 && !esg[r].is_nan())
        .collect();
    let hhi_mean = base.iter().map(|&r| hhi[r]).sum::<f64>() / base.len() as f64;
    let mut median = std::collections::HashMap::new();
    let mut years: Vec<i64> = base.iter().map(|&r| year[r] as i64).collect();
    years.sort();
    years.dedup();
    for y in years {
        let mut v: Vec<f64> = base
            .iter()
            .filter(|&&r| year[r] as i64 == y)
            .map(|&r| formal[r])
            .collect();
        v.sort_by(|a, b| a.total_cmp(b));
        let m = v.len() / 2;
        median.insert(
            y,
            if v.len() % 2 == 1 {
                v[m]
            } else {
                0.5 * (v[m - 1] + v[m])
            },
        );
    }
    let g = |k: &str| het[k].as_f64().unwrap();
    (0..n)
        .map(|r| {
            let better = median
                .get(&(year[r] as i64))
                .is_some_and(|m| formal[r] >= *m);
            let beta = g("base")
                + g("pc") * pc[r]
                + g("high_comp") * f64::from(u8::from(hhi[r] < hhi_mean))
                + g("formal_better") * f64::from(u8::from(better));
            beta * js[r]
        })
        .collect()
}

#[test]
fn clustered_ci_covers_the_truth_and_the_estimator_is_unbiased() {
    let opts = FitOptions {
        cluster: vec!["stkcd".into()],
        subset: Some("st == 0".into()),
        ..FitOptions::default()
    };
    let model = Formula::parse(&format!(
        "esg_score ~ js_200 + {CONTROLS} | industry + year"
    ))
    .unwrap();
    let truth_model =
        Formula::parse(&format!("signal ~ js_200 + {CONTROLS} | industry + year")).unwrap();
    let (mut covered, mut errors, mut ses) = (0, Vec::new(), Vec::new());
    for seed in 1..=SEEDS {
        let (mut frame, truth) = simulate(&SimulateOptions {
            seed,
            firms_scale: SCALE,
        })
        .unwrap();
        let het = serde_json::to_value(&truth).unwrap()["heterogeneity"].clone();
        let s = signal(&frame, &het);
        // Rows without an ESG score are outside the sample either way.
        let esg = frame.numeric("esg_score").unwrap().to_vec();
        let s: Vec<f64> = s
            .iter()
            .zip(&esg)
            .map(|(v, e)| if e.is_nan() { f64::NAN } else { *v })
            .collect();
        frame.set_column("signal", Column::Num(s));
        let est = fit(&frame, &model, &opts).unwrap();
        let target = fit(&frame, &truth_model, &opts).unwrap();
        assert_eq!(est.nobs, target.nobs);
        let b = &est.coefficients[0];
        let t = target.coefficients[0].estimate;
        assert_eq!(b.term, "js_200");
        if b.ci_low <= t && t <= b.ci_high {
            covered += 1;
        }
        errors.push(b.estimate - t);
        ses.push(b.std_error);
    }
    // Coverage: 20 draws at 95% give 16 or fewer with probability < 2%.
    assert!(
        covered >= 16,
        "95% CI covered the truth in {covered} of {SEEDS} seeds"
    );
    // Unbiased: the mean error is within 3 standard errors of the mean.
    let k = errors.len() as f64;
    let mean = errors.iter().sum::<f64>() / k;
    let sd = (errors.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / (k - 1.0)).sqrt();
    assert!(
        mean.abs() <= 3.0 * sd / k.sqrt(),
        "mean error {mean:.5}, sd {sd:.5} over {SEEDS} seeds"
    );
    // The reported SEs are of the right size: their mean is within 40% of the spread of the
    // estimates (a loose check at 20 seeds; firm clustering matters here).
    let mean_se = ses.iter().sum::<f64>() / k;
    assert!(
        (mean_se / sd - 1.0).abs() < 0.4,
        "mean SE {mean_se:.5} vs sd of estimates {sd:.5}"
    );
}
