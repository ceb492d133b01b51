//! JSON output of tables: [`JsonWriter`] serializes the [`Grid`]s themselves (schema
//! `keju.table/1`), so every cell keeps its full-precision number next to how it is shown
//! (`digits`, `stars`, `parens`).

use serde::Serialize;

use super::grid::{Grid, TableWriter};
use crate::estimate::KEJU_VERSION;

/// Schema name of table JSON.
pub const TABLE_SCHEMA: &str = "keju.table/1";

/// Renders tables as one JSON document: `{keju_version, schema, tables: [Grid...]}`.
#[derive(Debug, Clone, Copy)]
pub struct JsonWriter;

#[derive(Serialize)]
struct Document<'a> {
    keju_version: &'static str,
    schema: &'static str,
    tables: &'a [Grid],
}

impl TableWriter for JsonWriter {
    fn write(&self, grids: &[Grid]) -> String {
        let doc = Document {
            keju_version: KEJU_VERSION,
            schema: TABLE_SCHEMA,
            tables: grids,
        };
        let mut s = serde_json::to_string_pretty(&doc).expect("tables serialize");
        s.push('\n');
        s
    }
}
