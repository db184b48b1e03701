//! Prometheus metrics, exposed at `GET /metrics`.

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

pub struct Metrics {
    registry: Registry,
    pub http_requests: IntCounterVec,
    pub http_latency: HistogramVec,
    pub payments: IntCounterVec,
    pub jobs: IntCounterVec,
    pub queue_depth: IntGauge,
    pub completion_lag: Histogram,
    pub payment_batch_size: Histogram,
    pub hook_login_failures: IntCounterVec,
    pub password_verifications: IntCounter,
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new_custom(Some("cashdesk".into()), None).expect("valid registry prefix");
        let http_requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests by route and status"),
            &["method", "route", "status"],
        )
        .expect("valid metric");
        let http_latency = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency by route")
                .buckets(vec![0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5]),
            &["method", "route"],
        )
        .expect("valid metric");
        let payments = IntCounterVec::new(
            Opts::new("payments_total", "Hook payment completions by protocol and outcome code"),
            &["source", "result"],
        )
        .expect("valid metric");
        let jobs = IntCounterVec::new(
            Opts::new("completion_jobs_total", "Order-completion jobs by event (queued, processed, retried, requeued)"),
            &["event"],
        )
        .expect("valid metric");
        let queue_depth =
            IntGauge::new("completion_queue_depth", "Jobs waiting on the completion list").expect("valid metric");
        let completion_lag = Histogram::with_opts(
            HistogramOpts::new("completion_lag_seconds", "From payment accepted to order created")
                .buckets(vec![0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0]),
        )
        .expect("valid metric");
        let payment_batch_size = Histogram::with_opts(
            HistogramOpts::new("payment_batch_size", "Accepted payments written by one statement and commit")
                .buckets(vec![1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0]),
        )
        .expect("valid metric");
        let hook_login_failures = IntCounterVec::new(
            Opts::new(
                "hook_login_failures_total",
                "Failed hook logins by protocol (refusals of locked-out callers included)",
            ),
            &["protocol"],
        )
        .expect("valid metric");
        let password_verifications = IntCounter::new(
            "password_verifications_total",
            "Hook passwords checked against their Argon2 hash (pairs not verified before under the current settings)",
        )
        .expect("valid metric");
        for c in [
            Box::new(http_requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(http_latency.clone()),
            Box::new(payments.clone()),
            Box::new(jobs.clone()),
            Box::new(queue_depth.clone()),
            Box::new(completion_lag.clone()),
            Box::new(payment_batch_size.clone()),
            Box::new(hook_login_failures.clone()),
            Box::new(password_verifications.clone()),
        ] {
            registry.register(c).expect("metric registered once");
        }
        Metrics {
            registry,
            http_requests,
            http_latency,
            payments,
            jobs,
            queue_depth,
            completion_lag,
            payment_batch_size,
            hook_login_failures,
            password_verifications,
        }
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
