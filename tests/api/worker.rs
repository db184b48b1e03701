//! The completion worker: no accepted payment is ever without its order, and
//! no order number ever yields two orders.

use crate::helpers::*;
use cashdesk::startup::RunOptions;
use cashdesk::worker;
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;

async fn paid_orders(app: &TestApp, n: usize) -> Vec<String> {
    let mut numbers = Vec::new();
    for i in 0..n {
        let (_, number) = app.pre_order(json!([{"sku": "SKU-1", "quantity": 1}])).await;
        assert_eq!(app.complete(&number, &format!("TXN-{i}"), "99.99").await["result"], "0");
        numbers.push(number);
    }
    numbers
}

#[tokio::test]
async fn a_job_delivered_twice_creates_one_order() {
    let app = spawn_app().await;
    app.seed().await;
    let numbers = paid_orders(&app, 1).await;
    let mut redis = app.redis().await;
    let _: () =
        redis::cmd("LPUSH").arg(app.ctx.keys.jobs_complete()).arg(&numbers[0]).query_async(&mut redis).await.unwrap();
    assert_eq!(app.run_jobs().await, 2);
    assert_eq!(app.count("SELECT count(*) FROM orders").await, 1);
    assert_eq!(app.count("SELECT count(*) FROM order_lines").await, 1);
    assert_eq!(app.count("SELECT count(*) FROM webhook_outbox").await, 2, "validated and terminated, once");
}

#[tokio::test]
async fn a_job_taken_by_a_worker_that_died_is_delivered_again() {
    let app = spawn_app().await;
    app.seed().await;
    let numbers = paid_orders(&app, 3).await;
    // A worker takes a job and dies before finishing it: no lease keeps it alive.
    let dead = "dead-worker";
    let mut redis = app.redis().await;
    let _: () = redis::cmd("SADD").arg(app.ctx.keys.workers()).arg(dead).query_async(&mut redis).await.unwrap();
    let taken = worker::take_job(&app.ctx, dead, 0.1).await.unwrap().expect("a job");
    assert!(numbers.contains(&taken));
    assert_eq!(app.run_jobs().await, 2, "the other two");
    assert_eq!(app.order(&taken).await.0, StatusCode::NOT_FOUND);
    assert_eq!(worker::reap(&app.ctx).await.unwrap(), 1);
    assert_eq!(app.run_jobs().await, 1);
    for number in &numbers {
        assert_eq!(app.order(number).await.0, StatusCode::OK);
    }
    assert_eq!(app.count("SELECT count(*) FROM orders").await, 3);
}

#[tokio::test]
async fn the_reaper_leaves_the_jobs_of_live_workers_alone() {
    let app = spawn_app().await;
    app.seed().await;
    paid_orders(&app, 1).await;
    let live = "live-worker";
    let mut redis = app.redis().await;
    let _: () = redis::cmd("SADD").arg(app.ctx.keys.workers()).arg(live).query_async(&mut redis).await.unwrap();
    let _: () = redis::cmd("SET")
        .arg(app.ctx.keys.worker_lease(live))
        .arg(1)
        .arg("EX")
        .arg(30)
        .query_async(&mut redis)
        .await
        .unwrap();
    worker::take_job(&app.ctx, live, 0.1).await.unwrap().expect("a job");
    assert_eq!(worker::reap(&app.ctx).await.unwrap(), 0);
}

#[tokio::test]
async fn the_sweeper_recovers_every_order_when_the_job_list_is_lost() {
    let app = spawn_app().await;
    app.seed().await;
    let numbers = paid_orders(&app, 5).await;
    let mut redis = app.redis().await;
    let _: () = redis::cmd("DEL").arg(app.ctx.keys.jobs_complete()).query_async(&mut redis).await.unwrap();
    assert_eq!(app.run_jobs().await, 0);
    // Recent payments are left alone (their job may still be on its way) …
    assert_eq!(worker::sweep(&app.ctx, Duration::from_secs(60)).await.unwrap(), 0);
    // … older ones are queued again.
    assert_eq!(worker::sweep(&app.ctx, Duration::ZERO).await.unwrap(), 5);
    assert_eq!(app.run_jobs().await, 5);
    for number in &numbers {
        assert_eq!(app.order(number).await.1["status"], "completed");
    }
    assert_eq!(worker::sweep(&app.ctx, Duration::ZERO).await.unwrap(), 0, "nothing left without an order");
}

#[tokio::test]
async fn the_sweeper_adds_no_duplicates_to_a_backlog_being_worked() {
    let app = spawn_app().await;
    app.seed().await;
    let numbers = paid_orders(&app, 2).await;
    // Their jobs are lost, and a backlog of other numbers is queued: more
    // jobs than one sweep would add.
    let mut redis = app.redis().await;
    let _: () = redis::cmd("DEL").arg(app.ctx.keys.jobs_complete()).query_async(&mut redis).await.unwrap();
    let backlog: Vec<String> = (0..=worker::SWEEP_BATCH).map(|i| format!("BACKLOG-{i}")).collect();
    let _: () =
        redis::cmd("RPUSH").arg(app.ctx.keys.jobs_complete()).arg(&backlog).query_async(&mut redis).await.unwrap();
    assert_eq!(worker::sweep(&app.ctx, Duration::ZERO).await.unwrap(), 0, "a backlog is being worked: left alone");
    // Once it is down to a sweep's worth, the sweeper queues what waits.
    let _: () = redis::cmd("LPOP").arg(app.ctx.keys.jobs_complete()).query_async(&mut redis).await.unwrap();
    assert_eq!(worker::sweep(&app.ctx, Duration::ZERO).await.unwrap(), 2);
    app.run_jobs().await;
    for number in &numbers {
        assert_eq!(app.order(number).await.0, StatusCode::OK, "{number}");
    }
}

#[tokio::test]
async fn serve_runs_a_worker_that_creates_orders_in_the_background() {
    let env = std::sync::Arc::new(TestEnv::new().await);
    let app = spawn_app_in(env, |_| {}, RunOptions { worker: true }).await;
    app.seed().await;
    let numbers = paid_orders(&app, 3).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    for number in &numbers {
        while app.order(number).await.0 != StatusCode::OK {
            assert!(std::time::Instant::now() < deadline, "order {number} never created");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains(r#"cashdesk_payments_total{result="0",source="cash_register"} 3"#), "{metrics}");
    assert!(metrics.contains(r#"cashdesk_completion_jobs_total{event="processed"} 3"#), "{metrics}");
}

#[tokio::test]
async fn an_order_that_cannot_be_written_does_not_hold_up_the_rest_of_its_batch() {
    let app = spawn_app().await;
    app.seed().await;
    let numbers = paid_orders(&app, 4).await;
    let set_first_line = |number: &str, field: &str, value: &str| {
        let sql = format!(
            "UPDATE payments SET pre_order = jsonb_set(pre_order::jsonb, '{{basket,basketitem_set,0,{field}}}', '\"{value}\"')::json
             WHERE order_number = $1"
        );
        let (db, number) = (app.ctx.db.clone(), number.to_string());
        async move { sqlx::query(&sql).bind(number).execute(&db).await.unwrap() }
    };
    // A snapshot the orders table refuses (tax rate beyond NUMERIC(5, 2)),
    // and one that is not what complete wrote (a price that is no amount).
    set_first_line(&numbers[1], "tax_rate", "123456.00").await;
    set_first_line(&numbers[2], "unit_price", "a lot").await;
    assert_eq!(app.run_jobs().await, 4);
    for (i, number) in numbers.iter().enumerate() {
        let expected = if i == 1 || i == 2 { StatusCode::NOT_FOUND } else { StatusCode::OK };
        assert_eq!(app.order(number).await.0, expected, "{number}");
    }
    assert_eq!(app.count("SELECT count(*) FROM pending_orders").await, 2, "both still wait for their order");
    // Once the rows are mended, the sweeper brings the last ones in.
    set_first_line(&numbers[1], "tax_rate", "20.00").await;
    set_first_line(&numbers[2], "unit_price", "99.99").await;
    assert_eq!(worker::sweep(&app.ctx, Duration::ZERO).await.unwrap(), 2);
    assert_eq!(app.run_jobs().await, 2);
    assert_eq!(app.order(&numbers[1]).await.0, StatusCode::OK);
    assert_eq!(app.order(&numbers[2]).await.0, StatusCode::OK);
    assert_eq!(app.count("SELECT count(*) FROM orders").await, 4);
}

#[tokio::test]
async fn orders_written_in_one_batch_keep_their_own_lines_discounts_and_events() {
    let app = spawn_app().await;
    app.seed().await;
    let (_, plain) = app.pre_order(json!([{"sku": "SKU-2", "quantity": 3}])).await; // 31.50
    let (_, promoted) = app.pre_order(json!([{"sku": "SKU-1", "quantity": 1}, {"sku": "SKU-3", "quantity": 2}])).await; // 599.99
    let (_, single) = app.pre_order(json!([{"sku": "SKU-3", "quantity": 1}])).await; // 250.00
    assert_eq!(app.complete(&plain, "T-PLAIN", "31.50").await["result"], "0");
    let answer = app
        .hook(
            "/hooks/cash_register/complete/",
            &json!({"transaction_id": "T-PROMO", "order_number": promoted, "username": CASHIER.0, "password": CASHIER.1,
                    "amount": "599.99", "discounted_amount": "589.99",
                    "promotions": [{"benefit_amount": "10.00", "description": "Jacket deal", "affected_basket_items": [2]}]}),
        )
        .await;
    assert_eq!(answer["result"], "0", "{answer}");
    assert_eq!(app.complete(&single, "T-SINGLE", "250.00").await["result"], "0");
    assert_eq!(app.run_jobs().await, 3);

    let lines = |order: &serde_json::Value| -> Vec<(String, i64, String)> {
        order["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                (
                    l["sku"].as_str().unwrap().to_string(),
                    l["quantity"].as_i64().unwrap(),
                    l["discount_amount"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let (_, order) = app.order(&plain).await;
    assert_eq!(lines(&order), [("SKU-2".to_string(), 3, "0.00".to_string())]);
    assert_eq!(order["discounts"], json!([]));
    assert_eq!(order["total_amount"], "31.50");
    let (_, order) = app.order(&promoted).await;
    assert_eq!(
        lines(&order),
        [("SKU-1".to_string(), 1, "0.00".to_string()), ("SKU-3".to_string(), 2, "10.00".to_string())]
    );
    assert_eq!(order["discounts"][0]["description"], "Jacket deal");
    assert_eq!(order["total_amount"], "589.99");
    let (_, order) = app.order(&single).await;
    assert_eq!(lines(&order), [("SKU-3".to_string(), 1, "0.00".to_string())]);
    assert_eq!(order["total_amount"], "250.00");
    // two events per order, validated before terminated, in order-creation order
    let events: Vec<(String, String)> =
        sqlx::query_as("SELECT event_type, payload->>'order_number' FROM webhook_outbox ORDER BY id")
            .fetch_all(&app.ctx.db)
            .await
            .unwrap();
    assert_eq!(events.len(), 6);
    for pair in events.chunks(2) {
        assert_eq!((pair[0].0.as_str(), pair[1].0.as_str()), ("validated", "terminated"));
        assert_eq!(pair[0].1, pair[1].1);
    }
}
