//! keju (科舉): panel-data econometrics for Chinese listed firms.
//!
//! Data flow: [`data::Frame`] (load) → [`formula::Formula`] (parse) → [`design::Design`]
//! (sample, missing mask, singletons, one buffer per column) → [`absorb`] (fixed-effect
//! demeaning) → [`estimate`] (OLS, ...) → [`vcov`] (sandwich and small-sample corrections) →
//! [`report`] (text, JSON). [`culture`] builds the Confucian-culture measures from historical
//! geography. [`transform`] winsorizes variables before estimation. [`spec`] runs a whole
//! replication from one TOML file (`keju replicate`).

pub mod absorb;
pub mod check;
pub mod culture;
pub mod data;
pub mod design;
pub mod error;
pub mod estimate;
pub mod formula;
pub mod report;
pub mod simulate;
pub mod spec;
pub mod subset;
pub mod transform;
pub mod vcov;

pub use error::{Error, Result};
