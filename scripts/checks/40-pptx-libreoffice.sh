#!/usr/bin/env bash
# Opens a deck written by crates/pptx with LibreOffice (converted to PDF, one
# page per slide) and with python-pptx: readers we did not write.
set -euo pipefail
cd "$(dirname "$0")/../.."
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
# Impress itself, not just `soffice`: setup-system.sh installs Writer (for the .docx check),
# and a LibreOffice without Impress converts no deck (it writes no PDF and says nothing).
if ! dpkg -s libreoffice-impress >/dev/null 2>&1; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends libreoffice-impress >/dev/null
fi
VENV=target/venv-pptx
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/python" -c 'import pptx' 2>/dev/null || "$VENV/bin/pip" install -q python-pptx
TEST_BIN=$(scripts/lib/built.sh pptx test libreoffice)
(cd crates/pptx && PPTX_PYTHON="$PWD/../../$VENV/bin/python" "$TEST_BIN" --ignored)
