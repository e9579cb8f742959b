"""Media files generated locally for upload bursts: images and PDFs of realistic, seeded sizes.

Bytes start with the right magic numbers (JPEG SOI, PNG signature, ``%PDF-``) so a vendor that sniffs types
accepts them; the rest is seeded noise. A small set is built once per worker and reused by index, so
generating media never competes with sending it for the worker's CPU.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

_JPEG_HEAD = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
_JPEG_TAIL = b"\xff\xd9"
_PDF_HEAD = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
_PDF_TAIL = b"\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


@dataclass(frozen=True)
class MediaFile:
    content: bytes
    mime_type: str
    filename: str
    kind: str  # image | document


class MediaSet:
    def __init__(self, *, seed: int = 0, variants: int = 8, max_image_kb: int = 800, max_pdf_kb: int = 2048) -> None:
        rng = random.Random(f"scrmbench-media-{seed}")
        files: list[MediaFile] = []
        for index in range(variants):
            if index % 3 == 2:  # one in three is a PDF contract
                size = rng.randint(min(50, max_pdf_kb), max_pdf_kb) * 1024
                body = rng.randbytes(max(size - len(_PDF_HEAD) - len(_PDF_TAIL), 0))
                files.append(
                    MediaFile(_PDF_HEAD + body + _PDF_TAIL, "application/pdf", f"contract-{index}.pdf", "document")
                )
            else:
                size = rng.randint(min(30, max_image_kb), max_image_kb) * 1024
                body = rng.randbytes(max(size - len(_JPEG_HEAD) - len(_JPEG_TAIL), 0))
                files.append(MediaFile(_JPEG_HEAD + body + _JPEG_TAIL, "image/jpeg", f"photo-{index}.jpg", "image"))
        self._files = files

    def pick(self, index: int) -> MediaFile:
        return self._files[index % len(self._files)]

    def __len__(self) -> int:
        return len(self._files)
