"""Dashboards as code, validated: vendor models, real queries, and every referenced field checked.

Datadog JSON goes through datadog-api-client's models, ClickHouse SQL runs in chDB over the
library's own events, and every field a file references must exist in the schema it targets.
"""

from __future__ import annotations

import copy
import csv
import fnmatch
import json
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml
from chdb import session
from datadog_api_client import Configuration
from datadog_api_client.model_utils import OpenApiModel, validate_and_convert_types
from datadog_api_client.v1.model.dashboard import Dashboard
from datadog_api_client.v1.model.monitor import Monitor
from datadog_api_client.v2.model.logs_metric_create_request import LogsMetricCreateRequest
from demo_events import demo_events, demo_lines

from claude_logging import _fields, _schemas
from claude_logging._cli import main
from claude_logging._cli.dashboards import BACKEND_SCHEMAS, backend_files

ROOT = Path(__file__).parent.parent
DASHBOARDS = ROOT / "claude_logging" / "dashboards"


def read(backend, name):
    return (DASHBOARDS / backend / name).read_text()


def load(backend, name):
    return json.loads(read(backend, name))


def schema_fields(schema):
    """The field names a schema writes, as queries see them (flat: the flat keys)."""
    if schema == "flat":
        return set(_fields.CORE_FIELDS)
    return {name.partition(".")[2] if name.startswith(("Attributes.", "Resource.")) else name for name in
            _schemas.SCHEMAS[schema].names()}  # fmt: skip


# -- export ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", sorted(BACKEND_SCHEMAS))
def test_export_writes_each_backend_file_unchanged(backend, tmp_path, capsys):
    """`dashboards export --backend X --out DIR` writes the packaged files, byte for byte."""
    assert main(["dashboards", "export", "--backend", backend, "--out", str(tmp_path / "out")]) == 0

    written = sorted(path.name for path in (tmp_path / "out").iterdir())
    packaged = sorted(path.name for path in (DASHBOARDS / backend).iterdir())
    assert written == packaged
    assert len(written) >= 2
    for name in written:
        assert (tmp_path / "out" / name).read_bytes() == (DASHBOARDS / backend / name).read_bytes()
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [str(tmp_path / "out" / name) for name in written]
    assert f"schema {BACKEND_SCHEMAS[backend]!r}" in captured.err


def test_unknown_backend_is_rejected_by_the_parser(capsys):
    """A typo lists the backends."""
    with pytest.raises(SystemExit):
        main(["dashboards", "export", "--backend", "splunk", "--out", "x"])
    assert "invalid choice: 'splunk'" in capsys.readouterr().err


def test_every_dashboard_file_is_declared_package_data():
    """The wheel ships them: each file matches a package-data pattern of pyproject.toml."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    relative = [
        str(path.relative_to(ROOT / "claude_logging")) for path in DASHBOARDS.rglob("*") if path.is_file()
    ]
    assert relative
    assert [
        name for name in relative if not any(fnmatch.fnmatch(name, p) for p in patterns["claude_logging"])
    ] == []
    assert {item.name for item in backend_files("datadog")} == {
        "dashboard.json",
        "metrics.json",
        "monitors.json",
    }


# -- Datadog: the API's own models -----------------------------------------------------------------


def unparsed_paths(value, path="$"):
    """Where datadog-api-client could not match the JSON to a model (it keeps going, marking `_unparsed`)."""
    found = []
    if isinstance(value, OpenApiModel):
        if value._unparsed:
            found.append(path)
        for key, item in value._data_store.items():
            found += unparsed_paths(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += unparsed_paths(item, f"{path}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            found += unparsed_paths(item, f"{path}.{key}")
    return found


def as_model(body, model):
    return validate_and_convert_types(
        body,
        (model,),
        ["body"],
        spec_property_naming=True,
        check_type=True,
        configuration=Configuration(),
    )


DATADOG_BODIES = [
    *(
        (f"metric {body['data']['id']}", body, LogsMetricCreateRequest)
        for body in load("datadog", "metrics.json")
    ),
    ("dashboard", load("datadog", "dashboard.json"), Dashboard),
    *((f"monitor {body['name']}", body, Monitor) for body in load("datadog", "monitors.json")),
]


@pytest.mark.parametrize(("name", "body", "model"), DATADOG_BODIES, ids=[item[0] for item in DATADOG_BODIES])
def test_datadog_json_deserialises_into_the_api_models(name, body, model):
    """Each metric, the dashboard and each monitor is a valid API request body, nothing left unparsed."""
    parsed = as_model(body, model)

    assert isinstance(parsed, model)
    assert unparsed_paths(parsed) == []
    assert parsed.to_dict() == body


def test_the_datadog_model_check_catches_a_broken_widget():
    """The check above can fail: an unknown aggregation in one widget is reported at that widget."""
    broken = copy.deepcopy(load("datadog", "dashboard.json"))
    broken["widgets"][1]["definition"]["requests"][0]["queries"][0]["compute"]["aggregation"] = "pc97"

    assert "$.widgets[1]" in unparsed_paths(as_model(broken, Dashboard))


def test_datadog_monitors_use_the_defined_metrics_and_their_tags():
    """Monitor queries name log-based metrics this package defines, grouped or filtered by their tags."""
    metrics = {
        body["data"]["id"]: {group["tag_name"] for group in body["data"]["attributes"]["group_by"]}
        for body in load("datadog", "metrics.json")
    }
    for monitor in load("datadog", "monitors.json"):
        for metric, scope, group in re.findall(
            r":([a-z][\w.]+)\{([^}]*)\}(?: by \{([^}]*)\})?", monitor["query"]
        ):
            assert metric in metrics, monitor["name"]
            tags = {part.split(":")[0] for part in scope.split(",") if part != "*"} | set(
                filter(None, [group])
            )
            assert tags <= metrics[metric], (monitor["name"], tags)


# -- ClickHouse: the DDL and every query, run in chDB -----------------------------------------------


def named_queries(sql):
    return dict(re.findall(r"-- name: (\w+)\n(.*?;)", sql, flags=re.DOTALL))


@pytest.fixture(scope="module")
def clickhouse(tmp_path_factory):
    """A chDB session with schema.sql applied and the demo's events (plus a cost per call) loaded."""
    events = demo_events("flat")
    for index, event in enumerate(events):
        event["cost_usd"] = round(0.001 * (index % 7 + 1), 6)
    db = session.Session(str(tmp_path_factory.mktemp("chdb")))
    db.query(read("clickhouse", "schema.sql"))
    rows = "\n".join(json.dumps(event) for event in events)
    db.query(
        "INSERT INTO claude_calls SETTINGS date_time_input_format = 'best_effort', "
        f"input_format_skip_unknown_fields = 1, input_format_null_as_default = 1 FORMAT JSONEachRow\n{rows}"
    )
    yield db, events
    db.close()


def run(db, sql):
    return [json.loads(line) for line in str(db.query(sql, "JSONEachRow")).splitlines()]


def test_clickhouse_loads_every_demo_event(clickhouse):
    """The DDL accepts the library's own lines as they are: one row per event, nothing rejected."""
    db, events = clickhouse

    assert run(db, "SELECT count() AS n FROM claude_calls") == [{"n": len(events)}]
    (row,) = run(
        db,
        "SELECT countIf(latency_ms IS NULL) AS no_latency, countIf(call_id = '') AS no_id FROM claude_calls",
    )
    assert row == {"no_latency": 0, "no_id": 0}


def test_every_clickhouse_query_runs_and_returns_rows(clickhouse):
    """Each named query in queries.sql executes on the loaded events and returns something."""
    db, _ = clickhouse
    queries = named_queries(read("clickhouse", "queries.sql"))

    assert len(queries) >= 7
    for name, sql in queries.items():
        assert run(db, sql), name


PROMPT_KEYS = ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")


def sql_sum(values):
    """SQL's SUM: nulls ignored, and null when every value is null."""
    known = [value for value in values if value is not None]
    return sum(known) if known else None


def test_clickhouse_views_match_the_events(clickhouse):
    """The numbers are right: counts, error kinds, 429/529, tokens and cost equal Python's sums."""
    db, events = clickhouse
    queries = named_queries(read("clickhouse", "queries.sql"))

    calls = {(r["model"], r["outcome"]): r["calls"] for r in run(db, queries["calls_by_model_and_outcome"])}
    assert calls == Counter((e["request_model"], e["outcome"]) for e in events)
    errors = {r["error_type"]: r["errors"] for r in run(db, queries["error_rate_by_error_type"])}
    assert errors == Counter(e["error_type"] for e in events if e["level"] == "error")
    buckets = run(db, queries["rate_limited_and_overloaded_per_5m"])
    status_counts = Counter(e["status_code"] for e in events)
    assert sum(b["http_429"] for b in buckets) == status_counts[429]
    assert sum(b["http_529"] for b in buckets) == status_counts[529]
    assert sum(b["calls"] for b in buckets) == len(events)
    tokens = {(r["tenant_id"], r["model"]): r for r in run(db, queries["tokens_by_tenant_and_model"])}
    assert len(tokens) == len({(e["tenant_id"], e["request_model"]) for e in events})
    for (tenant, model), row in tokens.items():
        mine = [e for e in events if (e["tenant_id"], e["request_model"]) == (tenant, model)]
        assert row["output_tokens"] == sql_sum(e["output_tokens"] for e in mine)
        prompt = [sql_sum(e[key] for e in mine) for key in PROMPT_KEYS]
        assert row["prompt_tokens_total"] == (None if None in prompt else sum(prompt))
    cost = sum(r["cost_usd"] for r in run(db, queries["cost_by_tenant_and_model"]))
    assert cost == pytest.approx(sum(e["cost_usd"] for e in events))
    for row in run(db, queries["latency_percentiles_by_model"]):
        assert row["p50_ms"] <= row["p95_ms"] <= row["p99_ms"]


def canonical(event):
    return event.get("canonical_model") or event["request_model"]


def test_clickhouse_bill_views_match_the_events(clickhouse):
    """Spend per tenant, cache hit rate, headroom, stop reasons and thinking share equal Python's."""
    db, events = clickhouse
    queries = named_queries(read("clickhouse", "queries.sql"))

    spend = {r["tenant_id"]: r["spend_usd"] for r in run(db, queries["spend_per_tenant_against_budget"])}
    for tenant, value in spend.items():
        assert value == pytest.approx(sum(e["cost_usd"] for e in events if e["tenant_id"] == tenant))
    for row in run(db, queries["cache_hit_rate_by_model"]):
        mine = [e for e in events if canonical(e) == row["model"]]
        prompt = [sql_sum(e[key] for e in mine) for key in PROMPT_KEYS]
        if None not in prompt and sum(prompt):
            assert row["cache_hit_rate"] == pytest.approx(prompt[1] / sum(prompt), abs=1e-4)
    headroom = run(db, queries["ratelimit_headroom_per_5m"])
    known = [
        e["ratelimit_requests_remaining"] for e in events if e.get("ratelimit_requests_remaining") is not None
    ]
    assert min(
        r["min_requests_remaining"] for r in headroom if r["min_requests_remaining"] is not None
    ) == min(known)
    for row in run(db, queries["stop_reasons_by_model"]):
        mine = [e for e in events if canonical(e) == row["model"] and e.get("stop_reason")]
        assert (row["answered"], row["truncated"], row["refused"]) == (
            len(mine),
            sum(e["stop_reason"] == "max_tokens" for e in mine),
            sum(e["stop_reason"] == "refusal" for e in mine),
        )
    for row in run(db, queries["thinking_share_by_model"]):
        mine = [e for e in events if canonical(e) == row["model"]]
        assert row["thinking_tokens"] == sql_sum(e.get("thinking_output_tokens") for e in mine)


# -- every referenced field exists in the schema the backend targets ---------------------------------


def datadog_references():
    """`@attribute` names in every Datadog search query, measure, facet and metric path."""
    text = read("datadog", "metrics.json") + read("datadog", "dashboard.json")
    return set(re.findall(r"@([A-Za-z_][\w.\-]*)", text)) | {"service", "status"}


def logql_expressions():
    dashboard = load("grafana-loki", "dashboard.json")
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    rules = yaml.safe_load(read("grafana-loki", "rules.yaml"))
    return exprs + [rule["expr"] for group in rules["groups"] for rule in group["rules"]]


def loki_references():
    """The JSON keys every parameterised `| json` stage extracts, plus Alloy's stage.json keys."""
    keys = set()
    for expr in logql_expressions():
        for stage in re.findall(r"\| json ((?:\w+=\"[^\"]+\"(?:, )?)+)", expr):
            keys |= set(re.findall(r'\w+="([^"]+)"', stage))
    keys |= set(re.findall(r'= "(\w+)" }', read("grafana-loki", "config.alloy")))
    return keys


def elastic_references():
    """Fields in the ES|QL queries, the Kibana Lens columns and filters, and the index template."""
    rules = "\n".join(rule["params"]["esqlQuery"]["esql"] for rule in load("elastic", "rules.json"))
    esql = re.sub(r'//.*|"[^"]*"', "", read("elastic", "queries.esql") + "\n" + rules)
    fields = set(re.findall(r"@timestamp|\b[a-z_]+(?:\.[a-z_]+)+\b", esql)) - {"logs-claude_logging-*"}
    for line in read("elastic", "kibana.ndjson").splitlines():
        saved = json.loads(line)
        if saved["type"] == "lens":
            for layer in saved["attributes"]["state"]["datasourceStates"]["formBased"]["layers"].values():
                for column in layer["columns"].values():
                    fields.add(column["sourceField"])
                    fields |= set(re.findall(r"([\w.@]+) :", column.get("filter", {}).get("query", "")))
    fields.discard("___records___")
    return fields | set(mapped_fields())


def clickhouse_references():
    """Every column of the DDL (a column not in the flat schema would never be filled)."""
    return set(re.findall(r"^    (\w+) ", read("clickhouse", "schema.sql"), flags=re.MULTILINE))


REFERENCES = {
    "datadog": datadog_references,
    "grafana-loki": loki_references,
    "elastic": elastic_references,
    "clickhouse": clickhouse_references,
}


@pytest.mark.parametrize("backend", sorted(BACKEND_SCHEMAS))
def test_every_field_a_backend_references_exists_in_its_schema(backend):
    """One walk over all dashboards, metrics, rules and queries: no reference to a field we never write."""
    references = REFERENCES[backend]()
    fields = schema_fields(BACKEND_SCHEMAS[backend])

    assert len(references) >= 5
    assert sorted(references - fields) == []


def test_the_field_walk_sees_the_fields_the_views_need():
    """Guard against a walk that finds nothing: the central fields are among the references."""
    assert {"duration", "gen_ai.request.model", "error.kind", "http.status_code", "claude.cost_usd"} <= (
        datadog_references()
    )
    needed = {"request_model", "latency_ms", "error_type", "status_code", "tenant_id", "cost_usd"}
    assert needed <= loki_references()
    assert {
        "event.duration",
        "gen_ai.request.model",
        "organization.id",
        "claude.cost_usd",
        "claude.ratelimit_requests_remaining",
        "gen_ai.usage.reasoning.output_tokens",
    } <= elastic_references()
    assert set(_fields.CORE_FIELDS) == clickhouse_references()


# -- Elastic and Loki specifics --------------------------------------------------------------------


def mapped_fields(properties=None, prefix=""):
    if properties is None:
        properties = load("elastic", "component-template.json")["template"]["mappings"]["properties"]
    fields = {}
    for name, spec in properties.items():
        if "properties" in spec:
            fields.update(mapped_fields(spec["properties"], f"{prefix}{name}."))
        else:
            fields[f"{prefix}{name}"] = spec["type"]
    return fields


def test_elastic_template_maps_every_ecs_field_with_its_ecs_type():
    """All fields the ecs schema writes are mapped; ECS fields with ECS's type; keyword model, long counts."""
    mapping = mapped_fields()
    with (Path(__file__).parent / "data" / "ecs_fields.csv").open() as handle:
        ecs = {
            row["field"]: row["type"]
            for row in csv.DictReader(line for line in handle if not line.startswith("#"))
        }

    assert set(mapping) == schema_fields("ecs")
    assert {name: mapping[name] for name in ecs} == ecs
    assert mapping["gen_ai.request.model"] == "keyword"
    assert mapping["claude.tenant_id" if "claude.tenant_id" in mapping else "organization.id"] == "keyword"
    assert {mapping[name] for name in mapping if name.startswith("gen_ai.usage.")} == {"long"}
    assert mapping["event.duration"] == "long"
    index = load("elastic", "index-template.json")
    assert index["composed_of"] == ["claude_logging@mappings"]
    assert index["data_stream"] == {}


def test_elastic_alert_rules_are_esql_rules_over_our_data_stream():
    """Each rule is a Kibana ES|QL rule over the data stream: the budget, the headroom, the stop reasons."""
    rules = load("elastic", "rules.json")

    assert {rule["rule_type_id"] for rule in rules} == {".es-query"}
    for rule in rules:
        assert rule["params"]["searchType"] == "esqlQuery"
        assert rule["params"]["esqlQuery"]["esql"].startswith("FROM logs-claude_logging-* ")
    assert len(rules) == 3


def test_kibana_saved_objects_reference_each_other_consistently():
    """ndjson: each object has type/id/attributes; every reference and dashboard panel resolves."""
    objects = [json.loads(line) for line in read("elastic", "kibana.ndjson").splitlines()]
    ids = {(item["type"], item["id"]) for item in objects}

    for item in objects:
        assert {"type", "id", "attributes", "references"} <= set(item)
        for reference in item["references"]:
            assert (reference["type"], reference["id"]) in ids
    (dashboard,) = [item for item in objects if item["type"] == "dashboard"]
    panels = json.loads(dashboard["attributes"]["panelsJSON"])
    names = {reference["name"] for reference in dashboard["references"]}
    assert {f"{panel['panelIndex']}:{panel['panelRefName']}" for panel in panels} == names


def test_filebeat_parses_ndjson_with_expanded_keys_and_routes_our_events():
    """The Filebeat snippet is valid YAML with the ndjson parser settings ECS documents need."""
    config = yaml.safe_load(read("elastic", "filebeat.yml"))
    (source,) = config["filebeat.inputs"]
    ndjson = next(parser["ndjson"] for parser in source["parsers"] if "ndjson" in parser)

    assert ndjson["expand_keys"] is True
    assert ndjson["overwrite_keys"] is True
    assert config["output.elasticsearch"]["indices"][0]["when.equals"] == {"event.action": "claude.call"}


def test_loki_queries_use_no_per_call_stream_labels():
    """Stream selectors use only the agent's service_name label; per-call fields come from `| json`."""
    for expr in logql_expressions():
        for selector in re.findall(r"\{([^}]*)\}", expr):
            labels = set(re.findall(r"(\w+)\s*(?:=~|!=|=|!~)", selector))
            assert labels <= {"service_name"}, expr
        assert expr.count("(") == expr.count(")"), expr
        assert "| json " in expr, expr


def test_loki_dashboard_has_a_loki_datasource_variable_and_rules_are_well_formed():
    """Panels read `${datasource}`; every ruler rule is either a recording or an alerting rule with expr."""
    dashboard = load("grafana-loki", "dashboard.json")
    variables = {var["name"]: var for var in dashboard["templating"]["list"]}
    assert (variables["datasource"]["type"], variables["datasource"]["query"]) == ("datasource", "loki")
    assert {panel["datasource"]["uid"] for panel in dashboard["panels"]} == {"${datasource}"}

    rules = [
        rule
        for group in yaml.safe_load(read("grafana-loki", "rules.yaml"))["groups"]
        for rule in group["rules"]
    ]
    assert {("record" in rule) != ("alert" in rule) for rule in rules} == {True}
    assert {rule["alert"] for rule in rules if "alert" in rule} == {
        "ClaudeErrorRateHigh",
        "ClaudeLatencyP95High",
        "Claude429Spike",
        "ClaudeTenantOverDailyBudget",
        "ClaudeRateLimitHeadroomLow",
        "ClaudeTruncationRateHigh",
        "ClaudeRefusalRateHigh",
    }


def test_demo_lines_are_flat_by_default():
    """The events Loki and ClickHouse read are the default schema's (no configuration needed)."""
    assert {_schemas.detect(json.loads(line)) for line in demo_lines("flat")} == {"flat"}
