//! The checkout API (SPEC §4).

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn creating_a_session_answers_201_with_a_cookie_and_an_empty_pre_order() {
    let app = spawn_app().await;
    let res = app.client.post(app.url("/api/v1/checkout/")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    let body: Value = res.json().await.unwrap();
    let id = body["session_id"].as_str().unwrap();
    assert!(cookie.starts_with(&format!("checkout_session={id}")), "{cookie}");
    let pre = &body["pre_order"];
    for key in [
        "basket",
        "shipping_address",
        "billing_address",
        "payment_option",
        "shipping_option",
        "installment",
        "shipping_amount",
        "total_amount",
        "unpaid_amount",
        "currency_type_label",
        "staff_id",
        "staff_email",
        "store_id",
    ] {
        assert!(pre.get(key).is_some(), "pre_order lacks {key}");
    }
    assert_eq!(pre["basket"]["basketitem_set"], json!([]));
    assert_eq!(pre["total_amount"], "0.00");
}

#[tokio::test]
async fn a_session_is_named_by_header_or_cookie_and_unknown_ones_are_404() {
    let app = spawn_app().await;
    let id = app.new_session().await;
    let res = app.client.get(app.url("/api/v1/checkout/")).header("X-Checkout-Session", &id).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .client
        .get(app.url("/api/v1/checkout/"))
        .header("Cookie", format!("checkout_session={id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["session_id"], id.as_str());
    for unknown in ["0123456789abcdef0123456789abcdef", "../../etc", ""] {
        let res =
            app.client.get(app.url("/api/v1/checkout/")).header("X-Checkout-Session", unknown).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{unknown:?}");
    }
    assert_eq!(app.get("/api/v1/checkout/").await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn patching_the_basket_prices_lines_from_the_catalog_and_totals_exactly() {
    let app = spawn_app().await;
    app.seed().await;
    let id = app.new_session().await;
    let (status, body) = app
        .patch(
            &id,
            &json!({"basket": {"items": [{"sku": "SKU-1", "quantity": 3}, {"sku": "SKU-2", "quantity": 1}]},
                            "shipping_option": "courier", "payment_option": "cash-register"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let pre = &body["pre_order"];
    let items = pre["basket"]["basketitem_set"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["id"], 1);
    assert_eq!(items[1]["id"], 2);
    assert_eq!(items[0]["product"]["sku"], "SKU-1");
    assert_eq!(items[0]["product"]["base_code"], "SHIRT");
    assert_eq!(items[0]["product"]["department"], "men");
    assert_eq!(items[0]["unit_price"], "99.99");
    assert_eq!(items[0]["price"], "299.97");
    assert_eq!(items[0]["tax_rate"], "20.00");
    assert_eq!(items[0]["currency_type"], "try");
    assert_eq!(pre["basket"]["total_quantity"], 4);
    assert_eq!(pre["basket"]["total_amount"], "310.47");
    assert_eq!(pre["shipping_amount"], "29.99");
    assert_eq!(pre["total_amount"], "340.46");
    assert_eq!(pre["unpaid_amount"], "340.46");
    assert_eq!(pre["currency_type_label"], "TRY");
    assert_eq!(pre["payment_option"]["payment_type"], "cash_register");
    assert_eq!(
        pre["shipping_option"],
        json!({"id": pre["shipping_option"]["id"], "name": "Courier", "slug": "courier", "price": "29.99"})
    );
}

#[tokio::test]
async fn unit_prices_are_kept_on_the_line_when_the_catalog_changes() {
    let app = spawn_app().await;
    app.seed().await;
    let id = app.new_session().await;
    app.patch(&id, &json!({"basket": {"items": [{"sku": "SKU-1", "quantity": 1}]}})).await;
    app.admin_put(
        "/admin/api/products/SKU-1/",
        &json!({"name": "Shirt", "price": "120.00", "currency": "TRY", "tax_rate": "20"}),
    )
    .await;
    let body: Value = app
        .client
        .get(app.url("/api/v1/checkout/"))
        .header("X-Checkout-Session", &id)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["pre_order"]["basket"]["basketitem_set"][0]["unit_price"], "99.99");
    // Replacing the basket prices it again, and the line keeps its item id.
    let (_, body) = app
        .patch(&id, &json!({"basket": {"items": [{"sku": "SKU-2", "quantity": 1}, {"sku": "SKU-1", "quantity": 1}]}}))
        .await;
    let items = body["pre_order"]["basket"]["basketitem_set"].as_array().unwrap();
    assert_eq!(items[1]["unit_price"], "120.00");
    assert_eq!(items[1]["id"], 1);
    assert_eq!(items[0]["id"], 2);
    // An empty list empties the basket.
    let (_, body) = app.patch(&id, &json!({"basket": {"items": []}})).await;
    assert_eq!(body["pre_order"]["basket"]["basketitem_set"], json!([]));
}

#[tokio::test]
async fn bad_patches_answer_400_and_change_nothing() {
    let app = spawn_app().await;
    app.seed().await;
    let id = app.new_session().await;
    app.patch(&id, &json!({"basket": {"items": [{"sku": "SKU-1", "quantity": 1}]}})).await;
    for (body, says) in [
        (json!({"basket": {"items": [{"sku": "NOPE", "quantity": 1}]}}), "unknown SKU"),
        (json!({"basket": {"items": [{"sku": "SKU-1", "quantity": 0}]}}), "quantity"),
        (json!({"basket": {"items": [{"sku": "SKU-1", "quantity": 1.5}]}}), "quantity"),
        (
            json!({"basket": {"items": [{"sku": "SKU-1", "quantity": 1}, {"sku": "SKU-USD", "quantity": 1}]}}),
            "one currency",
        ),
        (json!({"payment_option": "bitcoin"}), "payment_option"),
        (json!({"shipping_option": "teleport"}), "shipping_option"),
        (json!({"installment": {"card": "bonus", "installment_count": 5}}), "installment_count"),
        (json!({"installment": {"card": "nope", "installment_count": 3}}), "installment.card"),
        (json!({"staff": {"staff_id": "seventeen"}}), "staff_id"),
        (json!({"colour": "red"}), "colour"),
        (json!({"shipping_address": "Main St"}), "shipping_address"),
        (
            json!({"basket": {"items": [{"sku": "SKU-2", "quantity": 1}]}, "payment_option": "bitcoin"}),
            "payment_option",
        ),
    ] {
        let (status, answer) = app.patch(&id, &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(answer["error_code"], "validation_error");
        assert!(answer["message"].as_str().unwrap().contains(says), "{answer} should say {says}");
    }
    let body: Value = app
        .client
        .get(app.url("/api/v1/checkout/"))
        .header("X-Checkout-Session", &id)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let items = body["pre_order"]["basket"]["basketitem_set"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["product"]["sku"], "SKU-1", "a refused PATCH changes nothing");
}

#[tokio::test]
async fn addresses_staff_and_installments_are_kept_on_the_pre_order() {
    let app = spawn_app().await;
    app.seed().await;
    let id = app.new_session().await;
    let address = json!({"line1": "Istiklal Cd. 1", "city": "Istanbul"});
    let (status, body) = app
        .patch(
            &id,
            &json!({"shipping_address": address, "billing_address": address,
                            "installment": {"card": "bonus", "installment_count": 3},
                            "staff": {"staff_id": 17, "staff_email": "a@b.c", "store_id": "IST-01"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let pre = &body["pre_order"];
    assert_eq!(pre["shipping_address"], address);
    assert_eq!(pre["staff_id"], 17);
    assert_eq!(pre["staff_email"], "a@b.c");
    assert_eq!(pre["store_id"], "IST-01");
    assert_eq!(pre["installment"]["installment_count"], 3);
    assert_eq!(pre["installment"]["card"]["slug"], "bonus");
    let (_, body) = app.patch(&id, &json!({"installment": null, "shipping_address": null})).await;
    assert_eq!(body["pre_order"]["installment"], Value::Null);
    assert_eq!(body["pre_order"]["shipping_address"], Value::Null);
    assert_eq!(body["pre_order"]["billing_address"], address);
}

#[tokio::test]
async fn sessions_expire_after_7_idle_days() {
    let app = spawn_app().await;
    let id = app.new_session().await;
    let mut redis = app.redis().await;
    let ttl: i64 = redis::cmd("TTL").arg(app.ctx.keys.checkout(&id)).query_async(&mut redis).await.unwrap();
    assert!((7 * 24 * 3600 - 5..=7 * 24 * 3600).contains(&ttl), "{ttl}");
}

#[tokio::test]
async fn admin_catalog_upserts_answer_201_then_200_and_400_naming_the_field() {
    let app = spawn_app().await;
    let body = json!({"name": "Shirt", "price": "99.99", "currency": "TRY", "tax_rate": "20.00"});
    let res = app.admin_put("/admin/api/products/SKU-9/", &body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    assert_eq!(created["price"], "99.99");
    assert_eq!(app.admin_put("/admin/api/products/SKU-9/", &body).await.status(), StatusCode::OK);
    for (path, body, field) in [
        ("/admin/api/products/SKU-9/", json!({"name": "x", "price": "9.999", "currency": "TRY"}), "price"),
        ("/admin/api/products/SKU-9/", json!({"name": "x", "price": "-1", "currency": "TRY"}), "price"),
        ("/admin/api/products/SKU-9/", json!({"name": "x", "price": "1", "currency": "LIRA"}), "currency"),
        (
            "/admin/api/products/SKU-9/",
            json!({"name": "x", "price": "1", "currency": "TRY", "department": "ghost"}),
            "department",
        ),
        ("/admin/api/payment-options/p/", json!({"name": "x", "payment_type": "cheque"}), "payment_type"),
        ("/admin/api/shipping-options/s/", json!({"name": "x"}), "price"),
        (
            "/admin/api/cards/c/",
            json!({"name": "x", "card_payment_type": "credit", "bank": {"name": "B", "slug": "b"}, "installment_counts": []}),
            "installment_counts",
        ),
        ("/admin/api/customers/c1/", json!({"email": "a@b.c"}), "name"),
        ("/admin/api/departments/d/", json!({"name": ""}), "name"),
    ] {
        let res = app.admin_put(path, &body).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{path} {body}");
        let answer: Value = res.json().await.unwrap();
        assert!(answer["message"].as_str().unwrap().contains(field), "{answer} should name {field}");
    }
    let res = app.client.put(app.url("/admin/api/products/SKU-9/")).json(&body).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}
