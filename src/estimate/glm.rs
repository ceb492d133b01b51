//! Probit and logit (placeholder).
use super::{FitOptions, FitResult};
use crate::data::Frame;
use crate::error::{Error, Result};
use crate::formula::Formula;

/// Fit a probit or logit.
pub fn fit_glm(_frame: &Frame, _formula: &Formula, _opts: &FitOptions) -> Result<FitResult> {
    Err(Error::estimation("not yet"))
}
