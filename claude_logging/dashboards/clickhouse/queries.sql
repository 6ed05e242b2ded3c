-- One query per dashboard view over claude_calls (schema.sql). Each starts with "-- name:";
-- change the time window in the WHERE clause. Latency is latency_ms (milliseconds); input_tokens
-- is Anthropic's count (cache excluded), so the prompt's total is input + cache read + cache write.

-- name: calls_by_model_and_outcome
SELECT request_model AS model, outcome, count() AS calls
FROM claude_calls
WHERE timestamp >= now() - INTERVAL 1 DAY
GROUP BY request_model, outcome
ORDER BY calls DESC;

-- name: latency_percentiles_by_model
SELECT
    request_model AS model,
    count() AS calls,
    round(quantile(0.50)(latency_ms), 1) AS p50_ms,
    round(quantile(0.95)(latency_ms), 1) AS p95_ms,
    round(quantile(0.99)(latency_ms), 1) AS p99_ms
FROM claude_calls
WHERE timestamp >= now() - INTERVAL 1 DAY
GROUP BY request_model
ORDER BY p95_ms DESC;

-- name: error_rate_by_error_type
SELECT
    error_type,
    count() AS errors,
    round(100 * errors / (SELECT count() FROM claude_calls WHERE timestamp >= now() - INTERVAL 1 DAY), 2) AS pct_of_calls
FROM claude_calls
WHERE timestamp >= now() - INTERVAL 1 DAY AND level = 'error'
GROUP BY error_type
ORDER BY errors DESC;

-- name: rate_limited_and_overloaded_per_5m
SELECT
    toStartOfFiveMinutes(timestamp) AS bucket,
    count() AS calls,
    countIf(status_code = 429) AS http_429,
    countIf(status_code = 529) AS http_529,
    round(100 * http_429 / calls, 2) AS pct_429,
    round(100 * http_529 / calls, 2) AS pct_529
FROM claude_calls
WHERE timestamp >= now() - INTERVAL 1 DAY
GROUP BY bucket
ORDER BY bucket;

-- name: tokens_by_tenant_and_model
SELECT
    tenant_id,
    request_model AS model,
    sum(input_tokens) AS input_tokens,
    sum(output_tokens) AS output_tokens,
    sum(cache_read_input_tokens) AS cache_read_tokens,
    sum(cache_creation_input_tokens) AS cache_write_tokens,
    input_tokens + cache_read_tokens + cache_write_tokens AS prompt_tokens_total
FROM claude_calls
WHERE timestamp >= now() - INTERVAL 1 DAY
GROUP BY tenant_id, request_model
ORDER BY prompt_tokens_total DESC;

-- name: cost_by_tenant_and_model
SELECT tenant_id, coalesce(canonical_model, request_model) AS model, round(sum(cost_usd), 6) AS cost_usd, count() AS calls
FROM claude_calls
WHERE timestamp >= now() - INTERVAL 1 DAY
GROUP BY tenant_id, model
ORDER BY cost_usd DESC;

-- name: slowest_models
SELECT request_model AS model, round(quantile(0.95)(latency_ms), 1) AS p95_ms, count() AS calls
FROM claude_calls
WHERE timestamp >= now() - INTERVAL 1 DAY
GROUP BY request_model
ORDER BY p95_ms DESC
LIMIT 10;

-- name: error_rate_per_5m
SELECT toStartOfFiveMinutes(timestamp) AS bucket, round(100 * countIf(level = 'error') / count(), 2) AS error_pct
FROM claude_calls
WHERE timestamp >= now() - INTERVAL 1 DAY
GROUP BY bucket
ORDER BY bucket;

-- name: spend_per_tenant_against_budget
-- Spend per tenant in the last 24 hours against a daily budget (here $50, change it): over_budget is the alert.
-- calls_cost_incomplete counts calls whose cost is a lower bound or missing (cost_incomplete).
SELECT
    tenant_id,
    round(sum(cost_usd), 6) AS spend_usd,
    50.0 AS budget_usd,
    spend_usd > budget_usd AS over_budget,
    countIf(cost_incomplete) AS calls_cost_incomplete
FROM claude_calls
WHERE timestamp >= now() - INTERVAL 1 DAY
GROUP BY tenant_id
ORDER BY spend_usd DESC;

-- name: cache_hit_rate_by_model
-- The share of the prompt read from the prompt cache: reads / (input + reads + writes).
SELECT
    coalesce(canonical_model, request_model) AS model,
    sum(cache_read_input_tokens) AS cache_read_tokens,
    sum(input_tokens) + sum(cache_read_input_tokens) + sum(cache_creation_input_tokens) AS prompt_tokens,
    round(cache_read_tokens / nullIf(prompt_tokens, 0), 4) AS cache_hit_rate
FROM claude_calls
WHERE timestamp >= now() - INTERVAL 1 DAY
GROUP BY model
ORDER BY prompt_tokens DESC;

-- name: ratelimit_headroom_per_5m
-- The lowest rate-limit headroom the API reported in each 5 minutes: alert when a minimum nears 0.
SELECT
    toStartOfFiveMinutes(timestamp) AS bucket,
    count() AS calls,
    min(ratelimit_requests_remaining) AS min_requests_remaining,
    min(ratelimit_input_tokens_remaining) AS min_input_tokens_remaining,
    min(ratelimit_output_tokens_remaining) AS min_output_tokens_remaining
FROM claude_calls
WHERE timestamp >= now() - INTERVAL 1 DAY
GROUP BY bucket
ORDER BY bucket;

-- name: stop_reasons_by_model
-- Truncation (max_tokens) and refusal rates of the calls that returned a stop reason.
SELECT
    coalesce(canonical_model, request_model) AS model,
    countIf(stop_reason IS NOT NULL) AS answered,
    countIf(stop_reason = 'max_tokens') AS truncated,
    countIf(stop_reason = 'refusal') AS refused,
    round(truncated / nullIf(answered, 0), 4) AS truncation_rate,
    round(refused / nullIf(answered, 0), 4) AS refusal_rate
FROM claude_calls
WHERE timestamp >= now() - INTERVAL 1 DAY
GROUP BY model
ORDER BY answered DESC;

-- name: thinking_share_by_model
-- The share of output tokens spent thinking (usage.output_tokens_details.thinking_tokens).
SELECT
    coalesce(canonical_model, request_model) AS model,
    sum(output_tokens) AS output_tokens,
    sum(thinking_output_tokens) AS thinking_tokens,
    round(coalesce(thinking_tokens, 0) / nullIf(output_tokens, 0), 4) AS thinking_share
FROM claude_calls
WHERE timestamp >= now() - INTERVAL 1 DAY
GROUP BY model
ORDER BY output_tokens DESC;
