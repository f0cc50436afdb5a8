"""Human sentences for verification statuses, in Bahasa Indonesia (default) and English.

The status code is the stable contract; these sentences are for people and may be reworded.
"""

from __future__ import annotations

DEFAULT_LANGUAGE = "id"
LANGUAGES = ("id", "en")

_MESSAGES: dict[str, dict[str, str]] = {
    "valid": {
        "id": "Sertifikat sah dan berlaku.",
        "en": "The certificate is genuine and valid.",
    },
    "malformed": {
        "id": "Kode ini bukan sertifikat SKK yang dapat dibaca.",
        "en": "This code is not a readable SKK certificate.",
    },
    "unknown_issuer": {
        "id": "Penerbit sertifikat tidak terdaftar. Sertifikat tidak dapat dipercaya.",
        "en": "The issuer is not registered. The certificate cannot be trusted.",
    },
    "unknown_key": {
        "id": "Kunci tanda tangan tidak dikenal. Sertifikat tidak dapat dipercaya.",
        "en": "The signing key is unknown. The certificate cannot be trusted.",
    },
    "bad_signature": {
        "id": "Tanda tangan digital tidak cocok. Sertifikat palsu atau telah diubah.",
        "en": "The digital signature does not match. The certificate is forged or altered.",
    },
    "key_revoked": {
        "id": "Kunci tanda tangan penerbit telah dicabut. Sertifikat tidak sah.",
        "en": "The issuer's signing key has been revoked. The certificate is not valid.",
    },
    "level_not_authorized": {
        "id": "Penerbit tidak berwenang untuk jenjang ini. Sertifikat tidak sah.",
        "en": "The issuer is not authorised for this level. The certificate is not valid.",
    },
    "revoked": {
        "id": "Sertifikat telah dicabut dan tidak berlaku.",
        "en": "The certificate has been revoked and is not valid.",
    },
    "suspended": {
        "id": "Sertifikat sedang dibekukan dan tidak berlaku untuk sementara.",
        "en": "The certificate is suspended and not valid for now.",
    },
    "not_yet_valid": {
        "id": "Sertifikat belum berlaku.",
        "en": "The certificate is not valid yet.",
    },
    "expired": {
        "id": "Sertifikat telah kedaluwarsa.",
        "en": "The certificate has expired.",
    },
}


def status_message(status: str, language: str = DEFAULT_LANGUAGE) -> str:
    """The sentence for a status in ``language`` (falls back to Bahasa Indonesia)."""
    texts = _MESSAGES[status]
    return texts.get(language, texts[DEFAULT_LANGUAGE])
