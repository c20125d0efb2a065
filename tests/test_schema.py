"""`cnncalc schema`: a JSON Schema generated from the parser's own declarations.

Every bundled spec validates; specs the parser accepts (blocks, repeat, `$arg` and `$(expr)`
values, bare and shorthand layers, when/functional/from/trainable) validate; specs the
parser rejects for a reason a schema can see are rejected by both; and a property test checks
on generated specs that whatever the parser accepts, the schema accepts.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import cnncalc
from cnncalc.cli import app
from cnncalc.layers import KINDS
from cnncalc.schema import ecma_pattern, shorthand_pattern, spec_schema, with_expressions
from cnncalc.shorthand import parse_shorthand
from cnncalc.spec import COMMON_FIELDS, REPEAT_FIELDS, TOP_KEYS
from tests.conftest import ARCHITECTURES

SCHEMA = spec_schema()
VALIDATOR = jsonschema.Draft7Validator(SCHEMA)


def schema_errors(text: str) -> list[str]:
    """What the schema finds wrong with a spec, read as editors read YAML."""
    return [error.message for error in VALIDATOR.iter_errors(yaml.safe_load(text))]


def parser_accepts(text: str) -> bool:
    try:
        cnncalc.load(text)
    except cnncalc.SpecError:
        return False
    return True


def test_schema_is_valid_draft_7():
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "http://json-schema.org/draft-07/schema#"


def test_cli_prints_the_schema():
    result = CliRunner().invoke(app, ["schema"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == SCHEMA


@pytest.mark.parametrize("path", sorted(ARCHITECTURES.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_bundled_spec_validates(path: Path):
    text = path.read_text(encoding="utf-8")
    assert parser_accepts(text)
    assert schema_errors(text) == []


# --- generated from the declarations, not written twice ---------------------------------------


def test_keys_come_from_the_parser():
    assert list(SCHEMA["properties"]) == list(TOP_KEYS)
    definitions = SCHEMA["definitions"]
    assert {k for k in definitions if k.startswith("kind.")} == {f"kind.{k}" for k in KINDS}
    assert list(definitions["repeat"]["properties"]) == list(REPEAT_FIELDS)
    for kind, cls in KINDS.items():
        schema = definitions[f"kind.{kind}"]
        fields = next(s for s in [schema, *schema.get("anyOf", [])] if s.get("type") == "object")
        own = [f.name for f in cls.fields()]
        aliases = [a for f in cls.fields() for a in f.aliases]
        activation = ["activation"] if cls.takes_activation else []
        assert list(fields["properties"]) == [
            *own, *aliases, *activation, *(k for k in COMMON_FIELDS if k not in own)
        ]  # fmt: skip
        # a required field is required under one of its names
        required = [c["anyOf"] for c in fields.get("allOf", []) if "anyOf" in c]
        assert required == [
            [{"required": [name]} for name in (f.name, *f.aliases)]
            for f in cls.fields()
            if f.required
        ]
        assert schema["description"].startswith(cls.doc)
        for info in cls.fields():
            # the declared fragment is in there, as one branch of what `$...` widens it to
            assert json.dumps(
                info.ftype.schema["oneOf"][0] if "oneOf" in info.ftype.schema else info.ftype.schema
            ) in json.dumps(fields["properties"][info.name])


def test_expressions_widen_every_typed_value():
    expr = {"$ref": "#/definitions/expression"}
    assert with_expressions({"type": "integer", "minimum": 1}) == {
        "anyOf": [{"type": "integer", "minimum": 1}, expr]
    }
    pair = with_expressions(
        {"oneOf": [{"type": "integer"}, {"type": "array", "items": {"type": "integer"}}]}
    )
    # oneOf → anyOf (a `$k` string would match two branches), items widened too, no duplicates
    assert pair == {
        "anyOf": [
            {"type": "integer"},
            expr,
            {"type": "array", "items": {"anyOf": [{"type": "integer"}, expr]}},
        ]
    }
    assert with_expressions({"enum": ["a"]}) == {"anyOf": [{"enum": ["a"]}, expr]}


def test_shorthand_pattern_is_portable_and_case_insensitive():
    pattern = shorthand_pattern()
    assert "(?" not in pattern.replace("(?:", "")  # no inline flags: ECMA 262 has none
    assert ecma_pattern(re.compile("fc(\\d+)", re.I)) == "[fF][cC](\\d+)"
    for text in (
        "Conv4-5-Pvalid-S2",
        "conv3X5-8",
        "CONV3-16-PSAME",
        "pool3",
        "AvgPool2-S1",
        "maxPOOL3",
        "FC10",
        " fc5 ",
    ):
        assert parse_shorthand(text) is not None
        assert re.search(pattern, text), text


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="convpolfcavgmxsdeClMPS0123456789-_ ", max_size=20))
def test_shorthand_pattern_matches_what_the_parser_reads(text: str):
    assert (re.search(shorthand_pattern(), text) is not None) == (parse_shorthand(text) is not None)


# --- accepted by both ----------------------------------------------------------------------------

BLOCKS = """\
input: [32, 32, 3]
blocks:
  unit:
    description: conv, norm, relu; a 1×1 projection on the skip when asked
    args: {width: 16, stride: 1, project: false, k: [3, 3], pad: same, mode: tanh, w: null}
    layers:
      - conv: {name: conv, filters: $width, kernel: $k, stride: $stride, padding: $pad,
               bias: false, dilation: [1, "$(1)"]}
      - batchnorm: {name: bn, eps: $(1e-3), affine: $(w > 0)}
      - gelu: {approximate: $mode, functional: $project}
      - conv: {name: proj, from: input, filters: "$(width)", kernel: 1, stride: $stride,
               when: $project, trainable: "$(not project)"}
      - add: {from: [gelu1, proj]}
    output: add1
layers:
  - Conv3-16-Psame
  - unit: {name: stem, w: 1}
  - repeat: {block: unit, times: 3, name: stage, from: stem, trainable: false,
             args: {width: "$(16 * (i + 1))", stride: "$(2 if i == 0 else 1)",
                    project: true, w: $i}}
  - relu:
  - maxpool: {kernel: 2, padding: [0, 1, 0, 1], ceil_mode: true}
  - global_avgpool: {functional: true}
  - fc10
"""

ACCEPTED = {
    "blocks-repeat-expressions": BLOCKS,
    "bare-and-shorthand": "input: [8, 8, 1]\nlayers: [Conv3-4, relu, Pool2, flatten, FC10]\n",
    "flat-input": "input: [64]\nlayers: [{dense: {units: 10, bias: false}}, softmax]\n",
    "chw": "input: [3, 8, 8]\nlayout: chw\nlayers: [{conv: {filters: 2, kernel: [3, 1]}}]\n",
    "from-and-merges": (
        "name: merge\ndescription: two paths\ninput: [8, 8, 4]\nlayers:\n"
        "  - conv: {name: a, filters: 4, kernel: 1}\n"
        "  - conv: {name: b, from: input, filters: 4, kernel: 1}\n"
        "  - add: {from: [a, b]}\n  - concat: {from: [add1, input]}\n"
        "  - prelu: {per_channel: false}\n  - leaky_relu: {negative_slope: 0.2}\n"
        "  - dropout: {rate: 0.1}\n  - lrn: {size: 3, alpha: 0.0001, beta: 0.75, k: 2}\n"
    ),
    "expect-is-open": "input: [8, 8, 3]\nlayers: [relu]\nexpect: {params: 0}\n",
    "top-level-expression": "input: [8, 8, 3]\nlayers:\n  - conv: {filters: $(2 * 4), kernel: 3}\n",
}


@pytest.mark.parametrize("text", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_accepted_by_both(text: str):
    assert parser_accepts(text)
    assert schema_errors(text) == []


# --- rejected by both ----------------------------------------------------------------------------

H = "input: [8, 8, 3]\nlayers:\n"
BLOCK = "input: [8, 8, 3]\nblocks:\n  b:\n    layers: [relu]\nlayers:\n"
REJECTED = {
    "missing-input": "layers: [relu]\n",
    "missing-layers": "input: [8, 8, 3]\n",
    "unknown-top-level-key": "input: [8, 8, 3]\nlayers: [relu]\ncolour: red\n",
    "input-five-dims": "input: [2, 224, 224, 3, 1]\nlayers: [relu]\n",
    "input-zero": "input: [0, 4, 3]\nlayers: [relu]\n",
    "input-text": "input: 224x224x3\nlayers: [relu]\n",
    "layout-unknown": "input: [8, 8, 3]\nlayout: xyz\nlayers: [relu]\n",
    "name-not-text": "input: [8, 8, 3]\nname: [a]\nlayers: [relu]\n",
    "layers-not-a-list": "input: [8, 8, 3]\nlayers: relu\n",
    "no-layers": "input: [8, 8, 3]\nlayers: []\n",
    "unknown-kind": H + "  - maxpol: {kernel: 2}\n",
    "unknown-bare-kind": H + "  - batchnrom\n",
    "malformed-shorthand": H + "  - Conv4-x\n",
    "shorthand-with-fields": H + "  - Conv3-4: {stride: 2}\n",
    "two-kinds-in-one-entry": H + "  - {relu: null, sigmoid: null}\n",
    "fields-not-a-mapping": H + "  - relu: [1, 2]\n",
    "unknown-field": H + "  - conv: {filters: 4, kernal: 3}\n",
    "missing-field": H + "  - conv: {filters: 4}\n",
    "missing-field-null": H + "  - dense:\n",
    "filters-quoted": H + '  - conv: {filters: "64", kernel: 3}\n',
    "kernel-negative": H + "  - conv: {filters: 4, kernel: -3}\n",
    "stride-zero": H + "  - conv: {filters: 4, kernel: 3, stride: 0}\n",
    "kernel-four-values": H + "  - conv: {filters: 4, kernel: [3, 3, 3, 3]}\n",
    "padding-word": H + "  - conv: {filters: 4, kernel: 3, padding: full}\n",
    "bias-not-boolean": H + "  - conv: {filters: 4, kernel: 3, bias: maybe}\n",
    "rate-out-of-range": H + "  - dropout: {rate: 2}\n",
    "eps-negative": H + "  - batchnorm: {eps: -1}\n",
    "choice-unknown": H + "  - gelu: {approximate: fast}\n",
    "name-with-space": H + "  - relu: {name: two words}\n",
    "name-input": H + "  - relu: {name: input}\n",
    "trainable-not-boolean": H + "  - relu: {trainable: 0}\n",
    "when-text": H + "  - relu: {when: yes please}\n",
    "from-not-a-name": H + "  - relu: {from: 3}\n",
    "from-empty": H + "  - relu: {from: []}\n",
    "expression-outside-a-string": H + "  - conv: {filters: 4, kernel: 3, stride: 1$}\n",
    "repeat-times-zero": BLOCK + "  - repeat: {block: b, times: 0}\n",
    "repeat-times-missing": BLOCK + "  - repeat: {block: b}\n",
    "repeat-misspelled-field": BLOCK + "  - repeat: {block: b, times: 2, arg: {}}\n",
    "repeat-args-not-mapping": BLOCK + "  - repeat: {block: b, times: 2, args: [4]}\n",
    "repeat-times-huge": BLOCK + "  - repeat: {block: b, times: 100000000000}\n",
    "block-named-like-a-kind": "input: [8, 8, 3]\nblocks:\n  conv:\n    layers: [relu]\n"
    "layers: [relu]\n",
    "block-without-layers": "input: [8, 8, 3]\nblocks:\n  b:\n    layer: [relu]\nlayers: [b]\n",
    "block-misspelled-key": "input: [8, 8, 3]\nblocks:\n  b:\n    layers: [relu]\n"
    "    outputs: relu1\nlayers: [b]\n",
    "block-args-not-mapping": "input: [8, 8, 3]\nblocks:\n  b:\n    args: [w]\n"
    "    layers: [relu]\nlayers: [b]\n",
    "blocks-not-a-mapping": "input: [8, 8, 3]\nblocks: [relu]\nlayers: [relu]\n",
    "layer-in-block-bad-field": "input: [8, 8, 3]\nblocks:\n  b:\n    layers:\n"
    "      - conv: {filters: 4, kernel: 3, bias: 1}\nlayers: [b]\n",
}


@pytest.mark.parametrize("text", REJECTED.values(), ids=REJECTED.keys())
def test_rejected_by_both(text: str):
    assert not parser_accepts(text)
    assert schema_errors(text), "the schema accepts what the parser rejects"


# --- the schema accepts whatever the parser accepts ----------------------------------------------

_VALUES: list[Any] = [
    0,
    1,
    2,
    3,
    7,
    -1,
    0.5,
    2.0,
    1e-5,
    True,
    False,
    None,
    "same",
    "valid",
    "SAME",
    "tanh",
    "none",
    "64",
    "$w",
    "$(w * 2)",
    "$(w > 1)",
    "x",
    [1, 2],
    [2, 2],
    [0, 1, 0, 1],
    [1, 2, 3],
    ["$w", 1],
    [],
    {},
]
_NAMES = ["a", "b", "c", "input", "two words", "$w", "x.y"]


def _examples(fragment: dict[str, Any]) -> list[Any]:
    """A few values of the kind a declared field type describes (valid or nearly so)."""
    if "enum" in fragment:
        return list(fragment["enum"])
    for key in ("oneOf", "anyOf"):
        if key in fragment:
            return [v for branch in fragment[key] for v in _examples(branch)]
    kind = fragment.get("type")
    low = fragment.get("minimum", 0)
    if kind == "integer":
        return [low, low + 1, 2, 3]
    if kind == "number":
        return [low, fragment.get("maximum", low + 1), 0.5]
    if kind == "boolean":
        return [True, False]
    if kind == "string":
        return ["Resize", ""]
    if kind == "array":
        item = _examples(fragment["items"])[:2]
        return [[item[0]] * fragment.get("minItems", 2), [item[-1]] * fragment.get("maxItems", 2)]
    return []


def _field_values(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    """A layer's fields: its required ones and a few others with values of their type, and
    now and then a wrong value or an unknown field."""
    infos = KINDS[kind].fields()
    fields = {f.name: st.sampled_from(_examples(f.ftype.schema)) for f in infos}
    fields["from"] = st.sampled_from(["input", ["input", "input"], "a", 3])
    # not `when: false`: the parser skips such a layer without reading its other fields (the
    # schema reads them; the spec is better for it)
    fields["trainable"] = st.sampled_from([True, False, 1])
    fields["when"] = st.sampled_from([True, 1])
    required = [f.name for f in infos if f.required]
    optional = st.lists(st.sampled_from(sorted(fields)), max_size=3, unique=True)
    junk = st.dictionaries(
        st.sampled_from([*(k for k in fields if k != "when"), "bogus"]),
        st.one_of(st.sampled_from(_VALUES), st.sampled_from(_NAMES)),
        max_size=1,
    )
    return st.builds(
        lambda good, bad: {**good, **bad},
        optional.flatmap(
            lambda keys: st.fixed_dictionaries({k: fields[k] for k in {*required, *keys}})
        ),
        st.one_of(st.just({}), st.just({}), junk),
    )


_layer = st.sampled_from(sorted(KINDS)).flatmap(
    lambda kind: st.one_of(
        st.just(kind),
        st.just({kind: None}),
        _field_values(kind).map(lambda fields: {kind: fields}),
    )
)
_plain = st.one_of(_layer, st.sampled_from(["Conv3-4", "pool2", "FC3", "Conv9-x", "avgpool2-s1"]))
_call = st.one_of(
    st.just("b"),
    st.just({"b": {"w": 2}}),
    st.builds(
        lambda times, args: {"repeat": {"block": "b", "times": times, "args": args}},
        st.sampled_from([1, 2, "$(1)", 0]),
        st.dictionaries(st.just("w"), st.sampled_from(_VALUES), max_size=1),
    ),
)


@st.composite
def specs(draw: st.DrawFn) -> dict[str, Any]:
    """A spec: mostly well-formed, each part now and then wrong."""
    shapes = [[16, 16, 4], [16, 16, 4], [16, 16, 4], [32], [32], [8, 8]]
    spec: dict[str, Any] = {"input": draw(st.sampled_from(shapes))}
    blocks = draw(st.booleans())
    if blocks:
        spec["blocks"] = {"b": {"args": {"w": 4}, "layers": draw(st.lists(_plain, max_size=3))}}
    entry = st.one_of(_plain, _plain, _call) if blocks else _plain
    layers = draw(st.lists(entry, min_size=1, max_size=4))
    if blocks:
        # a block the spec never calls is never expanded, so the parser never checks it (the
        # schema does): call it
        layers.insert(draw(st.integers(0, len(layers))), draw(_call))
    spec["layers"] = layers
    return spec


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs())
def test_whatever_the_parser_accepts_the_schema_accepts(spec: dict[str, Any]):
    text = yaml.safe_dump(spec, sort_keys=False)
    if parser_accepts(text):
        assert schema_errors(text) == [], text
