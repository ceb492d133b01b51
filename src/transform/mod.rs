//! Data transformations applied before estimation: [`winsorize`] (clip variables at
//! percentiles, pooled or by group).

pub mod winsorize;
