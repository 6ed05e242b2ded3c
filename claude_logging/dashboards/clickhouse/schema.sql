-- ClickHouse table for claude-logging events in the default flat schema: one row per Claude call.
-- Load stdout lines with JSONEachRow (keys map to columns by name; extra fields are skipped):
--   clickhouse-client --query "INSERT INTO claude_calls SETTINGS date_time_input_format = 'best_effort',
--     input_format_skip_unknown_fields = 1, input_format_null_as_default = 1 FORMAT JSONEachRow" < events.ndjson
-- Counts are Nullable: a missing count is unknown, not zero (docs/schema.md). Low-cardinality
-- labels (model, outcome, tenant, error type) are LowCardinality; ids stay plain strings. The views
-- group by request_model: the model asked for, the same for a call's failures and successes.
CREATE TABLE IF NOT EXISTS claude_calls
(
    timestamp DateTime64(6, 'UTC'),
    level LowCardinality(String),
    event LowCardinality(String),
    outcome LowCardinality(String),
    model LowCardinality(String),
    input_tokens Nullable(UInt32),
    output_tokens Nullable(UInt32),
    cache_read_input_tokens Nullable(UInt32),
    cache_creation_input_tokens Nullable(UInt32),
    max_tokens Nullable(UInt32),
    latency_ms Nullable(Float64),
    status_code Nullable(UInt16),
    error_type LowCardinality(Nullable(String)),
    tenant_id LowCardinality(Nullable(String)),
    user_id Nullable(String),
    call_id String,
    operation LowCardinality(Nullable(String)),
    request_model LowCardinality(String),
    request_id Nullable(String),
    message_id Nullable(String),
    stop_reason LowCardinality(Nullable(String)),
    stream Nullable(Bool),
    stream_completed Nullable(Bool),
    time_to_first_token_ms Nullable(Float64),
    retries Nullable(UInt8),
    api_error_type LowCardinality(Nullable(String)),
    api_error_class LowCardinality(Nullable(String)),
    retry_after_s Nullable(Float64),
    ratelimit_requests_remaining Nullable(UInt64),
    ratelimit_input_tokens_remaining Nullable(UInt64),
    ratelimit_output_tokens_remaining Nullable(UInt64),
    error_message Nullable(String),
    api_calls Nullable(UInt32),
    run_id Nullable(String),
    batch_id Nullable(String),
    batch_requests Nullable(UInt32),
    batch_custom_id Nullable(String),
    batch_result_type LowCardinality(Nullable(String)),
    cost_usd Nullable(Float64),
    counted_input_tokens Nullable(UInt32),
    function LowCardinality(Nullable(String)),
    service LowCardinality(String),
    env LowCardinality(Nullable(String)),
    version LowCardinality(Nullable(String)),
    prompt Nullable(String),
    completion Nullable(String),
    internal_error Nullable(Bool),
    truncated Array(String),
    trace_id Nullable(String),
    span_id Nullable(String),
    dropped_events Nullable(UInt32)
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY (service, request_model, timestamp);
