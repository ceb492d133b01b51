//! keju (科舉): panel-data econometrics for Chinese listed firms.

pub mod culture;
pub mod data;
pub mod error;

pub use error::{Error, Result};
