"""Fuzz the QR payload decoder (``make fuzz``).

Three properties, sharing ``--examples`` inputs (default 50,000: half to the first):

* damaged compact payloads of a real credential (digit edits as a misread QR makes them, and any
  byte-level change) decode to exactly the original token, or fail cleanly: ``MalformedToken``,
  or another token that verification refuses (the 10-bit check lets about 1 in 1,000 through);
* arbitrary digit strings of any length up to past the limit raise nothing but
  ``MalformedToken`` and, if they decode to anything but the original, to a token no registered
  key signed;
* arbitrary text and URLs given to ``links.extract_token`` raise nothing but ``MalformedToken``.
"""

from __future__ import annotations

import contextlib
import sys

import _harness
from hypothesis import strategies as st

from tests.test_properties import UNSIGNED, check_payload_mutation, payload_mutations
from verifier.core import jws, links, qr_payload


def main() -> int:
    """Run the three properties; exit status 1 if any failed."""
    args = _harness.arguments(__doc__.splitlines()[0])
    with _harness.world() as world:
        token = world.token
        payload = qr_payload.encode_payload(token)
        assert payload.isdigit(), "the reference credential must take the compact form"

        def damaged(text: object) -> None:
            assert isinstance(text, str)
            check_payload_mutation(world.service, token, text)

        def digits(text: object) -> None:
            assert isinstance(text, str)
            try:
                decoded = qr_payload.decode_payload(text)
            except jws.MalformedToken:
                return
            if decoded != token:  # the untouched payload is among the inputs, and is valid
                assert world.service.verify(decoded).status in UNSIGNED, text

        def extracted(text: object) -> None:
            assert isinstance(text, str)
            with contextlib.suppress(jws.MalformedToken):
                links.extract_token(text)

        limit = qr_payload.MAX_PAYLOAD_DIGITS
        digit_strings = (
            st.text("0123456789", min_size=1, max_size=limit + 10)
            | st.integers(0, 10**200).map(lambda n: f"1{n}")
            | st.integers(0, len(payload)).map(
                lambda cut: payload[:cut] + "0" * (len(payload) - cut)
            )
        )
        urls = st.builds(
            lambda scheme, host, mark, rest, tail: f"{scheme}{host}{mark}{rest}{tail}",
            st.sampled_from(["https://", "HTTP://", "", "skk:"]),
            st.text(max_size=20),
            st.sampled_from(["/v/", "/V/", "/v/v/", "/x/", ""]),
            st.just(payload) | st.text(max_size=300) | digit_strings,
            st.sampled_from(["", "?a=1", "#x", "?", "/", "\n"]),
        )
        return _harness.run_all(
            [
                ("damaged payloads", payload_mutations(payload), damaged, 2),
                ("digit strings", digit_strings, digits, 1),
                ("verify URLs", urls | st.text(max_size=500), extracted, 1),
            ],
            args,
        )


if __name__ == "__main__":
    sys.exit(main())
