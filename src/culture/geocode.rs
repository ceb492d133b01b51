//! Geocoding registered-city names to modern places: [`Gazetteer`] (built from the shipped
//! `data/places_modern.csv` and `data/trad_simp.csv`), [`Gazetteer::lookup`] for one name and
//! [`Gazetteer::geocode_column`] for a column, which fails with one error listing every name
//! that is unknown or ambiguous.
//!
//! Matching rules (documented in `docs/culture.md`):
//! 1. Normalise: drop whitespace; traditional characters → simplified ([`Gazetteer::normalize`]).
//! 2. A name matches a place by its full official name (`苏州市`, rank 0) or a short form
//!    (rank 1): without the suffix 市, 区, 县, 旗, 盟, 地区, 林区, 新区, 自治州, 自治县, 自治旗,
//!    特别行政区 (`苏州`), without trailing ethnic names (`湘西土家族苗族自治州` → `湘西`), or the
//!    usual abbreviation (`湘西州`). Short forms shorter than two characters are not used.
//! 3. Either form may be preceded by the province and, for county-level places, the prefecture,
//!    full or short (`江苏苏州吴中区`, `北京市朝阳区`), which is how ambiguous names are resolved.
//! 4. Matches by full name beat matches by short form (`西安市` is the city; `西安` also
//!    matches 西安区 of Liaoyuan and of Mudanjiang, so it is ambiguous). More than one place at
//!    the best rank, or a province name (`吉林`, `海南`), is ambiguous: an error, never a guess.

use std::collections::HashMap;

use crate::data::Column;
use crate::error::{Error, Result};

use super::points::{EmbeddedCsv, PLACES_CSV, TRAD_SIMP_CSV};

/// Administrative level of a modern place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PlaceLevel {
    /// Province-level city: Beijing, Tianjin, Shanghai, Chongqing, Hong Kong, Macau.
    Municipality,
    /// Prefecture-level city, 地区, 自治州 or 盟.
    Prefecture,
    /// District, county, county-level city or banner.
    County,
}

/// One modern place. **Units**: degrees.
#[derive(Debug, Clone)]
pub struct Place {
    /// Six-digit administrative code (GB/T 2260).
    pub adcode: String,
    /// Official name, simplified characters (`苏州市`).
    pub name: String,
    pub level: PlaceLevel,
    /// Province (or municipality) name.
    pub province: String,
    /// Prefecture name for county-level places (empty where there is none).
    pub prefecture: String,
    pub lat_deg: f64,
    pub lon_deg: f64,
}

/// Result of looking up one name.
#[derive(Debug, Clone, PartialEq)]
pub enum Match {
    /// Exactly one place: its index.
    Found(usize),
    /// More than one place (indices), and whether the name is also a province name.
    Ambiguous {
        places: Vec<usize>,
        province: Option<String>,
    },
    /// No place; the closest places (indices), best first.
    Unknown { closest: Vec<usize> },
}

/// The modern places with a name index.
#[derive(Debug, Clone)]
pub struct Gazetteer {
    places: Vec<Place>,
    keys: HashMap<String, Vec<(u32, u8)>>,
    provinces: HashMap<String, (String, u8)>,
    trad: HashMap<char, char>,
}

const SUFFIXES: [&str; 12] = [
    "特别行政区",
    "自治州",
    "自治县",
    "自治旗",
    "地区",
    "林区",
    "新区",
    "市",
    "区",
    "县",
    "盟",
    "旗",
];

/// Ethnic names that occur in autonomous place names, longest first where one ends another.
const ETHNIC: [&str; 56] = [
    "乌孜别克",
    "柯尔克孜",
    "维吾尔",
    "哈萨克",
    "塔吉克",
    "塔塔尔",
    "达斡尔",
    "鄂温克",
    "鄂伦春",
    "俄罗斯",
    "蒙古",
    "土家",
    "布依",
    "朝鲜",
    "哈尼",
    "傈僳",
    "拉祜",
    "东乡",
    "纳西",
    "景颇",
    "仫佬",
    "布朗",
    "撒拉",
    "毛南",
    "仡佬",
    "锡伯",
    "阿昌",
    "普米",
    "德昂",
    "保安",
    "裕固",
    "独龙",
    "赫哲",
    "门巴",
    "珞巴",
    "基诺",
    "高山",
    "回",
    "藏",
    "苗",
    "彝",
    "壮",
    "满",
    "侗",
    "瑶",
    "白",
    "傣",
    "黎",
    "佤",
    "畲",
    "水",
    "土",
    "羌",
    "怒",
    "京",
    "族",
];

fn char_len(s: &str) -> usize {
    s.chars().count()
}

/// Strip trailing ethnic names (`湘西土家族苗族` → `湘西`) while at least two characters remain.
fn strip_ethnic(s: &str) -> String {
    let mut cur = s.to_string();
    loop {
        let body = cur.strip_suffix('族').unwrap_or(&cur);
        let next = ETHNIC
            .iter()
            .filter(|e| **e != "族")
            .find_map(|e| body.strip_suffix(e).filter(|rest| char_len(rest) >= 2));
        match next {
            Some(rest) if rest != cur => cur = rest.to_string(),
            _ => return cur,
        }
    }
}

/// Name forms of a place with their rank: 0 full, 1 short.
fn name_forms(name: &str) -> Vec<(String, u8)> {
    let mut out = vec![(name.to_string(), 0u8)];
    let mut push = |s: String| {
        if char_len(&s) >= 2 && !out.iter().any(|(o, _)| *o == s) {
            out.push((s, 1));
        }
    };
    for suf in SUFFIXES {
        if let Some(stem) = name.strip_suffix(suf) {
            push(stem.to_string());
            let base = strip_ethnic(stem);
            push(base.clone());
            if base != stem {
                match suf {
                    "自治州" => push(format!("{base}州")),
                    "自治县" => push(format!("{base}县")),
                    "自治旗" => push(format!("{base}旗")),
                    _ => {}
                }
            }
            break;
        }
    }
    out
}

impl Gazetteer {
    /// The gazetteer of the shipped `data/places_modern.csv` (3,187 places).
    ///
    /// **Complexity**: builds about 10⁵ name keys, a few milliseconds.
    pub fn builtin() -> Gazetteer {
        let table = EmbeddedCsv::parse(PLACES_CSV);
        let c = |n: &str| table.col(n);
        let places: Vec<Place> = table
            .rows
            .iter()
            .map(|r| Place {
                adcode: r[c("adcode")].clone(),
                name: r[c("name")].clone(),
                level: match r[c("level")].as_str() {
                    "municipality" => PlaceLevel::Municipality,
                    "prefecture" => PlaceLevel::Prefecture,
                    _ => PlaceLevel::County,
                },
                province: r[c("province")].clone(),
                prefecture: r[c("prefecture")].clone(),
                lat_deg: r[c("lat")]
                    .parse()
                    .expect("shipped places have numeric lat"),
                lon_deg: r[c("lon")]
                    .parse()
                    .expect("shipped places have numeric lon"),
            })
            .collect();
        let trad_table = EmbeddedCsv::parse(TRAD_SIMP_CSV);
        let trad = trad_table
            .rows
            .iter()
            .filter_map(|r| Some((r[0].chars().next()?, r[1].chars().next()?)))
            .collect();
        Gazetteer::from_places(places, trad)
    }

    fn from_places(places: Vec<Place>, trad: HashMap<char, char>) -> Gazetteer {
        let mut keys: HashMap<String, Vec<(u32, u8)>> = HashMap::new();
        let mut provinces: HashMap<String, (String, u8)> = HashMap::new();
        let province_forms = |p: &str| -> Vec<String> {
            let mut v: Vec<String> = name_forms(p).into_iter().map(|x| x.0).collect();
            for suf in ["省", "自治区"] {
                if let Some(stem) = p.strip_suffix(suf) {
                    for s in [stem.to_string(), strip_ethnic(stem)] {
                        if char_len(&s) >= 2 && !v.contains(&s) {
                            v.push(s);
                        }
                    }
                }
            }
            v
        };
        let mut province_cache: HashMap<String, Vec<String>> = HashMap::new();
        for p in &places {
            province_cache
                .entry(p.province.clone())
                .or_insert_with(|| province_forms(&p.province));
        }
        for (prov, forms) in &province_cache {
            if !places
                .iter()
                .any(|p| p.level == PlaceLevel::Municipality && p.name == *prov)
            {
                for (i, f) in forms.iter().enumerate() {
                    provinces.insert(f.clone(), (prov.clone(), u8::from(i > 0)));
                }
            }
        }
        for (i, p) in places.iter().enumerate() {
            let mut quals: Vec<String> = vec![String::new()];
            if p.level != PlaceLevel::Municipality {
                quals.extend(province_cache[&p.province].iter().cloned());
            }
            if p.level == PlaceLevel::County
                && !p.prefecture.is_empty()
                && p.prefecture != p.province
            {
                let pref: Vec<String> =
                    name_forms(&p.prefecture).into_iter().map(|x| x.0).collect();
                let provs = province_cache[&p.province].clone();
                for f in &pref {
                    quals.push(f.clone());
                    for pv in &provs {
                        quals.push(format!("{pv}{f}"));
                    }
                }
            }
            for (form, rank) in name_forms(&p.name) {
                for q in &quals {
                    let entry = keys.entry(format!("{q}{form}")).or_default();
                    if !entry.iter().any(|(j, r)| *j == i as u32 && *r <= rank) {
                        entry.push((i as u32, rank));
                    }
                }
            }
        }
        Gazetteer {
            places,
            keys,
            provinces,
            trad,
        }
    }

    /// All places, in adcode order.
    pub fn places(&self) -> &[Place] {
        &self.places
    }

    /// The name with whitespace removed and traditional characters made simplified
    /// (`蘇州市` → `苏州市`, `臺州` → `台州`).
    pub fn normalize(&self, name: &str) -> String {
        name.chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| *self.trad.get(&c).unwrap_or(&c))
            .collect()
    }

    /// The full qualified name of a place (`江苏省苏州市吴中区`), as shown in messages.
    pub fn qualified_name(&self, i: usize) -> String {
        let p = &self.places[i];
        match p.level {
            PlaceLevel::Municipality => p.name.clone(),
            PlaceLevel::Prefecture => format!("{}{}", p.province, p.name),
            PlaceLevel::County if p.prefecture.is_empty() || p.prefecture == p.province => {
                format!("{}{}", p.province, p.name)
            }
            PlaceLevel::County => format!("{}{}{}", p.province, p.prefecture, p.name),
        }
    }

    /// Look up one name (rules in the module doc).
    pub fn lookup(&self, name: &str) -> Match {
        let key = self.normalize(name);
        let mut best: Vec<usize> = Vec::new();
        let mut best_rank = u8::MAX;
        if let Some(hits) = self.keys.get(&key) {
            best_rank = hits.iter().map(|h| h.1).min().unwrap_or(u8::MAX);
            best = hits
                .iter()
                .filter(|h| h.1 == best_rank)
                .map(|h| h.0 as usize)
                .collect();
            best.sort_unstable();
            best.dedup();
        }
        let province = self
            .provinces
            .get(&key)
            .filter(|(_, r)| *r <= best_rank)
            .map(|(p, _)| p.clone());
        match (best.len(), &province) {
            (1, None) => Match::Found(best[0]),
            (0, None) => Match::Unknown {
                closest: self.closest(&key),
            },
            _ => Match::Ambiguous {
                places: best,
                province,
            },
        }
    }

    /// Up to three places closest to a normalised name: places whose full name occurs in it
    /// first (longest first), then by edit distance to any name form.
    fn closest(&self, key: &str) -> Vec<usize> {
        let target: Vec<char> = key.chars().collect();
        let mut scored: Vec<(usize, usize, PlaceLevel, usize)> = Vec::new();
        for (i, p) in self.places.iter().enumerate() {
            if char_len(&p.name) >= 2 && key.contains(p.name.as_str()) {
                scored.push((0, usize::MAX - char_len(&p.name), p.level, i));
                continue;
            }
            let d = name_forms(&p.name)
                .iter()
                .map(|(f, _)| edit_distance(&target, &f.chars().collect::<Vec<_>>()))
                .min()
                .unwrap_or(usize::MAX);
            if d <= (target.len() * 2).div_ceil(3).max(1) {
                scored.push((1, d, p.level, i));
            }
        }
        scored.sort();
        scored.into_iter().take(3).map(|s| s.3).collect()
    }

    /// Geocode a column of names: the place index of each row (`None` for a missing cell).
    ///
    /// Each distinct name is looked up once.
    ///
    /// **Errors**: [`Error::Schema`] on `source` listing every unknown or ambiguous name with
    /// the lines where it occurs (1-based, header = line 1; records for Parquet) and the closest
    /// or matching places; [`Error::Parse`] for a numeric column.
    pub fn geocode_column(
        &self,
        column: &Column,
        source: &str,
        column_name: &str,
    ) -> Result<Vec<Option<usize>>> {
        let values: Vec<Option<String>> = match column {
            Column::Str(v) => v.clone(),
            Column::Num(v) => {
                let i = v.iter().position(|x| !x.is_nan()).unwrap_or(0);
                return Err(Error::Parse {
                    path: source.to_string(),
                    column: column_name.to_string(),
                    line: i + 2,
                    value: column.cell_text(i).unwrap_or_default(),
                    expected:
                        "a place name (the column is numeric: use --lat/--lon for coordinates)"
                            .into(),
                });
            }
        };
        let mut memo: HashMap<&str, Match> = HashMap::new();
        let mut bad: Vec<(&str, Vec<usize>)> = Vec::new();
        let mut out = Vec::with_capacity(values.len());
        for (row, v) in values.iter().enumerate() {
            let Some(name) = v.as_deref() else {
                out.push(None);
                continue;
            };
            let m = memo.entry(name).or_insert_with(|| self.lookup(name));
            match m {
                Match::Found(i) => out.push(Some(*i)),
                _ => {
                    out.push(None);
                    match bad.iter_mut().find(|(n, _)| *n == name) {
                        Some((_, rows)) => rows.push(row),
                        None => bad.push((name, vec![row])),
                    }
                }
            }
        }
        if bad.is_empty() {
            return Ok(out);
        }
        let unit = if source.to_ascii_lowercase().ends_with(".parquet")
            || source.to_ascii_lowercase().ends_with(".pq")
        {
            "record"
        } else {
            "line"
        };
        let mut msg = format!(
            "column \"{column_name}\": {} name{} cannot be geocoded (no row is dropped; fix or qualify these names, or give --lat/--lon)",
            bad.len(),
            if bad.len() == 1 { "" } else { "s" }
        );
        for (name, rows) in &bad {
            let mut where_ = rows
                .iter()
                .take(5)
                .map(|r| (if unit == "line" { r + 2 } else { r + 1 }).to_string())
                .collect::<Vec<_>>()
                .join(", ");
            if rows.len() > 5 {
                where_.push_str(&format!(" and {} more", rows.len() - 5));
            }
            let plural = if rows.len() == 1 { "" } else { "s" };
            let what = match &memo[name] {
                Match::Unknown { closest } if closest.is_empty() => {
                    "no such place; no close match".to_string()
                }
                Match::Unknown { closest } => format!(
                    "no such place; closest: {}",
                    closest
                        .iter()
                        .map(|i| self.qualified_name(*i))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                Match::Ambiguous {
                    places,
                    province: Some(p),
                } if places.is_empty() => {
                    format!("{p} is a province, not a city: give the registered city")
                }
                Match::Ambiguous { places, province } => {
                    let mut c: Vec<String> =
                        places.iter().map(|i| self.qualified_name(*i)).collect();
                    if let Some(p) = province {
                        c.insert(0, format!("{p} (a province, not a city)"));
                    }
                    format!("matches {} places: {}", c.len(), c.join(", "))
                }
                Match::Found(_) => unreachable!("found names are not bad"),
            };
            msg.push_str(&format!("\n  {unit}{plural} {where_}: \"{name}\": {what}"));
        }
        msg.push_str("\nhint: write the full name (西安市, not 西安) or put the province or prefecture first (江苏苏州吴中区, 北京朝阳区)");
        Err(Error::Schema {
            path: source.to_string(),
            message: msg,
        })
    }
}

fn edit_distance(a: &[char], b: &[char]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    fn gaz() -> &'static Gazetteer {
        static G: OnceLock<Gazetteer> = OnceLock::new();
        G.get_or_init(Gazetteer::builtin)
    }

    fn found(name: &str) -> &'static Place {
        match gaz().lookup(name) {
            Match::Found(i) => &gaz().places()[i],
            other => panic!("{name}: {other:?}"),
        }
    }

    #[test]
    fn simplified_traditional_and_suffix_variants_agree() {
        let suzhou = found("苏州市");
        assert_eq!(suzhou.adcode, "320500");
        for v in [
            "苏州",
            "蘇州",
            "蘇州市",
            " 苏州市 ",
            "江苏苏州",
            "江蘇省蘇州市",
        ] {
            assert_eq!(found(v).adcode, "320500", "{v}");
        }
        assert_eq!(found("北京").adcode, "110000");
        assert_eq!(found("北京市").adcode, "110000");
        assert_eq!(found("上海市").adcode, "310000");
        assert_eq!(found("曲阜市").adcode, "370881");
        assert_eq!(found("曲阜").adcode, "370881");
        assert_eq!(found("廣州").adcode, "440100");
        assert_eq!(found("臺州").adcode, "331000");
        assert_eq!(found("湘西土家族苗族自治州").adcode, "433100");
        assert_eq!(found("湘西州").adcode, "433100");
        assert_eq!(found("湘西").adcode, "433100");
        assert_eq!(found("延边").adcode, "222400");
        assert_eq!(found("锡林郭勒盟").adcode, "152500");
        assert_eq!(found("锡林郭勒").adcode, "152500");
        assert_eq!(found("喀什地区").adcode, "653100");
        assert_eq!(found("浦东新区").adcode, "310115");
        assert_eq!(found("浦东").adcode, "310115");
        assert_eq!(found("昆山市").adcode, "320583");
        assert_eq!(found("崑山").adcode, "320583");
        assert_eq!(found("西安市").adcode, "610100");
        // Traditional and simplified give the same coordinates.
        let (a, b) = (found("蘇州"), found("苏州"));
        assert_eq!((a.lat_deg, a.lon_deg), (b.lat_deg, b.lon_deg));
    }

    #[test]
    fn qualifiers_resolve_ambiguous_districts() {
        assert!(
            matches!(gaz().lookup("鼓楼区"), Match::Ambiguous { ref places, .. } if places.len() >= 4)
        );
        assert_eq!(found("南京鼓楼区").adcode, "320106");
        assert_eq!(found("江苏省南京市鼓楼区").adcode, "320106");
        assert_eq!(found("福州市鼓楼区").adcode, "350102");
        assert_eq!(found("北京朝阳区").adcode, "110105");
        assert_eq!(found("北京市朝阳区").adcode, "110105");
        assert_eq!(found("朝阳市").adcode, "211300");
    }

    #[test]
    fn short_forms_that_collide_are_ambiguous() {
        match gaz().lookup("西安") {
            Match::Ambiguous { places, province } => {
                assert!(province.is_none());
                let names: Vec<String> = places.iter().map(|i| gaz().qualified_name(*i)).collect();
                assert!(names.contains(&"陕西省西安市".to_string()), "{names:?}");
                assert_eq!(names.len(), 3, "{names:?}");
            }
            other => panic!("{other:?}"),
        }
        match gaz().lookup("吉林") {
            Match::Ambiguous { places, province } => {
                assert_eq!(province.as_deref(), Some("吉林省"));
                assert_eq!(places.len(), 1);
            }
            other => panic!("{other:?}"),
        }
        assert!(
            matches!(gaz().lookup("江苏省"), Match::Ambiguous { ref places, province: Some(_) } if places.is_empty())
        );
    }

    #[test]
    fn unknown_names_get_close_candidates() {
        match gaz().lookup("苏洲") {
            Match::Unknown { closest } => assert_eq!(gaz().places()[closest[0]].adcode, "320500"),
            other => panic!("{other:?}"),
        }
        match gaz().lookup("苏州工业园区") {
            Match::Unknown { closest } => assert_eq!(gaz().places()[closest[0]].adcode, "320500"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn column_errors_list_every_bad_name_with_lines() {
        let col = Column::Str(vec![
            Some("北京".into()),
            Some("苏洲".into()),
            None,
            Some("鼓楼区".into()),
            Some("苏洲".into()),
            Some("Atlantis".into()),
        ]);
        let e = gaz()
            .geocode_column(&col, "f.csv", "city")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("f.csv: column \"city\": 3 names cannot be geocoded"),
            "{e}"
        );
        assert!(
            e.contains("lines 3, 6: \"苏洲\": no such place; closest: 江苏省苏州市"),
            "{e}"
        );
        assert!(e.contains("line 5: \"鼓楼区\": matches 4 places: "), "{e}");
        assert!(e.contains("江苏省南京市鼓楼区"), "{e}");
        assert!(e.contains("line 7: \"Atlantis\""), "{e}");
        let prov = Column::Str(vec![Some("江蘇省".into())]);
        let e = gaz()
            .geocode_column(&prov, "f.csv", "city")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("\"江蘇省\": 江苏省 is a province, not a city"),
            "{e}"
        );
        let ok = Column::Str(vec![Some("北京".into()), None, Some("蘇州市".into())]);
        let g = gaz().geocode_column(&ok, "f.csv", "city").unwrap();
        assert_eq!(g[1], None);
        assert_eq!(gaz().places()[g[2].unwrap()].adcode, "320500");
    }

    #[test]
    fn ethnic_stripping() {
        assert_eq!(strip_ethnic("湘西土家族苗族"), "湘西");
        assert_eq!(strip_ethnic("巴音郭楞蒙古"), "巴音郭楞");
        assert_eq!(strip_ethnic("内蒙古"), "内蒙古");
        assert_eq!(strip_ethnic("鄂伦春"), "鄂伦春");
    }
}
