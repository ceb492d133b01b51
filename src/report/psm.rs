//! Text report of `keju psm`: the score model, counts, the ATT and the balance table
//! ([`psm_summary`]). JSON is the serialized [`crate::estimate::psm::PsmResult`].

use std::fmt::Write;

use crate::estimate::psm::{GroupBalance, PsmResult};

fn opt(v: Option<f64>) -> String {
    v.map_or("".into(), |x| format!("{x:.3}"))
}

fn row(s: &mut String, term: &str, b: &GroupBalance) {
    let _ = write!(
        s,
        "  {term:<20} {:>12.4} {:>12.4} {:>8.4} {:>8}",
        b.mean_treated,
        b.mean_control,
        b.smd,
        opt(b.var_ratio)
    );
}

/// A readable summary of a matching result.
pub fn psm_summary(r: &PsmResult) -> String {
    let mut s = String::new();
    let m = &r.matching;
    let _ = writeln!(
        s,
        "Propensity-score matching: {}:1 nearest neighbour {} replacement, treated by descending score",
        m.ratio,
        if m.replace { "with" } else { "without" }
    );
    let _ = writeln!(s, "treatment: {}    outcome: {}", r.treat, r.outcome);
    let _ = writeln!(s, "score model: logit {} ~ {}", r.treat, r.covariates);
    if let (Some(c), Some(w)) = (m.caliper, m.caliper_width) {
        let _ = writeln!(
            s,
            "caliper: {c} SD of the propensity score = {w:.6} (SD over all {} units)",
            r.n_obs
        );
    }
    let _ = writeln!(s, "data: {}    units: {}", r.data, r.n_obs);
    let _ = writeln!(
        s,
        "treated: {} ({} matched, {} unmatched, {} by the caliper)    controls: {} ({} matched)",
        r.n_treated,
        r.n_matched_treated,
        r.n_unmatched_treated,
        r.n_caliper_discarded,
        r.n_control,
        r.n_matched_control
    );
    let rm = &r.removed;
    let _ = writeln!(
        s,
        "removed: {} missing treatment/outcome, {} missing covariates, {} separation",
        rm.missing_treat_or_outcome, rm.missing_covariate, rm.separation
    );
    let _ = writeln!(
        s,
        "\nATT = {:.4}  (SE {:.4}, {})",
        r.att,
        r.att_se,
        match r.att_se_vcov {
            crate::vcov::VcovKind::Cluster => "clustered by pair",
            _ => "HC1",
        }
    );
    let _ = writeln!(
        s,
        "\nBalance (SMD: mean difference / SD of the treated in the full sample)"
    );
    let _ = writeln!(
        s,
        "  {:<20} {:>12} {:>12} {:>8} {:>8}    {:>12} {:>12} {:>8} {:>8}",
        "", "mean T", "mean C", "SMD", "var ratio", "mean T", "mean C", "SMD", "var ratio"
    );
    let _ = writeln!(
        s,
        "  {:<20} {:^44}    {:^44}",
        "", "before matching", "after matching"
    );
    for b in &r.balance {
        row(&mut s, &b.term, &b.before);
        let _ = write!(s, "    ");
        let a = &b.after;
        let _ = writeln!(
            s,
            "{:>12.4} {:>12.4} {:>8.4} {:>8}",
            a.mean_treated,
            a.mean_control,
            a.smd,
            opt(a.var_ratio)
        );
    }
    for w in &r.warnings {
        let _ = writeln!(s, "note: {w}");
    }
    s
}
