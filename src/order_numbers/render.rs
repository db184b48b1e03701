//! The scannable pictures of an order number: a Code 128 barcode of its
//! digits and a QR code whose text is the number, as standalone SVG
//! documents. The symbols come from `barcoders` and `qrcode`; this file only
//! picks their sizes and quiet zones.

use crate::order_number::OrderNumber;
use barcoders::generators::svg::{Color, SVG};
use barcoders::sym::code128::Code128;

const SVG_NAMESPACE: &str = "http://www.w3.org/2000/svg";
const XML_DECLARATION: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;
/// Width of the narrowest bar, in SVG units.
const BAR_WIDTH: u32 = 2;
const BAR_HEIGHT: u32 = 100;
/// Blank modules on each side of the bars: scanners need ten.
const QUIET_MODULES: usize = 10;

/// Code 128 of the number's digits, nothing else: code set C (two digits
/// per symbol) for the leading pairs, and code set B for a last odd digit.
pub fn barcode_svg(number: &OrderNumber) -> Result<String, String> {
    let digits = number.as_str();
    let (pairs, odd) = digits.split_at(digits.len() - digits.len() % 2);
    let mut data = format!("Ć{pairs}");
    if !odd.is_empty() {
        data.push('Ɓ');
        data.push_str(odd);
    }
    let code = Code128::new(&data).map_err(|e| format!("code 128 of {digits}: {e:?}"))?;
    let mut modules = vec![0u8; QUIET_MODULES];
    modules.extend(code.encode());
    modules.extend(std::iter::repeat(0).take(QUIET_MODULES));
    let svg = SVG::new(BAR_HEIGHT)
        .xdim(BAR_WIDTH)
        .foreground(Color::black())
        .background(Color::white())
        .xmlns(SVG_NAMESPACE.to_string())
        .generate(&modules)
        .map_err(|e| format!("svg of {digits}: {e:?}"))?;
    Ok(format!("{XML_DECLARATION}\n{svg}\n"))
}

/// A QR code whose text is the number (with the standard quiet zone).
pub fn qr_svg(number: &OrderNumber) -> Result<String, String> {
    let code = qrcode::QrCode::new(number.as_str().as_bytes()).map_err(|e| format!("qr of {number}: {e}"))?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .build();
    Ok(format!("{svg}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order_number::Bucket;

    #[test]
    fn both_pictures_are_svg_documents_for_even_and_odd_lengths() {
        for number in
            [OrderNumber::issue(1, Bucket::new(42).unwrap()), OrderNumber::issue(1_234_567, Bucket::new(7).unwrap())]
        {
            let bar = barcode_svg(&number).unwrap();
            assert!(bar.starts_with("<?xml") && bar.contains(r#"xmlns="http://www.w3.org/2000/svg""#), "{bar}");
            let qr = qr_svg(&number).unwrap();
            assert!(qr.starts_with("<?xml") && qr.contains(r#"xmlns="http://www.w3.org/2000/svg""#), "{qr}");
        }
        let a = barcode_svg(&OrderNumber::issue(1, Bucket::new(42).unwrap())).unwrap();
        let b = barcode_svg(&OrderNumber::issue(2, Bucket::new(42).unwrap())).unwrap();
        assert_ne!(a, b);
    }
}
