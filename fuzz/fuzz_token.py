"""Fuzz the token parser and the verification pipeline (``make fuzz``).

Three properties, sharing ``--examples`` inputs (default 50,000: half to the first):

* mutations of a valid token (the same strategies as tests/test_properties.py) never verify
  unless they carry the original's signed bytes;
* any text, any bytes read as Latin-1, and tokens assembled from arbitrary JSON get a result:
  ``jws.parse`` raises nothing but ``MalformedToken`` and verification never raises;
* the real header and claims with one member replaced by an arbitrary JSON value never verify.
"""

from __future__ import annotations

import contextlib
import json
import sys
from typing import Any

import _harness
from hypothesis import strategies as st

from tests.test_properties import SIGNATURE_VERIFIED, check_token_mutation, token_mutations
from verifier.core import jws, links
from verifier.core.verify import Status

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=12,
)


def _segment(value: Any) -> str:
    return jws.b64url_encode(json.dumps(value).encode("utf-8", "surrogatepass"))


def assembled_tokens() -> st.SearchStrategy[str]:
    """Three segments from arbitrary JSON values and signature bytes."""
    return st.builds(
        lambda header, payload, signature: (
            f"{_segment(header)}.{_segment(payload)}.{jws.b64url_encode(signature)}"
        ),
        JSON,
        JSON,
        st.binary(max_size=70),
    )


def replaced_member(token: str) -> st.SearchStrategy[str]:
    """The real header and claims, one member's value replaced (or a member added)."""
    parsed = jws.parse(token)
    names = [*parsed.header, *parsed.payload, "extra"]

    def build(name: str, value: Any, signature: bytes) -> str:
        header, payload = dict(parsed.header), dict(parsed.payload)
        (header if name in header else payload)[name] = value
        return f"{_segment(header)}.{_segment(payload)}.{jws.b64url_encode(signature)}"

    return st.builds(
        build,
        st.sampled_from(names),
        JSON,
        st.just(parsed.signature) | st.binary(min_size=64, max_size=64),
    )


def main() -> int:
    """Run the three properties; exit status 1 if any failed."""
    args = _harness.arguments(__doc__.splitlines()[0])
    with _harness.world() as world:
        original = world.token

        def mutation(text: object) -> None:
            assert isinstance(text, str)
            status = check_token_mutation(world.service, original, text)
            try:
                same = links.extract_token(text) == original
            except jws.MalformedToken:
                same = False
            assert (status is Status.VALID) == same, (text, status)

        def anything(text: object) -> None:
            assert isinstance(text, str)
            with contextlib.suppress(jws.MalformedToken):
                jws.parse(text)
            assert world.service.verify(text).status not in SIGNATURE_VERIFIED

        arbitrary = (
            st.text(max_size=600)
            | st.binary(max_size=600).map(lambda data: data.decode("latin-1"))
            | assembled_tokens()
        )
        return _harness.run_all(
            [
                ("token mutations", token_mutations(original), mutation, 2),
                ("arbitrary tokens", arbitrary, anything, 1),
                ("replaced members", replaced_member(original), anything, 1),
            ],
            args,
        )


if __name__ == "__main__":
    sys.exit(main())
