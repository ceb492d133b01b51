//! Worked example: the paper's Js_100, Js_200 and Js_300 (ln(1 + Ming + Qing jinshi within
//! 100/200/300 km)) for a small firm list, geocoded by registered city, printed as a table.
//!
//! Run: `cargo run --example culture_js`. `cargo test` runs the test at the bottom, which checks
//! the printed numbers against a brute-force count over the shipped jinshi file.

use keju::culture::{self, CultureOptions, Location, Transform};
use keju::data::{Column, Frame};

/// The measures for five firms in memory (no files): the firm frame with js_100..js_300.
fn build() -> keju::Result<Frame> {
    let mut firms = Frame::new("example firms");
    let ids = ["600000", "000001", "600519", "000333", "600036"];
    let cities = ["上海市", "深圳", "遵义市", "佛山", "蘇州"];
    firms.set_column(
        "code",
        Column::Str(ids.iter().map(|s| Some(s.to_string())).collect()),
    );
    firms.set_column(
        "city",
        Column::Str(cities.iter().map(|s| Some(s.to_string())).collect()),
    );
    let mut opts = CultureOptions::new("-", "code", Location::City("city".into()), "-");
    opts.radii_km = vec![100.0, 200.0, 300.0];
    opts.transform = Transform::Log1p;
    let summary = culture::add_measures(&mut firms, &opts)?;
    for note in &summary.notes {
        eprintln!("note: {note}");
    }
    Ok(firms)
}

fn main() {
    let firms = match build() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    println!(
        "{:<8} {:<8} {:>8} {:>8} {:>8}",
        "code", "city", "Js_100", "Js_200", "Js_300"
    );
    for i in 0..firms.n_rows() {
        let text = |c: &str| firms.column(c).unwrap().cell_text(i).unwrap_or_default();
        let num = |c: &str| firms.numeric(c).unwrap()[i];
        println!(
            "{:<8} {:>8.3} {:>8.3} {:>8.3}  {}",
            text("code"),
            num("js_100"),
            num("js_200"),
            num("js_300"),
            text("city")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keju::culture::{haversine_km, Builtin, PointSet};

    #[test]
    fn example_values_match_brute_force() {
        let firms = build().unwrap();
        let js = PointSet::builtin(Builtin::Jinshi);
        // Coordinates of the cities as geocoded (official names in the shipped gazetteer).
        let gaz = keju::culture::Gazetteer::builtin();
        let at = |name: &str| {
            let p = gaz.places().iter().find(|p| p.name == name).unwrap();
            (p.lat_deg, p.lon_deg)
        };
        let cities = ["上海市", "深圳市", "遵义市", "佛山市", "苏州市"];
        for r in [100.0, 200.0, 300.0] {
            let got = firms.numeric(&format!("js_{r}")).unwrap();
            for (i, c) in cities.iter().enumerate() {
                let (lat, lon) = at(c);
                let n: f64 = (0..js.weight.len())
                    .filter(|&k| haversine_km(lat, lon, js.lat_deg[k], js.lon_deg[k]) <= r)
                    .map(|k| js.weight[k])
                    .sum();
                assert!((got[i] - n.ln_1p()).abs() < 1e-12, "{c} {r}");
            }
        }
        main();
    }
}
