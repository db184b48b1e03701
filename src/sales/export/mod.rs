//! Export formats, one file each, built with a well-kept crate per format:
//! `csv`, `quick-xml`, `rust_xlsxwriter`, `lopdf`; HTML is escaped text.

pub mod csv;
pub mod html;
pub mod pdf;
pub mod xlsx;
pub mod xml;

/// A plain table (the catalog exports): a title, column names, text cells.
pub struct Table {
    pub title: String,
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

/// A format a document can be downloaded in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Html,
    Pdf,
    Csv,
    Xml,
    Xlsx,
    Json,
}

impl Format {
    pub fn parse(text: &str) -> Option<Format> {
        Some(match text {
            "html" => Format::Html,
            "pdf" => Format::Pdf,
            "csv" => Format::Csv,
            "xml" => Format::Xml,
            "xlsx" => Format::Xlsx,
            "json" => Format::Json,
            _ => return None,
        })
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Html => "html",
            Format::Pdf => "pdf",
            Format::Csv => "csv",
            Format::Xml => "xml",
            Format::Xlsx => "xlsx",
            Format::Json => "json",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Html => "text/html; charset=utf-8",
            Format::Pdf => "application/pdf",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xml => "application/xml; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Json => "application/json",
        }
    }
}
