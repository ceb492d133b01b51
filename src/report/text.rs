//! Plain-text summaries in the spirit of fixest's `summary` and Stata's regression output.

use std::fmt::Write;

use crate::estimate::{Coefficient, FitResult};

/// Stars for a p-value: `***` < 0.01, `**` < 0.05, `*` < 0.10.
pub fn stars(p: f64) -> &'static str {
    if p < 0.01 {
        "***"
    } else if p < 0.05 {
        "**"
    } else if p < 0.10 {
        "*"
    } else {
        ""
    }
}

/// A p-value as R prints it: `< 2e-16` below machine precision, two significant digits in
/// scientific notation below 1e-4, four decimals otherwise.
fn pval(p: f64) -> String {
    if !p.is_finite() {
        "NaN".into()
    } else if p < 2.2e-16 {
        "< 2e-16".into()
    } else if p < 1e-4 {
        format!("{p:.1e}")
    } else {
        format!("{p:.4}")
    }
}

fn num(x: f64) -> String {
    if !x.is_finite() {
        return "NaN".into();
    }
    let a = x.abs();
    if a != 0.0 && !(1e-4..1e7).contains(&a) {
        format!("{x:.4e}")
    } else {
        format!("{x:.6}")
    }
}

/// A readable summary of a fit: header, coefficient table, fit statistics, notes.
pub fn fit_summary(r: &FitResult) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} estimation, outcome: {}",
        r.model.to_uppercase(),
        r.outcome
    );
    let _ = writeln!(s, "formula: {}", r.formula);
    let _ = writeln!(s, "data: {}    observations: {}", r.data, r.nobs);
    if !r.fixed_effects.is_empty() {
        let fes: Vec<String> = r
            .fixed_effects
            .iter()
            .map(|f| format!("{} ({})", f.name, f.levels))
            .collect();
        let _ = writeln!(s, "fixed effects: {}", fes.join(", "));
    }
    let v = &r.vcov;
    let se_desc = match v.kind {
        crate::vcov::VcovKind::Iid => "iid".to_string(),
        crate::vcov::VcovKind::Hetero => "heteroskedasticity-robust (HC1)".to_string(),
        crate::vcov::VcovKind::Cluster => {
            let parts: Vec<String> = v
                .cluster
                .iter()
                .zip(&v.n_clusters)
                .map(|(c, g)| format!("{c} ({g})"))
                .collect();
            format!("clustered by {}", parts.join(" and "))
        }
    };
    let _ = writeln!(
        s,
        "standard errors: {se_desc}; K = {} (fixef-k {}{}), t df = {}",
        v.dof_k,
        v.fixef_k.name(),
        if v.fe_redundancy == crate::vcov::FeRedundancy::Simple {
            ", fe-redundancy simple"
        } else {
            ""
        },
        v.df_t
    );
    let _ = writeln!(s);
    s.push_str(&coefficient_lines(
        &r.coefficients,
        if r.fit.loglik.is_some() { "z" } else { "t" },
    ));
    let _ = writeln!(s, "---");
    let _ = writeln!(s, "signif. codes: *** 0.01  ** 0.05  * 0.10");
    let f = &r.fit;
    if let (Some(ll), Some(pr2)) = (f.loglik, f.pseudo_r2) {
        let _ = writeln!(
            s,
            "log-likelihood: {ll:.6}   pseudo R2 (McFadden): {pr2:.6}"
        );
    } else {
        let _ = write!(s, "R2: {:.6}   adj. R2: {:.6}", f.r2, f.adj_r2);
        if let (Some(w), Some(aw)) = (f.within_r2, f.adj_within_r2) {
            let _ = write!(s, "   within R2: {w:.6}   adj. within R2: {aw:.6}");
        }
        let _ = writeln!(s, "   RMSE: {}", num(f.rmse));
    }
    for fs in r.first_stage.iter().flatten() {
        let _ = write!(
            s,
            "first stage {}: F({}, {}) = {:.4} (p = {})",
            fs.endogenous,
            fs.f_df1,
            fs.f_df2,
            fs.f_stat,
            pval(fs.f_p)
        );
        if let Some(kp) = fs.kp_f {
            let _ = write!(s, ", Kleibergen-Paap F = {kp:.4}");
        }
        let _ = writeln!(s);
    }
    if let Some(m) = &r.margins {
        let _ = writeln!(s, "average marginal effects:");
        let rows: Vec<Coefficient> = m
            .iter()
            .map(|e| Coefficient {
                term: e.term.clone(),
                estimate: e.ame,
                std_error: e.std_error,
                t_stat: e.z,
                p: e.p,
                ci_low: f64::NAN,
                ci_high: f64::NAN,
            })
            .collect();
        s.push_str(&coefficient_lines(&rows, "z"));
    }
    let rm = &r.removed;
    let mut notes = Vec::new();
    if rm.subset > 0 {
        notes.push(format!("{} rows outside the subset", rm.subset));
    }
    if rm.missing > 0 {
        notes.push(format!("{} rows with missing values", rm.missing));
    }
    if rm.nonpositive_weight > 0 {
        notes.push(format!("{} rows with weight <= 0", rm.nonpositive_weight));
    }
    if rm.singletons > 0 {
        notes.push(format!("{} singleton rows", rm.singletons));
    }
    if rm.separation > 0 {
        notes.push(format!("{} rows perfectly predicted", rm.separation));
    }
    if !notes.is_empty() {
        let _ = writeln!(s, "removed: {}", notes.join(", "));
    }
    for d in &r.dropped_terms {
        let _ = writeln!(s, "dropped: {} ({})", d.term, d.reason);
    }
    if let Some(a) = &r.absorb {
        let _ = writeln!(
            s,
            "absorb: {}, {} iterations{}",
            serde_json::to_value(a.method)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default(),
            a.iterations,
            if a.converged { "" } else { " (NOT converged)" }
        );
    }
    for w in &r.warnings {
        let _ = writeln!(s, "warning: {w}");
    }
    s
}

/// The coefficient table: term, estimate, standard error, statistic, p-value, stars.
fn coefficient_lines(coefs: &[Coefficient], stat: &str) -> String {
    let mut s = String::new();
    let width = coefs
        .iter()
        .map(|c| c.term.chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    let _ = writeln!(
        s,
        "{:<width$}  {:>14}  {:>14}  {:>9}  {:>10}",
        "term",
        "estimate",
        "std. error",
        stat,
        format!("Pr(>|{stat}|)")
    );
    for c in coefs {
        let pad = width - c.term.chars().count();
        let _ = writeln!(
            s,
            "{}{}  {:>14}  {:>14}  {:>9.3}  {:>10} {}",
            c.term,
            " ".repeat(pad),
            num(c.estimate),
            num(c.std_error),
            c.t_stat,
            pval(c.p),
            stars(c.p)
        );
    }
    s
}

/// The first-stage regressions of an IV fit in full (`keju fit --first-stage`); empty for
/// other models.
pub fn first_stage_tables(r: &FitResult) -> String {
    let mut s = String::new();
    for fs in r.first_stage.iter().flatten() {
        let _ = writeln!(s);
        let _ = writeln!(s, "first stage, outcome: {}", fs.endogenous);
        s.push_str(&coefficient_lines(&fs.coefficients, "t"));
        let _ = write!(
            s,
            "R2: {:.6}   partial F of excluded instruments: F({}, {}) = {:.4} (p = {})",
            fs.r2,
            fs.f_df1,
            fs.f_df2,
            fs.f_stat,
            pval(fs.f_p)
        );
        if let Some(kp) = fs.kp_f {
            let _ = write!(s, "   Kleibergen-Paap rk Wald F: {kp:.4}");
        }
        let _ = writeln!(s);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::pval;

    #[test]
    fn p_values_print_as_r_does() {
        assert_eq!(pval(0.658), "0.6580");
        assert_eq!(pval(0.00012345), "0.0001");
        assert_eq!(pval(3.2e-7), "3.2e-7");
        assert_eq!(pval(0.0), "< 2e-16");
        assert_eq!(pval(f64::NAN), "NaN");
    }
}
