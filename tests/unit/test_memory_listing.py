"""The memory store's document listing (kept sorted, and remembered, between writes)
lists what a plain scan of the documents would: after puts, deletes and rolled-back
savepoints, and after a caller changed a listing it was given."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from orderflow.adapters.memory import MemoryStore

keys = st.text(alphabet="ab/1", max_size=4)
ops = st.lists(
    st.tuples(st.sampled_from(["put", "delete", "fail"]), st.sampled_from(["k1", "k2"]), keys),
    max_size=25,
)


class _Undo(Exception):
    pass


@settings(max_examples=200)
@given(ops, st.lists(keys, min_size=1, max_size=4))
def test_listing_matches_a_scan_of_the_documents(
    steps: list[tuple[str, str, str]], prefixes: list[str]
) -> None:
    store = MemoryStore()
    model: dict[str, dict[str, str]] = {"k1": {}, "k2": {}}
    with store.transaction() as tx:
        for op, kind, key in steps:
            if op == "put":
                tx.put_doc(kind, key, f"{op}{key}")
                model[kind][key] = f"{op}{key}"
            elif op == "delete":
                tx.delete_doc(kind, key)
                model[kind].pop(key, None)
            else:  # a write undone by its savepoint
                try:
                    with tx.savepoint():
                        tx.put_doc(kind, key + "x", "gone")
                        tx.delete_doc(kind, key)
                        raise _Undo
                except _Undo:
                    pass
            for prefix in prefixes:
                for kind_ in ("k1", "k2"):
                    docs = model[kind_]
                    expected = sorted((k, b) for k, b in docs.items() if k.startswith(prefix))
                    assert tx.docs(kind_, prefix) == expected
                    assert tx.docs(kind_, prefix, limit=1) == expected[:1]
                    # a listing is the caller's: changing it changes no later one
                    tx.docs(kind_, prefix).append(("~", "changed by a caller"))
