//! `keju simulate`: a SIMULATED firm-year panel with the shape of Hu, Lin & Xiang (2025) and
//! known true coefficients.
//!
//! Real inputs: the Tushare A-share list (listing and delisting dates, province, industry;
//! `data/firms_tushare.csv`), modern prefecture-level cities (`data/places_modern.csv`) and the
//! shipped culture point sets (jinshi, county seats, Qufu, printing centres). Everything else
//! (firms' ids, cities within a province, controls, ESG, mechanisms) is drawn from a model whose
//! parameters are written into [`Truth`]. Every modelling choice is in `docs/simulation.md`.
//!
//! Data flow: eligible firm-years (2009-2021, SH+SZ, non-financial, listed >= 1 year, not
//! delisted) → firm copies (`firms_scale`) → registered city → culture measures per city →
//! panel membership (keep, ST, ESG missing) → split groups on the baseline rows → controls →
//! ESG and mechanisms → missing patterns → [`Frame`].
//!
//! Determinism: one `ChaCha8Rng` stream seeded by [`SimulateOptions::seed`], consumed in a
//! fixed order; the same seed gives the same panel on every platform up to the last bit of
//! `ln`/`exp`/trigonometry (values are rounded before they are written).

use std::collections::{BTreeMap, HashMap};

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Beta, Distribution, Gamma, StandardNormal};
use serde::Serialize;

use crate::culture::measure::{nearest_km, radius_measures};
use crate::culture::points::{EmbeddedCsv, PLACES_CSV};
use crate::culture::{Builtin, Kernel, PointIndex, PointSet, Transform};
use crate::data::{Column, Frame};
use crate::error::{Error, Result};

/// The firm list: Tushare `stock_basic` (via AFAN-LIFE/macropage, CC BY 4.0), reduced by
/// `data/build/make_firms.py` to exchange, area, industry, list and delist dates.
pub const FIRMS_CSV: &str = include_str!("../data/firms_tushare.csv");

/// Default seed of `keju simulate` and of the shipped panel.
pub const DEFAULT_SEED: u64 = 2025;

/// First and last fiscal year.
pub const YEARS: (i32, i32) = (2009, 2021);

/// The paper's baseline N (Table 1).
pub const PAPER_N: f64 = 30678.0;

/// Share of eligible firm-years in the paper's baseline (30,678 / 34,949).
pub const BASELINE_SHARE: f64 = 0.878;

/// Share of panel firm-years that are ST (stationary mean of the ST Markov chain).
pub const ST_SHARE: f64 = 0.03;

/// Share of panel firm-years without a Huazheng rating (ESG missing).
pub const ESG_MISSING_SHARE: f64 = 0.025;

/// Tushare industries dropped as financial.
pub const FINANCIAL_INDUSTRIES: [&str; 4] = ["银行", "证券", "保险", "多元金融"];

/// Provincial capitals: (short province name, capital as in `places_modern.csv`). The four
/// municipalities are their own city.
pub const CAPITALS: [(&str, &str); 31] = [
    ("北京", "北京市"),
    ("天津", "天津市"),
    ("上海", "上海市"),
    ("重庆", "重庆市"),
    ("河北", "石家庄市"),
    ("山西", "太原市"),
    ("内蒙古", "呼和浩特市"),
    ("辽宁", "沈阳市"),
    ("吉林", "长春市"),
    ("黑龙江", "哈尔滨市"),
    ("江苏", "南京市"),
    ("浙江", "杭州市"),
    ("安徽", "合肥市"),
    ("福建", "福州市"),
    ("江西", "南昌市"),
    ("山东", "济南市"),
    ("河南", "郑州市"),
    ("湖北", "武汉市"),
    ("湖南", "长沙市"),
    ("广东", "广州市"),
    ("广西", "南宁市"),
    ("海南", "海口市"),
    ("四川", "成都市"),
    ("贵州", "贵阳市"),
    ("云南", "昆明市"),
    ("西藏", "拉萨市"),
    ("陕西", "西安市"),
    ("甘肃", "兰州市"),
    ("青海", "西宁市"),
    ("宁夏", "银川市"),
    ("新疆", "乌鲁木齐市"),
];

/// Probability that a firm outside a municipality (and not tagged 深圳) is registered in its
/// provincial capital; otherwise a uniform draw among the province's other prefecture-level
/// units.
pub const CAPITAL_PROB: f64 = 0.4;

/// ln GDP per capita in 2009 by province (approximate NBS values, yuan; tag R), in
/// [`CAPITALS`] order. Province-year value: this + [`LNGDP_SHIFT`] + 0.07 (year - 2009) +
/// N(0, 0.02), clamped to [9.3, 12.1].
const LNGDP_2009: [f64; 31] = [
    11.11, 11.04, 11.14, 10.04, 10.11, 9.98, 10.59, 10.47, 10.19, 10.02, 10.70, 10.69, 9.71, 10.42,
    9.76, 10.49, 9.93, 10.03, 9.92, 10.58, 9.68, 9.87, 9.76, 9.24, 9.51, 9.64, 10.00, 9.46, 9.88,
    9.99, 9.90,
];

/// Added to [`LNGDP_2009`] so that the firm-year mean is the calibration's 11.1 (R).
const LNGDP_SHIFT: f64 = 0.15;

/// Marketization ranking (best first; tag R, after the broad order of 王小魯 et al.'s index).
/// 广东 is placed so that, with firms concentrated in the coastal provinces, the yearly median
/// firm-year falls inside 广东 and ties at the median go to "better" (about 65 % better).
const FORMAL_RANK: [&str; 31] = [
    "浙江",
    "上海",
    "江苏",
    "北京",
    "天津",
    "福建",
    "广东",
    "山东",
    "重庆",
    "安徽",
    "湖北",
    "河南",
    "湖南",
    "江西",
    "四川",
    "辽宁",
    "河北",
    "陕西",
    "吉林",
    "海南",
    "广西",
    "云南",
    "山西",
    "宁夏",
    "黑龙江",
    "内蒙古",
    "贵州",
    "新疆",
    "甘肃",
    "青海",
    "西藏",
];

/// Provinces of the ten great merchant guilds (十大商幫): 晉 山西, 徽 安徽, 陝 陝西, 魯 山東,
/// 閩 福建, 粵 廣東, 寧波 and 龍游 浙江, 洞庭 江蘇, 江右 江西.
const GUILD_PROVINCES: [&str; 9] = [
    "山西", "安徽", "陕西", "山东", "福建", "广东", "浙江", "江苏", "江西",
];

/// Provinces without CGSS trust data in the simulation (Trust2 missing).
const NO_CGSS: [&str; 5] = ["西藏", "新疆", "青海", "宁夏", "海南"];

/// True heterogeneity of the Js_200 effect on the ESG score:
/// beta_it = BASE + PC pc_it + HIGH_COMP [hhi_it < mean] + BETTER [formal_it >= yearly median].
pub const BETA_BASE: f64 = 0.0494;
pub const BETA_PC: f64 = -0.018;
pub const BETA_HIGH_COMP: f64 = -0.010;
pub const BETA_BETTER_FORMAL: f64 = -0.025;

/// Mechanism outcomes and their true Js_200 coefficients (paper Table 2), with the paper's N.
pub const MECHANISMS: [(&str, f64, f64); 9] = [
    ("env", 0.068, 30243.0),
    ("patent1", 0.022, 24510.0),
    ("patent2", 0.017, 24510.0),
    ("patent3", 0.011, 24510.0),
    ("trust1", 0.211, 31565.0),
    ("trust2", 0.027, 23816.0),
    ("internal", 0.015, 31561.0),
    ("analyst", 0.025, 22377.0),
    ("visit", 0.023, 25208.0),
];

/// ESG score = ... + θ_k (x_k - mean_k): the controls' true coefficients.
pub const THETA: [(&str, f64); 11] = [
    ("size", 0.25),
    ("lev", -0.6),
    ("age", -0.05),
    ("top1", 0.4),
    ("roe", 0.8),
    ("cf", 0.6),
    ("board", 0.2),
    ("growth", -0.05),
    ("mshare", 0.3),
    ("indep", 0.5),
    ("lngdp", 0.04),
];

/// Industry effect on the ESG score: IND_KAPPA × (industry's mean Js_200 − grand mean) +
/// N(0, IND_SD²). The first term is the omitted-variable channel that industry FE remove.
pub const IND_KAPPA: f64 = 0.25;
pub const IND_SD: f64 = 0.25;

/// Target share of baseline firm-years with formal >= the yearly median (paper: 19,965/30,675).
pub const FORMAL_BETTER_SHARE: f64 = 0.651;

/// Linear map from the ESG score to the Huazheng-style 0-100 score and the Bloomberg-style score.
pub const HZ_MAP: (f64, f64) = (50.0, 6.0);
pub const BBG_MAP: (f64, f64) = (5.0, 4.0);

/// Options of [`simulate`].
#[derive(Debug, Clone)]
pub struct SimulateOptions {
    pub seed: u64,
    /// Multiplies the number of firms: < 1 keeps each firm with this probability, > 1 adds
    /// copies (each with its own city and draws). Default 1.
    pub firms_scale: f64,
}

impl Default for SimulateOptions {
    fn default() -> Self {
        SimulateOptions {
            seed: DEFAULT_SEED,
            firms_scale: 1.0,
        }
    }
}

/// The known truth of a simulated panel.
#[derive(Debug, Clone, Serialize)]
pub struct Truth {
    pub seed: u64,
    pub firms_scale: f64,
    /// Average true Js_200 coefficient over the baseline rows (st == 0, esg present) for each
    /// ESG outcome; for esg_bbg over the baseline rows where it is present.
    pub beta_js_200: BTreeMap<String, f64>,
    /// Average true coefficient of the ESG score within each split group (baseline rows).
    pub groups: BTreeMap<String, f64>,
    /// Baseline rows in each split group.
    pub group_n: BTreeMap<String, usize>,
    /// The split rules behind `groups`.
    pub group_rules: BTreeMap<String, String>,
    /// The heterogeneity model's parameters.
    pub heterogeneity: BTreeMap<String, f64>,
    /// True Js_200 coefficient of each mechanism outcome (env: on the probit latent index).
    pub mechanisms: BTreeMap<String, f64>,
    /// True coefficients of the controls on the ESG score.
    pub controls: BTreeMap<String, f64>,
    /// Row counts: panel, baseline, by year, and each mechanism's N under its sample rule.
    pub counts: BTreeMap<String, usize>,
    pub notes: Vec<String>,
}

/// One listing of the firm file.
#[derive(Debug, Clone)]
struct Listing {
    exchange: String,
    area: Option<String>,
    industry: Option<String>,
    list_year: i32,
    /// Eligible fiscal years, ascending.
    years: Vec<i32>,
}

/// A modern prefecture-level unit.
#[derive(Debug, Clone)]
struct City {
    name: String,
    lat: f64,
    lon: f64,
}

struct Draw {
    rng: ChaCha8Rng,
}

impl Draw {
    fn n(&mut self) -> f64 {
        StandardNormal.sample(&mut self.rng)
    }
    fn u(&mut self) -> f64 {
        self.rng.random::<f64>()
    }
    fn bern(&mut self, p: f64) -> bool {
        self.u() < p
    }
    fn gamma(&mut self, shape: f64, scale: f64) -> f64 {
        Gamma::new(shape, scale)
            .expect("valid gamma parameters")
            .sample(&mut self.rng)
    }
    fn beta(&mut self, a: f64, b: f64) -> f64 {
        Beta::new(a, b)
            .expect("valid beta parameters")
            .sample(&mut self.rng)
    }
    /// A stationary AR(1) path with unit variance.
    fn ar1(&mut self, len: usize, rho: f64) -> Vec<f64> {
        let mut out = Vec::with_capacity(len);
        let mut z = self.n();
        for k in 0..len {
            if k > 0 {
                z = rho * z + (1.0 - rho * rho).sqrt() * self.n();
            }
            out.push(z);
        }
        out
    }
    /// A two-state Markov chain with stationary mean `mean` and first-order autocorrelation
    /// `rho`, started from its stationary distribution.
    fn markov(&mut self, len: usize, mean: f64, rho: f64) -> Vec<bool> {
        let p01 = mean * (1.0 - rho);
        let p11 = p01 + rho;
        let mut s = self.bern(mean);
        let mut out = Vec::with_capacity(len);
        for k in 0..len {
            if k > 0 {
                s = self.bern(if s { p11 } else { p01 });
            }
            out.push(s);
        }
        out
    }
}

fn round_to(x: f64, digits: i32) -> f64 {
    if x.is_nan() {
        return x;
    }
    let f = 10f64.powi(digits);
    let r = (x * f).round() / f;
    if r == 0.0 {
        0.0
    } else {
        r
    }
}

fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// The intercept c with Σ_k logistic(c + score_k) = target (bisection; target clamped).
fn logit_intercept(scores: &[f64], target: f64) -> f64 {
    let n = scores.len() as f64;
    let target = target.clamp(0.0, n);
    let (mut lo, mut hi) = (-30.0, 30.0);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        let s: f64 = scores.iter().map(|&x| logistic(mid + x)).sum();
        if s < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// Short province name for a Tushare `area` (深圳 → 广东, 内蒙 → 内蒙古).
pub fn province_of_area(area: &str) -> String {
    match area {
        "深圳" => "广东".to_string(),
        "内蒙" => "内蒙古".to_string(),
        a => a.to_string(),
    }
}

fn parse_listings() -> Vec<Listing> {
    let t = EmbeddedCsv::parse(FIRMS_CSV);
    let (ce, ca, ci, cl, cd) = (
        t.col("exchange"),
        t.col("area"),
        t.col("industry"),
        t.col("list_date"),
        t.col("delist_date"),
    );
    let mut out = Vec::new();
    for r in &t.rows {
        let ind = (!r[ci].is_empty()).then(|| r[ci].clone());
        if ind
            .as_deref()
            .is_some_and(|i| FINANCIAL_INDUSTRIES.contains(&i))
        {
            continue;
        }
        let list: i64 = r[cl].parse().expect("shipped list_date is yyyymmdd");
        let delist: Option<i64> = (!r[cd].is_empty()).then(|| r[cd].parse().expect("yyyymmdd"));
        let years: Vec<i32> = (YEARS.0..=YEARS.1)
            .filter(|&t| {
                list <= (t as i64 - 1) * 10000 + 1231 && delist.is_none_or(|d| d / 10000 > t as i64)
            })
            .collect();
        if years.is_empty() {
            continue;
        }
        out.push(Listing {
            exchange: r[ce].clone(),
            area: (!r[ca].is_empty()).then(|| r[ca].clone()),
            industry: ind,
            list_year: (list / 10000) as i32,
            years,
        });
    }
    out
}

/// Prefecture-level units (and municipalities) by short province name, capital first.
fn cities_by_province() -> HashMap<String, Vec<City>> {
    let t = EmbeddedCsv::parse(PLACES_CSV);
    let (cn, cl, cp, clat, clon) = (
        t.col("name"),
        t.col("level"),
        t.col("province"),
        t.col("lat"),
        t.col("lon"),
    );
    let mut map: HashMap<String, Vec<City>> = HashMap::new();
    for (short, capital) in CAPITALS {
        let mut cities: Vec<City> = t
            .rows
            .iter()
            .filter(|r| {
                (r[cl] == "prefecture" || r[cl] == "municipality") && r[cp].starts_with(short)
            })
            .map(|r| City {
                name: r[cn].clone(),
                lat: r[clat].parse().expect("shipped lat"),
                lon: r[clon].parse().expect("shipped lon"),
            })
            .collect();
        let pos = cities
            .iter()
            .position(|c| c.name == capital)
            .unwrap_or_else(|| panic!("capital {capital} of {short} is in places_modern.csv"));
        let cap = cities.remove(pos);
        cities.insert(0, cap);
        map.insert(short.to_string(), cities);
    }
    map
}

/// One firm copy with its registered place.
struct Firm {
    listing: usize,
    province: String,
    industry: String,
    city: usize,
}

/// Simulate the panel and its truth.
///
/// **Errors**: [`Error::Usage`] for a non-positive or non-finite `firms_scale`.
pub fn simulate(opts: &SimulateOptions) -> Result<(Frame, Truth)> {
    if !(opts.firms_scale.is_finite() && opts.firms_scale > 0.0 && opts.firms_scale <= 20.0) {
        return Err(Error::usage(format!(
            "--firms-scale must be in (0, 20], got {}",
            opts.firms_scale
        )));
    }
    let mut d = Draw {
        rng: ChaCha8Rng::seed_from_u64(opts.seed),
    };
    let listings = parse_listings();
    let provinces = cities_by_province();
    let donors: Vec<usize> = (0..listings.len())
        .filter(|&i| listings[i].area.is_some() && listings[i].industry.is_some())
        .collect();

    // Firm copies, places and industries (delisted listings lack both: a random donor's).
    let mut city_list: Vec<City> = Vec::new();
    let mut city_ix: HashMap<String, usize> = HashMap::new();
    let mut city_prov: Vec<String> = Vec::new();
    let mut firms: Vec<Firm> = Vec::new();
    let whole = opts.firms_scale.floor() as usize;
    let frac = opts.firms_scale - whole as f64;
    for (li, l) in listings.iter().enumerate() {
        let copies = whole + usize::from(d.bern(frac));
        for _ in 0..copies {
            let (area, industry) = match (&l.area, &l.industry) {
                (Some(a), Some(i)) => (a.clone(), i.clone()),
                _ => {
                    let k = donors[d.rng.random_range(0..donors.len())];
                    (
                        listings[k].area.clone().expect("donor"),
                        listings[k].industry.clone().expect("donor"),
                    )
                }
            };
            let province = province_of_area(&area);
            let cands = provinces.get(&province).ok_or_else(|| {
                Error::estimation(format!("simulate: unknown Tushare area \"{area}\""))
            })?;
            let city = if area == "深圳" {
                cands
                    .iter()
                    .find(|c| c.name == "深圳市")
                    .expect("深圳市 is a prefecture")
                    .clone()
            } else {
                let others: Vec<&City> = cands[1..].iter().filter(|c| c.name != "深圳市").collect();
                if others.is_empty() || d.bern(CAPITAL_PROB) {
                    cands[0].clone()
                } else {
                    others[d.rng.random_range(0..others.len())].clone()
                }
            };
            let key = city.name.clone() + "|" + &province;
            let ci = *city_ix.entry(key).or_insert_with(|| {
                city_list.push(city);
                city_prov.push(province.clone());
                city_list.len() - 1
            });
            firms.push(Firm {
                listing: li,
                province,
                industry,
                city: ci,
            });
        }
    }
    firms.shuffle(&mut d.rng);

    // Culture measures per city, from the shipped point sets.
    let lat: Vec<f64> = city_list.iter().map(|c| c.lat).collect();
    let lon: Vec<f64> = city_list.iter().map(|c| c.lon).collect();
    let idx = |b: Builtin| {
        let p = PointSet::builtin(b);
        PointIndex::new(&p.lat_deg, &p.lon_deg, &p.weight)
    };
    let js = radius_measures(
        &idx(Builtin::Jinshi),
        &lat,
        &lon,
        &[100.0, 200.0, 300.0],
        Kernel::Count,
        0.0,
        Transform::Log1p,
    );
    let js_qing = radius_measures(
        &idx(Builtin::JinshiQing),
        &lat,
        &lon,
        &[200.0],
        Kernel::Count,
        0.0,
        Transform::Log1p,
    )
    .remove(0);
    let temples = radius_measures(
        &idx(Builtin::Counties),
        &lat,
        &lon,
        &[200.0],
        Kernel::Count,
        0.0,
        Transform::Log1p,
    )
    .remove(0);
    let dist_qufu = nearest_km(&idx(Builtin::ConfucianCentres), &lat, &lon);
    let dist_print = nearest_km(&idx(Builtin::PrintingCentres), &lat, &lon);
    let js_100: Vec<f64> = js[0].iter().map(|&x| round_to(x, 4)).collect();
    let js_200: Vec<f64> = js[1].iter().map(|&x| round_to(x, 4)).collect();
    let js_300: Vec<f64> = js[2].iter().map(|&x| round_to(x, 4)).collect();
    // Clan culture per city (R): mildly increasing in Js_200.
    let clan: Vec<f64> = js_200
        .iter()
        .map(|&j| round_to((2.0 + 0.15 * (j - 7.4) + 0.8 * d.n()).max(0.0), 4))
        .collect();

    // Province-year tables.
    let n_years = (YEARS.1 - YEARS.0 + 1) as usize;
    let prov_ix: HashMap<&str, usize> = CAPITALS
        .iter()
        .enumerate()
        .map(|(i, (p, _))| (*p, i))
        .collect();
    let mut lngdp_py = vec![vec![0.0; n_years]; CAPITALS.len()];
    let mut formal_py = vec![vec![0.0; n_years]; CAPITALS.len()];
    for (p, (name, _)) in CAPITALS.iter().enumerate() {
        let rank = FORMAL_RANK
            .iter()
            .position(|r| r == name)
            .expect("every province is ranked") as f64;
        for (k, ty) in (0..n_years).enumerate() {
            lngdp_py[p][k] = round_to(
                (LNGDP_2009[p] + LNGDP_SHIFT + 0.07 * ty as f64 + 0.02 * d.n()).clamp(9.3, 12.1),
                4,
            );
            formal_py[p][k] = round_to(10.0 - 0.3 * rank + 0.12 * ty as f64 + 0.03 * d.n(), 3);
        }
    }

    // Industries: effects correlated with the industry's mean Js_200 (absorbed by industry FE;
    // the source of the omitted-variable gap between Table 1 columns 2 and 3), and HHI groups.
    let mut industries: Vec<String> = firms.iter().map(|f| f.industry.clone()).collect();
    industries.sort();
    industries.dedup();
    let ind_ix: HashMap<&str, usize> = industries
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i))
        .collect();
    let n_ind = industries.len();
    let mut ind_js = vec![0.0; n_ind];
    let mut ind_fy = vec![0.0; n_ind];
    for f in &firms {
        let j = ind_ix[f.industry.as_str()];
        let ny = listings[f.listing].years.len() as f64;
        ind_js[j] += js_200[f.city] * ny;
        ind_fy[j] += ny;
    }
    let total_fy: f64 = ind_fy.iter().sum();
    let grand_js = ind_js.iter().sum::<f64>() / total_fy;
    let ind_effect: Vec<f64> = (0..n_ind)
        .map(|j| IND_KAPPA * (ind_js[j] / ind_fy[j] - grand_js) + IND_SD * d.n())
        .collect();
    let ind_pos: Vec<f64> = (0..n_ind).map(|_| d.u()).collect();
    let mut order: Vec<usize> = (0..n_ind).collect();
    order.shuffle(&mut d.rng);
    let mut low_hhi = vec![false; n_ind];
    let mut cum = 0.0;
    for &j in &order {
        let share = ind_fy[j] / total_fy;
        if cum + share <= 0.335 + 0.003 {
            low_hhi[j] = true;
            cum += share;
        }
    }
    let ind_hhi: Vec<f64> = (0..n_ind)
        .map(|j| {
            if low_hhi[j] {
                0.02 + 0.07 * d.u()
            } else {
                0.24 + 0.10 * d.u()
            }
        })
        .collect();

    // Firm-years: membership, ST, ESG missing, pc, foreign.
    let p_keep = BASELINE_SHARE / ((1.0 - ST_SHARE) * (1.0 - ESG_MISSING_SHARE));
    let mut ids: Vec<usize> = Vec::new(); // firm of each row
    let mut year: Vec<i32> = Vec::new();
    let mut st: Vec<bool> = Vec::new();
    let mut esg_miss: Vec<bool> = Vec::new();
    let mut pc: Vec<bool> = Vec::new();
    let mut ypos: Vec<usize> = Vec::new(); // position within the firm's eligible years
    let mut foreign = vec![false; firms.len()];
    for (fi, f) in firms.iter().enumerate() {
        let years = &listings[f.listing].years;
        foreign[fi] = d.bern(0.05);
        let st_path = d.markov(years.len(), ST_SHARE, 0.7);
        let pc_path = d.markov(years.len(), 0.32, 0.85);
        for (k, &t) in years.iter().enumerate() {
            let keep = d.bern(p_keep);
            let miss = d.bern(ESG_MISSING_SHARE);
            if keep {
                ids.push(fi);
                year.push(t);
                st.push(st_path[k]);
                esg_miss.push(miss);
                pc.push(pc_path[k]);
                ypos.push(k);
            }
        }
    }
    let n = ids.len();
    let baseline: Vec<bool> = (0..n).map(|r| !st[r] && !esg_miss[r]).collect();
    let ty = |r: usize| (year[r] - YEARS.0) as usize;
    let prov_row = |r: usize| prov_ix[firms[ids[r]].province.as_str()];
    let ind_row = |r: usize| ind_ix[firms[ids[r]].industry.as_str()];

    let hhi: Vec<f64> = (0..n)
        .map(|r| {
            round_to(
                ind_hhi[ind_row(r)] * (1.0 + 0.03 * ((ty(r) as f64) - 6.0) / 6.0),
                4,
            )
        })
        .collect();
    // Formal institutions: a median split gives more than half "better" only through ties, so
    // in each year the provinces spanning the band of firm-years around the median (from the
    // province that crosses 45 % from the top, extended while that brings the share at or above
    // the band closer to FORMAL_BETTER_SHARE) share one index value.
    #[allow(clippy::needless_range_loop)] // k indexes years in several tables
    for k in 0..n_years {
        let mut share = vec![0.0; CAPITALS.len()];
        let mut tot = 0.0;
        for r in (0..n).filter(|&r| baseline[r] && ty(r) == k) {
            share[prov_row(r)] += 1.0;
            tot += 1.0;
        }
        let ranked: Vec<usize> = FORMAL_RANK.iter().map(|p| prov_ix[p]).collect();
        let mut cum = 0.0;
        let mut start = ranked.len() - 1;
        for (i, &p) in ranked.iter().enumerate() {
            cum += share[p] / tot;
            if cum > 0.45 {
                start = i;
                break;
            }
        }
        let mut end = start;
        while end + 1 < ranked.len() {
            let next = cum + share[ranked[end + 1]] / tot;
            if (next - FORMAL_BETTER_SHARE).abs() < (cum - FORMAL_BETTER_SHARE).abs() {
                cum = next;
                end += 1;
            } else {
                break;
            }
        }
        let v = formal_py[ranked[start]][k];
        for &p in &ranked[start..=end] {
            formal_py[p][k] = v;
        }
    }
    let formal: Vec<f64> = (0..n).map(|r| formal_py[prov_row(r)][ty(r)]).collect();
    let lngdp: Vec<f64> = (0..n).map(|r| lngdp_py[prov_row(r)][ty(r)]).collect();

    // Split groups on the baseline rows (the spec's rules).
    let base_rows: Vec<usize> = (0..n).filter(|&r| baseline[r]).collect();
    let hhi_mean = base_rows.iter().map(|&r| hhi[r]).sum::<f64>() / base_rows.len() as f64;
    let mut medians = vec![0.0; n_years];
    for (k, m) in medians.iter_mut().enumerate() {
        let mut v: Vec<f64> = base_rows
            .iter()
            .filter(|&&r| ty(r) == k)
            .map(|&r| formal[r])
            .collect();
        v.sort_by(|a, b| a.total_cmp(b));
        *m = if v.is_empty() {
            f64::NAN
        } else if v.len() % 2 == 1 {
            v[v.len() / 2]
        } else {
            0.5 * (v[v.len() / 2 - 1] + v[v.len() / 2])
        };
    }
    let high_comp: Vec<bool> = (0..n).map(|r| hhi[r] < hhi_mean).collect();
    let better: Vec<bool> = (0..n).map(|r| formal[r] >= medians[ty(r)]).collect();
    let beta: Vec<f64> = (0..n)
        .map(|r| {
            BETA_BASE
                + BETA_PC * f64::from(u8::from(pc[r]))
                + BETA_HIGH_COMP * f64::from(u8::from(high_comp[r]))
                + BETA_BETTER_FORMAL * f64::from(u8::from(better[r]))
        })
        .collect();

    // Controls: per firm, a unit-variance AR(1) path over its eligible years, mapped to the
    // calibration's scale and bounds (tag R); age deterministic from the listing year.
    let spec: [(&str, f64); 9] = [
        ("size", 0.97),
        ("lev", 0.88),
        ("top1", 0.95),
        ("roe", 0.5),
        ("cf", 0.35),
        ("board", 0.8),
        ("growth", 0.15),
        ("mshare", 0.9),
        ("indep", 0.6),
    ];
    let mut paths: Vec<Vec<Vec<f64>>> = Vec::with_capacity(firms.len());
    let mut u_firm = Vec::with_capacity(firms.len());
    let mut e_paths = Vec::with_capacity(firms.len());
    let mut g_firm = Vec::with_capacity(firms.len());
    for f in &firms {
        let ny = listings[f.listing].years.len();
        paths.push(spec.iter().map(|(_, rho)| d.ar1(ny, *rho)).collect());
        u_firm.push(0.5 * d.n());
        e_paths.push(d.ar1(ny, 0.3));
        g_firm.push([
            d.gamma(0.6, 0.8),
            d.gamma(0.8, 0.6),
            d.n(),
            d.gamma(0.8, 0.7),
        ]);
    }
    let z = |r: usize, k: usize| paths[ids[r]][k][ypos[r]];
    let clip = |x: f64, lo: f64, hi: f64| x.clamp(lo, hi);
    let size: Vec<f64> = (0..n)
        .map(|r| round_to(clip(22.2 + 1.3 * z(r, 0), 19.8, 26.2), 4))
        .collect();
    let lev: Vec<f64> = (0..n)
        .map(|r| round_to(clip(0.42 + 0.20 * z(r, 1), 0.05, 0.90), 4))
        .collect();
    let top1: Vec<f64> = (0..n)
        .map(|r| round_to(clip(0.34 + 0.15 * z(r, 2), 0.08, 0.75), 4))
        .collect();
    let roe: Vec<f64> = (0..n)
        .map(|r| round_to(clip(0.06 + 0.12 * z(r, 3), -0.6, 0.35), 4))
        .collect();
    let cf: Vec<f64> = (0..n)
        .map(|r| round_to(clip(0.05 + 0.07 * z(r, 4), -0.16, 0.25), 4))
        .collect();
    let board: Vec<f64> = (0..n)
        .map(|r| {
            let seats = (2.13 + 0.20 * z(r, 5)).exp().round().clamp(5.0, 15.0);
            round_to(seats.ln(), 4)
        })
        .collect();
    let growth: Vec<f64> = (0..n)
        .map(|r| round_to(clip(-0.6 + (-0.376 + 0.505 * z(r, 6)).exp(), -0.6, 2.8), 4))
        .collect();
    let mshare: Vec<f64> = (0..n)
        .map(|r| round_to(clip(-0.01 + 0.35 * z(r, 7), 0.0, 0.70), 4))
        .collect();
    let indep: Vec<f64> = (0..n)
        .map(|r| round_to(clip(0.35 + 0.082 * z(r, 8), 1.0 / 3.0, 0.57), 4))
        .collect();
    let list_year: Vec<f64> = (0..n)
        .map(|r| f64::from(listings[firms[ids[r]].listing].list_year))
        .collect();
    let age: Vec<f64> = (0..n)
        .map(|r| round_to((f64::from(year[r]) - list_year[r] + 1.0).ln(), 4))
        .collect();
    let js_r = |r: usize| js_200[firms[ids[r]].city];

    // ESG score.
    let means = [
        22.2, 0.42, 2.1, 0.34, 0.06, 0.05, 2.13, 0.18, 0.13, 0.375, 11.1,
    ];
    let xs: [&Vec<f64>; 11] = [
        &size, &lev, &age, &top1, &roe, &cf, &board, &growth, &mshare, &indep, &lngdp,
    ];
    let year_effect: Vec<f64> = (0..n_years)
        .map(|k| 0.03 * k as f64 + 0.03 * d.n())
        .collect();
    let sigma_e = 0.74;
    let mut score: Vec<f64> = (0..n)
        .map(|r| {
            let mut s = ind_effect[ind_row(r)] + year_effect[ty(r)] + beta[r] * js_r(r);
            for (k, x) in xs.iter().enumerate() {
                s += THETA[k].1 * (x[r] - means[k]);
            }
            s + u_firm[ids[r]] + sigma_e * e_paths[ids[r]][ypos[r]]
        })
        .collect();
    let shift = 4.1 - score.iter().sum::<f64>() / n as f64;
    for s in &mut score {
        *s = round_to(*s + shift, 4);
    }
    let mut esg = vec![f64::NAN; n];
    let mut esg_score = vec![f64::NAN; n];
    let mut esg_hz = vec![f64::NAN; n];
    let mut esg_bbg = vec![f64::NAN; n];
    let bbg_scores: Vec<f64> = (0..n).map(|r| 1.5 * (size[r] - 22.2)).collect();
    let bbg_c = logit_intercept(&bbg_scores, 0.40 * n as f64);
    for r in 0..n {
        let dither = d.u();
        let hz_noise = d.n();
        let bbg_noise = d.n();
        let bbg_present = d.bern(logistic(bbg_c + bbg_scores[r]));
        if !esg_miss[r] {
            esg_score[r] = score[r];
            esg[r] = (score[r] + dither).floor().clamp(1.0, 8.0);
            esg_hz[r] = round_to(
                (HZ_MAP.0 + HZ_MAP.1 * score[r] + 2.0 * hz_noise).clamp(0.0, 100.0),
                2,
            );
        }
        if bbg_present {
            esg_bbg[r] = round_to(
                (BBG_MAP.0 + BBG_MAP.1 * score[r] + 3.0 * bbg_noise).clamp(0.0, 100.0),
                2,
            );
        }
    }

    // Mechanism outcomes (linear in js_200 with the paper's coefficients; see the docs).
    let b = |name: &str| {
        MECHANISMS
            .iter()
            .find(|m| m.0 == name)
            .expect("mechanism")
            .1
    };
    let mut env = vec![f64::NAN; n];
    let mut pat = [vec![f64::NAN; n], vec![f64::NAN; n], vec![f64::NAN; n]];
    let mut trust1 = vec![f64::NAN; n];
    let mut trust2 = vec![f64::NAN; n];
    let mut internal = vec![f64::NAN; n];
    let mut analyst = vec![f64::NAN; n];
    let mut visit = vec![f64::NAN; n];
    for r in 0..n {
        let j = js_r(r);
        let t = ty(r) as f64;
        let ip = ind_pos[ind_row(r)];
        let g = &g_firm[ids[r]];
        let sz = size[r] - 19.8;
        let latent = -0.9 + b("env") * j + 0.25 * (size[r] - 22.2) - 0.3 * (lev[r] - 0.42)
            + 0.5 * ind_effect[ind_row(r)]
            + 0.02 * t
            + d.n();
        env[r] = f64::from(u8::from(latent > 0.0));
        let g1 = g[0] + d.gamma(0.4, 0.6);
        let split = d.beta(2.0, 3.0);
        let v = d.u();
        pat[0][r] = round_to(b("patent1") * j + 0.15 * sz + 0.2 * ip + 0.02 * t + g1, 4);
        pat[1][r] = round_to(
            b("patent2") * j + 0.10 * sz + 0.15 * ip + 0.015 * t + g1 * split,
            4,
        );
        pat[2][r] = round_to(
            b("patent3") * j + 0.06 * sz + 0.05 * ip + 0.01 * t + g1 * (1.0 - split) * v,
            4,
        );
        trust1[r] = round_to(
            0.3 + b("trust1") * j + 0.1 * (lngdp[r] - 11.1) + 0.15 * d.n(),
            4,
        );
        trust2[r] = round_to(
            3.0 + b("trust2") * j + 0.05 * (lngdp[r] - 11.1) + 0.10 * d.n(),
            4,
        );
        internal[r] = round_to(
            6.3 + b("internal") * j
                + 0.05 * (size[r] - 22.2)
                + 0.3 * (roe[r] - 0.06)
                + 0.10 * g[2]
                + 0.12 * d.n(),
            4,
        );
        analyst[r] = round_to(
            b("analyst") * j
                + 0.3 * sz
                + 0.5 * (roe[r] + 0.6)
                + 0.1 * ip
                + g[1]
                + d.gamma(0.6, 0.5),
            4,
        );
        visit[r] = round_to(
            b("visit") * j + 0.15 * sz + 0.04 * t + g[3] + d.gamma(0.5, 0.6),
            4,
        );
    }

    // Missing patterns. Vendor-based outcomes (env, patents, trust2, analyst, visit) are
    // missing whenever ESG is; trust1 and internal cover every panel row. Rates are set so
    // that each outcome's N under its sample rule is the paper's N × (baseline N / 30,678).
    let scale = base_rows.len() as f64 / PAPER_N;
    let all_rows: Vec<usize> = (0..n).collect();
    let rated: Vec<usize> = (0..n).filter(|&r| !esg_miss[r]).collect();
    let mask = |values: &mut [&mut Vec<f64>],
                pool: &[usize],
                structural: &dyn Fn(usize) -> bool,
                slope: &dyn Fn(usize) -> f64,
                sample: &dyn Fn(usize) -> bool,
                paper_n: f64,
                d: &mut Draw| {
        for r in 0..n {
            if !pool.contains_sorted(r) || structural(r) {
                for v in values.iter_mut() {
                    v[r] = f64::NAN;
                }
            }
        }
        let cands: Vec<usize> = pool
            .iter()
            .copied()
            .filter(|&r| !structural(r) && sample(r))
            .collect();
        let sc: Vec<f64> = cands.iter().map(|&r| slope(r)).collect();
        let c = logit_intercept(&sc, paper_n * scale);
        for &r in pool {
            let present = d.bern(logistic(c + slope(r)));
            if !present || structural(r) {
                for v in values.iter_mut() {
                    v[r] = f64::NAN;
                }
            }
        }
    };
    let none = |_: usize| false;
    let in_base = |r: usize| baseline[r];
    let any = |_: usize| true;
    let size_ref = &size;
    let size_slope = |k: f64| move |r: usize| k * (size_ref[r] - 22.2);
    mask(
        &mut [&mut env],
        &rated,
        &none,
        &|_| 0.0,
        &in_base,
        30243.0,
        &mut d,
    );
    {
        let [p1, p2, p3] = &mut pat;
        mask(
            &mut [p1, p2, p3],
            &rated,
            &none,
            &size_slope(0.5),
            &in_base,
            24510.0,
            &mut d,
        );
    }
    let tibet = |r: usize| firms[ids[r]].province == "西藏";
    mask(
        &mut [&mut trust1],
        &all_rows,
        &tibet,
        &|_| 0.0,
        &any,
        31565.0,
        &mut d,
    );
    let no_cgss = |r: usize| NO_CGSS.contains(&firms[ids[r]].province.as_str());
    mask(
        &mut [&mut trust2],
        &rated,
        &no_cgss,
        &|_| 0.0,
        &in_base,
        23816.0,
        &mut d,
    );
    mask(
        &mut [&mut internal],
        &all_rows,
        &none,
        &size_slope(0.3),
        &any,
        31561.0,
        &mut d,
    );
    mask(
        &mut [&mut analyst],
        &rated,
        &none,
        &size_slope(1.2),
        &in_base,
        22377.0,
        &mut d,
    );
    let visit_slope = |r: usize| 0.4 * (size[r] - 22.2) + 0.15 * ty(r) as f64;
    mask(
        &mut [&mut visit],
        &rated,
        &none,
        &visit_slope,
        &in_base,
        25208.0,
        &mut d,
    );

    // Sort rows by firm id, then year; firms are numbered in shuffled order.
    let mut rows: Vec<usize> = (0..n).collect();
    rows.sort_by_key(|&r| (ids[r], year[r]));
    let width = firms.len().to_string().len().max(5);
    let stkcd = |r: usize| format!("S{:0width$}", ids[r] + 1);

    let mut f = Frame::new("keju simulate");
    let num = |v: &dyn Fn(usize) -> f64| Column::Num(rows.iter().map(|&r| v(r)).collect());
    let text =
        |v: &dyn Fn(usize) -> String| Column::Str(rows.iter().map(|&r| Some(v(r))).collect());
    let b01 = |x: bool| f64::from(u8::from(x));
    f.set_column("stkcd", text(&stkcd));
    f.set_column("year", num(&|r| f64::from(year[r])));
    f.set_column("province", text(&|r| firms[ids[r]].province.clone()));
    f.set_column(
        "city",
        text(&|r| city_list[firms[ids[r]].city].name.clone()),
    );
    f.set_column("industry", text(&|r| firms[ids[r]].industry.clone()));
    f.set_column(
        "exchange",
        text(&|r| listings[firms[ids[r]].listing].exchange.clone()),
    );
    f.set_column("list_year", num(&|r| list_year[r]));
    f.set_column("st", num(&|r| b01(st[r])));
    f.set_column("esg", num(&|r| esg[r]));
    f.set_column("esg_score", num(&|r| esg_score[r]));
    f.set_column("esg_hz", num(&|r| esg_hz[r]));
    f.set_column("esg_bbg", num(&|r| esg_bbg[r]));
    let cityv = |v: &Vec<f64>, digits: i32| {
        Column::Num(
            rows.iter()
                .map(|&r| round_to(v[firms[ids[r]].city], digits))
                .collect(),
        )
    };
    f.set_column("js_100", cityv(&js_100, 4));
    f.set_column("js_200", cityv(&js_200, 4));
    f.set_column("js_300", cityv(&js_300, 4));
    f.set_column("js_qing_200", cityv(&js_qing, 4));
    f.set_column("temples_200", cityv(&temples, 4));
    f.set_column("dist_qufu", cityv(&dist_qufu, 1));
    f.set_column("dist_print", cityv(&dist_print, 1));
    for (name, v) in [
        ("size", &size),
        ("lev", &lev),
        ("age", &age),
        ("top1", &top1),
        ("roe", &roe),
        ("cf", &cf),
        ("board", &board),
        ("growth", &growth),
        ("mshare", &mshare),
        ("indep", &indep),
        ("lngdp", &lngdp),
    ] {
        f.set_column(name, num(&|r| v[r]));
    }
    f.set_column("pc", num(&|r| b01(pc[r])));
    f.set_column("hhi", num(&|r| hhi[r]));
    f.set_column("formal", num(&|r| formal[r]));
    f.set_column("foreign", num(&|r| b01(foreign[ids[r]])));
    f.set_column(
        "guild",
        num(&|r| b01(GUILD_PROVINCES.contains(&firms[ids[r]].province.as_str()))),
    );
    f.set_column("clan", cityv(&clan, 4));
    f.set_column("env", num(&|r| env[r]));
    f.set_column("patent1", num(&|r| pat[0][r]));
    f.set_column("patent2", num(&|r| pat[1][r]));
    f.set_column("patent3", num(&|r| pat[2][r]));
    f.set_column("trust1", num(&|r| trust1[r]));
    f.set_column("trust2", num(&|r| trust2[r]));
    f.set_column("internal", num(&|r| internal[r]));
    f.set_column("analyst", num(&|r| analyst[r]));
    f.set_column("visit", num(&|r| visit[r]));
    let lat_c: Vec<f64> = city_list.iter().map(|c| c.lat).collect();
    let lon_c: Vec<f64> = city_list.iter().map(|c| c.lon).collect();
    f.set_column("lat", cityv(&lat_c, 4));
    f.set_column("lon", cityv(&lon_c, 4));

    // Truth.
    let avg = |rs: &mut dyn Iterator<Item = usize>| {
        let (mut s, mut k) = (0.0, 0usize);
        for r in rs {
            s += beta[r];
            k += 1;
        }
        (if k > 0 { s / k as f64 } else { f64::NAN }, k)
    };
    let (b_all, _) = avg(&mut base_rows.iter().copied());
    let (b_bbg, _) = avg(&mut base_rows.iter().copied().filter(|&r| !esg_bbg[r].is_nan()));
    let mut beta_js = BTreeMap::new();
    beta_js.insert("esg_score".to_string(), b_all);
    beta_js.insert("esg".to_string(), b_all);
    beta_js.insert("esg_hz".to_string(), HZ_MAP.1 * b_all);
    beta_js.insert("esg_bbg".to_string(), BBG_MAP.1 * b_bbg);
    let mut groups = BTreeMap::new();
    let mut group_n = BTreeMap::new();
    let defs: [(&str, &dyn Fn(usize) -> bool); 6] = [
        ("pc==0", &|r| !pc[r]),
        ("pc==1", &|r| pc[r]),
        ("hhi_high_comp", &|r| high_comp[r]),
        ("hhi_low_comp", &|r| !high_comp[r]),
        ("formal_better", &|r| better[r]),
        ("formal_weaker", &|r| !better[r]),
    ];
    for (name, rule) in defs {
        let (bv, k) = avg(&mut base_rows.iter().copied().filter(|&r| rule(r)));
        groups.insert(name.to_string(), bv);
        group_n.insert(name.to_string(), k);
    }
    let mut group_rules = BTreeMap::new();
    group_rules.insert(
        "hhi_high_comp".to_string(),
        format!(
            "hhi < mean of hhi over the baseline rows ({hhi_mean:.6}); hhi_low_comp: hhi >= mean"
        ),
    );
    group_rules.insert(
        "formal_better".to_string(),
        "formal >= median of formal over the baseline rows of the same year (ties at the median, \
         a whole province-year, go to better); formal_weaker: formal < median"
            .to_string(),
    );
    group_rules.insert("pc==0".to_string(), "pc == 0 (pc==1: pc == 1)".to_string());
    let mut heterogeneity = BTreeMap::new();
    heterogeneity.insert("base".to_string(), BETA_BASE);
    heterogeneity.insert("pc".to_string(), BETA_PC);
    heterogeneity.insert("high_comp".to_string(), BETA_HIGH_COMP);
    heterogeneity.insert("formal_better".to_string(), BETA_BETTER_FORMAL);
    let mechanisms: BTreeMap<String, f64> = MECHANISMS
        .iter()
        .map(|(m, b, _)| (m.to_string(), *b))
        .collect();
    let controls: BTreeMap<String, f64> = THETA.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    let mut counts = BTreeMap::new();
    counts.insert("panel".to_string(), n);
    counts.insert("baseline".to_string(), base_rows.len());
    counts.insert("firms".to_string(), firms.len());
    for k in 0..n_years {
        counts.insert(
            format!("baseline_{}", YEARS.0 + k as i32),
            base_rows.iter().filter(|&&r| ty(r) == k).count(),
        );
    }
    for (name, v) in [
        ("env", &env),
        ("patent1", &pat[0]),
        ("trust1", &trust1),
        ("trust2", &trust2),
        ("internal", &internal),
        ("analyst", &analyst),
        ("visit", &visit),
    ] {
        let wide = matches!(name, "trust1" | "internal");
        counts.insert(
            format!("n_{name}"),
            (0..n)
                .filter(|&r| !v[r].is_nan() && (wide || baseline[r]))
                .count(),
        );
    }
    let truth = Truth {
        seed: opts.seed,
        firms_scale: opts.firms_scale,
        beta_js_200: beta_js,
        groups,
        group_n,
        group_rules,
        heterogeneity,
        mechanisms,
        controls,
        counts,
        notes: vec![
            "SIMULATED DATA: real geography and real listing counts, synthetic firms and outcomes.".into(),
            "beta_js_200.esg_score is the average of the true firm-year coefficient over the baseline rows (st == 0 and esg present); beta_it = base + pc*pc_it + high_comp*[hhi < mean] + formal_better*[formal >= yearly median].".into(),
            "With heterogeneous beta_it that varies with groups correlated with js_200 (formal institutions are coastal), the pooled FE regression estimates a weighted average that need not equal the simple average reported here; split-sample regressions estimate the group averages.".into(),
            "esg = clamp(floor(esg_score + U(0,1)), 1, 8): E[esg | esg_score] = esg_score away from the bounds, so its true coefficient equals esg_score's up to clamping (rare).".into(),
            format!("esg_hz = {} + {} esg_score + N(0, 2^2); esg_bbg = {} + {} esg_score + N(0, 3^2), present for about 40% of rows, more often for larger firms (its truth averages beta_it over the baseline rows where it is present).", HZ_MAP.0, HZ_MAP.1, BBG_MAP.0, BBG_MAP.1),
            "Mechanisms: env's coefficient is on the probit latent index (unit-variance normal error); the others are OLS slopes of linear models with additive noise.".into(),
            "Samples: baseline = st == 0 and esg present; env, patents, trust2, analyst, visit are missing whenever esg is, so st == 0 gives the same N; trust1 and internal are fitted on all rows (ST and unrated rows included).".into(),
            "dist_print is a valid instrument: it enters no outcome equation except through js_200.".into(),
            "See docs/simulation.md.".into(),
        ],
    };
    Ok((f, truth))
}

trait ContainsSorted {
    fn contains_sorted(&self, x: usize) -> bool;
}

impl ContainsSorted for [usize] {
    fn contains_sorted(&self, x: usize) -> bool {
        self.binary_search(&x).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eligible_counts_match_calibration() {
        let l = parse_listings();
        let want = [
            1551, 1644, 1983, 2258, 2404, 2405, 2522, 2739, 2951, 3379, 3464, 3639, 4010,
        ];
        for (k, w) in want.iter().enumerate() {
            let t = YEARS.0 + k as i32;
            let got = l.iter().filter(|x| x.years.contains(&t)).count();
            assert_eq!(got, *w, "eligible firms in {t}");
        }
    }

    #[test]
    fn every_area_has_a_province_and_capital() {
        let p = cities_by_province();
        for l in parse_listings() {
            if let Some(a) = l.area {
                assert!(p.contains_key(&province_of_area(&a)), "{a}");
            }
        }
    }

    #[test]
    fn markov_chain_has_its_mean() {
        let mut d = Draw {
            rng: ChaCha8Rng::seed_from_u64(1),
        };
        let v = d.markov(200_000, 0.32, 0.85);
        let m = v.iter().filter(|&&x| x).count() as f64 / v.len() as f64;
        assert!((m - 0.32).abs() < 0.02, "{m}");
    }

    #[test]
    fn logit_intercept_hits_target() {
        let s: Vec<f64> = (0..1000).map(|i| (i as f64) / 500.0 - 1.0).collect();
        let c = logit_intercept(&s, 300.0);
        let got: f64 = s.iter().map(|&x| logistic(c + x)).sum();
        assert!((got - 300.0).abs() < 1e-6);
    }
}
