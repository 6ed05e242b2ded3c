"""cost_usd: the price table, the arithmetic per component, overrides, and the wiring into events."""

from __future__ import annotations

import json
import logging
from typing import get_args

import anthropic
import anthropic.types
import pytest
from conftest import MESSAGES, ask

import claude_logging
from claude_logging import _pricing
from claude_logging._event import Event
from claude_logging.testing import error, message, stream

MTOK = 1_000_000


def usage(model="claude-sonnet-4-6", **counts) -> Event:
    event = Event(start_wall_ns=0, start_mono_ns=0, response_model=model)
    for name, value in counts.items():
        setattr(event, name, value)
    return event


def cost_of(event: Event) -> float | None:
    _pricing.price(event)
    return event.cost_usd


# -- the arithmetic, one component at a time (Sonnet 4.6: $3 in, $15 out, $3.75 5m, $6 1h, $0.30 read) --


def test_input_tokens_are_priced_at_the_base_input_rate():
    """1M uncached input tokens of Sonnet 4.6 cost $3."""
    assert cost_of(usage(input_tokens=MTOK, output_tokens=0)) == pytest.approx(3.0)


def test_output_tokens_are_priced_at_the_output_rate():
    """2,000 output tokens at $15/MTok: $0.03."""
    assert cost_of(usage(input_tokens=0, output_tokens=2_000)) == pytest.approx(0.03)


def test_cache_reads_are_priced_at_the_cache_hit_rate():
    """10,000 cache reads at $0.30/MTok plus 100 input at $3: $0.003 + $0.0003."""
    event = usage(input_tokens=100, output_tokens=0, cache_read_input_tokens=10_000)
    assert cost_of(event) == pytest.approx(0.0033)


def test_cache_writes_use_the_5m_and_1h_split_when_reported():
    """4,000 five-minute writes at $3.75 and 1,000 one-hour writes at $6: $0.015 + $0.006."""
    event = usage(
        input_tokens=0,
        output_tokens=0,
        cache_creation_input_tokens=5_000,
        cache_creation_5m_input_tokens=4_000,
        cache_creation_1h_input_tokens=1_000,
    )
    assert cost_of(event) == pytest.approx(0.021)


def test_unsplit_cache_writes_are_priced_at_the_default_5_minute_rate():
    """Only the aggregate reported: 2,000 writes at $3.75/MTok = $0.0075."""
    event = usage(input_tokens=0, output_tokens=0, cache_creation_input_tokens=2_000)
    assert cost_of(event) == pytest.approx(0.0075)


def test_batch_tier_halves_the_whole_call():
    """service_tier=batch: (1,000 x $3 + 1,000 x $15 + 1,000 x $0.30) / 1M x 0.5 = $0.00915."""
    event = usage(
        input_tokens=1_000, output_tokens=1_000, cache_read_input_tokens=1_000, service_tier="batch"
    )
    assert cost_of(event) == pytest.approx(0.00915)


def test_fast_mode_multiplies_the_standard_rates():
    """Opus 4.8 fast mode is 2x: 1,000 in x $5 + 1,000 out x $25 = $0.03, doubled to $0.06."""
    event = usage("claude-opus-4-8", input_tokens=1_000, output_tokens=1_000, speed="fast")
    assert cost_of(event) == pytest.approx(0.06)


def test_fast_mode_without_a_published_price_gives_no_cost():
    """Opus 5.5 fast mode has no price in the table: no guess, no cost."""
    event = usage("claude-opus-5-5", input_tokens=1_000, output_tokens=1_000, speed="fast")
    assert cost_of(event) is None


def test_haiku_5_5_long_prompts_are_priced_in_the_upper_band_on_every_token():
    """Prompt over 100,000 tokens (input + cache): every token at the upper band's rates."""
    haiku = "claude-haiku-5-5"
    short = usage(haiku, input_tokens=90_000, output_tokens=1_000, cache_read_input_tokens=10_000)
    long = usage(haiku, input_tokens=90_001, output_tokens=1_000, cache_read_input_tokens=10_000)

    # 90,000 x 0.10 + 1,000 x 0.50 + 10,000 x 0.01 = 9,600 -> $0.0096
    assert cost_of(short) == pytest.approx(0.0096)
    # 90,001 x 0.50 + 1,000 x 2.50 + 10,000 x 0.05 = 48,000.5 -> $0.0480005
    assert cost_of(long) == pytest.approx(0.0480005)


def test_missing_counts_count_as_zero_but_no_usage_at_all_gives_no_cost():
    """An error without usage has no cost; a usage with a null cache count still does."""
    assert cost_of(usage(input_tokens=None, output_tokens=None)) is None
    assert cost_of(usage(input_tokens=1_000, output_tokens=None)) == pytest.approx(0.003)


# -- the table ---------------------------------------------------------------------------------------


def test_every_model_the_sdk_knows_is_priced_or_deliberately_unpriced():
    """The SDK's Model literal against the table: a new SDK model fails here until it is added."""
    known = get_args(get_args(anthropic.types.Model)[0])
    table = _pricing.table()

    missing = [model for model in known if table.lookup(model) is None and model not in table.unpriced]

    assert missing == []
    assert known


def test_every_row_names_its_source_and_the_date_it_was_checked():
    """Each priced and unpriced entry carries where the number came from and when."""
    document = _pricing.packaged_document()

    for model, row in document["models"].items():
        assert row["source"], model
        assert len(row["checked"]) == 10, model
    for model, entry in document["unpriced"].items():
        assert entry["reason"], model


def test_aliases_and_dated_ids_resolve_to_one_row():
    """The alias, its dated id from the SDK, and an unlisted dated id all find the same row."""
    table = _pricing.table()

    assert table.lookup("claude-haiku-4-5") is table.lookup("claude-haiku-4-5-20251001")
    assert table.lookup("claude-sonnet-4-6-20260217") is table.lookup("claude-sonnet-4-6")
    assert table.lookup("claude-mythos-5-1") is table.lookup("claude-fable-5-1")


def test_unknown_model_gives_no_cost_and_one_warning_per_model(caplog):
    """Never an exception: no cost_usd, and the warning is logged once however many calls."""
    with caplog.at_level(logging.WARNING, logger="claude_logging.internal"):
        for _ in range(3):
            assert cost_of(usage("claude-imaginary-9", input_tokens=10, output_tokens=10)) is None
        assert cost_of(usage("claude-other-1", input_tokens=10, output_tokens=10)) is None

    warnings = [record.getMessage() for record in caplog.records]
    assert len(warnings) == 2
    assert "claude-imaginary-9" in warnings[0]


def test_deliberately_unpriced_model_warns_with_its_reason(caplog):
    """claude-mythos-preview has no published price: no cost, and the warning says why."""
    with caplog.at_level(logging.WARNING, logger="claude_logging.internal"):
        assert cost_of(usage("claude-mythos-preview", input_tokens=10, output_tokens=10)) is None

    assert "research preview" in caplog.records[0].getMessage()


# -- overrides ---------------------------------------------------------------------------------------


def test_configure_prices_adds_a_model_and_overrides_a_price():
    """A new row needs input and output; an override keeps the other prices of the packaged row."""
    claude_logging.configure(
        prices={"my-finetune": {"input": 1, "output": 2}, "claude-sonnet-4-6": {"output": 30}}
    )

    assert cost_of(usage("my-finetune", input_tokens=MTOK, output_tokens=MTOK)) == pytest.approx(3.0)
    assert cost_of(usage(input_tokens=MTOK, output_tokens=MTOK)) == pytest.approx(33.0)


def test_a_null_price_gives_no_cost_only_for_calls_that_need_it():
    """A row without a cache-read price still prices calls that read nothing from the cache."""
    claude_logging.configure(prices={"my-model": {"input": 1, "output": 1}})

    assert cost_of(usage("my-model", input_tokens=10, output_tokens=10)) == pytest.approx(0.00002)
    assert cost_of(usage("my-model", input_tokens=10, output_tokens=10, cache_read_input_tokens=5)) is None


@pytest.mark.parametrize(
    ("prices", "exception", "message_part"),
    [
        ({"new-model": {"input": 1}}, ValueError, "needs at least 'input' and 'output'"),
        ({"claude-sonnet-4-6": {"input": -1}}, ValueError, "non-negative number"),
        ({"claude-sonnet-4-6": {"inptu": 1}}, ValueError, "unknown key(s) inptu"),
        ({"claude-sonnet-4-6": 3}, TypeError, "must be a dict"),
        (42, TypeError, "prices must be a dict"),
        ("/nonexistent/prices.json", ValueError, "cannot read the price file"),
    ],
)
def test_bad_prices_are_rejected_at_configure_time(prices, exception, message_part):
    """Mistakes raise in configure() with the reason, never later in a call."""
    with pytest.raises(exception, match=message_part.replace("(", r"\(").replace(")", r"\)")):
        claude_logging.configure(prices=prices)


def test_price_file_from_the_environment_extends_the_table(tmp_path, monkeypatch):
    """CLAUDE_LOGGING_PRICES names a JSON file shaped like prices.json."""
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"models": {"house-model": {"input": 2, "output": 4}}}))
    monkeypatch.setenv("CLAUDE_LOGGING_PRICES", str(path))
    claude_logging.testing.reset()

    assert cost_of(usage("house-model", input_tokens=MTOK, output_tokens=0)) == pytest.approx(2.0)


def test_configure_accepts_the_path_of_a_price_file(tmp_path):
    """configure(prices=path) reads the same file format."""
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"models": {"house-model": {"input": 5, "output": 5}}}))
    claude_logging.configure(prices=path)

    assert cost_of(usage("house-model", input_tokens=0, output_tokens=MTOK)) == pytest.approx(5.0)


# -- the wiring: every API-level part priced at its own model ----------------------------------------


def test_instrumented_call_event_has_cost_from_its_usage(client, api, events):
    """Sonnet 4.6 with a 5m/1h cache split: (100x3 + 50x15 + 400x3.75 + 600x6 + 1,000x0.3) / 1M."""
    api.enqueue(
        message(
            "ok",
            model="claude-sonnet-4-6",
            input_tokens=100,
            output_tokens=50,
            cache_read_input_tokens=1_000,
            cache_creation_input_tokens=1_000,
            usage={"cache_creation": {"ephemeral_5m_input_tokens": 400, "ephemeral_1h_input_tokens": 600}},
        )
    )

    ask(client)

    (event,) = events
    assert event["cost_usd"] == pytest.approx(0.00645)


def test_failed_call_has_no_cost(api, events):
    """A 400 reports no usage: cost_usd is absent."""
    api.enqueue(error(400))

    with pytest.raises(anthropic.BadRequestError):
        claude_logging.instrument(api.client(max_retries=0)).messages.create(
            model="claude-sonnet-4-6", max_tokens=10, messages=MESSAGES
        )

    assert "cost_usd" not in events[0]


def test_scope_cost_is_the_sum_of_its_calls_at_each_models_prices(client, api, events):
    """Two calls of different models in one log_call: each priced at its own model, then summed."""
    api.enqueue(
        message(model="claude-opus-4-6", input_tokens=1_000, output_tokens=100),
        message(model="claude-haiku-4-5-20251001", input_tokens=1_000, output_tokens=100),
    )

    with claude_logging.log_call():
        ask(client)
        ask(client)

    (event,) = events
    # Opus 4.6: 1,000 x 5 + 100 x 25 = 7,500; Haiku 4.5: 1,000 x 1 + 100 x 5 = 1,500 -> $0.009
    assert event["cost_usd"] == pytest.approx(0.009)
    assert event["api_calls"] == 2


def test_recorded_message_and_observed_stream_parts_are_priced(api, events):
    """A scope fed by hand (record) and by a returned stream prices both parts."""
    plain = api.client(max_retries=0)
    api.enqueue(
        message(model="claude-sonnet-4-6", input_tokens=1_000, output_tokens=0),
        stream("a b", model="claude-sonnet-4-6", input_tokens=0, output_tokens=1_000),
    )

    with claude_logging.log_call() as call:
        call.record(ask(plain))
        chunks = ask(plain, stream=True)
        call.record(chunks)
        list(chunks)

    (event,) = events
    assert event["cost_usd"] == pytest.approx(0.003 + 0.015)


# -- charges beyond token rates: geo, server tools, regional endpoints; platform ids ----------------
# Sonnet 4.6 at 1,000 input + 1,000 output: 1,000 x $3 + 1,000 x $15 = $0.018 before any charge.

BASE = 0.018


def sonnet_call(model="claude-sonnet-4-6", **fields) -> Event:
    return usage(model, input_tokens=1_000, output_tokens=1_000, **fields)


def test_us_only_inference_costs_1_1_times_on_every_token():
    """inference_geo=us: $0.018 x 1.1 = $0.0198; global is the plain price."""
    assert cost_of(sonnet_call(inference_geo="us")) == pytest.approx(0.0198)
    assert cost_of(sonnet_call(inference_geo="global")) == pytest.approx(BASE)


def test_an_unknown_geo_is_priced_plain_and_marked_incomplete():
    """A geo the table has no multiplier for: the plain price, flagged as a lower bound."""
    event = sonnet_call(inference_geo="eu")
    assert cost_of(event) == pytest.approx(BASE)
    assert event.cost_incomplete is True


def test_web_searches_cost_a_cent_each_and_fetches_nothing_extra():
    """3 searches at $10/1,000 and 2 fetches: $0.018 + $0.03 (the fee is not geo-multiplied)."""
    event = sonnet_call(web_search_requests=3, web_fetch_requests=2, inference_geo="us")
    assert cost_of(event) == pytest.approx(0.0198 + 0.03)
    assert event.cost_incomplete is None


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("global.anthropic.claude-sonnet-4-6-v1:0", BASE),
        ("us.anthropic.claude-sonnet-4-6-v1:0", BASE * 1.1),
        ("eu.anthropic.claude-sonnet-4-6", BASE * 1.1),
        ("anthropic.claude-sonnet-4-6-v1:0", BASE * 1.1),
        ("arn:aws:bedrock:us-east-1:1:inference-profile/global.anthropic.claude-sonnet-4-6-v1:0", BASE),
    ],
)
def test_bedrock_ids_are_priced_with_the_regional_premium_unless_global(model, expected):
    """Bedrock: a global profile at list price; geography profiles and in-region ids 10% more."""
    event = usage(None, input_tokens=1_000, output_tokens=1_000)
    event.request_model = model
    event.response_model = "claude-sonnet-4-6"

    assert cost_of(event) == pytest.approx(expected)
    assert event.canonical_model == "claude-sonnet-4-6"


def test_a_bedrock_response_naming_the_platform_id_is_priced_too():
    """When only the platform id is known (no response model), it still finds its row."""
    event = usage("global.anthropic.claude-haiku-4-5-20251001-v1:0", input_tokens=1_000, output_tokens=1_000)
    # Haiku 4.5: 1,000 x $1 + 1,000 x $5 = $0.006
    assert cost_of(event) == pytest.approx(0.006)
    assert event.canonical_model == "claude-haiku-4-5"


@pytest.mark.parametrize(
    ("region", "expected", "incomplete"),
    [("global", BASE, None), ("us-east5", BASE * 1.1, None), (None, BASE, True)],
)
def test_vertex_ids_are_priced_by_the_clients_region(region, expected, incomplete):
    """Vertex: `@date` ids priced; a regional endpoint 10% more; an unknown region is a lower bound."""
    event = usage("claude-sonnet-4-6@20260101", input_tokens=1_000, output_tokens=1_000)
    event.cloud_region = region

    assert cost_of(event) == pytest.approx(expected)
    assert event.cost_incomplete is incomplete
    assert event.canonical_model == "claude-sonnet-4-6"


def test_foundry_and_dated_ids_share_the_first_party_row():
    """Foundry uses the plain id; a dated id is the same model: one canonical name for all."""
    foundry = usage("claude-sonnet-4-6", input_tokens=1_000, output_tokens=1_000)
    foundry.platform = "foundry"
    dated = usage("claude-sonnet-4-6-20260217", input_tokens=1_000, output_tokens=1_000)

    assert cost_of(foundry) == cost_of(dated) == pytest.approx(BASE)
    assert foundry.canonical_model == dated.canonical_model == "claude-sonnet-4-6"


def test_priority_tier_is_priced_at_list_and_marked_incomplete():
    """Priority Tier is billed by contract: the list price is a floor."""
    event = sonnet_call(service_tier="priority")
    assert cost_of(event) == pytest.approx(BASE)
    assert event.cost_incomplete is True


def test_charges_are_overridable_like_rows():
    """configure(prices=...) replaces a fee, a geo multiplier and the regional premium."""
    claude_logging.configure(
        prices={
            "server_tools": {"web_search_requests": {"usd_per_request": 0.02}},
            "inference_geo": {"eu": {"multiplier": 1.2}},
            "regional_endpoints": {"multiplier": 1.5},
        }
    )
    event = usage("us.anthropic.claude-sonnet-4-6-v1:0", input_tokens=1_000, output_tokens=1_000)
    event.inference_geo = "eu"
    event.web_search_requests = 1

    # 0.018 x 1.2 x 1.5 + 0.02
    assert cost_of(event) == pytest.approx(0.018 * 1.2 * 1.5 + 0.02)


def test_a_bad_charge_is_rejected_at_configuration_time():
    """A fee without its number raises when configured, naming the entry."""
    with pytest.raises(ValueError, match=r"server_tools\.web_search_requests"):
        claude_logging.configure(prices={"server_tools": {"web_search_requests": {"usd": 1}}})


def test_every_charge_names_its_source_and_date():
    """Server-tool fees, geo multipliers and the regional premium carry a source and a checked date."""
    document = _pricing.packaged_document()
    entries = [*document["server_tools"].values(), *document["inference_geo"].values()]
    entries.append(document["regional_endpoints"])
    for entry in entries:
        assert entry["source"].startswith("https://")
        assert len(entry["checked"]) == 10


def test_unpriced_model_event_says_its_cost_is_incomplete(api, events):
    """Tokens used, no price: no cost_usd, and cost_incomplete says so instead of silence."""
    client = claude_logging.instrument(api.client())
    api.enqueue(message(model="claude-imaginary-9", input_tokens=10, output_tokens=10))

    ask(client, model="claude-imaginary-9")

    assert "cost_usd" not in events[0]
    assert events[0]["cost_incomplete"] is True
