//! PDF: pages of text laid out in columns, written with `lopdf` using the
//! standard Helvetica fonts (every PDF reader has them, nothing to embed).

use crate::money::fmt2;
use crate::sales::report::{rate_text, SalesReport};
use lopdf::content::{Content, Operation};
use lopdf::{dictionary, Document, Object, Stream};

const MARGIN: f32 = 40.0;
const BODY_SIZE: f32 = 9.0;

/// Text in the standard fonts' WinAnsi encoding: Latin-1 and the usual
/// typographic signs pass, Turkish letters outside it lose their accent, any
/// other character becomes `?` (the standard fonts have no glyph for it).
fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            ' '..='~' | '\u{a0}'..='\u{ff}' => c as u32 as u8,
            '€' => 0x80,
            '…' => 0x85,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            'ş' => b's',
            'Ş' => b'S',
            'ğ' => b'g',
            'Ğ' => b'G',
            'ı' => b'i',
            'İ' => b'I',
            _ => b'?',
        })
        .collect()
}

fn clip(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        text.to_string()
    } else {
        text.chars().take(max_chars.saturating_sub(1)).chain(['.']).collect()
    }
}

/// Lays text out top to bottom, starting a new page when one is full.
pub struct PdfBuilder {
    title: String,
    width: f32,
    height: f32,
    pages: Vec<Vec<Operation>>,
    y: f32,
}

impl PdfBuilder {
    /// A4 portrait, or landscape for wide tables.
    pub fn new(title: &str, landscape: bool) -> Self {
        let (width, height) = if landscape { (842.0, 595.0) } else { (595.0, 842.0) };
        PdfBuilder { title: title.to_string(), width, height, pages: vec![Vec::new()], y: height - MARGIN }
    }

    fn room(&mut self, needed: f32) {
        if self.y - needed < MARGIN {
            self.pages.push(Vec::new());
            self.y = self.height - MARGIN;
        }
    }

    fn put(&mut self, x: f32, text: &str, bold: bool, size: f32) {
        let font = if bold { "F2" } else { "F1" };
        if let Some(page) = self.pages.last_mut() {
            page.extend([
                Operation::new("BT", vec![]),
                Operation::new("Tf", vec![font.into(), size.into()]),
                Operation::new("Td", vec![x.into(), self.y.into()]),
                Operation::new("Tj", vec![Object::string_literal(win_ansi(text))]),
                Operation::new("ET", vec![]),
            ]);
        }
    }

    pub fn heading(&mut self, text: &str) {
        self.room(24.0);
        self.y -= 16.0;
        self.put(MARGIN, text, true, 14.0);
        self.y -= 8.0;
    }

    pub fn text(&mut self, text: &str) {
        self.row(&[(0.0, text)], false);
    }

    /// One line of cells, each at its offset from the left margin.
    pub fn row(&mut self, cells: &[(f32, &str)], bold: bool) {
        self.room(BODY_SIZE * 1.5);
        self.y -= BODY_SIZE * 1.5;
        for (x, text) in cells {
            self.put(MARGIN + x, text, bold, BODY_SIZE);
        }
    }

    pub fn gap(&mut self) {
        self.y -= BODY_SIZE;
    }

    pub fn finish(self) -> anyhow::Result<Vec<u8>> {
        let mut doc = Document::with_version("1.5");
        let pages_id = doc.new_object_id();
        let font = |name: &str| dictionary! {"Type" => "Font", "Subtype" => "Type1", "BaseFont" => name.to_string(), "Encoding" => "WinAnsiEncoding"};
        let regular = doc.add_object(font("Helvetica"));
        let bold = doc.add_object(font("Helvetica-Bold"));
        let resources = doc.add_object(dictionary! {"Font" => dictionary! {"F1" => regular, "F2" => bold}});
        let mut kids = Vec::new();
        for operations in self.pages {
            let content = Content { operations }.encode()?;
            let content_id = doc.add_object(Stream::new(dictionary! {}, content));
            let page = doc.add_object(dictionary! {"Type" => "Page", "Parent" => pages_id, "Contents" => content_id});
            kids.push(Object::from(page));
        }
        let count = kids.len() as i64;
        doc.objects.insert(
            pages_id,
            Object::Dictionary(dictionary! {
                "Type" => "Pages", "Kids" => kids, "Count" => count, "Resources" => resources,
                "MediaBox" => vec![0.into(), 0.into(), self.width.into(), self.height.into()],
            }),
        );
        let catalog = doc.add_object(dictionary! {"Type" => "Catalog", "Pages" => pages_id});
        let info = doc.add_object(dictionary! {
            "Title" => Object::string_literal(win_ansi(&self.title)), "Producer" => Object::string_literal("cashdesk"),
        });
        doc.trailer.set("Root", catalog);
        doc.trailer.set("Info", info);
        doc.compress();
        let mut out = Vec::new();
        doc.save_to(&mut out)?;
        Ok(out)
    }
}

pub fn report(r: &SalesReport) -> anyhow::Result<Vec<u8>> {
    const COLS: [f32; 10] = [0.0, 95.0, 145.0, 200.0, 330.0, 440.0, 480.0, 540.0, 615.0, 690.0];
    let mut pdf = PdfBuilder::new(&r.title(), true);
    pdf.heading(&r.title());
    pdf.text(&format!("Generated {} UTC", r.generated_at.format("%Y-%m-%d %H:%M:%S")));
    pdf.gap();
    let header = ["Order", "Time", "Source", "Client", "Payment", "Cur.", "Refund", "Net", "VAT", "Total"];
    pdf.row(&COLS.iter().copied().zip(header).collect::<Vec<_>>(), true);
    for o in &r.rows {
        let cells = [
            o.order_number.clone(),
            o.time.format("%H:%M:%S").to_string(),
            clip(&o.source, 10),
            clip(&o.client, 24),
            clip(&o.payment_method, 20),
            o.currency.clone(),
            if o.is_refund { "yes" } else { "no" }.to_string(),
            fmt2(o.net),
            fmt2(o.vat),
            fmt2(o.total),
        ];
        pdf.row(&COLS.iter().copied().zip(cells.iter().map(String::as_str)).collect::<Vec<_>>(), false);
    }
    for t in &r.totals {
        let label = format!("TOTAL ({} orders)", t.orders);
        let (net, vat, total) = (fmt2(t.net), fmt2(t.vat), fmt2(t.total));
        pdf.row(
            &[(COLS[0], &label), (COLS[5], &t.currency), (COLS[7], &net), (COLS[8], &vat), (COLS[9], &total)],
            true,
        );
    }
    pdf.gap();
    pdf.heading("VAT per rate");
    pdf.row(&[(0.0, "Currency"), (80.0, "Rate (%)"), (160.0, "Net"), (240.0, "VAT"), (320.0, "Gross")], true);
    for v in &r.vat_rates {
        let (rate, net, vat, gross) = (rate_text(v.rate), fmt2(v.net), fmt2(v.vat), fmt2(v.gross));
        pdf.row(&[(0.0, &v.currency), (80.0, &rate), (160.0, &net), (240.0, &vat), (320.0, &gross)], false);
    }
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_encoded_for_the_standard_fonts() {
        assert_eq!(win_ansi("Çiçek Şişli 10€ — ok"), b"\xc7i\xe7ek Si\x73li 10\x80 \x97 ok".to_vec());
        assert_eq!(win_ansi("日本"), b"??".to_vec());
    }
}
