"""The shortcuts taken for speed give exactly what the plain computations give.

Import: positional record constructors, memoized judgment digests, slices JSON and
disagreement masks, the length-prefixed item digest. Export: the document writer (records one
canonical line each). Monitor: the shared bootstrap's single matrix product (equal up to the
last bits of the sums).
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewdesk.domain.hashing import canonical_json, fields_sha256
from reviewdesk.domain.model import (
    ItemRecord,
    JudgeKind,
    JudgmentRecord,
    LabelRecord,
    Message,
    Order,
    ResponseRecord,
    Role,
    Slot,
    Verdict,
    record_maker,
)
from reviewdesk.io import prepared
from reviewdesk.queueing.disagreement import JudgeVerdict, disagreement_reasons, reasons_to_mask
from reviewdesk.services import importing
from reviewdesk.services.gate_inputs import dumps_document
from reviewdesk.stats import homogenization
from reviewdesk.stats.resampling import PRODUCT_BLOCK_CELLS, multiplicities, multiplicity_products

# ------------------------------------------------------------------------------ import records


def test_record_maker_builds_the_same_frozen_records() -> None:
    judgment = (
        "judge",
        JudgeKind.LLM,
        Verdict.A,
        Order.AB,
        0.25,
        {Slot.A: 1.0, Slot.B: 0.0},
        None,
        "why",
    )
    assert record_maker(JudgmentRecord)(*judgment) == JudgmentRecord(*judgment)
    assert repr(record_maker(JudgmentRecord)(*judgment)) == repr(JudgmentRecord(*judgment))
    assert record_maker(ResponseRecord)("m", "t") == ResponseRecord("m", "t")
    assert record_maker(Message)(Role.USER, "hi") == Message(Role.USER, "hi")
    label = ("rev", Verdict.TIE, Slot.B, None, None, 1200, "note")
    assert record_maker(LabelRecord)(*label) == LabelRecord(*label)
    item = ("id", "p", None, {}, 3, {"a": "b"}, None, None, None, {}, (), ())
    made = record_maker(ItemRecord)(*item)
    assert made == ItemRecord(*item)
    assert hash(record_maker(ResponseRecord)("m", "t")) == hash(ResponseRecord("m", "t"))
    try:
        made.item_id = "other"  # type: ignore[misc]
    except AttributeError:
        pass
    else:  # pragma: no cover
        raise AssertionError("records made positionally must stay frozen")


# ------------------------------------------------------------------------------ digests

_NUMBERS = [None, 0, 0.0, -0.0, 1, 1.0, True, False, 0.5, 0.1 + 0.2, 1e-300, math.nan]


def test_judgment_digest_memo_never_conflates_values_repr_tells_apart() -> None:
    prepared._JUDGMENT_DIGESTS.clear()
    for rounds in range(2):  # the second round reads the memo
        for p in _NUMBERS:
            for score in _NUMBERS:
                got = importing.judgment_fields_digest(
                    "code", "A", p, score, score, None, None, None
                )
                want = fields_sha256("judgment/v1", "code", "A", p, score, score, None, None, None)
                assert got == want, (rounds, p, score)
    assert importing.judgment_fields_digest(
        "llm", "B", 0.3, None, None, "full_refusal", None, "a rationale"
    ) == fields_sha256(
        "judgment/v1", "llm", "B", 0.3, None, None, "full_refusal", None, "a rationale"
    )


def test_item_digest_is_unambiguous() -> None:
    digest = importing.item_fields_digest
    base = digest("p", None, "m1", "ab", "m2", "c")
    assert base != digest("p", None, "m1", "a", "m2", "bc")  # a character moved between texts
    assert base != digest("p", None, "m1", "ab", "m2c", "")
    assert digest(None, None, "m", "", "m", "") != digest("", None, "m", "", "m", "")
    assert digest(None, (), "m", "", "m", "") != digest(None, None, "m", "", "m", "")
    assert digest(None, (("user", "hi"),), "m", "", "m", "") != digest(
        None, (("user", "h"),), "m", "i", "m", ""
    )
    assert len(digest("\ud800 lone surrogate", None, "m", "t", "m", "t")) == 64


# ------------------------------------------------------------------------------ memo tables

_VERDICTS = st.sampled_from([Verdict.A, Verdict.B, Verdict.TIE, Verdict.BOTH_BAD, None])
_JUDGMENTS = st.lists(
    st.tuples(
        st.sampled_from(["j1", "j2", "j3"]),
        st.sampled_from(list(Order)),
        _VERDICTS,
        st.one_of(st.none(), st.floats(0, 1), st.sampled_from([0.4, 0.6, 0.5, 0.6000000000001])),
    ),
    max_size=6,
)


@settings(max_examples=300, deadline=None)
@given(_JUDGMENTS)
def test_memoized_disagreement_mask_equals_the_rule(raw: list[tuple[Any, ...]]) -> None:
    judgments = [JudgmentRecord(j, JudgeKind.LLM, v, o, p) for j, o, v, p in raw]
    direct = reasons_to_mask(
        disagreement_reasons(
            JudgeVerdict(j.judge, j.order, j.verdict, j.probability_b)
            for j in judgments
            if j.verdict is not None
        )
    )
    pattern = prepared.reasons_pattern(judgments, importing._LOW_MARGIN)
    assert importing._pattern_mask(pattern) == direct
    assert importing._pattern_mask(pattern) == direct  # and again, from the memo


def test_slices_json_equals_canonical_json() -> None:
    for slices in ({}, {"b": "1", "a": "2"}, {"a": "2", "b": "1"}, {"ü": "é"}):
        assert prepared.slices_json(slices) == canonical_json(slices)
        assert prepared.slices_json(slices) == canonical_json(slices)


# ------------------------------------------------------------------------------ export JSON

_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=6).filter(lambda k: k != "records"), _JSON, max_size=5))
def test_document_writer_equals_json_dumps_without_records(document: dict[str, Any]) -> None:
    expected = (
        json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    )
    assert dumps_document(document) == expected


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(st.text(max_size=6).filter(lambda k: k != "records"), _JSON, max_size=4),
    st.lists(st.dictionaries(st.text(max_size=5), _JSON, max_size=4), max_size=5),
)
def test_document_writer_puts_each_record_on_one_canonical_line(
    head: dict[str, Any], records: list[dict[str, Any]]
) -> None:
    document = head | {"records": records}
    text = dumps_document(document)
    assert json.loads(text) == document
    # The layout: exactly json.dumps(indent=2) around the records, whose elements are one
    # line each of the canonical JSON the .records.jsonl file holds.
    lines = [canonical_json(r) for r in records]
    marks = [f"\0record {n}\0" for n in range(len(records))]  # not drawn by chance
    skeleton = json.dumps(
        head | {"records": marks},
        sort_keys=True,
        indent=2,
        ensure_ascii=False,
        allow_nan=False,
    )
    for mark, line in zip(marks, lines, strict=True):
        skeleton = skeleton.replace(json.dumps(mark), line, 1)
    assert text == skeleton + "\n"
    assert text == dumps_document(document, lines)
    assert all("\n" not in line for line in lines)


def test_document_writer_refuses_non_finite_numbers_like_json_dumps() -> None:
    for bad in (math.nan, math.inf, -math.inf):
        try:
            dumps_document({"x": [bad]})
        except ValueError:
            continue
        raise AssertionError(f"{bad} was written")  # pragma: no cover


# ------------------------------------------------------------------------------ monitor


def test_shared_bootstrap_single_product_equals_one_product_per_request() -> None:
    def run(stacked: bool) -> list[Any]:
        rng_features = np.random.default_rng(5)
        n = 120
        items = np.arange(n)
        boot = homogenization.SharedBootstrap(items, n, 300, np.random.default_rng(9))
        for k in range(4):
            features = rng_features.random((n, 3 + k))

            # odd requests reject about a fifth of the replicates: exercises the redraw rule
            def statistic(sums: np.ndarray, k: int = k) -> tuple[np.ndarray, np.ndarray]:
                ok = np.ones(sums.shape[0], dtype=bool)
                if k % 2:
                    ok = np.floor(sums[:, 0] * 1000) % 5 != 0
                return ok, sums[:, :2] / (1.0 + sums[:, -1:])

            boot.add(items, features, statistic)
        if stacked:
            boot.run()
        else:
            _run_one_product_per_request(boot)
        return [boot.result(h) for h in range(4)]

    for a, b in zip(run(True), run(False), strict=True):
        assert a is not None
        assert b is not None
        assert a.shape == b.shape  # the same valid replicates, redraws and all
        # the same draws and sums; BLAS may add a wider product in another order (last bits)
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=0)


@given(
    n=st.sampled_from([1, 2, 7, 450, PRODUCT_BLOCK_CELLS - 1, PRODUCT_BLOCK_CELLS + 3]),
    rows=st.integers(1, 300),
    k=st.integers(1, 5),
    seed=st.integers(0, 2**32 - 1),
)
@settings(max_examples=25, deadline=None)
def test_block_products_equal_the_one_shot_product(n: int, rows: int, k: int, seed: int) -> None:
    """``multiplicity_products`` (blocks of rows) = ``multiplicities(...) @ features``; a block
    may be a single row (n above the block size) or the whole matrix."""
    rng = np.random.default_rng(seed)
    rows = min(rows, max(1, 2_000_000 // n))
    indices = rng.integers(0, n, size=(rows, n))
    features = rng.normal(size=(n, k)) * 100
    one_shot = multiplicities(indices, n) @ features
    blocks = multiplicity_products(indices, n, features)
    assert blocks.shape == (rows, k)
    np.testing.assert_allclose(blocks, one_shot, rtol=1e-12, atol=1e-9)


def test_shared_bootstrap_grouped_draws_have_the_item_draws_distribution() -> None:
    """Items with identical feature rows (a judge's window: about five kinds of item) draw their
    group counts from one multinomial; the replicates have the distribution of drawing the
    items themselves (the index path above), and the redraw rule still holds."""
    n, n_boot = 400, 6000
    kinds = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    features = kinds[np.random.default_rng(3).integers(0, 4, n)]

    def mean_of_first(sums: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.ones(sums.shape[0], dtype=bool), sums[:, :1] / n

    def rejecting(sums: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ok = sums[:, 1] % 3 != 0  # about a third of the replicates are "undefined"
        return ok, sums[:, 1:2] / n

    def run(grouped: bool) -> list[Any]:
        items = np.arange(n)
        boot = homogenization.SharedBootstrap(items, n, n_boot, np.random.default_rng(11))
        boot.add(items, features, mean_of_first)
        boot.add(items, features, rejecting)
        if grouped:
            boot.run()
        else:
            _run_one_product_per_request(boot)
        return [boot.result(h) for h in range(2)]

    grouped, drawn = run(True), run(False)
    for a, b in zip(grouped, drawn, strict=True):
        assert a is not None
        assert b is not None
        assert a.shape == b.shape == (n_boot, 1)
        se = b.std() / np.sqrt(n_boot)
        assert abs(a.mean() - b.mean()) < 4 * se * np.sqrt(2)
        assert abs(a.std() / b.std() - 1) < 0.06
    assert np.all(np.round(grouped[1] * n) % 3 != 0)  # only valid replicates were kept


def _run_one_product_per_request(self: Any) -> None:
    """The previous implementation of ``SharedBootstrap.run`` (one product per request)."""
    k = len(self.requests)
    kept: list[list[Any]] = [[] for _ in range(k)]
    valid_n, redraws, active = [0] * k, [0] * k, set(range(k))
    rows_per_chunk = max(1, self.max_cells // self.n)
    while active:
        need = max(self.n_boot - valid_n[r] for r in active)
        rows = min(rows_per_chunk, need)
        weights = multiplicities(self.rng.integers(0, self.n, size=(rows, self.n)), self.n)
        for r in sorted(active):
            padded, statistic = self.requests[r]
            ok, out = statistic(weights @ padded)
            positions = np.flatnonzero(ok)
            want = self.n_boot - valid_n[r]
            if positions.size >= want:
                redraws[r] += int(positions[want - 1]) + 1 - want
                kept[r].append(out[positions[:want]])
                valid_n[r] += want
            else:
                redraws[r] += rows - int(positions.size)
                kept[r].append(out[positions])
                valid_n[r] += int(positions.size)
            if redraws[r] > self.n_boot:
                active.discard(r)
                kept[r] = []
            elif valid_n[r] >= self.n_boot:
                active.discard(r)
    self.results = [
        np.asarray(np.concatenate(kept[r], axis=0))
        if valid_n[r] >= self.n_boot and kept[r]
        else None
        for r in range(k)
    ]
