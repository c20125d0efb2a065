"""Bad input: a clear `FILE:LINE:COL: error: MESSAGE` (plus a hint where one helps), never a
traceback. Each case asserts the message and the position of the offending key or value.

Columns are 1-based, counted in the spec line shown next to each case.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cnncalc
from cnncalc import SpecError
from cnncalc.cli import app

H = "input: [8, 8, 3]\nlayers:\n"  # lines 1-2; the layers of a case start on line 3


def write(tmp_path: Path, text: str | bytes, name: str = "spec.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def spec_error(tmp_path: Path, text: str | bytes) -> SpecError:
    """The SpecError that loading `text` from a file raises; checks the FILE:LINE:COL prefix."""
    path = write(tmp_path, text)
    with pytest.raises(SpecError) as info:
        cnncalc.load(str(path))
    err = info.value
    assert err.pos is not None
    assert err.pos.file == str(path)
    assert str(err).startswith(f"{path}:{err.pos.line}:{err.pos.col}: error: {err.message}")
    return err


def check(err: SpecError, line: int, col: int | None, message: str, hint: str | None) -> None:
    assert err.pos is not None
    assert message in err.message
    assert err.pos.line == line, str(err)
    if col is not None:
        assert err.pos.col == col, str(err)
    if hint is not None:  # None: the hint is not checked
        assert err.hint is not None and hint in err.hint, str(err)
        assert str(err).endswith(f"\n  hint: {err.hint}")


# (spec text, line, col, substring of the message, substring of the hint or None: unchecked)
# fmt: off
CASES = [
    # --- YAML itself ------------------------------------------------------------------------
    pytest.param(
        H + "  - conv: {filters: 4, kernel: 3\n  - relu\n",
        5, 1,
        "YAML syntax error",  # then libyaml's words, which are not ours to test
        "the `{` at line 3, column 11 is not closed with `}`",
        id="yaml-unclosed-brace",
    ),
    pytest.param(
        #    "  - conv: {filters: 4, kernel: 3]"  the ] is column 33
        H + "  - conv: {filters: 4, kernel: 3]\n",
        3, 33,
        "YAML syntax error",  # then libyaml's words, which are not ours to test
        "the `{` at line 3, column 11",
        id="yaml-wrong-bracket",
    ),
    pytest.param(
        #    "  - conv: filters: 3"  the second `:` is column 18
        H + "  - conv: filters: 3\n",
        3, 18,
        "YAML syntax error",
        "`- conv: {filters: 64, kernel: 3}`",
        id="yaml-nested-mapping-on-one-line",
    ),
    pytest.param(
        "input: [8, 8, 3]\nlayers:\n\t- relu\n",
        3, 1, "a tab is used for indentation", "indents with spaces only",
        id="tab-indent",
    ),
    pytest.param(
        "input: [8, 8, 3]\nlayers:\n  - conv:\n\t    filters: 3\n",
        4, 1, "a tab is used for indentation", "replace the tab with spaces",
        id="tab-indent-nested",
    ),
    pytest.param(
        #    "  - conv: {filters: 3, kernel: 1, filters: 4}"  the second `filters` is column 35
        H + "  - conv: {filters: 3, kernel: 1, filters: 4}\n",
        3, 35, "duplicate key 'filters' (first at line 3)", "each key may appear once",
        id="duplicate-key-in-layer",
    ),
    pytest.param(
        "input: [8, 8, 3]\ninput: [4, 4, 3]\nlayers: [relu]\n",
        2, 1, "duplicate key 'input' (first at line 1)", "each key may appear once",
        id="duplicate-top-level-key",
    ),
    pytest.param(
        "input: [8, 8, 3]\nlayers: [relu]\n---\ninput: [1]\n",
        3, 1, "more than one YAML document", "remove the second `---`",
        id="two-documents",
    ),
    pytest.param(
        "input: [8, 8, 3]\nlayers: [relu]\n<<: {name: x}\n",
        3, 1, "YAML merge keys (<<) are not supported", "use a block",
        id="merge-key",
    ),
    pytest.param(
        "input: &a [*a]\nlayers: [relu]\n",
        1, 12, "unknown alias *a", "define `&a` on a complete value",
        id="self-referencing-alias",
    ),
    # --- YAML tags: rejected, never constructed ---------------------------------------------
    pytest.param(
        H + "  - !!python/object:os.system {}\n",
        3, 5, "YAML tag !!python/object:os.system is not allowed", "remove the tag",
        id="tag-python-object",
    ),
    pytest.param(
        "input: !!python/object/apply:os.system ['echo hi']\nlayers: [relu]\n",
        1, 8, "YAML tag !!python/object/apply:os.system is not allowed", "remove the tag",
        id="tag-python-apply",
    ),
    pytest.param(
        "input: [8, 8, 3]\nlayers: [relu]\nname: !!python/name:os.system\n",
        3, 7, "YAML tag !!python/name:os.system is not allowed", "remove the tag",
        id="tag-python-name-scalar",
    ),
    pytest.param(
        "input: !custom [8, 8, 3]\nlayers: [relu]\n",
        1, 8, "YAML tag !custom is not allowed", "remove the tag",
        id="tag-local",
    ),
    pytest.param(
        "input: [8, 8, 3]\nlayers: !!set {relu: null}\n",
        2, 9, "YAML tag !!set is not allowed", "remove the tag",
        id="tag-set",
    ),
    # --- the document ----------------------------------------------------------------------
    pytest.param("", 1, 1, "the spec is empty", "needs `input:` and `layers:`", id="empty"),
    pytest.param(
        "# only a comment\n", 1, 1, "the spec is empty", "needs `input:`", id="only-comment"
    ),
    pytest.param(
        "- relu\n", 1, 1, "a spec is a mapping with `input:` and `layers:`", None,
        id="not-a-mapping",
    ),
    pytest.param(
        "layers:\n  - relu\n", 1, 1, "the spec has no `input:`", "`input: [H, W, C]`",
        id="missing-input",
    ),
    pytest.param(
        "input: [8, 8, 3]\n", 1, 1, "the spec has no `layers:`", "`layers: [...]`",
        id="missing-layers",
    ),
    pytest.param(
        "input: [8, 8, 3]\nlayers: []\n", 2, 9, "the spec has no layers", "list them",
        id="no-layers",
    ),
    pytest.param(
        "input: [8, 8, 3]\nlayers: [{relu: {when: false}}]\n",
        2, 9, "the spec has no layers (`when:` skips them all)", None,
        id="all-layers-skipped",
    ),
    pytest.param(
        "input: [8, 8, 3]\nlayers: relu\n", 2, 9, "`layers` must be a list, got 'relu' (text)",
        None, id="layers-not-a-list",
    ),
    pytest.param(
        "input: [8, 8, 3]\nlayer:\n  - relu\n",
        2, 1, "unknown top-level key 'layer'", "did you mean `layers`?",
        id="misspelled-top-level-key",
    ),
    pytest.param(
        "input: [8, 8, 3]\nlayers: [relu]\ncolour: red\n",
        3, 1, "unknown top-level key 'colour'", "top-level keys: name, description, input",
        id="unknown-top-level-key",
    ),
    pytest.param(
        "input: [8, 8, 3]\nname: 42\nlayers: [relu]\n",
        2, 7, "`name` must be text, got 42", None,
        id="network-name-not-text",
    ),
    # --- input and layout -------------------------------------------------------------------
    pytest.param(
        "input: [2, 224, 224, 3, 1]\nlayers: [relu]\n",
        1, 8, "`input` must be [H, W, C] or [N], got [2, 224, 224, 3, 1]", "[D, H, W, C]",
        id="input-five-dims",
    ),
    pytest.param(
        'input: "224x224x3"\nlayers: [relu]\n',
        1, 8, "`input` must be [H, W, C] or [N], got '224x224x3' (text)",
        "write it as a list: `input: [224, 224, 3]`",
        id="input-text",
    ),
    pytest.param(
        "input: [0, 4, 3]\nlayers: [relu]\n",
        1, 8, "`input` dimensions must be positive integers, got [0, 4, 3]", "[224, 224, 3]",
        id="input-zero",
    ),
    pytest.param(
        "input: [8, 8.5, 3]\nlayers: [relu]\n",
        1, 8, "`input` dimensions must be positive integers, got [8, 8.5, 3]", None,
        id="input-float",
    ),
    pytest.param(
        "input: [8, 8, 3]\nlayout: xyz\nlayers: [relu]\n",
        2, 9, "`layout` must be hwc or chw, got 'xyz' (text)", "chw: `input` is [C, H, W]",
        id="layout-unknown",
    ),
    pytest.param(
        "input: [3, 8, 8, 8, 8]\nlayout: chw\nlayers: [relu]\n",
        1, 8, "`input` must be [C, H, W] or [N]", "[C, D, H, W]",
        id="layout-chw-input-five-dims",
    ),
    # --- layer kinds and fields -------------------------------------------------------------
    pytest.param(
        H + "  - maxpol: {kernel: 2}\n",
        3, 5, "unknown layer kind 'maxpol'", "did you mean `maxpool`?",
        id="unknown-kind",
    ),
    pytest.param(
        H + "  - relu\n  - batchnrom\n",
        4, 5, "unknown layer kind 'batchnrom'", "did you mean `batchnorm`?",
        id="unknown-kind-bare",
    ),
    pytest.param(
        H + "  - xyzzy\n",
        3, 5, "unknown layer kind 'xyzzy'", "layer kinds: adaptive_avgpool",
        id="unknown-kind-no-suggestion",
    ),
    pytest.param(
        "input: [8, 8, 3]\nlayers:\n - relu\n  - relu\n",
        3, 4, "unknown layer kind 'relu - relu'", "two list items ran together",
        id="misindented-list-item",
    ),
    pytest.param(
        H + "  - relu: [1, 2]\n",
        3, 11, "the fields of 'relu' must be a mapping, got [1, 2]", "`- relu: {field: value}`",
        id="fields-not-a-mapping",
    ),
    pytest.param(
        H + "  - {relu: null, conv: null}\n",
        3, 5, "a layer is a kind name or a one-key mapping, got a mapping", "write `- relu`",
        id="two-kinds-in-one-entry",
    ),
    pytest.param(
        #    "  - conv: {filters: 4, kernal: 3}"  `kernal` is column 24
        H + "  - conv: {filters: 4, kernal: 3}\n",
        3, 24, "layer conv1: conv has no field 'kernal'", "did you mean `kernel`?",
        id="misspelled-field",
    ),
    pytest.param(
        H + "  - relu: {slope: 3}\n",
        3, 12, "layer relu1: relu has no field 'slope'", "relu fields: name, from",
        id="unknown-field-no-suggestion",
    ),
    pytest.param(
        H + "  - conv: {filters: 4}\n",
        3, 5, "layer conv1: conv needs `kernel`", "add `kernel: ...`",
        id="missing-field",
    ),
    pytest.param(
        #    "  - conv: {filters: "64", kernel: 3}"  the value "64" is column 21
        H + '  - conv: {filters: "64", kernel: 3}\n',
        3, 21, "layer conv1: `filters` expects a positive integer, got '64' (text)",
        "write the number without quotes",
        id="filters-quoted",
    ),
    pytest.param(
        H + "  - conv:\n      filters: '64'\n      kernel: 3\n",
        4, 16, "`filters` expects a positive integer, got '64' (text)", "without quotes",
        id="filters-quoted-block-style",
    ),
    pytest.param(
        #    "  - conv: {filters: 4, kernel: -3}"  -3 is column 32
        H + "  - conv: {filters: 4, kernel: -3}\n",
        3, 32, "layer conv1: `kernel` expects a positive integer, got -3", None,
        id="kernel-negative",
    ),
    pytest.param(
        #    "  - conv: {filters: 4, kernel: 3, stride: 0}"  0 is column 43
        H + "  - conv: {filters: 4, kernel: 3, stride: 0}\n",
        3, 43, "layer conv1: `stride` expects a positive integer, got 0", None,
        id="stride-zero",
    ),
    pytest.param(
        H + "  - conv: {filters: 2.0, kernel: 3}\n",
        3, 21, "`filters` expects a positive integer, got 2.0", "write 2, not 2.0",
        id="filters-float",
    ),
    pytest.param(
        H + "  - conv: {filters: 4, kernel: [3, 3, 3]}\n",
        3, 32, "kernel has 3 values but the input has 2 spatial axes", "every axis",
        id="kernel-three-values",
    ),
    pytest.param(
        H + "  - conv: {filters: 4, kernel: 3, padding: full}\n",
        3, 44, "`padding` expects valid, same, an integer or a list", None,
        id="padding-word",
    ),
    pytest.param(
        H + "  - conv: {filters: 4, kernel: 3, padding: [1, 2, 3]}\n",
        3, 44, "padding has 3 values but the input has 2 spatial axes", "(before, after) pair",
        id="padding-three-values",
    ),
    pytest.param(
        H + "  - conv: {filters: 4, kernel: 3, bias: maybe}\n",
        3, 41, "`bias` expects true or false, got 'maybe' (text)", None,
        id="bias-not-boolean",
    ),
    pytest.param(
        H + "  - dropout: {rate: 2}\n",
        3, 21, "`rate` expects a number from 0 to 1, got 2", None,
        id="rate-out-of-range",
    ),
    pytest.param(
        H + "  - batchnorm: {eps: -1}\n",
        3, 22, "`eps` expects a number ≥ 0, got -1", None,
        id="eps-negative",
    ),
    pytest.param(
        H + "  - gelu: {approximate: fast}\n",
        3, 25, "`approximate` expects one of none, tanh, got 'fast' (text)", None,
        id="choice-unknown",
    ),
    pytest.param(
        H + "  - relu: {name: two words}\n",
        3, 18, "a layer name is text without spaces or commas, got 'two words' (text)", None,
        id="name-with-space",
    ),
    pytest.param(
        H + "  - relu: {trainable: 0}\n",
        3, 23, "`trainable` must be true or false, got 0", "`trainable: false`",
        id="trainable-not-boolean",
    ),
    pytest.param(
        # an unquoted `,` inside $(...) ends the value in a flow mapping: "  - conv: {filters:
        # $(max(2, " is 29 columns, so the leftover "1) * 4)" becomes a key at column 30
        H + "  - conv: {filters: $(max(2, 1) * 4), kernel: 1}\n",
        3, 30, "layer conv1: conv has no field '1) * 4)'", "quote the expression",
        id="comma-in-unquoted-expression",
    ),
    # --- shapes -----------------------------------------------------------------------------
    pytest.param(
        "input: [4, 4, 3]\nlayers:\n  - relu\n  - relu\n"
        "  - conv: {name: conv3, filters: 8, kernel: 5}\n",
        5, 5, "layer conv3: kernel 5 is larger than its 4×4 input", "use a smaller kernel",
        id="kernel-larger-than-input",
    ),
    pytest.param(
        "input: [4, 4, 3]\nlayers:\n  - conv: {filters: 8, kernel: 7, padding: 1}\n",
        3, 5, "layer conv1: kernel 7 is larger than its 4×4 input (padded 6×6)", "more padding",
        id="kernel-larger-than-padded-input",
    ),
    pytest.param(
        "input: [6, 6, 3]\nlayers:\n  - conv: {filters: 8, kernel: 3, dilation: 3}\n",
        3, 5, "kernel 3 with dilation 3 spans 7 is larger than its 6×6 input", None,
        id="dilated-kernel-larger-than-input",
    ),
    pytest.param(
        "input: [8, 4, 3]\nlayers:\n  - maxpool: {kernel: [2, 5]}\n",
        3, 5, "layer maxpool1: kernel 2×5 is larger than its 8×4 input", None,
        id="pool-kernel-larger-than-input",
    ),
    pytest.param(
        #    "  - conv_transpose: {filters: 2, kernel: 1, padding: 1}"  padding's 1 is column 54
        "input: [1, 1, 3]\nlayers:\n  - conv_transpose: {filters: 2, kernel: 1, padding: 1}\n",
        3, 54, "layer conv_transpose1: output size -1 ≤ 0: padding 1+1 crops away all the 1 rows",
        "use less padding",
        id="output-size-not-positive",
    ),
    pytest.param(
        #    "  - conv: {filters: 4, kernel: 3, groups: 2}"  2 is column 43
        H + "  - conv: {filters: 4, kernel: 3, groups: 2}\n",
        3, 43, "layer conv1: groups=2 does not divide the 3 input channels",
        "input channels (3) and the filters (4)",
        id="groups-vs-channels",
    ),
    pytest.param(
        "input: [8, 8, 4]\nlayers:\n  - conv: {filters: 6, kernel: 1, groups: 4}\n",
        3, 43, "groups=4 does not divide the 6 filters", None,
        id="groups-vs-filters",
    ),
    pytest.param(
        #    "  - conv_transpose: {filters: 4, kernel: 3, stride: 2, output_padding: 2}" → col 72
        H + "  - conv_transpose: {filters: 4, kernel: 3, stride: 2, output_padding: 2}\n",
        3, 72,
        "layer conv_transpose1: output_padding 2 must be smaller than the stride (2) or the "
        "dilation (1)",
        "PyTorch's rule",
        id="conv-transpose-output-padding",
    ),
    pytest.param(
        H + "  - conv_transpose: {filters: 4, kernel: 3, output_padding: -1}\n",
        3, 61, "`output_padding` expects an integer ≥ 0, got -1", None,
        id="conv-transpose-output-padding-negative",
    ),
    pytest.param(
        H + "  - conv_transpose: {filters: 4, kernel: 1, stride: 2, padding: same}\n",
        3, 65, "padding same needs kernel ≥ stride for conv_transpose", None,
        id="conv-transpose-same-small-kernel",
    ),
    pytest.param(
        #    "  - maxpool: {kernel: 3, padding: 2}"  2 is column 35
        H + "  - maxpool: {kernel: 3, padding: 2}\n",
        3, 35, "layer maxpool1: padding 2 is more than half the pooling kernel 3",
        "use at most 1",
        id="pool-padding-over-half-kernel",
    ),
    pytest.param(
        H + "  - avgpool: {kernel: 2, padding: [0, 0, 0, 2]}\n",
        3, 35, "padding 2 is more than half the pooling kernel 2", None,
        id="pool-padding-over-half-kernel-right",
    ),
    pytest.param(
        #    "  - add: {from: [input, conv1]}"  the list is column 17
        H + "  - conv: {filters: 4, kernel: 3}\n  - add: {from: [input, conv1]}\n",
        4, 17, "layer add1: cannot add inputs of unequal shapes: input is 8×8×3, conv1 is 6×6×4",
        "needs a projection (1×1 conv)",
        id="add-unequal-shapes",
    ),
    pytest.param(
        H + "  - conv: {filters: 4, kernel: 3}\n  - concat: {from: [input, conv1]}\n",
        4, 20,
        "layer concat1: cannot concatenate inputs of unequal H×W: input is 8×8×3, conv1 is 6×6×4",
        "all inputs need the same height and width",
        id="concat-unequal-hw",
    ),
    pytest.param(
        H + "  - dense: {units: 4}\n  - concat: {from: [input, dense1]}\n",
        4, 20, "cannot concatenate flat vectors with H×W×C tensors: input is 8×8×3, dense1 is 4",
        "flatten",
        id="concat-flat-with-spatial",
    ),
    pytest.param(
        H + "  - global_avgpool\n  - conv: {filters: 4, kernel: 1}\n"
        "  - multiply: {from: [input, conv1]}\n",
        5, 22, "cannot multiply inputs of these shapes: input is 8×8×3, conv1 is 1×1×4",
        "1×1×C against H×W×C",
        id="multiply-channel-mismatch",
    ),
    pytest.param(
        H + "  - dense: {units: 10}\n  - conv: {filters: 4, kernel: 1}\n",
        4, 5, "layer conv1: needs an H×W×C input but gets a flat vector of 10 (from dense1)",
        "cannot follow dense or flatten",
        id="conv-after-dense",
    ),
    pytest.param(
        H + "  - flatten\n  - maxpool: {kernel: 2}\n",
        4, 5, "layer maxpool1: needs an H×W×C input but gets a flat vector of 192", None,
        id="pool-after-flatten",
    ),
    pytest.param(
        H + "  - conv: {filters: 2, kernel: 1, from: [input, input]}\n",
        3, 41, "layer conv1: conv takes one input, got 2", "merge the inputs first",
        id="conv-two-inputs",
    ),
    pytest.param(
        H + "  - add\n",
        3, 5, "layer add1: add needs at least 2 inputs, got 1", "`add: {from: [a, b]}`",
        id="add-one-input",
    ),
    # --- names and `from` -------------------------------------------------------------------
    pytest.param(
        #    "  - add: {from: [conv1, convv]}"  the list is column 17
        H + "  - conv: {filters: 4, kernel: 3}\n  - add: {from: [conv1, convv]}\n",
        4, 17, "unknown layer 'convv' in `from`", "did you mean `conv1`?",
        id="from-misspelled",
    ),
    pytest.param(
        H + "  - relu\n  - relu: {from: zzz}\n",
        4, 18, "unknown layer 'zzz' in `from`", "layers above this one: relu1",
        id="from-unknown",
    ),
    pytest.param(
        H + "  - add: {from: [input, later]}\n  - conv: {name: later, filters: 3, kernel: 1}\n",
        3, 17,
        "layer 'later' is defined further down (line 4); `from` can only name layers above",
        "move this layer below 'later'",
        id="from-forward-reference",
    ),
    pytest.param(
        H + "  - relu: {from: conv1}\n  - relu\n  - conv: {filters: 3, kernel: 1}\n",
        3, 18, "layer 'conv1' is defined further down (line 5)", None,
        id="from-forward-reference-default-name",
    ),
    pytest.param(
        "input: [8, 8, 3]\nblocks:\n  b:\n    layers:\n      - relu\nlayers:\n"
        "  - relu: {from: stage.relu1}\n  - b: {name: stage}\n",
        7, 18, "layer 'stage.relu1' is defined further down (line 8)", None,
        id="from-forward-reference-into-block",
    ),
    pytest.param(
        #    "  - conv: {name: c, from: c, filters: 3, kernel: 1}"  `from`'s c is column 27
        H + "  - conv: {name: c, from: c, filters: 3, kernel: 1}\n",
        3, 27, "layer 'c' takes its input from itself (a cycle)", "a network has no cycles",
        id="from-itself",
    ),
    pytest.param(
        H + "  - relu: {name: a, from: b}\n  - relu: {name: b, from: a}\n",
        3, 27, "layer 'b' is defined further down (line 4)", None,
        id="from-two-layer-cycle",
    ),
    pytest.param(
        H + "  - relu: {from: 3}\n",
        3, 18, "`from` names layers, got 3", "`from: [name1, name2]`",
        id="from-not-a-name",
    ),
    pytest.param(
        H + "  - relu: {from: []}\n",
        3, 18, "`from` is empty", None,
        id="from-empty",
    ),
    pytest.param(
        #    "  - relu: {name: a}"  the second `a` is column 18 of line 4
        H + "  - relu: {name: a}\n  - relu: {name: a}\n",
        4, 18, "duplicate layer name 'a' (first at line 3)", "rename one",
        id="duplicate-name",
    ),
    pytest.param(
        H + "  - relu: {name: input}\n",
        3, 18, "`input` is reserved for the network input", "rename the layer",
        id="name-input-reserved",
    ),
    # --- when -------------------------------------------------------------------------------
    pytest.param(
        H + "  - relu: {when: 1}\n",
        3, 18, "`when` must be true or false, got 1", "`when: $(i == 0)`",
        id="when-int",
    ),
    pytest.param(
        H + "  - relu: {when: yes please}\n",
        3, 18, "`when` must be true or false, got 'yes please' (text)", None,
        id="when-text",
    ),
    pytest.param(
        "input: [8, 8, 3]\nblocks:\n  b:\n    args: {w: 4}\n    layers:\n"
        "      - relu: {when: $w}\n"
        "layers:\n  - b\n",
        6, 22, "`when` must be true or false, got 4", None,
        id="when-argument-not-boolean",
    ),
    # --- shorthand inside YAML ----------------------------------------------------------------
    pytest.param(
        H + "  - Conv4-x\n",
        3, 5, "malformed shorthand layer 'Conv4-x'", "Conv<k>-<filters>",
        id="yaml-malformed-shorthand",
    ),
    pytest.param(
        H + "  - Conv3-16: {stride: 2}\n",
        3, 5, "shorthand layer 'Conv3-16' takes no fields", "`- Conv3-16` on its own",
        id="yaml-shorthand-with-fields",
    ),
]
# fmt: on


@pytest.mark.parametrize(("text", "line", "col", "message", "hint"), CASES)
def test_spec_error(tmp_path, text, line, col, message, hint):
    check(spec_error(tmp_path, text), line, col, message, hint)


def test_error_text_is_file_line_col_error_message_hint(tmp_path):
    err = spec_error(tmp_path, H + "  - maxpol: {kernel: 2}\n")
    assert str(err) == (
        f"{tmp_path / 'spec.yaml'}:3:5: error: unknown layer kind 'maxpol'\n"
        "  hint: did you mean `maxpool`?"
    )


def test_empty_layers_message_is_exact(tmp_path):
    err = spec_error(tmp_path, "input: [8, 8, 3]\nlayers: []\n")
    assert err.message == "the spec has no layers"


# --- blocks, repeat and expressions ------------------------------------------------------------

BLOCK = (
    "input: [8, 8, 3]\n"  # 1
    "blocks:\n"  # 2
    "  b:\n"  # 3
    "    args: {w: null, k: 1}\n"  # 4: w is required (null default)
    "    layers:\n"  # 5
    "      - conv: {filters: $w, kernel: $k}\n"  # 6: $w at column 25, $k at 37
    "layers:\n"  # 7
)

# fmt: off
BLOCK_CASES = [
    pytest.param(
        BLOCK + "  - b: {w: 4, ww: 3}\n",
        8, 15, "block b has no argument 'ww'", "did you mean `w`?",
        id="block-unknown-argument",
    ),
    pytest.param(
        BLOCK + "  - b: {w: 4, size: 3}\n",
        8, 15, "block b has no argument 'size'", "its arguments: w, k",
        id="block-unknown-argument-no-suggestion",
    ),
    pytest.param(
        BLOCK + "  - b\n",
        8, 5, "block b needs argument `w` (declared without a default at line 4)",
        "pass it: `- b: {w: ...}`",
        id="block-missing-argument",
    ),
    pytest.param(
        BLOCK + "  - b: {w: 4, k: 0}\n",
        6, 37, "layer b1.conv1: `kernel` expects a positive integer, got 0", None,
        id="block-bad-argument-value",
    ),
    pytest.param(
        BLOCK + "  - repeat: {block: b, times: 0, args: {w: 4}}\n",
        8, 31, "repeat needs `times:` a positive integer, got 0", "times: 3}",
        id="repeat-times-zero",
    ),
    pytest.param(
        BLOCK + "  - repeat: {block: b, times: three, args: {w: 4}}\n",
        8, 31, "repeat needs `times:` a positive integer, got 'three' (text)", None,
        id="repeat-times-text",
    ),
    pytest.param(
        BLOCK + "  - repeat: {block: b, times: 2.5, args: {w: 4}}\n",
        8, 31, "repeat needs `times:` a positive integer, got 2.5", None,
        id="repeat-times-float",
    ),
    pytest.param(
        BLOCK + "  - repeat: {block: b, args: {w: 4}}\n",
        8, 5, "repeat needs `times:` a positive integer, got nothing (null)", None,
        id="repeat-times-missing",
    ),
    pytest.param(
        BLOCK + "  - repeat: {block: b, times: 100000000000, args: {w: 4}}\n",
        8, 31, "the spec expands to more than 100,000 layers", "check `times:`",
        id="repeat-times-huge",
    ),
    pytest.param(
        BLOCK + "  - repeat: {block: bb, times: 2}\n",
        8, 21, "repeat needs `block:` naming a defined block, got 'bb' (text)",
        "did you mean `b`?",
        id="repeat-unknown-block",
    ),
    pytest.param(
        BLOCK + "  - repeat: {block: b, times: 2, arg: {w: 4}}\n",
        8, 34, "repeat has no field 'arg'", "did you mean `args`?",
        id="repeat-misspelled-field",
    ),
    pytest.param(
        BLOCK + "  - repeat: {block: b, times: 2, args: [4]}\n",
        8, 40, "`args` must be a mapping, got [4]", None,
        id="repeat-args-not-mapping",
    ),
    pytest.param(
        "input: [8, 8, 3]\nblocks:\n  b:\n    layers:\n      - relu\n      - b\nlayers:\n  - b\n",
        6, 9, "block b calls itself endlessly (b → b → …)", "a `when:` that ends the recursion",
        id="block-recursive",
    ),
    pytest.param(
        "input: [8, 8, 3]\nblocks:\n  a:\n    layers:\n      - b\n  b:\n    layers:\n"
        "      - a\nlayers:\n  - a\n",
        8, 9, "block a calls itself endlessly (a → b → a → …)", None,
        id="block-mutually-recursive",
    ),
    pytest.param(
        "input: [8, 8, 3]\nblocks:\n  conv:\n    layers: [relu]\nlayers: [relu]\n",
        3, 3, "block name 'conv' is a layer kind", "choose another name",
        id="block-named-like-a-kind",
    ),
    pytest.param(
        "input: [8, 8, 3]\nblocks:\n  b:\n    layer: [relu]\nlayers: [relu]\n",
        4, 5, "block 'b' needs `layers:`", None,
        id="block-without-layers",
    ),
    pytest.param(
        "input: [8, 8, 3]\nblocks:\n  b:\n    layers: [relu]\n    outputs: relu1\nlayers: [b]\n",
        5, 5, "block 'b' has no key 'outputs'", "did you mean `output`?",
        id="block-misspelled-key",
    ),
    pytest.param(
        "input: [8, 8, 3]\nblocks:\n  b:\n    output: nope\n    layers: [relu]\nlayers: [b]\n",
        5, 13, "unknown layer 'nope' in `output` of block b", "layers here: relu1",
        id="block-unknown-output",
    ),
    pytest.param(
        "input: [8, 8, 3]\nblocks: [relu]\nlayers: [relu]\n",
        2, 9, "`blocks` must be a mapping of block names", None,
        id="blocks-not-a-mapping",
    ),
    # expressions: the position is the value holding the `$(...)`
    pytest.param(
        BLOCK.replace("$w,", "$(wx * 2),") + "  - b: {w: 4}\n",
        6, 25, "unknown name 'wx' in an expression", "did you mean `w`? (arguments here: k, w)",
        id="expression-unknown-name",
    ),
    pytest.param(
        BLOCK.replace("$w,", "$(w * ),") + "  - b: {w: 4}\n",
        6, 25, "cannot read the expression $(w * ): invalid syntax",
        "expressions allow numbers",
        id="expression-syntax-error",
    ),
    pytest.param(
        BLOCK.replace("$w,", "$(w // (k - 1)),") + "  - b: {w: 4}\n",
        6, 25, "cannot evaluate $(w // (k - 1)): division by zero", None,
        id="expression-division-by-zero",
    ),
    pytest.param(
        BLOCK.replace("$w,", "$(w.bit_length()),") + "  - b: {w: 4}\n",
        6, 25, "unsupported expression 'w.bit_length()'", "min, max, int",
        id="expression-attribute",
    ),
    pytest.param(
        BLOCK.replace("$w,", "$(__import__('os')),") + "  - b: {w: 4}\n",
        6, 25, "unsupported expression", None,
        id="expression-import",
    ),
    pytest.param(
        BLOCK.replace("$w,", "$(w ** 1000),") + "  - b: {w: 4}\n",
        6, 25, "exponent too large in an expression", None,
        id="expression-huge-power",
    ),
    pytest.param(
        # 4 ** 64 has 129 bits; to the 64th it would have 8,256 > 4,096
        BLOCK.replace("$w,", "$((w ** 64) ** 64),") + "  - b: {w: 4}\n",
        6, 25, "a number in an expression is too large", None,
        id="expression-power-tower",
    ),
    pytest.param(
        BLOCK.replace("$w,", "$('x' * 10 ** 9),") + "  - b: {w: 4}\n",
        6, 25, "text built by an expression is too long", None,
        id="expression-huge-text",
    ),
    pytest.param(
        BLOCK + "  - b: {w: $(q + 1)}\n",
        8, 12, "unknown name 'q' in an expression", "arguments here: none",
        id="expression-in-call-unknown-name",
    ),
]
# fmt: on


@pytest.mark.parametrize(("text", "line", "col", "message", "hint"), BLOCK_CASES)
def test_block_and_expression_error(tmp_path, text, line, col, message, hint):
    check(spec_error(tmp_path, text), line, col, message, hint)


def test_python_tags_are_never_constructed(tmp_path):
    marker = tmp_path / "constructed"
    text = f"input: !!python/object/apply:builtins.open [{str(marker)!r}, 'w']\nlayers: [relu]\n"
    err = spec_error(tmp_path, text)
    check(
        err, 1, 8, "YAML tag !!python/object/apply:builtins.open is not allowed", "remove the tag"
    )
    assert not marker.exists()


# --- resource limits: quick, clean errors ------------------------------------------------------


def billion_laughs() -> str:
    """9 levels of 9 aliases: 9⁹ ≈ 387 million strings once expanded."""
    lines = ["a: &a [" + ", ".join(['"lol"'] * 9) + "]"]
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    return "\n".join([*lines, "input: [8, 8, 3]", "layers: [relu]", ""])


def test_alias_bomb_is_rejected_quickly(tmp_path):
    start = time.process_time()
    err = spec_error(tmp_path, billion_laughs())
    assert time.process_time() - start < 1.0
    # sizes: a = 10 nodes, b = 1 + 9·10 = 91, c = 820, d = 7,381, e = 66,430, f = 597,871,
    # g = 5,380,840 > 2,000,000: the value of `g` (line 7, column 4) is where it goes off
    check(
        err,
        7,
        4,
        "this YAML value expands to more than 2,000,000 values through aliases (an alias bomb?)",
        "a spec never needs aliases",
    )


def test_aliases_of_moderate_size_are_fine(tmp_path):
    path = write(tmp_path, "input: &shape [8, 8, 3]\nexpect: {shape: *shape}\nlayers: [relu]\n")
    assert cnncalc.load(str(path)).input_shape == (8, 8, 3)


@pytest.mark.parametrize("depth", [65, 10_000, 1_000_000])
def test_deep_nesting_is_a_clean_error(tmp_path, depth):
    # "layers: " is 8 columns; bracket k is at column 8 + k, at nesting depth k (the top-level
    # mapping is depth 0): bracket 65 (column 73) is the first deeper than 64
    start = time.process_time()
    err = spec_error(tmp_path, "input: [8, 8, 3]\nlayers: " + "[" * depth + "]" * depth + "\n")
    assert time.process_time() - start < 1.0
    check(err, 2, 73, "the YAML is nested more than 64 levels deep", "runaway brackets")


def test_deep_nested_mappings_are_a_clean_error(tmp_path):
    text = "input: [8, 8, 3]\nlayers: " + "{a: " * 10_000 + "1" + "}" * 10_000 + "\n"
    err = spec_error(tmp_path, text)
    # each "{a: " is 4 columns; mapping 65 starts at column 9 + 64·4 = 265
    check(err, 2, 265, "the YAML is nested more than 64 levels deep", "runaway brackets")


def test_nesting_of_64_levels_is_allowed(tmp_path):
    path = write(tmp_path, "input: [8, 8, 3]\nlayers: [relu]\nexpect: " + "[" * 64 + "]" * 64)
    assert len(cnncalc.load(str(path))) == 1


# --- files --------------------------------------------------------------------------------------


def test_nonexistent_file(tmp_path):
    path = tmp_path / "missing.yaml"
    with pytest.raises(SpecError) as info:
        cnncalc.load(str(path))
    assert str(info.value) == f"{path}: error: no such file"


def test_nonexistent_path_object(tmp_path):
    path = tmp_path / "missing"
    with pytest.raises(SpecError, match="no such file"):
        cnncalc.load(path)


def test_directory(tmp_path):
    write(tmp_path, "input: [8, 8, 3]\nlayers: [relu]\n", "net.yaml")
    with pytest.raises(SpecError) as info:
        cnncalc.load(str(tmp_path))
    err = info.value
    assert str(err).startswith(f"{tmp_path}: error: is a directory, not a spec file")
    assert err.hint == "pass one of its spec files: net.yaml"


def test_non_utf8_file(tmp_path):
    # "  - relu: {name: caf" is 20 characters: the Latin-1 é (0xe9) is column 21
    err = spec_error(tmp_path, b"input: [8, 8, 3]\nlayers:\n  - relu: {name: caf\xe9}\n")
    check(
        err, 3, 21, "the file is not UTF-8 text: byte 0xe9 is not valid UTF-8", "save it as UTF-8"
    )


def test_non_utf8_column_counts_characters(tmp_path):
    # "# 3×3 " has the 2-byte ×: the bad byte is character 7 of line 1
    err = spec_error(tmp_path, "# 3×3 ".encode() + b"\xff\ninput: [8, 8, 3]\n")
    check(err, 1, 7, "byte 0xff is not valid UTF-8", "save it as UTF-8")


def test_utf16_file(tmp_path):
    err = spec_error(tmp_path, "input: [8, 8, 3]\nlayers: [relu]\n".encode("utf-16"))
    check(err, 1, 1, "the file is UTF-16 text", "save it as UTF-8")


# --- the shorthand -------------------------------------------------------------------------------

# fmt: off
SHORTHAND_CASES = [
    pytest.param("Conv4-x,FC3", 1, "malformed shorthand layer 'Conv4-x'", "Conv<k>-<filters>",
                 id="conv-bad-filters"),
    pytest.param("Conv4-5,Pool", 9, "malformed shorthand layer 'Pool'", "Pool<k>",
                 id="pool-without-size"),
    pytest.param("Conv4-5,FC", 9, "malformed shorthand layer 'FC'", "FC<units>[-NB], e.g. FC10",
                 id="fc-without-units"),
    pytest.param("Conv4-5, maxpool2-x", 10, "malformed shorthand layer 'maxpool2-x'",
                 "Pool<k>", id="pool-bad-suffix"),
    pytest.param("Conv4-5,", 9, "trailing comma at the end of the shorthand", "single commas",
                 id="trailing-comma"),
    pytest.param("Conv4-5,,FC3", 9, "empty layer between two commas", "single commas",
                 id="double-comma"),
    pytest.param(",FC3", 1, "the shorthand starts with a comma", "single commas",
                 id="leading-comma"),
    pytest.param("Conv4-5, Pool3-S0", 10,
                 "layer maxpool1: `stride` expects a positive integer", None,
                 id="pool-stride-zero"),
    pytest.param("Conv4-0,FC3", 1, "layer conv1: `filters` expects a positive integer, got 0",
                 None, id="conv-zero-filters"),
    pytest.param("Conv9-5,FC3", 1, "layer conv1: kernel 9 is larger than its 4×4 input",
                 "use a smaller kernel", id="kernel-too-large"),
    pytest.param("Conv2-4,Dense3", 9, "unknown layer kind 'Dense3'", "did you mean `dense`?",
                 id="unknown-kind"),
]
# fmt: on


@pytest.mark.parametrize(("text", "col", "message", "hint"), SHORTHAND_CASES)
def test_shorthand_error(text, col, message, hint):
    with pytest.raises(SpecError) as info:
        cnncalc.load(text, input_shape=(4, 4, 1))
    err = info.value
    assert str(err).startswith(f"<shorthand>:1:{col}: error: ")
    check(err, 1, col, message, hint)


def test_shorthand_needs_an_input_shape():
    with pytest.raises(SpecError) as info:
        cnncalc.load("Conv4-5,FC3")
    assert str(info.value).startswith("<shorthand>: error: a shorthand network needs --input")


@pytest.mark.parametrize("text", ["Conv4-x", "Pool", "FC"])
def test_lone_malformed_shorthand_is_a_spec_error(text):
    # a single item without a comma may be a file or zoo name too; the loader says so
    with pytest.raises(SpecError) as info:
        cnncalc.load(text, input_shape=(4, 4, 1))
    assert repr(text) in str(info.value)


# --- the command line: exit code 2 and the error on stderr, never a traceback -------------------

# fmt: off
CLI_CASES = [
    pytest.param("", "1:1", id="empty"),
    pytest.param(H + "  - maxpol: {kernel: 2}\n", "3:5", id="unknown-kind"),
    pytest.param(H + '  - conv: {filters: "64", kernel: 3}\n', "3:21", id="wrong-type"),
    pytest.param(H + "  - conv: {filters: 4, kernel: 3\n  - relu\n", "5:1", id="yaml-syntax"),
    pytest.param("input: [8, 8, 3]\nlayers:\n\t- relu\n", "3:1", id="tab"),
    pytest.param(H + "  - add: {from: [input, later]}\n  - relu: {name: later}\n", "3:17",
                 id="forward-reference"),
    pytest.param(H + "  - !!python/object:os.system {}\n", "3:5", id="python-tag"),
    pytest.param(billion_laughs(), "7:4", id="alias-bomb"),
    pytest.param("input: [8, 8, 3]\nlayers: " + "[" * 10_000 + "]" * 10_000 + "\n", "2:73",
                 id="deep-nesting"),
    pytest.param(
        "input: [8, 8, 3]\nblocks:\n  b:\n    layers:\n      - b\nlayers:\n  - b\n", "5:9",
        id="recursive-block",
    ),
    pytest.param(b"input: [8, 8, 3]\nlayers: [\xff]\n", "2:10", id="non-utf8"),
]
# fmt: on


@pytest.mark.parametrize(("text", "where"), CLI_CASES)
def test_cli_exit_code_2_without_traceback(tmp_path, text, where):
    path = write(tmp_path, text)
    result = CliRunner().invoke(app, ["params", str(path)])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # not an uncaught exception
    assert "Traceback" not in result.output
    assert result.stderr.startswith(f"{path}:{where}: error: ")
    assert result.stdout == ""


@pytest.mark.parametrize("name", ["missing.yaml", "."])
def test_cli_unreadable_paths(tmp_path, name):
    path = tmp_path / name
    result = CliRunner().invoke(app, ["params", str(path)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.stderr.startswith(f"{path}: error: ")


def test_functional_on_a_block_call_is_an_error(tmp_path):
    text = "input: [8, 8, 3]\nblocks:\n  b: {layers: [relu]}\nlayers:\n  - b: {functional: true}\n"
    # "  - b: {" is 8 characters: `functional` starts at line 5, column 9
    check(spec_error(tmp_path, text), 5, 9, "not to a block call", "inside block b")


def test_block_default_with_a_later_argument_is_an_error(tmp_path):
    text = (
        "input: [8, 8, 3]\n"
        "blocks:\n"
        "  b:\n"
        "    args: {out: $(width * 4), width: 4}\n"
        "    layers: [relu]\n"
        "layers: [b]\n"
    )
    # "    args: {out: " is 16 characters: the default starts at line 4, column 17
    check(spec_error(tmp_path, text), 4, 17, "default of `out`", "declared before it (none)")


def test_dilated_pool_padding_follows_pytorch(tmp_path):
    # PyTorch: MaxPool2d(3, dilation=2, padding=2) fails ("pad should be smaller than or equal
    # to half of kernel size"): the limit is ⌊3/2⌋ = 1, not half the dilated span of 5
    text = "input: [8, 8, 1]\nlayers:\n  - maxpool: {kernel: 3, dilation: 2, padding: 2}\n"
    check(spec_error(tmp_path, text), 3, 48, "more than half the pooling kernel 3", "at most 1")
