"""QR images: rendering verify links as SVG and PNG (also in parallel), and reading them back.

The link itself and its payload are pure text and live in the core (:mod:`verifier.core.links`,
:mod:`verifier.core.qr_payload`); this package adds the image libraries (segno, zxing-cpp, Pillow).
"""
