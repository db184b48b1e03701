//! The sales web service (SPEC §9): shops, recording sales, the daily report
//! in every format, catalog exports and signed invoice links.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// A shop created through the admin API; answers its key.
pub async fn create_shop(app: &TestApp, shop_id: &str) -> String {
    let res = app
        .client
        .post(app.url("/admin/api/shops/"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"shop_id": shop_id, "name": format!("Shop {shop_id}")}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json::<Value>().await.unwrap()["key"].as_str().unwrap().to_string()
}

/// A seeded app with shop `IST-01`, a known client and its key.
pub async fn app_with_shop() -> (TestApp, String) {
    let app = spawn_app().await;
    app.seed().await;
    let res =
        app.admin_put("/admin/api/customers/C-42/", &json!({"name": "Ada Lovelace", "email": "ada@example.com"})).await;
    assert!(res.status().is_success());
    let key = create_shop(&app, "IST-01").await;
    (app, key)
}

pub fn sale(key: &str, extra: Value) -> Value {
    let mut body = json!({
        "shop_id": "IST-01", "key": key, "payment_method_id": "credit-card", "delivery_method_id": "pickup",
        "user_id": 7, "client_id": "C-42",
        "items": [{"sku": "SKU-1", "quantity": 2}, {"sku": "SKU-2", "quantity": 1, "price": "9.50"}],
    });
    for (k, v) in extra.as_object().unwrap() {
        if v.is_null() {
            body.as_object_mut().unwrap().remove(k);
        } else {
            body[k] = v.clone();
        }
    }
    body
}

pub async fn record(app: &TestApp, body: &Value) -> (StatusCode, Value) {
    let res = app.post_json("/ws/v1/sales", body).await;
    (res.status(), res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_shop_key_is_shown_once_and_stored_only_as_a_hash() {
    let app = spawn_app().await;
    let key = create_shop(&app, "IST-01").await;
    assert!(key.starts_with("cdshop_"));
    let stored: String = sqlx::query_scalar("SELECT key_sha256 FROM shops").fetch_one(&app.ctx.db).await.unwrap();
    assert_ne!(stored, key);
    assert_eq!(stored, cashdesk::secrets::sha256_hex(key.as_bytes()));
    let again = app
        .client
        .post(app.url("/admin/api/shops/"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"shop_id": "IST-01", "name": "Again"}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let anonymous = app.post_json("/admin/api/shops/", &json!({"shop_id": "X", "name": "X"})).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn recording_a_sale_for_an_existing_client_creates_a_completed_order_with_both_events() {
    let (app, key) = app_with_shop().await;
    let (status, body) = record(&app, &sale(&key, json!({"cash_box_id": "BOX-1"}))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let number = body["order_id"].as_str().unwrap();
    assert!(body["order_internal_id"].as_i64().unwrap() > 0);
    let (status, order) = app.order(number).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(order["status"], "completed");
    assert_eq!(order["customer_id"], "C-42");
    assert_eq!(order["shop_id"], "IST-01");
    assert_eq!(order["cash_box_id"], "BOX-1");
    assert_eq!(order["staff_id"], 7);
    // 2 × 99.99 at the catalog price, 1 × 9.50 overriding 10.50
    assert_eq!(order["total_amount"], "209.48");
    assert_eq!(order["lines"][1]["unit_price"], "9.50");
    assert_eq!(order["is_refund"], false);
    let events: Vec<String> =
        sqlx::query_scalar("SELECT event_type FROM webhook_outbox ORDER BY id").fetch_all(&app.ctx.db).await.unwrap();
    assert_eq!(events, ["validated", "terminated"]);
}

#[tokio::test]
async fn recording_a_sale_for_a_new_client_creates_the_client() {
    let (app, key) = app_with_shop().await;
    let client = json!({"name": "Grace Hopper", "email": "grace@example.com", "phone": "+90 555", "address": {"city": "Istanbul"}});
    let (status, body) = record(&app, &sale(&key, json!({"client_id": null, "client": client}))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, order) = app.order(body["order_id"].as_str().unwrap()).await;
    let client_id = order["customer_id"].as_str().unwrap();
    assert_eq!(order["customer"]["name"], "Grace Hopper");
    let name: String = sqlx::query_scalar("SELECT name FROM customers WHERE id = $1")
        .bind(client_id)
        .fetch_one(&app.ctx.db)
        .await
        .unwrap();
    assert_eq!(name, "Grace Hopper");
}

#[tokio::test]
async fn a_refund_with_a_date_is_recorded_on_that_day() {
    let (app, key) = app_with_shop().await;
    // 2024-03-01T10:00:00Z
    let (status, body) = record(&app, &sale(&key, json!({"is_refund": true, "date": 1709287200}))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, order) = app.order(body["order_id"].as_str().unwrap()).await;
    assert_eq!(order["is_refund"], true);
    assert_eq!(order["created_at"], "2024-03-01T10:00:00Z");
}

#[tokio::test]
async fn a_missing_key_answers_401_and_a_wrong_key_403_with_the_error_body() {
    let (app, key) = app_with_shop().await;
    let (status, body) = record(&app, &sale(&key, json!({"key": null}))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error_code"], "unauthorized");
    assert!(body["request_id"].is_string());
    let (status, body) = record(&app, &sale(&key, json!({"key": "cdshop_wrong"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error_code"], "forbidden");
    let (status, _) = record(&app, &sale(&key, json!({"shop_id": "NOWHERE"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let res = app.get("/ws/v1/reports/sales?date=2024-01-01&format=csv").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.count("SELECT count(*) FROM orders").await, 0);
}

#[tokio::test]
async fn an_unknown_sku_answers_400_naming_the_item_and_records_nothing() {
    let (app, key) = app_with_shop().await;
    let (status, body) =
        record(&app, &sale(&key, json!({"items": [{"sku": "SKU-1", "quantity": 1}, {"sku": "NOPE", "quantity": 1}]})))
            .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error_code"], "validation_error");
    assert!(body["message"].as_str().unwrap().contains("items[1].sku"), "{body}");
    for (extra, field) in [
        (json!({"client_id": "C-NOBODY"}), "client_id"),
        (json!({"payment_method_id": "barter"}), "payment_method_id"),
        (json!({"items": [{"sku": "SKU-1", "quantity": 0}]}), "items[0].quantity"),
        (json!({"items": [{"sku": "SKU-1", "quantity": 1, "price": "1.234"}]}), "items[0].price"),
        (json!({"items": [{"sku": "SKU-1", "quantity": 1}, {"sku": "SKU-USD", "quantity": 1}]}), "currency"),
        (json!({"date": "yesterday"}), "date"),
        (json!({"colour": "red"}), "colour"),
    ] {
        let (status, body) = record(&app, &sale(&key, extra)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(body["message"].as_str().unwrap().contains(field), "{body} should name {field}");
    }
    assert_eq!(app.count("SELECT count(*) FROM orders").await, 0);
    assert_eq!(app.count("SELECT count(*) FROM webhook_outbox").await, 0);
}

/// The sales of 2024-03-01 at IST-01: a sale of 209.48 and a refund of
/// 250.00; plus a sale of another shop and one of the next day, both left out.
async fn app_with_a_day_of_sales() -> (TestApp, String) {
    let (app, key) = app_with_shop().await;
    let other_key = create_shop(&app, "ANK-02").await;
    for body in [
        sale(&key, json!({"date": 1709287200})),
        sale(&key, json!({"date": 1709290800, "is_refund": true, "items": [{"sku": "SKU-3", "quantity": 1}]})),
        sale(&key, json!({"date": 1709373600})),
        sale(&other_key, json!({"shop_id": "ANK-02", "date": 1709287200})),
    ] {
        let (status, answer) = record(&app, &body).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
    }
    (app, key)
}

/// Downloads the report of 2024-03-01; asserts 200 and answers (content type, file name, bytes).
async fn download(app: &TestApp, key: &str, format: &str) -> (String, String, Vec<u8>) {
    let res = app.get(&format!("/ws/v1/reports/sales?shop_id=IST-01&key={key}&date=2024-03-01&format={format}")).await;
    assert_eq!(res.status(), StatusCode::OK, "{format}");
    let header = |name: &str| res.headers()[name].to_str().unwrap().to_string();
    let (content_type, disposition) = (header("content-type"), header("content-disposition"));
    assert!(disposition.contains(&format!("sales-IST-01-2024-03-01.{format}")), "{disposition}");
    (content_type, disposition, res.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn the_csv_report_parses_with_one_row_per_order_a_totals_row_and_vat_per_rate() {
    let (app, key) = app_with_a_day_of_sales().await;
    let (content_type, _, bytes) = download(&app, &key, "csv").await;
    assert!(content_type.starts_with("text/csv"));
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let headers = reader.headers().unwrap().clone();
    let rows: Vec<std::collections::HashMap<String, String>> = reader
        .records()
        .map(|r| headers.iter().map(String::from).zip(r.unwrap().iter().map(String::from)).collect())
        .collect();
    let of = |kind: &str| rows.iter().filter(|r| r["type"] == kind).collect::<Vec<_>>();
    let orders = of("order");
    assert_eq!(orders.len(), 2);
    assert_eq!(
        (orders[0]["total"].as_str(), orders[0]["vat"].as_str(), orders[0]["net"].as_str()),
        ("209.48", "34.19", "175.29")
    );
    assert_eq!(orders[0]["payment_method"], "Credit card");
    assert_eq!(orders[0]["client"], "Ada Lovelace");
    assert_eq!((orders[1]["is_refund"].as_str(), orders[1]["total"].as_str()), ("true", "-250.00"));
    let totals = of("total");
    assert_eq!(totals.len(), 1);
    assert_eq!(
        (totals[0]["orders"].as_str(), totals[0]["total"].as_str(), totals[0]["vat"].as_str()),
        ("2", "-40.52", "-7.48")
    );
    let vat: Vec<(&str, &str, &str)> =
        of("vat_rate").iter().map(|r| (r["vat_rate"].as_str(), r["vat"].as_str(), r["total"].as_str())).collect();
    assert_eq!(vat, [("10", "0.86", "9.50"), ("20", "-8.34", "-50.02")]);
}

#[tokio::test]
async fn the_xml_report_parses_and_validates_against_the_published_schema() {
    let (app, key) = app_with_a_day_of_sales().await;
    let (content_type, _, bytes) = download(&app, &key, "xml").await;
    assert!(content_type.starts_with("application/xml"));
    let schema = app.get("/ws/v1/reports/sales.xsd").await.text().await.unwrap();
    assert!(schema.contains("urn:cashdesk:sales-report:1"));

    // Structure, read back with a parser.
    let mut reader = quick_xml::Reader::from_reader(bytes.as_slice());
    let (mut buf, mut path, mut totals, mut orders) = (Vec::new(), Vec::<String>::new(), Vec::new(), 0);
    loop {
        match reader.read_event_into(&mut buf).unwrap() {
            quick_xml::events::Event::Start(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                if name == "order" {
                    orders += 1;
                }
                path.push(name);
            }
            quick_xml::events::Event::End(_) => {
                path.pop();
            }
            quick_xml::events::Event::Text(t) if path.ends_with(&["currencyTotal".into(), "total".into()]) => {
                totals.push(String::from_utf8(t.to_vec()).unwrap());
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    assert_eq!(orders, 2);
    assert_eq!(totals, ["-40.52"]);

    // Validation against the schema, with libxml2's xmllint where installed.
    let dir = std::env::temp_dir().join(format!("cashdesk-xsd-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("report.xml"), &bytes).unwrap();
    std::fs::write(dir.join("report.xsd"), &schema).unwrap();
    match std::process::Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(dir.join("report.xsd"))
        .arg(dir.join("report.xml"))
        .output()
    {
        Ok(out) => assert!(out.status.success(), "schema validation failed: {}", String::from_utf8_lossy(&out.stderr)),
        Err(_) => eprintln!("xmllint not installed (apt-get install libxml2-utils): schema validation skipped"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_xlsx_report_reads_back_with_amounts_as_numbers() {
    use calamine::{Data, Reader};
    let (app, key) = app_with_a_day_of_sales().await;
    let (content_type, _, bytes) = download(&app, &key, "xlsx").await;
    assert_eq!(content_type, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    let mut book: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let sales = book.worksheet_range("Sales").unwrap();
    assert_eq!(sales.get_value((0, 0)), Some(&Data::String("Order".into())));
    assert_eq!(sales.get_value((1, 10)), Some(&Data::Float(209.48)));
    assert_eq!(sales.get_value((2, 7)), Some(&Data::Bool(true)));
    assert_eq!(sales.get_value((2, 10)), Some(&Data::Float(-250.0)));
    assert_eq!(sales.get_value((3, 0)), Some(&Data::String("TOTAL".into())));
    assert_eq!(sales.get_value((3, 10)), Some(&Data::Float(-40.52)));
    let vat = book.worksheet_range("VAT").unwrap();
    assert_eq!(vat.get_value((1, 1)), Some(&Data::Float(10.0)));
    assert_eq!(vat.get_value((1, 3)), Some(&Data::Float(0.86)));
}

#[tokio::test]
async fn the_pdf_report_opens_and_its_text_has_the_orders_and_totals() {
    let (app, key) = app_with_a_day_of_sales().await;
    let (content_type, _, bytes) = download(&app, &key, "pdf").await;
    assert_eq!(content_type, "application/pdf");
    assert!(bytes.starts_with(b"%PDF-"));
    let doc = lopdf::Document::load_mem(&bytes).unwrap();
    assert_eq!(doc.get_pages().len(), 1);
    let text = doc.extract_text(&[1]).unwrap();
    for expected in ["Sales of Shop IST-01", "209.48", "-250.00", "TOTAL (2 orders)", "-40.52", "VAT per rate", "-8.34"]
    {
        assert!(text.contains(expected), "{expected:?} missing from {text}");
    }
}

#[tokio::test]
async fn the_html_report_is_a_page_with_escaped_text_and_totals() {
    let (app, key) = app_with_a_day_of_sales().await;
    app.admin_put("/admin/api/customers/C-42/", &json!({"name": "<script>x</script>"})).await;
    let (content_type, _, _) = download(&app, &key, "html").await;
    assert_eq!(content_type, "text/html; charset=utf-8");
    let (status, answer) = record(&app, &sale(&key, json!({"date": 1709294400}))).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let (_, _, bytes) = download(&app, &key, "html").await;
    let html = String::from_utf8(bytes).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("Total (3 orders)") && html.contains("168.96"), "{html}");
    assert!(html.contains("&lt;script&gt;") && !html.contains("<script>"));
}

#[tokio::test]
async fn a_report_without_a_valid_date_or_format_answers_400() {
    let (app, key) = app_with_shop().await;
    for query in ["date=2024-13-01&format=csv", "format=csv", "date=2024-03-01&format=docx"] {
        let res = app.get(&format!("/ws/v1/reports/sales?shop_id=IST-01&key={key}&{query}")).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(res.json::<Value>().await.unwrap()["error_code"], "validation_error");
    }
}

#[tokio::test]
async fn the_catalog_downloads_as_csv_html_and_json() {
    let (app, key) = app_with_shop().await;
    let res = app.get(&format!("/ws/v1/catalog/items?shop_id=IST-01&key={key}&format=csv")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let bytes = res.bytes().await.unwrap();
    let mut reader = csv::Reader::from_reader(bytes.as_ref());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        ["sku", "name", "price", "currency", "tax_rate", "department", "base_code"]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0].iter().take(3).collect::<Vec<_>>(), ["SKU-1", "Shirt", "99.99"]);

    let res = app.get(&format!("/ws/v1/catalog/clients?shop_id=IST-01&key={key}&format=json")).await;
    assert_eq!(res.headers()["content-type"], "application/json");
    let clients: Value = res.json().await.unwrap();
    assert_eq!(clients[0]["id"], "C-42");
    assert_eq!(clients[0]["email"], "ada@example.com");

    let res = app.get(&format!("/ws/v1/catalog/departments?shop_id=IST-01&key={key}&format=html")).await;
    assert!(res.headers()["content-disposition"].to_str().unwrap().contains("departments-IST-01.html"));
    let html = res.text().await.unwrap();
    assert!(html.contains("<td>men</td><td>Men</td>"), "{html}");

    assert_eq!(
        app.get(&format!("/ws/v1/catalog/spaceships?shop_id=IST-01&key={key}")).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/ws/v1/catalog/items?shop_id=IST-01&key={key}&format=pdf")).await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(app.get("/ws/v1/catalog/items?shop_id=IST-01&key=nope").await.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_invoice_link_works_only_with_its_own_signature() {
    let (app, key) = app_with_shop().await;
    let (_, answer) = record(&app, &sale(&key, json!({}))).await;
    let id = answer["order_internal_id"].as_i64().unwrap();
    let url = cashdesk::sales::invoice::signed_url(&app.ctx, id).await.unwrap();
    assert!(url.starts_with(&app.address), "{url}");

    let res = app.client.get(&url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    let doc = lopdf::Document::load_mem(&res.bytes().await.unwrap()).unwrap();
    let text = doc.extract_text(&[1]).unwrap();
    for expected in
        [answer["order_id"].as_str().unwrap(), "Ada Lovelace", "SKU-1", "209.48", "VAT 20%: 33.33", "VAT 10%: 0.86"]
    {
        assert!(text.contains(expected), "{expected:?} missing from {text}");
    }

    let (base, sig) = url.split_once("?sig=").unwrap();
    let flipped = format!("{}{}", &sig[..sig.len() - 1], if sig.ends_with('0') { '1' } else { '0' });
    let other = cashdesk::sales::invoice::signed_url(&app.ctx, id + 1).await.unwrap();
    let other_sig = other.split_once("?sig=").unwrap().1;
    for tampered in
        [base.to_string(), format!("{base}?sig="), format!("{base}?sig={flipped}"), format!("{base}?sig={other_sig}")]
    {
        let res = app.client.get(&tampered).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{tampered}");
        assert_eq!(res.json::<Value>().await.unwrap()["error_code"], "forbidden");
    }
    // a genuine link to an order that does not exist
    assert_eq!(app.client.get(&other).send().await.unwrap().status(), StatusCode::NOT_FOUND);
}
