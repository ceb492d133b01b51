//! CSV/TXT input: decode the bytes ([`Encoding`]: UTF-8 with or without BOM, GBK/GB18030),
//! find the delimiter ([`Delimiter`]), let polars split the cells (all as text), then type them
//! with [`super::table::build_frame`].

use std::path::Path;

use polars::prelude::*;

use super::table::{build_frame, TextTable};
use super::{first_line, Delimiter, Encoding, Frame, LoadOptions};
use crate::error::{Error, Result};

/// Load a delimited text file.
///
/// **Errors**: [`Error::Io`] when unreadable; [`Error::Parse`] for bytes that are not valid in
/// the forced encoding (naming the line); [`Error::Schema`] for malformed CSV.
pub(super) fn load_text(path: &Path, source: &str, opts: &LoadOptions) -> Result<Frame> {
    let bytes = std::fs::read(path).map_err(|e| Error::Io {
        path: source.to_string(),
        message: e.to_string(),
    })?;
    let (text, note) = decode(bytes, opts.encoding, source)?;
    let is_tsv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("tsv"));
    let sep = match opts.delimiter {
        Delimiter::Comma => b',',
        Delimiter::Tab => b'\t',
        Delimiter::Auto if is_tsv => b'\t',
        Delimiter::Auto => detect_delimiter(&text),
    };
    let schema_err = |m: String| Error::Schema {
        path: source.to_string(),
        message: m,
    };
    let parse = CsvParseOptions::default()
        .with_separator(sep)
        .with_missing_is_null(true);
    let df = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .with_parse_options(parse)
        .into_reader_with_file_handle(std::io::Cursor::new(text.into_bytes()))
        .finish()
        .map_err(|e| {
            schema_err(format!(
                "cannot read as CSV: {}",
                first_line(&e.to_string())
            ))
        })?;
    let mut names = Vec::with_capacity(df.width());
    let mut columns = Vec::with_capacity(df.width());
    for col in df.columns() {
        let name = col.name().as_str().to_string();
        let ca = col
            .str()
            .map_err(|e| schema_err(format!("column \"{name}\": {e}")))?;
        columns.push(ca.iter().collect::<Vec<Option<&str>>>());
        names.push(name);
    }
    let table = TextTable {
        names,
        columns,
        header_line: 1,
    };
    let mut frame = build_frame(source, table, opts.header_rows)?;
    frame.notes.extend(note);
    Ok(frame)
}

/// Decode file bytes to text without a byte-order mark; also return a note when the encoding
/// was detected as GB18030.
///
/// **Errors**: [`Error::Parse`] (column `(encoding)`) naming the first line that is not valid in
/// the forced or detected encoding.
pub(super) fn decode(
    bytes: Vec<u8>,
    encoding: Encoding,
    source: &str,
) -> Result<(String, Option<String>)> {
    let gb = |bytes: &[u8], expected: &str| -> Result<String> {
        let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
        if had_errors {
            let line = text
                .lines()
                .position(|l| l.contains('\u{fffd}'))
                .map_or(1, |i| i + 1);
            return Err(encoding_error(source, bytes, line, expected));
        }
        Ok(text.into_owned())
    };
    match encoding {
        Encoding::Gbk | Encoding::Gb18030 => {
            let body = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&bytes);
            Ok((gb(body, "valid GBK/GB18030 text")?, None))
        }
        Encoding::Utf8 | Encoding::Auto => {
            let start = if bytes.starts_with(b"\xef\xbb\xbf") {
                3
            } else {
                0
            };
            match std::str::from_utf8(&bytes[start..]) {
                Ok(_) => {
                    let mut bytes = bytes;
                    bytes.drain(..start);
                    let text = String::from_utf8(bytes).expect("validated as UTF-8 just above");
                    Ok((text, None))
                }
                Err(e) if encoding == Encoding::Utf8 => {
                    let bad = start + e.valid_up_to();
                    let line = 1 + bytes[..bad].iter().filter(|b| **b == b'\n').count();
                    Err(encoding_error(source, &bytes, line, "valid UTF-8 (hint: GBK files need --encoding gbk, or leave --encoding at auto)"))
                }
                Err(_) => {
                    let text = gb(&bytes, "valid UTF-8 or GB18030 text (hint: is it a CSV file? other encodings must be converted to UTF-8 first)")?;
                    Ok((
                        text,
                        Some(format!("{source}: not UTF-8; read as GB18030 (GBK)")),
                    ))
                }
            }
        }
    }
}

fn encoding_error(source: &str, bytes: &[u8], line: usize, expected: &str) -> Error {
    let raw = bytes.split(|b| *b == b'\n').nth(line - 1).unwrap_or(&[]);
    let shown: String = String::from_utf8_lossy(&raw[..raw.len().min(40)])
        .trim_end()
        .to_string();
    Error::Parse {
        path: source.to_string(),
        column: "(encoding)".into(),
        line,
        value: shown,
        expected: expected.into(),
    }
}

/// Tab when the header line has more tabs than commas, comma otherwise.
fn detect_delimiter(text: &str) -> u8 {
    let header = text.lines().next().unwrap_or("");
    let tabs = header.matches('\t').count();
    let commas = header.matches(',').count();
    if tabs > commas {
        b'\t'
    } else {
        b','
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gbk_detected_and_forced() {
        let (gbk, _, _) = encoding_rs::GBK.encode("代码,行业\n000001,银行\n");
        let (text, note) = decode(gbk.to_vec(), Encoding::Auto, "a.csv").unwrap();
        assert_eq!(text, "代码,行业\n000001,银行\n");
        assert!(note.unwrap().contains("GB18030"));
        let (text, note) = decode(gbk.to_vec(), Encoding::Gbk, "a.csv").unwrap();
        assert!(text.starts_with("代码") && note.is_none());
        let err = decode(gbk.to_vec(), Encoding::Utf8, "a.csv").unwrap_err();
        assert!(err.to_string().contains("line 1"), "{err}");
    }

    #[test]
    fn bom_stripped_and_utf8_error_line() {
        let (text, _) = decode(b"\xef\xbb\xbfa,b\n".to_vec(), Encoding::Auto, "a").unwrap();
        assert_eq!(text, "a,b\n");
        let err = decode(b"a,b\n1,2\n\xff\xfe,3\n".to_vec(), Encoding::Utf8, "a").unwrap_err();
        assert!(err.to_string().contains("line 3"), "{err}");
        // neither UTF-8 nor GB18030: a clear error, not garbage
        let err = decode(b"a\n\xff\xff\n".to_vec(), Encoding::Auto, "a").unwrap_err();
        assert!(err.to_string().contains("GB18030"), "{err}");
    }

    #[test]
    fn delimiter_from_header() {
        assert_eq!(detect_delimiter("a\tb\tc\n1,5\t2\t3"), b'\t');
        assert_eq!(detect_delimiter("a,b\n"), b',');
    }
}
