"""Checkpoints and signed notes: published C2SP and Go sumdb/note examples."""

from __future__ import annotations

import base64

import pytest

from orderflow import _extras
from orderflow.audit import (
    Checkpoint,
    CheckpointSigner,
    Ed25519Signer,
    Ed25519Verifier,
    MerkleTree,
    SignatureStatus,
    SignedNote,
    leaf_hash,
    open_checkpoint,
    open_note,
    sign_note,
)
from orderflow.audit import note as note_module
from orderflow.exceptions import InputError, MissingExtra, ProofError

# golang.org/x/mod/sumdb/note: note.go doc example and note_test.go TestSign.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_SIG = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfq"
    "dngotpRZb6KE6RyyBwJnAM=\n"
)
# C2SP signed-note.md example.
C2SP_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
C2SP_NOTE = (
    "This is an example message.\n\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2"
    "ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)
# C2SP tlog-checkpoint.md example body.
C2SP_CHECKPOINT = (
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
)


def test_go_sumdb_note_signature_is_reproduced_exactly() -> None:
    signer = Ed25519Signer.from_skey(GO_SKEY)
    assert signer.verifier.vkey() == GO_VKEY
    assert signer.skey() == GO_SKEY
    assert sign_note(GO_TEXT, signer) == GO_TEXT + "\n" + GO_SIG
    check = open_note(GO_TEXT + "\n" + GO_SIG, [Ed25519Verifier.from_vkey(GO_VKEY)])
    assert check.status is SignatureStatus.VERIFIED
    assert check.signed_by == ("PeterNeumann",)
    assert check.text == GO_TEXT


def test_c2sp_example_note_verifies_and_tampering_does_not() -> None:
    verifier = Ed25519Verifier.from_vkey(C2SP_VKEY)
    assert verifier.key_id == 0x530D903A
    assert open_note(C2SP_NOTE, [verifier]).status is SignatureStatus.VERIFIED
    with pytest.raises(ProofError, match="does not verify"):
        open_note(C2SP_NOTE.replace("example message", "exemplary message"), [verifier])


def test_c2sp_example_checkpoint_parses_and_round_trips() -> None:
    cp = Checkpoint.parse(C2SP_CHECKPOINT)
    assert cp.origin == "example.com/behind-the-sofa"
    assert cp.size == 20852163
    assert cp.root == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert cp.to_text() == C2SP_CHECKPOINT
    ext = Checkpoint(cp.origin, cp.size, cp.root, ("extension line",))
    assert Checkpoint.parse(ext.to_text()) == ext


@pytest.mark.parametrize(
    "text",
    [
        "",
        "origin\n1\n",
        "origin\n01\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "origin\n-1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "origin\n1\nnot base64!\n",
        "origin\n1\nAAAA\n",
        "\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "origin\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=",
        "origin\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n",
    ],
)
def test_malformed_checkpoints_are_input_errors(text: str) -> None:
    with pytest.raises(InputError):
        Checkpoint.parse(text)


def test_verifier_key_manglings_are_refused() -> None:
    for bad in (
        GO_VKEY[:-1],
        GO_VKEY.replace("c74f20a3", "c74f20a4"),
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3",
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ):
        with pytest.raises(InputError):
            Ed25519Verifier.from_vkey(bad)
    with pytest.raises(InputError):
        Ed25519Signer.from_skey(GO_SKEY.replace("c74f20a3", "c74f20a4"))


def test_unknown_signers_are_ignored_but_one_known_signature_is_required() -> None:
    signer, other = Ed25519Signer.generate("log.example"), Ed25519Signer.generate("witness")
    note = sign_note("hello\n", other, signer)
    check = open_note(note, [signer.verifier])
    assert check.signed_by == ("log.example",)
    with pytest.raises(ProofError, match="no signature"):
        open_note(sign_note("hello\n", other), [signer.verifier])
    parsed = SignedNote.parse(note)
    assert [s.name for s in parsed.signatures] == ["witness", "log.example"]
    assert parsed.to_text() == note


@pytest.mark.parametrize(
    "bad",
    ["hello\n", "hello\n\n", "hello\n\nsig\n", "hello\n\n— name\n", "he\tllo\n\n— a AAAAAAA=\n"],
)
def test_malformed_notes_are_input_errors(bad: str) -> None:
    with pytest.raises(InputError):
        SignedNote.parse(bad)


def test_without_cryptography_the_signature_is_reported_unchecked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    verifier = Ed25519Verifier.from_vkey(C2SP_VKEY)

    def missing(module: str, extra: str) -> object:
        raise MissingExtra(extra, module)

    monkeypatch.setattr(note_module, "require", missing)
    check = open_note(C2SP_NOTE, [verifier])
    assert check.status is SignatureStatus.UNCHECKED
    assert str(check.status) == "signature unchecked"
    assert "cryptography" in check.reason
    assert check.signed_by == ()
    with pytest.raises(MissingExtra, match=r'pip install "orderflow\[signing\]"'):
        Ed25519Signer.from_skey(GO_SKEY)
    assert _extras.require is not missing


def test_checkpoint_signer_refuses_inconsistent_checkpoints() -> None:
    tree = MerkleTree([leaf_hash(bytes([i])) for i in range(10)])
    signer = CheckpointSigner(Ed25519Signer.generate("plant1.example/audit"))
    cp4 = Checkpoint("plant1.example/audit", 4, tree.root(4))
    cp7 = Checkpoint("plant1.example/audit", 7, tree.root(7))
    note4 = signer.sign(cp4)
    checkpoint, check = open_checkpoint(note4, [signer.signer.verifier])
    assert checkpoint == cp4 and check.status is SignatureStatus.VERIFIED
    with pytest.raises(ProofError, match="refusing"):
        signer.sign(cp7, tree.consistency_proof(3, 7))
    forked = Checkpoint("plant1.example/audit", 7, leaf_hash(b"fork"))
    with pytest.raises(ProofError, match="refusing"):
        signer.sign(forked, tree.consistency_proof(4, 7))
    with pytest.raises(ProofError, match="smaller"):
        signer.sign(Checkpoint("plant1.example/audit", 3, tree.root(3)))
    with pytest.raises(ProofError, match="origin"):
        signer.sign(Checkpoint("other", 7, tree.root(7)), tree.consistency_proof(4, 7))
    assert signer.previous == cp4
    signer.sign(cp7, tree.consistency_proof(4, 7))
    assert signer.previous == cp7
    with pytest.raises(InputError, match="no signature"):
        open_checkpoint(cp7.to_text(), [signer.signer.verifier])
